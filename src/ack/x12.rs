//! 997 and 999 functional acknowledgments, and TA1 interchange acknowledgments.

use crossdock_parsers::tree::{Group, Interchange, Segment, TransactionSet};
use crossdock_parsers::{Error, ErrorKind};

use super::{copy_of, AckEnvelope, AckPolicy};
use crate::config::partner::{AckKind, Ta1Policy};
use crate::process::{GroupReport, InterchangeReport, SetReport};
use crate::translate::render::envelope;

pub(super) fn acknowledge(
    report: &InterchangeReport,
    policy: AckPolicy,
    out: &mut AckEnvelope<'_>,
) -> Option<Interchange> {
    let ta1 = match policy.ta1 {
        Ta1Policy::Always => true,
        Ta1Policy::OnError => !report.errors.is_empty(),
        Ta1Policy::Never => false,
    };
    let mut interchange = envelope::x12_shell(&out.spec, out.interchange_number, &out.stamp);
    if ta1 {
        interchange.acknowledgments.push(ta1_segment(report));
    }
    // A rejected interchange is answered by its TA1 alone: its groups are not examined.
    let groups_acknowledged = report.errors.is_empty() || !ta1;
    if groups_acknowledged && policy.kind != AckKind::None {
        for group in &report.groups {
            // Acknowledgments are never acknowledged.
            if group.functional_id == "FA" {
                continue;
            }
            let number = (out.next_number)();
            let set = functional_ack(group, policy.kind, number, &out.spec.delimiters);
            let version = if policy.kind == AckKind::X999 { "005010X231" } else { group_version(group) };
            let mut spec = out.spec.clone();
            spec.application_sender = non_empty(&group.application_receiver, &out.spec.application_sender);
            spec.application_receiver = non_empty(&group.application_sender, &out.spec.application_receiver);
            interchange.groups.push(Group {
                header: Some(envelope::gs(&spec, "FA", number, version, &out.stamp)),
                transaction_sets: vec![set],
            });
        }
    }
    if interchange.acknowledgments.is_empty() && interchange.groups.is_empty() {
        return None;
    }
    Some(interchange)
}

fn non_empty(value: &str, fallback: &str) -> String {
    if value.is_empty() {
        fallback.to_owned()
    } else {
        value.to_owned()
    }
}

fn group_version(group: &GroupReport) -> &str {
    if group.version.len() >= 6 {
        &group.version[..6]
    } else {
        "004010"
    }
}

/// TA1: the interchange's control number, date, time, A or R, and a note code.
fn ta1_segment(report: &InterchangeReport) -> Segment {
    let (status, note) = match report.errors.first() {
        None => ("A", "000"),
        Some(error) => ("R", ta1_note(error)),
    };
    Segment::simple("TA1", &[report.control_number.as_str(), &report.date, &report.time, status, note])
}

/// TA105 note code (I18) for an interchange-level error.
fn ta1_note(error: &Error) -> &'static str {
    match &error.kind {
        ErrorKind::ControlNumberMismatch { .. } => "001",
        ErrorKind::UnsupportedVersion { .. } => "017",
        ErrorKind::CountMismatch { .. } => "021",
        ErrorKind::MissingTrailer { .. } | ErrorKind::Truncated { .. } => "023",
        ErrorKind::MissingElement { .. } => "018",
        ErrorKind::IsaElementWidth { element, .. } => match element {
            1 => "010",
            2 => "011",
            3 => "012",
            4 => "013",
            5 => "005",
            6 => "006",
            7 => "007",
            8 => "008",
            9 => "014",
            10 => "015",
            11 => "016",
            12 => "017",
            13 => "018",
            14 => "019",
            15 => "020",
            _ => "022",
        },
        ErrorKind::UnexpectedSegment { .. } => "024",
        _ => "022",
    }
}

/// A 997 or 999 for one functional group.
fn functional_ack(
    group: &GroupReport,
    kind: AckKind,
    number: u64,
    d: &crossdock_parsers::Delimiters,
) -> TransactionSet {
    let x999 = kind == AckKind::X999;
    let control = format!("{:04}", number % 10_000);
    let header = if x999 {
        Segment::simple("ST", &["999", &control, "005010X231"])
    } else {
        Segment::simple("ST", &["997", &control])
    };
    let mut segments = Vec::new();
    let mut ak1 = vec![group.functional_id.clone(), group.control_number.clone()];
    if x999 {
        ak1.push(group.version.clone());
    }
    segments.push(Segment::simple("AK1", &ak1));
    let mut accepted = 0u64;
    for set in &group.sets {
        let mut ak2 = vec![set.id.clone(), set.control_number.clone()];
        if x999 {
            if let Some(reference) = &set.implementation_reference {
                ak2.push(reference.clone());
            }
        }
        segments.push(Segment::simple("AK2", &ak2));
        segment_errors(set, x999, d, &mut segments);
        let codes = set_codes(set);
        if set.accepted() {
            accepted += 1;
        }
        let mut ak5 = vec![if set.accepted() { "A".to_owned() } else { "R".to_owned() }];
        ak5.extend(codes.into_iter().take(5).map(str::to_owned));
        segments.push(Segment::simple(if x999 { "IK5" } else { "AK5" }, &ak5));
    }
    let received = group.sets.len() as u64;
    let group_codes = group_codes(group);
    let status = if !group_codes.is_empty() || (accepted == 0 && received > 0) {
        "R"
    } else if accepted < received {
        "P"
    } else {
        "A"
    };
    let included = group.declared_count.unwrap_or(received);
    let mut ak9 = vec![status.to_owned(), included.to_string(), received.to_string(), accepted.to_string()];
    ak9.extend(group_codes.into_iter().take(5).map(str::to_owned));
    segments.push(Segment::simple("AK9", &ak9));
    TransactionSet { header, segments }
}

