//! SFTP: polling partners' inboxes, and uploading to their outboxes (`send_via = "sftp"`).
//!
//! ssh2 (libssh2) is blocking: every session runs on the blocking pool, one per partner at a
//! time. The host key is pinned by its SHA-256 fingerprint; a timeout bounds every operation
//! (libssh2's default is to wait forever).
//!
//! A file is taken when its size and modification time did not change since the previous poll
//! (so one still being written is left alone), downloaded, stored durably with its name and
//! digest, and only then moved to the archive (or deleted). A file found again with the same
//! name and digest was stored before the gateway could move it: it is only moved.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::config::partner::SftpProfile;
use crate::gateway::partners::PartnerSet;
use crate::metrics as m;
use crate::pipeline::Queue;
use crate::store::{Content, Direction, NewMessage, Store};

/// Files larger than this are left in the inbox and reported.
const MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Directory entries read per poll.
const MAX_LISTING: usize = 10_000;

/// Why an SFTP session or operation failed, in words for whoever runs the partnership.
#[derive(Debug, thiserror::Error)]
pub enum SftpError {
    #[error("cannot connect to {host}:{port}: {reason}")]
    Connect { host: String, port: u16, reason: String },
    #[error("the server's host key {found} is not the pinned one ({expected}): refusing to talk to it")]
    HostKey { expected: String, found: String },
    #[error("key authentication as {user} refused: {reason}")]
    Auth { user: String, reason: String },
    #[error("sftp.private_key: {0}")]
    Key(String),
    #[error("{0}")]
    Ssh(String),
}

impl SftpError {
    fn label(&self) -> &'static str {
        match self {
            SftpError::Connect { .. } => "connect_failed",
            SftpError::HostKey { .. } => "host_key_mismatch",
            SftpError::Auth { .. } | SftpError::Key(_) => "auth_failed",
            SftpError::Ssh(_) => "error",
        }
    }
}

fn ssh(what: &str, err: ssh2::Error) -> SftpError {
    SftpError::Ssh(format!("{what}: {err}"))
}

/// An authenticated SFTP session with a partner's server.
pub struct Connection {
    _session: ssh2::Session,
    pub sftp: ssh2::Sftp,
}

/// The SHA-256 fingerprint as OpenSSH prints it: `SHA256:` and unpadded base64.
pub fn fingerprint(hash: &[u8]) -> String {
    format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(hash))
}

pub fn connect(profile: &SftpProfile) -> Result<Connection, SftpError> {
    let timeout = Duration::from_secs(profile.timeout_seconds.max(1));
    let connect_error = |reason: String| SftpError::Connect { host: profile.host.clone(), port: profile.port, reason };
    let addr = (profile.host.as_str(), profile.port)
        .to_socket_addrs()
        .map_err(|e| connect_error(e.to_string()))?
        .next()
        .ok_or_else(|| connect_error("the host name resolves to no address".into()))?;
    let tcp = TcpStream::connect_timeout(&addr, timeout).map_err(|e| connect_error(e.to_string()))?;
    let mut session = ssh2::Session::new().map_err(|e| ssh("cannot start an SSH session", e))?;
    session.set_tcp_stream(tcp);
    session.set_timeout(u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX));
    session.handshake().map_err(|e| connect_error(format!("SSH handshake: {e}")))?;
    let found = session.host_key_hash(ssh2::HashType::Sha256).map(fingerprint).unwrap_or_default();
    let expected = profile.host_key_sha256.trim_end_matches('=');
    if found != expected {
        return Err(SftpError::HostKey { expected: expected.to_owned(), found });
    }
    session.set_keepalive(true, 30);
    let key = profile.private_key.resolve().map_err(|e| SftpError::Key(e.to_string()))?;
    session
        .userauth_pubkey_memory(&profile.user, None, &key, None)
        .map_err(|e| SftpError::Auth { user: profile.user.clone(), reason: e.to_string() })?;
    if !session.authenticated() {
        return Err(SftpError::Auth { user: profile.user.clone(), reason: "not authenticated".into() });
    }
    let sftp = session.sftp().map_err(|e| ssh("cannot start the SFTP subsystem", e))?;
    Ok(Connection { _session: session, sftp })
}

/// Whether a remote file name is one we take: a plain name, no path separator, no `..`, no
/// control characters, not hidden, not a temporary file, not overlong.
pub fn acceptable_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control)
        && !name.ends_with(".part")
        && !name.ends_with(".tmp")
}

