//! An owned tree of interchanges: what documents are built as before they are written, and
//! what a parse gives back for round trips (`parse(write(tree)) == tree`).
//!
//! Trailers (SE, GE, IEA, UNT, UNE, UNZ) are not stored: the writer computes them.

pub use smallvec::{smallvec, SmallVec};

use std::borrow::Cow;

use crate::delimiters::{Delimiters, Standard};
use crate::envelope::Event;
use crate::error::Error;
use crate::options::ParseOptions;
use crate::reader::Reader;
use crate::segment::{Segment as SegmentView, SegmentFlags};

/// One interchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interchange {
    pub standard: Standard,
    pub delimiters: Delimiters,
    /// EDIFACT: begin with a UNA service string advice.
    pub service_string_advice: bool,
    /// ISA or UNB; `None` for bare EDIFACT messages.
    pub header: Option<Segment>,
    /// X12 TA1 segments, written after the ISA.
    pub acknowledgments: Vec<Segment>,
    pub groups: Vec<Group>,
}

/// A functional group (GS), an EDIFACT UNG group, or (`header: None`) EDIFACT messages
/// directly in the interchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub header: Option<Segment>,
    pub transaction_sets: Vec<TransactionSet>,
}

/// A transaction set (EDIFACT: message): its ST/UNH header and the segments between header
/// and trailer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionSet {
    pub header: Segment,
    pub segments: Vec<Segment>,
}

/// A segment: tag and elements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// A literal for the segments a renderer builds (no allocation each), owned for one read
    /// or decoded.
    pub tag: Cow<'static, str>,
    pub elements: Vec<Element>,
}

/// An element: its repetitions, each a list of components. A simple value is one repetition
/// of one component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element(pub SmallVec<[Components; 1]>);

/// The components of one repetition. One is held inline: a simple element, the most common
/// kind by far, takes no allocation of its own.
pub type Components = SmallVec<[String; 1]>;

impl Element {
    pub fn simple(value: impl Into<String>) -> Self {
        Element(smallvec![smallvec![value.into()]])
    }

    pub fn composite<S: Into<String>>(components: impl IntoIterator<Item = S>) -> Self {
        Element(smallvec![components.into_iter().map(Into::into).collect()])
    }

    pub fn empty() -> Self {
        Element::simple("")
    }

    /// The first component of the first repetition.
    pub fn value(&self) -> &str {
        self.0.first().and_then(|r| r.first()).map(String::as_str).unwrap_or("")
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|r| r.iter().all(String::is_empty))
    }
}

impl Segment {
    pub fn new(tag: impl Into<Cow<'static, str>>, elements: Vec<Element>) -> Self {
        Segment { tag: tag.into(), elements }
    }

    /// A segment of simple elements.
    pub fn simple<S: AsRef<str>>(tag: impl Into<Cow<'static, str>>, values: &[S]) -> Self {
        Segment { tag: tag.into(), elements: values.iter().map(|v| Element::simple(v.as_ref())).collect() }
    }

    /// Copies a parsed segment, decoding its values.
    pub fn from_view(view: &SegmentView<'_>) -> Self {
        let atomic = view.flags().contains(SegmentFlags::ATOMIC);
        let elements = view
            .elements()
            .map(|element| {
                if atomic {
                    Element::simple(element.text().into_owned())
                } else {
                    Element(
                        element
                            .repetitions()
                            .map(|r| r.components().map(|c| c.text().into_owned()).collect())
                            .collect(),
                    )
                }
            })
            .collect();
        Segment { tag: Cow::Owned(view.tag().as_str().to_owned()), elements }
    }

    /// Value of the element at 1-based `position` (first component of its first repetition).
    pub fn value(&self, position: usize) -> &str {
        position.checked_sub(1).and_then(|i| self.elements.get(i)).map(Element::value).unwrap_or("")
    }

    /// Drops trailing empty elements, as the standards ask senders to.
    pub fn trim_trailing_empty(mut self) -> Self {
        while self.elements.last().is_some_and(Element::is_empty) {
            self.elements.pop();
        }
        for element in &mut self.elements {
            for repetition in &mut element.0 {
                while repetition.len() > 1 && repetition.last().is_some_and(String::is_empty) {
                    repetition.pop();
                }
            }
        }
        self
    }
}

