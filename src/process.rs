//! Inbound processing of one received body: parse, identify the partner of each interchange,
//! translate each transaction set, and keep a report of everything found, from which the
//! functional acknowledgments are made.
//!
//! The gateway's pipeline runs this on a body in memory, and `crossdock ack` on a stream, one
//! interchange at a time (`Processor`); `translate` streams too, with the same per-set step
//! (`translate_set`).

use crossdock_parsers::{Error, Event, ParseOptions, Reader, TransactionSet};

use crate::canonical::{CanonicalDocument, DocumentKind, QualifiedId, Standard};
use crate::config::{Partner, Partners};
use crate::translate::{self, DataError, Envelopes, Outcome, PartnerContext, Written};

/// What one body held.
#[derive(Debug, Default)]
pub struct Processed {
    pub interchanges: Vec<InterchangeReport>,
    /// Errors outside any interchange (not EDI, data after the last interchange).
    pub errors: Vec<Error>,
}

impl Processed {
    /// Every document translated, in input order.
    pub fn documents(&self) -> impl Iterator<Item = &TranslatedDocument> {
        self.interchanges
            .iter()
            .flat_map(|i| i.groups.iter().flat_map(|g| g.sets.iter().filter_map(|s| s.document.as_ref())))
    }

    /// Whether everything was accepted.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty() && self.interchanges.iter().all(InterchangeReport::is_clean)
    }
}

/// One interchange: its header facts, its own errors, its groups.
#[derive(Debug)]
pub struct InterchangeReport {
    pub standard: Standard,
    pub control_number: String,
    pub sender: QualifiedId,
    pub receiver: QualifiedId,
    /// ISA09/ISA10 or UNB S004 as sent.
    pub date: String,
    pub time: String,
    /// ISA12, or the UNB syntax identifier and version (`UNOC:3`).
    pub version: String,
    pub syntax_version: Option<u8>,
    /// ISA14 = 1.
    pub ack_requested: bool,
    pub test: bool,
    pub offset: u64,
    /// The profile that matched the sender.
    pub partner: Option<String>,
    /// Errors of the interchange itself (ISA/IEA, UNB/UNZ, segments between groups).
    pub errors: Vec<Error>,
    pub groups: Vec<GroupReport>,
    /// TA1 segments it carried (a partner's interchange acknowledgments).
    pub acknowledgments: Vec<Vec<String>>,
}

impl InterchangeReport {
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty() && self.groups.iter().all(GroupReport::is_clean)
    }
}

/// One functional group (or, in EDIFACT without UNG, the messages of the interchange).
#[derive(Debug)]
pub struct GroupReport {
    /// GS01 / UNG 0038; empty for EDIFACT messages without UNG.
    pub functional_id: String,
    pub control_number: String,
    /// GS08 / UNG S008.
    pub version: String,
    pub application_sender: String,
    pub application_receiver: String,
    /// GE01 / UNE 0060 as declared.
    pub declared_count: Option<u64>,
    pub has_header: bool,
    pub errors: Vec<Error>,
    pub sets: Vec<SetReport>,
}

impl GroupReport {
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty() && self.sets.iter().all(SetReport::accepted)
    }
}

/// One transaction set / message.
#[derive(Debug)]
pub struct SetReport {
    /// ST01 / UNH message type.
    pub id: String,
    pub control_number: String,
    /// ST03 (005010), when sent.
    pub implementation_reference: Option<String>,
    /// UNH S009 components (type, version, release, agency, association code).
    pub message_identifier: Vec<String>,
    pub offset: u64,
    pub syntax_errors: Vec<Error>,
    pub data_errors: Vec<DataError>,
    /// We do not translate this type, or the partner's profile does not receive it.
    pub unsupported: bool,
    /// A 997/999/CONTRL: what it acknowledges (None if it cannot be read).
    pub acknowledgment: Option<crate::ack::received::ReceivedAck>,
    /// The set is a 997/999/CONTRL, read rather than translated.
    pub is_acknowledgment: bool,
    pub document: Option<TranslatedDocument>,
}

/// A translated document, held as its canonical JSON: what the store keeps and the ERP gets.
/// The JSON runs about three times the size of the EDI, where the documents themselves had
/// taken about sixteen times (`crossdock ack` of a 52.8 MB file peaked at 882 MB).
#[derive(Debug)]
pub struct TranslatedDocument {
    pub kind: DocumentKind,
    /// The business reference a person searches for: PO number or shipment id.
    pub reference: String,
    /// Empty when processed for acknowledgments only.
    pub json: String,
}

