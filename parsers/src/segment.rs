//! Segments, elements and components as borrowed views of the input.
//!
//! Nothing here copies: a `Segment<'a>` is a slice of the input plus the delimiters needed
//! to split it. Text is decoded only when asked for, and only allocates when the value holds
//! a release character or (in hard-wrapped files) a line break that must be removed.

use std::borrow::Cow;
use std::fmt;

use memchr::{memchr, memchr2};

use crate::delimiters::Delimiters;

/// A segment tag: 1 to 4 upper-case ASCII letters or digits, starting with a letter.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Tag {
    bytes: [u8; 4],
    len: u8,
}

impl Tag {
    /// Validates `bytes` as a tag.
    #[inline]
    pub fn new(bytes: &[u8]) -> Option<Tag> {
        let (&first, _) = bytes.split_first()?;
        if bytes.len() > 4 || !first.is_ascii_uppercase() {
            return None;
        }
        let mut tag = Tag { bytes: [0; 4], len: bytes.len() as u8 };
        for (slot, &b) in tag.bytes.iter_mut().zip(bytes) {
            if !(b.is_ascii_uppercase() || b.is_ascii_digit()) {
                return None;
            }
            *slot = b;
        }
        Some(tag)
    }

    /// The tag in the low `len` bytes of `word` (read little-endian from the segment's start),
    /// validated as `new` does, its four bytes at once: the hot path reads every body
    /// segment's tag, and the two byte loops were 4% of `crossdock translate`'s instructions.
    /// `len` is 1 to 4.
    #[inline]
    pub(crate) fn from_word(word: u64, len: usize) -> Option<Tag> {
        const ONES: u32 = 0x0101_0101;
        const HIGH: u32 = 0x8080_8080;
        if !(1..=4).contains(&len) {
            return None;
        }
        let used = u32::MAX >> (32 - 8 * len);
        let bytes = word as u32 & used;
        let high = HIGH & used;
        // With every byte below 0x80, `b + (0x80 - lo)` has its high bit set when `b >= lo`,
        // and no carry crosses into the next byte.
        let at_least = |lo: u8| bytes.wrapping_add(ONES * u32::from(0x80 - lo));
        let within = |lo: u8, hi: u8| at_least(lo) & !at_least(hi + 1) & high;
        let upper = within(b'A', b'Z');
        let valid = bytes & high == 0 && (upper | within(b'0', b'9')) == high && upper & 0x80 != 0;
        valid.then(|| Tag { bytes: bytes.to_le_bytes(), len: len as u8 })
    }

    /// The tag as one number (bytes, zero-padded), for fast matching.
    #[inline]
    pub(crate) const fn code(&self) -> u32 {
        u32::from_le_bytes(self.bytes)
    }

    /// A tag from a literal known to be valid (`"ST"`); an invalid literal gives the empty tag.
    pub const fn from_static(text: &'static str) -> Tag {
        let src = text.as_bytes();
        let mut bytes = [0u8; 4];
        let mut i = 0;
        while i < src.len() && i < 4 {
            bytes[i] = src[i];
            i += 1;
        }
        Tag { bytes, len: i as u8 }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    pub fn as_str(&self) -> &str {
        // Tags are ASCII by construction.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({})", self.as_str())
    }
}

impl PartialEq<str> for Tag {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Tag {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

/// How a segment's bytes must be read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SegmentFlags(u8);

impl SegmentFlags {
    /// The segment holds a release character: splitting must honour escapes.
    pub const RELEASE: SegmentFlags = SegmentFlags(1);
    /// The segment holds line breaks to be ignored (hard-wrapped EDIFACT).
    pub const LINE_BREAKS: SegmentFlags = SegmentFlags(2);
    /// Elements are not split into components or repetitions (the ISA, whose ISA11 and
    /// ISA16 are the separators themselves).
    pub const ATOMIC: SegmentFlags = SegmentFlags(4);

    pub const fn empty() -> Self {
        SegmentFlags(0)
    }

