//! Framing: finding where each segment ends, cheaply, before anything is split.
//!
//! This is the hot path. The terminator is found with memchr (memchr2 when a release
//! character may escape it), and one branch-free pass over the segment counts the
//! separators for the limit checks. Element splitting happens later, only when asked for.

use memchr::{memchr, memchr2};

use crate::delimiters::Delimiters;
use crate::segment::{is_line_break, SegmentFlags, Tag};

/// Result of looking for the segment that starts at a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framed {
    /// A segment occupies `start..end`; its terminator is at `end`.
    Segment { end: usize },
    /// More input is needed to find the terminator.
    NeedMore,
    /// No terminator within the segment limit.
    TooLong,
    /// The input ends before the terminator.
    Truncated,
}

/// Finds the end of the segment starting at `start`.
#[inline]
pub(crate) fn find_segment_end(buf: &[u8], start: usize, delimiters: &Delimiters, max_len: usize, eof: bool) -> Framed {
    let window_end = buf.len().min(start.saturating_add(max_len).saturating_add(1));
    let window = buf.get(start..window_end).unwrap_or_default();
    let found = match delimiters.release {
        None => memchr(delimiters.segment, window),
        Some(release) => {
            let mut from = 0;
            loop {
                match window.get(from..).and_then(|w| memchr2(delimiters.segment, release, w)) {
                    None => break None,
                    Some(i) => {
                        let at = from + i;
                        if window.get(at) == Some(&delimiters.segment) {
                            break Some(at);
                        }
                        from = at + 2;
                    }
                }
            }
        }
    };
    match found {
        Some(i) => Framed::Segment { end: start + i },
        None if window_end < buf.len() || window.len() > max_len => Framed::TooLong,
        None if eof => Framed::Truncated,
        None => Framed::NeedMore,
    }
}

/// Separator counts of one segment's data, from a single pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub elements: usize,
    pub components: usize,
    pub repetitions: usize,
    pub line_breaks: usize,
    pub releases: usize,
    /// Set by `scan` for a short segment with no line break or release character: nothing
    /// about its shape needs checking.
    pub clean: bool,
}

/// Counts separators in `data`. Written as independent sums so that the compiler
/// vectorizes it; escaped separators are counted too (callers recount exactly when a limit
/// seems breached and the segment has release characters).
#[inline]
pub(crate) fn count(data: &[u8], d: &Delimiters) -> Counts {
    let (es, cs) = (d.element, d.component);
    // Without a repetition (or release) byte, compare against the element separator and
    // discard the sum: it keeps the loop branch-free.
    let rs = d.repetition.unwrap_or(es);
    let xs = d.release.unwrap_or(es);
    // A line break that is itself a delimiter is not a stray line break.
    let (lf, cr) = (!d.is_delimiter(b'\n'), !d.is_delimiter(b'\r'));
    let (mut e, mut c, mut r, mut lb, mut x) = (0u32, 0u32, 0u32, 0u32, 0u32);
    for &b in data {
        e += u32::from(b == es);
        c += u32::from(b == cs);
        r += u32::from(b == rs);
        x += u32::from(b == xs);
        lb += u32::from(((b == b'\n') & lf) | ((b == b'\r') & cr));
    }
    Counts {
        elements: e as usize,
        components: c as usize,
        repetitions: if d.repetition.is_some() { r as usize } else { 0 },
        line_breaks: lb as usize,
        releases: if d.release.is_some() { x as usize } else { 0 },
        clean: false,
    }
}

/// Counts what the limit checks and flags need, skipping the full count when it cannot
/// matter: a segment no longer than `short_max` bytes cannot break a limit of that size, so it
/// only needs to know whether it holds a line break or a release character.
#[inline]
pub(crate) fn scan(raw: &[u8], d: &Delimiters, short_max: usize) -> Counts {
    if raw.len() <= short_max && !contains_any(raw, b'\n', b'\r', d.release.unwrap_or(b'\n')) {
        return Counts { clean: true, ..Counts::default() };
    }
    count(raw, d)
}