impl TranslatedDocument {
    pub fn new(document: &CanonicalDocument) -> Self {
        let mut json = Vec::new();
        crate::canonical::json_writer::write(document, &mut json);
        // JSON written from strings is UTF-8.
        TranslatedDocument {
            kind: document.kind(),
            reference: document.document.reference().to_owned(),
            json: String::from_utf8(json).unwrap_or_default(),
        }
    }
}

impl SetReport {
    pub fn accepted(&self) -> bool {
        self.document.is_some()
    }
}

/// The partner of a transaction set, and the translation inputs its profile gives;
/// `envelopes` as for `translate::translate`.
pub fn partner_for<'p>(
    partners: &'p Partners,
    set: &TransactionSet<'_>,
    envelopes: &mut Envelopes,
) -> Option<&'p Partner> {
    let (standard, sender, application) = envelopes.sender(set)?;
    partners.identify(standard, sender, application)
}

/// Translates one set with its partner's profile, as `translate::translate` does, and refuses
/// types the profile does not receive.
pub fn translate_set(set: &TransactionSet<'_>, partner: Option<&Partner>, envelopes: &mut Envelopes) -> Outcome {
    if let Some(refused) = refused(set, partner) {
        return refused;
    }
    translate::translate(set, context(partner), envelopes)
}

/// As `translate_set`, appending the document's canonical JSON to `out`
/// (`translate::translate_to_json`).
pub fn translate_set_to_json(
    set: &TransactionSet<'_>,
    partner: Option<&Partner>,
    envelopes: &mut Envelopes,
    out: &mut Vec<u8>,
) -> Outcome<Written> {
    if let Some(refused) = refused(set, partner) {
        return refused;
    }
    translate::translate_to_json(set, context(partner), envelopes, out)
}

fn context(partner: Option<&Partner>) -> PartnerContext<'_> {
    PartnerContext { id: partner.map(|p| p.id.as_str()), xref: partner.map(|p| &p.xref) }
}

/// A type the partner's profile does not receive.
fn refused<T>(set: &TransactionSet<'_>, partner: Option<&Partner>) -> Option<Outcome<T>> {
    partner.filter(|p| !p.receives(&set.id())).map(|_| Outcome::Unsupported { transaction_set: set.id().into_owned() })
}

/// Processes a whole body in memory.
pub fn process(input: &[u8], partners: &Partners, options: ParseOptions) -> Processed {
    let mut processor = Processor::new(partners, true);
    let mut reader = Reader::new(input, options);
    while let Some(event) = reader.next() {
        processor.event(event);
    }
    processor.take()
}

/// Builds the report of a body from its events, in input order: what `process` does with a
/// body in memory, and what `crossdock ack` does with a stream, one interchange at a time.
pub struct Processor<'p> {
    partners: &'p Partners,
    keep_json: bool,
    processed: Processed,
    envelopes: Envelopes,
}

impl<'p> Processor<'p> {
    /// `keep_json`: keep each translated document's JSON (the pipeline), or only whether it
    /// was accepted (`crossdock ack`: every set is translated and validated all the same).
    pub fn new(partners: &'p Partners, keep_json: bool) -> Self {
        Processor { partners, keep_json, processed: Processed::default(), envelopes: Envelopes::default() }
    }

    /// Takes the interchanges reported so far, and the errors found outside any interchange;
    /// after an `InterchangeEnd` event, the last interchange is complete.
    pub fn take(&mut self) -> Processed {
        std::mem::take(&mut self.processed)
    }