/// AK5/IK5 transaction set syntax error codes (718).
fn set_codes(set: &SetReport) -> Vec<&'static str> {
    let mut codes = Vec::new();
    let mut add = |code: &'static str| {
        if !codes.contains(&code) {
            codes.push(code);
        }
    };
    if set.unsupported {
        add("1");
    }
    for error in &set.syntax_errors {
        match &error.kind {
            ErrorKind::MissingTrailer { .. } => add("2"),
            ErrorKind::ControlNumberMismatch { .. } => add("3"),
            ErrorKind::CountMismatch { .. } => add("4"),
            ErrorKind::MissingElement { element, .. } if *element == "ST01" => add("6"),
            ErrorKind::MissingElement { .. } => add("7"),
            _ => add("5"),
        }
    }
    if !set.data_errors.is_empty() {
        add("5");
    }
    codes
}

/// AK9 functional group syntax error codes (716).
fn group_codes(group: &GroupReport) -> Vec<&'static str> {
    let mut codes = Vec::new();
    for error in &group.errors {
        let code = match &error.kind {
            ErrorKind::MissingTrailer { .. } => "3",
            ErrorKind::ControlNumberMismatch { .. } => "4",
            ErrorKind::CountMismatch { .. } => "5",
            ErrorKind::MissingElement { .. } => "6",
            _ => continue,
        };
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

/// One AK3/IK3 per segment in error, with its AK4/IK4 element errors.
fn segment_errors(set: &SetReport, x999: bool, d: &crossdock_parsers::Delimiters, segments: &mut Vec<Segment>) {
    // (position, tag, segment code, element errors as (position, component, reference, code, value))
    type ElementError = (u16, Option<u16>, Option<u16>, &'static str, String);
    let mut by_segment: Vec<(u32, String, &'static str, Vec<ElementError>)> = Vec::new();
    fn entry(
        by_segment: &mut Vec<(u32, String, &'static str, Vec<ElementError>)>,
        position: u32,
        tag: String,
        code: &'static str,
    ) -> usize {
        match by_segment.iter().position(|(p, t, _, _)| *p == position && *t == tag) {
            Some(i) => {
                if by_segment[i].2 == "8" {
                    by_segment[i].2 = code;
                }
                i
            }
            None => {
                by_segment.push((position, tag, code, Vec::new()));
                by_segment.len() - 1
            }
        }
    }
    for error in &set.data_errors {
        let Some(position) = error.location.segment_position else { continue };
        let tag = match &error.kind {
            crate::translate::DataErrorKind::MandatorySegmentMissing { segment, .. } => (*segment).to_owned(),
            _ => error.location.segment_tag.map(|t| t.to_string()).unwrap_or_default(),
        };
        if tag.is_empty() {
            continue;
        }
        let index = entry(&mut by_segment, position, tag, error.kind.segment_code());
        if let (Some(code), Some(element)) = (error.kind.element_code(), error.location.element) {
            let value = error.value.as_deref().map(|v| copy_of(v, 99, d)).unwrap_or_default();
            by_segment[index].3.push((element, error.location.component, error.element_reference, code, value));
        }
    }
    for error in &set.syntax_errors {
        let (Some(position), Some(tag)) = (error.location.segment_position, error.location.segment_tag) else {
            continue;
        };
        let element_code = match &error.kind {
            ErrorKind::TooManyElements { .. } => Some("3"),
            ErrorKind::TooManyComponents { .. } => Some("13"),
            ErrorKind::TooManyRepetitions { .. } => Some("12"),
            ErrorKind::InvalidCharacter { .. } => Some("6"),
            ErrorKind::LineBreakInSegment
            | ErrorKind::TransactionSetTooLong { .. }
            | ErrorKind::TransactionSetTooLarge { .. } => None,
            // Envelope errors are reported in AK5.
            _ => continue,
        };
        let index = entry(&mut by_segment, position, tag.to_string(), "8");
        if let (Some(code), Some(element)) = (element_code, error.location.element) {
            by_segment[index].3.push((element, error.location.component, None, code, String::new()));
        }
    }
    by_segment.sort_by_key(|(position, ..)| *position);
    for (position, tag, code, elements) in by_segment {
        segments
            .push(Segment::simple(if x999 { "IK3" } else { "AK3" }, &[tag.as_str(), &position.to_string(), "", code]));
        for (element, component, reference, code, value) in elements {
            let position = match component {
                Some(c) => crossdock_parsers::tree::Element::composite([element.to_string(), c.to_string()]),
                None => crossdock_parsers::tree::Element::simple(element.to_string()),
            };
            let mut ak4 = Segment::new(
                if x999 { "IK4" } else { "AK4" },
                vec![
                    position,
                    crossdock_parsers::tree::Element::simple(reference.map(|r| r.to_string()).unwrap_or_default()),
                ],
            );
            ak4.elements.push(crossdock_parsers::tree::Element::simple(code));
            if !value.is_empty() {
                ak4.elements.push(crossdock_parsers::tree::Element::simple(value));
            }
            segments.push(ak4);
        }
    }
}
