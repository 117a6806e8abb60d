//! Writing interchanges: a `tree::Interchange` serialized with its delimiters, trailers and
//! counts computed.
//!
//! X12 has no escape: a value that contains a delimiter cannot be written and is refused.
//! EDIFACT values are escaped with the release character.

use crate::delimiters::{ByteDisplay, DelimiterConflict, Delimiters, Standard};
use crate::tree::{Element, Interchange, Segment, TransactionSet};
use crate::x12::isa::ISA_WIDTHS;

/// How to lay the output out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// A line feed after each segment terminator (many partners' files look like this; it is
    /// ignored on reading). Not added when the terminator is itself a line break.
    pub line_break_after_segment: bool,
}

/// Why a tree cannot be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    #[error(
        "{segment}{element:02} value {value:?} contains the {delimiter_name} {delimiter}, which X12 cannot escape"
    )]
    DelimiterInValue {
        segment: String,
        element: usize,
        value: String,
        delimiter_name: &'static str,
        delimiter: ByteDisplay,
    },
    #[error("the EDIFACT value {value:?} in {segment}{element:02} needs escaping but the interchange has no release character")]
    NoReleaseCharacter { segment: String, element: usize, value: String },
    #[error("{segment}{element:02} repeats but the interchange has no repetition separator")]
    NoRepetitionSeparator { segment: String, element: usize },
    #[error("ISA{element:02} value {value:?} is longer than its fixed width of {width}")]
    IsaFieldTooLong { element: usize, value: String, width: usize },
    #[error("the {standard} interchange has no {what} header")]
    MissingHeader { standard: Standard, what: &'static str },
    #[error("{segment} is not a valid segment tag")]
    InvalidTag { segment: String },
    #[error("the delimiters cannot be used: {0}")]
    Delimiters(DelimiterConflict),
}

/// Writes one interchange.
pub fn write(interchange: &Interchange, options: WriteOptions, out: &mut Vec<u8>) -> Result<(), WriteError> {
    let layout = Layout::new(interchange.standard, interchange.delimiters, options)?;
    layout.interchange_header(interchange, out)?;
    let uses_groups = interchange.groups.iter().any(|g| g.header.is_some());
    for group in &interchange.groups {
        match &group.header {
            Some(header) => layout.segment(header, out)?,
            None if interchange.standard == Standard::X12 => {
                return Err(WriteError::MissingHeader { standard: Standard::X12, what: "GS" })
            }
            None => {}
        }
        for set in &group.transaction_sets {
            layout.transaction_set(set, out)?;
        }
        if let Some(header) = &group.header {
            layout.group_trailer(header, group.transaction_sets.len(), out)?;
        }
    }
    // UNZ counts groups when there are any, messages otherwise; IEA counts groups.
    let count = match interchange.standard {
        Standard::Edifact if !uses_groups => interchange.transaction_set_count(),
        _ => interchange.groups.len(),
    };
    layout.interchange_trailer(interchange, count, out)
}

/// Writes interchanges one after the other.
pub fn write_all(interchanges: &[Interchange], options: WriteOptions) -> Result<Vec<u8>, WriteError> {
    let mut out = Vec::new();
    for interchange in interchanges {
        write(interchange, options, &mut out)?;
    }
    Ok(out)
}

/// Writes an interchange piece by piece, for callers that produce transaction sets one at a
/// time (or on several threads) and count them as they go. [`write`] is built on it.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    standard: Standard,
    delimiters: Delimiters,
    options: WriteOptions,
    /// `delimiter[b]`: whether byte `b` is one of the delimiters. Every byte of every value
    /// is looked up here; comparing it with each delimiter in turn was a twentieth of
    /// `crossdock render`'s time.
    delimiter: [bool; 256],
}