    pub fn event(&mut self, event: Event<'_>) {
        let (partners, keep_json, processed) = (self.partners, self.keep_json, &mut self.processed);
        match event {
            Event::InterchangeStart(interchange) => {
                let standard = Standard::from(interchange.standard());
                let header = interchange.header();
                let party = |p: Option<crossdock_parsers::PartyId<'_>>| {
                    p.map(|p| QualifiedId { qualifier: p.qualifier.into_owned(), id: p.id.into_owned() })
                        .unwrap_or_default()
                };
                let (date, time, version) = match (standard, &header) {
                    (Standard::X12, Some(h)) => {
                        (h.text(9).into_owned(), h.text(10).into_owned(), h.text(12).into_owned())
                    }
                    (Standard::Edifact, Some(h)) => {
                        let s004 = h.element(4);
                        (
                            s004.map(|e| e.component_text(1).into_owned()).unwrap_or_default(),
                            s004.map(|e| e.component_text(2).into_owned()).unwrap_or_default(),
                            h.text(1).into_owned(),
                        )
                    }
                    _ => Default::default(),
                };
                let sender = party(interchange.sender());
                let partner = partners.identify(standard, &sender, None).map(|p| p.id.clone());
                processed.interchanges.push(InterchangeReport {
                    standard,
                    control_number: interchange.control_number().map(|c| c.into_owned()).unwrap_or_default(),
                    sender,
                    receiver: party(interchange.receiver()),
                    date,
                    time,
                    version,
                    syntax_version: interchange.syntax_version(),
                    ack_requested: standard == Standard::X12 && header.as_ref().is_some_and(|h| h.text(14) == "1"),
                    test: interchange.is_test(),
                    offset: interchange.offset(),
                    partner,
                    errors: Vec::new(),
                    groups: Vec::new(),
                    acknowledgments: Vec::new(),
                });
            }
            Event::InterchangeAcknowledgment(segment) => {
                if let Some(interchange) = processed.interchanges.last_mut() {
                    interchange.acknowledgments.push(segment.elements().map(|e| e.text().into_owned()).collect());
                }
            }
            Event::GroupStart(group) => {
                if let Some(interchange) = processed.interchanges.last_mut() {
                    interchange.groups.push(GroupReport {
                        functional_id: group.functional_id().into_owned(),
                        control_number: group.control_number().into_owned(),
                        version: group.version().into_owned(),
                        application_sender: group.application_sender().into_owned(),
                        application_receiver: group.application_receiver().into_owned(),
                        declared_count: None,
                        has_header: true,
                        errors: Vec::new(),
                        sets: Vec::new(),
                    });
                }
            }
            Event::TransactionSet(set) => {
                let partner = partner_for(partners, &set, &mut self.envelopes);
                let is_acknowledgment = crate::ack::received::is_acknowledgment(&set.id());
                let acknowledgment = if is_acknowledgment { crate::ack::received::read_set(&set) } else { None };
                let mut json = Vec::new();
                let outcome = if is_acknowledgment {
                    Outcome::Rejected { errors: Vec::new() }
                } else if keep_json {
                    translate_set_to_json(&set, partner, &mut self.envelopes, &mut json)
                } else {
                    translate_set(&set, partner, &mut self.envelopes).map(|document| Written {
                        kind: document.kind(),
                        reference: document.document.reference().to_owned(),
                    })
                };
                let Some(interchange) = processed.interchanges.last_mut() else { return };
                if interchange.partner.is_none() {
                    interchange.partner = partner.map(|p| p.id.clone());
                }
                let in_group = set.group().is_some() && interchange.groups.last().is_some_and(|g| g.has_header);
                if !in_group && interchange.groups.last().is_none_or(|g| g.has_header) {
                    interchange.groups.push(GroupReport {
                        functional_id: String::new(),
                        control_number: String::new(),
                        version: String::new(),
                        application_sender: String::new(),
                        application_receiver: String::new(),
                        declared_count: None,
                        has_header: false,
                        errors: Vec::new(),
                        sets: Vec::new(),
                    });
                }
                let header = set.header();
                let message_identifier = match interchange.standard {
                    Standard::Edifact => header
                        .element(2)
                        .map(|e| e.components().map(|c| c.text().into_owned()).collect())
                        .unwrap_or_default(),
                    Standard::X12 => Vec::new(),
                };
                let (document, data_errors, unsupported) = match outcome {
                    Outcome::Translated(Written { kind, reference }) => {
                        // JSON written from strings is UTF-8.
                        let json = String::from_utf8(json).unwrap_or_default();
                        (Some(TranslatedDocument { kind, reference, json }), Vec::new(), false)
                    }
                    Outcome::Rejected { errors } => (None, errors, false),
                    Outcome::Unsupported { .. } => (None, Vec::new(), true),
                };
                let report = SetReport {
                    id: set.id().into_owned(),
                    control_number: set.control_number().into_owned(),
                    implementation_reference: (interchange.standard == Standard::X12)
                        .then(|| header.text(3).into_owned())
                        .filter(|r| !r.is_empty()),
                    message_identifier,
                    offset: set.offset(),
                    syntax_errors: set.errors().to_vec(),
                    data_errors,
                    unsupported,
                    acknowledgment,
                    is_acknowledgment,
                    document,
                };
                if let Some(group) = interchange.groups.last_mut() {
                    group.sets.push(report);
                }
            }
            Event::GroupEnd(end) => {
                if let Some(group) = processed.interchanges.last_mut().and_then(|i| i.groups.last_mut()) {
                    group.errors.extend_from_slice(end.errors);
                    group.declared_count = end.trailer.and_then(|t| t.text(1).parse().ok());
                }
            }
            Event::InterchangeEnd(end) => {
                if let Some(interchange) = processed.interchanges.last_mut() {
                    interchange.errors.extend_from_slice(end.errors);
                }
            }
            Event::Error(error) => processed.errors.push(error.clone()),
        }
    }
}
