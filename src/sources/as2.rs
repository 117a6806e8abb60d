//! `POST /as2`: AS2 messages from partners, and the asynchronous MDNs they answer ours with.
//!
//! A message is opened (decrypt, decompress, verify), its payload stored durably together with
//! the MDN that says `processed`, and only then is that MDN answered (in the response, or
//! POSTed to Receipt-Delivery-Option). A message that cannot be opened gets the MDN of RFC 4130
//! for what went wrong, and its body is kept with the refusal. A resent Message-ID that was
//! processed gets the same MDN again and is not stored twice.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::http::{correlation_id, read_body, Problem};
use crate::as2::certs::{self, Identity};
use crate::as2::mdn::{self, Disposition, MdnParties};
use crate::as2::message::{self, Keys, MdnRequest, Opened};
use crate::as2::{bare_message_id, unquote_name, As2Error};
use crate::config::partner::Partner;
use crate::gateway::App;
use crate::metrics as m;
use crate::store::{
    now_millis, Content, Direction, Millis, NewMessage, NewReceipt, OwedMdn, OwedMdnKey, SendAttempt, SendOutcome,
    Store, StoredMdn,
};
use tokio::sync::watch;

/// Asynchronous MDNs are POSTed this many times before we give up (the receipt stays stored:
/// a resend of the message gets it again).
const ASYNC_MDN_ATTEMPTS: u32 = 5;

pub async fn receive(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    let body = match read_body(&app, &headers, body).await {
        Ok(body) => body,
        Err(problem) => return problem.into_response(),
    };
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (Some(as2_from), Some(as2_to)) = (get("as2-from"), get("as2-to")) else {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "not-as2",
            "Not an AS2 message",
            "AS2-From and AS2-To headers are required (RFC 4130 section 6)",
        )
        .into_response();
    };
    let (as2_from, as2_to) = (unquote_name(&as2_from), unquote_name(&as2_to));
    let message_id = get("message-id")
        .map(|v| bare_message_id(&v))
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| mdn::new_message_id(&as2_from));
    let request = MdnRequest::from_headers(get);
    let content_type = get("content-type").unwrap_or_else(|| "application/octet-stream".into());
    let transfer_encoding = get("content-transfer-encoding");
    let ours = app.as2.as_ref().map(|i| i.as2_id.clone()).unwrap_or_else(|| app.config.as2.as2_id.clone());
    let partners = app.partners.current();
    // AS2 names are case-sensitive (RFC 4130 section 6.2).
    let partner = partners.all().iter().find(|p| p.as2.as_ref().is_some_and(|a| a.as2_id == as2_from)).cloned();
    let span = tracing::info_span!("as2", as2_from = %as2_from, message_id = %message_id);
    let _entered = span.enter();

    let opened = match (as2_to == ours, &partner) {
        (false, _) => Err(As2Error::unknown_partner(format!(
            "AS2-To {as2_to:?} is not this gateway's AS2 id ({ours:?}; names are case-sensitive)"
        ))),
        (true, None) => Err(As2Error::unknown_partner(format!(
            "no partner profile has as2_id {as2_from:?} (names are case-sensitive)"
        ))),
        (true, Some(partner)) => {
            // A resend of something already processed: the same MDN, no second copy.
            let store = Arc::clone(&app.store);
            let (from, id) = (as2_from.clone(), message_id.clone());
            if let Ok(Ok(Some(stored))) = tokio::task::spawn_blocking(move || store.processed_receipt(&from, &id)).await
            {
                tracing::info!("a resent AS2 message that was processed: answering its MDN again");
                metrics::counter!(m::AS2_MDN, "partner" => partner.id.clone(), "direction" => "sent", "disposition" => "processed")
                    .increment(1);
                return answer(&app, &request, None, stored, &partner.id);
            }
            open(&app, partner, &content_type, transfer_encoding.as_deref(), &body, &request).await
        }
    };
    let partner_label = partner.as_ref().map(|p| p.id.clone()).unwrap_or_else(|| "unknown".into());
    let parties = MdnParties { ours: &ours, theirs: &as2_from };
    let sign_with =
        |request: &MdnRequest| request.signed.as_ref().and_then(|(d, _)| app.as2.as_ref().map(|i| (*d, i.as_ref())));

    let receipt = |disposition: &str, detail: String, mdn: Option<StoredMdn>, raw: Option<Vec<u8>>| NewReceipt {
        as2_from: as2_from.clone(),
        as2_message_id: message_id.clone(),
        partner: partner.as_ref().map(|p| p.id.clone()),
        disposition: disposition.to_owned(),
        detail,
        mdn,
        raw,
        mdn_url: request.async_url.clone(),
    };
    match opened {
        Ok(opened) if opened.mdn.is_some() => {
            let Some(partner) = partner else { return StatusCode::OK.into_response() };
            take_async_mdn(&app, &partner, &opened).await
        }
        Ok(opened) => {
            let disposition =
                Disposition { original_message_id: message_id.clone(), error: None, mic: Some(opened.mic.clone()) };
            let built = match mdn::build(&parties, &disposition, sign_with(&request)) {
                Ok(built) => built,
                Err(err) => return failure(&app, &request, &parties, receipt, err, &body, &partner_label).await,
            };
            let stored = StoredMdn { headers: built.headers, body: built.body };
            let detail = format!(
                "{} bytes, {}{}{}",
                opened.payload.len(),
                if opened.signed.is_some() { "signed " } else { "unsigned " },
                if opened.encrypted { "encrypted " } else { "unencrypted " },
                if opened.compressed { "compressed" } else { "uncompressed" }
            );
            let new_message = NewMessage {
                direction: Direction::Inbound,
                transport: "as2".into(),
                raw: opened.payload,
                correlation_id: correlation_id(&headers),
                partner: partner.as_ref().map(|p| p.id.clone()),
                content: Content::Edi,
            };
            let owed_receipt = receipt("processed", detail, Some(stored.clone()), None);
            let committed = app.store.accept_as2(new_message, owed_receipt.clone()).await;
            match committed {
                Ok(Ok(accepted)) => {
                    tracing::info!(stored_as = %accepted.message_id, "AS2 message stored");
                    app.queue.push(accepted.message_id);
                    metrics::counter!(m::AS2_MDN, "partner" => partner_label.clone(), "direction" => "sent", "disposition" => "processed")
                        .increment(1);
                    answer(&app, &request, Some(&owed_receipt), stored, &partner_label)
                }
                _ => {
                    let err = As2Error::crypto("the payload could not be stored; send it again");
                    failure(&app, &request, &parties, receipt, err, &body, &partner_label).await
                }
            }
        }
        Err(err) => failure(&app, &request, &parties, receipt, err, &body, &partner_label).await,
    }
}