impl Layout {
    /// Checks that the delimiters can be used together.
    pub fn new(standard: Standard, delimiters: Delimiters, options: WriteOptions) -> Result<Layout, WriteError> {
        delimiters.check(standard).map_err(WriteError::Delimiters)?;
        let delimiter = std::array::from_fn(|b| delimiters.is_delimiter(b as u8));
        Ok(Layout { standard, delimiters, options, delimiter })
    }

    pub fn delimiters(&self) -> &Delimiters {
        &self.delimiters
    }

    fn writer<'a>(&'a self, out: &'a mut Vec<u8>) -> SegmentWriter<'a> {
        SegmentWriter {
            d: self.delimiters,
            delimiter: &self.delimiter,
            standard: self.standard,
            options: self.options,
            out,
        }
    }

    /// ISA and any TA1s; or UNA (when the interchange asks for one or its delimiters are not
    /// the defaults) and UNB. The interchange's groups are not written.
    pub fn interchange_header(&self, interchange: &Interchange, out: &mut Vec<u8>) -> Result<(), WriteError> {
        let mut w = self.writer(out);
        match self.standard {
            Standard::X12 => {
                let header = interchange
                    .header
                    .as_ref()
                    .ok_or(WriteError::MissingHeader { standard: Standard::X12, what: "ISA" })?;
                w.isa(header)?;
                for ta1 in &interchange.acknowledgments {
                    w.segment(ta1)?;
                }
            }
            Standard::Edifact => {
                let d = self.delimiters;
                if interchange.service_string_advice || d != interchange.default_edifact_delimiters() {
                    w.out.extend_from_slice(b"UNA");
                    w.out.extend_from_slice(&[
                        d.component,
                        d.element,
                        d.decimal,
                        d.release.unwrap_or(b' '),
                        d.repetition.unwrap_or(b' '),
                        d.segment,
                    ]);
                    w.line_break();
                }
                if let Some(unb) = &interchange.header {
                    w.segment(unb)?;
                }
            }
        }
        Ok(())
    }

    /// Any one segment (a GS or UNG group header, for instance).
    pub fn segment(&self, segment: &Segment, out: &mut Vec<u8>) -> Result<(), WriteError> {
        self.writer(out).segment(segment)
    }

    /// ST or UNH, the body, and SE or UNT with the segment count.
    pub fn transaction_set(&self, set: &TransactionSet, out: &mut Vec<u8>) -> Result<(), WriteError> {
        let mut w = self.writer(out);
        w.segment(&set.header)?;
        for segment in &set.segments {
            w.segment(segment)?;
        }
        let count = (set.segments.len() + 2).to_string();
        let (tag, control) = match self.standard {
            Standard::X12 => ("SE", set.header.value(2)),
            Standard::Edifact => ("UNT", set.header.value(1)),
        };
        w.segment(&Segment::simple(tag, &[count.as_str(), control]))
    }

    /// GE or UNE closing the group `header` opened, which holds `sets` transaction sets.
    pub fn group_trailer(&self, header: &Segment, sets: usize, out: &mut Vec<u8>) -> Result<(), WriteError> {
        let (tag, control) = match self.standard {
            Standard::X12 => ("GE", header.value(6)),
            Standard::Edifact => ("UNE", header.value(5)),
        };
        self.segment(&Segment::simple(tag, &[sets.to_string().as_str(), control]), out)
    }

    /// IEA or UNZ with `count`: the number of groups (X12, and EDIFACT with groups) or of
    /// messages (EDIFACT without groups).
    pub fn interchange_trailer(
        &self,
        interchange: &Interchange,
        count: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), WriteError> {
        let Some(header) = &interchange.header else { return Ok(()) };
        let (tag, control) = match self.standard {
            Standard::X12 => ("IEA", header.value(13)),
            Standard::Edifact => ("UNZ", header.value(5)),
        };
        self.segment(&Segment::simple(tag, &[count.to_string().as_str(), control]), out)
    }
}

