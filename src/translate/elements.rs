//! The element texts of a mapped X12 segment, as the maps read them.
//!
//! A segment that passes validation is nearly always plain text, and `validate::x12_cut`
//! checks its elements while it finds where they end: the texts stay in the segment and
//! only where each starts and ends is kept, on the stack. A segment that must be decoded
//! first (line breaks to remove, a separator outside ASCII), or that went the slow way
//! through `validate::x12`, keeps its texts in a vector instead.

use std::borrow::Cow;
use std::ops::Index;

/// The most elements a definition may have for its segments to be cut in place (LIN, the
/// longest the maps read, has 31).
pub(crate) const MAX_CUT: usize = 32;

pub(crate) struct Elements<'a> {
    /// Element `i` is `text[spans[i].0..spans[i].1]` (empty past `MAX_CUT`).
    text: &'a str,
    spans: [(u16, u16); MAX_CUT],
    /// The texts, when they were decoded rather than cut (then `text` and `spans` are unused).
    decoded: Option<Vec<Cow<'a, str>>>,
    /// Elements in the segment, trailing empty ones included, as `Segment::element_texts`
    /// counts them.
    count: usize,
}

impl<'a> Elements<'a> {
    /// No elements: room for a segment to be cut into (`validate::x12_cut_into`).
    pub(crate) fn new() -> Self {
        Elements { text: "", spans: [(0, 0); MAX_CUT], decoded: None, count: 0 }
    }

    /// `text` cut at `spans`, which give `count` elements' places (those past `MAX_CUT`
    /// empty).
    #[cfg(test)]
    pub(crate) fn cut(text: &'a str, spans: [(u16, u16); MAX_CUT], count: usize) -> Self {
        Elements { text, spans, decoded: None, count }
    }

    pub(crate) fn decoded(texts: Vec<Cow<'a, str>>) -> Self {
        Elements { text: "", spans: [(0, 0); MAX_CUT], count: texts.len(), decoded: Some(texts) }
    }

    /// Starts cutting `text` into these elements. Gives the places, which the cut sets for
    /// every element it finds (an earlier cut's are left) before `cut_done` says how many.
    #[inline]
    pub(crate) fn start_cut(&mut self, text: &'a str) -> &mut [(u16, u16); MAX_CUT] {
        self.text = text;
        self.decoded = None;
        self.count = 0;
        &mut self.spans
    }

    #[inline]
    pub(crate) fn cut_done(&mut self, count: usize) {
        self.count = count;
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// The text of the element at `index` (from 0), `None` past the last one.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&str> {
        self.at(index).map(|text| match text {
            Ok(cut) => cut,
            Err(decoded) => decoded.as_ref(),
        })
    }

    /// The text of the element at `index`, as `get`, borrowed from the segment when it was
    /// cut there: it outlives these `Elements`.
    #[inline]
    pub(crate) fn text(&self, index: usize) -> Option<Cow<'a, str>> {
        self.at(index).map(|text| match text {
            Ok(cut) => Cow::Borrowed(cut),
            Err(decoded) => decoded.clone(),
        })
    }

    /// Element `index`: cut from the segment's text, or decoded.
    #[inline(always)]
    fn at(&self, index: usize) -> Option<Result<&'a str, &Cow<'a, str>>> {
        if index >= self.count {
            return None;
        }
        match &self.decoded {
            None => match self.spans.get(index) {
                Some(&(start, end)) => self.text.get(usize::from(start)..usize::from(end)).map(Ok),
                None => Some(Ok("")),
            },
            Some(texts) => texts.get(index).map(Err),
        }
    }

    #[inline]
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.count).map(|i| self.get(i).unwrap_or_default())
    }
}

impl Index<usize> for Elements<'_> {
    type Output = str;

    /// The text of the element at `index`, empty past the last one (as an absent element).
    #[inline]
    fn index(&self, index: usize) -> &str {
        self.get(index).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_texts_read_like_decoded_ones() {
        let text = "1**EA*12.5**";
        let decoded: Vec<Cow<'_, str>> = text.split('*').map(Cow::Borrowed).collect();
        let mut spans = [(0u16, 0u16); MAX_CUT];
        let mut start = 0;
        // The definition has four elements: the last two, empty, keep no place.
        for (i, piece) in text.split('*').enumerate().take(4) {
            spans[i] = (start as u16, (start + piece.len()) as u16);
            start += piece.len() + 1;
        }
        let cut = Elements::cut(text, spans, decoded.len());
        let decoded = Elements::decoded(decoded);
        for elements in [&cut, &decoded] {
            assert_eq!(elements.len(), 6);
            assert_eq!(elements.iter().collect::<Vec<_>>(), ["1", "", "EA", "12.5", "", ""]);
            assert_eq!(elements.get(6), None);
            assert_eq!(&elements[3], "12.5");
            assert_eq!(&elements[9], "");
        }
    }
}