/// Opens a message with the partner's certificates and our identity, and applies the
/// profile's requirements.
async fn open(
    app: &App,
    partner: &Partner,
    content_type: &str,
    transfer_encoding: Option<&str>,
    body: &[u8],
    request: &MdnRequest,
) -> Result<Opened, As2Error> {
    let Some(profile) = partner.as2.clone() else {
        return Err(As2Error::unknown_partner("the partner has no [as2] section"));
    };
    let identity = app.as2.clone();
    let (content_type, transfer_encoding, body, request) =
        (content_type.to_owned(), transfer_encoding.map(str::to_owned), body.to_vec(), request.clone());
    let limit = usize::try_from(app.config.server.max_body_bytes).unwrap_or(usize::MAX);
    let opened = tokio::task::spawn_blocking(move || {
        let certificates = certs::load_all(&profile.certificates).map_err(As2Error::crypto)?;
        let keys = Keys { identity: identity.as_ref().map(|i| i.as_ref()), partner_certificates: &certificates };
        let opened = message::open(&content_type, transfer_encoding.as_deref(), &body, &keys, &request, limit)?;
        if opened.mdn.is_none() {
            if profile.require_encrypted && !opened.encrypted {
                return Err(As2Error::insufficient_security(
                    "the partner's profile requires encrypted messages (as2.require_encrypted) and this one is not",
                ));
            }
            if profile.require_signed && opened.signed.is_none() {
                return Err(As2Error::insufficient_security(
                    "the partner's profile requires signed messages (as2.require_signed) and this one is not",
                ));
            }
        }
        Ok(opened)
    })
    .await
    .map_err(|_| As2Error::crypto("opening the message failed unexpectedly"))?;
    opened
}