impl Interchange {
    /// The same interchange to be written with `delimiters`: ISA11 and ISA16 follow them, and
    /// an EDIFACT interchange gets a UNA when they differ from its defaults.
    pub fn with_delimiters(mut self, delimiters: Delimiters) -> Self {
        self.delimiters = delimiters;
        match self.standard {
            Standard::X12 => {
                if let Some(header) = &mut self.header {
                    let version = header.value(12).parse::<u32>().unwrap_or(0);
                    if let (Some(rep), true) = (delimiters.repetition, version >= 402) {
                        set_element(header, 11, (rep as char).to_string());
                    }
                    set_element(header, 16, (delimiters.component as char).to_string());
                }
            }
            Standard::Edifact => {
                if delimiters != self.default_edifact_delimiters() {
                    self.service_string_advice = true;
                }
            }
        }
        self
    }

    /// The delimiters an EDIFACT reader assumes without a UNA: ISO 9735 defaults, plus `*`
    /// for repetition in syntax version 4.
    pub fn default_edifact_delimiters(&self) -> Delimiters {
        let version = self.header.as_ref().and_then(|h| h.elements.first()).and_then(|e| e.0.first());
        let v4 = version.and_then(|c| c.get(1)).is_some_and(|v| v == "4");
        Delimiters { repetition: v4.then_some(b'*'), ..Delimiters::EDIFACT }
    }

    /// Number of transaction sets in all groups.
    pub fn transaction_set_count(&self) -> usize {
        self.groups.iter().map(|g| g.transaction_sets.len()).sum()
    }
}

fn set_element(segment: &mut Segment, position: usize, value: String) {
    while segment.elements.len() < position {
        segment.elements.push(Element::empty());
    }
    if let Some(element) = segment.elements.get_mut(position - 1) {
        *element = Element::simple(value);
    }
}

/// Parses `input` into owned interchanges, with every error found.
pub fn parse(input: &[u8], options: ParseOptions) -> (Vec<Interchange>, Vec<Error>) {
    let mut reader = Reader::new(input, options);
    let mut interchanges: Vec<Interchange> = Vec::new();
    let mut errors = Vec::new();
    let mut in_group = false;
    while let Some(event) = reader.next() {
        match event {
            Event::InterchangeStart(header) => {
                in_group = false;
                interchanges.push(Interchange {
                    standard: header.standard(),
                    delimiters: *header.delimiters(),
                    service_string_advice: header.has_service_string_advice(),
                    header: header.header().map(|h| Segment::from_view(&h)),
                    acknowledgments: Vec::new(),
                    groups: Vec::new(),
                });
            }
            Event::InterchangeAcknowledgment(segment) => {
                if let Some(interchange) = interchanges.last_mut() {
                    interchange.acknowledgments.push(Segment::from_view(&segment));
                }
            }
            Event::GroupStart(group) => {
                in_group = true;
                if let Some(interchange) = interchanges.last_mut() {
                    interchange.groups.push(Group {
                        header: Some(Segment::from_view(&group.header())),
                        transaction_sets: Vec::new(),
                    });
                }
            }
            Event::TransactionSet(set) => {
                errors.extend_from_slice(set.errors());
                let Some(interchange) = interchanges.last_mut() else { continue };
                let needs_group = !in_group && interchange.groups.last().is_none_or(|g| g.header.is_some());
                if needs_group {
                    interchange.groups.push(Group { header: None, transaction_sets: Vec::new() });
                }
                if let Some(group) = interchange.groups.last_mut() {
                    group.transaction_sets.push(TransactionSet {
                        header: Segment::from_view(&set.header()),
                        segments: set.body().map(|s| Segment::from_view(&s)).collect(),
                    });
                }
            }
            Event::GroupEnd(end) => {
                in_group = false;
                errors.extend_from_slice(end.errors);
            }
            Event::InterchangeEnd(end) => errors.extend_from_slice(end.errors),
            Event::Error(error) => errors.push(error.clone()),
        }
    }
    (interchanges, errors)
}