    pub fn contains(self, other: SegmentFlags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn insert(&mut self, other: SegmentFlags) {
        self.0 |= other.0;
    }
}

/// One segment, borrowed from the input.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    tag: Tag,
    /// Bytes from the tag up to (not including) the terminator.
    raw: &'a [u8],
    /// `raw` as text, when the transaction set it came in was checked as UTF-8 as a whole
    /// (`with_text`): then its elements need no check of their own.
    text: Option<&'a str>,
    /// Index in `raw` where the elements start (at the first element separator).
    data_start: usize,
    delimiters: Delimiters,
    offset: u64,
    number: u64,
    flags: SegmentFlags,
}

impl<'a> Segment<'a> {
    pub(crate) fn from_parts(
        tag: Tag,
        raw: &'a [u8],
        data_start: usize,
        delimiters: Delimiters,
        offset: u64,
        number: u64,
        flags: SegmentFlags,
    ) -> Self {
        Segment { tag, raw, text: None, data_start: data_start.min(raw.len()), delimiters, offset, number, flags }
    }

    /// The same segment, known to be the text `text` (whose bytes are `raw`).
    pub(crate) fn with_text(self, text: Option<&'a str>) -> Self {
        Segment { text: text.filter(|t| std::ptr::eq(t.as_bytes(), self.raw)), ..self }
    }

    pub fn tag(&self) -> Tag {
        self.tag
    }

    /// The segment's bytes from its tag up to, not including, its terminator.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Byte offset of the segment's first byte in the input.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// 1-based number of the segment in the input.
    pub fn number(&self) -> u64 {
        self.number
    }

    pub fn delimiters(&self) -> &Delimiters {
        &self.delimiters
    }

    pub fn flags(&self) -> SegmentFlags {
        self.flags
    }

    pub(crate) fn data_start(&self) -> usize {
        self.data_start
    }

    /// The elements, in order, empty ones included.
    pub fn elements(&self) -> Elements<'a> {
        // `data` starts with the element separator; an empty `data` means no elements.
        let data = &self.raw[self.data_start..];
        let rest = data.split_first().map(|(_, rest)| rest);
        Elements {
            split: Splitter::new(rest, self.delimiters.element, self.escape()),
            delimiters: self.delimiters,
            flags: self.flags,
            whole: self.text,
        }
    }

    /// The text after the tag and its separator, when cutting it at each element separator
    /// gives the elements' texts as they are: no release character to honour, no line break
    /// to remove, an ASCII separator (so every cut falls on a character boundary), and valid
    /// UTF-8. `None` otherwise, and for a segment with no elements at all.
    pub fn plain_text(&self) -> Option<&'a str> {
        let data = &self.raw[self.data_start..];
        let (_, rest) = data.split_first()?;
        if self.flags.contains(SegmentFlags::RELEASE)
            || self.flags.contains(SegmentFlags::LINE_BREAKS)
            || !self.delimiters.element.is_ascii()
        {
            return None;
        }
        match self.text {
            Some(text) => text.get(self.data_start + 1..),
            None => std::str::from_utf8(rest).ok(),
        }
    }

    /// The text of every element, in order, empty ones included: what `elements()` then
    /// `text()` on each gives, but a segment of plain text is checked as UTF-8 once rather
    /// than element by element (the translation's hot path).
    pub fn element_texts(&self) -> Vec<Cow<'a, str>> {
        if self.raw.len() <= self.data_start {
            return Vec::new();
        }
        if let Some(text) = self.plain_text() {
            // One pass, byte by byte: elements are a few bytes long, shorter than it takes
            // memchr to pay for its set-up. Sixteen elements hold nearly every segment: a
            // vector grown from empty was copied several times for a dozen elements.
            let separator = self.delimiters.element;
            let mut texts = Vec::with_capacity(16);
            let mut start = 0;
            for (at, &byte) in text.as_bytes().iter().enumerate() {
                if byte == separator {
                    texts.push(Cow::Borrowed(text.get(start..at).unwrap_or_default()));
                    start = at + 1;
                }
            }
            texts.push(Cow::Borrowed(text.get(start..).unwrap_or_default()));
            return texts;
        }
        self.elements().map(|e| e.text()).collect()
    }