/// A refusal: the body is kept with the reason, and the MDN says what went wrong.
async fn failure(
    app: &App,
    request: &MdnRequest,
    parties: &MdnParties<'_>,
    receipt: impl Fn(&str, String, Option<StoredMdn>, Option<Vec<u8>>) -> NewReceipt,
    err: As2Error,
    body: &[u8],
    partner: &str,
) -> Response {
    let modifier = err.disposition_modifier();
    tracing::warn!(disposition = modifier, error = %err, "AS2 message refused");
    metrics::counter!(m::MESSAGES_FAILED, "partner" => partner.to_owned(), "stage" => "as2", "reason" => modifier)
        .increment(1);
    metrics::counter!(m::AS2_MDN, "partner" => partner.to_owned(), "direction" => "sent", "disposition" => modifier)
        .increment(1);
    let refused = receipt(modifier, err.detail.clone(), None, Some(body.to_vec()));
    let disposition = Disposition {
        original_message_id: refused.as2_message_id.clone(),
        error: Some(modifier.to_owned()),
        mic: None,
    };
    // Signed when asked and possible; a refusal must still go out if signing fails.
    let sign = request.signed.as_ref().and_then(|(d, _)| app.as2.as_ref().map(|i| (*d, i.as_ref())));
    let built = mdn::build(parties, &disposition, sign).or_else(|_| mdn::build(parties, &disposition, None));
    let stored = built.ok().map(|b| StoredMdn { headers: b.headers, body: b.body });
    let refused_receipt = NewReceipt { mdn: stored.clone(), ..refused };
    let _ = app.store.record_receipt(refused_receipt.clone()).await;
    match stored {
        Some(stored) => answer(app, request, Some(&refused_receipt), stored, partner),
        None => {
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "mdn", "Cannot build the MDN", err.detail).into_response()
        }
    }
}

/// The MDN in the response (sync), or a 200 now and the MDN POSTed (async), or a bare 200.
fn answer(app: &App, request: &MdnRequest, receipt: Option<&NewReceipt>, mdn: StoredMdn, partner: &str) -> Response {
    if !request.wanted {
        return (StatusCode::OK, "received").into_response();
    }
    if let Some(url) = &request.async_url {
        // Only the retry after a crash reads the key, from the store.
        let owed = receipt.map(|r| OwedMdn {
            key: OwedMdnKey::since(now_millis()),
            as2_from: r.as2_from.clone(),
            as2_message_id: r.as2_message_id.clone(),
            disposition: r.disposition.clone(),
            partner: r.partner.clone(),
            url: url.clone(),
            mdn: mdn.clone(),
        });
        tokio::spawn(post_async_mdn(Arc::clone(&app.store), url.clone(), mdn, partner.to_owned(), owed));
        return (StatusCode::OK, "received; the MDN follows asynchronously").into_response();
    }
    let mut response = Response::new(Body::from(mdn.body));
    for (name, value) in mdn.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Posts an asynchronous MDN, retrying a few times from memory; `owed` is its receipt in the
/// store, marked delivered on success. What is not delivered stays owed in the store, where
/// `retry_owed_mdns` finds it (also after a restart).
async fn post_async_mdn(store: Arc<dyn Store>, url: String, mdn: StoredMdn, partner: String, owed: Option<OwedMdn>) {
    for attempt in 1..=ASYNC_MDN_ATTEMPTS {
        if post_mdn_once(&url, &mdn, &partner, attempt).await {
            if let Some(owed) = &owed {
                mark_mdn_sent(store.as_ref(), owed).await;
            }
            return;
        }
        tokio::time::sleep(Duration::from_secs(1 << attempt.min(6))).await;
    }
    tracing::error!(url, partner, "asynchronous MDN not delivered; it is retried from the store");
}

async fn post_mdn_once(url: &str, mdn: &StoredMdn, partner: &str, attempt: u32) -> bool {
    let mut request = mdn_client().post(url).timeout(Duration::from_secs(30)).body(mdn.body.clone());
    for (name, value) in &mdn.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => {
            tracing::info!(url, partner, "asynchronous MDN delivered");
            true
        }
        Ok(response) => {
            tracing::warn!(url, partner, status = response.status().as_u16(), attempt, "asynchronous MDN refused");
            false
        }
        Err(err) => {
            tracing::warn!(url, partner, error = %err, attempt, "asynchronous MDN not delivered");
            false
        }
    }
}

fn mdn_client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new)
}

async fn mark_mdn_sent(store: &dyn Store, owed: &OwedMdn) {
    let marked = store.mdn_sent(&owed.as2_from, &owed.as2_message_id, &owed.disposition).await;
    if !matches!(marked, Ok(Ok(()))) {
        tracing::warn!(
            as2_message_id = owed.as2_message_id,
            "cannot record that the MDN was delivered; it may be sent again"
        );
    }
}