/// Whether `bytes` holds any of three bytes, eight bytes at a time (SWAR): on the short
/// slices segments are, this beats both a memchr call's setup and a byte loop.
#[inline]
pub(crate) fn contains_any(bytes: &[u8], a: u8, b: u8, c: u8) -> bool {
    #[inline]
    fn has_zero_byte(v: u64) -> bool {
        v.wrapping_sub(LOW) & !v & HIGH != 0
    }
    let (va, vb, vc) = (LOW * u64::from(a), LOW * u64::from(b), LOW * u64::from(c));
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let Ok(word) = <[u8; 8]>::try_from(word) else { continue };
        let w = u64::from_le_bytes(word);
        if has_zero_byte(w ^ va) | has_zero_byte(w ^ vb) | has_zero_byte(w ^ vc) {
            return true;
        }
    }
    words.remainder().iter().any(|&x| (x == a) | (x == b) | (x == c))
}

/// The hot path's framing in one pass: the end (its terminator) of the segment at `start`
/// when it is at most `max` bytes long and holds no control character below 0x0E (line
/// breaks among them) and no `third` byte (the release character, or a line break again);
/// `None` when it does, or the buffer ends first, and the general path decides. On the short
/// segments a body is made of, this replaced a memchr for the terminator (its setup cost more
/// than the search) and a second pass for the line breaks. Testing the control characters as
/// one range costs half of testing CR and LF apart; a tab or other control character in a
/// segment only sends it down the general path.
#[inline]
pub(crate) fn plain_segment_end(buf: &[u8], start: usize, terminator: u8, third: u8, max: usize) -> Option<usize> {
    // CR and LF are below 0x0E: the third byte needs its own test only when it is not.
    let third_apart = third >= CONTROL_BELOW;
    let window = buf.get(start..)?;
    let window = window.get(..max.saturating_add(1)).unwrap_or(window);
    let mut words = window.chunks_exact(8);
    let mut base = start;
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
        let ends = equal(word, terminator);
        let mut other = below(word, CONTROL_BELOW);
        if third_apart {
            other |= equal(word, third);
        }
        if ends | other != 0 {
            // `<=`: a terminator that is itself a control character ends the segment.
            return (ends.trailing_zeros() <= other.trailing_zeros())
                .then(|| base + ends.trailing_zeros() as usize / 8);
        }
        base += 8;
    }
    for (at, &byte) in words.remainder().iter().enumerate() {
        if byte == terminator {
            return Some(base + at);
        }
        if byte < CONTROL_BELOW || byte == third {
            return None;
        }
    }
    None
}

/// `plain_segment_end` leaves the segments with bytes below this to the general path: CR
/// (0x0D), LF and the control characters below them.
const CONTROL_BELOW: u8 = 0x0e;

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// For eight bytes read little-endian, the high bit of each byte below `n` (n <= 0x80) set.
/// Only the lowest set bit is exact (a borrow only runs upwards), which is all the word
/// scans here read.
#[inline]
fn below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(LOW * u64::from(n)) & !word & HIGH
}

/// `below`'s mask of the bytes equal to `b`.
#[inline]
fn equal(word: u64, b: u8) -> u64 {
    below(word ^ (LOW * u64::from(b)), 1)
}

/// `split_tag` for a segment at `start` of `buf` that ends at `end` with no line break in it,
/// reading its first eight bytes as one word; `None` when they are not all there or the tag
/// is not valid, and `split_tag` says what.
#[inline]
pub(crate) fn split_tag_word(buf: &[u8], start: usize, end: usize, element: u8) -> Option<(Tag, usize)> {
    let word = u64::from_le_bytes(buf.get(start..start.checked_add(8)?)?.try_into().ok()?);
    // The lowest separator is exact; past the segment's end, its end ends the tag.
    let len = (equal(word, element).trailing_zeros() / 8) as usize;
    let len = len.min(end.saturating_sub(start));
    Some((Tag::from_word(word, len)?, len))
}