/// Segments of simple elements written straight to the output, value by value: for a
/// renderer that would otherwise build a tree only to write it and drop it (for the 850,
/// building, writing and dropping the tree was two fifths of `crossdock render`'s work).
/// The bytes are those [`Layout::segment`] writes for the same segment once its trailing
/// empty elements are dropped. A value holding a delimiter is not written: [`value`]
/// says so, and the caller writes the segment through a tree to have the error.
///
/// [`value`]: SimpleSegments::value
pub struct SimpleSegments<'a> {
    layout: &'a Layout,
    out: &'a mut Vec<u8>,
    /// Empty elements since the last value: written only if a value follows.
    empty: usize,
    written: usize,
}

impl Layout {
    /// Writes segments of simple elements into `out` (see [`SimpleSegments`]).
    pub fn simple_segments<'a>(&'a self, out: &'a mut Vec<u8>) -> SimpleSegments<'a> {
        SimpleSegments { layout: self, out, empty: 0, written: 0 }
    }
}

impl SimpleSegments<'_> {
    /// Opens a segment; `tag` is a valid tag (a literal of the caller's).
    #[inline]
    pub fn begin(&mut self, tag: &'static str) {
        debug_assert!(crate::segment::Tag::new(tag.as_bytes()).is_some(), "{tag} is not a tag");
        self.out.extend_from_slice(tag.as_bytes());
        self.empty = 0;
    }

    /// The next element: `value`, or an empty element when it is empty. `false` when the
    /// value holds a delimiter, and nothing was written.
    #[inline]
    #[must_use]
    pub fn value(&mut self, value: &str) -> bool {
        let bytes = value.as_bytes();
        if bytes.is_empty() {
            self.empty += 1;
            return true;
        }
        if bytes.iter().any(|&b| self.layout.delimiter[usize::from(b)]) {
            return false;
        }
        let separator = self.layout.delimiters.element;
        self.out.extend(std::iter::repeat_n(separator, self.empty + 1));
        self.empty = 0;
        self.out.extend_from_slice(bytes);
        true
    }

    /// The next element, absent when `None`.
    #[inline]
    #[must_use]
    pub fn opt(&mut self, value: Option<&str>) -> bool {
        self.value(value.unwrap_or_default())
    }

    /// Closes the segment: its trailing empty elements are not written.
    #[inline]
    pub fn end(&mut self) {
        self.layout.writer(self.out).terminate();
        self.written += 1;
    }

    /// A segment of any shape, through the tree writer; `false` when it cannot be written
    /// (then what it wrote of it is left in the output).
    pub fn tree_segment(&mut self, segment: &Segment) -> bool {
        let written = self.layout.segment(segment, self.out).is_ok();
        self.written += usize::from(written);
        written
    }

    /// Segments closed so far.
    pub fn written(&self) -> usize {
        self.written
    }
}

struct SegmentWriter<'a> {
    d: Delimiters,
    delimiter: &'a [bool; 256],
    standard: Standard,
    options: WriteOptions,
    out: &'a mut Vec<u8>,
}