    /// Element at 1-based `position` (as in `BEG03`), or `None` past the last one.
    pub fn element(&self, position: usize) -> Option<Element<'a>> {
        position.checked_sub(1).and_then(|i| self.elements().nth(i))
    }

    /// Text of the element at `position`, or `""` when it is absent.
    pub fn text(&self, position: usize) -> Cow<'a, str> {
        self.element(position).map(|e| e.text()).unwrap_or(Cow::Borrowed(""))
    }

    /// Number of elements, counting empty ones.
    pub fn element_count(&self) -> usize {
        self.elements().count()
    }

    fn escape(&self) -> Option<u8> {
        if self.flags.contains(SegmentFlags::RELEASE) {
            self.delimiters.release
        } else {
            None
        }
    }
}

/// Iterator over a segment's elements.
#[derive(Clone, Debug)]
pub struct Elements<'a> {
    split: Splitter<'a>,
    delimiters: Delimiters,
    flags: SegmentFlags,
    whole: Option<&'a str>,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Element<'a>;

    fn next(&mut self) -> Option<Element<'a>> {
        let raw = self.split.next()?;
        Some(Element { raw, delimiters: self.delimiters, flags: self.flags, whole: self.whole })
    }
}

/// One element (or one repetition of a repeated element), borrowed from the input.
#[derive(Clone, Copy, Debug)]
pub struct Element<'a> {
    raw: &'a [u8],
    delimiters: Delimiters,
    flags: SegmentFlags,
    /// The segment's text, when its transaction set was checked as UTF-8 as a whole: the
    /// element's (and its components') text is then a slice of it, checked already.
    whole: Option<&'a str>,
}

impl<'a> Element<'a> {
    /// Raw bytes, escapes and separators included.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty() || (self.has_line_breaks() && self.raw.iter().all(|b| is_line_break(*b)))
    }

    /// The whole element as text: release characters resolved, wrap line breaks removed,
    /// UTF-8 kept, any other byte read as ISO 8859-1. Component and repetition separators stay.
    pub fn text(&self) -> Cow<'a, str> {
        decode(self.raw, self.escape(), self.has_line_breaks(), self.whole)
    }

    /// True when the element has more than one component.
    pub fn is_composite(&self) -> bool {
        !self.atomic() && self.find(self.delimiters.component).is_some()
    }

    /// True when the element repeats.
    pub fn is_repeated(&self) -> bool {
        match self.delimiters.repetition {
            Some(rep) if !self.atomic() => self.find(rep).is_some(),
            _ => false,
        }
    }

    /// The repetitions of this element (one, for an element that does not repeat).
    pub fn repetitions(&self) -> Repetitions<'a> {
        let sep = match self.delimiters.repetition {
            Some(rep) if !self.atomic() => rep,
            // No repetition separator: split on a byte that cannot occur unescaped, which
            // yields the element whole.
            _ => self.delimiters.segment,
        };
        Repetitions {
            split: Splitter::new(Some(self.raw), sep, self.escape()),
            delimiters: self.delimiters,
            flags: self.flags,
            whole: self.whole,
        }
    }

    /// The components of this element. For a repeated element, take `repetitions()` first.
    pub fn components(&self) -> Components<'a> {
        let sep = if self.atomic() { self.delimiters.segment } else { self.delimiters.component };
        Components {
            split: Splitter::new(Some(self.raw), sep, self.escape()),
            escape: self.escape(),
            line_breaks: self.has_line_breaks(),
            whole: self.whole,
        }
    }

    /// Component at 1-based `position`.
    pub fn component(&self, position: usize) -> Option<Component<'a>> {
        position.checked_sub(1).and_then(|i| self.components().nth(i))
    }

    /// Text of the component at `position`, or `""` when absent.
    pub fn component_text(&self, position: usize) -> Cow<'a, str> {
        self.component(position).map(|c| c.text()).unwrap_or(Cow::Borrowed(""))
    }

    fn atomic(&self) -> bool {
        self.flags.contains(SegmentFlags::ATOMIC)
    }

    fn has_line_breaks(&self) -> bool {
        self.flags.contains(SegmentFlags::LINE_BREAKS)
    }

    fn escape(&self) -> Option<u8> {
        if self.flags.contains(SegmentFlags::RELEASE) {
            self.delimiters.release
        } else {
            None
        }
    }

    fn find(&self, byte: u8) -> Option<usize> {
        let mut split = Splitter::new(Some(self.raw), byte, self.escape());
        let first = split.next()?;
        if split.rest.is_some() {
            Some(first.len())
        } else {
            None
        }
    }
}

