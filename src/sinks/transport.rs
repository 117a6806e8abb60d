//! Sending to partners: rendered outbound messages and functional acknowledgments go out over
//! the partner's `send_via` transport, with retries; AS2 sends wait for (and check) the MDN.
//!
//! Work comes from the store's transmissions, so a restart resumes what was not sent. A
//! transmission is sent at least once: an attempt that dies after the partner received it but
//! before the outcome is committed is sent again (AS2 partners drop a repeated Message-ID).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify};

use crate::as2::certs::{self, Identity};
use crate::as2::cms::{self, Digest};
use crate::as2::mdn;
use crate::as2::message::{self, Wrapping};
use crate::config::gateway::As2Config;
use crate::config::partner::{Partner, Transport};
use crate::gateway::partners::PartnerSet;
use crate::metrics as m;
use crate::store::{now_millis, Millis, SendAttempt, SendOutcome, Sendable, Store};

/// Transmissions fetched per look.
const BATCH: usize = 64;
/// Attempts before a transmission is failed.
const MAX_ATTEMPTS: i64 = 8;
const MAX_BACKOFF_SECONDS: u64 = 300;

/// AS2 messages sent whose outcome is not yet recorded, by Message-ID. A partner commonly posts
/// its asynchronous MDN the moment it has answered our POST, which can be before the send is
/// recorded as awaiting one: the MDN then waits for that record ([`AwaitedSends::settled`])
/// instead of being refused as answering nothing.
#[derive(Default)]
pub struct AwaitedSends(Mutex<HashMap<String, watch::Sender<bool>>>);

impl AwaitedSends {
    fn begin(&self, message_id: &str) {
        if let Ok(mut sends) = self.0.lock() {
            sends.insert(message_id.to_owned(), watch::channel(false).0);
        }
    }

    fn end(&self, message_id: &str) {
        let ended = self.0.lock().ok().and_then(|mut sends| sends.remove(message_id));
        if let Some(ended) = ended {
            ended.send_replace(true);
        }
    }

    /// Returns once the send of `message_id`, if one is in flight, has its outcome recorded,
    /// or after `timeout`.
    pub async fn settled(&self, message_id: &str, timeout: Duration) {
        let waiting = self.0.lock().ok().and_then(|sends| sends.get(message_id).map(watch::Sender::subscribe));
        if let Some(mut waiting) = waiting {
            // A closed channel (the send ended meanwhile) also means settled.
            let _ = tokio::time::timeout(timeout, waiting.wait_for(|done| *done)).await;
        }
    }
}

pub struct Sender {
    store: Arc<dyn Store>,
    partners: Arc<PartnerSet>,
    identity: Option<Arc<Identity>>,
    as2: As2Config,
    /// Where partners reach our /as2, for asynchronous MDNs.
    mdn_url: String,
    client: reqwest::Client,
    in_flight: Mutex<HashSet<String>>,
    awaited: Arc<AwaitedSends>,
    pub wake: Arc<Notify>,
}