/// A segment's tag and where its elements start. `None` for an invalid tag (the caller
/// shows the bytes before `data_start`). With `line_breaks`, wrap line breaks inside the
/// tag are dropped.
#[inline]
pub(crate) fn split_tag(raw: &[u8], d: &Delimiters, line_breaks: bool) -> (Option<Tag>, usize) {
    if !line_breaks {
        // Tags are at most 4 bytes: read them by hand.
        let n = raw.len().min(5);
        let mut len = 0;
        while len < n && raw[len] != d.element {
            len += 1;
        }
        if len <= 4 {
            return (Tag::new(&raw[..len]), len);
        }
    }
    let data_start = memchr(d.element, raw).unwrap_or(raw.len());
    let tag_bytes = raw.get(..data_start).unwrap_or_default();
    if line_breaks && tag_bytes.iter().any(|b| is_line_break(*b)) {
        let cleaned: Vec<u8> = tag_bytes.iter().copied().filter(|b| !is_line_break(*b)).collect();
        return (Tag::new(&cleaned), data_start);
    }
    (Tag::new(tag_bytes), data_start)
}

/// The flags that tell later stages how to read the segment.
pub(crate) fn flags_for(counts: &Counts, line_breaks_allowed: bool) -> SegmentFlags {
    let mut flags = SegmentFlags::empty();
    if counts.releases > 0 {
        flags.insert(SegmentFlags::RELEASE);
    }
    if counts.line_breaks > 0 && line_breaks_allowed {
        flags.insert(SegmentFlags::LINE_BREAKS);
    }
    flags
}

/// Skips line breaks between segments.
#[inline]
pub(crate) fn skip_line_breaks(buf: &[u8], mut pos: usize) -> usize {
    while buf.get(pos).is_some_and(|b| is_line_break(*b)) {
        pos += 1;
    }
    pos
}

