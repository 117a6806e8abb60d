//! Delivery to the ERP: a POST of each canonical document with its `Idempotency-Key` (the
//! document's id, the same on every attempt, across restarts) and `X-Correlation-Id`.
//!
//! 2xx is delivered. 408, 429, 5xx, timeouts and connection errors are retried with
//! exponential backoff and full jitter, no sooner than a `Retry-After`, until the profile's
//! `max_attempts`; then dead-lettered. Any other status is dead-lettered at once, with the
//! response kept. Each endpoint (URL) has its own `max_in_flight` and
//! `max_requests_per_second`, so a burst queues in the store instead of overrunning the ERP.
//! With no URL anywhere, documents go to the embedded outbox: files under `data/outbox/`.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify, Semaphore};

use crate::config::gateway::ErpConfig;
use crate::config::partner::{HeaderValue, RetryPolicy};
use crate::gateway::partners::PartnerSet;
use crate::metrics as m;
use crate::store::{now_millis, Attempt, AttemptOutcome, DueDocument, Millis, Store};

/// Documents fetched from the store per look; deliveries in flight at once, all endpoints
/// together, stay under one and a half of these.
const DUE_BATCH: usize = 512;
/// How much of an ERP's error response is kept.
const RESPONSE_KEPT: usize = 4096;

/// Where one partner's documents go.
#[derive(Clone, Debug)]
enum Target {
    Http { url: String, headers: Vec<(String, HeaderValue)>, timeout: Duration, retry: RetryPolicy, limits: (u32, u32) },
    Outbox,
}

impl Target {
    fn key(&self) -> String {
        match self {
            Target::Http { url, .. } => url.clone(),
            Target::Outbox => "outbox".into(),
        }
    }
}

/// An endpoint's limits.
struct Endpoint {
    permits: Arc<Semaphore>,
    /// Requests per second as a minimum spacing between starts (GCRA without burst).
    spacing: Option<Duration>,
    next_start: tokio::sync::Mutex<Instant>,
}

impl Endpoint {
    async fn pace(&self) {
        let Some(spacing) = self.spacing else { return };
        let start = {
            let mut next = self.next_start.lock().await;
            let start = (*next).max(Instant::now());
            *next = start + spacing;
            start
        };
        tokio::time::sleep_until(start.into()).await;
    }
}

/// The documents being delivered, and those that finished while a read of the due documents
/// may still have seen them as due (that read began before their attempt was committed).
#[derive(Default)]
struct Flights {
    active: HashSet<String>,
    finished: HashMap<String, u64>,
    /// Counts finished deliveries; a read of due documents notes it before it starts.
    generation: u64,
}

impl Flights {
    /// Takes a document read as due by a read that began at `read_from`; false when it is
    /// being delivered or its delivery ended after that read began.
    fn claim(&mut self, id: &str, read_from: u64) -> bool {
        if self.finished.get(id).is_some_and(|generation| *generation >= read_from) {
            return false;
        }
        self.active.insert(id.to_owned())
    }

    fn finish(&mut self, id: String) {
        self.active.remove(&id);
        self.finished.insert(id, self.generation);
        self.generation += 1;
    }
}

pub struct Delivery {
    store: Arc<dyn Store>,
    partners: Arc<PartnerSet>,
    defaults: ErpConfig,
    outbox: PathBuf,
    client: reqwest::Client,
    endpoints: Mutex<HashMap<String, Arc<Endpoint>>>,
    in_flight: Mutex<Flights>,
    /// Told when documents become due (new ones, a replay) or a delivery ends.
    wake: Arc<Notify>,
}