impl Sender {
    pub fn new(
        store: Arc<dyn Store>,
        partners: Arc<PartnerSet>,
        identity: Option<Arc<Identity>>,
        as2: As2Config,
        listen: &str,
        awaited: Arc<AwaitedSends>,
    ) -> Result<Arc<Sender>, String> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("crossdock/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let mdn_url = as2.mdn_url.clone().unwrap_or_else(|| format!("http://{listen}/as2"));
        Ok(Arc::new(Sender {
            store,
            partners,
            identity,
            as2,
            mdn_url,
            client,
            in_flight: Mutex::new(HashSet::new()),
            awaited,
            wake: Arc::new(Notify::new()),
        }))
    }

    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            if *stop.borrow() {
                break;
            }
            let store = Arc::clone(&self.store);
            let due = tokio::task::spawn_blocking(move || store.sendable(now_millis(), BATCH)).await;
            match due {
                Ok(Ok(due)) => {
                    for sendable in due {
                        let fresh = self.in_flight.lock().map(|mut f| f.insert(sendable.id.clone())).unwrap_or(false);
                        if fresh {
                            let this = Arc::clone(&self);
                            tasks.spawn(async move {
                                let id = sendable.id.clone();
                                this.send(sendable).await;
                                if let Ok(mut f) = this.in_flight.lock() {
                                    f.remove(&id);
                                }
                            });
                        }
                    }
                }
                Ok(Err(err)) => tracing::warn!(error = %err, "cannot read what is due to partners"),
                Err(_) => {}
            }
            while tasks.try_join_next().is_some() {}
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                // Closed: the gateway stopped without saying so (a failed start).
                changed = stop.changed() => if changed.is_err() { break },
            }
        }
        // What is in flight stays pending in the store and is sent after a restart.
        let _ =
            tokio::time::timeout(Duration::from_secs(10), async { while tasks.join_next().await.is_some() {} }).await;
    }

    async fn send(&self, sendable: Sendable) {
        let partners = self.partners.current();
        let attempt = match partners.get(&sendable.partner) {
            None => held(&sendable, format!("no partner profile {:?} to send to", sendable.partner)),
            Some(partner) => match partner.documents.send_via {
                Some(Transport::As2) => self.send_as2(&sendable, partner).await,
                Some(Transport::Webhook) => self.send_webhook(&sendable, partner).await,
                Some(Transport::Sftp) => self.send_sftp(&sendable, partner).await,
                None => held(&sendable, "the partner's profile names no transport (documents.send_via)".into()),
            },
        };
        let mut attempt = attempt;
        if sendable.acknowledgment_id.is_none()
            && matches!(attempt.outcome, SendOutcome::Sent | SendOutcome::AwaitingMdn { .. })
        {
            // The partner's functional acknowledgment is due within the profile's deadline.
            let deadline = partners.get(&sendable.partner).and_then(|p| p.documents.acknowledgment_deadline_seconds);
            attempt.ack_due_at = deadline.map(|seconds| now_millis() + (seconds as Millis) * 1000);
        }
        let what = if sendable.acknowledgment_id.is_some() { "acknowledgment" } else { "message" };
        let outcome = match &attempt.outcome {
            SendOutcome::Sent => "sent",
            SendOutcome::AwaitingMdn { .. } => "awaiting_mdn",
            SendOutcome::Retry { .. } => "retry",
            SendOutcome::Failed => "failed",
            SendOutcome::Held => "held",
        };
        tracing::info!(transmission = %sendable.id, message_id = %sendable.message_id, partner = %sendable.partner,
            correlation_id = %sendable.correlation_id, what, outcome, detail = %attempt.detail, "send attempt");
        let as2_message_id = attempt.as2_message_id.clone();
        match self.store.record_send(attempt).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::error!(error = %err, "cannot record a send attempt; it will be made again"),
            Err(_) => tracing::error!("cannot record a send attempt: the store is closed"),
        }
        if let Some(id) = as2_message_id {
            self.awaited.end(&id);
        }
    }

    async fn send_as2(&self, sendable: &Sendable, partner: &Partner) -> SendAttempt {
        let Some(profile) = partner.as2.clone() else { return held(sendable, "no [as2] section".into()) };
        let Some(url) = profile.url.clone() else { return held(sendable, "the partner's [as2] has no url".into()) };
        let Some(identity) = self.identity.clone() else {
            return held(sendable, "the gateway has no AS2 certificate and key ([as2] in crossdock.toml)".into());
        };
        let message_id = mdn::new_message_id(&identity.as2_id);
        let payload = sendable.payload.clone();
        let profile_for_build = profile.clone();
        let built = tokio::task::spawn_blocking(move || {
            let certificates = certs::load_all(&profile_for_build.certificates)?;
            let wrapping = Wrapping {
                sign: Digest::from_name(&profile_for_build.sign),
                signature: profile_for_build.signature,
                encrypt: cms::cipher(&profile_for_build.encrypt),
                key_transport: profile_for_build.key_transport,
                compress: profile_for_build.compress,
                identity: &identity,
                partner_certificates: &certificates,
            };
            let payload_type = if is_edifact(&payload) { "application/edifact" } else { "application/edi-x12" };
            message::build(&payload, payload_type, "message.edi", &wrapping)
                .map(|built| (built, certificates))
                .map_err(|e| e.detail)
        })
        .await;
        let (built, certificates) = match built {
            Ok(Ok(pair)) => pair,
            Ok(Err(err)) => return failed(sendable, "as2", format!("cannot build the AS2 message: {err}")),
            Err(_) => return failed(sendable, "as2", "building the AS2 message failed unexpectedly".into()),
        };
        let ours = self.identity.as_ref().map(|i| i.as2_id.clone()).unwrap_or_default();
        let mut request = self
            .client
            .post(&url)
            .timeout(Duration::from_secs(120))
            .header("AS2-Version", "1.2")
            .header("AS2-From", crate::as2::quote_name(&ours))
            .header("AS2-To", crate::as2::quote_name(&profile.as2_id))
            .header("Message-ID", format!("<{message_id}>"))
            .header("MIME-Version", "1.0")
            .header("Subject", "EDI from Crossdock")
            .header("EDIINT-Features", "CMS");
        for (name, value) in &built.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let micalg = built.mic.1.micalg();
        if profile.mdn != "none" {
            request = request.header("Disposition-Notification-To", &self.mdn_url);
            if profile.mdn_signed {
                request = request.header(
                    "Disposition-Notification-Options",
                    format!(
                        "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, {micalg}"
                    ),
                );
            }
            if profile.mdn == "async" {
                request = request.header("Receipt-Delivery-Option", &self.mdn_url);
            }
        }
        // Only a signed message binds the MDN to our bytes: RFC 4130 asks for a MIC on every
        // MDN, but receivers commonly leave it out for unsigned messages.
        let mic = Digest::from_name(&profile.sign).map(|_| (built.mic.0.clone(), micalg.to_owned()));
        // From here every outcome names the Message-ID, and `send` ends the wait with it.
        self.awaited.begin(&message_id);
        let response = match request.body(built.body).send().await {
            Ok(response) => response,
            Err(err) => return retry(sendable, "as2", format!("could not send to {url}: {err}"), Some(message_id)),
        };
        let status = response.status();
        if !status.is_success() {
            return retry(sendable, "as2", format!("{url} answered HTTP {}", status.as_u16()), Some(message_id));
        }
        let base = SendAttempt {
            ack_due_at: None,
            transmission_id: sendable.id.clone(),
            transport: "as2".into(),
            outcome: SendOutcome::Sent,
            detail: String::new(),
            as2_message_id: Some(message_id.clone()),
            mic: mic.clone(),
            mdn: None,
        };
        match profile.mdn.as_str() {
            "none" => SendAttempt { detail: format!("HTTP {}; no MDN asked for", status.as_u16()), ..base },
            "async" => {
                let deadline = now_millis() + (self.as2.mdn_timeout_seconds as Millis) * 1000;
                SendAttempt {
                    outcome: SendOutcome::AwaitingMdn { deadline },
                    detail: format!("HTTP {}; waiting for the asynchronous MDN as {message_id}", status.as_u16()),
                    ..base
                }
            }
            _ => {
                let content_type =
                    response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let body = match response.bytes().await {
                    Ok(body) => body.to_vec(),
                    Err(err) => {
                        return retry(sendable, "as2", format!("the MDN did not arrive whole: {err}"), Some(message_id))
                    }
                };
                let mut raw_mdn = format!("Content-Type: {content_type}\r\n\r\n").into_bytes();
                raw_mdn.extend_from_slice(&body);
                let read = tokio::task::spawn_blocking(move || mdn::read(&content_type, &body, &certificates)).await;
                let read = match read {
                    Ok(Ok(read)) => read,
                    Ok(Err(err)) => {
                        metrics::counter!(m::AS2_MDN, "partner" => partner.id.clone(), "direction" => "received", "disposition" => "unreadable")
                            .increment(1);
                        return SendAttempt {
                            outcome: SendOutcome::Failed,
                            detail: format!("the MDN cannot be accepted: {}", err.detail),
                            mdn: Some(raw_mdn),
                            ..base
                        };
                    }
                    Err(_) => {
                        return retry(sendable, "as2", "reading the MDN failed unexpectedly".into(), Some(message_id))
                    }
                };
                if read.disposition.original_message_id != message_id {
                    return SendAttempt {
                        outcome: SendOutcome::Failed,
                        detail: format!(
                            "the MDN answers {} and not our message {message_id}",
                            read.disposition.original_message_id
                        ),
                        mdn: Some(raw_mdn),
                        ..base
                    };
                }
                let label = read.disposition.error.clone().unwrap_or_else(|| "processed".into());
                metrics::counter!(m::AS2_MDN, "partner" => partner.id.clone(), "direction" => "received", "disposition" => label)
                    .increment(1);
                let (outcome, detail) =
                    crate::sources::as2::judge_mdn(&read.disposition, mic.as_ref(), read.signed, profile.mdn_signed);
                SendAttempt { outcome, detail, mdn: Some(raw_mdn), ..base }
            }
        }
    }

    async fn send_sftp(&self, sendable: &Sendable, partner: &Partner) -> SendAttempt {
        let Some(profile) = partner.sftp.clone() else { return held(sendable, "no [sftp] section".into()) };
        if profile.outbox.is_none() {
            return held(sendable, "the partner's [sftp] has no outbox".into());
        }
        // Unique per transmission: OpenSSH refuses to rename over an existing file.
        let name = format!("{}.edi", sendable.id);
        let payload = sendable.payload.clone();
        let uploaded =
            tokio::task::spawn_blocking(move || crate::sources::sftp::upload(&profile, &name, &payload)).await;
        match uploaded {
            Ok(Ok(path)) => SendAttempt {
                ack_due_at: None,
                transmission_id: sendable.id.clone(),
                transport: "sftp".into(),
                outcome: SendOutcome::Sent,
                detail: format!("uploaded as {path}"),
                as2_message_id: None,
                mic: None,
                mdn: None,
            },
            Ok(Err(err)) => retry(sendable, "sftp", err.to_string(), None),
            Err(_) => retry(sendable, "sftp", "the upload failed unexpectedly".into(), None),
        }
    }

    async fn send_webhook(&self, sendable: &Sendable, partner: &Partner) -> SendAttempt {
        use hmac::{Hmac, Mac};
        let Some(webhook) = partner.webhook.clone() else { return held(sendable, "no [webhook] section".into()) };
        let Some(url) = webhook.url.clone() else { return held(sendable, "the partner's [webhook] has no url".into()) };
        let key = match webhook.secret.resolve() {
            Ok(key) => key,
            Err(err) => return retry(sendable, "webhook", format!("webhook.secret: {err}"), None),
        };
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()) else {
            return failed(sendable, "webhook", "unusable webhook secret".into());
        };
        mac.update(&sendable.payload);
        let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        let content_type = if is_edifact(&sendable.payload) { "application/edifact" } else { "application/edi-x12" };
        let response = self
            .client
            .post(&url)
            .timeout(Duration::from_secs(30))
            .header("content-type", content_type)
            .header("x-crossdock-signature", signature)
            .header("idempotency-key", &sendable.id)
            .header("x-correlation-id", &sendable.correlation_id)
            .body(sendable.payload.clone())
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => SendAttempt {
                ack_due_at: None,
                transmission_id: sendable.id.clone(),
                transport: "webhook".into(),
                outcome: SendOutcome::Sent,
                detail: format!("{url} answered HTTP {}", r.status().as_u16()),
                as2_message_id: None,
                mic: None,
                mdn: None,
            },
            Ok(r) => retry(sendable, "webhook", format!("{url} answered HTTP {}", r.status().as_u16()), None),
            Err(err) => retry(sendable, "webhook", format!("could not send to {url}: {err}"), None),
        }
    }
}

