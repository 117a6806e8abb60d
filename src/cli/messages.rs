//! `crossdock messages list|show ID|replay ID [--config FILE]`: the store, read and re-queued
//! directly (a running gateway picks a replayed message up at its next scan).

use std::path::PathBuf;

use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::config::gateway;
use crate::store::{Filter, MessageState, Store, StoreError};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Newest messages first, one per line.
    List {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        partner: Option<String>,
        /// received, translated, delivered, rejected, duplicate, failed, dead_lettered, rendered, sent
        #[arg(long)]
        status: Option<String>,
        /// 850, ORDERS…, or purchase_order, ship_notice…
        #[arg(long = "type")]
        document_type: Option<String>,
        /// PO number, shipment id, control number or correlation id.
        #[arg(long)]
        reference: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Everything about one message, as JSON.
    Show {
        id: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Re-run a failed, rejected, duplicate or dead-lettered message.
    Replay {
        id: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

fn open(config: Option<&std::path::Path>) -> Result<std::sync::Arc<crate::store::SqliteStore>, u8> {
    let config = gateway::load(config).map_err(|problems| {
        for problem in problems {
            eprintln!("{problem}");
        }
        EXIT_USAGE
    })?;
    if let gateway::StoreUrl::Sqlite(path) = &config.store.url {
        if !path.exists() {
            eprintln!("crossdock: no store at {} (has the gateway run here?)", path.display());
            return Err(EXIT_USAGE);
        }
    }
    crate::gateway::open_store(&config).map_err(|e| {
        eprintln!("crossdock: {e}");
        EXIT_USAGE
    })
}

pub fn run(command: Command) -> u8 {
    match command {
        Command::List { config, partner, status, document_type, reference, limit } => {
            let state = match status.as_deref().map(|s| (s, MessageState::parse(s))) {
                None => None,
                Some((_, Some(state))) => Some(state),
                Some((s, None)) => {
                    eprintln!("crossdock: unknown status {s:?}");
                    return EXIT_USAGE;
                }
            };
            let store = match open(config.as_deref()) {
                Ok(store) => store,
                Err(code) => return code,
            };
            let filter = Filter { partner, state, document_type, reference, limit, before: None };
            match store.search(&filter) {
                Ok(messages) => {
                    println!(
                        "{:<36}  {:<13}  {:<12}  {:<7}  {:<8}  {:>4}  received_at",
                        "id", "state", "partner", "type", "via", "docs"
                    );
                    for m in messages {
                        println!(
                            "{:<36}  {:<13}  {:<12}  {:<7}  {:<8}  {:>4}  {}",
                            m.id,
                            m.state.as_str(),
                            m.partner.as_deref().unwrap_or("-"),
                            m.document_type.as_deref().unwrap_or("-"),
                            m.transport,
                            m.documents,
                            m.received_at
                        );
                    }
                    EXIT_OK
                }
                Err(err) => {
                    eprintln!("crossdock: {err}");
                    EXIT_USAGE
                }
            }
        }
        Command::Show { id, config } => {
            let store = match open(config.as_deref()) {
                Ok(store) => store,
                Err(code) => return code,
            };
            match store.message(&id) {
                Ok(Some(detail)) => {
                    println!("{}", serde_json::to_string_pretty(&detail).unwrap_or_default());
                    EXIT_OK
                }
                Ok(None) => {
                    eprintln!("crossdock: no message {id}");
                    EXIT_INVALID
                }
                Err(err) => {
                    eprintln!("crossdock: {err}");
                    EXIT_USAGE
                }
            }
        }
        Command::Replay { id, config } => {
            let store = match open(config.as_deref()) {
                Ok(store) => store,
                Err(code) => return code,
            };
            match store.replay(&id) {
                Ok(replayed) => {
                    println!("{}", serde_json::to_string(&replayed).unwrap_or_default());
                    EXIT_OK
                }
                Err(StoreError::NotFound(_)) => {
                    eprintln!("crossdock: no message {id}");
                    EXIT_INVALID
                }
                Err(err) => {
                    eprintln!("crossdock: {err}");
                    EXIT_INVALID
                }
            }
        }
    }
}
