//! Translation: parsed transaction sets to canonical documents (inbound), and canonical
//! documents back to the partner's EDI (`render`).
//!
//! Every map follows one rule: a segment is either mapped into the model or kept whole under
//! `extensions` with its position in the transaction set. A segment is kept whole when the
//! model cannot hold all of it (an unknown qualifier, an element the model has no field for, a
//! second value for a single-valued field). Mapped segments are validated against the
//! dictionary first; their errors are located and coded for the acknowledgment.

pub mod dictionary;
mod edifact_inbound;
mod elements;
pub mod error;
pub mod render;
mod validate;
pub mod vocab;
mod x12_inbound;
pub mod xref;

use std::borrow::Cow;

use crossdock_parsers::{ControlNumbers, Location, Segment, TransactionSet};

use elements::Elements;

use crate::canonical::json_writer::{EnvelopeJson, PurchaseOrderStream, SharedEnvelopeJson};
use crate::canonical::{
    CanonicalDocument, Document, DocumentKind, Envelope, Extension, ExtensionElement, QualifiedId, Standard,
};
pub use error::{DataError, DataErrorKind};
pub use xref::Xref;

/// What became of one transaction set: its document (`translate`), or what was written of it
/// (`translate_to_json`).
#[derive(Debug)]
pub enum Outcome<T = Box<CanonicalDocument>> {
    Translated(T),
    /// A transaction set we do not translate (an 810 beside the 850s): reported, never
    /// silently dropped.
    Unsupported {
        transaction_set: String,
    },
    /// Syntax errors (in `TransactionSet::errors`) or data errors (here) refuse it.
    Rejected {
        errors: Vec<DataError>,
    },
}

impl<T> Outcome<T> {
    /// The same outcome with its translated value changed by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        match self {
            Outcome::Translated(value) => Outcome::Translated(f(value)),
            Outcome::Unsupported { transaction_set } => Outcome::Unsupported { transaction_set },
            Outcome::Rejected { errors } => Outcome::Rejected { errors },
        }
    }
}

/// A document `translate_to_json` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub kind: DocumentKind,
    /// The business reference a person searches for: PO number or shipment id.
    pub reference: String,
}

/// The partner-specific inputs of a translation.
#[derive(Clone, Copy, Debug, Default)]
pub struct PartnerContext<'a> {
    /// The profile id, written to the document's `partner`.
    pub id: Option<&'a str>,
    pub xref: Option<&'a Xref>,
}

/// Translates one parsed transaction set. `envelopes` keeps what the sets of one functional
/// group share; pass the same one for the sets of a stream, in order.
pub fn translate(set: &TransactionSet<'_>, partner: PartnerContext<'_>, envelopes: &mut Envelopes) -> Outcome {
    translate_with(set, partner, envelopes, None).map(|(document, _)| Box::new(document))
}

/// Translates one parsed transaction set as `translate` does, and appends its canonical JSON
/// to `out`, as `json_writer::write` writes the document (nothing when it is not translated).
/// An X12 850's lines are written as they are read, never held as a document's lines: what
/// `crossdock translate` and the pipeline do.
pub fn translate_to_json(
    set: &TransactionSet<'_>,
    partner: PartnerContext<'_>,
    envelopes: &mut Envelopes,
    out: &mut Vec<u8>,
) -> Outcome<Written> {
    let start = out.len();
    let outcome = translate_with(set, partner, envelopes, Some(out));
    if matches!(outcome, Outcome::Rejected { .. }) {
        out.truncate(start);
    }
    outcome.map(|(document, written)| {
        if !written {
            crate::canonical::json_writer::write(&document, out);
        }
        Written { kind: document.kind(), reference: document.document.reference().to_owned() }
    })
}

