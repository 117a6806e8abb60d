//! The HTTP API of DESIGN.md: inbound EDI, webhooks, outbound documents, message search and
//! replay, metrics, health. Errors are RFC 9457 problem documents.
//!
//! A source answers 202 only once the store has committed the raw bytes.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::canonical::CanonicalDocument;
use crate::config::gateway::Role;
use crate::gateway::App;
use crate::metrics as m;
use crate::store::{Content, Direction, Filter, MessageState, NewMessage, StoreError};

/// The OpenAPI document of this API, kept in the repository.
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

/// An RFC 9457 problem document.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &'static str, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem { status, slug, title, detail: detail.into() }
    }

    fn store(err: StoreError) -> Problem {
        match err {
            StoreError::NotFound(id) => {
                Problem::new(StatusCode::NOT_FOUND, "not-found", "No such message", format!("no message {id}"))
            }
            StoreError::Conflict(detail) => Problem::new(StatusCode::CONFLICT, "conflict", "Not possible now", detail),
            other => {
                tracing::error!(error = %other, "store error");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store-unavailable",
                    "The store is unavailable",
                    format!("{other}; nothing was stored, send again"),
                )
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "type": format!("urn:crossdock:problem:{}", self.slug),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        let mut response = (self.status, Json(body)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

type Answer = Result<Response, Problem>;

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/inbound", post(inbound))
        .route("/as2", post(super::as2::receive))
        .route("/v1/hooks/{partner}", post(hook))
        .route("/v1/outbound", post(outbound))
        .route("/v1/messages", get(search))
        .route("/v1/messages/{id}", get(message))
        .route("/v1/messages/{id}/replay", post(replay))
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(count_requests))
        .with_state(app)
}

async fn count_requests(request: Request, next: Next) -> Response {
    let route =
        request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "other".into());
    let response = next.run(request).await;
    metrics::counter!(m::HTTP_REQUESTS, "route" => route, "status" => response.status().as_u16().to_string())
        .increment(1);
    response
}

async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", "no such endpoint; see /openapi.json")
}

async fn method_not_allowed() -> Problem {
    Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed", "see /openapi.json")
}

/// Bearer tokens, compared in constant time (as SHA-256 digests, so lengths do not leak).
fn authorize(app: &App, headers: &HeaderMap, role: Role) -> Result<(), Problem> {
    if app.tokens.is_empty() {
        return Ok(());
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication required",
                "send Authorization: Bearer <token>",
            )
        })?;
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    let mut matched = None;
    for token in &app.tokens {
        if bool::from(token.digest.ct_eq(&digest)) {
            matched = Some(token);
        }
    }
    let token = matched.ok_or_else(|| {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Authentication required", "unknown token")
    })?;
    if token.roles.contains(&role) {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not allowed",
            format!("token {} lacks the {role:?} role", token.name).to_lowercase(),
        ))
    }
}

/// Reads a body within the size limit and the body timeout.
pub(crate) async fn read_body(app: &App, headers: &HeaderMap, body: Body) -> Result<Bytes, Problem> {
    let max = app.config.server.max_body_bytes;
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Body too large",
            format!("the body is larger than the limit of {max} bytes (server.max_body_bytes)"),
        )
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max) {
        return Err(too_large());
    }
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    let timeout = Duration::from_secs(app.config.server.body_timeout_seconds);
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Err(_) => Err(Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "Body too slow",
            format!("the body did not arrive within {} seconds", timeout.as_secs()),
        )),
        Ok(Err(err)) if err.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Ok(Err(err)) => Err(Problem::new(StatusCode::BAD_REQUEST, "bad-body", "Unreadable body", err.to_string())),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

/// What a body starts with, past a byte order mark and whitespace.
fn content_start(body: &[u8]) -> &[u8] {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body.iter().position(|b| !b.is_ascii_whitespace() && *b != 0).unwrap_or(body.len());
    &body[start..]
}

fn is_edi(body: &[u8]) -> bool {
    let start = content_start(body);
    [&b"ISA"[..], b"UNA", b"UNB", b"UNH"].iter().any(|tag| start.starts_with(tag))
}

fn not_edi(body: &[u8]) -> Problem {
    let start = content_start(body);
    let shown: String = String::from_utf8_lossy(&start[..start.len().min(16)])
        .chars()
        .map(|c| if c.is_control() { '·' } else { c })
        .collect();
    let found = if start.is_empty() { "an empty body".to_owned() } else { format!("{shown:?}") };
    Problem::new(
        StatusCode::BAD_REQUEST,
        "not-edi",
        "Not EDI",
        format!("the body is not X12 or EDIFACT: expected ISA, UNA or UNB at the start, found {found}"),
    )
}

