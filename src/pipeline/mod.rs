//! The pipeline between sources and sinks: a bounded pool of worker threads takes received
//! messages from the store, processes each (inbound: parse → identify → validate → translate →
//! acknowledge; outbound: render), and records the outcome in one transaction.
//!
//! Work comes from the store, not from memory: sources push the id of what they stored for
//! speed, and a scan of the store picks up anything else in state `received` (after a
//! restart, or a replay from another process). A message is processed once because the store
//! only records an outcome for a message still `received`.

pub mod inbound;
pub mod outbound;

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::gateway::partners::PartnerSet;
use crate::metrics as m;
use crate::store::{Direction, MessageState, Pending, Processed, Store};

pub use inbound::process_inbound;
pub use outbound::process_outbound;

/// How often the store is scanned for work nobody announced.
const SCAN_INTERVAL: Duration = Duration::from_secs(2);

/// Most outcomes processed but not yet committed. Beyond it workers wait for the store: when
/// the writer is busy answering senders, processing further would only hold outcomes in memory
/// and take the CPU the senders need.
const MAX_UNCOMMITTED: usize = 64;

/// Ids of messages to process, each queued at most once.
#[derive(Clone)]
pub struct Queue {
    tx: Sender<String>,
    queued: Arc<Mutex<HashSet<String>>>,
    uncommitted: Arc<Uncommitted>,
}

/// The count of outcomes handed to the store and not yet committed.
#[derive(Default)]
struct Uncommitted {
    count: Mutex<usize>,
    lower: Condvar,
}

impl Uncommitted {
    /// Waits (up to `patience`) until fewer than `MAX_UNCOMMITTED` are in flight; whether so.
    fn wait_for_room(&self, patience: Duration) -> bool {
        let Ok(count) = self.count.lock() else { return true };
        match self.lower.wait_timeout_while(count, patience, |n| *n >= MAX_UNCOMMITTED) {
            Ok((_, timeout)) => !timeout.timed_out(),
            Err(_) => true,
        }
    }

    fn add(self: &Arc<Self>) -> UncommittedGuard {
        if let Ok(mut n) = self.count.lock() {
            *n += 1;
        }
        UncommittedGuard(Arc::clone(self))
    }
}

/// One outcome in flight; dropped when the store has answered (or dropped the write).
struct UncommittedGuard(Arc<Uncommitted>);

impl Drop for UncommittedGuard {
    fn drop(&mut self) {
        if let Ok(mut n) = self.0.count.lock() {
            *n = n.saturating_sub(1);
        }
        self.0.lower.notify_one();
    }
}

impl Queue {
    pub fn push(&self, id: String) {
        let fresh = self.queued.lock().map(|mut q| q.insert(id.clone())).unwrap_or(false);
        if fresh {
            let _ = self.tx.send(id);
        }
    }

    fn done(&self, id: &str) {
        if let Ok(mut q) = self.queued.lock() {
            q.remove(id);
        }
    }
}

/// The worker threads.
pub struct Processor {
    stopping: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// Starts `workers` processing threads and the store scan. `settled` is told each time
/// documents become due for delivery.
pub fn start(
    workers: usize,
    in_background: bool,
    store: Arc<dyn Store>,
    partners: Arc<PartnerSet>,
    settled: Arc<tokio::sync::Notify>,
) -> (Queue, Processor) {
    let (tx, rx) = mpsc::channel::<String>();
    let queue = Queue { tx, queued: Arc::new(Mutex::new(HashSet::new())), uncommitted: Arc::default() };
    let rx = Arc::new(Mutex::new(rx));
    let stopping = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for n in 0..workers.max(1) {
        let (rx, queue, store, partners, settled, stopping) = (
            Arc::clone(&rx),
            queue.clone(),
            Arc::clone(&store),
            Arc::clone(&partners),
            Arc::clone(&settled),
            Arc::clone(&stopping),
        );
        let spawned = std::thread::Builder::new().name(format!("process-{n}")).spawn(move || {
            if in_background {
                yield_to_senders();
            }
            work(&rx, &queue, store.as_ref(), &partners, &settled, &stopping);
        });
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(err) => tracing::error!(error = %err, "cannot start a processing worker"),
        }
    }
    let (scan_queue, scan_store, scan_stopping) = (queue.clone(), Arc::clone(&store), Arc::clone(&stopping));
    if let Ok(thread) = std::thread::Builder::new().name("process-scan".into()).spawn(move || {
        while !scan_stopping.load(Ordering::Relaxed) {
            match scan_store.received(1000) {
                Ok(ids) => ids.into_iter().for_each(|id| scan_queue.push(id)),
                Err(err) => tracing::warn!(error = %err, "cannot scan the store for received messages"),
            }
            let until = Instant::now() + SCAN_INTERVAL;
            while Instant::now() < until && !scan_stopping.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }) {
        threads.push(thread);
    }
    (queue, Processor { stopping, threads })
}

/// Lowers the calling thread's CPU priority (Linux `nice` 19, per thread): when the cores are
/// short, answering senders, whose connections wait, goes first; processing catches up when
/// they are idle.
pub(crate) fn yield_to_senders() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on this thread's own id; no memory is involved.
    unsafe {
        let tid = libc::gettid();
        if libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 19) != 0 {
            tracing::debug!("cannot lower the processing thread's priority");
        }
    }
}

