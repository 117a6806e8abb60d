//! The SQLite store: one file, WAL, `synchronous = FULL` (a commit is on disk when it
//! returns), and group commit: every write goes to one writer thread, which runs whatever has
//! queued up in a single transaction (each write in its own savepoint, so one failure does not
//! undo the others; a sender's single INSERT needs none) and answers each writer once the
//! transaction is committed. One fsync then covers many requests. Writes a sender waits on
//! (accepting a body) go ahead of the gateway's own work, so a burst is answered quickly and its
//! processing queues in the store. A checkpointer thread copies the WAL into the database file,
//! so commits do not wait for that. Reads use a small pool of their own connections.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Mutex;
use std::thread::JoinHandle;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use super::*;
use crate::control_numbers::{nth, Counters, CONTROL_NUMBER_MAX};

/// Most writes of senders one transaction takes.
const GROUP_MAX: usize = 512;
/// Most of the gateway's own writes (processing outcomes, delivery attempts) one transaction
/// takes: a sender arriving meanwhile waits for at most that many.
const WORK_GROUP_MAX: usize = 64;
/// Of those, while senders wait or have just written: enough that work keeps moving (one per
/// commit), few enough that a burst of arrivals is answered at several times the rate it could
/// be processed, and queues durably. Under the load benchmark one instead of four accepted a
/// fifth to a third more: each write of work is a dozen b-tree changes that the senders in its
/// transaction wait for.
const WORK_PER_GROUP_UNDER_LOAD: usize = 1;
/// The writer counts as under load (work takes only its share) for this long after a
/// transaction with senders' writes, not just while one waits: with many connections, the next
/// senders are usually still on their way when a transaction ends, and a full group of work
/// taken in that instant made each of them wait for it (measured: a third fewer accepted).
const UNDER_LOAD_FOR: std::time::Duration = std::time::Duration::from_millis(20);
/// A transaction with at least this many senders' writes means senders keep the writer busy
/// (under the load benchmark's 32 connections a transaction carries 12 to 20; a partner posting
/// one file after another, 1).
const BUSY_FROM: usize = 8;
/// While senders keep the writer busy (a transaction of `BUSY_FROM` or more in the last
/// `UNDER_LOAD_FOR`), work takes one write per this long instead of one per transaction: at
/// least 200 a second, so it never stops, and a fifth more accepted under the load benchmark
/// than one per transaction. Under a lighter load, transactions carry few senders and work
/// keeps its share of each, so processing keeps up with arrivals.
const WORK_EVERY_WHEN_BUSY: std::time::Duration = std::time::Duration::from_millis(5);
/// With only the gateway's own work waiting, at least `GATHER_FROM` but fewer than
/// `WORK_GROUP_MAX` writes, the writer waits `GATHER_WAIT` for more: one commit of many writes
/// rewrites each hot page once instead of once per commit. Fewer mean light load: waiting would
/// only add latency. Senders are never kept waiting for it.
const GATHER_FROM: usize = 8;
const GATHER_WAIT: std::time::Duration = std::time::Duration::from_micros(500);

/// The background checkpointer runs at most this often.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);
/// Past this many pages (4 KiB each) of WAL the writer checkpoints itself, in case the
/// checkpointer cannot keep up.
const WAL_PAGES_MAX: i64 = 16_384;
/// The WAL file is reused from its start, not truncated, once a checkpoint has copied it all;
/// a WAL grown past this while a reader held on to it (a long export during a burst) is cut
/// back to it at the next restart instead of keeping its size for good. Twice the size at
/// which the writer checkpoints itself: under a sustained load the WAL stays below it (71 MB
/// in the load benchmark), so it is never cut back only to grow again.
const WAL_BYTES_KEPT: i64 = 2 * WAL_PAGES_MAX * 4096;

/// Who waits on a write: a sender holding a connection open for its answer, or the gateway's
/// own work (processing, delivery, transmissions), which can wait a little.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lane {
    Sender,
    Work,
}

/// Told how the transaction's commit went, once it is over. A write that failed (and is
/// undone) already holds its own error and ignores the commit's.
type Completion = Box<dyn FnOnce(Result<()>) + Send>;

/// A write: runs in the writer's transaction and returns its completion.
type Op = Box<dyn FnOnce(&Connection) -> Completion + Send>;

pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Option<Sender<(Lane, Op)>>>,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    /// Control numbers reserved in the store and not yet handed out, per partner.
    blocks: Mutex<std::collections::HashMap<String, Block>>,
}

/// Control numbers are reserved in the store this many at a time: one commit per block
/// instead of one per acknowledgment or rendering, which processing otherwise waits on. A
/// restart skips what was left of a block; X12 and EDIFACT allow gaps, never repeats.
const CONTROL_NUMBER_BLOCK: u64 = 100;

/// The unused part of a reserved block: for interchanges, groups and sets, the next number and
/// the last one reserved.
#[derive(Clone, Copy, Debug)]
struct Block {
    ranges: [(u64, u64); 3],
}

impl Block {
    /// Takes `counts` numbers of each kind (0: just the next, not taken), if the block has them.
    fn take(&mut self, counts: [u64; 3]) -> Option<Reservation> {
        if self.ranges.iter().zip(counts).any(|((next, last), n)| n > 0 && *next + n - 1 > *last) {
            return None;
        }
        let firsts = [0, 1, 2].map(|k| self.ranges[k].0);
        for (range, n) in self.ranges.iter_mut().zip(counts) {
            range.0 += n;
        }
        Some(Reservation { interchange: firsts[0], group: firsts[1], transaction_set: firsts[2] })
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish()
    }
}

