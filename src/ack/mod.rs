//! Functional acknowledgments: 997 (004010 partners), 999 (005010), TA1 for interchange-level
//! problems, and CONTRL for EDIFACT, made from the report of a processed interchange.
//!
//! The acknowledgment travels in an interchange of its own, from us to the partner; its
//! envelope and control numbers come from the caller (`AckEnvelope`).

mod contrl;
mod x12;

use crossdock_parsers::tree::Interchange;

use crate::canonical::Standard;
use crate::config::partner::{AckKind, Ta1Policy};
use crate::process::InterchangeReport;
use crate::translate::render::envelope::{EnvelopeSpec, Stamp};

/// What to acknowledge with, from the partner's profile (or, without one, from the input).
#[derive(Clone, Copy, Debug)]
pub struct AckPolicy {
    pub kind: AckKind,
    pub ta1: Ta1Policy,
}

impl AckPolicy {
    /// Without a profile: 999 for 005010 groups, 997 before, CONTRL for EDIFACT; TA1 on error.
    pub fn default_for(report: &InterchangeReport) -> AckPolicy {
        let kind = match report.standard {
            Standard::Edifact => AckKind::Contrl,
            Standard::X12 if report.groups.iter().any(|g| g.version.starts_with("005")) => AckKind::X999,
            Standard::X12 => AckKind::X997,
        };
        AckPolicy { kind, ta1: Ta1Policy::OnError }
    }
}

/// The envelope and numbers of the acknowledgment interchange.
pub struct AckEnvelope<'a> {
    pub spec: EnvelopeSpec,
    pub interchange_number: u64,
    /// Group numbers (X12) or message references (EDIFACT), as needed.
    pub next_number: &'a mut dyn FnMut() -> u64,
    pub stamp: Stamp,
}

/// What kind of acknowledgment an interchange gets, and the interchange carrying it; `None`
/// when nothing is to be sent (the partner wants none, or the input was an acknowledgment).
pub fn acknowledge(
    report: &InterchangeReport,
    policy: AckPolicy,
    envelope: &mut AckEnvelope<'_>,
) -> Option<Interchange> {
    match report.standard {
        Standard::X12 => x12::acknowledge(report, policy, envelope),
        Standard::Edifact => contrl::acknowledge(report, policy, envelope),
    }
}

/// The acknowledgment's result for the interchange as a whole, for metrics: `accepted`,
/// `partially_accepted` or `rejected`.
pub fn result(report: &InterchangeReport) -> &'static str {
    let sets: Vec<bool> = report.groups.iter().flat_map(|g| g.sets.iter().map(|s| s.accepted())).collect();
    if !report.errors.is_empty() || sets.iter().all(|a| !a) {
        "rejected"
    } else if report.is_clean() {
        "accepted"
    } else {
        "partially_accepted"
    }
}

/// A value copied into an acknowledgment, made safe for its delimiters.
pub(crate) fn copy_of(value: &str, max: usize, delimiters: &crossdock_parsers::Delimiters) -> String {
    value
        .chars()
        .filter(|c| !(c.is_control() || (c.is_ascii() && delimiters.is_delimiter(*c as u8))))
        .take(max)
        .collect()
}
