//! CONTRL: the EDIFACT syntax and service report (UCI for the interchange, UCF for groups,
//! UCM for messages, UCS/UCD for segments and elements in error).

use crossdock_parsers::tree::{Element, Interchange, Segment, TransactionSet};
use crossdock_parsers::ErrorKind;

use super::{AckEnvelope, AckPolicy};
use crate::config::partner::AckKind;
use crate::process::{InterchangeReport, SetReport};
use crate::translate::render::envelope;

/// Action codes (0083).
const ACKNOWLEDGED: &str = "7";
const REJECTED: &str = "4";

pub(super) fn acknowledge(
    report: &InterchangeReport,
    policy: AckPolicy,
    out: &mut AckEnvelope<'_>,
) -> Option<Interchange> {
    if policy.kind != AckKind::Contrl {
        return None;
    }
    // A CONTRL is never answered with a CONTRL.
    let only_contrl = report.groups.iter().flat_map(|g| &g.sets).all(|s| s.id == "CONTRL");
    if only_contrl && report.groups.iter().any(|g| !g.sets.is_empty()) {
        return None;
    }
    let reference = (out.next_number)().to_string();
    let v4 = report.syntax_version == Some(4);
    let identifier = if v4 { vec!["CONTRL", "4", "1", "UN"] } else { vec!["CONTRL", "D", "3", "UN"] };
    let header = Segment::new("UNH", vec![Element::simple(reference.clone()), Element::composite(identifier)]);
    let mut segments = Vec::new();

    let mut uci = vec![
        Element::simple(report.control_number.clone()),
        Element::composite([report.sender.id.clone(), report.sender.qualifier.clone()]),
        Element::composite([report.receiver.id.clone(), report.receiver.qualifier.clone()]),
    ];
    match report.errors.first() {
        None => uci.push(Element::simple(ACKNOWLEDGED)),
        Some(error) => {
            uci.push(Element::simple(REJECTED));
            uci.push(Element::simple(syntax_code(&error.kind)));
            if let Some(tag) = error.location.segment_tag {
                uci.push(Element::simple(tag.to_string()));
                if let Some(element) = error.location.element {
                    uci.push(Element::composite([element.to_string()]));
                }
            }
        }
    }
    segments.push(Segment::new("UCI", uci).trim_trailing_empty());

    if report.errors.is_empty() {
        for group in &report.groups {
            if group.has_header {
                let mut ucf = vec![
                    Element::simple(group.control_number.clone()),
                    Element::composite([group.application_sender.clone()]),
                    Element::composite([group.application_receiver.clone()]),
                ];
                match group.errors.first() {
                    // Rejected messages are reported in their own UCM.
                    None => ucf.push(Element::simple(ACKNOWLEDGED)),
                    Some(error) => {
                        ucf.push(Element::simple(REJECTED));
                        ucf.push(Element::simple(syntax_code(&error.kind)));
                    }
                }
                segments.push(Segment::new("UCF", ucf));
            }
            for set in &group.sets {
                message(set, &mut segments);
            }
        }
    }
    let contrl = TransactionSet { header, segments };
    Some(envelope::edifact_shell(&out.spec, out.interchange_number, &out.stamp, vec![contrl]))
}

/// UCM for a message, with UCS/UCD for its errors.
fn message(set: &SetReport, segments: &mut Vec<Segment>) {
    let identifier: Vec<String> = set.message_identifier.iter().take(4).cloned().collect();
    let mut ucm = vec![Element::simple(set.control_number.clone()), Element::composite(identifier)];
    if set.accepted() {
        ucm.push(Element::simple(ACKNOWLEDGED));
        segments.push(Segment::new("UCM", ucm));
        return;
    }
    ucm.push(Element::simple(REJECTED));
    // A message-level error (its trailer) goes on the UCM itself.
    let envelope_error = set.syntax_errors.iter().find(|e| {
        matches!(
            e.kind,
            ErrorKind::CountMismatch { .. }
                | ErrorKind::ControlNumberMismatch { .. }
                | ErrorKind::MissingTrailer { .. }
        )
    });
    if let Some(error) = envelope_error {
        ucm.push(Element::simple(syntax_code(&error.kind)));
    } else if set.unsupported {
        // The message type is not supported here.
        ucm.push(Element::simple("18"));
    }
    segments.push(Segment::new("UCM", ucm));
    // UCS per segment in error, then UCD per element.
    // Segment position, its own error code, and its element errors (code, element, component).
    type ElementError = (&'static str, u16, Option<u16>);
    let mut by_segment: Vec<(u32, Option<&'static str>, Vec<ElementError>)> = Vec::new();
    for error in &set.data_errors {
        let Some(position) = error.location.segment_position else { continue };
        let index = match by_segment.iter().position(|(p, ..)| *p == position) {
            Some(i) => i,
            None => {
                by_segment.push((position, None, Vec::new()));
                by_segment.len() - 1
            }
        };
        match error.location.element {
            Some(element) if error.is_element_error() => {
                by_segment[index].2.push((error.kind.edifact_code(), element, error.location.component))
            }
            _ => by_segment[index].1 = by_segment[index].1.or(Some(error.kind.edifact_code())),
        }
    }
    for error in &set.syntax_errors {
        let Some(position) = error.location.segment_position else { continue };
        let code = match &error.kind {
            ErrorKind::TooManyElements { .. } | ErrorKind::TooManyComponents { .. } => "16",
            ErrorKind::TooManyRepetitions { .. } => "35",
            ErrorKind::InvalidCharacter { .. } | ErrorKind::LineBreakInSegment => "21",
            _ => continue,
        };
        if !by_segment.iter().any(|(p, ..)| *p == position) {
            by_segment.push((position, Some(code), Vec::new()));
        }
    }
    by_segment.sort_by_key(|(p, ..)| *p);
    for (position, code, elements) in by_segment {
        let mut ucs = vec![Element::simple(position.to_string())];
        if let Some(code) = code {
            ucs.push(Element::simple(code));
        }
        segments.push(Segment::new("UCS", ucs));
        for (code, element, component) in elements {
            let position = match component {
                Some(c) => Element::composite([element.to_string(), c.to_string()]),
                None => Element::simple(element.to_string()),
            };
            segments.push(Segment::new("UCD", vec![Element::simple(code), position]));
        }
    }
}

/// 0085 syntax error code for an envelope error.
fn syntax_code(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidSyntaxIdentifier { .. } | ErrorKind::UnsupportedSyntaxVersion { .. } => "2",
        ErrorKind::ControlNumberMismatch { .. } => "28",
        ErrorKind::CountMismatch { .. } => "29",
        ErrorKind::MissingTrailer { .. } | ErrorKind::MissingElement { .. } | ErrorKind::Truncated { .. } => "13",
        ErrorKind::InvalidCharacter { .. } | ErrorKind::LineBreakInSegment => "21",
        ErrorKind::UnexpectedSegment { .. } => "15",
        _ => "18",
    }
}