fn open_connection(path: &Path, read_only: bool) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // The bundled SQLite weighs bound values when it plans (STAT4) and so compiles a statement
    // again whenever they change: the delivery's reads did so on every call. Plans here do not
    // depend on the values.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.set_prepared_statement_cache_capacity(64);
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    // FULL: a commit has reached the disk when it returns (the WAL is synced on every commit).
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Each write runs in its own savepoint, whose journal of changed pages goes to a temporary
    // file unless temporary storage is in memory; that file's writes were a sixth of the writer.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Database(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut conn = open_connection(path, false)?;
        schema::migrate(&mut conn)?;
        let version: i64 = conn.query_row("SELECT MAX(version) FROM schema_migrations", [], |r| r.get(0))?;
        if version > schema::latest() {
            return Err(StoreError::Database(format!(
                "{} has schema version {version}, newer than this build's {}; use a newer crossdock",
                path.display(),
                schema::latest()
            )));
        }
        // The checkpointer takes over from the writer (see `checkpoint_loop`); the writer
        // still checkpoints itself should the WAL grow past this many pages.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_PAGES_MAX)?;
        conn.pragma_update(None, "journal_size_limit", WAL_BYTES_KEPT)?;
        let checkpoints = open_connection(path, false)?;
        let (tx, rx) = mpsc::channel::<(Lane, Op)>();
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer_loop(conn, rx, checkpoints))
            .map_err(|e| StoreError::Database(format!("cannot start the store writer: {e}")))?;
        Ok(SqliteStore {
            path: path.to_owned(),
            writer: Mutex::new(Some(tx)),
            writer_thread: Mutex::new(Some(thread)),
            readers: Mutex::new(Vec::new()),
            blocks: Mutex::new(std::collections::HashMap::new()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Finishes the queued writes and stops the writer.
    pub fn close(&self) {
        if let Ok(mut writer) = self.writer.lock() {
            writer.take();
        }
        if let Some(thread) = self.writer_thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }

    /// Queues a write of the gateway's own work; the receiver resolves after its transaction
    /// commits.
    fn submit<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> oneshot::Receiver<Result<T>> {
        self.submit_in(Lane::Work, write)
    }

    /// Queues a write that a sender waits on: it goes ahead of the gateway's own work.
    fn submit_for_sender<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> oneshot::Receiver<Result<T>> {
        self.submit_in(Lane::Sender, write)
    }

    fn submit_in<T: Send + 'static>(
        &self,
        lane: Lane,
        write: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> oneshot::Receiver<Result<T>> {
        let (tx, rx) = oneshot::channel();
        self.submit_then_in(lane, write, move |result| {
            let _ = tx.send(result);
        });
        rx
    }

    /// Queues a write; `then` runs on the writer thread once its transaction has committed
    /// (or failed). If the store is closed, `then` is dropped without running.
    fn submit_then<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
        then: impl FnOnce(Result<T>) + Send + 'static,
    ) {
        self.submit_then_in(Lane::Work, write, then)
    }

    fn submit_then_in<T: Send + 'static>(
        &self,
        lane: Lane,
        write: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
        then: impl FnOnce(Result<T>) + Send + 'static,
    ) {
        self.queue(lane, Box::new(move |conn: &Connection| in_savepoint(conn, write, then)));
    }

    /// Queues a sender's write that is one statement: SQLite undoes a failed statement by
    /// itself, so it runs without a savepoint of its own (which cost a tenth of the writer's
    /// time on the accept path).
    fn submit_one_statement_for_sender<T: Send + 'static>(
        &self,
        write: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> oneshot::Receiver<Result<T>> {
        let (tx, rx) = oneshot::channel();
        let then = move |result| {
            let _ = tx.send(result);
        };
        self.queue(Lane::Sender, Box::new(move |conn: &Connection| as_one_statement(conn, write, then)));
        rx
    }

    fn queue(&self, lane: Lane, op: Op) {
        let sender = self.writer.lock().ok().and_then(|w| w.clone());
        if let Some(sender) = sender {
            let _ = sender.send((lane, op));
        }
    }

    /// A write, waited for (blocking).
    fn write<T: Send + 'static>(&self, write: impl FnOnce(&Connection) -> Result<T> + Send + 'static) -> Result<T> {
        self.submit(write).blocking_recv().map_err(|_| StoreError::Closed)?
    }

    /// A read on a pooled connection.
    fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.readers.lock().ok().and_then(|mut r| r.pop());
        let conn = match pooled {
            Some(conn) => conn,
            None => open_connection(&self.path, true)?,
        };
        let result = read(&conn);
        if let Ok(mut readers) = self.readers.lock() {
            if readers.len() < 8 {
                readers.push(conn);
            }
        }
        result
    }

    /// `(partner, count)` rows of a query grouped by partner, for the per-partner gauges.
    fn partner_counts<P: rusqlite::Params>(&self, sql: &str, params: P) -> Result<Vec<(String, i64)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt.query_map(params, |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
    }

    /// Takes over the counters `crossdock render` and `ack` kept in `control-numbers.json`:
    /// for each partner, the higher of the file's and the store's, so no number repeats.
    /// Reserves runs of control numbers in the store (one commit); returns the first of each.
    fn reserve_block(&self, partner: &str, [interchanges, groups, sets]: [u64; 3]) -> Result<Reservation> {
        let partner = partner.to_owned();
        self.write(move |conn| {
            let last: Option<(i64, i64, i64)> = conn
                .query_row(
                    "SELECT interchange, functional_group, transaction_set FROM control_numbers WHERE partner = ?1",
                    [&partner],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let (i, g, s) = last.unwrap_or((0, 0, 0));
            // Skip back to 1 rather than wrap in the middle of a run.
            let run = |last: i64, count: u64| -> (u64, u64) {
                let last = last.max(0) as u64;
                if count == 0 {
                    return (nth(last, 1), last);
                }
                let first = if last + count > CONTROL_NUMBER_MAX { 1 } else { last + 1 };
                (first, first + count - 1)
            };
            let (interchange, last_interchange) = run(i, interchanges);
            let (group, last_group) = run(g, groups);
            let (transaction_set, last_set) = run(s, sets);
            exec(
                conn,
                "INSERT INTO control_numbers (partner, interchange, functional_group, transaction_set)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (partner) DO UPDATE SET interchange = ?2, functional_group = ?3, transaction_set = ?4",
                params![partner, last_interchange as i64, last_group as i64, last_set as i64],
            )?;
            Ok(Reservation { interchange, group, transaction_set })
        })
    }

    pub fn import_counters(&self, counters: BTreeMap<String, Counters>) -> Result<usize> {
        // Blocks handed out before the import may be below the imported counters.
        if let Ok(mut blocks) = self.blocks.lock() {
            blocks.clear();
        }
        self.write(move |conn| {
            let mut n = 0;
            for (partner, c) in counters {
                n += exec(
                    conn,
                    "INSERT INTO control_numbers (partner, interchange, functional_group, transaction_set)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (partner) DO UPDATE SET
                       interchange = MAX(interchange, excluded.interchange),
                       functional_group = MAX(functional_group, excluded.functional_group),
                       transaction_set = MAX(transaction_set, excluded.transaction_set)",
                    params![partner, c.interchange as i64, c.group as i64, c.transaction_set as i64],
                )?;
            }
            Ok(n)
        })
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

/// Writes waiting for a transaction, by lane.
#[derive(Default)]
struct Waiting {
    senders: VecDeque<Op>,
    work: VecDeque<Op>,
    /// When the last transaction with senders' writes was started.
    senders_last_seen: Option<std::time::Instant>,
    /// When the last transaction with `BUSY_FROM` or more senders' writes was started.
    busy_last_seen: Option<std::time::Instant>,
    /// When the last transaction with work was started.
    work_last_taken: Option<std::time::Instant>,
}

impl Waiting {
    fn len(&self) -> usize {
        self.senders.len() + self.work.len()
    }

    fn push(&mut self, (lane, op): (Lane, Op)) {
        match lane {
            Lane::Sender => self.senders.push_back(op),
            Lane::Work => self.work.push_back(op),
        }
    }

    /// Moves what is queued on the channel here.
    fn drain(&mut self, ops: &Receiver<(Lane, Op)>) {
        while let Ok(op) = ops.try_recv() {
            self.push(op);
        }
    }

    /// The next transaction's writes: every waiting sender's (up to `GROUP_MAX`) first, then
    /// the gateway's own work, of which only a share while senders wait or have just written,
    /// and only one write now and then while they keep the writer busy. May be empty: then
    /// only work waits, and none is due before `WORK_EVERY_WHEN_BUSY` has passed.
    fn next_group(&mut self, now: std::time::Instant) -> Vec<Op> {
        let senders = self.senders.len().min(GROUP_MAX);
        if senders > 0 {
            self.senders_last_seen = Some(now);
        }
        if senders >= BUSY_FROM {
            self.busy_last_seen = Some(now);
        }
        let lately = |at: Option<std::time::Instant>| at.is_some_and(|at| now.duration_since(at) < UNDER_LOAD_FOR);
        let work_share = if lately(self.busy_last_seen) {
            usize::from(self.work_last_taken.is_none_or(|at| now.duration_since(at) >= WORK_EVERY_WHEN_BUSY))
        } else if lately(self.senders_last_seen) {
            WORK_PER_GROUP_UNDER_LOAD
        } else {
            WORK_GROUP_MAX
        };
        let work = self.work.len().min(work_share);
        if work > 0 {
            self.work_last_taken = Some(now);
        }
        let mut group = Vec::with_capacity(senders + work);
        group.extend(self.senders.drain(..senders));
        group.extend(self.work.drain(..work));
        group
    }
}

fn writer_loop(conn: Connection, ops: Receiver<(Lane, Op)>, checkpoints: Connection) {
    let (kick, kicked) = mpsc::sync_channel::<()>(1);
    let checkpointer = std::thread::Builder::new()
        .name("store-checkpoint".into())
        .spawn(move || checkpoint_loop(&checkpoints, &kicked))
        .map_err(|err| tracing::warn!(error = %err, "cannot start the checkpointer; the writer checkpoints itself"))
        .ok();
    writer_loop_with(&conn, &ops, &kick);
    drop(kick);
    if let Some(checkpointer) = checkpointer {
        let _ = checkpointer.join();
    }
}

/// Copies committed pages from the WAL into the database file (a PASSIVE checkpoint: it never
/// holds up the writer or a reader) after commits, at most every `CHECKPOINT_EVERY`. Left to
/// the writer, SQLite checkpoints inside a commit, every 1,000 pages: a copy and an fsync of
/// the database that the senders in that transaction waited for (7% of the writer's time
/// under load, and its slowest commits). Returns when the writer has stopped.
fn checkpoint_loop(conn: &Connection, kicked: &Receiver<()>) {
    while kicked.recv().is_ok() {
        let started = std::time::Instant::now();
        if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %err, "store: checkpoint failed; the next one retries");
        }
        std::thread::sleep(CHECKPOINT_EVERY.saturating_sub(started.elapsed()));
    }
}

fn writer_loop_with(conn: &Connection, ops: &Receiver<(Lane, Op)>, checkpoint: &mpsc::SyncSender<()>) {
    let mut waiting = Waiting::default();
    loop {
        if waiting.len() == 0 {
            match ops.recv() {
                Ok(op) => waiting.push(op),
                // Closed, and everything queued is written.
                Err(_) => return,
            }
        }
        waiting.drain(ops);
        if waiting.senders.is_empty() && (GATHER_FROM..WORK_GROUP_MAX).contains(&waiting.work.len()) {
            std::thread::sleep(GATHER_WAIT);
            waiting.drain(ops);
        }
        let batch = waiting.next_group(std::time::Instant::now());
        if batch.is_empty() {
            // Only work waits, and it is not due yet: wait for a sender or for its turn.
            let turn = waiting.work_last_taken.map_or(WORK_EVERY_WHEN_BUSY, |at| {
                WORK_EVERY_WHEN_BUSY.saturating_sub(at.elapsed()).max(std::time::Duration::from_micros(100))
            });
            match ops.recv_timeout(turn) {
                Ok(op) => waiting.push(op),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(turn),
            }
            continue;
        }
        // Cached statements: these run for every write, and parsing them showed in profiles.
        let run = |sql: &str| conn.prepare_cached(sql).and_then(|mut statement| statement.execute([])).map(|_| ());
        if let Err(err) = run("BEGIN IMMEDIATE") {
            let err = StoreError::from(err);
            for op in batch {
                // Without a transaction nothing can run: fail each write without running it.
                drop(op);
                tracing::error!(error = %err, "store: cannot begin a transaction");
            }
            continue;
        }
        let completions: Vec<Completion> = batch.into_iter().map(|op| op(conn)).collect();
        let committed = run("COMMIT").map_err(StoreError::from);
        if committed.is_err() {
            let _ = run("ROLLBACK");
        }
        for completion in completions {
            completion(committed.clone());
        }
        // Full means a checkpoint is already due.
        let _ = checkpoint.try_send(());
    }
}

/// Runs `write` in its own savepoint, so that its failure undoes its statements and no one
/// else's in the transaction.
fn in_savepoint<T: Send + 'static>(
    conn: &Connection,
    write: impl FnOnce(&Connection) -> Result<T>,
    then: impl FnOnce(Result<T>) + Send + 'static,
) -> Completion {
    let savepoint = exec(conn, "SAVEPOINT op", []);
    let written = write(conn);
    match (&written, savepoint) {
        (Ok(_), Ok(_)) => {
            let _ = exec(conn, "RELEASE op", []);
        }
        (Ok(_), Err(_)) => {}
        (Err(_), _) => {
            let _ = exec(conn, "ROLLBACK TO op", []);
            let _ = exec(conn, "RELEASE op", []);
        }
    }
    completion(written, then)
}