fn is_edifact(payload: &[u8]) -> bool {
    let start = payload.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    payload[start..].starts_with(b"UNA") || payload[start..].starts_with(b"UNB")
}

fn held(sendable: &Sendable, detail: String) -> SendAttempt {
    SendAttempt {
        ack_due_at: None,
        transmission_id: sendable.id.clone(),
        transport: "none".into(),
        outcome: SendOutcome::Held,
        detail,
        as2_message_id: None,
        mic: None,
        mdn: None,
    }
}

fn failed(sendable: &Sendable, transport: &str, detail: String) -> SendAttempt {
    SendAttempt { outcome: SendOutcome::Failed, transport: transport.into(), ..held(sendable, detail) }
}

/// Retries with exponential backoff and jitter, then fails.
fn retry(sendable: &Sendable, transport: &str, detail: String, as2_message_id: Option<String>) -> SendAttempt {
    let made = sendable.attempts + 1;
    if made >= MAX_ATTEMPTS {
        return SendAttempt {
            as2_message_id,
            ..failed(sendable, transport, format!("{detail}; given up after {made} attempts"))
        };
    }
    let ceiling = (1u64 << (made - 1).clamp(0, 20)).min(MAX_BACKOFF_SECONDS) * 1000;
    let delay = ceiling / 2 + fastrand::u64(0..=ceiling / 2);
    SendAttempt {
        outcome: SendOutcome::Retry { at: now_millis() + delay as Millis },
        transport: transport.into(),
        as2_message_id,
        detail: format!("{detail}; attempt {made} of {MAX_ATTEMPTS}"),
        ..held(sendable, String::new())
    }
}
