//! Envelopes around rendered transaction sets: ISA/GS/ST or UNA/UNB/UNH, with the control
//! numbers the caller allocated. Trailers are the writer's job.

use crossdock_parsers::tree::{self, Element, Group, Interchange, Segment, TransactionSet};
use crossdock_parsers::Delimiters;

use crate::canonical::{DocumentKind, QualifiedId, Standard};

/// Who and what an interchange is from and to.
#[derive(Clone, Debug)]
pub struct EnvelopeSpec {
    pub standard: Standard,
    /// `004010`, `005010`; `D96A`, `D01B`.
    pub version: String,
    pub delimiters: Delimiters,
    /// ISA05:ISA06 or UNB sender.
    pub sender: QualifiedId,
    pub receiver: QualifiedId,
    /// GS02 / GS03.
    pub application_sender: String,
    pub application_receiver: String,
    /// UNB syntax identifier and version (`UNOC`, 3).
    pub syntax: (String, u8),
    /// UNH association assigned code (`EAN008`), when the partner uses one.
    pub association_code: Option<String>,
    pub test: bool,
}

/// Date and time stamps for the envelope: `(CCYYMMDD, HHMM)`.
#[derive(Clone, Debug)]
pub struct Stamp {
    pub date: String,
    pub time: String,
}

impl Stamp {
    /// The current time in UTC, or `SOURCE_DATE_EPOCH` when set (reproducible output).
    pub fn now() -> Stamp {
        let seconds =
            std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or_else(|| {
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
            });
        let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
        let minute_of_day = (seconds % 86_400) / 60;
        Stamp {
            date: format!("{year:04}{month:02}{day:02}"),
            time: format!("{:02}{:02}", minute_of_day / 60, minute_of_day % 60),
        }
    }
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// One transaction set to wrap: its type, control number and body.
pub struct Rendered {
    pub kind: DocumentKind,
    pub control_number: String,
    pub body: Vec<Segment>,
}

/// Wraps transaction sets in one interchange: one group per document type, in order of first
/// appearance, with `group_numbers` assigned in that order.
pub fn interchange(
    spec: &EnvelopeSpec,
    interchange_number: u64,
    group_numbers: &mut dyn FnMut() -> u64,
    sets: Vec<Rendered>,
    stamp: &Stamp,
) -> Interchange {
    let mut groups: Vec<(DocumentKind, Vec<TransactionSet>)> = Vec::new();
    for set in sets {
        let header = set_header(spec, set.kind, &set.control_number);
        let set = TransactionSet { header, segments: set.body };
        match groups.iter_mut().find(|(k, _)| *k == set_kind(&set, spec.standard)) {
            Some((_, sets)) => sets.push(set),
            None => {
                let kind = set_kind(&set, spec.standard);
                groups.push((kind, vec![set]));
            }
        }
    }
    match spec.standard {
        Standard::X12 => x12(spec, interchange_number, group_numbers, groups, stamp),
        Standard::Edifact => edifact(spec, interchange_number, groups, stamp),
    }
}

/// ST or UNH of a transaction set of `kind`.
pub fn set_header(spec: &EnvelopeSpec, kind: DocumentKind, control_number: &str) -> Segment {
    match spec.standard {
        Standard::X12 => Segment::simple("ST", &[kind.x12_transaction_set(), control_number]),
        Standard::Edifact => {
            let (version, release) = spec.version.split_at(spec.version.len().min(1));
            let mut s009 =
                vec![kind.edifact_message().to_owned(), version.to_owned(), release.to_owned(), "UN".to_owned()];
            if let Some(code) = &spec.association_code {
                s009.push(code.clone());
            }
            Segment::new("UNH", vec![Element::simple(control_number), Element::composite(s009)])
        }
    }
}

fn set_kind(set: &TransactionSet, standard: Standard) -> DocumentKind {
    let id = match standard {
        Standard::X12 => set.header.value(1).to_owned(),
        Standard::Edifact => set.header.elements.get(1).map(|e| e.value().to_owned()).unwrap_or_default(),
    };
    DocumentKind::from_document_type(&id).unwrap_or(DocumentKind::PurchaseOrder)
}

/// The ISA of an interchange we send.
pub fn isa(spec: &EnvelopeSpec, number: u64, stamp: &Stamp) -> Segment {
    let version = x12_interchange_version(&spec.version);
    let repetition = if version == "00501" {
        spec.delimiters.repetition.map(|r| (r as char).to_string()).unwrap_or_else(|| "^".into())
    } else {
        "U".into()
    };
    Segment::simple(
        "ISA",
        &[
            "00".to_owned(),
            " ".repeat(10),
            "00".to_owned(),
            " ".repeat(10),
            spec.sender.qualifier.clone(),
            format!("{:<15}", spec.sender.id),
            spec.receiver.qualifier.clone(),
            format!("{:<15}", spec.receiver.id),
            stamp.date[2..].to_owned(),
            stamp.time.clone(),
            repetition,
            version.to_owned(),
            format!("{number:09}"),
            "0".to_owned(),
            if spec.test { "T" } else { "P" }.to_owned(),
            (spec.delimiters.component as char).to_string(),
        ],
    )
}

/// ISA12 for a GS08 version: `00501` for 005010, `00401` otherwise.
pub fn x12_interchange_version(version: &str) -> &'static str {
    if version.starts_with("005") {
        "00501"
    } else {
        "00401"
    }
}

