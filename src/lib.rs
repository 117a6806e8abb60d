//! # Crossdock
//!
//! An EDI gateway. Sources (HTTP, AS2, SFTP, webhooks) store raw interchanges durably; the
//! pipeline parses them, identifies the trading partner, validates, translates them to the
//! canonical JSON model and acknowledges them; sinks deliver the JSON to the ERP and send
//! rendered EDI back to partners.
//!
//! Layout (see ARCHITECTURE.md for the full codemap):
//! - `canonical`: the canonical document model (serde, JSON Schema).
//! - `translate`: maps between parsed EDI and the model, both ways; validation.
//! - `config`: partner profiles and secret references.
//! - `process`: inbound processing of a body: parse, identify, translate, report.
//! - `ack`: 997/999/TA1/CONTRL from a processed interchange.
//! - `control_numbers`: outbound control numbers for the CLI.
//! - `as2`: AS2 messages and MDNs (RFC 4130): MIME, CMS, certificates.
//! - `cli`: the `crossdock` command line, one file per command.

pub mod ack;
pub mod as2;
pub mod canonical;
pub mod cli;
pub mod config;
pub mod control_numbers;
pub mod gateway;
pub mod metrics;
pub mod pipeline;
pub mod process;
pub mod sinks;
pub mod sources;
pub mod store;
pub mod translate;