/// Polls every partner with an `[sftp]` section, each on its own interval, until `stop`.
pub async fn run(
    store: Arc<dyn Store>,
    partners: Arc<PartnerSet>,
    queue: Queue,
    max_body_bytes: u64,
    mut stop: watch::Receiver<bool>,
) {
    // Per partner: when to poll next, the error backoff, and what the last listing saw.
    let mut state: HashMap<String, PartnerPoll> = HashMap::new();
    loop {
        let now = tokio::time::Instant::now();
        let current = partners.current();
        for partner in current.all() {
            let Some(profile) = partner.sftp.clone() else { continue };
            let poll = state.entry(partner.id.clone()).or_default();
            if poll.running || poll.next.is_some_and(|next| next > now) {
                continue;
            }
            poll.running = true;
            let seen = std::mem::take(&mut poll.seen);
            let (store, queue, id) = (Arc::clone(&store), queue.clone(), partner.id.clone());
            let limit = max_body_bytes.min(MAX_FILE_BYTES);
            let outcome =
                tokio::task::spawn_blocking(move || poll_once(&id, &profile, store.as_ref(), &queue, seen, limit))
                    .await;
            let poll = state.entry(partner.id.clone()).or_default();
            poll.running = false;
            let interval = Duration::from_secs(partner.sftp.as_ref().map_or(60, |s| s.poll_interval_seconds.max(1)));
            match outcome {
                Ok(Ok((seen, taken))) => {
                    poll.seen = seen;
                    poll.failures = 0;
                    poll.next = Some(tokio::time::Instant::now() + interval);
                    let outcome = if taken > 0 { "files" } else { "empty" };
                    metrics::counter!(m::SFTP_POLLS, "partner" => partner.id.clone(), "outcome" => outcome)
                        .increment(1);
                }
                Ok(Err(err)) => {
                    poll.failures += 1;
                    let backoff = interval.saturating_mul(1 << poll.failures.min(8)).min(MAX_BACKOFF.max(interval));
                    poll.next = Some(tokio::time::Instant::now() + backoff);
                    tracing::warn!(partner = %partner.id, error = %err, retry_in_seconds = backoff.as_secs(), "SFTP poll failed");
                    metrics::counter!(m::SFTP_POLLS, "partner" => partner.id.clone(), "outcome" => err.label())
                        .increment(1);
                }
                Err(_) => poll.next = Some(tokio::time::Instant::now() + interval),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = stop.changed() => return,
        }
    }
}

#[derive(Default)]
struct PartnerPoll {
    next: Option<tokio::time::Instant>,
    failures: u32,
    running: bool,
    /// What the previous listing saw.
    seen: Listing,
}

/// File name → (size, modification time).
type Listing = HashMap<String, (u64, u64)>;

/// One poll: list, take the files that stood still since the last listing, store, archive.
/// Returns this listing (for the next poll's comparison) and how many files were taken.
fn poll_once(
    partner: &str,
    profile: &SftpProfile,
    store: &dyn Store,
    queue: &Queue,
    previous: Listing,
    limit: u64,
) -> Result<(Listing, usize), SftpError> {
    let connection = connect(profile)?;
    let sftp = &connection.sftp;
    let inbox = Path::new(&profile.inbox);
    let entries = list(sftp, inbox)?;
    let mut listing = HashMap::new();
    let mut taken = 0;
    for (path, stat) in entries {
        if !stat.is_file() {
            continue;
        }
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            tracing::warn!(partner, path = %path.display(), "SFTP file with a name that is not UTF-8: left in place");
            continue;
        };
        if !acceptable_name(&name) {
            if !(name.ends_with(".part") || name.ends_with(".tmp") || name.starts_with('.')) {
                tracing::warn!(partner, name = %name.escape_debug(), "SFTP file with an unsafe name: left in place");
            }
            continue;
        }
        let version = (stat.size.unwrap_or(0), stat.mtime.unwrap_or(0));
        listing.insert(name.clone(), version);
        if previous.get(&name) != Some(&version) {
            // New or still changing: look again at the next poll.
            continue;
        }
        if version.0 > limit {
            tracing::warn!(partner, name, size = version.0, limit, "SFTP file over the size limit: left in place");
            continue;
        }
        let mut content = Vec::with_capacity(version.0 as usize);
        let mut file = sftp.open(&path).map_err(|e| ssh(&format!("cannot open {name}"), e))?;
        Read::by_ref(&mut file)
            .take(limit + 1)
            .read_to_end(&mut content)
            .map_err(|e| SftpError::Ssh(format!("cannot download {name}: {e}")))?;
        drop(file);
        let sha256 = hex::encode(Sha256::digest(&content));
        let stored = match store.file_taken(partner, &name, &sha256) {
            Ok(Some(id)) => {
                tracing::info!(partner, name, message_id = %id, "SFTP file stored before: only archiving it");
                Some(id)
            }
            Ok(None) => {
                let message = NewMessage {
                    direction: Direction::Inbound,
                    transport: "sftp".into(),
                    raw: content,
                    correlation_id: uuid::Uuid::now_v7().to_string(),
                    partner: Some(partner.to_owned()),
                    content: Content::Edi,
                };
                match store.accept_file(message, &name, sha256.clone()).blocking_recv() {
                    Ok(Ok(accepted)) => {
                        tracing::info!(partner, name, message_id = %accepted.message_id, "SFTP file stored");
                        queue.push(accepted.message_id.clone());
                        taken += 1;
                        Some(accepted.message_id)
                    }
                    _ => None,
                }
            }
            Err(err) => {
                tracing::warn!(partner, name, error = %err, "cannot check an SFTP file against the store");
                None
            }
        };
        // Only what is durably stored leaves the inbox.
        let Some(message_id) = stored else { continue };
        let done = match &profile.archive {
            Some(archive) => {
                // OpenSSH will not rename over an existing file: the archived name is unique.
                let target = PathBuf::from(archive).join(format!("{name}.{message_id}"));
                sftp.rename(&path, &target, Some(ssh2::RenameFlags::empty()))
            }
            None => sftp.unlink(&path),
        };
        if let Err(err) = done {
            tracing::warn!(partner, name, error = %err, "SFTP file stored but not archived; it will be archived at the next poll");
        }
        listing.remove(&name);
    }
    Ok((listing, taken))
}