pub(crate) fn correlation_id(headers: &HeaderMap) -> String {
    headers
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

async fn store_message(app: &App, message: NewMessage) -> Answer {
    let accepted = app.store.accept(message).await.map_err(|_| Problem::store(StoreError::Closed))?;
    let accepted = accepted.map_err(Problem::store)?;
    app.queue.push(accepted.message_id.clone());
    let mut response = (StatusCode::ACCEPTED, Json(&accepted)).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("/v1/messages/{}", accepted.message_id)) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn inbound(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Answer {
    authorize(&app, &headers, Role::Inbound)?;
    let body = read_body(&app, &headers, body).await?;
    if !is_edi(&body) {
        return Err(not_edi(&body));
    }
    let message = NewMessage {
        direction: Direction::Inbound,
        transport: "http".into(),
        raw: body.to_vec(),
        correlation_id: correlation_id(&headers),
        partner: None,
        content: Content::Edi,
    };
    store_message(&app, message).await
}

async fn hook(State(app): State<Arc<App>>, Path(partner): Path<String>, headers: HeaderMap, body: Body) -> Answer {
    let partners = app.partners.current();
    let secret =
        partners.get(&partner).and_then(|p| p.webhook.as_ref()).map(|w| w.secret.clone()).ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "No such webhook",
                format!("no partner {partner:?} with a [webhook]"),
            )
        })?;
    let body = read_body(&app, &headers, body).await?;
    let key = secret.resolve().map_err(|e| {
        tracing::error!(partner, error = %e, "webhook secret unavailable");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "secret-unavailable",
            "Webhook not configured",
            "the partner's webhook secret is unavailable",
        )
    })?;
    verify_signature(key.as_bytes(), &headers, &body)?;
    let content = if is_edi(&body) {
        Content::Edi
    } else if content_start(&body).starts_with(b"{") {
        Content::Json
    } else {
        return Err(not_edi(&body));
    };
    let message = NewMessage {
        direction: Direction::Inbound,
        transport: "webhook".into(),
        raw: body.to_vec(),
        correlation_id: correlation_id(&headers),
        partner: Some(partner),
        content,
    };
    store_message(&app, message).await
}

/// `X-Crossdock-Signature: sha256=<hex>`: HMAC-SHA256 of the body, checked in constant time.
pub fn verify_signature(key: &[u8], headers: &HeaderMap, body: &[u8]) -> Result<(), Problem> {
    let unauthorized =
        |detail: &str| Problem::new(StatusCode::UNAUTHORIZED, "bad-signature", "Signature refused", detail.to_owned());
    let given = headers
        .get("x-crossdock-signature")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("sha256="))
        .ok_or_else(|| unauthorized("send X-Crossdock-Signature: sha256=<hex HMAC-SHA256 of the body>"))?;
    let given = hex::decode(given).map_err(|_| unauthorized("the signature is not hexadecimal"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| unauthorized("unusable key"))?;
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| unauthorized("the signature does not match the body"))
}

async fn outbound(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Answer {
    authorize(&app, &headers, Role::Send)?;
    let body = read_body(&app, &headers, body).await?;
    let unprocessable =
        |detail: String| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-document", "Invalid document", detail);
    let document: CanonicalDocument =
        serde_json::from_slice(&body).map_err(|e| unprocessable(format!("not a canonical document: {e}")))?;
    let partner_id = document
        .partner
        .clone()
        .ok_or_else(|| unprocessable("\"partner\" is required: the profile id it goes to".into()))?;
    let partners = app.partners.current();
    let partner =
        partners.get(&partner_id).ok_or_else(|| unprocessable(format!("no partner profile {partner_id:?}")))?;
    if !partner.sends(document.kind()) {
        return Err(unprocessable(format!(
            "partner {partner_id} is not set up to receive a {} (documents.send)",
            document.kind()
        )));
    }
    let message = NewMessage {
        direction: Direction::Outbound,
        transport: "api".into(),
        raw: body.to_vec(),
        correlation_id: correlation_id(&headers),
        partner: Some(partner_id),
        content: Content::Json,
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    if key.as_ref().is_some_and(|k| k.len() > 255) {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-idempotency-key",
            "Bad Idempotency-Key",
            "at most 255 characters",
        ));
    }
    let stored = app.store.accept_outbound(message, key).await.map_err(|_| Problem::store(StoreError::Closed))?;
    let (accepted, repeated) = stored.map_err(Problem::store)?;
    if !repeated {
        app.queue.push(accepted.message_id.clone());
    }
    // A repeat answers 200 with the message the first request made; nothing is sent twice.
    let status = if repeated { StatusCode::OK } else { StatusCode::ACCEPTED };
    let mut response = (status, Json(&accepted)).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("/v1/messages/{}", accepted.message_id)) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