impl SegmentWriter<'_> {
    fn segment(&mut self, segment: &Segment) -> Result<(), WriteError> {
        if crate::segment::Tag::new(segment.tag.as_bytes()).is_none() {
            return Err(WriteError::InvalidTag { segment: segment.tag.to_string() });
        }
        self.out.extend_from_slice(segment.tag.as_bytes());
        for (i, element) in segment.elements.iter().enumerate() {
            self.out.push(self.d.element);
            self.element(&segment.tag, i + 1, element)?;
        }
        self.terminate();
        Ok(())
    }

    fn element(&mut self, tag: &str, position: usize, element: &Element) -> Result<(), WriteError> {
        // One repetition of one component, nearly every element: straight to its value,
        // without walking the two lists.
        if let [components] = element.0.as_slice() {
            if let [value] = components.as_slice() {
                return self.value(tag, position, value);
            }
        }
        for (r, repetition) in element.0.iter().enumerate() {
            if r > 0 {
                let rep = self
                    .d
                    .repetition
                    .ok_or_else(|| WriteError::NoRepetitionSeparator { segment: tag.to_owned(), element: position })?;
                self.out.push(rep);
            }
            for (c, component) in repetition.iter().enumerate() {
                if c > 0 {
                    self.out.push(self.d.component);
                }
                self.value(tag, position, component)?;
            }
        }
        Ok(())
    }

    fn value(&mut self, tag: &str, position: usize, value: &str) -> Result<(), WriteError> {
        let bytes = value.as_bytes();
        if !bytes.iter().any(|&b| self.delimiter[usize::from(b)]) {
            self.out.extend_from_slice(bytes);
            return Ok(());
        }
        match (self.standard, self.d.release) {
            (Standard::Edifact, Some(release)) => {
                for &b in bytes {
                    if self.d.is_delimiter(b) {
                        self.out.push(release);
                    }
                    self.out.push(b);
                }
                Ok(())
            }
            (Standard::Edifact, None) => Err(WriteError::NoReleaseCharacter {
                segment: tag.to_owned(),
                element: position,
                value: value.to_owned(),
            }),
            (Standard::X12, _) => {
                let byte = bytes.iter().copied().find(|b| self.d.is_delimiter(*b)).unwrap_or_default();
                Err(WriteError::DelimiterInValue {
                    segment: tag.to_owned(),
                    element: position,
                    value: value.to_owned(),
                    delimiter_name: delimiter_name(&self.d, byte),
                    delimiter: ByteDisplay(byte),
                })
            }
        }
    }

    /// The ISA: fixed widths, ISA11 and ISA16 as the delimiters say.
    fn isa(&mut self, isa: &Segment) -> Result<(), WriteError> {
        self.out.extend_from_slice(b"ISA");
        let version = isa.value(12).parse::<u32>().unwrap_or(0);
        for (i, width) in ISA_WIDTHS.iter().enumerate() {
            let position = i + 1;
            self.out.push(self.d.element);
            // The delimiters are bytes, written as such (a non-ASCII one is not a character).
            let delimiter = match position {
                11 if version >= 402 => self.d.repetition,
                16 => Some(self.d.component),
                _ => None,
            };
            if let Some(byte) = delimiter {
                self.out.push(byte);
                continue;
            }
            let value = isa.value(position).to_owned();
            if value.len() > *width {
                return Err(WriteError::IsaFieldTooLong { element: position, value, width: *width });
            }
            if let Some(&b) = value.as_bytes().iter().find(|b| self.d.is_delimiter(**b)) {
                return Err(WriteError::DelimiterInValue {
                    segment: "ISA".to_owned(),
                    element: position,
                    value,
                    delimiter_name: delimiter_name(&self.d, b),
                    delimiter: ByteDisplay(b),
                });
            }
            // ISA13 is numeric: pad with zeros; the others are padded with spaces.
            let pad = if position == 13 && value.bytes().all(|b| b.is_ascii_digit()) { b'0' } else { b' ' };
            if pad == b'0' {
                self.out.extend(std::iter::repeat_n(b'0', width - value.len()));
                self.out.extend_from_slice(value.as_bytes());
            } else {
                self.out.extend_from_slice(value.as_bytes());
                self.out.extend(std::iter::repeat_n(b' ', width - value.len()));
            }
        }
        self.terminate();
        Ok(())
    }

    fn terminate(&mut self) {
        self.out.push(self.d.segment);
        self.line_break();
    }

    fn line_break(&mut self) {
        if self.options.line_break_after_segment && self.d.segment != b'\n' && self.d.segment != b'\r' {
            self.out.push(b'\n');
        }
    }
}