impl Processor {
    /// Lets each worker finish the message in hand, then stops them.
    pub fn stop(self) {
        self.stopping.store(true, Ordering::Relaxed);
        for thread in self.threads {
            let _ = thread.join();
        }
    }
}

fn work(
    rx: &Mutex<Receiver<String>>,
    queue: &Queue,
    store: &dyn Store,
    partners: &PartnerSet,
    settled: &Arc<tokio::sync::Notify>,
    stopping: &AtomicBool,
) {
    while !stopping.load(Ordering::Relaxed) {
        if !queue.uncommitted.wait_for_room(Duration::from_millis(100)) {
            continue;
        }
        let next = match rx.lock() {
            Ok(rx) => rx.recv_timeout(Duration::from_millis(100)),
            Err(_) => return,
        };
        let id = match next {
            Ok(id) => id,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        process_one(&id, store, partners, settled, queue);
    }
}

/// Processes one message and records the outcome. The worker does not wait for the commit:
/// the message stays marked as queued until it is done, so no one takes it up twice.
pub fn process_one(
    id: &str,
    store: &dyn Store,
    partners: &PartnerSet,
    settled: &Arc<tokio::sync::Notify>,
    queue: &Queue,
) {
    let pending = match store.pending(id) {
        Ok(Some(pending)) => pending,
        // Already processed (by an earlier run, or the scan and a push raced).
        Ok(None) => return queue.done(id),
        Err(err) => {
            tracing::warn!(message_id = id, error = %err, "cannot load a message to process; it stays queued in the store");
            return queue.done(id);
        }
    };
    let span = tracing::info_span!("message", message_id = id, correlation_id = %pending.correlation_id,
        transport = %pending.transport, partner = tracing::field::Empty, interchange = tracing::field::Empty);
    let _entered = span.enter();
    let started = Instant::now();
    let current = partners.current();
    let outcome = catch_unwind(AssertUnwindSafe(|| match pending.direction {
        Direction::Inbound => process_inbound(&pending, &current, store),
        Direction::Outbound => process_outbound(&pending, &current, store),
    }));
    let processed = outcome.unwrap_or_else(|panic| internal_failure(&pending, panic));
    if let Some(partner) = &processed.partner {
        span.record("partner", partner.as_str());
    }
    if let Some(icn) = &processed.interchange_control_number {
        span.record("interchange", icn.as_str());
    }
    let state = processed.state;
    let documents = processed.documents.len();
    let errors = processed.errors.len();
    metrics::histogram!(m::PROCESSING_SECONDS, "stage" => "process").record(started.elapsed().as_secs_f64());
    let (settled, queue, id, span) = (Arc::clone(settled), queue.clone(), id.to_owned(), span.clone());
    let in_flight = queue.uncommitted.add();
    store.complete(
        processed,
        Box::new(move |committed| {
            let _in_flight = in_flight;
            let _entered = span.enter();
            match committed {
                Ok(()) => {
                    tracing::info!(state = %state, documents, errors, "processed");
                    if documents > 0 {
                        settled.notify_one();
                    }
                }
                Err(err) => {
                    tracing::error!(error = %err, "cannot record the outcome; the message will be processed again")
                }
            }
            queue.done(&id);
        }),
    );
}

/// A bug must not lose a message: it is recorded as failed, with the panic, for replay.
fn internal_failure(pending: &Pending, panic: Box<dyn std::any::Any + Send>) -> Processed {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".into());
    tracing::error!(panic = %what, "processing panicked; the message is kept as failed");
    metrics::counter!(m::MESSAGES_FAILED, "partner" => pending.partner.clone().unwrap_or_else(|| "unknown".into()),
        "stage" => "process", "reason" => "internal_error")
    .increment(1);
    Processed {
        errors: vec![format!("internal error while processing (a bug; please report it): {what}")],
        detail: "failed: internal error".into(),
        ..Processed::of(pending, MessageState::Failed)
    }
}