/// The translation of a set; with `json`, an X12 850 is written there as it is read, and the
/// document returned has no lines, envelope or partner (`true` beside it says so).
fn translate_with(
    set: &TransactionSet<'_>,
    partner: PartnerContext<'_>,
    envelopes: &mut Envelopes,
    json: Option<&mut Vec<u8>>,
) -> Outcome<(CanonicalDocument, bool)> {
    let id = set.id();
    let Some(kind) = DocumentKind::from_document_type(&id) else {
        return Outcome::Unsupported { transaction_set: id.into_owned() };
    };
    let standard = Standard::from(set.interchange().standard());
    let shared = envelopes.shared(set);
    let mut cx = SetContext::new(set, shared, partner.xref);
    let segments: Vec<(u32, Segment<'_>)> =
        set.body().enumerate().map(|(i, segment)| ((i + 2) as u32, segment)).collect();
    if let (Standard::X12, DocumentKind::PurchaseOrder, Some(out)) = (standard, kind, json) {
        // Written as it is read, with the envelope from the JSON its group shares: the
        // document returned has no lines and no envelope.
        let control_number = set.control_number();
        let envelope = EnvelopeJson::Shared {
            shared: shared.json(),
            transaction_control_number: &control_number,
            transaction_set: &id,
        };
        let mut stream = PurchaseOrderStream::new(out, partner.id, Some(envelope));
        let po = x12_inbound::purchase_order(&mut cx, &segments, Some(&mut stream));
        stream.finish(&po);
        return outcome(
            set,
            cx,
            CanonicalDocument { partner: None, envelope: None, document: Document::PurchaseOrder(po) },
        )
        .map(|document| (document, true));
    }
    let document = match (standard, kind) {
        (Standard::X12, DocumentKind::PurchaseOrder) => {
            Document::PurchaseOrder(x12_inbound::purchase_order(&mut cx, &segments, None))
        }
        (Standard::X12, DocumentKind::PurchaseOrderAck) => {
            Document::PurchaseOrderAck(x12_inbound::purchase_order_ack(&mut cx, &segments))
        }
        (Standard::X12, DocumentKind::ShipNotice) => Document::ShipNotice(x12_inbound::ship_notice(&mut cx, &segments)),
        (Standard::Edifact, DocumentKind::PurchaseOrder) => {
            Document::PurchaseOrder(edifact_inbound::purchase_order(&mut cx, &segments))
        }
        (Standard::Edifact, DocumentKind::PurchaseOrderAck) => {
            Document::PurchaseOrderAck(edifact_inbound::purchase_order_ack(&mut cx, &segments))
        }
        (Standard::Edifact, DocumentKind::ShipNotice) => {
            Document::ShipNotice(edifact_inbound::ship_notice(&mut cx, &segments))
        }
    };
    let envelope = Some(envelopes.envelope(set));
    outcome(set, cx, CanonicalDocument { partner: partner.id.map(str::to_owned), envelope, document })
        .map(|document| (document, false))
}

/// `document`, or the errors that refuse it: the set's syntax errors, or the map's.
fn outcome(set: &TransactionSet<'_>, cx: SetContext<'_>, document: CanonicalDocument) -> Outcome<CanonicalDocument> {
    if !cx.errors.is_empty() || !set.errors().is_empty() {
        return Outcome::Rejected { errors: cx.errors };
    }
    Outcome::Translated(document)
}

/// Checks rendered segments (a transaction set written with `delimiters`, header to trailer)
/// against the dictionary, as a partner's translator would on receipt: lengths, types,
/// mandatory elements and syntax notes of every segment the maps know. Cheaper than reading the
/// set back through the maps, and it catches what rendering can get wrong: a value too long or
/// of the wrong type for its element.
pub fn check_rendered(standard: Standard, delimiters: crossdock_parsers::Delimiters, set: &[u8]) -> Vec<DataError> {
    let mut cx = SetContext {
        decimal_mark: delimiters.decimal,
        control_numbers: ControlNumbers::default(),
        errors: Vec::new(),
        xref: None,
    };
    for (i, segment) in crossdock_parsers::segments_with(set, delimiters).enumerate() {
        let Ok(segment) = segment else { break };
        let position = (i + 1) as u32;
        let tag = segment.tag();
        match standard {
            Standard::X12 => {
                if let Some(def) = dictionary::x12_segment(tag.as_str()) {
                    let values = texts(&segment);
                    validate::x12(&mut cx, &segment, position, def, &values);
                }
            }
            Standard::Edifact => {
                if let Some(def) = dictionary::edifact_segment(tag.as_str()) {
                    validate::edifact(&mut cx, &segment, position, def);
                }
            }
        }
    }
    cx.errors
}

/// Whether the body of a written EDIFACT message passes `check_rendered`, judged from its
/// tree: the writer releases every delimiter a value holds, so each component reads back as
/// the tree's value. `None` when the tree cannot vouch for the bytes: a delimiter that is not
/// printable ASCII, or a value with a control character (the tokenizer drops line breaks from
/// a hard-wrapped segment).
pub fn edifact_body_verdict(
    segments: &[crossdock_parsers::tree::Segment],
    delimiters: crossdock_parsers::Delimiters,
) -> Option<bool> {
    let printable = [Some(delimiters.element), Some(delimiters.component), delimiters.repetition]
        .into_iter()
        .chain([Some(delimiters.segment), delimiters.release])
        .flatten()
        .all(|d| (0x20..0x7f).contains(&d));
    let plain_values = || {
        segments.iter().all(|s| s.elements.iter().all(|e| e.0.iter().flatten().all(|v| v.bytes().all(|b| b >= 0x20))))
    };
    if !printable || !plain_values() {
        return None;
    }
    let mut passes = true;
    for segment in segments {
        let Some(def) = dictionary::edifact_segment(&segment.tag) else { continue };
        validate::edifact_problems(def, &segment.elements, delimiters.decimal, &mut |_| passes = false);
        if !passes {
            return Some(false);
        }
    }
    Some(true)
}

/// Whether a written X12 transaction set passes `check_rendered`, judged by cutting each
/// segment the maps know in place, as translation cuts what a partner sends
/// (`validate::x12_cut_into`), without reading its elements into texts (judging the set from
/// its tree that way took a sixth of `crossdock render`). `Some(true)` vouches for the set;
/// `None` says only that the cut cannot: a problem, a control character (which the tokenizer
/// may read as a line break), a delimiter outside ASCII. Then `check_rendered` says what.
pub fn x12_written_verdict(set: &[u8], delimiters: crossdock_parsers::Delimiters) -> Option<bool> {
    let crossdock_parsers::Delimiters { element, component, repetition, segment: terminator, .. } = delimiters;
    let ascii = [element, component, repetition.unwrap_or(b'^'), terminator].iter().all(|d| (0x20..0x7f).contains(d));
    if !ascii {
        return None;
    }
    let text = std::str::from_utf8(set).ok()?;
    let bytes = text.as_bytes();
    let mut elements = Elements::new();
    let mut start = 0;
    while start < bytes.len() {
        let end = segment_end(bytes, start, terminator)?;
        let segment = &bytes[start..end];
        let tag_end = segment.iter().position(|&b| b == element);
        // Both cuts fall beside an ASCII byte: character boundaries.
        let tag = &text[start..start + tag_end.unwrap_or(segment.len())];
        if let Some(def) = dictionary::x12_segment(tag) {
            let elements_text = &text[start + tag_end? + 1..end];
            if !validate::x12_cut_into(def, elements_text, element, &mut elements) {
                return None;
            }
        }
        // The writer puts a line break after each terminator, and nowhere else.
        start = end + 1 + usize::from(bytes.get(end + 1) == Some(&b'\n'));
    }
    Some(true)
}

/// Where the segment from `start` ends: its terminator's place, eight bytes at a time. `None`
/// when a byte below 0x20 comes first, or no terminator. In each word's masks the lowest hit
/// is exact (a false one can only follow a true one, through the borrow).
fn segment_end(bytes: &[u8], start: usize, terminator: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = start;
    while let Some(word) = bytes.get(at..at + 8) {
        let x = u64::from_le_bytes(word.try_into().ok()?);
        let t = x ^ (ONES * u64::from(terminator));
        let terminators = t.wrapping_sub(ONES) & !t & HIGH;
        let controls = x.wrapping_sub(0x20 * ONES) & !x & HIGH;
        if terminators | controls != 0 {
            return (terminators.trailing_zeros() < controls.trailing_zeros())
                .then(|| at + (terminators.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    for (i, &b) in bytes.get(at..)?.iter().enumerate() {
        if b == terminator {
            return Some(at + i);
        }
        if b < 0x20 {
            return None;
        }
    }
    None
}

/// The envelopes of the transaction sets of a stream. What a set's envelope takes from its
/// interchange and functional group headers is read once per group, not once per set: reading
/// an element of a header walks the elements before it, and the ten of them were 3% of
/// `crossdock translate`.
#[derive(Debug, Default)]
pub struct Envelopes {
    /// The delimiters and the interchange and group headers the shared parts were read from,
    /// and those parts.
    cached: Option<(EnvelopeKey, SharedEnvelope)>,
}

type EnvelopeKey = (crossdock_parsers::Delimiters, Vec<u8>, Vec<u8>);

/// What the sets of one functional group share.
#[derive(Debug)]
struct SharedEnvelope {
    /// The envelope without the set's own fields (and, for EDIFACT, without the version,
    /// which each message's UNH names).
    envelope: Envelope,
    /// ISA13 or UNB 0020; `None` when the interchange has no header (bare EDIFACT messages).
    interchange_control_number: Option<String>,
    /// The group's application sender as it stands, empty or not.
    application_sender: Option<String>,
    /// `envelope` as JSON, once a set is written straight to JSON.
    json: Option<SharedEnvelopeJson>,
}

impl Envelopes {
    fn shared(&mut self, set: &TransactionSet<'_>) -> &mut SharedEnvelope {
        let interchange = set.interchange();
        let header = interchange.header().map(|h| h.raw()).unwrap_or_default();
        let group = set.group().map(|g| g.header().raw()).unwrap_or_default();
        let delimiters = *interchange.delimiters();
        let fresh = self.cached.as_ref().is_some_and(|((d, h, g), _)| *d == delimiters && h == header && g == group);
        if !fresh {
            self.cached = None;
        }
        let (_, shared) = self
            .cached
            .get_or_insert_with(|| ((delimiters, header.to_vec(), group.to_vec()), SharedEnvelope::read(set)));
        shared
    }

    /// What partner identification reads: the standard, the interchange sender and the
    /// group's application sender; `None` when the interchange has no header to name one.
    pub fn sender(&mut self, set: &TransactionSet<'_>) -> Option<(Standard, &QualifiedId, Option<&str>)> {
        let shared = self.shared(set);
        // A header names the sender, and its control number.
        shared.interchange_control_number.is_some().then_some((
            shared.envelope.standard,
            &shared.envelope.sender,
            shared.application_sender.as_deref(),
        ))
    }

    /// The canonical envelope of `set`.
    pub fn envelope(&mut self, set: &TransactionSet<'_>) -> Envelope {
        let mut envelope = self.shared(set).envelope.clone();
        envelope.transaction_control_number = set.control_number().into_owned();
        envelope.transaction_set = set.id().into_owned();
        if envelope.standard == Standard::Edifact {
            let association = set.header().element(2).map(|e| e.component_text(5).into_owned()).unwrap_or_default();
            envelope.version = set.version().unwrap_or_default();
            envelope.version_detail = Some(association).filter(|a| !a.is_empty());
        }
        envelope
    }
}

impl SharedEnvelope {
    fn read(set: &TransactionSet<'_>) -> Self {
        let interchange = set.interchange();
        let standard = Standard::from(interchange.standard());
        let party = |p: Option<crossdock_parsers::PartyId<'_>>| {
            p.map(|p| QualifiedId { qualifier: p.qualifier.into_owned(), id: p.id.into_owned() }).unwrap_or_default()
        };
        let group = set.group();
        let (version, version_detail) = match standard {
            Standard::X12 => {
                let gs08 = group.map(|g| g.version().into_owned()).unwrap_or_default();
                let version = gs08.get(..6).unwrap_or(&gs08).to_owned();
                let detail = (gs08.len() > 6).then_some(gs08);
                (version, detail)
            }
            // Each message's own (`Envelopes::envelope`).
            Standard::Edifact => (String::new(), None),
        };
        let non_empty = |text: Cow<'_, str>| Some(text.into_owned()).filter(|t| !t.is_empty());
        let interchange_control_number = interchange.control_number().map(|c| c.into_owned());
        let envelope = Envelope {
            standard,
            version,
            version_detail,
            sender: party(interchange.sender()),
            receiver: party(interchange.receiver()),
            interchange_control_number: interchange_control_number.clone().unwrap_or_default(),
            group_control_number: group.map(|g| g.control_number().into_owned()),
            transaction_control_number: String::new(),
            transaction_set: String::new(),
            application_sender: group.and_then(|g| non_empty(g.application_sender())),
            application_receiver: group.and_then(|g| non_empty(g.application_receiver())),
            test: interchange.is_test(),
        };
        let application_sender = group.map(|g| g.application_sender().into_owned());
        SharedEnvelope { envelope, interchange_control_number, application_sender, json: None }
    }

    fn json(&mut self) -> &SharedEnvelopeJson {
        self.json.get_or_insert_with(|| SharedEnvelopeJson::new(&self.envelope))
    }
}

/// What the maps share while translating one transaction set.
pub(crate) struct SetContext<'a> {
    pub decimal_mark: u8,
    /// X12 versions before 004 write dates as YYMMDD.
    pub control_numbers: ControlNumbers,
    pub errors: Vec<DataError>,
    pub xref: Option<&'a Xref>,
}

impl<'a> SetContext<'a> {
    fn new(set: &TransactionSet<'_>, shared: &SharedEnvelope, xref: Option<&'a Xref>) -> Self {
        SetContext {
            decimal_mark: set.interchange().delimiters().decimal,
            control_numbers: ControlNumbers {
                interchange: shared.interchange_control_number.clone(),
                group: shared.envelope.group_control_number.clone(),
                transaction_set: Some(set.control_number().into_owned()),
            },
            errors: Vec::new(),
            xref,
        }
    }

    pub fn location(&self, segment: &Segment<'_>, position: u32) -> Location {
        Location {
            offset: segment.offset(),
            segment_number: segment.number(),
            segment_tag: Some(segment.tag()),
            segment_position: Some(position),
            element: None,
            component: None,
            repetition: None,
            control_numbers: self.control_numbers.clone(),
        }
    }

    pub fn error(
        &mut self,
        kind: DataErrorKind,
        segment: &Segment<'_>,
        position: u32,
        element: Option<u16>,
        reference: Option<u16>,
        value: Option<&str>,
    ) {
        let mut location = self.location(segment, position);
        location.element = element;
        self.errors.push(DataError { kind, location, element_reference: reference, value: value.map(str::to_owned) });
    }

    pub fn error_at(
        &mut self,
        kind: DataErrorKind,
        segment: &Segment<'_>,
        position: u32,
        element: Option<u16>,
        component: Option<u16>,
        value: Option<&str>,
    ) {
        let mut location = self.location(segment, position);
        location.element = element;
        location.component = component;
        self.errors.push(DataError { kind, location, element_reference: None, value: value.map(str::to_owned) });
    }

    /// A mandatory segment that never came: located at the segment where it was due.
    pub fn missing(&mut self, tag: &'static str, name: &'static str, near: Option<&(u32, Segment<'_>)>, position: u32) {
        let kind = DataErrorKind::MandatorySegmentMissing { segment: tag, name };
        let location = match near {
            Some((p, segment)) => self.location(segment, *p),
            None => Location {
                segment_position: Some(position),
                control_numbers: self.control_numbers.clone(),
                ..Location::default()
            },
        };
        let mut location = location;
        location.segment_position = Some(position);
        self.errors.push(DataError::new(kind, location));
    }

    /// A partner unit of measure code as ours, through the partner's table.
    pub fn our_uom(&self, code: &str) -> String {
        self.xref.and_then(|x| x.uom_inbound(code)).unwrap_or(code).to_owned()
    }
}

/// The order mapped segments must arrive in, within one container: the order the renderer
/// writes them. A segment that arrives after one of a higher rank is kept whole instead, so
/// that rendering reproduces the input's segment order exactly.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Rank(u8);

impl Rank {
    /// Whether a segment of `rank` may still be mapped; raises the bar when it may.
    pub fn admit(&mut self, rank: u8) -> bool {
        if rank >= self.0 {
            self.0 = rank;
            true
        } else {
            false
        }
    }
}

/// The text of each element of a segment (empty for absent ones).
pub(crate) fn texts<'a>(segment: &Segment<'a>) -> Vec<Cow<'a, str>> {
    segment.element_texts()
}

/// Whether every non-empty element is among `covered` (1-based positions): the test for
/// "the model can hold all of this segment".
pub(crate) fn only(values: &Elements<'_>, covered: impl Fn(usize) -> bool) -> bool {
    values.iter().enumerate().all(|(i, v)| v.is_empty() || covered(i + 1))
}

/// Value at 1-based `position`, `None` when empty.
#[inline]
pub(crate) fn opt(values: &Elements<'_>, position: usize) -> Option<String> {
    values.get(position - 1).filter(|v| !v.is_empty()).map(|v| v.to_owned())
}

/// Value at 1-based `position`, `None` when empty; borrowed from the segment where it can be.
#[inline]
pub(crate) fn text<'a>(values: &Elements<'a>, position: usize) -> Option<Cow<'a, str>> {
    values.text(position - 1).filter(|v| !v.is_empty())
}

