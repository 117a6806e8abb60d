//! Rendering: canonical documents back to the partner's EDI.
//!
//! A renderer writes the modeled segments of a transaction set in the standard's order, then
//! puts every extension back at its recorded position (or, without one, after its container's
//! other segments). Since each mapped segment renders to exactly one segment and the maps only
//! map segments that arrive in that order, translate → render → translate gives the same
//! document.

mod edifact;
pub mod envelope;
pub mod interchange;
mod x12;

use crossdock_parsers::tree;
use crossdock_parsers::writer::SimpleSegments;

use super::Xref;
use crate::canonical::{Document, Extension, Standard};

/// What a rendering is for.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub standard: Standard,
    /// `004010`, `005010`; `D96A`, `D01B`.
    pub version: &'a str,
    /// EDIFACT decimal mark (from the UNA we write).
    pub decimal_mark: u8,
    pub xref: Option<&'a Xref>,
}

/// Why a document cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("{field} is required to render a {document}")]
    Missing { document: &'static str, field: &'static str },
    #[error("{field} {value:?} cannot be written: {reason}")]
    Invalid { field: String, value: String, reason: String },
}

/// The transaction set body (segments between ST/UNH and SE/UNT) of a document, which it
/// consumes: values move into the segments.
pub fn body(document: Document, target: &Target<'_>) -> Result<Vec<tree::Segment>, RenderError> {
    match target.standard {
        Standard::X12 => x12::body(document, target),
        Standard::Edifact => edifact::body(&document, target),
    }
}

/// The body of a document written straight into `w` when this path writes it, without a
/// tree: an X12 850, which is nearly every document a `crossdock render` renders. The same
/// bytes as `body` then written; `None` (with bytes to drop after where `w` started) for the
/// tree to write.
pub(crate) fn body_written(document: &Document, target: &Target<'_>, w: &mut SimpleSegments<'_>) -> Option<()> {
    match (target.standard, document) {
        (Standard::X12, Document::PurchaseOrder(po)) => x12::purchase_order_written(po, target, w),
        _ => None,
    }
}

/// Segments in the standard's order, with extensions waiting for their positions.
#[derive(Default)]
pub(crate) struct Body {
    segments: Vec<tree::Segment>,
    positioned: Vec<(u32, tree::Segment)>,
}

impl Body {
    pub fn push(&mut self, segment: tree::Segment) {
        self.segments.push(segment.trim_trailing_empty());
    }

    /// A segment `simple` built, which has nothing to trim: walking its elements to find
    /// nothing cost 1-2% of `crossdock render`.
    pub fn push_simple(&mut self, segment: tree::Segment) {
        debug_assert_eq!(segment.clone().trim_trailing_empty(), segment, "not as simple() builds it");
        self.segments.push(segment);
    }

    /// A container's extensions: positioned ones wait for `finish`, the others go here.
    pub fn extensions(&mut self, extensions: &[Extension]) {
        for extension in extensions {
            let segment = extension_segment(extension);
            match extension.position {
                Some(position) => self.positioned.push((position, segment)),
                None => self.segments.push(segment),
            }
        }
    }

    /// Merges: each positioned extension lands at its position in the transaction set (the
    /// header is position 1, so the body starts at 2).
    pub fn finish(mut self) -> Vec<tree::Segment> {
        if self.positioned.is_empty() {
            return self.segments;
        }
        self.positioned.sort_by_key(|(position, _)| *position);
        let mut out = Vec::with_capacity(self.segments.len() + self.positioned.len());
        let mut modeled = self.segments.into_iter();
        let mut waiting = self.positioned.into_iter().peekable();
        loop {
            match waiting.peek() {
                Some((position, _)) if is_due(*position, out.len()) => {
                    if let Some((_, segment)) = waiting.next() {
                        out.push(segment);
                    }
                }
                _ => match modeled.next() {
                    Some(segment) => out.push(segment),
                    None => {
                        out.extend(waiting.map(|(_, segment)| segment));
                        return out;
                    }
                },
            }
        }
    }
}

/// An extension as the segment it was kept from.
pub(crate) fn extension_segment(extension: &Extension) -> tree::Segment {
    tree::Segment {
        tag: extension.segment.clone().into(),
        elements: extension.elements.iter().map(|e| e.to_tree()).collect(),
    }
}

/// Whether an extension kept at `position` in the transaction set (the header is position 1,
/// so the body starts at 2) goes before the next segment, `written` body segments in.
pub(crate) fn is_due(position: u32, written: usize) -> bool {
    position as usize <= written + 2
}

/// Whether a key segment (BEG, BAK, BSN, BGM) was kept whole because the model could not hold
/// all of it: then that copy is written instead of the modeled one.
pub(crate) fn kept_whole(extensions: &[Extension], tag: &str) -> bool {
    extensions.iter().any(|e| e.segment == tag)
}

/// Segment helpers.
/// A segment of simple elements, without the trailing empty ones: they would only be built to
/// be dropped again (a segment such as PO4 or BEG carries a few values of its dozen).
pub(crate) fn simple(tag: &'static str, values: impl IntoIterator<Item = Option<String>>) -> tree::Segment {
    let values = values.into_iter();
    let mut elements = Vec::with_capacity(values.size_hint().0);
    let mut empty = 0;
    for value in values {
        match value {
            Some(value) if !value.is_empty() => {
                elements.extend(std::iter::repeat_with(tree::Element::empty).take(empty));
                empty = 0;
                elements.push(tree::Element::simple(value));
            }
            _ => empty += 1,
        }
    }
    tree::Segment { tag: tag.into(), elements }
}

pub(crate) fn s(value: &str) -> Option<String> {
    Some(value.to_owned()).filter(|v| !v.is_empty())
}
