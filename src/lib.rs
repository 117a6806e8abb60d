//! # Crossdock
//!
//! An EDI gateway. Sources (HTTP, AS2, SFTP, webhooks) store raw interchanges durably; the
//! pipeline parses them, identifies the trading partner, validates, translates them to the
//! canonical JSON model and acknowledges them; sinks deliver the JSON to the ERP and send
//! rendered EDI back to partners.
//!
//! Layout (see ARCHITECTURE.md for the full codemap):
//! - `cli`: the `crossdock` command line, one file per command.

pub mod cli;