impl Delivery {
    pub fn new(
        store: Arc<dyn Store>,
        partners: Arc<PartnerSet>,
        defaults: ErpConfig,
        outbox: PathBuf,
        wake: Arc<Notify>,
    ) -> Result<Arc<Delivery>, String> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("crossdock/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Arc::new(Delivery {
            store,
            partners,
            defaults,
            outbox,
            client,
            endpoints: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(Flights::default()),
            wake,
        }))
    }

    /// Runs `run` on a thread of its own with its own (single-threaded) runtime, at low CPU
    /// priority when `in_background`, like processing: on a busy host the senders' requests,
    /// which hold connections open, are answered first, and delivery catches up when they are
    /// idle. (On the shared runtime, delivery and its reads of due documents, a sixth of the
    /// gateway's CPU under load, ran at the accept path's priority.) The receiver resolves when
    /// it has stopped.
    pub fn start(
        self: Arc<Self>,
        in_background: bool,
        stop: watch::Receiver<bool>,
        grace: Duration,
    ) -> Result<tokio::sync::oneshot::Receiver<()>, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            // The blocking pool (the store's reads) runs at the same priority.
            .on_thread_start(move || {
                if in_background {
                    crate::pipeline::yield_to_senders();
                }
            })
            .build()
            .map_err(|e| format!("cannot start the delivery runtime: {e}"))?;
        let (stopped, on_stop) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("deliver".into())
            .spawn(move || {
                if in_background {
                    crate::pipeline::yield_to_senders();
                }
                runtime.block_on(self.run(stop, grace));
                let _ = stopped.send(());
            })
            .map_err(|e| format!("cannot start the delivery thread: {e}"))?;
        Ok(on_stop)
    }

    /// Delivers until `stop` turns true, then waits (up to `grace`) for deliveries in flight.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>, grace: Duration) {
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            if *stop.borrow() {
                break;
            }
            let dispatched = self.dispatch(&mut tasks).await;
            while tasks.try_join_next().is_some() {}
            if dispatched == 0 {
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    // Closed: the gateway stopped without saying so (a failed start).
                    changed = stop.changed() => if changed.is_err() { break },
                }
            }
        }
        let deadline = tokio::time::sleep(grace);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = tasks.join_next() => if next.is_none() { break },
                _ = &mut deadline => {
                    // What is still in flight stays pending in the store, and is delivered again
                    // with the same idempotency key after the restart.
                    tasks.abort_all();
                    break;
                }
            }
        }
    }

    /// Starts deliveries for what is due; returns how many started.
    async fn dispatch(self: &Arc<Self>, tasks: &mut tokio::task::JoinSet<()>) -> usize {
        let (busy, read_from, skip) =
            self.in_flight.lock().map(|f| (f.active.len(), f.generation, f.active.clone())).unwrap_or_default();
        // Read again only once half a batch has ended: each read steps over the deliveries
        // still in flight too, and doing so on every ending would cost more than delivering.
        if busy > DUE_BATCH / 2 {
            return 0;
        }
        let store = Arc::clone(&self.store);
        let due = match tokio::task::spawn_blocking(move || store.due(now_millis(), DUE_BATCH, &skip)).await {
            Ok(Ok(due)) => due,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "cannot read the documents due for delivery");
                return 0;
            }
            Err(_) => return 0,
        };
        let mut started = 0;
        if let Ok(mut f) = self.in_flight.lock() {
            // Whatever ended before this read began is visible in it.
            f.finished.retain(|_, generation| *generation >= read_from);
        }
        for document in due {
            let fresh = self.in_flight.lock().map(|mut f| f.claim(&document.id, read_from)).unwrap_or(false);
            if !fresh {
                continue;
            }
            started += 1;
            let this = Arc::clone(self);
            tasks.spawn(async move {
                let id = document.id.clone();
                this.deliver(document).await;
                if let Ok(mut f) = this.in_flight.lock() {
                    f.finish(id);
                }
                this.wake.notify_one();
            });
        }
        started
    }

    fn target(&self, partner: Option<&str>) -> Target {
        let partners = self.partners.current();
        let profile = partner.and_then(|id| partners.get(id)).and_then(|p| p.erp.clone());
        let d = &self.defaults;
        match profile {
            Some(erp) => match erp.url.or_else(|| d.url.clone()) {
                Some(url) => Target::Http {
                    url,
                    headers: erp.headers,
                    timeout: Duration::from_secs(erp.timeout_seconds),
                    retry: erp.retry,
                    limits: (erp.max_in_flight, erp.max_requests_per_second),
                },
                None => Target::Outbox,
            },
            None => match &d.url {
                Some(url) => Target::Http {
                    url: url.clone(),
                    headers: Vec::new(),
                    timeout: Duration::from_secs(d.timeout_seconds),
                    retry: d.retry.clone(),
                    limits: (d.max_in_flight, d.max_requests_per_second),
                },
                None => Target::Outbox,
            },
        }
    }

    fn endpoint(&self, target: &Target) -> Arc<Endpoint> {
        let (in_flight, per_second) = match target {
            Target::Http { limits, .. } => *limits,
            Target::Outbox => (64, 0),
        };
        let mut endpoints = match self.endpoints.lock() {
            Ok(e) => e,
            Err(poisoned) => poisoned.into_inner(),
        };
        Arc::clone(endpoints.entry(target.key()).or_insert_with(|| {
            Arc::new(Endpoint {
                permits: Arc::new(Semaphore::new(in_flight.max(1) as usize)),
                spacing: (per_second > 0).then(|| Duration::from_secs_f64(1.0 / f64::from(per_second))),
                next_start: tokio::sync::Mutex::new(Instant::now()),
            })
        }))
    }

    async fn deliver(&self, document: DueDocument) {
        let target = self.target(document.partner.as_deref());
        let endpoint = self.endpoint(&target);
        let Ok(permit) = endpoint.permits.acquire().await else { return };
        endpoint.pace().await;
        let started_at = now_millis();
        let started = Instant::now();
        let (status, outcome, detail, target_name) = match &target {
            Target::Outbox => match self.to_outbox(&document).await {
                Ok(path) => (None, AttemptOutcome::Delivered, String::new(), format!("outbox:{path}")),
                Err(err) => {
                    let retry = retry_at(&self.defaults.retry, document.attempts, None);
                    (None, retry, format!("cannot write to the outbox: {err}"), "outbox".into())
                }
            },
            Target::Http { url, headers, timeout, retry, .. } => {
                let (status, outcome, detail) = self.post(&document, url, headers, *timeout, retry).await;
                (status, outcome, detail, url.clone())
            }
        };
        let elapsed = started.elapsed();
        // The limit is on requests to the endpoint; recording the outcome is ours.
        drop(permit);
        let partner = document.partner.clone().unwrap_or_else(|| "unknown".into());
        metrics::histogram!(m::ERP_DELIVERY_SECONDS).record(elapsed.as_secs_f64());
        metrics::counter!(m::ERP_DELIVERY, "partner" => partner.clone(), "outcome" => outcome.as_str()).increment(1);
        if outcome == AttemptOutcome::DeadLettered {
            metrics::counter!(m::MESSAGES_FAILED, "partner" => partner, "stage" => "deliver", "reason" => "dead_letter")
                .increment(1);
        }
        tracing::info!(document_id = %document.id, message_id = %document.message_id,
            correlation_id = %document.correlation_id, outcome = outcome.as_str(), status, "delivery attempt");
        let attempt = Attempt {
            document_id: document.id,
            started_at,
            duration_ms: elapsed.as_millis() as i64,
            status,
            outcome,
            detail,
            target: target_name,
        };
        match self.store.record_attempt(attempt).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::error!(error = %err, "cannot record a delivery attempt; it will be made again"),
            Err(_) => tracing::error!("cannot record a delivery attempt: the store is closed"),
        }
    }

    async fn post(
        &self,
        document: &DueDocument,
        url: &str,
        headers: &[(String, HeaderValue)],
        timeout: Duration,
        retry: &RetryPolicy,
    ) -> (Option<u16>, AttemptOutcome, String) {
        let mut request = self
            .client
            .post(url)
            .timeout(timeout)
            .header("content-type", "application/json")
            .header("idempotency-key", &document.id)
            .header("x-correlation-id", &document.correlation_id);
        for (name, value) in headers {
            let value = match value {
                HeaderValue::Literal(v) => v.clone(),
                HeaderValue::Secret(secret) => match secret.resolve() {
                    Ok(v) => v,
                    Err(err) => {
                        // A missing secret is a configuration problem: retry, it may be fixed.
                        let outcome = retry_at(retry, document.attempts, None);
                        return (None, outcome, format!("header {name}: {err}"));
                    }
                },
            };
            request = request.header(name.as_str(), value);
        }
        let response = match request.body(document.canonical.clone()).send().await {
            Ok(response) => response,
            Err(err) => {
                let what = if err.is_timeout() { "timed out" } else { "could not connect or send" };
                return (None, retry_at(retry, document.attempts, None), format!("{what}: {err}"));
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        let mut text = String::from_utf8_lossy(&body[..body.len().min(RESPONSE_KEPT)]).into_owned();
        if body.len() > RESPONSE_KEPT {
            text.push('…');
        }
        let code = status.as_u16();
        let outcome = if status.is_success() {
            AttemptOutcome::Delivered
        } else if code == 408 || code == 429 || status.is_server_error() {
            retry_at(retry, document.attempts, retry_after)
        } else {
            AttemptOutcome::DeadLettered
        };
        (Some(code), outcome, format!("HTTP {code}: {text}"))
    }

    async fn to_outbox(&self, document: &DueDocument) -> std::io::Result<String> {
        let dir = self.outbox.clone();
        let id = document.id.clone();
        let body = document.canonical.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<String> {
            use std::io::Write;
            std::fs::create_dir_all(&dir)?;
            let path = dir.join(format!("{id}.json"));
            let temporary = dir.join(format!(".{id}.json.tmp"));
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(body.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temporary, &path)?;
            Ok(path.display().to_string())
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

/// The next attempt after `attempts` failed ones: exponential backoff with full jitter, no
/// sooner than `retry_after`; dead letter once `max_attempts` are spent.
fn retry_at(policy: &RetryPolicy, attempts: i64, retry_after: Option<Duration>) -> AttemptOutcome {
    let made = attempts + 1;
    if made >= i64::from(policy.max_attempts.max(1)) {
        return AttemptOutcome::DeadLettered;
    }
    let exponent = (made - 1).clamp(0, 30) as u32;
    let ceiling = policy.initial_backoff_seconds.saturating_mul(1u64 << exponent).min(policy.max_backoff_seconds);
    let ceiling_ms = ceiling.saturating_mul(1000).max(100);
    // Full jitter: anywhere in the upper half of the window, so retries of many documents
    // spread out but never come back at once.
    let backoff = ceiling_ms / 2 + fastrand::u64(0..=ceiling_ms / 2);
    let delay = retry_after.map_or(backoff, |r| backoff.max(r.as_millis() as u64));
    AttemptOutcome::Retry { at: now_millis() + delay as Millis }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_stops_when_the_gateway_goes_away_without_saying_so() {
        // As `crossdock serve` does before any client is built.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(crate::store::SqliteStore::open(&dir.path().join("db.sqlite")).unwrap());
        let partners = Arc::new(PartnerSet::load(&dir.path().join("partners")));
        let erp = crate::config::gateway::load(None).unwrap().erp;
        let delivery = Delivery::new(store, partners, erp, dir.path().join("outbox"), Arc::new(Notify::new())).unwrap();
        let (stop, stopping) = watch::channel(false);
        let stopped = delivery.start(true, stopping, Duration::from_secs(1)).unwrap();
        // A start that fails after delivery began drops the sender without sending `true`.
        drop(stop);
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || done.send(stopped.blocking_recv().is_ok()));
        assert_eq!(finished.recv_timeout(Duration::from_secs(10)), Ok(true), "the delivery thread did not stop");
    }

    #[test]
    fn a_delivery_that_ends_during_a_read_of_due_documents_is_not_taken_again() {
        let mut flights = Flights::default();
        assert!(flights.claim("a", flights.generation));
        assert!(!flights.claim("a", flights.generation), "being delivered");
        // A read begins, then the delivery of `a` ends (its attempt committed after the read's
        // snapshot): the read still lists `a` as due.
        let read_from = flights.generation;
        flights.finish("a".to_owned());
        assert!(!flights.claim("a", read_from), "stale read");
        // A read that began after the end sees the committed attempt; if `a` is due again
        // (a retry, a replay) it is taken.
        let later = flights.generation;
        flights.finished.retain(|_, generation| *generation >= later);
        assert!(flights.claim("a", later));
    }

    #[test]
    fn backoff_grows_is_capped_honours_retry_after_and_ends() {
        let policy = RetryPolicy { max_attempts: 5, initial_backoff_seconds: 1, max_backoff_seconds: 4 };
        let delay = |attempts, after| match retry_at(&policy, attempts, after) {
            AttemptOutcome::Retry { at } => at - now_millis(),
            other => panic!("{other:?}"),
        };
        let first = delay(0, None);
        assert!((450..=1010).contains(&first), "{first}");
        let third = delay(2, None);
        assert!((1950..=4010).contains(&third), "{third}");
        let capped = delay(3, None);
        assert!(capped <= 4010, "{capped}");
        let after = delay(0, Some(Duration::from_secs(30)));
        assert!(after >= 29_900, "{after}");
        assert_eq!(retry_at(&policy, 4, None), AttemptOutcome::DeadLettered);
    }
}