#[derive(Deserialize)]
struct SearchQuery {
    partner: Option<String>,
    status: Option<String>,
    #[serde(rename = "type")]
    document_type: Option<String>,
    reference: Option<String>,
    limit: Option<usize>,
    before: Option<String>,
}

async fn search(State(app): State<Arc<App>>, headers: HeaderMap, Query(query): Query<SearchQuery>) -> Answer {
    authorize(&app, &headers, Role::Read)?;
    let state = match query.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(MessageState::parse(s).ok_or_else(|| {
            let states: Vec<&str> = MessageState::ALL.iter().map(|s| s.as_str()).collect();
            Problem::new(
                StatusCode::BAD_REQUEST,
                "bad-query",
                "Bad query",
                format!("status must be one of {}", states.join(", ")),
            )
        })?),
    };
    let filter = Filter {
        partner: query.partner.filter(|p| !p.is_empty()),
        state,
        document_type: query.document_type.filter(|t| !t.is_empty()),
        reference: query.reference.filter(|r| !r.is_empty()),
        limit: query.limit.unwrap_or(100),
        before: query.before,
    };
    let store = Arc::clone(&app.store);
    let found = tokio::task::spawn_blocking(move || store.search(&filter))
        .await
        .map_err(|_| Problem::store(StoreError::Closed))?
        .map_err(Problem::store)?;
    Ok(Json(serde_json::json!({ "messages": found })).into_response())
}

async fn message(State(app): State<Arc<App>>, headers: HeaderMap, Path(id): Path<String>) -> Answer {
    authorize(&app, &headers, Role::Read)?;
    let store = Arc::clone(&app.store);
    let lookup = id.clone();
    let found = tokio::task::spawn_blocking(move || store.message(&lookup))
        .await
        .map_err(|_| Problem::store(StoreError::Closed))?
        .map_err(Problem::store)?;
    match found {
        Some(detail) => Ok(Json(detail).into_response()),
        None => Err(Problem::store(StoreError::NotFound(id))),
    }
}

async fn replay(State(app): State<Arc<App>>, headers: HeaderMap, Path(id): Path<String>) -> Answer {
    authorize(&app, &headers, Role::Operate)?;
    let store = Arc::clone(&app.store);
    let replayed = tokio::task::spawn_blocking(move || store.replay(&id))
        .await
        .map_err(|_| Problem::store(StoreError::Closed))?
        .map_err(Problem::store)?;
    if replayed.action == "reprocess" {
        app.queue.push(replayed.message_id.clone());
    } else {
        app.wake_delivery.notify_one();
    }
    Ok(Json(replayed).into_response())
}

async fn metrics_text(State(app): State<Arc<App>>) -> Response {
    let mut response = app.metrics.render().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response
}

async fn healthz() -> Response {
    Json(serde_json::json!({ "status": "ok" })).into_response()
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    let store = Arc::clone(&app.store);
    let store_ok = tokio::task::spawn_blocking(move || store.ping()).await.map(|r| r.is_ok()).unwrap_or(false);
    let partners = app.partners.current();
    let problems = app.partners.problems();
    let body = serde_json::json!({
        "status": if store_ok { "ready" } else { "not_ready" },
        "store": if store_ok { "ok" } else { "unreachable" },
        "partners": { "loaded": partners.len(), "dir": app.partners.dir().display().to_string(), "problems": problems },
    });
    let status = if store_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edi_is_told_from_the_first_bytes() {
        assert!(is_edi(b"\xEF\xBB\xBF\r\n  ISA*00*"));
        assert!(is_edi(b"UNA:+.? 'UNB+UNOC:3"));
        assert!(is_edi(b"UNB+UNOA:2"));
        assert!(!is_edi(b"{\"type\":\"purchase_order\"}"));
        assert!(!is_edi(b""));
        assert!(!is_edi(b"\x00\x01binary"));
        assert!(not_edi(b"GIF89a\x01\x02").detail.contains("\"GIF89a··\""));
    }

    #[test]
    fn signatures_are_checked() {
        let mut headers = HeaderMap::new();
        let mut mac = Hmac::<Sha256>::new_from_slice(b"key").unwrap();
        mac.update(b"body");
        let good = hex::encode(mac.finalize().into_bytes());
        headers.insert("x-crossdock-signature", HeaderValue::from_str(&format!("sha256={good}")).unwrap());
        assert!(verify_signature(b"key", &headers, b"body").is_ok());
        assert!(verify_signature(b"key", &headers, b"bodY").is_err());
        assert!(verify_signature(b"other", &headers, b"body").is_err());
        assert!(verify_signature(b"key", &HeaderMap::new(), b"body").is_err());
    }
}
