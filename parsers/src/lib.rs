//! # crossdock-parsers
//!
//! Pure X12 and EDIFACT syntax: reading interchanges exactly, fast and safely, and writing
//! them back. No I/O, no async, no logging; input is bytes, output borrows from it.
//!
//! Layout:
//! - `delimiters`: the standard and its separators (from ISA or UNA, never guessed).
//! - `options`: strict-by-default `ParseOptions` with `allow_*` leniency and `Limits`.
//! - `frame`: finding segment boundaries (the hot path, memchr based).
//! - `segment`: borrowed `Segment` / `Element` / `Component` views and text decoding.
//! - `x12`, `edifact`: the ISA and UNA/UNB header grammars (nom).
//! - `syntax`: the envelope grammar of each standard as data.
//! - `parser`: the one state machine that frames, validates envelopes and emits events.
//! - `envelope`: the events and the interchange / group / transaction set views.
//! - `reader`: `Reader` over a slice, `StreamReader` over a `Read` in bounded memory.
//! - `tokens`: the segments alone, without envelope rules (`segments`).
//! - `tree`: an owned tree of an interchange, for building documents and round trips.
//! - `writer`: serializing a tree with chosen delimiters, counts and trailers computed.
//! - `error`, `location`: `{kind, location}` errors.
//!
//! ```
//! use crossdock_parsers::{Event, ParseOptions, Reader};
//! let input = b"UNB+UNOC:3+SENDER:14+RECEIVER:14+260101:1200+42'UNH+1+ORDERS:D:96A:UN'BGM+220+PO1'UNT+3+1'UNZ+1+42'";
//! let mut reader = Reader::new(input, ParseOptions::default());
//! let mut ids = Vec::new();
//! while let Some(event) = reader.next() {
//!     if let Event::TransactionSet(set) = event {
//!         assert!(set.is_valid());
//!         ids.push(set.id().into_owned());
//!     }
//! }
//! assert_eq!(ids, ["ORDERS"]);
//! ```

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod delimiters;
pub mod edifact;
pub mod envelope;
pub mod error;
mod frame;
pub mod location;
pub mod options;
pub mod parser;
pub mod reader;
pub mod segment;
mod syntax;
pub mod tokens;
pub mod tree;
pub mod writer;
pub mod x12;

pub use delimiters::{ByteDisplay, Delimiters, Standard};
pub use envelope::{
    Event, Group, GroupEnd, Interchange, InterchangeEnd, OwnedTransactionSet, PartyId, SegmentBuf, TransactionSet,
};
pub use error::{Error, ErrorKind};
pub use location::{ControlNumbers, Location};
pub use options::{Limits, ParseOptions};
pub use parser::{Parser, Progress};
pub use reader::{Reader, StreamReader};
pub use segment::{Component, Element, Segment, SegmentFlags, Tag};
pub use tokens::{segments, segments_with, Segments};

/// Detects the standard from the first bytes (after whitespace): `ISA` is X12; `UNA`,
/// `UNB` or `UNH` is EDIFACT.
pub fn detect(input: &[u8]) -> Option<Standard> {
    let input = input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(input);
    let start = input.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))?;
    match input.get(start..start + 3)? {
        b"ISA" => Some(Standard::X12),
        b"UNA" | b"UNB" | b"UNH" => Some(Standard::Edifact),
        _ => None,
    }
}
