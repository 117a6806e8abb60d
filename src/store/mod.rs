//! The durable store: every received body, what became of it, every delivery attempt, the
//! acknowledgments waiting to go out, outbound control numbers, and the interchanges seen for
//! duplicate detection.
//!
//! **Invariant:** a source answers its sender only after `accept` has committed the raw bytes.
//! Everything after that (processing, delivery) is restartable from what the store holds:
//! a message in state `received` is processed again, a document not yet `delivered` is
//! delivered again with the same idempotency key.
//!
//! `Store` is the seam for a second implementation (PostgreSQL for several instances); the
//! SQLite one (`sqlite.rs`) commits writes in groups on one writer thread.

mod schema;
pub mod sqlite;

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::control_numbers::Reservation;

pub use sqlite::SqliteStore;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

pub fn now_millis() -> Millis {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as Millis).unwrap_or(0)
}

/// Why the store could not do something. Carries the database's own words: the operator
/// reading it needs the cause (disk full, locked, corrupt), not a paraphrase.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("the store failed: {0}")]
    Database(String),
    #[error("the store is shutting down")]
    Closed,
    #[error("no message {0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError::Database(err.to_string())
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Which way a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// Where a message stands. Inbound: received → translated → delivered, or rejected,
/// duplicate, failed, dead_lettered. Outbound: received → rendered → sent, or failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    Received,
    Translated,
    Delivered,
    Rejected,
    Duplicate,
    Failed,
    DeadLettered,
    Rendered,
    Sent,
}

impl MessageState {
    pub const ALL: [MessageState; 9] = [
        MessageState::Received,
        MessageState::Translated,
        MessageState::Delivered,
        MessageState::Rejected,
        MessageState::Duplicate,
        MessageState::Failed,
        MessageState::DeadLettered,
        MessageState::Rendered,
        MessageState::Sent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Received => "received",
            MessageState::Translated => "translated",
            MessageState::Delivered => "delivered",
            MessageState::Rejected => "rejected",
            MessageState::Duplicate => "duplicate",
            MessageState::Failed => "failed",
            MessageState::DeadLettered => "dead_lettered",
            MessageState::Rendered => "rendered",
            MessageState::Sent => "sent",
        }
    }

    pub fn parse(text: &str) -> Option<MessageState> {
        MessageState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for MessageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A body as a source received it.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub direction: Direction,
    /// `http`, `as2`, `sftp`, `webhook`, `api`.
    pub transport: String,
    pub raw: Vec<u8>,
    pub correlation_id: String,
    /// The partner, when the source already knows it (a webhook path, an AS2-From, an
    /// outbound request).
    pub partner: Option<String>,
    /// What the raw bytes are: `edi` or `json` (canonical JSON).
    pub content: Content,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    Edi,
    Json,
}

impl Content {
    pub fn as_str(self) -> &'static str {
        match self {
            Content::Edi => "edi",
            Content::Json => "json",
        }
    }
}

/// What `accept` committed.
#[derive(Clone, Debug, Serialize)]
pub struct Accepted {
    pub message_id: String,
    pub correlation_id: String,
}

/// A message to process, as stored.
#[derive(Clone, Debug)]
pub struct Pending {
    pub id: String,
    pub direction: Direction,
    pub transport: String,
    pub raw: Vec<u8>,
    pub correlation_id: String,
    pub partner: Option<String>,
    pub content: Content,
    pub replays: i64,
}

/// One canonical document to deliver.
#[derive(Clone, Debug)]
pub struct NewDocument {
    pub document_type: String,
    /// PO number or shipment id.
    pub reference: Option<String>,
    pub transaction_control_number: Option<String>,
    pub canonical: String,
    pub duplicate: bool,
}

/// An acknowledgment to send to a partner.
#[derive(Clone, Debug)]
pub struct NewAcknowledgment {
    pub to: String,
    pub kind: String,
    pub result: String,
    pub payload: Vec<u8>,
    /// Whether the recipient's profile names a transport to send it over; if not, it is kept
    /// (visible on the message) but not queued for sending.
    pub send: bool,
}

/// An interchange seen, for duplicate detection.
#[derive(Clone, Debug)]
pub struct SeenInterchange {
    pub partner: String,
    pub sender: String,
    pub control_number: String,
}