/// The entries of a directory, at most `MAX_LISTING` of them per poll (the rest wait for the
/// next polls), so a runaway inbox cannot exhaust memory.
fn list(sftp: &ssh2::Sftp, dir: &Path) -> Result<Vec<(PathBuf, ssh2::FileStat)>, SftpError> {
    let listing_error = |e| ssh(&format!("cannot list {}", dir.display()), e);
    let mut handle = sftp.opendir(dir).map_err(listing_error)?;
    let mut entries = Vec::new();
    while entries.len() < MAX_LISTING {
        match handle.readdir() {
            Ok((name, stat)) => {
                if name != Path::new(".") && name != Path::new("..") {
                    entries.push((dir.join(name), stat));
                }
            }
            // LIBSSH2_ERROR_FILE: the end of the directory.
            Err(e) if e.code() == ssh2::ErrorCode::Session(-16) => break,
            Err(e) => return Err(listing_error(e)),
        }
    }
    Ok(entries)
}

/// Uploads `payload` as `name` in the partner's outbox: written as `name.part`, flushed to
/// disk, closed, then renamed, so the partner never picks up half a file.
pub fn upload(profile: &SftpProfile, name: &str, payload: &[u8]) -> Result<String, SftpError> {
    let outbox =
        profile.outbox.as_deref().ok_or_else(|| SftpError::Ssh("the partner's [sftp] has no outbox".into()))?;
    let connection = connect(profile)?;
    let sftp = &connection.sftp;
    let target = PathBuf::from(outbox).join(name);
    let part = PathBuf::from(outbox).join(format!("{name}.part"));
    let mut file = sftp.create(&part).map_err(|e| ssh(&format!("cannot create {}", part.display()), e))?;
    file.write_all(payload).map_err(|e| SftpError::Ssh(format!("cannot write {}: {e}", part.display())))?;
    // Not every server supports fsync@openssh.com; the rename below is what publishes the file.
    if let Err(err) = file.fsync() {
        tracing::debug!(error = %err, "the SFTP server does not fsync");
    }
    drop(file);
    sftp.rename(&part, &target, Some(ssh2::RenameFlags::empty()))
        .map_err(|e| ssh(&format!("cannot rename {} to {}", part.display(), target.display()), e))?;
    Ok(target.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_left_alone() {
        for bad in
            ["", "../x.edi", "a/b.edi", "a\\b.edi", ".hidden", "x.edi.part", "x.tmp", "bell\u{7}.edi", &"n".repeat(256)]
        {
            assert!(!acceptable_name(bad), "{bad:?}");
        }
        for good in ["po-1.edi", "ORDERS 2026-01-05.txt", "x..y.edi"] {
            assert!(acceptable_name(good), "{good:?}");
        }
    }

    #[test]
    fn fingerprints_are_written_as_openssh_writes_them() {
        assert_eq!(fingerprint(&[0u8; 32]), "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    }
}
