//! Schema migrations: numbered, applied in order, each once, each in its own transaction.
//! Add a migration at the end; never edit one that has shipped.

use rusqlite::Connection;

use super::{now_millis, Result};

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        r#"
    CREATE TABLE messages (
        id TEXT PRIMARY KEY,                -- UUIDv7: sorts by time
        direction TEXT NOT NULL,            -- inbound | outbound
        transport TEXT NOT NULL,            -- http | as2 | sftp | webhook | api
        content TEXT NOT NULL,              -- edi | json
        received_at INTEGER NOT NULL,       -- Unix milliseconds
        updated_at INTEGER NOT NULL,
        state TEXT NOT NULL,
        partner TEXT,
        standard TEXT,
        document_type TEXT,
        interchange_control_number TEXT,
        sender TEXT,
        receiver TEXT,
        correlation_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        raw BLOB,                           -- NULL once purged
        raw_purged_at INTEGER,
        errors TEXT NOT NULL DEFAULT '[]',  -- JSON array of located errors
        rendered BLOB,                      -- outbound: the EDI for the partner
        replays INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX messages_by_state ON messages (state, id);
    -- Partial: a message has no partner or control number until it is processed, and the
    -- accept path (the one the sender waits for) then writes no entry here.
    CREATE INDEX messages_by_partner ON messages (partner, id) WHERE partner IS NOT NULL;
    CREATE INDEX messages_by_interchange ON messages (interchange_control_number)
        WHERE interchange_control_number IS NOT NULL;

    CREATE TABLE documents (
        id TEXT PRIMARY KEY,                -- also the Idempotency-Key
        message_id TEXT NOT NULL REFERENCES messages (id),
        seq INTEGER NOT NULL,
        document_type TEXT NOT NULL,
        reference TEXT,
        transaction_control_number TEXT,
        canonical TEXT NOT NULL,
        duplicate INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL,                -- pending | delivered | dead_lettered
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        delivered_at INTEGER,
        UNIQUE (message_id, seq)
    );
    CREATE INDEX documents_due ON documents (state, next_attempt_at);
    CREATE INDEX documents_by_reference ON documents (reference);
    CREATE INDEX documents_by_control_number ON documents (transaction_control_number);

    CREATE TABLE history (
        message_id TEXT NOT NULL REFERENCES messages (id),
        document_id TEXT,
        at INTEGER NOT NULL,
        state TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX history_by_message ON history (message_id, at);

    CREATE TABLE attempts (
        document_id TEXT NOT NULL REFERENCES documents (id),
        at INTEGER NOT NULL,
        duration_ms INTEGER NOT NULL,
        status INTEGER,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL,
        target TEXT NOT NULL
    );
    CREATE INDEX attempts_by_document ON attempts (document_id, at);

    CREATE TABLE dead_letters (
        document_id TEXT PRIMARY KEY REFERENCES documents (id),
        partner TEXT,
        at INTEGER NOT NULL,
        status INTEGER,
        response TEXT NOT NULL
    );

    CREATE TABLE acknowledgments (
        id TEXT PRIMARY KEY,
        message_id TEXT NOT NULL REFERENCES messages (id),
        recipient TEXT NOT NULL,            -- partner id, or QUALIFIER:ID of an unknown sender
        kind TEXT NOT NULL,                 -- 997 | 999 | TA1 | CONTRL
        result TEXT NOT NULL,
        payload BLOB NOT NULL,
        state TEXT NOT NULL,                -- pending | sent
        created_at INTEGER NOT NULL,
        sent_at INTEGER
    );
    CREATE INDEX acknowledgments_by_state ON acknowledgments (state, created_at);

    CREATE TABLE control_numbers (
        partner TEXT PRIMARY KEY,
        interchange INTEGER NOT NULL,
        functional_group INTEGER NOT NULL,
        transaction_set INTEGER NOT NULL
    );

    CREATE TABLE seen_interchanges (
        partner TEXT NOT NULL,
        sender TEXT NOT NULL,
        control_number TEXT NOT NULL,
        message_id TEXT NOT NULL,
        seen_at INTEGER NOT NULL,
        PRIMARY KEY (partner, sender, control_number)
    );
    "#,
    ),
    (
        2,
        r#"
    -- AS2 receipts: one row per AS2 message received (or refused), with the MDN we answered,
    -- so a resent Message-ID (RFC 4130 section 5.5) gets the same MDN without reprocessing.
    CREATE TABLE as2_receipts (
        as2_from TEXT NOT NULL,
        as2_message_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        partner TEXT,
        disposition TEXT NOT NULL,          -- processed | a failure modifier of RFC 4130
        message_id TEXT,                    -- the stored message, when processed
        detail TEXT NOT NULL,
        mdn_headers TEXT,                   -- JSON [[name, value], ...]
        mdn BLOB,
        raw BLOB                            -- a refused message's body, kept for diagnosis
    );
    CREATE INDEX as2_receipts_by_message_id ON as2_receipts (as2_from, as2_message_id, at);

    -- What we send to partners: rendered outbound messages and acknowledgments.
    CREATE TABLE transmissions (
        id TEXT PRIMARY KEY,
        message_id TEXT NOT NULL REFERENCES messages (id),
        acknowledgment_id TEXT REFERENCES acknowledgments (id),
        partner TEXT NOT NULL,
        state TEXT NOT NULL,                -- pending | awaiting_mdn | sent | failed | held
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        transport TEXT,
        as2_message_id TEXT,
        mic TEXT,                           -- base64, the MIC we expect back in the MDN
        mic_alg TEXT,
        mdn_deadline INTEGER,
        mdn BLOB,
        detail TEXT NOT NULL DEFAULT '',
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX transmissions_due ON transmissions (state, next_attempt_at);
    CREATE INDEX transmissions_by_as2_message_id ON transmissions (as2_message_id)
        WHERE as2_message_id IS NOT NULL;
    CREATE INDEX transmissions_by_message ON transmissions (message_id);

    -- Files taken from partners' SFTP inboxes: a file stored but not yet moved to the archive
    -- (the gateway died in between) is recognised by name and digest, and only moved.
    CREATE TABLE sftp_files (
        partner TEXT NOT NULL,
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        message_id TEXT NOT NULL REFERENCES messages (id),
        at INTEGER NOT NULL,
        PRIMARY KEY (partner, name, sha256)
    );

    -- Outbound messages: the group a 997/999 names, and what the partner's acknowledgment said.
    ALTER TABLE messages ADD COLUMN group_control_number TEXT;
    ALTER TABLE messages ADD COLUMN ack_status TEXT;
    ALTER TABLE messages ADD COLUMN ack_detail TEXT;
    ALTER TABLE messages ADD COLUMN ack_due_at INTEGER;
    CREATE INDEX messages_awaiting_ack ON messages (ack_due_at) WHERE ack_due_at IS NOT NULL AND ack_status IS NULL;

    -- Idempotency-Key of POST /v1/outbound: a repeated request gets the message it made.
    CREATE TABLE outbound_requests (
        idempotency_key TEXT PRIMARY KEY,
        message_id TEXT NOT NULL REFERENCES messages (id),
        sha256 TEXT NOT NULL,
        at INTEGER NOT NULL
    );
    "#,
    ),
    (
        3,
        r#"
    -- Asynchronous MDNs we owe: where they go, and when one was delivered. An MDN not yet
    -- delivered is retried from here, also after a restart.
    ALTER TABLE as2_receipts ADD COLUMN mdn_url TEXT;
    ALTER TABLE as2_receipts ADD COLUMN mdn_sent_at INTEGER;
    CREATE INDEX as2_receipts_owed ON as2_receipts (at) WHERE mdn_url IS NOT NULL AND mdn_sent_at IS NULL;
    "#,
    ),
];

/// Brings the database up to the latest schema.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )?;
    let current: i64 =
        conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |row| row.get(0))?;
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)", (version, now_millis()))?;
        tx.commit()?;
    }
    Ok(())
}

/// The latest schema version this build knows.
pub(super) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}