/// What processing made of a message, written in one transaction.
#[derive(Clone, Debug)]
pub struct Processed {
    pub id: String,
    pub state: MessageState,
    pub partner: Option<String>,
    pub standard: Option<String>,
    pub document_type: Option<String>,
    pub interchange_control_number: Option<String>,
    pub sender: Option<String>,
    pub receiver: Option<String>,
    /// Located errors, in words.
    pub errors: Vec<String>,
    pub documents: Vec<NewDocument>,
    pub acknowledgments: Vec<NewAcknowledgment>,
    pub seen: Vec<SeenInterchange>,
    /// Outbound: the rendered EDI.
    pub rendered: Option<Vec<u8>>,
    /// Outbound: GS06 of the rendered group (what a 997/999 names in AK1).
    pub group_control_number: Option<String>,
    /// Inbound: the partner's acknowledgments of what we sent, to reconcile.
    pub received_acks: Vec<crate::ack::received::ReceivedAck>,
    pub detail: String,
}

impl Processed {
    /// Nothing made of `pending` yet: its id and partner, in `state`, everything else empty.
    pub fn of(pending: &Pending, state: MessageState) -> Processed {
        Processed {
            id: pending.id.clone(),
            state,
            partner: pending.partner.clone(),
            standard: None,
            document_type: None,
            interchange_control_number: None,
            sender: None,
            receiver: None,
            errors: Vec::new(),
            documents: Vec::new(),
            acknowledgments: Vec::new(),
            seen: Vec::new(),
            rendered: None,
            group_control_number: None,
            received_acks: Vec::new(),
            detail: String::new(),
        }
    }
}

/// A document due for delivery.
#[derive(Clone, Debug)]
pub struct DueDocument {
    pub id: String,
    pub message_id: String,
    pub partner: Option<String>,
    pub canonical: String,
    pub correlation_id: String,
    pub attempts: i64,
}

/// How one delivery attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    /// Try again at this time.
    Retry {
        at: Millis,
    },
    DeadLettered,
}

impl AttemptOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Retry { .. } => "retry",
            AttemptOutcome::DeadLettered => "dead_letter",
        }
    }
}

/// One delivery attempt, recorded with its outcome.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub document_id: String,
    pub started_at: Millis,
    pub duration_ms: i64,
    /// The ERP's HTTP status, if it answered.
    pub status: Option<u16>,
    pub outcome: AttemptOutcome,
    /// The error or the response body (truncated).
    pub detail: String,
    /// Where it went (an URL, or `outbox:PATH`).
    pub target: String,
}

/// Search filters of `GET /v1/messages`.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub partner: Option<String>,
    pub state: Option<MessageState>,
    pub document_type: Option<String>,
    pub reference: Option<String>,
    pub limit: usize,
    /// Messages received before this id (ids sort by time): the next page.
    pub before: Option<String>,
}