/// Runs `write`, one statement, as it is: if it fails, SQLite has undone it already.
fn as_one_statement<T: Send + 'static>(
    conn: &Connection,
    write: impl FnOnce(&Connection) -> Result<T>,
    then: impl FnOnce(Result<T>) + Send + 'static,
) -> Completion {
    completion(write(conn), then)
}

/// What to tell the writer of `written` once the commit is over: its value if the commit
/// succeeded, the commit's error if not, and its own error if it failed.
fn completion<T: Send + 'static>(written: Result<T>, then: impl FnOnce(Result<T>) + Send + 'static) -> Completion {
    match written {
        Ok(value) => Box::new(move |committed: Result<()>| then(committed.map(|()| value))),
        Err(err) => Box::new(move |_| then(Err(err))),
    }
}

/// A statement run through the connection's statement cache: the writer runs the same few
/// statements thousands of times a second, and parsing SQL each time was half its work.
fn exec<P: rusqlite::Params>(conn: &Connection, sql: &str, params: P) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

fn one<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, row)
}

fn history(conn: &Connection, message: &str, document: Option<&str>, state: &str, detail: &str) -> Result<()> {
    exec(
        conn,
        "INSERT INTO history (message_id, document_id, at, state, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![message, document, now_millis(), state, detail],
    )?;
    Ok(())
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A message's state from its documents, once processing has produced them.
fn derive_state(conn: &Connection, message: &str) -> Result<MessageState> {
    let (total, delivered, dead): (i64, i64, i64) = one(
        conn,
        "SELECT COUNT(*), COALESCE(SUM(state = 'delivered'), 0), COALESCE(SUM(state = 'dead_lettered'), 0)
         FROM documents WHERE message_id = ?1",
        [message],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok(if dead > 0 {
        MessageState::DeadLettered
    } else if total > 0 && delivered == total {
        MessageState::Delivered
    } else {
        MessageState::Translated
    })
}

/// A received body, in state `received`: the one row every source writes before it answers.
fn insert_message(conn: &Connection, id: &str, message: &NewMessage, sha256: &str, now: Millis) -> Result<()> {
    exec(
        conn,
        "INSERT INTO messages (id, direction, transport, content, received_at, updated_at, state, partner,
             correlation_id, sha256, size, raw)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, 'received', ?6, ?7, ?8, ?9, ?10)",
        params![
            id,
            message.direction.as_str(),
            message.transport,
            message.content.as_str(),
            now,
            message.partner,
            message.correlation_id,
            sha256,
            message.raw.len() as i64,
            message.raw,
        ],
    )?;
    Ok(())
}

/// An MDN from a receipt's columns: its headers (JSON) and body.
fn stored_mdn(headers: Option<String>, body: Option<Vec<u8>>) -> StoredMdn {
    StoredMdn {
        headers: headers.and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default(),
        body: body.unwrap_or_default(),
    }
}

fn insert_receipt(conn: &Connection, receipt: &NewReceipt, message_id: Option<&str>, now: Millis) -> Result<()> {
    let (headers, body) = match &receipt.mdn {
        Some(mdn) => (serde_json::to_string(&mdn.headers).ok(), Some(mdn.body.as_slice())),
        None => (None, None),
    };
    exec(
        conn,
        "INSERT INTO as2_receipts (as2_from, as2_message_id, at, partner, disposition, message_id, detail,
             mdn_headers, mdn, raw, mdn_url)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            receipt.as2_from,
            receipt.as2_message_id,
            now,
            receipt.partner,
            receipt.disposition,
            message_id,
            receipt.detail,
            headers,
            body,
            receipt.raw,
            receipt.mdn.as_ref().and(receipt.mdn_url.as_deref()),
        ],
    )?;
    Ok(())
}

/// Applies a partner's acknowledgment to the outbound messages it answers: the partner's, with
/// the group control number (997/999) or interchange control number (TA1/CONTRL) it names.
fn reconcile(
    conn: &Connection,
    inbound: &str,
    partner: Option<&str>,
    ack: &crate::ack::received::ReceivedAck,
) -> Result<()> {
    let Some(partner) = partner else { return Ok(()) };
    let (column, number) = match (&ack.group_control_number, &ack.interchange_control_number) {
        (Some(group), _) => ("group_control_number", group.trim_start_matches('0').to_owned()),
        (None, Some(interchange)) => ("interchange_control_number", interchange.trim_start_matches('0').to_owned()),
        (None, None) => return Ok(()),
    };
    // Control numbers compare as numbers: 000000042 is 42.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id FROM messages WHERE direction = 'outbound' AND partner = ?1
         AND ltrim({column}, '0') = ?2 ORDER BY id DESC LIMIT 1"
    ))?;
    let matched: Option<String> = stmt.query_row(params![partner, number], |r| r.get(0)).optional()?;
    let Some(outbound) = matched else {
        history(
            conn,
            inbound,
            None,
            "acknowledgment_unmatched",
            &format!("{} {}: no message we sent matches it", ack.kind, ack.detail),
        )?;
        return Ok(());
    };
    exec(
        conn,
        "UPDATE messages SET ack_status = ?2, ack_detail = ?3, updated_at = ?4 WHERE id = ?1",
        params![outbound, ack.result, format!("{}: {}", ack.kind, ack.detail), now_millis()],
    )?;
    history(
        conn,
        &outbound,
        None,
        &format!("acknowledged_{}", ack.result),
        &format!("{} {} (message {inbound})", ack.kind, ack.detail),
    )?;
    history(
        conn,
        inbound,
        None,
        "acknowledgment_matched",
        &format!("{} {}: answers message {outbound}", ack.kind, ack.detail),
    )?;
    Ok(())
}