/// How long an asynchronous MDN is retried from the store before it is given up (the partner
/// can still get it by sending the message again).
pub(crate) const OWED_MDN_HORIZON: Duration = Duration::from_secs(24 * 3600);
/// MDNs younger than this are still being posted by `post_async_mdn`.
const OWED_MDN_GRACE: Duration = Duration::from_secs(300);
const OWED_MDN_SWEEP: Duration = Duration::from_secs(60);

/// Owed MDNs read from the store at a time.
const OWED_MDN_PAGE: usize = 100;

/// Retries the asynchronous MDNs the store says are owed: at start every one (whatever was
/// being posted when the gateway stopped), then each minute those older than the in-memory
/// retries, one attempt each, for up to a day.
pub async fn retry_owed_mdns(store: Arc<dyn Store>, mut stop: watch::Receiver<bool>) {
    let mut first = true;
    loop {
        let now = now_millis();
        let until = if first { now } else { now - OWED_MDN_GRACE.as_millis() as i64 };
        first = false;
        retry_owed_pass(&store, now - OWED_MDN_HORIZON.as_millis() as i64, until).await;
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(OWED_MDN_SWEEP) => {}
        }
    }
}

/// One pass over the MDNs owed for receipts recorded between `since` and `until`, a page at a
/// time, oldest first. An endpoint that fails is not tried again in the same pass: a partner
/// whose endpoint is down costs one attempt (at most its timeout) per pass, and the MDNs owed
/// to other partners behind its own are still reached.
async fn retry_owed_pass(store: &Arc<dyn Store>, since: Millis, until: Millis) {
    let mut after = OwedMdnKey::since(since);
    let mut down = HashSet::new();
    loop {
        let reader = Arc::clone(store);
        let page = match tokio::task::spawn_blocking(move || reader.owed_mdns(after, until, OWED_MDN_PAGE)).await {
            Ok(Ok(page)) => page,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "cannot read the asynchronous MDNs owed");
                return;
            }
            Err(_) => return,
        };
        let full = page.len() == OWED_MDN_PAGE;
        for mdn in page {
            // The next page starts after the last receipt of this one, whatever became of it.
            after = mdn.key;
            if down.contains(&mdn.url) {
                continue;
            }
            let partner = mdn.partner.clone().unwrap_or_else(|| "unknown".into());
            if post_mdn_once(&mdn.url, &mdn.mdn, &partner, 0).await {
                mark_mdn_sent(store.as_ref(), &mdn).await;
            } else {
                down.insert(mdn.url);
            }
        }
        if !full {
            return;
        }
    }
}

/// Longest an asynchronous MDN waits for the record of the send it answers (which waits for
/// the partner's answer to our POST, and then for a commit).
const EARLY_MDN_WAIT: Duration = Duration::from_secs(30);

/// An asynchronous MDN for something we sent.
async fn take_async_mdn(app: &App, partner: &Partner, opened: &Opened) -> Response {
    let Some(report) = &opened.mdn else { return StatusCode::OK.into_response() };
    let ct = report.header("content-type").unwrap_or_default().to_owned();
    let read = match mdn::read(&ct, &report.body, &[]) {
        Ok(read) => read,
        Err(err) => {
            return Problem::new(StatusCode::BAD_REQUEST, "bad-mdn", "Unreadable MDN", err.detail).into_response();
        }
    };
    let disposition = read.disposition;
    // Posted the moment the partner answered us, it may be ahead of our record of the send.
    app.as2_sends.settled(&disposition.original_message_id, EARLY_MDN_WAIT).await;
    let store = Arc::clone(&app.store);
    let original = disposition.original_message_id.clone();
    let awaited = tokio::task::spawn_blocking(move || store.awaited_mdn(&original)).await;
    let Ok(Ok(Some(awaited))) = awaited else {
        return Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-message",
            "No such message",
            format!("no message sent as {} is waiting for an MDN", disposition.original_message_id),
        )
        .into_response();
    };
    if awaited.partner != partner.id {
        return Problem::new(
            StatusCode::FORBIDDEN,
            "wrong-partner",
            "Not your message",
            "the MDN comes from another partner",
        )
        .into_response();
    }
    let wanted_signed = partner.as2.as_ref().is_some_and(|a| a.mdn_signed);
    let (outcome, detail) = judge_mdn(&disposition, awaited.mic.as_ref(), opened.signed.is_some(), wanted_signed);
    let label = match &disposition.error {
        None => "processed".to_owned(),
        Some(e) => e.clone(),
    };
    metrics::counter!(m::AS2_MDN, "partner" => partner.id.clone(), "direction" => "received", "disposition" => label)
        .increment(1);
    let attempt = SendAttempt {
        ack_due_at: None,
        transmission_id: awaited.transmission_id,
        transport: "as2".into(),
        outcome,
        detail,
        as2_message_id: None,
        mic: None,
        mdn: Some(report.to_bytes()),
    };
    let _ = app.store.record_send(attempt).await;
    (StatusCode::OK, "MDN received").into_response()
}