/// Skips what may stand between interchanges: whitespace, and the NUL and SUB (0x1A)
/// padding that some transfer programs append.
#[inline]
pub(crate) fn skip_filler(buf: &[u8], mut pos: usize) -> usize {
    while buf.get(pos).is_some_and(|b| matches!(b, b'\n' | b'\r' | b' ' | b'\t' | 0 | 0x1a)) {
        pos += 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_terminator_with_escapes() {
        let d = Delimiters::EDIFACT;
        let buf = b"IMD+F++:::Tolkien?'s'NEXT'";
        assert_eq!(find_segment_end(buf, 0, &d, 100, false), Framed::Segment { end: 20 });
        assert_eq!(find_segment_end(b"ABC+??'X", 0, &d, 100, false), Framed::Segment { end: 6 });
        assert_eq!(find_segment_end(b"ABC+?", 0, &d, 100, false), Framed::NeedMore);
        assert_eq!(find_segment_end(b"ABC+?", 0, &d, 100, true), Framed::Truncated);
    }

    #[test]
    fn limit_is_enforced() {
        let d = Delimiters::X12;
        let buf = b"ST*850*0001~";
        assert_eq!(find_segment_end(buf, 0, &d, 11, false), Framed::Segment { end: 11 });
        assert_eq!(find_segment_end(buf, 0, &d, 10, false), Framed::TooLong);
        assert_eq!(find_segment_end(b"ST*850", 0, &d, 5, false), Framed::TooLong);
        assert_eq!(find_segment_end(b"ST*850", 0, &d, 50, false), Framed::NeedMore);
    }

    /// What `plain_segment_end` must give, byte by byte.
    fn plain_end_by_bytes(buf: &[u8], start: usize, terminator: u8, third: u8, max: usize) -> Option<usize> {
        let rest = buf.get(start..)?;
        let at = rest.iter().position(|&b| b == terminator || b < 0x0e || b == third)?;
        (rest[at] == terminator && at <= max).then_some(start + at)
    }

    #[test]
    fn plain_segment_end_is_the_byte_by_byte_answer() {
        // Every byte the answer depends on, and bytes one bit away from them (a word-at-a-time
        // test that let a borrow or a high bit through would differ on those).
        let alphabet =
            [b'~', b'\n', b'\r', b'?', b'\'', b'A', b'*', 0x7e | 0x80, 0x0a | 0x80, 0x7f, 0, 0xff, b'\t', 0x0e, 0x1d];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..4000 {
            let len = (next() % 40) as usize;
            // Most bytes plain, so that segments run for more than a word.
            let buf: Vec<u8> = (0..len)
                .map(|_| match next() % 8 {
                    0 => alphabet[(next() % alphabet.len() as u64) as usize],
                    _ => b'A' + (next() % 26) as u8,
                })
                .collect();
            // X12, EDIFACT, and a release character just past the control range.
            let (terminator, third) = [(b'~', b'\n'), (b'\'', b'?'), (0x1d, 0x0e)][round % 3];
            for start in 0..=len {
                for max in [0, 1, 7, 8, 9, 15, 16, 17, 64] {
                    assert_eq!(
                        plain_segment_end(&buf, start, terminator, third, max),
                        plain_end_by_bytes(&buf, start, terminator, third, max),
                        "{buf:?} from {start}, max {max}"
                    );
                }
            }
        }
        // A line break as the terminator ends the segment.
        assert_eq!(plain_segment_end(b"ST*850\nSE", 0, b'\n', b'\n', 64), Some(6));
        assert_eq!(plain_segment_end(b"ST*850\r\nSE", 0, b'\n', b'\n', 64), None);
        // Control characters as delimiters (X12 allows them).
        assert_eq!(plain_segment_end(b"PO1\x1d1\x1d2\x1cPID", 0, 0x1c, b'\n', 64), Some(7));
        assert_eq!(plain_segment_end(b"PO1\x1d1\x07X\x1cPID", 0, 0x1c, b'\n', 64), None);
    }

    #[test]
    fn split_tag_word_reads_the_tag_split_tag_reads() {
        let d = Delimiters::X12;
        let samples: [&[u8]; 12] = [
            b"PO1*1*2~",
            b"N1*ST~",
            b"SE~",
            b"ABCD*",
            b"ABCDE*1~",
            b"po1*1~",
            b"1PO*1~",
            b"P\xc31*~",
            b"A*",
            b"*A~",
            b"Z9Z9*~",
            b"~",
        ];
        for sample in samples {
            let mut buf = sample.to_vec();
            let end = buf.iter().position(|&b| b == b'~').unwrap_or(buf.len());
            buf.extend_from_slice(b"PID*F*~~~~");
            let expected = match split_tag(&buf[..end], &d, false) {
                (Some(tag), data_start) => Some((tag, data_start)),
                (None, _) => None,
            };
            assert_eq!(split_tag_word(&buf, 0, end, d.element), expected, "{:?}", String::from_utf8_lossy(sample));
        }
        // Fewer than eight bytes left: the caller falls back to `split_tag`.
        assert_eq!(split_tag_word(b"N1*ST~", 0, 5, d.element), None);
    }

    #[test]
    fn contains_any_finds_bytes_anywhere() {
        let text = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for i in 0..text.len() {
            let mut bytes = text.to_vec();
            bytes[i] = b'\n';
            assert!(contains_any(&bytes, b'\n', b'\r', b'?'), "at {i}");
            assert!(contains_any(&bytes[..=i], b'\r', b'\n', b'?'), "at {i}");
        }
        assert!(!contains_any(text, b'\n', b'\r', b'?'));
        assert!(!contains_any(b"", b'\n', b'\r', b'?'));
        // Bytes that differ by the high bit must not match.
        assert!(!contains_any(&[0x8a; 16], b'\n', b'\r', b'?'));
    }

    #[test]
    fn tags_are_split() {
        let d = Delimiters::X12;
        assert_eq!(split_tag(b"ST*850", &d, false), (Tag::new(b"ST"), 2));
        assert_eq!(split_tag(b"UNS", &d, false), (Tag::new(b"UNS"), 3));
        assert_eq!(split_tag(b"ABCDE*1", &d, false), (None, 5));
        assert_eq!(split_tag(b"", &d, false), (None, 0));
        assert_eq!(split_tag(b"U\nNH*1", &d, true), (Tag::new(b"UNH"), 4));
    }

    #[test]
    fn counts_separators() {
        let c = count(b"*A>B^C*D\n", &Delimiters::X12);
        assert_eq!(c, Counts { elements: 2, components: 1, repetitions: 1, line_breaks: 1, releases: 0, clean: false });
        let c = count(b"+A?+B", &Delimiters::EDIFACT);
        assert_eq!(c.releases, 1);
        assert_eq!(c.repetitions, 0);
    }
}