/// A GS for a functional group we send.
pub fn gs(spec: &EnvelopeSpec, functional_id: &str, number: u64, version: &str, stamp: &Stamp) -> Segment {
    Segment::simple(
        "GS",
        &[
            functional_id,
            &spec.application_sender,
            &spec.application_receiver,
            &stamp.date,
            &stamp.time,
            &number.to_string(),
            "X",
            version,
        ],
    )
}

/// An X12 interchange shell with our ISA.
pub fn x12_shell(spec: &EnvelopeSpec, number: u64, stamp: &Stamp) -> Interchange {
    let mut delimiters = spec.delimiters;
    if x12_interchange_version(&spec.version) == "00401" {
        delimiters.repetition = None;
    }
    Interchange {
        standard: crossdock_parsers::Standard::X12,
        delimiters,
        service_string_advice: false,
        header: Some(isa(spec, number, stamp)),
        acknowledgments: Vec::new(),
        groups: Vec::new(),
    }
}

fn x12(
    spec: &EnvelopeSpec,
    number: u64,
    group_numbers: &mut dyn FnMut() -> u64,
    groups: Vec<(DocumentKind, Vec<TransactionSet>)>,
    stamp: &Stamp,
) -> Interchange {
    let mut interchange = x12_shell(spec, number, stamp);
    interchange.groups = groups
        .into_iter()
        .map(|(kind, sets)| Group {
            header: Some(gs(spec, kind.x12_functional_id(), group_numbers(), &spec.version, stamp)),
            transaction_sets: sets,
        })
        .collect();
    interchange
}

/// The UNB of an interchange we send.
pub fn unb(spec: &EnvelopeSpec, number: u64, stamp: &Stamp) -> Segment {
    let (identifier, version) = &spec.syntax;
    let date = if *version >= 4 { stamp.date.clone() } else { stamp.date[2..].to_owned() };
    let mut unb = vec![
        Element::composite([identifier.clone(), version.to_string()]),
        Element::composite([spec.sender.id.clone(), spec.sender.qualifier.clone()]),
        Element::composite([spec.receiver.id.clone(), spec.receiver.qualifier.clone()]),
        Element::composite([date, stamp.time.clone()]),
        Element::simple(number.to_string()),
    ];
    if spec.test {
        unb.extend([
            Element::empty(),
            Element::empty(),
            Element::empty(),
            Element::empty(),
            Element::empty(),
            Element::simple("1"),
        ]);
    }
    Segment::new("UNB", unb).trim_trailing_empty()
}

/// An EDIFACT interchange of messages without groups.
pub fn edifact_shell(spec: &EnvelopeSpec, number: u64, stamp: &Stamp, messages: Vec<TransactionSet>) -> Interchange {
    Interchange {
        standard: crossdock_parsers::Standard::Edifact,
        delimiters: spec.delimiters,
        service_string_advice: true,
        header: Some(unb(spec, number, stamp)),
        acknowledgments: Vec::new(),
        groups: vec![Group { header: None, transaction_sets: messages }],
    }
}

fn edifact(
    spec: &EnvelopeSpec,
    number: u64,
    groups: Vec<(DocumentKind, Vec<TransactionSet>)>,
    stamp: &Stamp,
) -> Interchange {
    edifact_shell(spec, number, stamp, groups.into_iter().flat_map(|(_, sets)| sets).collect())
}

/// The tree for a standalone set, for tests and tools.
pub fn single(spec: &EnvelopeSpec, numbers: (u64, u64), set: Rendered, stamp: &Stamp) -> tree::Interchange {
    let mut group = Some(numbers.1);
    interchange(spec, numbers.0, &mut || group.take().unwrap_or(numbers.1), vec![set], stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}