/// What an MDN means for the message it answers: sent when processed with the MIC we
/// computed (and signed if we asked for a signed one), failed otherwise.
pub fn judge_mdn(
    disposition: &Disposition,
    expected_mic: Option<&(String, String)>,
    signed: bool,
    wanted_signed: bool,
) -> (SendOutcome, String) {
    if let Some(error) = &disposition.error {
        return (SendOutcome::Failed, format!("the partner's MDN says processed/error: {error}"));
    }
    if wanted_signed && !signed {
        return (SendOutcome::Failed, "the MDN is not signed, and the profile asks for signed MDNs".into());
    }
    match (expected_mic, &disposition.mic) {
        (Some((expected, _)), Some((got, _))) if expected != got => (
            SendOutcome::Failed,
            format!(
                "the MDN's MIC {got} is not the MIC of what we sent ({expected}): the partner did not get our bytes"
            ),
        ),
        (Some(_), None) => (SendOutcome::Failed, "the MDN carries no Received-Content-MIC".into()),
        _ => (
            SendOutcome::Sent,
            format!(
                "MDN processed{}{}",
                if signed { ", signed" } else { "" },
                if expected_mic.is_some() { ", MIC matched" } else { "" }
            ),
        ),
    }
}

/// Loads the gateway's AS2 identity from its configuration, if one is configured.
pub fn load_identity(config: &crate::config::gateway::GatewayConfig) -> Result<Option<Arc<Identity>>, String> {
    match (&config.as2.certificate, &config.as2.private_key) {
        (Some(certificate), Some(key)) => {
            certs::load_identity(&config.as2.as2_id, certificate, key).map(|i| Some(Arc::new(i)))
        }
        (None, None) => Ok(None),
        _ => Err("[as2] needs both certificate and private_key, or neither".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewReceipt, SqliteStore, StoredMdn};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A partner's MDN endpoint that counts what it gets; `up` says whether it answers 200.
    async fn endpoint(up: bool) -> (String, Arc<AtomicUsize>) {
        let received = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&received);
        let router = axum::Router::new().route(
            "/mdn",
            axum::routing::post(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    if up {
                        StatusCode::OK
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mdn", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        (url, received)
    }

    fn receipt(n: usize, url: &str) -> NewReceipt {
        NewReceipt {
            as2_from: "PARTNER".into(),
            as2_message_id: format!("<m{n}@partner>"),
            partner: Some("partner".into()),
            disposition: "processed".into(),
            detail: String::new(),
            mdn: Some(StoredMdn { headers: vec![("Content-Type".into(), "text/plain".into())], body: b"mdn".to_vec() }),
            raw: None,
            mdn_url: Some(url.to_owned()),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pass_pages_through_more_owed_mdns_than_one_page_and_tries_a_down_endpoint_once() {
        // As `crossdock serve` does before any client is built.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("db.sqlite")).unwrap());
        let (up, delivered) = endpoint(true).await;
        let (down, refused) = endpoint(false).await;
        // Two and a half pages; every tenth MDN is owed to the endpoint that is down.
        let owed = 2 * OWED_MDN_PAGE + OWED_MDN_PAGE / 2;
        for n in 0..owed {
            let url = if n % 10 == 0 { &down } else { &up };
            store.record_receipt(receipt(n, url)).await.unwrap().unwrap();
        }
        retry_owed_pass(&store, 0, now_millis()).await;
        let to_down = owed.div_ceil(10);
        assert_eq!(delivered.load(Ordering::SeqCst), owed - to_down, "every MDN to the endpoint that is up");
        assert_eq!(refused.load(Ordering::SeqCst), 1, "the endpoint that is down is tried once a pass");
        let left = store.owed_mdns(OwedMdnKey::since(0), now_millis(), 10 * OWED_MDN_PAGE).unwrap();
        assert_eq!(left.len(), to_down);
        assert!(left.iter().all(|m| m.url == down));
    }
}
