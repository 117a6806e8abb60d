//! Functional acknowledgments: 997 (004010 partners), 999 (005010), TA1 for interchange-level
//! problems, and CONTRL for EDIFACT, made from the report of a processed interchange.
//!
//! The acknowledgment travels in an interchange of its own, from us to the partner; its
//! envelope and control numbers come from the caller (`AckEnvelope`).

mod contrl;
pub mod received;
mod x12;

use crossdock_parsers::tree::Interchange;
use crossdock_parsers::writer::{write, WriteOptions};
use crossdock_parsers::Delimiters;

use crate::canonical::Standard;
use crate::config::partner::{AckKind, Ta1Policy};
use crate::config::Partners;
use crate::control_numbers::Reservation;
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

/// An acknowledgment ready to send.
#[derive(Clone, Debug)]
pub struct Acknowledgment {
    /// Whom it goes to: the partner's id, or `QUALIFIER:ID` of an unknown sender.
    pub to: String,
    /// `997`, `999`, `TA1` or `CONTRL`.
    pub kind: &'static str,
    /// `accepted`, `partially_accepted` or `rejected`.
    pub result: &'static str,
    pub bytes: Vec<u8>,
}

/// The acknowledgment interchange for one received interchange, in its partner's terms (or,
/// without a profile, back to its sender with the sender's delimiters). `reserve(to, groups)`
/// hands out the control numbers: one interchange and `groups` group numbers.
pub fn for_interchange(
    report: &InterchangeReport,
    partners: &Partners,
    reserve: &mut dyn FnMut(&str, u64) -> Result<Reservation, String>,
    stamp: &Stamp,
) -> Result<Option<Acknowledgment>, String> {
    let partner = report.partner.as_deref().and_then(|id| partners.get(id));
    let policy = match partner {
        Some(p) => AckPolicy {
            kind: p.acknowledgment(report.standard),
            ta1: p.x12.as_ref().map(|x| x.ta1).unwrap_or(Ta1Policy::OnError),
        },
        None => AckPolicy::default_for(report),
    };
    if policy.kind == AckKind::None && policy.ta1 == Ta1Policy::Never {
        return Ok(None);
    }
    let mut spec = match partner.and_then(|p| p.envelope_spec(report.standard)) {
        Some(spec) => spec,
        None => EnvelopeSpec {
            standard: report.standard,
            version: report
                .groups
                .first()
                .map(|g| g.version.get(..6).unwrap_or(&g.version).to_owned())
                .unwrap_or_else(|| "004010".into()),
            delimiters: match report.standard {
                Standard::X12 => Delimiters::X12,
                Standard::Edifact => Delimiters::EDIFACT,
            },
            sender: report.receiver.clone(),
            receiver: report.sender.clone(),
            application_sender: String::new(),
            application_receiver: String::new(),
            syntax: (report.version.split(':').next().unwrap_or("UNOC").to_owned(), report.syntax_version.unwrap_or(3)),
            association_code: None,
            test: report.test,
        },
    };
    spec.test = report.test;
    if policy.kind == AckKind::X999 {
        spec.version = "005010".into();
    }
    let key =
        partner.map(|p| p.id.clone()).unwrap_or_else(|| format!("{}:{}", report.sender.qualifier, report.sender.id));
    let groups = report.groups.len() as u64;
    let numbers = reserve(&key, groups.max(1))?;
    let mut next = numbers.group;
    let mut next_number = move || {
        let n = next;
        next += 1;
        n
    };
    let mut envelope = AckEnvelope {
        spec,
        interchange_number: numbers.interchange,
        next_number: &mut next_number,
        stamp: stamp.clone(),
    };
    let Some(interchange) = acknowledge(report, policy, &mut envelope) else { return Ok(None) };
    let kind = match (report.standard, policy.kind) {
        (Standard::Edifact, _) => "CONTRL",
        (Standard::X12, _) if interchange.groups.is_empty() => "TA1",
        (Standard::X12, AckKind::X999) => "999",
        (Standard::X12, _) => "997",
    };
    let mut bytes = Vec::new();
    write(&interchange, WriteOptions { line_break_after_segment: true }, &mut bytes).map_err(|e| e.to_string())?;
    Ok(Some(Acknowledgment { to: key, kind, result: result(report), bytes }))
}