/// A segment kept whole.
pub(crate) fn extension(segment: &Segment<'_>, position: u32) -> Extension {
    let elements = segment
        .elements()
        .map(|element| {
            let repetitions: Vec<Vec<String>> = if segment.flags().contains(crossdock_parsers::SegmentFlags::ATOMIC) {
                vec![vec![element.text().into_owned()]]
            } else {
                element.repetitions().map(|r| r.components().map(|c| c.text().into_owned()).collect()).collect()
            };
            extension_element(repetitions)
        })
        .collect();
    Extension { segment: segment.tag().as_str().to_owned(), elements, position: Some(position) }
}

fn extension_element(mut repetitions: Vec<Vec<String>>) -> ExtensionElement {
    match repetitions.len() {
        1 => {
            let mut components = repetitions.pop().unwrap_or_default();
            if components.len() == 1 {
                ExtensionElement::Simple(components.pop().unwrap_or_default())
            } else {
                ExtensionElement::Composite(components)
            }
        }
        _ => ExtensionElement::Repeated(repetitions),
    }
}

impl ExtensionElement {
    /// As the parser's tree element: repetitions of components.
    pub fn to_tree(&self) -> crossdock_parsers::tree::Element {
        match self {
            ExtensionElement::Simple(value) => crossdock_parsers::tree::Element::simple(value.clone()),
            ExtensionElement::Composite(components) => {
                crossdock_parsers::tree::Element::composite(components.iter().cloned())
            }
            ExtensionElement::Repeated(repetitions) => {
                crossdock_parsers::tree::Element(repetitions.iter().map(|r| r.iter().cloned().collect()).collect())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crossdock_parsers::tree::{Element, Segment, TransactionSet};
    use crossdock_parsers::writer::{Layout, WriteOptions};
    use crossdock_parsers::{Delimiters, Standard as Syntax};
    use crossdock_parsers::{Event, ParseOptions, Reader};
    use proptest::prelude::*;

    use super::*;

    /// A segment the dictionary knows, built from its definition: each element present or
    /// not, each component a valid value or, now and then, one on a rule's edge (empty, a
    /// number with the other mark, too long, holding delimiters the writer must release), and
    /// now and then components or elements past the definition's end, and (with a repetition
    /// separator) repeated elements. `dice` decides.
    fn segment(tag: &str, dice: &[u8], repeats: bool) -> Segment {
        let def = dictionary::edifact_segment(tag).expect("a tag of the dictionary");
        let mut dice = dice.iter().copied().cycle();
        let mut roll = || dice.next().unwrap_or(0);
        let mut elements = Vec::new();
        let extra = usize::from(roll() % 8 == 0);
        for element_def in def.elements {
            if !element_def.mandatory && roll() % 3 == 0 {
                elements.push(Element::simple(""));
                continue;
            }
            let extra_component = usize::from(roll() % 8 == 0);
            let mut components = Vec::new();
            for j in 0..element_def.components.len() + extra_component {
                let Some(component) = element_def.components.get(j) else {
                    components.push("X".to_owned());
                    continue;
                };
                let valid = match component.kind {
                    dictionary::EdiKind::N => "12".to_owned(),
                    dictionary::EdiKind::An => "A".repeat(usize::from(component.max.min(3))),
                };
                components.push(match roll() % 16 {
                    0 => String::new(),
                    1 => "1,5".to_owned(),
                    2 => "1.5".to_owned(),
                    3 => "A+B:C?D'E".chars().take(usize::from(component.max)).collect(),
                    4 => "É".repeat(usize::from(component.max) + usize::from(roll() % 2)),
                    5 if !component.mandatory => String::new(),
                    _ => valid,
                });
            }
            // Optional composites sent as bare separators, mandatory components left empty.
            if roll() % 10 == 0 {
                components.iter_mut().for_each(String::clear);
            }
            let mut element = Element::composite(components);
            if repeats && roll() % 6 == 0 {
                element.0.push(element.0[0].clone());
            }
            elements.push(element);
        }
        for _ in 0..extra {
            elements.push(Element::simple(if roll() % 2 == 0 { "" } else { "X" }));
        }
        Segment::new(tag.to_owned(), elements)
    }

    proptest! {
        /// The tree's verdict on a rendered EDIFACT body is the verdict of reading the written
        /// bytes back, whatever the shape of the values.
        #[test]
        fn edifact_tree_verdict_matches_the_written_bytes(
            tags in proptest::collection::vec(
                proptest::sample::select(&["BGM", "DTM", "RFF", "NAD", "CTA", "COM", "CUX", "FTX", "LIN", "PIA",
                    "IMD", "QTY", "PRI", "CNT", "MOA", "TDT", "CPS", "PAC", "GIN", "MEA"][..]),
                1..3,
            ),
            dice in proptest::collection::vec(any::<u8>(), 1..64),
            comma in any::<bool>(),
            syntax_4 in any::<bool>(),
        ) {
            let segments: Vec<Segment> = tags.iter().map(|tag| segment(tag, &dice, syntax_4)).collect();
            let delimiters = Delimiters {
                decimal: if comma { b',' } else { b'.' },
                repetition: syntax_4.then_some(b'*'),
                ..Delimiters::EDIFACT
            };
            let layout = Layout::new(Syntax::Edifact, delimiters, WriteOptions::default()).unwrap();
            let header = Segment::simple("UNH", &["1", "ORDERS:D:96A:UN"]);
            let set = TransactionSet { header, segments };
            let mut bytes = Vec::new();
            layout.transaction_set(&set, &mut bytes).unwrap();
            let errors = check_rendered(Standard::Edifact, delimiters, &bytes);
            prop_assert_eq!(edifact_body_verdict(&set.segments, delimiters), Some(errors.is_empty()), "{:?}", errors);
        }
    }

    /// An X12 segment the dictionary knows, built from its definition as `segment` builds an
    /// EDIFACT one: each element present or not, valid or, now and then, on a rule's edge
    /// (too long or short, a letter in a number, a bad date or time, a control character or
    /// a line break, more than one byte per character, components), and now and then
    /// elements past the definition's end. `dice` decides.
    fn x12_segment(tag: &str, dice: &[u8]) -> Segment {
        let def = dictionary::x12_segment(tag).expect("a tag of the dictionary");
        let mut dice = dice.iter().copied().cycle();
        let mut roll = || dice.next().unwrap_or(0);
        let mut elements = Vec::new();
        for element_def in def.elements {
            if element_def.usage != dictionary::Usage::Mandatory && roll() % 3 == 0 {
                elements.push(Element::simple(""));
                continue;
            }
            let (min, max) = (usize::from(element_def.min), usize::from(element_def.max));
            let valid = match element_def.kind {
                dictionary::Kind::Id | dictionary::Kind::An => "A".repeat(min.max(1).min(max)),
                dictionary::Kind::N(_) => "1".repeat(min.max(1)),
                dictionary::Kind::R => "1.5".to_owned(),
                dictionary::Kind::Dt => if max == 6 { "260115" } else { "20260115" }.to_owned(),
                dictionary::Kind::Tm => "1200".to_owned(),
            };
            elements.push(match roll() % 20 {
                0 => Element::simple("A".repeat(max + 1)),
                1 => Element::simple("12A"),
                2 => Element::simple("20261341"),
                3 => Element::simple("A\tB"),
                4 => Element::simple("A\nB"),
                5 => Element::simple("É".repeat(max)),
                6 => Element::simple("É".repeat(max + 1)),
                7 => Element::composite(vec!["A".to_owned(), "B".to_owned()]),
                8 => Element::simple(""),
                9 => Element::simple("-1.50"),
                _ => Element::simple(valid),
            });
        }
        for _ in 0..usize::from(roll() % 8 == 0) {
            elements.push(Element::simple(if roll() % 2 == 0 { "" } else { "X" }));
        }
        Segment::new(tag.to_owned(), elements)
    }

    proptest! {
        /// The quick verdict on a written X12 set never vouches for one that reading it back
        /// finds a problem in, and vouches for every one it finds none in that holds no
        /// control character.
        #[test]
        fn x12_written_verdict_matches_reading_the_set_back(
            tags in proptest::collection::vec(
                proptest::sample::select(&["BEG", "CUR", "REF", "PER", "DTM", "N1", "N3", "N4", "PO1", "PID",
                    "PO4", "CTT", "AMT", "BAK", "ACK", "BSN", "HL", "TD1", "TD5", "MAN", "LIN", "SN1", "NTE", "ZZZ"][..]),
                1..4,
            ),
            dice in proptest::collection::vec(any::<u8>(), 1..64),
            star in any::<bool>(),
        ) {
            let segments: Vec<Segment> = tags
                .iter()
                .map(|tag| if *tag == "ZZZ" { Segment::simple("ZZZ", &["\u{7}"]) } else { x12_segment(tag, &dice) })
                .collect();
            let delimiters = if star { Delimiters::X12 } else { Delimiters { element: b'|', component: b'<', ..Delimiters::X12 } };
            let layout = Layout::new(Syntax::X12, delimiters, WriteOptions { line_break_after_segment: true }).unwrap();
            let header = Segment::simple("ST", &["850", "0001"]);
            let set = TransactionSet { header, segments };
            let mut bytes = Vec::new();
            layout.transaction_set(&set, &mut bytes).unwrap();
            let errors = check_rendered(Standard::X12, delimiters, &bytes);
            let controls = bytes.iter().filter(|&&b| b < 0x20).count() > set.segments.len() + 2;
            let expected = (errors.is_empty() && !controls).then_some(true);
            prop_assert_eq!(x12_written_verdict(&bytes, delimiters), expected, "{:?}", errors);
        }
    }

    #[test]
    fn envelopes_read_once_per_group_are_what_each_set_reads_alone() {
        // One stream: an 850 interchange; copies of it that differ in their group header or in
        // their interchange header alone; 855 and 856 interchanges; EDIFACT interchanges whose
        // messages name their own versions.
        let x12 = include_str!("../../tests/fixtures/edi/crossdock_850_5010.edi");
        let renumbered =
            x12.replace("*000000101*0*P*", "*000000102*0*T*").replace("IEA*1*000000101", "IEA*1*000000102");
        assert_ne!(renumbered, x12, "the copy's interchange differs, not its group");
        // And one whose interchange header is the first's, but not its group's.
        let regrouped = x12.replace("*0900*101*X*", "*0900*103*X*").replace("GE*1*101", "GE*1*103");
        assert_ne!(regrouped, x12, "the group differs");
        // Each copy follows a set whose headers differ from its own in that one header.
        let stream = [
            x12,
            &regrouped,
            x12,
            &renumbered,
            include_str!("../../tests/fixtures/edi/crossdock_855_5010.edi"),
            include_str!("../../tests/fixtures/edi/crossdock_856_4010_stoi.edi"),
            include_str!("../../tests/fixtures/edi/crossdock_orders_d96a_eancom.edi"),
            include_str!("../../tests/fixtures/edi/crossdock_ordrsp_d01b_decimal_comma.edi"),
            include_str!("../../tests/fixtures/edi/crossdock_desadv_d01b_line_orders.edi"),
        ]
        .join("\n");
        let mut reader = Reader::new(stream.as_bytes(), ParseOptions::default());
        let mut envelopes = Envelopes::default();
        let (mut seen, mut groups) = (Vec::new(), Vec::new());
        while let Some(event) = reader.next() {
            if let Event::TransactionSet(set) = event {
                // Partner identification reads the headers as they stand.
                let (_, sender, application) = envelopes.sender(&set).expect("every interchange here has a header");
                let read = set.interchange().sender().expect("a header");
                assert_eq!((sender.qualifier.as_str(), sender.id.as_str()), (&*read.qualifier, &*read.id));
                assert_eq!(application, set.group().map(|g| g.application_sender()).as_deref());
                let remembered = envelopes.envelope(&set);
                assert_eq!(remembered, Envelopes::default().envelope(&set), "set at byte {}", set.offset());
                // The JSON of an 850 takes its envelope from the JSON its group shares.
                let (mut shared, mut alone) = (Vec::new(), Vec::new());
                let partner = PartnerContext::default();
                translate_to_json(&set, partner, &mut envelopes, &mut shared);
                translate_to_json(&set, partner, &mut Envelopes::default(), &mut alone);
                assert_eq!(String::from_utf8_lossy(&shared), String::from_utf8_lossy(&alone));
                seen.push((remembered.interchange_control_number, remembered.test, remembered.version));
                groups.extend(remembered.group_control_number);
            }
        }
        // Every set was read, and the copy's and the messages' own fields came through.
        assert!(seen.len() >= 7, "{seen:?}");
        assert!(seen.contains(&("000000101".to_owned(), false, "005010".to_owned())), "{seen:?}");
        assert!(seen.contains(&("000000102".to_owned(), true, "005010".to_owned())), "{seen:?}");
        assert!(seen.iter().any(|(_, _, version)| version == "D96A"), "{seen:?}");
        assert!(seen.iter().any(|(_, _, version)| version == "D01B"), "{seen:?}");
        assert!(["101", "103"].iter().all(|g| groups.contains(&g.to_string())), "{groups:?}");
    }

    #[test]
    fn a_segment_kept_whole_is_validated_all_the_same() {
        // The first line gets two PO4s. The second is kept whole, but its pack is not a
        // number: the set is refused, at that segment, on both routes.
        let x12 = include_str!("../../tests/fixtures/edi/crossdock_850_5010.edi");
        let po1 = x12.find("PO1*").expect("a line");
        let end = po1 + x12[po1..].find('~').expect("a terminator") + 1;
        let se = x12.find("SE*").expect("a trailer") + 3;
        let count: u32 = x12[se..].split('*').next().and_then(|n| n.parse().ok()).expect("a count");
        let input = format!(
            "{}PO4*1*12*EA~PO4*X*12*EA~{}SE*{}{}",
            &x12[..end],
            &x12[end..se - 3],
            count + 2,
            &x12[se + count.to_string().len()..]
        );
        // ISA and GS come before ST, position 1: the second PO4 stands where PO1's
        // terminator is counted from the file's start.
        let position = x12[..end].matches('~').count() as u32;
        let mut reader = Reader::new(input.as_bytes(), ParseOptions::default());
        let mut sets = 0;
        while let Some(event) = reader.next() {
            let Event::TransactionSet(set) = event else { continue };
            sets += 1;
            assert!(set.errors().is_empty(), "{:?}", set.errors());
            let Outcome::Rejected { errors } = translate(&set, PartnerContext::default(), &mut Envelopes::default())
            else {
                panic!("translated");
            };
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].location.segment_position, Some(position), "{errors:?}");
            assert_eq!(errors[0].location.segment_tag.map(|t| t.to_string()).as_deref(), Some("PO4"));
            let mut json = Vec::new();
            let outcome = translate_to_json(&set, PartnerContext::default(), &mut Envelopes::default(), &mut json);
            assert!(matches!(outcome, Outcome::Rejected { errors: ref e } if e.len() == 1), "{outcome:?}");
            assert!(json.is_empty());
        }
        assert_eq!(sets, 1);
    }
}