/// Iterator over the repetitions of an element.
#[derive(Clone, Debug)]
pub struct Repetitions<'a> {
    split: Splitter<'a>,
    delimiters: Delimiters,
    flags: SegmentFlags,
    whole: Option<&'a str>,
}

impl<'a> Iterator for Repetitions<'a> {
    type Item = Element<'a>;

    fn next(&mut self) -> Option<Element<'a>> {
        let raw = self.split.next()?;
        Some(Element { raw, delimiters: self.delimiters, flags: self.flags, whole: self.whole })
    }
}

/// Iterator over the components of an element.
#[derive(Clone, Debug)]
pub struct Components<'a> {
    split: Splitter<'a>,
    escape: Option<u8>,
    line_breaks: bool,
    whole: Option<&'a str>,
}

impl<'a> Iterator for Components<'a> {
    type Item = Component<'a>;

    fn next(&mut self) -> Option<Component<'a>> {
        let raw = self.split.next()?;
        Some(Component { raw, escape: self.escape, line_breaks: self.line_breaks, whole: self.whole })
    }
}

/// One component (a simple value), borrowed from the input.
#[derive(Clone, Copy, Debug)]
pub struct Component<'a> {
    raw: &'a [u8],
    escape: Option<u8>,
    line_breaks: bool,
    whole: Option<&'a str>,
}

impl<'a> Component<'a> {
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty() || (self.line_breaks && self.raw.iter().all(|b| is_line_break(*b)))
    }

    /// The value as text: release characters resolved, wrap line breaks removed.
    pub fn text(&self) -> Cow<'a, str> {
        decode(self.raw, self.escape, self.line_breaks, self.whole)
    }
}

/// Splits bytes on a separator, skipping separators escaped by the release character.
/// `None` as the remainder means exhausted; `Some(b"")` still yields one empty piece.
#[derive(Clone, Debug)]
pub(crate) struct Splitter<'a> {
    rest: Option<&'a [u8]>,
    sep: u8,
    release: Option<u8>,
}

impl<'a> Splitter<'a> {
    pub(crate) fn new(rest: Option<&'a [u8]>, sep: u8, release: Option<u8>) -> Self {
        Splitter { rest, sep, release }
    }
}

impl<'a> Iterator for Splitter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        let found = match self.release {
            // Byte by byte: pieces are a few bytes long, shorter than memchr's set-up pays for.
            None => rest.iter().position(|&b| b == self.sep),
            Some(release) => find_unescaped(rest, self.sep, release),
        };
        match found {
            Some(i) => {
                self.rest = rest.get(i + 1..);
                rest.get(..i)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// Position of the first `sep` in `bytes` not preceded by an unescaped `release`.
#[inline]
pub(crate) fn find_unescaped(bytes: &[u8], sep: u8, release: u8) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = bytes.get(from..).and_then(|b| memchr2(sep, release, b)) {
        let at = from + i;
        if bytes.get(at) == Some(&sep) {
            return Some(at);
        }
        // A release character: the next byte is literal.
        from = at + 2;
    }
    None
}

#[inline]
pub(crate) fn is_line_break(byte: u8) -> bool {
    byte == b'\n' || byte == b'\r'
}

/// Decodes a value: resolves release characters, drops wrap line breaks, and reads the bytes
/// as UTF-8 when they are valid UTF-8 and as ISO 8859-1 otherwise (so that no byte is lost).
///
/// `whole` is text that holds `raw` (the segment's, checked as UTF-8 already): then `raw`'s
/// text is a slice of it rather than checked again.
pub(crate) fn decode<'a>(
    raw: &'a [u8],
    release: Option<u8>,
    line_breaks: bool,
    whole: Option<&'a str>,
) -> Cow<'a, str> {
    let needs_release = release.is_some_and(|r| memchr(r, raw).is_some());
    let needs_strip = line_breaks && memchr2(b'\n', b'\r', raw).is_some();
    if !needs_release && !needs_strip {
        if let Some(text) = whole.and_then(|whole| slice_of(whole, raw)) {
            return Cow::Borrowed(text);
        }
        return match std::str::from_utf8(raw) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => Cow::Owned(latin1(raw)),
        };
    }
    let mut bytes = Vec::with_capacity(raw.len());
    let mut iter = raw.iter().copied();
    while let Some(byte) = iter.next() {
        if line_breaks && is_line_break(byte) {
            continue;
        }
        if Some(byte) == release {
            // The escaped byte may itself be preceded by wrap line breaks.
            for next in iter.by_ref() {
                if line_breaks && is_line_break(next) {
                    continue;
                }
                bytes.push(next);
                break;
            }
            continue;
        }
        bytes.push(byte);
    }
    match String::from_utf8(bytes) {
        Ok(text) => Cow::Owned(text),
        Err(err) => Cow::Owned(latin1(err.as_bytes())),
    }
}