/// One line of a search.
#[derive(Clone, Debug, Serialize)]
pub struct MessageSummary {
    pub id: String,
    pub direction: Direction,
    pub transport: String,
    pub state: MessageState,
    pub partner: Option<String>,
    pub standard: Option<String>,
    #[serde(rename = "type")]
    pub document_type: Option<String>,
    pub interchange_control_number: Option<String>,
    pub correlation_id: String,
    pub received_at: Millis,
    pub updated_at: Millis,
    pub documents: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct HistoryEntry {
    pub at: Millis,
    pub state: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AttemptEntry {
    pub document_id: String,
    pub at: Millis,
    pub duration_ms: i64,
    pub status: Option<u16>,
    pub outcome: String,
    pub detail: String,
    pub target: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct DocumentEntry {
    pub id: String,
    #[serde(rename = "type")]
    pub document_type: String,
    pub reference: Option<String>,
    pub transaction_control_number: Option<String>,
    pub state: String,
    pub attempts: i64,
    pub duplicate: bool,
    /// The canonical JSON, as delivered.
    pub canonical: serde_json::Value,
}

#[derive(Clone, Debug, Serialize)]
pub struct AcknowledgmentEntry {
    pub id: String,
    pub to: String,
    pub kind: String,
    pub result: String,
    pub state: String,
    pub payload: String,
}

/// Everything about one message.
#[derive(Clone, Debug, Serialize)]
pub struct MessageDetail {
    #[serde(flatten)]
    pub summary: MessageSummary,
    pub sha256: String,
    pub size: i64,
    /// The raw body as text (lossy for binary junk); `null` once purged.
    pub raw: Option<String>,
    pub raw_purged: bool,
    pub errors: Vec<String>,
    pub documents: Vec<DocumentEntry>,
    pub history: Vec<HistoryEntry>,
    pub attempts: Vec<AttemptEntry>,
    pub acknowledgments: Vec<AcknowledgmentEntry>,
    /// Outbound: the EDI rendered for the partner.
    pub rendered: Option<String>,
    /// What was sent to the partner (the rendered EDI, acknowledgments) and how it went.
    pub transmissions: Vec<TransmissionEntry>,
    /// Outbound: what the partner's functional acknowledgment said of it.
    pub acknowledgment: Option<AckState>,
}

/// An outbound message's acknowledgment by the partner.
#[derive(Clone, Debug, Serialize)]
pub struct AckState {
    /// `accepted`, `partially_accepted`, `rejected`; `awaiting` before the deadline, `overdue`
    /// after it.
    pub status: String,
    pub detail: Option<String>,
    /// When the acknowledgment is due (Unix milliseconds), when the profile sets a deadline.
    pub due_at: Option<Millis>,
}

/// What a replay did.
#[derive(Clone, Debug, Serialize)]
pub struct Replayed {
    pub message_id: String,
    /// `reprocess` (from the raw bytes) or `redeliver` (the documents not yet delivered).
    pub action: &'static str,
    pub documents: i64,
}

/// An AS2 message received or refused, and the MDN answered for it.
#[derive(Clone, Debug)]
pub struct NewReceipt {
    pub as2_from: String,
    pub as2_message_id: String,
    pub partner: Option<String>,
    /// `processed`, or the RFC 4130 failure modifier (`decryption-failed`...).
    pub disposition: String,
    pub detail: String,
    pub mdn: Option<StoredMdn>,
    /// A refused message's body.
    pub raw: Option<Vec<u8>>,
    /// Where the sender asked for its MDN asynchronously: owed until delivered there.
    pub mdn_url: Option<String>,
}

/// The order owed MDNs are read in: the receipt's time, then its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OwedMdnKey {
    pub at: Millis,
    pub row: i64,
}

impl OwedMdnKey {
    /// Just before every receipt recorded at or after `at`.
    pub fn since(at: Millis) -> OwedMdnKey {
        OwedMdnKey { at, row: 0 }
    }
}

/// An asynchronous MDN not yet delivered.
#[derive(Clone, Debug)]
pub struct OwedMdn {
    /// Where the receipt stands in the order owed MDNs are read: when it was recorded, and its
    /// row (receipts of the same millisecond follow in the order they were recorded).
    pub key: OwedMdnKey,
    pub as2_from: String,
    pub as2_message_id: String,
    pub disposition: String,
    pub partner: Option<String>,
    pub url: String,
    pub mdn: StoredMdn,
}

/// An MDN as sent: its headers and body.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct StoredMdn {
    pub headers: Vec<(String, String)>,
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// Something to send to a partner: a rendered outbound message or an acknowledgment.
#[derive(Clone, Debug)]
pub struct Sendable {
    pub id: String,
    pub message_id: String,
    pub acknowledgment_id: Option<String>,
    pub partner: String,
    pub payload: Vec<u8>,
    pub attempts: i64,
    pub correlation_id: String,
}

/// How one attempt to send went.
#[derive(Clone, Debug)]
pub enum SendOutcome {
    /// Sent, and (for AS2) the MDN said processed.
    Sent,
    /// Sent over AS2; the MDN comes later, to /as2, by the deadline.
    AwaitingMdn { deadline: Millis },
    /// Try again at this time.
    Retry { at: Millis },
    /// Given up: the partner refused it, or the attempts ran out.
    Failed,
    /// Cannot be sent: no profile or no transport for the recipient.
    Held,
}

#[derive(Clone, Debug)]
pub struct SendAttempt {
    pub transmission_id: String,
    /// When sent, the time by which the partner's functional acknowledgment is due.
    pub ack_due_at: Option<Millis>,
    pub transport: String,
    pub outcome: SendOutcome,
    pub detail: String,
    pub as2_message_id: Option<String>,
    pub mic: Option<(String, String)>,
    pub mdn: Option<Vec<u8>>,
}

/// An outbound AS2 message waiting for its asynchronous MDN.
#[derive(Clone, Debug)]
pub struct AwaitedMdn {
    pub transmission_id: String,
    pub message_id: String,
    pub partner: String,
    /// The MIC we computed when sending, and its algorithm.
    pub mic: Option<(String, String)>,
}

/// A transmission, for a message's detail.
#[derive(Clone, Debug, Serialize)]
pub struct TransmissionEntry {
    pub id: String,
    pub acknowledgment_id: Option<String>,
    pub partner: String,
    pub state: String,
    pub attempts: i64,
    pub transport: Option<String>,
    pub as2_message_id: Option<String>,
    pub detail: String,
}

/// The store's operations. Every method may block on I/O: async callers run them on the
/// blocking pool, except `accept`, whose commit they await.
pub trait Store: Send + Sync + 'static {
    /// Stores a received body durably; the receiver resolves once it is committed.
    fn accept(&self, message: NewMessage) -> tokio::sync::oneshot::Receiver<Result<Accepted>>;
    /// Messages waiting to be processed, oldest first.
    fn received(&self, limit: usize) -> Result<Vec<String>>;
    fn pending(&self, id: &str) -> Result<Option<Pending>>;
    /// The message that first carried this interchange, if seen since `since`.
    fn seen(&self, interchange: &SeenInterchange, since: Millis, excluding: &str) -> Result<Option<String>>;
    /// Control numbers for something we send to `partner`.
    fn reserve(&self, partner: &str, interchanges: u64, groups: u64, sets: u64) -> Result<Reservation>;
    /// Records what processing made of a message; `then` runs once it is committed (so the
    /// caller can go on to the next message meanwhile).
    fn complete(&self, processed: Processed, then: Box<dyn FnOnce(Result<()>) + Send>);
    /// Documents due for delivery at `now`, oldest first, except those in `skip` (in flight).
    fn due(&self, now: Millis, limit: usize, skip: &std::collections::HashSet<String>) -> Result<Vec<DueDocument>>;
    /// Records a delivery attempt; the receiver resolves once it is committed.
    fn record_attempt(&self, attempt: Attempt) -> tokio::sync::oneshot::Receiver<Result<()>>;
    fn replay(&self, id: &str) -> Result<Replayed>;
    fn search(&self, filter: &Filter) -> Result<Vec<MessageSummary>>;
    fn message(&self, id: &str) -> Result<Option<MessageDetail>>;
    /// Messages per state, and documents waiting for delivery (`pending_delivery`).
    fn queue_depth(&self) -> Result<Vec<(String, i64)>>;
    /// Dead-lettered documents per partner.
    fn dead_letters(&self) -> Result<Vec<(String, i64)>>;
    /// Outbound messages whose functional acknowledgment is overdue at `now`, per partner.
    fn overdue_acknowledgments(&self, now: Millis) -> Result<Vec<(String, i64)>>;
    /// Drops the raw bytes of finished messages received before `before`; how many.
    fn purge(&self, before: Millis) -> Result<usize>;
    /// Whether the store answers.
    fn ping(&self) -> Result<()>;
    /// Stores an AS2 payload and its receipt (with the MDN to answer) in one commit.
    fn accept_as2(&self, message: NewMessage, receipt: NewReceipt) -> tokio::sync::oneshot::Receiver<Result<Accepted>>;
    /// Records a refused AS2 message.
    fn record_receipt(&self, receipt: NewReceipt) -> tokio::sync::oneshot::Receiver<Result<()>>;
    /// The MDN answered for an AS2 message that was processed, if any.
    fn processed_receipt(&self, as2_from: &str, as2_message_id: &str) -> Result<Option<StoredMdn>>;
    /// Asynchronous MDNs not yet delivered for receipts recorded since `since`, per partner
    /// (`unknown` when the sender matched no profile).
    fn owed_mdn_counts(&self, since: Millis) -> Result<Vec<(String, i64)>>;
    /// Asynchronous MDNs not yet delivered, for receipts after `after` (in key order) recorded
    /// up to `until`, oldest first. Start at `OwedMdnKey::since(time)`; the next page starts
    /// after the last key of the page before.
    fn owed_mdns(&self, after: OwedMdnKey, until: Millis, limit: usize) -> Result<Vec<OwedMdn>>;
    /// Records that the asynchronous MDN of a receipt was delivered.
    fn mdn_sent(
        &self,
        as2_from: &str,
        as2_message_id: &str,
        disposition: &str,
    ) -> tokio::sync::oneshot::Receiver<Result<()>>;
    /// Transmissions due at `now`, oldest first; marks AS2 MDNs overdue at `now` as failed.
    fn sendable(&self, now: Millis, limit: usize) -> Result<Vec<Sendable>>;
    fn record_send(&self, attempt: SendAttempt) -> tokio::sync::oneshot::Receiver<Result<()>>;
    /// Stores an outbound request; with an idempotency key already used for the same body, the
    /// message that key made instead (`Ok((accepted, true))`); used for another body, a conflict.
    fn accept_outbound(
        &self,
        message: NewMessage,
        idempotency_key: Option<String>,
    ) -> tokio::sync::oneshot::Receiver<Result<(Accepted, bool)>>;
    /// Stores a file taken from a partner's SFTP inbox, remembering its name and digest (the
    /// hex SHA-256 of `message.raw`, which the caller has already computed).
    fn accept_file(
        &self,
        message: NewMessage,
        name: &str,
        sha256: String,
    ) -> tokio::sync::oneshot::Receiver<Result<Accepted>>;
    /// The message a file with this name and content was stored as, if it was.
    fn file_taken(&self, partner: &str, name: &str, sha256: &str) -> Result<Option<String>>;
    /// The transmission an asynchronous MDN answers.
    fn awaited_mdn(&self, as2_message_id: &str) -> Result<Option<AwaitedMdn>>;
}
