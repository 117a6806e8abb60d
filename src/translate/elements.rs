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
    texts: Texts<'a>,
    /// Elements in the segment, trailing empty ones included, as `Segment::element_texts`
    /// counts them.
    count: usize,
}

enum Texts<'a> {
    /// Element `i` is `text[spans[i].0..spans[i].1]`; the spans of elements the definition
    /// does not have stay `(0, 0)`, empty, as those elements must be.
    Cut {
        text: &'a str,
        spans: [(u16, u16); MAX_CUT],
    },
    Decoded(Vec<Cow<'a, str>>),
}

impl<'a> Elements<'a> {
    /// `text` cut at `spans`, which give `count` elements' places (those past `MAX_CUT`
    /// empty).
    pub(crate) fn cut(text: &'a str, spans: [(u16, u16); MAX_CUT], count: usize) -> Self {
        Elements { texts: Texts::Cut { text, spans }, count }
    }

    pub(crate) fn decoded(texts: Vec<Cow<'a, str>>) -> Self {
        Elements { count: texts.len(), texts: Texts::Decoded(texts) }
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
        match &self.texts {
            Texts::Cut { text, spans } => match spans.get(index) {
                Some(&(start, end)) => text.get(usize::from(start)..usize::from(end)).map(Ok),
                None => Some(Ok("")),
            },
            Texts::Decoded(texts) => texts.get(index).map(Err),
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