/// `bytes` as the slice of `whole` it is, when it lies within `whole` on character boundaries.
fn slice_of<'a>(whole: &'a str, bytes: &[u8]) -> Option<&'a str> {
    let offset = (bytes.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    whole.get(offset..offset.checked_add(bytes.len())?).filter(|text| std::ptr::eq(text.as_bytes(), bytes))
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg<'a>(raw: &'a [u8], tag_len: usize, d: Delimiters, flags: SegmentFlags) -> Segment<'a> {
        let tag = Tag::new(&raw[..tag_len]).unwrap();
        Segment::from_parts(tag, raw, tag_len, d, 0, 1, flags)
    }

    #[test]
    fn a_tag_read_as_a_word_is_the_tag_read_byte_by_byte() {
        let word = |bytes: &[u8]| {
            let mut word = [0x2a; 8];
            word[..bytes.len()].copy_from_slice(bytes);
            u64::from_le_bytes(word)
        };
        // Every one- and two-byte tag, and longer ones over the bytes at the edges of each range.
        for first in 0..=255u8 {
            assert_eq!(Tag::from_word(word(&[first]), 1), Tag::new(&[first]), "{first:#x}");
            for second in 0..=255u8 {
                assert_eq!(Tag::from_word(word(&[first, second]), 2), Tag::new(&[first, second]));
            }
        }
        let edges = [b'@', b'A', b'M', b'Z', b'[', b'/', b'0', b'9', b':', b'a', b'z', 0, 0x7f, 0x80, 0xc1, 0xda, 0xff];
        for &a in &edges {
            for &b in &edges {
                for &c in &edges {
                    assert_eq!(Tag::from_word(word(&[a, b, c]), 3), Tag::new(&[a, b, c]));
                    for &e in &edges {
                        assert_eq!(Tag::from_word(word(&[a, b, c, e]), 4), Tag::new(&[a, b, c, e]));
                    }
                }
            }
        }
        assert_eq!(Tag::from_word(word(b"ABCDE"), 5), None);
        assert_eq!(Tag::from_word(word(b""), 0), None);
    }

    #[test]
    fn x12_elements_components_repetitions() {
        let s = seg(b"CTX*A>B^C>D**E", 3, Delimiters::X12, SegmentFlags::empty());
        let elements: Vec<_> = s.elements().map(|e| e.raw()).collect();
        assert_eq!(elements, vec![&b"A>B^C>D"[..], b"", b"E"]);
        let first = s.element(1).unwrap();
        assert!(first.is_repeated());
        let reps: Vec<Vec<String>> =
            first.repetitions().map(|r| r.components().map(|c| c.text().into_owned()).collect()).collect();
        assert_eq!(reps, vec![vec!["A", "B"], vec!["C", "D"]]);
        assert_eq!(s.text(3), "E");
        assert_eq!(s.text(9), "");
    }

    #[test]
    fn segment_without_elements() {
        let s = seg(b"UNS", 3, Delimiters::EDIFACT, SegmentFlags::empty());
        assert_eq!(s.element_count(), 0);
        let s = seg(b"UNS+", 3, Delimiters::EDIFACT, SegmentFlags::empty());
        assert_eq!(s.element_count(), 1);
    }

    #[test]
    fn edifact_release_character() {
        let raw = b"IMD+F++:::Tolkien?'s ?+?:?? x";
        let s = seg(raw, 3, Delimiters::EDIFACT, SegmentFlags::RELEASE);
        let e = s.element(3).unwrap();
        assert_eq!(e.components().count(), 4);
        assert_eq!(e.component_text(4), "Tolkien's +:? x");
    }

    #[test]
    fn wrapped_lines_are_dropped() {
        let raw = b"NAD*BY*7\n92820524==16";
        let d = Delimiters { element: b'*', component: b'=', ..Delimiters::EDIFACT };
        let s = seg(raw, 3, d, SegmentFlags::LINE_BREAKS);
        assert_eq!(s.element(2).unwrap().component_text(1), "792820524");
    }

    #[test]
    fn latin1_fallback() {
        let s = seg(b"NAD+M\xfcnchen", 3, Delimiters::EDIFACT, SegmentFlags::empty());
        assert_eq!(s.text(1), "München");
    }

    #[test]
    fn tags() {
        assert!(Tag::new(b"ST").is_some());
        assert!(Tag::new(b"N1").is_some());
        assert!(Tag::new(b"1N").is_none());
        assert!(Tag::new(b"st").is_none());
        assert!(Tag::new(b"ABCDE").is_none());
        assert_eq!(Tag::from_static("UNH"), Tag::new(b"UNH").unwrap());
    }

    proptest::proptest! {
        #[test]
        fn element_texts_match_element_by_element(
            data in proptest::collection::vec(proptest::prop_oneof![
                proptest::prelude::Just(b'*'), proptest::prelude::Just(b'?'), proptest::prelude::Just(b'\n'),
                proptest::prelude::Just(0xC3u8), proptest::prelude::Just(0xA9u8), 0x20u8..0x7f,
            ], 0..40),
            edifact in proptest::prelude::any::<bool>(),
        ) {
            let (d, mut flags) = if edifact {
                (Delimiters { element: b'*', release: Some(b'?'), ..Delimiters::EDIFACT }, SegmentFlags::RELEASE)
            } else {
                (Delimiters::X12, SegmentFlags::empty())
            };
            if data.contains(&b'\n') {
                flags.insert(SegmentFlags::LINE_BREAKS);
            }
            let mut raw = b"TAG*".to_vec();
            raw.extend_from_slice(&data);
            let s = seg(&raw, 3, d, flags);
            let one_by_one: Vec<_> = s.elements().map(|e| e.text()).collect();
            proptest::prop_assert_eq!(&s.element_texts(), &one_by_one);
            // As a transaction set checked as UTF-8 as a whole hands it out: its elements and
            // components read the same text from the segment's.
            let text = s.with_text(std::str::from_utf8(&raw).ok());
            proptest::prop_assert_eq!(&text.element_texts(), &one_by_one);
            // Plain text, where a segment has it, cuts into the same texts.
            for segment in [&s, &text] {
                if let Some(plain) = segment.plain_text() {
                    let cut: Vec<_> = plain.split(char::from(d.element)).map(Cow::Borrowed).collect();
                    proptest::prop_assert_eq!(&cut, &one_by_one);
                }
            }
            let components = |s: &Segment<'_>| -> Vec<String> {
                s.elements().flat_map(|e| e.components().map(|c| c.text().into_owned()).collect::<Vec<_>>()).collect()
            };
            proptest::prop_assert_eq!(components(&text), components(&s));
            let texts: Vec<_> = text.elements().map(|e| e.text()).collect();
            proptest::prop_assert_eq!(texts, one_by_one);
        }
    }
}
