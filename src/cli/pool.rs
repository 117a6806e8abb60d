//! An ordered worker pool for the batch commands: the caller produces jobs on its own thread
//! (typically reading and framing the input), workers transform them in parallel, and one
//! writer thread receives the results in the order the jobs were produced.
//!
//! Channels are bounded, so a slow writer slows the reader instead of queueing the whole
//! input in memory: at most `queued × workers` jobs and as many results wait between the
//! threads.

use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;

/// Worker threads to use: one per core.
pub fn workers() -> usize {
    thread::available_parallelism().map_or(1, usize::from)
}

/// Runs `produce`, which hands jobs to its callback (the callback returns `false` once the
/// writer has stopped, and producing should stop too); runs `work` on each job on one of
/// `workers` threads; calls `emit` with the results in job order. `queued` jobs per worker
/// (and as many results) may wait in each channel. Returns what `produce` returned.
pub fn run_ordered<J, R, T>(
    workers: usize,
    queued: usize,
    produce: impl FnOnce(&mut dyn FnMut(J) -> bool) -> T,
    work: impl Fn(J) -> R + Sync,
    mut emit: impl FnMut(R) -> bool + Send,
) -> T
where
    J: Send,
    R: Send,
{
    let workers = workers.max(1);
    let (job_tx, job_rx) = sync_channel::<(u64, J)>(queued * workers);
    let (result_tx, result_rx) = sync_channel::<(u64, R)>(queued * workers);
    // Only the workers hold the receiver: once they have all stopped, the producer's next
    // send fails instead of blocking on a full channel.
    let job_rx = Arc::new(Mutex::new(job_rx));
    thread::scope(|scope| {
        for _ in 0..workers {
            let result_tx = result_tx.clone();
            let (job_rx, work) = (Arc::clone(&job_rx), &work);
            scope.spawn(move || {
                while let Some((index, job)) = next_job(&job_rx) {
                    if result_tx.send((index, work(job))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(result_tx);
        drop(job_rx);
        scope.spawn(move || {
            let mut next = 0u64;
            let mut waiting = BTreeMap::new();
            for (index, result) in result_rx {
                waiting.insert(index, result);
                while let Some(result) = waiting.remove(&next) {
                    next += 1;
                    if !emit(result) {
                        // Dropping the receiver stops the workers, which stops the producer.
                        return;
                    }
                }
            }
        });
        let mut index = 0u64;
        let produced = produce(&mut |job| {
            let sent = job_tx.send((index, job)).is_ok();
            index += 1;
            sent
        });
        drop(job_tx);
        produced
    })
}

fn next_job<J>(jobs: &Mutex<Receiver<(u64, J)>>) -> Option<(u64, J)> {
    // A poisoned lock means another worker panicked; the scope re-raises that panic.
    jobs.lock().ok()?.recv().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_job_order_whatever_the_work_time() {
        let mut seen = Vec::new();
        let produced = run_ordered(
            4,
            2,
            |submit| (0..200u64).take_while(|&i| submit(i)).count(),
            |i| {
                // Later jobs finish first.
                std::thread::sleep(std::time::Duration::from_micros(200 - i));
                i * 2
            },
            |r| {
                seen.push(r);
                true
            },
        );
        assert_eq!(produced, 200);
        assert_eq!(seen, (0..200u64).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn a_stopped_writer_stops_the_producer() {
        let mut seen = 0;
        let produced = run_ordered(
            2,
            1,
            |submit| (0..1_000_000u64).take_while(|&i| submit(i)).count(),
            |i| i,
            |_| {
                seen += 1;
                seen < 3
            },
        );
        assert_eq!(seen, 3);
        assert!(produced < 1_000_000, "the producer went on to {produced}");
    }
}