fn delimiter_name(d: &Delimiters, byte: u8) -> &'static str {
    if byte == d.element {
        "element separator"
    } else if byte == d.component {
        "component separator"
    } else if Some(byte) == d.repetition {
        "repetition separator"
    } else if byte == d.segment {
        "segment terminator"
    } else {
        "release character"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::ParseOptions;
    use crate::tree::{parse, Group, TransactionSet};

    fn x12_tree() -> Interchange {
        let isa = Segment::simple(
            "ISA",
            &[
                "00",
                "",
                "00",
                "",
                "ZZ",
                "SENDER",
                "ZZ",
                "RECEIVER",
                "260101",
                "1200",
                "^",
                "00501",
                "000000042",
                "0",
                "P",
                ">",
            ],
        );
        Interchange {
            standard: Standard::X12,
            delimiters: Delimiters::X12,
            service_string_advice: false,
            header: Some(isa),
            acknowledgments: vec![],
            groups: vec![Group {
                header: Some(Segment::simple(
                    "GS",
                    &["PO", "SENDER", "RECEIVER", "20260101", "1200", "7", "X", "005010"],
                )),
                transaction_sets: vec![TransactionSet {
                    header: Segment::simple("ST", &["850", "0001"]),
                    segments: vec![Segment::simple("BEG", &["00", "SA", "PO-1", "", "20260101"])],
                }],
            }],
        }
    }

    #[test]
    fn x12_counts_and_trailers() {
        let out = write_all(&[x12_tree()], WriteOptions::default()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("ISA*00*          *00*          *ZZ*SENDER         *"), "{text}");
        assert!(text.ends_with("ST*850*0001~BEG*00*SA*PO-1**20260101~SE*3*0001~GE*1*7~IEA*1*000000042~"), "{text}");
        assert_eq!(text.find("GS").unwrap(), 106);
    }

    #[test]
    fn x12_refuses_delimiters_in_values() {
        let mut tree = x12_tree();
        tree.groups[0].transaction_sets[0].segments[0].elements[2] = Element::simple("PO*1");
        let err = write_all(&[tree], WriteOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "BEG03 value \"PO*1\" contains the element separator '*', which X12 cannot escape");
    }

    #[test]
    fn round_trip_through_parser() {
        let tree = x12_tree();
        let out = write_all(std::slice::from_ref(&tree), WriteOptions { line_break_after_segment: true }).unwrap();
        let (parsed, errors) = parse(&out, ParseOptions::default());
        assert!(errors.is_empty(), "{errors:?}");
        let mut expected = tree;
        // The parser reads ISA fields at their fixed widths.
        let isa = expected.header.as_mut().unwrap();
        isa.elements[1] = Element::simple(" ".repeat(10));
        isa.elements[3] = Element::simple(" ".repeat(10));
        isa.elements[5] = Element::simple(format!("{:<15}", "SENDER"));
        isa.elements[7] = Element::simple(format!("{:<15}", "RECEIVER"));
        assert_eq!(parsed, vec![expected]);
    }

    #[test]
    fn edifact_escapes_with_release_character() {
        let tree = Interchange {
            standard: Standard::Edifact,
            delimiters: Delimiters::EDIFACT,
            service_string_advice: true,
            header: Some(Segment::new(
                "UNB",
                vec![
                    Element::composite(["UNOC", "3"]),
                    Element::composite(["SENDER", "14"]),
                    Element::composite(["RECEIVER", "14"]),
                    Element::composite(["260101", "1200"]),
                    Element::simple("42"),
                ],
            )),
            acknowledgments: vec![],
            groups: vec![Group {
                header: None,
                transaction_sets: vec![TransactionSet {
                    header: Segment::new(
                        "UNH",
                        vec![Element::simple("1"), Element::composite(["ORDERS", "D", "96A", "UN"])],
                    ),
                    segments: vec![Segment::new("FTX", vec![Element::simple("AAI"), Element::simple("it's 1+1:2?")])],
                }],
            }],
        };
        let out = write_all(std::slice::from_ref(&tree), WriteOptions::default()).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains("FTX+AAI+it?'s 1?+1?:2??'"), "{text}");
        assert!(text.ends_with("UNT+3+1'UNZ+1+42'"), "{text}");
        let (parsed, errors) = parse(&out, ParseOptions::default());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(parsed, vec![tree]);
    }
}