/// Records a send attempt on its transmission, and its effect on the message it sends (an
/// outbound message turns sent or failed) or on the acknowledgment.
fn write_send(conn: &Connection, attempt: &SendAttempt) -> Result<()> {
    let now = now_millis();
    let (message, acknowledgment, state): (String, Option<String>, String) = one(
        conn,
        "SELECT message_id, acknowledgment_id, state FROM transmissions WHERE id = ?1",
        [&attempt.transmission_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if state == "sent" || state == "failed" {
        // Already settled (a late MDN, a second one): keep the first outcome.
        return Ok(());
    }
    let (new_state, next, deadline) = match &attempt.outcome {
        SendOutcome::Sent => ("sent", None, None),
        SendOutcome::AwaitingMdn { deadline } => ("awaiting_mdn", None, Some(*deadline)),
        SendOutcome::Retry { at } => ("pending", Some(*at), None),
        SendOutcome::Failed => ("failed", None, None),
        SendOutcome::Held => ("held", None, None),
    };
    let counts = !matches!(attempt.outcome, SendOutcome::Held) && state == "pending";
    exec(
        conn,
        "UPDATE transmissions SET state = ?2, attempts = attempts + ?3, next_attempt_at = ?4,
             transport = COALESCE(?5, transport), as2_message_id = COALESCE(?6, as2_message_id),
             mic = COALESCE(?7, mic), mic_alg = COALESCE(?8, mic_alg), mdn_deadline = ?9,
             mdn = COALESCE(?10, mdn), detail = ?11, updated_at = ?12
         WHERE id = ?1",
        params![
            attempt.transmission_id,
            new_state,
            counts as i64,
            next,
            attempt.transport,
            attempt.as2_message_id,
            attempt.mic.as_ref().map(|m| &m.0),
            attempt.mic.as_ref().map(|m| &m.1),
            deadline,
            attempt.mdn,
            attempt.detail,
            now,
        ],
    )?;
    if new_state == "held" {
        // Nothing was attempted (no transport for the recipient): the transmission says why.
        return Ok(());
    }
    match acknowledgment {
        Some(ack) => {
            if new_state == "sent" {
                exec(conn, "UPDATE acknowledgments SET state = 'sent', sent_at = ?2 WHERE id = ?1", params![ack, now])?;
            }
            let kind: String = one(conn, "SELECT kind FROM acknowledgments WHERE id = ?1", [&ack], |r| r.get(0))?;
            history(
                conn,
                &message,
                None,
                &format!("acknowledgment_{new_state}"),
                &format!("{kind} to the partner over {}: {}", attempt.transport, attempt.detail),
            )?;
        }
        None if attempt.ack_due_at.is_some() && (new_state == "sent" || new_state == "awaiting_mdn") => {
            exec(
                conn,
                "UPDATE messages SET ack_due_at = ?2 WHERE id = ?1 AND ack_status IS NULL",
                params![message, attempt.ack_due_at],
            )?;
            if new_state == "sent" {
                set_state(
                    conn,
                    &message,
                    MessageState::Sent,
                    &format!("over {}: {}", attempt.transport, attempt.detail),
                )?;
            } else {
                history(
                    conn,
                    &message,
                    None,
                    "send_awaiting_mdn",
                    &format!("over {}: {}", attempt.transport, attempt.detail),
                )?;
            }
        }
        None => match new_state {
            "sent" => set_state(
                conn,
                &message,
                MessageState::Sent,
                &format!("over {}: {}", attempt.transport, attempt.detail),
            )?,
            "failed" => set_state(
                conn,
                &message,
                MessageState::Failed,
                &format!("over {}: {}", attempt.transport, attempt.detail),
            )?,
            _ => history(
                conn,
                &message,
                None,
                &format!("send_{new_state}"),
                &format!("over {}: {}", attempt.transport, attempt.detail),
            )?,
        },
    }
    Ok(())
}

fn set_state(conn: &Connection, message: &str, state: MessageState, detail: &str) -> Result<()> {
    // One statement: the update itself says whether the state changed.
    let changed = exec(
        conn,
        "UPDATE messages SET state = ?2, updated_at = ?3 WHERE id = ?1 AND state != ?2",
        params![message, state.as_str(), now_millis()],
    )?;
    if changed > 0 {
        history(conn, message, None, state.as_str(), detail)?;
    }
    Ok(())
}

fn summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<MessageSummary> {
    let direction: String = row.get("direction")?;
    let state: String = row.get("state")?;
    Ok(MessageSummary {
        id: row.get("id")?,
        direction: if direction == "outbound" { Direction::Outbound } else { Direction::Inbound },
        transport: row.get("transport")?,
        state: MessageState::parse(&state).unwrap_or(MessageState::Failed),
        partner: row.get("partner")?,
        standard: row.get("standard")?,
        document_type: row.get("document_type")?,
        interchange_control_number: row.get("interchange_control_number")?,
        correlation_id: row.get("correlation_id")?,
        received_at: row.get("received_at")?,
        updated_at: row.get("updated_at")?,
        documents: row.get("documents")?,
    })
}

const SUMMARY_COLUMNS: &str = "m.id, m.direction, m.transport, m.state, m.partner, m.standard, m.document_type,
    m.interchange_control_number, m.correlation_id, m.received_at, m.updated_at,
    (SELECT COUNT(*) FROM documents d WHERE d.message_id = m.id) AS documents";

impl Store for SqliteStore {
    fn accept(&self, message: NewMessage) -> oneshot::Receiver<Result<Accepted>> {
        let sha256 = hex::encode(Sha256::digest(&message.raw));
        let id = new_id();
        // One INSERT: see `submit_one_statement_for_sender`.
        self.submit_one_statement_for_sender(move |conn| {
            let now = now_millis();
            insert_message(conn, &id, &message, &sha256, now)?;
            Ok(Accepted { message_id: id, correlation_id: message.correlation_id })
        })
    }

    fn received(&self, limit: usize) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare_cached("SELECT id FROM messages WHERE state = 'received' ORDER BY id LIMIT ?1")?;
            let ids = stmt.query_map([limit as i64], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(ids)
        })
    }

    fn pending(&self, id: &str) -> Result<Option<Pending>> {
        self.read(|conn| {
            let row = conn
                .query_row(
                    "SELECT id, direction, transport, raw, correlation_id, partner, content, replays
                     FROM messages WHERE id = ?1 AND state = 'received'",
                    [id],
                    |r| {
                        let direction: String = r.get(1)?;
                        let content: String = r.get(6)?;
                        Ok(Pending {
                            id: r.get(0)?,
                            direction: if direction == "outbound" { Direction::Outbound } else { Direction::Inbound },
                            transport: r.get(2)?,
                            raw: r.get::<_, Option<Vec<u8>>>(3)?.unwrap_or_default(),
                            correlation_id: r.get(4)?,
                            partner: r.get(5)?,
                            content: if content == "json" { Content::Json } else { Content::Edi },
                            replays: r.get(7)?,
                        })
                    },
                )
                .optional()?;
            Ok(row)
        })
    }

    fn seen(&self, interchange: &SeenInterchange, since: Millis, excluding: &str) -> Result<Option<String>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT message_id FROM seen_interchanges
                     WHERE partner = ?1 AND sender = ?2 AND control_number = ?3 AND seen_at >= ?4 AND message_id != ?5",
                    params![interchange.partner, interchange.sender, interchange.control_number, since, excluding],
                    |r| r.get(0),
                )
                .optional()?)
        })
    }

    fn reserve(&self, partner: &str, interchanges: u64, groups: u64, sets: u64) -> Result<Reservation> {
        let counts = [interchanges, groups, sets];
        let mut blocks =
            self.blocks.lock().map_err(|_| StoreError::Database("the control number blocks are poisoned".into()))?;
        if let Some(reservation) = blocks.get_mut(partner).and_then(|b| b.take(counts)) {
            return Ok(reservation);
        }
        let sizes = counts.map(|n| n.max(CONTROL_NUMBER_BLOCK));
        let first = self.reserve_block(partner, sizes)?;
        let firsts = [first.interchange, first.group, first.transaction_set];
        let mut block = Block { ranges: [0, 1, 2].map(|k| (firsts[k], firsts[k] + sizes[k] - 1)) };
        let reservation = block
            .take(counts)
            .ok_or_else(|| StoreError::Database("a fresh control number block is too small".into()))?;
        blocks.insert(partner.to_owned(), block);
        Ok(reservation)
    }

    fn complete(&self, processed: Processed, then: Box<dyn FnOnce(Result<()>) + Send>) {
        self.submit_then(
            move |conn| {
                let id = processed.id.as_str();
                let existing: Option<String> =
                    one(conn, "SELECT state FROM messages WHERE id = ?1", [id], |r| r.get(0)).optional()?;
                match existing.as_deref() {
                    None => return Err(StoreError::NotFound(id.to_owned())),
                    Some("received") => {
                        // The accept path writes no history (the sender is waiting): the entry for
                        // its arrival is written now, at the time it arrived.
                        exec(
                            conn,
                            "INSERT INTO history (message_id, document_id, at, state, detail)
                         SELECT id, NULL, received_at, 'received', size || ' bytes over ' || transport
                         FROM messages WHERE id = ?1 AND replays = 0",
                            [id],
                        )?;
                    }
                    Some(other) => {
                        return Err(StoreError::Conflict(format!("message {id} was already processed (it is {other})")))
                    }
                }
                let state = if processed.state == MessageState::Translated && processed.documents.is_empty() {
                    // Nothing to deliver (only acknowledgments, say): done.
                    MessageState::Delivered
                } else {
                    processed.state
                };
                // The outcome and the new state in one update of the row (it was `received`).
                exec(
                    conn,
                    "UPDATE messages SET partner = COALESCE(?2, partner), standard = ?3, document_type = ?4,
                     interchange_control_number = ?5, sender = ?6, receiver = ?7, errors = ?8, rendered = ?9,
                     updated_at = ?10, state = ?11
                 WHERE id = ?1",
                    params![
                        id,
                        processed.partner,
                        processed.standard,
                        processed.document_type,
                        processed.interchange_control_number,
                        processed.sender,
                        processed.receiver,
                        serde_json::to_string(&processed.errors).unwrap_or_else(|_| "[]".into()),
                        processed.rendered,
                        now_millis(),
                        state.as_str(),
                    ],
                )?;
                let now = now_millis();
                for (seq, document) in processed.documents.iter().enumerate() {
                    exec(conn,
                    "INSERT INTO documents (id, message_id, seq, document_type, reference, transaction_control_number,
                         canonical, duplicate, state, next_attempt_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9)",
                    params![
                        new_id(),
                        id,
                        seq as i64,
                        document.document_type,
                        document.reference,
                        document.transaction_control_number,
                        document.canonical,
                        document.duplicate,
                        now,
                    ],
                )?;
                }
                for ack in &processed.acknowledgments {
                    let ack_id = new_id();
                    exec(conn,
                    "INSERT INTO acknowledgments (id, message_id, recipient, kind, result, payload, state, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)",
                    params![ack_id, id, ack.to, ack.kind, ack.result, ack.payload, now],
                )?;
                    if ack.send {
                        exec(
                            conn,
                            "INSERT INTO transmissions (id, message_id, acknowledgment_id, partner, state, next_attempt_at, updated_at)
                             VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
                            params![new_id(), id, ack_id, ack.to, now],
                        )?;
                    }
                }
                if processed.state == MessageState::Rendered {
                    if let (Some(partner), Some(_)) = (&processed.partner, &processed.rendered) {
                        exec(
                            conn,
                            "INSERT INTO transmissions (id, message_id, partner, state, next_attempt_at, updated_at)
                             VALUES (?1, ?2, ?3, 'pending', ?4, ?4)",
                            params![new_id(), id, partner, now],
                        )?;
                    }
                }
                if let Some(group) = &processed.group_control_number {
                    exec(conn, "UPDATE messages SET group_control_number = ?2 WHERE id = ?1", params![id, group])?;
                }
                for ack in &processed.received_acks {
                    reconcile(conn, id, processed.partner.as_deref(), ack)?;
                }
                for seen in &processed.seen {
                    exec(
                        conn,
                        "INSERT INTO seen_interchanges (partner, sender, control_number, message_id, seen_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (partner, sender, control_number) DO UPDATE SET message_id = ?4, seen_at = ?5",
                        params![seen.partner, seen.sender, seen.control_number, id, now],
                    )?;
                }
                history(conn, id, None, state.as_str(), &processed.detail)
            },
            then,
        );
    }

    fn due(&self, now: Millis, limit: usize, skip: &std::collections::HashSet<String>) -> Result<Vec<DueDocument>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT d.id, d.message_id, m.partner, d.canonical, m.correlation_id, d.attempts
                 FROM documents d JOIN messages m ON m.id = d.message_id
                 WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
                 ORDER BY d.next_attempt_at, d.id LIMIT ?2",
            )?;
            let mut rows = stmt.query(params![now, (limit + skip.len()) as i64])?;
            let mut due = Vec::new();
            while let Some(r) = rows.next()? {
                if due.len() == limit {
                    break;
                }
                // Those being delivered are skipped before their JSON is read: that was most
                // of the cost of a read made each time a delivery ends.
                let id: String = r.get(0)?;
                if skip.contains(&id) {
                    continue;
                }
                due.push(DueDocument {
                    id,
                    message_id: r.get(1)?,
                    partner: r.get(2)?,
                    canonical: r.get(3)?,
                    correlation_id: r.get(4)?,
                    attempts: r.get(5)?,
                });
            }
            Ok(due)
        })
    }

    fn record_attempt(&self, attempt: Attempt) -> oneshot::Receiver<Result<()>> {
        self.submit(move |conn| {
            let (message, partner, state): (String, Option<String>, String) = one(conn,
                "SELECT d.message_id, m.partner, d.state FROM documents d JOIN messages m ON m.id = d.message_id
                 WHERE d.id = ?1",
                [&attempt.document_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            exec(conn,
                "INSERT INTO attempts (document_id, at, duration_ms, status, outcome, detail, target)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    attempt.document_id,
                    attempt.started_at,
                    attempt.duration_ms,
                    attempt.status,
                    attempt.outcome.as_str(),
                    attempt.detail,
                    attempt.target,
                ],
            )?;
            if state != "pending" {
                // Replayed or delivered meanwhile: the attempt is history, the state stands.
                return Ok(());
            }
            let now = now_millis();
            match &attempt.outcome {
                AttemptOutcome::Delivered => {
                    exec(conn,
                        "UPDATE documents SET state = 'delivered', attempts = attempts + 1, delivered_at = ?2,
                             next_attempt_at = NULL WHERE id = ?1",
                        params![attempt.document_id, now],
                    )?;
                    history(conn, &message, Some(&attempt.document_id), "delivered", &attempt.target)?;
                }
                AttemptOutcome::Retry { at } => {
                    exec(conn,
                        "UPDATE documents SET attempts = attempts + 1, next_attempt_at = ?2 WHERE id = ?1",
                        params![attempt.document_id, at],
                    )?;
                }
                AttemptOutcome::DeadLettered => {
                    exec(conn,
                        "UPDATE documents SET state = 'dead_lettered', attempts = attempts + 1, next_attempt_at = NULL
                         WHERE id = ?1",
                        params![attempt.document_id],
                    )?;
                    exec(conn,
                        "INSERT INTO dead_letters (document_id, partner, at, status, response) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (document_id) DO UPDATE SET at = ?3, status = ?4, response = ?5",
                        params![attempt.document_id, partner, now, attempt.status, attempt.detail],
                    )?;
                    history(conn, &message, Some(&attempt.document_id), "dead_lettered", &attempt.detail)?;
                }
            }
            let derived = derive_state(conn, &message)?;
            set_state(conn, &message, derived, "all documents settled")
        })
    }

    fn replay(&self, id: &str) -> Result<Replayed> {
        let id = id.to_owned();
        self.write(move |conn| {
            let row: Option<(String, bool)> = conn
                .query_row("SELECT state, raw IS NOT NULL FROM messages WHERE id = ?1", [&id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let Some((state, has_raw)) = row else { return Err(StoreError::NotFound(id)) };
            let documents: i64 =
                one(conn, "SELECT COUNT(*) FROM documents WHERE message_id = ?1", [&id], |r| r.get(0))?;
            let now = now_millis();
            if documents == 0 && matches!(state.as_str(), "rejected" | "failed" | "duplicate") {
                if !has_raw {
                    return Err(StoreError::Conflict(format!(
                        "message {id} cannot be processed again: its raw bytes were purged (retention)"
                    )));
                }
                exec(
                    conn,
                    "UPDATE messages SET state = 'received', replays = replays + 1, errors = '[]', updated_at = ?2
                     WHERE id = ?1",
                    params![id, now],
                )?;
                history(conn, &id, None, "received", "replayed: processing again from the raw bytes")?;
                return Ok(Replayed { message_id: id, action: "reprocess", documents: 0 });
            }
            let requeued = exec(
                conn,
                "UPDATE documents SET state = 'pending', attempts = 0, next_attempt_at = ?2
                 WHERE message_id = ?1 AND state IN ('dead_lettered', 'pending')",
                params![id, now],
            )?;
            if requeued == 0 {
                return Err(StoreError::Conflict(format!(
                    "message {id} is {state}: there is nothing to replay (only failed, rejected, duplicate or \
                     dead-lettered messages are)"
                )));
            }
            exec(
                conn,
                "DELETE FROM dead_letters WHERE document_id IN (SELECT id FROM documents WHERE message_id = ?1)",
                [&id],
            )?;
            history(conn, &id, None, "replayed", &format!("{requeued} document(s) queued for delivery again"))?;
            set_state(conn, &id, MessageState::Translated, "replayed")?;
            Ok(Replayed { message_id: id, action: "redeliver", documents: requeued as i64 })
        })
    }

    fn search(&self, filter: &Filter) -> Result<Vec<MessageSummary>> {
        self.read(|conn| {
            let mut sql = format!("SELECT {SUMMARY_COLUMNS} FROM messages m WHERE 1 = 1");
            let mut args: Vec<rusqlite::types::Value> = Vec::new();
            // `$` in a clause stands for its one argument, however often it appears.
            let mut arg = |sql: &mut String, clause: &str, value: String| {
                args.push(value.into());
                sql.push_str(&clause.replace('$', &format!("?{}", args.len())));
            };
            if let Some(partner) = &filter.partner {
                arg(&mut sql, " AND m.partner = $", partner.clone());
            }
            if let Some(state) = filter.state {
                arg(&mut sql, " AND m.state = $", state.as_str().to_owned());
            }
            if let Some(kind) = &filter.document_type {
                arg(
                    &mut sql,
                    " AND (m.document_type = $ OR EXISTS (SELECT 1 FROM documents d WHERE d.message_id = m.id AND d.document_type = $))",
                    kind.clone(),
                );
            }
            if let Some(reference) = &filter.reference {
                arg(
                    &mut sql,
                    " AND (m.interchange_control_number = $ OR m.correlation_id = $ OR EXISTS (SELECT 1 FROM documents d WHERE d.message_id = m.id AND (d.reference = $ OR d.transaction_control_number = $)))",
                    reference.clone(),
                );
            }
            if let Some(before) = &filter.before {
                arg(&mut sql, " AND m.id < $", before.clone());
            }
            sql.push_str(&format!(" ORDER BY m.id DESC LIMIT {}", filter.limit.clamp(1, 1000)));
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args), summary)?.collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
    }

    fn message(&self, id: &str) -> Result<Option<MessageDetail>> {
        self.read(|conn| {
            let row = conn
                .query_row(
                    &format!(
                        "SELECT {SUMMARY_COLUMNS}, m.sha256, m.size, m.raw, m.raw_purged_at, m.errors, m.rendered
                         FROM messages m WHERE m.id = ?1"
                    ),
                    [id],
                    |r| {
                        Ok((
                            summary(r)?,
                            r.get::<_, String>("sha256")?,
                            r.get::<_, i64>("size")?,
                            r.get::<_, Option<Vec<u8>>>("raw")?,
                            r.get::<_, Option<i64>>("raw_purged_at")?,
                            r.get::<_, String>("errors")?,
                            r.get::<_, Option<Vec<u8>>>("rendered")?,
                        ))
                    },
                )
                .optional()?;
            let Some((summary, sha256, size, raw, purged, errors, rendered)) = row else { return Ok(None) };
            let mut stmt = conn.prepare_cached(
                "SELECT id, document_type, reference, transaction_control_number, state, attempts, duplicate, canonical
                 FROM documents WHERE message_id = ?1 ORDER BY seq",
            )?;
            let documents = stmt
                .query_map([id], |r| {
                    let canonical: String = r.get(7)?;
                    Ok(DocumentEntry {
                        id: r.get(0)?,
                        document_type: r.get(1)?,
                        reference: r.get(2)?,
                        transaction_control_number: r.get(3)?,
                        state: r.get(4)?,
                        attempts: r.get(5)?,
                        duplicate: r.get(6)?,
                        canonical: serde_json::from_str(&canonical).unwrap_or(serde_json::Value::String(canonical)),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut stmt = conn
                .prepare_cached("SELECT at, state, detail, document_id FROM history WHERE message_id = ?1 ORDER BY rowid")?;
            let history = stmt
                .query_map([id], |r| {
                    Ok(HistoryEntry { at: r.get(0)?, state: r.get(1)?, detail: r.get(2)?, document_id: r.get(3)? })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut stmt = conn.prepare_cached(
                "SELECT a.document_id, a.at, a.duration_ms, a.status, a.outcome, a.detail, a.target
                 FROM attempts a JOIN documents d ON d.id = a.document_id WHERE d.message_id = ?1 ORDER BY a.rowid",
            )?;
            let attempts = stmt
                .query_map([id], |r| {
                    Ok(AttemptEntry {
                        document_id: r.get(0)?,
                        at: r.get(1)?,
                        duration_ms: r.get(2)?,
                        status: r.get(3)?,
                        outcome: r.get(4)?,
                        detail: r.get(5)?,
                        target: r.get(6)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut stmt = conn.prepare_cached(
                "SELECT id, recipient, kind, result, state, payload FROM acknowledgments WHERE message_id = ?1 ORDER BY created_at",
            )?;
            let acknowledgments = stmt
                .query_map([id], |r| {
                    let payload: Vec<u8> = r.get(5)?;
                    Ok(AcknowledgmentEntry {
                        id: r.get(0)?,
                        to: r.get(1)?,
                        kind: r.get(2)?,
                        result: r.get(3)?,
                        state: r.get(4)?,
                        payload: String::from_utf8_lossy(&payload).into_owned(),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut stmt = conn.prepare_cached(
                "SELECT id, acknowledgment_id, partner, state, attempts, transport, as2_message_id, detail
                 FROM transmissions WHERE message_id = ?1 ORDER BY id",
            )?;
            let transmissions = stmt
                .query_map([id], |r| {
                    Ok(TransmissionEntry {
                        id: r.get(0)?,
                        acknowledgment_id: r.get(1)?,
                        partner: r.get(2)?,
                        state: r.get(3)?,
                        attempts: r.get(4)?,
                        transport: r.get(5)?,
                        as2_message_id: r.get(6)?,
                        detail: r.get(7)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let acknowledgment: Option<AckState> = conn
                .prepare_cached("SELECT ack_status, ack_detail, ack_due_at FROM messages WHERE id = ?1")?
                .query_row([id], |r| {
                    let (status, detail, due_at): (Option<String>, Option<String>, Option<Millis>) =
                        (r.get(0)?, r.get(1)?, r.get(2)?);
                    Ok(match (status, due_at) {
                        (Some(status), _) => Some(AckState { status, detail, due_at }),
                        (None, Some(due)) => Some(AckState {
                            status: if due <= now_millis() { "overdue" } else { "awaiting" }.into(),
                            detail,
                            due_at,
                        }),
                        (None, None) => None,
                    })
                })?;
            Ok(Some(MessageDetail {
                acknowledgment,
                transmissions,
                summary,
                sha256,
                size,
                raw: raw.map(|r| String::from_utf8_lossy(&r).into_owned()),
                raw_purged: purged.is_some(),
                errors: serde_json::from_str(&errors).unwrap_or_default(),
                documents,
                history,
                attempts,
                acknowledgments,
                rendered: rendered.map(|r| String::from_utf8_lossy(&r).into_owned()),
            }))
        })
    }

    fn queue_depth(&self) -> Result<Vec<(String, i64)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT state, COUNT(*) FROM messages GROUP BY state")?;
            let mut rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<Vec<(String, i64)>>>()?;
            let pending: i64 = one(conn, "SELECT COUNT(*) FROM documents WHERE state = 'pending'", [], |r| r.get(0))?;
            rows.push(("pending_delivery".into(), pending));
            Ok(rows)
        })
    }

    fn dead_letters(&self) -> Result<Vec<(String, i64)>> {
        self.partner_counts("SELECT COALESCE(partner, 'unknown'), COUNT(*) FROM dead_letters GROUP BY 1", [])
    }

    fn purge(&self, before: Millis) -> Result<usize> {
        self.write(move |conn| {
            Ok(exec(
                conn,
                "UPDATE messages SET raw = NULL, raw_purged_at = ?2
                 WHERE raw IS NOT NULL AND received_at < ?1
                   AND state IN ('delivered', 'rejected', 'duplicate', 'dead_lettered', 'sent')",
                params![before, now_millis()],
            )?)
        })
    }

    fn ping(&self) -> Result<()> {
        self.read(|conn| Ok(one(conn, "SELECT 1", [], |r| r.get::<_, i64>(0)).map(|_| ())?))
    }

    fn accept_as2(&self, message: NewMessage, receipt: NewReceipt) -> oneshot::Receiver<Result<Accepted>> {
        let sha256 = hex::encode(Sha256::digest(&message.raw));
        let id = new_id();
        self.submit_for_sender(move |conn| {
            let now = now_millis();
            insert_message(conn, &id, &message, &sha256, now)?;
            insert_receipt(conn, &receipt, Some(&id), now)?;
            Ok(Accepted { message_id: id, correlation_id: message.correlation_id })
        })
    }

    fn overdue_acknowledgments(&self, now: Millis) -> Result<Vec<(String, i64)>> {
        self.partner_counts(
            "SELECT COALESCE(partner, ''), COUNT(*) FROM messages
             WHERE ack_due_at IS NOT NULL AND ack_status IS NULL AND ack_due_at <= ?1 GROUP BY 1",
            [now],
        )
    }

    fn accept_outbound(
        &self,
        message: NewMessage,
        idempotency_key: Option<String>,
    ) -> oneshot::Receiver<Result<(Accepted, bool)>> {
        let sha256 = hex::encode(Sha256::digest(&message.raw));
        let id = new_id();
        self.submit_for_sender(move |conn| {
            if let Some(key) = &idempotency_key {
                let earlier: Option<(String, String, String)> = one(
                    conn,
                    "SELECT r.message_id, r.sha256, m.correlation_id FROM outbound_requests r
                     JOIN messages m ON m.id = r.message_id WHERE r.idempotency_key = ?1",
                    [key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
                if let Some((message_id, earlier_sha, correlation_id)) = earlier {
                    if earlier_sha != sha256 {
                        return Err(StoreError::Conflict(format!(
                            "Idempotency-Key {key:?} was used for another document (message {message_id})"
                        )));
                    }
                    return Ok((Accepted { message_id, correlation_id }, true));
                }
            }
            let now = now_millis();
            insert_message(conn, &id, &message, &sha256, now)?;
            if let Some(key) = &idempotency_key {
                exec(
                    conn,
                    "INSERT INTO outbound_requests (idempotency_key, message_id, sha256, at) VALUES (?1, ?2, ?3, ?4)",
                    params![key, id, sha256, now],
                )?;
            }
            Ok((Accepted { message_id: id, correlation_id: message.correlation_id }, false))
        })
    }

    fn accept_file(&self, message: NewMessage, name: &str, sha256: String) -> oneshot::Receiver<Result<Accepted>> {
        let id = new_id();
        let name = name.to_owned();
        self.submit_for_sender(move |conn| {
            let now = now_millis();
            insert_message(conn, &id, &message, &sha256, now)?;
            exec(
                conn,
                "INSERT INTO sftp_files (partner, name, sha256, message_id, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![message.partner, name, sha256, id, now],
            )?;
            Ok(Accepted { message_id: id, correlation_id: message.correlation_id })
        })
    }

    fn file_taken(&self, partner: &str, name: &str, sha256: &str) -> Result<Option<String>> {
        self.read(|conn| {
            let id = conn
                .prepare_cached("SELECT message_id FROM sftp_files WHERE partner = ?1 AND name = ?2 AND sha256 = ?3")?
                .query_row([partner, name, sha256], |r| r.get(0))
                .optional()?;
            Ok(id)
        })
    }

    fn record_receipt(&self, receipt: NewReceipt) -> oneshot::Receiver<Result<()>> {
        self.submit_for_sender(move |conn| insert_receipt(conn, &receipt, None, now_millis()))
    }

    fn processed_receipt(&self, as2_from: &str, as2_message_id: &str) -> Result<Option<StoredMdn>> {
        self.read(|conn| {
            let row: Option<(Option<String>, Option<Vec<u8>>)> = conn
                .prepare_cached(
                    "SELECT mdn_headers, mdn FROM as2_receipts
                     WHERE as2_from = ?1 AND as2_message_id = ?2 AND disposition = 'processed'
                     ORDER BY at DESC LIMIT 1",
                )?
                .query_row([as2_from, as2_message_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            Ok(row.map(|(headers, body)| stored_mdn(headers, body)))
        })
    }

    fn owed_mdn_counts(&self, since: Millis) -> Result<Vec<(String, i64)>> {
        self.partner_counts(
            "SELECT COALESCE(partner, 'unknown'), COUNT(*) FROM as2_receipts
             WHERE mdn_url IS NOT NULL AND mdn_sent_at IS NULL AND at >= ?1 GROUP BY 1",
            [since],
        )
    }

    fn owed_mdns(&self, after: OwedMdnKey, until: Millis, limit: usize) -> Result<Vec<OwedMdn>> {
        self.read(|conn| {
            // The owed-MDN index is on `at`, and holds the rowid: this walks it in key order.
            let mut stmt = conn.prepare_cached(
                "SELECT as2_from, as2_message_id, disposition, partner, mdn_url, mdn_headers, mdn, at, rowid
                 FROM as2_receipts
                 WHERE mdn_url IS NOT NULL AND mdn_sent_at IS NULL AND (at, rowid) > (?1, ?2) AND at <= ?3
                 ORDER BY at, rowid LIMIT ?4",
            )?;
            let owed = stmt
                .query_map(params![after.at, after.row, until, limit as i64], |r| {
                    Ok(OwedMdn {
                        key: OwedMdnKey { at: r.get(7)?, row: r.get(8)? },
                        as2_from: r.get(0)?,
                        as2_message_id: r.get(1)?,
                        disposition: r.get(2)?,
                        partner: r.get(3)?,
                        url: r.get(4)?,
                        mdn: stored_mdn(r.get(5)?, r.get(6)?),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(owed)
        })
    }

    fn mdn_sent(&self, as2_from: &str, as2_message_id: &str, disposition: &str) -> oneshot::Receiver<Result<()>> {
        let (from, id, disposition) = (as2_from.to_owned(), as2_message_id.to_owned(), disposition.to_owned());
        self.submit(move |conn| {
            exec(
                conn,
                "UPDATE as2_receipts SET mdn_sent_at = ?4
                 WHERE as2_from = ?1 AND as2_message_id = ?2 AND disposition = ?3
                   AND mdn_url IS NOT NULL AND mdn_sent_at IS NULL",
                params![from, id, disposition, now_millis()],
            )?;
            Ok(())
        })
    }

    fn sendable(&self, now: Millis, limit: usize) -> Result<Vec<Sendable>> {
        // MDNs overdue: the sends they answer have failed.
        let overdue: Vec<String> = self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id FROM transmissions WHERE state = 'awaiting_mdn' AND mdn_deadline <= ?1 LIMIT 100",
            )?;
            let ids = stmt.query_map([now], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(ids)
        })?;
        for id in overdue {
            let attempt = SendAttempt {
                ack_due_at: None,
                transmission_id: id,
                transport: "as2".into(),
                outcome: SendOutcome::Failed,
                detail: "no MDN arrived before the deadline".into(),
                as2_message_id: None,
                mic: None,
                mdn: None,
            };
            self.write(move |conn| write_send(conn, &attempt))?;
        }
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT t.id, t.message_id, t.acknowledgment_id, t.partner, t.attempts, m.correlation_id,
                        CASE WHEN t.acknowledgment_id IS NULL THEN m.rendered ELSE a.payload END
                 FROM transmissions t JOIN messages m ON m.id = t.message_id
                 LEFT JOIN acknowledgments a ON a.id = t.acknowledgment_id
                 WHERE t.state = 'pending' AND t.next_attempt_at <= ?1
                 ORDER BY t.next_attempt_at, t.id LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![now, limit as i64], |r| {
                    Ok(Sendable {
                        id: r.get(0)?,
                        message_id: r.get(1)?,
                        acknowledgment_id: r.get(2)?,
                        partner: r.get(3)?,
                        attempts: r.get(4)?,
                        correlation_id: r.get(5)?,
                        payload: r.get::<_, Option<Vec<u8>>>(6)?.unwrap_or_default(),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }

    fn record_send(&self, attempt: SendAttempt) -> oneshot::Receiver<Result<()>> {
        self.submit(move |conn| write_send(conn, &attempt))
    }

    fn awaited_mdn(&self, as2_message_id: &str) -> Result<Option<AwaitedMdn>> {
        self.read(|conn| {
            let row = conn
                .prepare_cached(
                    "SELECT id, message_id, partner, mic, mic_alg FROM transmissions
                     WHERE as2_message_id = ?1 AND state = 'awaiting_mdn'",
                )?
                .query_row([as2_message_id], |r| {
                    let mic: Option<String> = r.get(3)?;
                    let alg: Option<String> = r.get(4)?;
                    Ok(AwaitedMdn {
                        transmission_id: r.get(0)?,
                        message_id: r.get(1)?,
                        partner: r.get(2)?,
                        mic: mic.zip(alg),
                    })
                })
                .optional()?;
            Ok(row)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn message(raw: &str) -> NewMessage {
        NewMessage {
            direction: Direction::Inbound,
            transport: "http".into(),
            raw: raw.as_bytes().to_vec(),
            correlation_id: "c-1".into(),
            partner: None,
            content: Content::Edi,
        }
    }

    /// A writer's queue holding `writes` of work, each saying so in `ran` when run.
    fn work_waiting(writes: usize, ran: &Arc<Mutex<Vec<&'static str>>>) -> Waiting {
        let mut waiting = Waiting::default();
        for _ in 0..writes {
            waiting.push(labelled(Lane::Work, "work", ran));
        }
        waiting
    }

    /// Ops that say which they are when run.
    fn labelled(lane: Lane, label: &'static str, ran: &Arc<Mutex<Vec<&'static str>>>) -> (Lane, Op) {
        let ran = Arc::clone(ran);
        let op: Op = Box::new(move |_: &Connection| {
            ran.lock().unwrap().push(label);
            Box::new(|_| {}) as Completion
        });
        (lane, op)
    }

    #[test]
    fn a_failed_write_undoes_only_itself_with_or_without_a_savepoint() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER NOT NULL); BEGIN").unwrap();
        let results = Arc::new(Mutex::new(Vec::new()));
        let then = |label: &'static str| {
            let results = Arc::clone(&results);
            move |r: Result<()>| results.lock().unwrap().push((label, r.is_ok()))
        };
        let insert = |sql: &'static str| move |conn: &Connection| Ok(exec(conn, sql, []).map(|_| ())?);
        let completions = [
            in_savepoint(&conn, insert("INSERT INTO t VALUES (1)"), then("first")),
            // Two statements, the second fails: the savepoint undoes the first as well.
            in_savepoint(
                &conn,
                |conn: &Connection| {
                    exec(conn, "INSERT INTO t VALUES (2)", [])?;
                    Ok(exec(conn, "INSERT INTO t VALUES (NULL)", []).map(|_| ())?)
                },
                then("two statements"),
            ),
            as_one_statement(&conn, insert("INSERT INTO t VALUES (NULL)"), then("one statement")),
            as_one_statement(&conn, insert("INSERT INTO t VALUES (3)"), then("last")),
        ];
        conn.execute_batch("COMMIT").unwrap();
        for completion in completions {
            completion(Ok(()));
        }
        let mut select = conn.prepare("SELECT x FROM t").unwrap();
        let rows: Vec<i64> = select.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(rows, [1, 3]);
        assert_eq!(
            *results.lock().unwrap(),
            [("first", true), ("two statements", false), ("one statement", false), ("last", true)]
        );
    }

    #[test]
    fn owed_mdns_page_in_key_order_even_within_one_millisecond() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db.sqlite")).unwrap();
        // Two and a half pages recorded in the same millisecond, and one a millisecond later.
        for n in 0..251 {
            let receipt = NewReceipt {
                as2_from: "PARTNER".into(),
                as2_message_id: format!("<m{n}@partner>"),
                partner: Some("partner".into()),
                disposition: "processed".into(),
                detail: String::new(),
                mdn: Some(StoredMdn::default()),
                raw: None,
                mdn_url: Some("http://partner.example/mdn".into()),
            };
            let at = if n < 250 { 1_000 } else { 1_001 };
            store.write(move |conn| insert_receipt(conn, &receipt, None, at)).unwrap();
        }
        let mut read = Vec::new();
        let mut after = OwedMdnKey::since(1_000);
        // Three pages and an empty one; a page that came again would use up the rest.
        for _ in 0..10 {
            let page = store.owed_mdns(after, 1_001, 100).unwrap();
            let Some(last) = page.last() else { break };
            after = last.key;
            read.extend(page.into_iter().map(|m| m.as2_message_id));
        }
        assert_eq!(read, (0..251).map(|n| format!("<m{n}@partner>")).collect::<Vec<_>>());
        // `until` is inclusive, `since` too.
        assert_eq!(store.owed_mdns(OwedMdnKey::since(1_001), 1_001, 100).unwrap().len(), 1);
        assert_eq!(store.owed_mdns(OwedMdnKey::since(0), 1_000, 1_000).unwrap().len(), 250);
    }

    #[test]
    fn the_checkpointer_copies_the_wal_into_the_database_while_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let store = SqliteStore::open(&path).unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        let before = size();
        // About 500 pages of bodies: far below the WAL size at which the writer checkpoints
        // itself, so only the checkpointer can have put them in the database file.
        let body = "X".repeat(8000);
        let receivers: Vec<_> = (0..250).map(|_| store.accept(message(&body))).collect();
        for r in receivers {
            r.blocking_recv().unwrap().unwrap();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while size() < before + 250 * 8000 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(size() >= before + 250 * 8000, "the database file is {} bytes, was {before}", size());
    }

    #[test]
    fn a_wal_grown_while_a_reader_held_it_is_cut_back_once_checkpointed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let store = SqliteStore::open(&path).unwrap();
        let wal_size = || std::fs::metadata(dir.path().join("db.sqlite-wal")).map_or(0, |m| m.len());
        // A reader in a transaction keeps every frame after its snapshot in the WAL.
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN; SELECT COUNT(*) FROM messages;").unwrap();
        let body = "X".repeat(64 * 1024);
        let grown_past = WAL_BYTES_KEPT as u64 + 8 * 1024 * 1024;
        for round in 0.. {
            if wal_size() >= grown_past {
                break;
            }
            // 4 MiB a round: the WAL should pass its limit in about 34.
            assert!(round < 60, "the WAL stays at {} bytes behind an open reader", wal_size());
            let receivers: Vec<_> = (0..64).map(|_| store.accept(message(&body))).collect();
            for r in receivers {
                r.blocking_recv().unwrap().unwrap();
            }
        }
        reader.execute_batch("COMMIT").unwrap();
        drop(reader);
        // Once the checkpointer has copied the WAL, the next commit starts it over and cuts
        // the file back.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while wal_size() > WAL_BYTES_KEPT as u64 && std::time::Instant::now() < deadline {
            store.accept(message("one more")).blocking_recv().unwrap().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(wal_size() <= WAL_BYTES_KEPT as u64, "the WAL is still {} bytes", wal_size());
    }

    #[test]
    fn senders_go_first_and_work_takes_a_share_while_they_wait_and_just_after() {
        let conn = Connection::open_in_memory().unwrap();
        let ran = Arc::new(Mutex::new(Vec::new()));
        let mut waiting = work_waiting(20, &ran);
        let start = std::time::Instant::now();
        for _ in 0..3 {
            waiting.push(labelled(Lane::Sender, "sender", &ran));
        }
        let run = |group: Vec<Op>| {
            for op in group {
                let _ = op(&conn);
            }
        };
        // Senders waiting: all of them, ahead of the work queued before them, and only a share
        // of the work.
        run(waiting.next_group(start));
        let first: Vec<_> = ran.lock().unwrap().drain(..).collect();
        assert_eq!(first[..3], ["sender"; 3]);
        assert_eq!(first.len(), 3 + WORK_PER_GROUP_UNDER_LOAD);
        // No sender waiting, but senders wrote a moment ago: still only a share.
        run(waiting.next_group(start + UNDER_LOAD_FOR / 2));
        assert_eq!(ran.lock().unwrap().drain(..).count(), WORK_PER_GROUP_UNDER_LOAD);
        // Quiet since: the rest of the work, in the order it came.
        run(waiting.next_group(start + UNDER_LOAD_FOR));
        assert_eq!(ran.lock().unwrap().len(), 20 - 2 * WORK_PER_GROUP_UNDER_LOAD);
        assert_eq!(waiting.len(), 0);
    }

    #[test]
    fn while_senders_keep_the_writer_busy_work_takes_one_write_now_and_then() {
        let conn = Connection::open_in_memory().unwrap();
        let ran = Arc::new(Mutex::new(Vec::new()));
        let mut waiting = work_waiting(10, &ran);
        let start = std::time::Instant::now();
        let group_at = |waiting: &mut Waiting, senders: usize, after: std::time::Duration| {
            for _ in 0..senders {
                waiting.push(labelled(Lane::Sender, "sender", &ran));
            }
            for op in waiting.next_group(start + after) {
                let _ = op(&conn);
            }
            let ran: Vec<_> = ran.lock().unwrap().drain(..).collect();
            (ran.iter().filter(|r| **r == "sender").count(), ran.iter().filter(|r| **r == "work").count())
        };
        let ms = std::time::Duration::from_millis;
        // A busy transaction: every sender, and one write of work, none having been taken yet.
        assert_eq!(group_at(&mut waiting, BUSY_FROM, ms(0)), (BUSY_FROM, 1));
        // Busy still: no work until its pace allows, with or without senders in the group.
        assert_eq!(group_at(&mut waiting, BUSY_FROM, ms(1)), (BUSY_FROM, 0));
        assert_eq!(group_at(&mut waiting, 0, ms(2)), (0, 0));
        assert_eq!(group_at(&mut waiting, BUSY_FROM, WORK_EVERY_WHEN_BUSY), (BUSY_FROM, 1));
        // Few senders since the last busy transaction, long enough ago: a share per transaction.
        let later = WORK_EVERY_WHEN_BUSY + UNDER_LOAD_FOR;
        assert_eq!(group_at(&mut waiting, 1, later), (1, WORK_PER_GROUP_UNDER_LOAD));
        assert_eq!(group_at(&mut waiting, 1, later + ms(1)), (1, WORK_PER_GROUP_UNDER_LOAD));
        // Quiet: the rest.
        assert_eq!(
            group_at(&mut waiting, 0, later + ms(1) + UNDER_LOAD_FOR),
            (0, 10 - 2 - 2 * WORK_PER_GROUP_UNDER_LOAD)
        );
        assert_eq!(waiting.len(), 0);
    }

    fn complete(store: &SqliteStore, processed: Processed) {
        let (tx, rx) = std::sync::mpsc::channel();
        store.complete(processed, Box::new(move |r| tx.send(r).unwrap()));
        rx.recv().unwrap().unwrap();
    }

    fn processed(id: &str, documents: usize) -> Processed {
        Processed {
            id: id.to_owned(),
            state: MessageState::Translated,
            partner: Some("acme".into()),
            standard: Some("x12".into()),
            document_type: Some("850".into()),
            interchange_control_number: Some("000000001".into()),
            sender: Some("ZZ:ACME".into()),
            receiver: Some("ZZ:US".into()),
            errors: Vec::new(),
            documents: (0..documents)
                .map(|i| NewDocument {
                    document_type: "850".into(),
                    reference: Some(format!("PO-{i}")),
                    transaction_control_number: Some(format!("{i:04}")),
                    canonical: "{\"type\":\"purchase_order\"}".into(),
                    duplicate: false,
                })
                .collect(),
            acknowledgments: Vec::new(),
            seen: Vec::new(),
            rendered: None,
            group_control_number: None,
            received_acks: Vec::new(),
            detail: "translated".into(),
        }
    }

    #[test]
    fn a_message_goes_from_received_to_delivered_and_replays_after_a_dead_letter() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db.sqlite")).unwrap();
        let accepted = store.accept(message("ISA...")).blocking_recv().unwrap().unwrap();
        assert_eq!(store.received(10).unwrap(), std::slice::from_ref(&accepted.message_id));
        let pending = store.pending(&accepted.message_id).unwrap().unwrap();
        assert_eq!(pending.raw, b"ISA...");
        complete(&store, processed(&accepted.message_id, 2));
        assert!(store.received(10).unwrap().is_empty());
        let due = store.due(now_millis() + 1, 10, &Default::default()).unwrap();
        assert_eq!(due.len(), 2);
        // Those in flight are stepped over, and the limit counts the others.
        let in_flight = std::collections::HashSet::from([due[0].id.clone()]);
        let others = store.due(now_millis() + 1, 1, &in_flight).unwrap();
        assert_eq!(others.iter().map(|d| &d.id).collect::<Vec<_>>(), [&due[1].id]);
        assert_eq!(others[0].canonical, due[1].canonical);
        let attempt = |id: &str, outcome| Attempt {
            document_id: id.to_owned(),
            started_at: now_millis(),
            duration_ms: 3,
            status: Some(400),
            outcome,
            detail: "no".into(),
            target: "http://erp".into(),
        };
        store.record_attempt(attempt(&due[0].id, AttemptOutcome::Delivered)).blocking_recv().unwrap().unwrap();
        store.record_attempt(attempt(&due[1].id, AttemptOutcome::DeadLettered)).blocking_recv().unwrap().unwrap();
        let detail = store.message(&accepted.message_id).unwrap().unwrap();
        assert_eq!(detail.summary.state, MessageState::DeadLettered);
        assert_eq!(store.dead_letters().unwrap(), [("acme".to_owned(), 1)]);
        let replayed = store.replay(&accepted.message_id).unwrap();
        assert_eq!((replayed.action, replayed.documents), ("redeliver", 1));
        let due = store.due(now_millis() + 1, 10, &Default::default()).unwrap();
        assert_eq!(due.len(), 1);
        store.record_attempt(attempt(&due[0].id, AttemptOutcome::Delivered)).blocking_recv().unwrap().unwrap();
        let detail = store.message(&accepted.message_id).unwrap().unwrap();
        assert_eq!(detail.summary.state, MessageState::Delivered);
        let states: Vec<&str> = detail.history.iter().map(|h| h.state.as_str()).collect();
        assert_eq!(
            states,
            [
                "received",
                "translated",
                "delivered",
                "dead_lettered",
                "dead_lettered",
                "replayed",
                "translated",
                "delivered",
                "delivered"
            ]
        );
        assert!(store.replay(&accepted.message_id).is_err(), "nothing left to replay");
        let found = store.search(&Filter { reference: Some("PO-1".into()), limit: 10, ..Filter::default() }).unwrap();
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn many_concurrent_writes_commit_in_groups() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(SqliteStore::open(&dir.path().join("db.sqlite")).unwrap());
        let receivers: Vec<_> = (0..500).map(|i| store.accept(message(&format!("body {i}")))).collect();
        let ids: Vec<String> = receivers.into_iter().map(|r| r.blocking_recv().unwrap().unwrap().message_id).collect();
        assert_eq!(store.received(1000).unwrap().len(), 500);
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids, "ids sort by time of acceptance");
    }

    #[test]
    fn control_numbers_never_repeat_and_import_takes_the_higher() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db.sqlite")).unwrap();
        let a = store.reserve("acme", 1, 2, 3).unwrap();
        assert_eq!((a.interchange, a.group, a.transaction_set), (1, 1, 1));
        let mut file = BTreeMap::new();
        file.insert("acme".to_owned(), Counters { interchange: 400, group: 1, transaction_set: 1 });
        store.import_counters(file).unwrap();
        let b = store.reserve("acme", 1, 1, 1).unwrap();
        // The imported interchange counter is higher: it wins. Groups and sets continue past
        // what was handed out (the block reserved in the store may leave a gap).
        assert_eq!(b.interchange, 401);
        assert!(b.group >= 3 && b.transaction_set >= 4, "{b:?}");
        let c = store.reserve("acme", 1, 1, 1).unwrap();
        assert_eq!((c.interchange, c.group, c.transaction_set), (402, b.group + 1, b.transaction_set + 1));
        // Reopened (a restart): the rest of the block is skipped, never handed out again.
        drop(store);
        let store = SqliteStore::open(&dir.path().join("db.sqlite")).unwrap();
        let d = store.reserve("acme", 1, 1, 1).unwrap();
        assert!(d.interchange > c.interchange && d.group > c.group && d.transaction_set > c.transaction_set, "{d:?}");
    }

    #[test]
    fn a_failed_write_does_not_undo_the_others_in_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db.sqlite")).unwrap();
        let first = store.accept(message("one"));
        let failing = store.submit(|conn| {
            conn.execute("INSERT INTO no_such_table VALUES (1)", [])?;
            Ok(())
        });
        let second = store.accept(message("two"));
        assert!(first.blocking_recv().unwrap().is_ok());
        assert!(failing.blocking_recv().unwrap().is_err());
        assert!(second.blocking_recv().unwrap().is_ok());
        assert_eq!(store.received(10).unwrap().len(), 2);
    }
}
