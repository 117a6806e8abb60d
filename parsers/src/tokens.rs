//! Tokenizing alone: the segments of an input, in order, with no envelope validation.
//!
//! For tools that only scan (and for measuring the framing cost apart from the envelope
//! rules). Delimiters come from each ISA or UNA/UNB as it is met. The first framing error
//! ends the iteration.

use crate::delimiters::Delimiters;
use crate::edifact::una::{parse_una, UNA_LEN};
use crate::error::{preview, Error, ErrorKind};
use crate::frame::{find_segment_end, skip_filler, split_tag, Framed};
use crate::location::Location;
use crate::segment::{Segment, SegmentFlags, Tag};
use crate::x12::isa::{parse_isa, IsaParse};

/// The segments of `input`.
pub fn segments(input: &[u8]) -> Segments<'_> {
    Segments { input, pos: 0, number: 0, delimiters: None, done: false }
}

/// The segments of `input`, a run of segments with no interchange header (a transaction set
/// on its own, for instance) written with `delimiters`.
pub fn segments_with(input: &[u8], delimiters: Delimiters) -> Segments<'_> {
    Segments { input, pos: 0, number: 0, delimiters: Some(delimiters), done: false }
}

/// Iterator over the segments of an input; see `segments`.
#[derive(Debug)]
pub struct Segments<'a> {
    input: &'a [u8],
    pos: usize,
    number: u64,
    delimiters: Option<Delimiters>,
    done: bool,
}

impl<'a> Segments<'a> {
    fn fail(&mut self, kind: ErrorKind) -> Option<Result<Segment<'a>, Error>> {
        self.done = true;
        let location = Location { segment_number: self.number, ..Location::at(self.pos as u64) };
        Some(Err(Error::new(kind, location)))
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = Result<Segment<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.pos = skip_filler(self.input, self.pos);
        let rest = self.input.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        // A new interchange brings its own delimiters.
        if rest.starts_with(b"ISA") {
            match parse_isa(rest, true, true) {
                IsaParse::Done(isa) => {
                    self.delimiters = Some(isa.delimiters);
                    self.number += 1;
                    let raw = rest.get(..isa.terminator).unwrap_or_default();
                    let segment = Segment::from_parts(
                        Tag::from_static("ISA"),
                        raw,
                        3,
                        isa.delimiters,
                        self.pos as u64,
                        self.number,
                        SegmentFlags::ATOMIC,
                    );
                    self.pos += isa.terminator + 1;
                    return Some(Ok(segment));
                }
                IsaParse::Fatal(kind) => return self.fail(kind),
                IsaParse::NeedMore => {
                    return self.fail(ErrorKind::Truncated { expected: "the ISA interchange header" })
                }
            }
        }
        if rest.starts_with(b"UNA") {
            match rest.get(..UNA_LEN).map(parse_una) {
                Some(Ok(delimiters)) => {
                    self.delimiters = Some(delimiters);
                    self.pos += UNA_LEN;
                    return self.next();
                }
                Some(Err(kind)) => return self.fail(kind),
                None => return self.fail(ErrorKind::Truncated { expected: "the UNA service string advice" }),
            }
        }
        let delimiters = match self.delimiters {
            Some(d) => d,
            None if rest.starts_with(b"UNB") || rest.starts_with(b"UNH") => {
                *self.delimiters.insert(Delimiters::EDIFACT)
            }
            None => return self.fail(ErrorKind::NotEdi { found: preview(rest) }),
        };
        let end = match find_segment_end(self.input, self.pos, &delimiters, usize::MAX / 2, true) {
            Framed::Segment { end } => end,
            _ => return self.fail(ErrorKind::Truncated { expected: "a segment terminator" }),
        };
        let raw = self.input.get(self.pos..end).unwrap_or_default();
        let (tag, data_start) = split_tag(raw, &delimiters, false);
        let Some(tag) = tag else {
            return self
                .fail(ErrorKind::InvalidSegmentTag { found: preview(raw.get(..data_start).unwrap_or_default()) });
        };
        let mut flags = SegmentFlags::empty();
        if delimiters.release.is_some_and(|r| memchr::memchr(r, raw).is_some()) {
            flags.insert(SegmentFlags::RELEASE);
        }
        self.number += 1;
        let segment = Segment::from_parts(tag, raw, data_start, delimiters, self.pos as u64, self.number, flags);
        self.pos = end + 1;
        Some(Ok(segment))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_of_mixed_input() {
        let input = b"ISA*00*          *00*          *ZZ*S              *ZZ*R              *260101*1200*U*00401*000000001*0*P*>~\n\
                      GS*PO*S*R*20260101*1200*1*X*004010~ST*850*1~SE*2*1~GE*1*1~IEA*1*000000001~\
                      UNA:+.? 'UNB+UNOC:3+S+R+260101:1200+1'UNZ+0+1'";
        let tags: Vec<String> = segments(input).map(|s| s.unwrap().tag().to_string()).collect();
        assert_eq!(tags, ["ISA", "GS", "ST", "SE", "GE", "IEA", "UNB", "UNZ"]);
    }

    #[test]
    fn segments_with_known_delimiters() {
        let d = Delimiters { element: b'|', segment: b'\n', ..Delimiters::X12 };
        let tags: Vec<String> =
            segments_with(b"ST|850|1\nBEG|00\nSE|3|1\n", d).map(|s| s.unwrap().tag().to_string()).collect();
        assert_eq!(tags, ["ST", "BEG", "SE"]);
    }

    #[test]
    fn stops_at_the_first_error() {
        let mut it = segments(b"hello");
        assert!(matches!(it.next(), Some(Err(_))));
        assert!(it.next().is_none());
    }
}
