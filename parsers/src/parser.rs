//! The parser: one push state machine for both standards.
//!
//! `Parser::advance(buf, eof)` frames the next segment of `buf`, runs it through the envelope
//! grammar of the interchange in force (`syntax`), and stops at the next event. It keeps no
//! reference into `buf`: transaction set segments are recorded as spans (absolute offsets),
//! and headers that outlive a transaction set are copied. So the same machine serves a whole
//! input in memory (`Reader`) and a `Read` consumed in bounded chunks (`StreamReader`).
//!
//! Parsing does not stop at the first error: errors are attached to the transaction set,
//! group or interchange they concern, and only input whose delimiters cannot be known ends
//! the parse.

use std::collections::VecDeque;

use crate::delimiters::{Delimiters, Standard};
use crate::edifact::una::{check_syntax, parse_una, Charset, UNA_LEN};
use crate::envelope::{Event, Group, GroupEnd, Interchange, InterchangeEnd, SegmentBuf, Span, TransactionSet};
use crate::error::{preview, Error, ErrorKind, PREVIEW_BYTES};
use crate::frame::{
    count, find_segment_end, flags_for, plain_segment_end, scan, skip_filler, skip_line_breaks, split_tag,
    split_tag_word, Counts, Framed,
};
use crate::location::{ControlNumbers, Location};
use crate::options::ParseOptions;
use crate::segment::{Segment, SegmentFlags, Tag};
use crate::syntax::{Role, Syntax, EDIFACT, X12};
use crate::x12::isa::{parse_isa, IsaParse};

/// What `advance` achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// An event is ready: read it with `event`.
    Ready,
    /// The buffer ends inside a segment: call again with more input (or with `eof`).
    NeedMore,
    /// The input is exhausted (or unreadable past a fatal error).
    Done,
}

/// The event `advance` stopped at, in a form that does not borrow the buffer.
#[derive(Debug)]
enum Current {
    Nothing,
    InterchangeStart,
    InterchangeAcknowledgment(Span),
    GroupStart,
    TransactionSet,
    GroupEnd,
    InterchangeEnd,
    Error(Error),
}

enum Step {
    Continue,
    Emit(Current),
    NeedMore,
}

#[derive(Debug, Default)]
struct InterchangeState {
    control_number: String,
    start: u64,
    groups: u64,
    transaction_sets: u64,
    acknowledgments: u64,
    uses_groups: bool,
    bare: bool,
    size_reported: bool,
    line_break_reported: bool,
    errors: Vec<Error>,
    has_trailer: bool,
}

#[derive(Debug, Default)]
struct GroupState {
    control_number: String,
    transaction_sets: u64,
    errors: Vec<Error>,
    has_trailer: bool,
}

#[derive(Debug, Default)]
struct SetState {
    control_number: String,
    start: u64,
    segments: u64,
    /// A size limit was breached: segments are no longer kept.
    overflowed: bool,
    errors: Vec<Error>,
    has_trailer: bool,
}

/// The parsing state machine. See the module documentation.
#[derive(Debug)]
pub struct Parser {
    options: ParseOptions,
    keep_segments: bool,
    /// Absolute offset of `buf[0]`.
    base: u64,
    /// Next unread byte of `buf`.
    pos: usize,
    segment_number: u64,
    done: bool,
    /// Discarding the rest of a segment that broke the length limit.
    skipping: bool,
    seen_interchange: bool,

    inside: bool,
    syntax: &'static Syntax,
    delimiters: Delimiters,
    charset: Charset,
    /// A UNA read, waiting for its UNB: delimiters and offset.
    una: Option<(Delimiters, u64)>,

    interchange: Interchange,
    interchange_state: InterchangeState,
    interchange_trailer: SegmentBuf,
    group: Option<Group>,
    group_state: GroupState,
    closed_group: Option<(Group, GroupState)>,
    group_trailer: SegmentBuf,
    set: Option<SetState>,
    closed_set: Option<SetState>,
    set_header: SegmentBuf,
    set_trailer: SegmentBuf,
    spans: Vec<Span>,

    pending: VecDeque<Error>,
    current: Current,
    /// Segments up to this length cannot breach the element, component or repetition limits,
    /// so their separators are not counted.
    short_segment_max: usize,
}

fn empty_segment_buf() -> SegmentBuf {
    SegmentBuf::from_segment(&Segment::from_parts(Tag::default(), b"", 0, Delimiters::X12, 0, 0, SegmentFlags::empty()))
}

impl Parser {
    pub fn new(options: ParseOptions) -> Self {
        Parser {
            keep_segments: true,
            base: 0,
            pos: 0,
            segment_number: 0,
            done: false,
            skipping: false,
            seen_interchange: false,
            inside: false,
            syntax: &X12,
            delimiters: Delimiters::X12,
            charset: Charset::Unchecked,
            una: None,
            interchange: Interchange {
                standard: Standard::X12,
                delimiters: Delimiters::X12,
                header: None,
                service_string_advice: false,
                syntax_version: None,
                offset: 0,
            },
            interchange_state: InterchangeState::default(),
            interchange_trailer: empty_segment_buf(),
            group: None,
            group_state: GroupState::default(),
            closed_group: None,
            group_trailer: empty_segment_buf(),
            set: None,
            closed_set: None,
            set_header: empty_segment_buf(),
            set_trailer: empty_segment_buf(),
            spans: Vec::new(),
            pending: VecDeque::new(),
            current: Current::Nothing,
            short_segment_max: {
                let l = &options.limits;
                l.elements_per_segment_max.min(l.components_per_element_max).min(l.repetitions_per_element_max)
            },
            options,
        }
    }

    /// Whether transaction set segments are kept for `TransactionSet::segments`. Off for a
    /// syntax check: envelopes are still validated and memory stays flat.
    pub fn keep_segments(mut self, keep: bool) -> Self {
        self.keep_segments = keep;
        self
    }

    pub fn options(&self) -> &ParseOptions {
        &self.options
    }

    /// Runs until the next event, the end of `buf` (`NeedMore`), or the end of the input.
    /// `buf` must start where the previous call's `buf` started, minus what
    /// `consume_prefix` dropped, and `eof` says that no more input will follow.
    pub fn advance(&mut self, buf: &[u8], eof: bool) -> Progress {
        self.clear_current();
        loop {
            if let Some(error) = self.pending.pop_front() {
                self.current = Current::Error(error);
                return Progress::Ready;
            }
            if self.done {
                return Progress::Done;
            }
            let step = if self.skipping {
                self.skip(buf, eof)
            } else if self.inside {
                self.inside(buf, eof)
            } else {
                self.outside(buf, eof)
            };
            match step {
                Step::Continue => {}
                Step::Emit(current) => {
                    self.current = current;
                    return Progress::Ready;
                }
                Step::NeedMore if eof => {
                    // Every path handles end of input itself; this is a safety net.
                    let offset = self.base + buf.len() as u64;
                    self.fatal(ErrorKind::Truncated { expected: "the rest of the interchange" }, offset);
                }
                Step::NeedMore => return Progress::NeedMore,
            }
        }
    }

    /// The event of the last `advance` that returned `Ready`.
    pub fn event<'a>(&'a self, buf: &'a [u8]) -> Option<Event<'a>> {
        Some(match &self.current {
            Current::Nothing => return None,
            Current::InterchangeStart => Event::InterchangeStart(&self.interchange),
            Current::InterchangeAcknowledgment(span) => {
                Event::InterchangeAcknowledgment(span.segment(buf, self.base, self.interchange.delimiters))
            }
            Current::GroupStart => Event::GroupStart(self.group.as_ref()?),
            Current::TransactionSet => {
                let closed = self.closed_set.as_ref()?;
                Event::TransactionSet(TransactionSet {
                    interchange: &self.interchange,
                    group: self.group.as_ref(),
                    header: self.set_header.segment(),
                    trailer: closed.has_trailer.then(|| self.set_trailer.segment()),
                    spans: &self.spans,
                    buf,
                    base: self.base,
                    errors: &closed.errors,
                    segment_count: closed.segments,
                })
            }
            Current::GroupEnd => {
                let (group, state) = self.closed_group.as_ref()?;
                Event::GroupEnd(GroupEnd {
                    group,
                    trailer: state.has_trailer.then(|| self.group_trailer.segment()),
                    transaction_sets: state.transaction_sets,
                    errors: &state.errors,
                })
            }
            Current::InterchangeEnd => {
                let state = &self.interchange_state;
                Event::InterchangeEnd(InterchangeEnd {
                    interchange: &self.interchange,
                    trailer: state.has_trailer.then(|| self.interchange_trailer.segment()),
                    groups: state.groups,
                    transaction_sets: state.transaction_sets,
                    errors: &state.errors,
                })
            }
            Current::Error(error) => Event::Error(error),
        })
    }

    /// The first byte of `buf` still needed: everything before it may be dropped.
    pub fn retain_from(&self) -> usize {
        match &self.set {
            Some(set) if self.keep_segments && !set.overflowed => {
                (set.start.saturating_sub(self.base) as usize).min(self.pos)
            }
            _ => self.pos,
        }
    }

    /// Tells the parser that the first `n` bytes of the buffer were dropped.
    pub fn consume_prefix(&mut self, n: usize) {
        let n = n.min(self.pos);
        self.base += n as u64;
        self.pos -= n;
    }

    /// Absolute offset of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn clear_current(&mut self) {
        match std::mem::replace(&mut self.current, Current::Nothing) {
            Current::TransactionSet => {
                self.spans.clear();
                self.closed_set = None;
            }
            Current::GroupEnd => self.closed_group = None,
            _ => {}
        }
    }

    // ---- outside an interchange -------------------------------------------------------

    fn outside(&mut self, buf: &[u8], eof: bool) -> Step {
        // A UTF-8 byte order mark at the very start is an editor's artefact, not data.
        if self.base == 0 && self.pos == 0 {
            if buf.len() < 3 && !eof && b"\xef\xbb\xbf".starts_with(buf) {
                return Step::NeedMore;
            }
            if buf.starts_with(b"\xef\xbb\xbf") {
                self.pos = 3;
            }
        }
        let pos = skip_filler(buf, self.pos);
        self.pos = pos;
        let rest = buf.get(pos..).unwrap_or_default();
        if rest.is_empty() {
            if !eof {
                return Step::NeedMore;
            }
            let offset = self.base + pos as u64;
            if self.una.is_some() {
                self.fatal(ErrorKind::Truncated { expected: "the interchange that its UNA announces" }, offset);
            } else if !self.seen_interchange {
                self.fatal(ErrorKind::NotEdi { found: "an empty input".to_owned() }, offset);
            }
            self.done = true;
            return Step::Continue;
        }
        if rest.len() < 3 && !eof {
            return Step::NeedMore;
        }
        match rest.get(..3) {
            Some(b"ISA") => self.open_x12(buf, eof),
            Some(b"UNA") => self.read_una(buf, eof),
            Some(b"UNB") => self.open_edifact(buf, eof),
            Some(b"UNH") => self.open_bare(),
            _ => self.stray(buf, eof),
        }
    }

    fn open_x12(&mut self, buf: &[u8], eof: bool) -> Step {
        let start = self.pos;
        let offset = self.base + start as u64;
        let input = buf.get(start..).unwrap_or_default();
        match parse_isa(input, eof, self.options.allow_isa_width_variance) {
            IsaParse::NeedMore if !eof => Step::NeedMore,
            IsaParse::NeedMore => self.fatal(ErrorKind::Truncated { expected: "the ISA interchange header" }, offset),
            IsaParse::Fatal(kind) => self.fatal(kind, offset),
            IsaParse::Done(isa) => {
                self.segment_number += 1;
                let raw = input.get(..isa.terminator).unwrap_or_default();
                let tag = Tag::from_static("ISA");
                let header =
                    Segment::from_parts(tag, raw, 3, isa.delimiters, offset, self.segment_number, SegmentFlags::ATOMIC);
                self.begin_interchange(&X12, isa.delimiters, Some(&header), false, None, offset);
                for (kind, element) in isa.problems {
                    let mut location = self.location(offset, self.segment_number, Some(tag), None);
                    location.element = element;
                    self.interchange_state.errors.push(Error::new(kind, location));
                }
                self.pos = start + isa.terminator + 1;
                Step::Emit(Current::InterchangeStart)
            }
        }
    }

    fn read_una(&mut self, buf: &[u8], eof: bool) -> Step {
        let start = self.pos;
        let offset = self.base + start as u64;
        let Some(una) = buf.get(start..start + UNA_LEN) else {
            if !eof {
                return Step::NeedMore;
            }
            return self.fatal(ErrorKind::Truncated { expected: "the UNA service string advice" }, offset);
        };
        match parse_una(una) {
            Ok(delimiters) => {
                self.una = Some((delimiters, offset));
                self.pos = start + UNA_LEN;
                Step::Continue
            }
            Err(kind) => self.fatal(kind, offset),
        }
    }

    fn open_edifact(&mut self, buf: &[u8], eof: bool) -> Step {
        let start = self.pos;
        let offset = self.base + start as u64;
        let (mut delimiters, una_offset) = match self.una {
            Some((d, at)) => (d, Some(at)),
            None => (Delimiters::EDIFACT, None),
        };
        let max = self.options.limits.segment_bytes_max;
        let end = match find_segment_end(buf, start, &delimiters, max, eof) {
            Framed::Segment { end } => end,
            Framed::NeedMore => return Step::NeedMore,
            Framed::TooLong => return self.fatal(ErrorKind::SegmentTooLong { max }, offset),
            Framed::Truncated => {
                return self.fatal(ErrorKind::Truncated { expected: "the UNB interchange header" }, offset)
            }
        };
        let raw = buf.get(start..end).unwrap_or_default();
        let counts = count(raw, &delimiters);
        let line_breaks = self.options.allow_line_breaks_in_segments && counts.line_breaks > 0;
        let (_, data_start) = split_tag(raw, &delimiters, line_breaks);
        self.segment_number += 1;
        let number = self.segment_number;
        let tag = Tag::from_static("UNB");
        let header =
            Segment::from_parts(tag, raw, data_start, delimiters, offset, number, flags_for(&counts, line_breaks));
        let s001 = header.element(1);
        let identifier = s001.map(|e| e.component_text(1).into_owned()).unwrap_or_default();
        let version = s001.map(|e| e.component_text(2).into_owned()).unwrap_or_default();
        let checked = check_syntax(&identifier, &version);
        let syntax_version = checked.as_ref().ok().copied();
        // Syntax version 4 has a repetition separator, `*` unless a UNA says otherwise.
        if syntax_version == Some(4) && una_offset.is_none() {
            delimiters.repetition = Some(b'*');
        }
        let header = Segment::from_parts(tag, raw, data_start, delimiters, offset, number, header.flags());
        self.begin_interchange(
            &EDIFACT,
            delimiters,
            Some(&header),
            una_offset.is_some(),
            syntax_version,
            una_offset.unwrap_or(offset),
        );
        self.una = None;
        if self.options.check_charset {
            self.charset = Charset::from_identifier(&identifier);
        }
        self.check_segment(raw, &counts, offset, number, tag, None);
        if let Err((kind, component)) = checked {
            let mut location = self.location(offset, number, Some(tag), None).with_element(1);
            location.component = Some(component);
            self.interchange_state.errors.push(Error::new(kind, location));
        }
        self.pos = end + 1;
        Step::Emit(Current::InterchangeStart)
    }

    /// UNH with no UNB: bare EDIFACT messages, an error unless allowed.
    fn open_bare(&mut self) -> Step {
        let offset = self.base + self.pos as u64;
        let (delimiters, una_offset) = match self.una.take() {
            Some((d, at)) => (d, Some(at)),
            None => (Delimiters::EDIFACT, None),
        };
        self.begin_interchange(&EDIFACT, delimiters, None, una_offset.is_some(), None, una_offset.unwrap_or(offset));
        if !self.options.allow_bare_messages {
            let location = self.location(offset, self.segment_number + 1, Some(Tag::from_static("UNH")), None);
            self.interchange_state.errors.push(Error::new(
                ErrorKind::UnexpectedSegment {
                    found: "UNH".to_owned(),
                    context: "outside an interchange",
                    expected: "UNB first (allow_bare_messages accepts messages without one)",
                },
                location,
            ));
        }
        Step::Emit(Current::InterchangeStart)
    }

    /// Data outside any interchange. When delimiters are known (after a UNA or a previous
    /// interchange), it is framed as a segment and reported; otherwise parsing stops.
    fn stray(&mut self, buf: &[u8], eof: bool) -> Step {
        let start = self.pos;
        let offset = self.base + start as u64;
        let rest = buf.get(start..).unwrap_or_default();
        // The error shows the first bytes and whether more follow: have one more than shown,
        // whatever the chunking.
        if !eof && rest.len() <= PREVIEW_BYTES {
            return Step::NeedMore;
        }
        let known = match self.una {
            Some((d, _)) => Some((d, &EDIFACT)),
            None if self.seen_interchange => Some((self.delimiters, self.syntax)),
            None => None,
        };
        let unreadable = |seen: bool| {
            if seen {
                ErrorKind::TrailingData { found: preview(rest) }
            } else {
                ErrorKind::NotEdi { found: preview(rest) }
            }
        };
        let Some((delimiters, syntax)) = known else {
            return self.fatal(unreadable(false), offset);
        };
        let max = self.options.limits.segment_bytes_max;
        match find_segment_end(buf, start, &delimiters, max, eof) {
            Framed::NeedMore => Step::NeedMore,
            Framed::TooLong | Framed::Truncated => self.fatal(unreadable(self.seen_interchange), offset),
            Framed::Segment { end } => {
                let raw = buf.get(start..end).unwrap_or_default();
                let (tag, data_start) = split_tag(raw, &delimiters, false);
                let found = match tag {
                    Some(tag) => tag.as_str().to_owned(),
                    None => preview(raw.get(..data_start).unwrap_or_default()),
                };
                if tag.is_none() && !self.seen_interchange {
                    return self.fatal(unreadable(false), offset);
                }
                self.segment_number += 1;
                self.pos = end + 1;
                let location = self.location(offset, self.segment_number, tag, None);
                let expected = match syntax.standard {
                    Standard::X12 => "ISA",
                    Standard::Edifact => "UNB",
                };
                self.pending.push_back(Error::new(
                    ErrorKind::UnexpectedSegment { found, context: "outside an interchange", expected },
                    location,
                ));
                Step::Continue
            }
        }
    }

    fn begin_interchange(
        &mut self,
        syntax: &'static Syntax,
        delimiters: Delimiters,
        header: Option<&Segment<'_>>,
        service_string_advice: bool,
        syntax_version: Option<u8>,
        offset: u64,
    ) {
        self.inside = true;
        self.seen_interchange = true;
        self.syntax = syntax;
        self.delimiters = delimiters;
        self.charset = Charset::Unchecked;
        let control_number =
            header.map(|h| h.text(syntax.interchange.control_element).trim_end().to_owned()).unwrap_or_default();
        self.interchange = Interchange {
            standard: syntax.standard,
            delimiters,
            header: header.map(SegmentBuf::from_segment),
            service_string_advice,
            syntax_version,
            offset,
        };
        self.interchange_state =
            InterchangeState { control_number, start: offset, bare: header.is_none(), ..InterchangeState::default() };
        if let Some(header) = header {
            if header.text(syntax.interchange.control_element).is_empty() {
                let location = self.location(offset, header.number(), Some(header.tag()), None);
                self.interchange_state.errors.push(Error::new(
                    ErrorKind::MissingElement {
                        element: syntax.interchange.control_name,
                        meaning: "interchange control number",
                    },
                    location.with_element(syntax.interchange.control_element as u16),
                ));
            }
        }
    }

    // ---- inside an interchange --------------------------------------------------------

    fn inside(&mut self, buf: &[u8], eof: bool) -> Step {
        self.body_run(buf);
        let pos = skip_line_breaks(buf, self.pos);
        self.pos = pos;
        let offset = self.base + pos as u64;
        if pos >= buf.len() {
            if !eof {
                return Step::NeedMore;
            }
            return self.close_innermost(None, offset);
        }
        // A UNA inside an EDIFACT interchange starts the next one.
        if buf.get(pos) == Some(&b'U')
            && self.syntax.standard == Standard::Edifact
            && buf.get(pos..pos + 3) == Some(b"UNA")
        {
            return self.close_innermost(Some(Tag::from_static("UNA")), offset);
        }
        let max = self.options.limits.segment_bytes_max;
        match find_segment_end(buf, pos, &self.delimiters, max, eof) {
            Framed::NeedMore => Step::NeedMore,
            Framed::Segment { end } => self.segment(buf, pos, end),
            Framed::Truncated => {
                if let Some(step) = self.unterminated_trailer(buf, pos) {
                    return step;
                }
                self.segment_number += 1;
                let location = self.location(offset, self.segment_number, None, self.next_position());
                self.report(ErrorKind::Truncated { expected: "a segment terminator" }, location);
                if let Some(set) = &mut self.set {
                    set.segments += 1;
                }
                self.pos = buf.len();
                Step::Continue
            }
            Framed::TooLong => {
                self.segment_number += 1;
                let location = self.location(offset, self.segment_number, None, self.next_position());
                self.report(ErrorKind::SegmentTooLong { max }, location);
                if let Some(set) = &mut self.set {
                    set.segments += 1;
                    set.overflowed = true;
                    self.spans.clear();
                }
                self.skipping = true;
                self.pos = pos + max;
                Step::Continue
            }
        }
    }

    /// The hot path: the plain body segments of an open transaction set, one after another,
    /// without the general machinery. It stops, leaving `pos` at the segment, at anything that
    /// needs more care (an envelope segment, a segment long enough to be counted, a line
    /// break, other control character or release character, a limit about to be reached, the end of the buffer); the
    /// general path then handles that segment.
    #[inline]
    fn body_run(&mut self, buf: &[u8]) {
        if self.charset != Charset::Unchecked {
            return;
        }
        let Some(set) = self.set.as_mut() else { return };
        if set.overflowed {
            return;
        }
        let d = self.delimiters;
        let limits = &self.options.limits;
        let third = d.release.unwrap_or(b'\n');
        let interchange_end = self.interchange_state.start.saturating_add(limits.interchange_bytes_max);
        let set_end = set.start.saturating_add(limits.transaction_set_bytes_max as u64);
        let mut pos = self.pos;
        loop {
            pos = skip_line_breaks(buf, pos);
            let Some(end) = plain_segment_end(buf, pos, d.segment, third, self.short_segment_max) else { break };
            let raw = buf.get(pos..end).unwrap_or_default();
            // A UNA starts the next EDIFACT interchange, whatever follows it: the general path
            // decides (found by fuzzing: "UNAL'" ran through here as a body segment).
            if raw.starts_with(b"UNA") {
                break;
            }
            let Some((tag, data_start)) = split_tag_word(buf, pos, end, d.element) else { break };
            let offset = self.base + pos as u64;
            let end_offset = offset + raw.len() as u64;
            if self.syntax.role(tag) != Role::Body
                || set.segments as usize >= limits.segments_per_transaction_set_max
                || end_offset > set_end
                || end_offset > interchange_end
            {
                break;
            }
            set.segments += 1;
            self.segment_number += 1;
            if self.keep_segments {
                self.spans.push(Span {
                    start: offset,
                    len: raw.len() as u32,
                    data_start: data_start as u32,
                    tag,
                    flags: SegmentFlags::empty(),
                    number: self.segment_number,
                });
            }
            pos = end + 1;
        }
        self.pos = pos;
    }

    /// Accepts an interchange trailer that ends the input without its terminator: files
    /// written without a final terminator are common, and the trailer's count and control
    /// number still prove the interchange complete.
    fn unterminated_trailer(&mut self, buf: &[u8], pos: usize) -> Option<Step> {
        if self.set.is_some() || self.group.is_some() {
            return None;
        }
        let rest = buf.get(pos..)?;
        let len = rest.iter().rposition(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0 | 0x1a))? + 1;
        let (tag, _) = split_tag(rest.get(..len)?, &self.delimiters, false);
        if self.syntax.role(tag?) != Role::InterchangeTrailer {
            return None;
        }
        let step = self.segment(buf, pos, pos + len);
        self.pos = buf.len();
        Some(step)
    }

    /// Discards input up to the terminator of a segment that broke the length limit.
    fn skip(&mut self, buf: &[u8], eof: bool) -> Step {
        match find_segment_end(buf, self.pos, &self.delimiters, usize::MAX / 2, eof) {
            Framed::Segment { end } => {
                self.pos = end + 1;
                self.skipping = false;
                Step::Continue
            }
            Framed::NeedMore | Framed::TooLong => {
                // Keep a trailing release character: it may escape the next chunk's first byte.
                let keep =
                    usize::from(self.delimiters.release.is_some() && buf.last() == self.delimiters.release.as_ref());
                self.pos = buf.len().saturating_sub(keep).max(self.pos);
                Step::NeedMore
            }
            Framed::Truncated => {
                self.pos = buf.len();
                self.skipping = false;
                Step::Continue
            }
        }
    }

    fn segment(&mut self, buf: &[u8], start: usize, end: usize) -> Step {
        let raw = buf.get(start..end).unwrap_or_default();
        let delimiters = self.delimiters;
        let counts = scan(raw, &delimiters, self.short_segment_max);
        let line_breaks = self.options.allow_line_breaks_in_segments && counts.line_breaks > 0;
        let (tag, data_start) = split_tag(raw, &delimiters, line_breaks);
        let number = self.segment_number + 1;
        let offset = self.base + start as u64;
        let tag = match tag {
            Some(tag) => tag,
            None => {
                let bytes = raw.get(..data_start).unwrap_or_default();
                self.consume(number, end);
                let position = self.next_position();
                if let Some(set) = &mut self.set {
                    set.segments += 1;
                }
                let location = self.location(offset, number, None, position);
                self.report(
                    ErrorKind::InvalidSegmentTag { found: String::from_utf8_lossy(bytes).into_owned() },
                    location,
                );
                return Step::Continue;
            }
        };
        let flags = flags_for(&counts, line_breaks);
        let segment = Segment::from_parts(tag, raw, data_start, delimiters, offset, number, flags);
        let role = self.syntax.role(tag);
        self.check_interchange_size(offset + raw.len() as u64, offset, number, tag);

        if self.set.is_some() {
            return match role {
                Role::SetTrailer => {
                    self.consume(number, end);
                    self.close_set(Some(&segment), raw, &counts)
                }
                role if role.is_envelope() => self.close_set_missing_trailer(Some(tag), offset, number),
                _ => {
                    self.consume(number, end);
                    self.body_segment(&segment, raw, &counts);
                    Step::Continue
                }
            };
        }
        if self.group.is_some() {
            return match role {
                Role::SetHeader => {
                    self.consume(number, end);
                    self.open_set(&segment, raw, &counts);
                    Step::Continue
                }
                Role::GroupTrailer => {
                    self.consume(number, end);
                    self.close_group(Some(&segment), raw, &counts)
                }
                Role::GroupHeader | Role::InterchangeHeader | Role::InterchangeTrailer => {
                    self.close_group_missing_trailer(Some(tag), offset, number)
                }
                _ => {
                    self.consume(number, end);
                    self.check_segment(raw, &counts, offset, number, tag, None);
                    let (context, expected) = match self.syntax.standard {
                        Standard::X12 => ("between transaction sets", "ST or GE"),
                        Standard::Edifact => ("between messages", "UNH or UNE"),
                    };
                    let location = self.location(offset, number, Some(tag), None);
                    self.report(
                        ErrorKind::UnexpectedSegment { found: tag.as_str().to_owned(), context, expected },
                        location,
                    );
                    Step::Continue
                }
            };
        }
        match role {
            Role::GroupHeader if !self.interchange_state.bare => {
                self.consume(number, end);
                self.open_group(&segment, raw, &counts)
            }
            Role::SetHeader => {
                self.consume(number, end);
                self.open_set(&segment, raw, &counts);
                Step::Continue
            }
            Role::InterchangeTrailer if !self.interchange_state.bare => {
                self.consume(number, end);
                self.close_interchange(Some(&segment), raw, &counts)
            }
            Role::InterchangeHeader => self.close_interchange_missing_trailer(Some(tag), offset, number),
            Role::InterchangeAcknowledgment => {
                self.consume(number, end);
                self.check_segment(raw, &counts, offset, number, tag, None);
                self.interchange_state.acknowledgments += 1;
                Step::Emit(Current::InterchangeAcknowledgment(Span {
                    start: offset,
                    len: raw.len() as u32,
                    data_start: data_start as u32,
                    tag,
                    flags,
                    number,
                }))
            }
            _ => {
                self.consume(number, end);
                self.check_segment(raw, &counts, offset, number, tag, None);
                let (context, expected) = match (self.syntax.standard, self.interchange_state.bare) {
                    (Standard::X12, _) => ("outside a functional group", "GS, TA1 or IEA"),
                    (Standard::Edifact, false) => ("outside a message", "UNH, UNG or UNZ"),
                    (Standard::Edifact, true) => ("outside a message", "UNH"),
                };
                let location = self.location(offset, number, Some(tag), None);
                self.report(
                    ErrorKind::UnexpectedSegment { found: tag.as_str().to_owned(), context, expected },
                    location,
                );
                Step::Continue
            }
        }
    }

    fn consume(&mut self, number: u64, end: usize) {
        self.segment_number = number;
        self.pos = end + 1;
    }

    /// Position the next segment would take in the open transaction set.
    fn next_position(&self) -> Option<u32> {
        self.set.as_ref().map(|s| (s.segments + 1).min(u64::from(u32::MAX)) as u32)
    }

    fn body_segment(&mut self, segment: &Segment<'_>, raw: &[u8], counts: &Counts) {
        let position = self.next_position();
        self.check_segment(raw, counts, segment.offset(), segment.number(), segment.tag(), position);
        let limits = self.options.limits;
        let keep = self.keep_segments;
        let Some(set) = &mut self.set else { return };
        set.segments += 1;
        if set.overflowed {
            return;
        }
        let end = segment.offset() + raw.len() as u64;
        let kind = if set.segments as usize > limits.segments_per_transaction_set_max {
            Some(ErrorKind::TransactionSetTooLong { max: limits.segments_per_transaction_set_max })
        } else if end - set.start > limits.transaction_set_bytes_max as u64 {
            Some(ErrorKind::TransactionSetTooLarge { max: limits.transaction_set_bytes_max })
        } else {
            None
        };
        match kind {
            Some(kind) => {
                set.overflowed = true;
                self.spans.clear();
                let location = self.location(segment.offset(), segment.number(), Some(segment.tag()), position);
                self.report(kind, location);
            }
            None if keep => self.spans.push(span_of(segment, raw)),
            None => {}
        }
    }

    fn open_set(&mut self, segment: &Segment<'_>, raw: &[u8], counts: &Counts) {
        let level = &self.syntax.set;
        let control_number = segment.text(level.control_element).into_owned();
        self.set_header.assign(segment);
        self.set = Some(SetState { control_number, start: segment.offset(), segments: 1, ..SetState::default() });
        if self.keep_segments {
            self.spans.push(span_of(segment, raw));
        }
        let (offset, number, tag) = (segment.offset(), segment.number(), segment.tag());
        self.check_segment(raw, counts, offset, number, tag, Some(1));
        let (id_element, id_meaning, id) = match self.syntax.standard {
            Standard::X12 => ("ST01", "transaction set identifier code", segment.text(1)),
            Standard::Edifact => {
                ("UNH02", "message identifier", segment.element(2).map(|e| e.component_text(1)).unwrap_or_default())
            }
        };
        if id.is_empty() {
            let element = if self.syntax.standard == Standard::X12 { 1 } else { 2 };
            let location = self.location(offset, number, Some(tag), Some(1)).with_element(element);
            self.report(ErrorKind::MissingElement { element: id_element, meaning: id_meaning }, location);
        }
        if segment.text(level.control_element).is_empty() {
            let meaning = match self.syntax.standard {
                Standard::X12 => "transaction set control number",
                Standard::Edifact => "message reference number",
            };
            let location = self.location(offset, number, Some(tag), Some(1)).with_element(level.control_element as u16);
            self.report(ErrorKind::MissingElement { element: level.control_name, meaning }, location);
        }
        if self.syntax.standard == Standard::X12 && self.group.is_none() {
            let location = self.location(offset, number, Some(tag), Some(1));
            self.report(
                ErrorKind::UnexpectedSegment {
                    found: "ST".to_owned(),
                    context: "outside a functional group",
                    expected: "GS first",
                },
                location,
            );
        }
        if self.group.is_some() {
            self.group_state.transaction_sets += 1;
        }
        self.interchange_state.transaction_sets += 1;
    }

    fn close_set(&mut self, trailer: Option<&Segment<'_>>, raw: &[u8], counts: &Counts) -> Step {
        let Some(trailer) = trailer else { return Step::Continue };
        let position = self.next_position();
        let (offset, number, tag) = (trailer.offset(), trailer.number(), trailer.tag());
        self.check_segment(raw, counts, offset, number, tag, position);
        let keep = self.keep_segments;
        let level = &self.syntax.set;
        let Some(set) = &mut self.set else { return Step::Continue };
        set.segments += 1;
        if keep && !set.overflowed {
            self.spans.push(span_of(trailer, raw));
        }
        let actual = set.segments;
        let declared = trailer.text(1);
        let trailer_control = trailer.text(2);
        let header_control = set.control_number.clone();
        if declared.parse::<u64>().ok() != Some(actual) {
            let location = self.location(offset, number, Some(tag), position).with_element(1);
            self.report(
                ErrorKind::CountMismatch {
                    element: level.count_name,
                    counted: level.counted,
                    declared: declared.into_owned(),
                    actual,
                },
                location,
            );
        }
        if !level.control_matches(&header_control, &trailer_control) {
            let location = self.location(offset, number, Some(tag), position).with_element(2);
            self.report(
                ErrorKind::ControlNumberMismatch {
                    trailer_element: level.trailer_control_name,
                    header_element: level.control_name,
                    trailer: trailer_control.into_owned(),
                    header: header_control,
                },
                location,
            );
        }
        self.set_trailer.assign(trailer);
        let mut set = self.set.take().unwrap_or_default();
        set.has_trailer = true;
        self.closed_set = Some(set);
        Step::Emit(Current::TransactionSet)
    }

    fn close_set_missing_trailer(&mut self, found: Option<Tag>, offset: u64, number: u64) -> Step {
        let level = &self.syntax.set;
        let Some(set) = &self.set else { return Step::Continue };
        let control_number = set.control_number.clone();
        let position = self.next_position();
        let location = self.location(offset, number, found, position);
        self.report(
            ErrorKind::MissingTrailer { trailer: level.trailer_name, opened_by: level.noun, control_number },
            location,
        );
        self.closed_set = self.set.take();
        Step::Emit(Current::TransactionSet)
    }

    fn open_group(&mut self, segment: &Segment<'_>, raw: &[u8], counts: &Counts) -> Step {
        let level = &self.syntax.group;
        self.interchange_state.groups += 1;
        self.interchange_state.uses_groups = true;
        let control_number = segment.text(level.control_element).into_owned();
        self.group = Some(Group { standard: self.syntax.standard, header: SegmentBuf::from_segment(segment) });
        self.group_state = GroupState { control_number, ..GroupState::default() };
        let (offset, number, tag) = (segment.offset(), segment.number(), segment.tag());
        self.check_segment(raw, counts, offset, number, tag, None);
        if segment.text(level.control_element).is_empty() {
            let location = self.location(offset, number, Some(tag), None).with_element(level.control_element as u16);
            self.report(
                ErrorKind::MissingElement { element: level.control_name, meaning: "group control number" },
                location,
            );
        }
        Step::Emit(Current::GroupStart)
    }

    fn close_group(&mut self, trailer: Option<&Segment<'_>>, raw: &[u8], counts: &Counts) -> Step {
        let Some(trailer) = trailer else { return Step::Continue };
        let level = &self.syntax.group;
        let (offset, number, tag) = (trailer.offset(), trailer.number(), trailer.tag());
        self.check_segment(raw, counts, offset, number, tag, None);
        let actual = self.group_state.transaction_sets;
        let declared = trailer.text(1);
        if declared.parse::<u64>().ok() != Some(actual) {
            let location = self.location(offset, number, Some(tag), None).with_element(1);
            self.report(
                ErrorKind::CountMismatch {
                    element: level.count_name,
                    counted: level.counted,
                    declared: declared.into_owned(),
                    actual,
                },
                location,
            );
        }
        let trailer_control = trailer.text(2);
        if !level.control_matches(&self.group_state.control_number, &trailer_control) {
            let location = self.location(offset, number, Some(tag), None).with_element(2);
            self.report(
                ErrorKind::ControlNumberMismatch {
                    trailer_element: level.trailer_control_name,
                    header_element: level.control_name,
                    trailer: trailer_control.into_owned(),
                    header: self.group_state.control_number.clone(),
                },
                location,
            );
        }
        self.group_trailer.assign(trailer);
        self.group_state.has_trailer = true;
        self.finish_group()
    }

    fn close_group_missing_trailer(&mut self, found: Option<Tag>, offset: u64, number: u64) -> Step {
        let level = &self.syntax.group;
        let location = self.location(offset, number, found, None);
        self.report(
            ErrorKind::MissingTrailer {
                trailer: level.trailer_name,
                opened_by: level.noun,
                control_number: self.group_state.control_number.clone(),
            },
            location,
        );
        self.finish_group()
    }

    fn finish_group(&mut self) -> Step {
        let state = std::mem::take(&mut self.group_state);
        match self.group.take() {
            Some(group) => {
                self.closed_group = Some((group, state));
                Step::Emit(Current::GroupEnd)
            }
            None => Step::Continue,
        }
    }

    fn close_interchange(&mut self, trailer: Option<&Segment<'_>>, raw: &[u8], counts: &Counts) -> Step {
        let Some(trailer) = trailer else { return Step::Continue };
        let level = &self.syntax.interchange;
        let (offset, number, tag) = (trailer.offset(), trailer.number(), trailer.tag());
        self.check_segment(raw, counts, offset, number, tag, None);
        let state = &self.interchange_state;
        let declared = trailer.text(1);
        let declared_number = declared.parse::<u64>().ok();
        let (actual, counted) = match self.syntax.standard {
            Standard::X12 => (state.groups, level.counted),
            Standard::Edifact if state.uses_groups => (state.groups, "group"),
            Standard::Edifact => (state.transaction_sets, level.counted),
        };
        // Some X12 senders count TA1 segments in IEA01; accept that reading too.
        let also = (self.syntax.standard == Standard::X12).then_some(state.groups + state.acknowledgments);
        if declared_number != Some(actual) && (also.is_none() || declared_number != also) {
            let location = self.location(offset, number, Some(tag), None).with_element(1);
            self.report(
                ErrorKind::CountMismatch {
                    element: level.count_name,
                    counted,
                    declared: declared.into_owned(),
                    actual,
                },
                location,
            );
        }
        let trailer_control = trailer.text(2);
        if !level.control_matches(&self.interchange_state.control_number, &trailer_control) {
            let location = self.location(offset, number, Some(tag), None).with_element(2);
            self.report(
                ErrorKind::ControlNumberMismatch {
                    trailer_element: level.trailer_control_name,
                    header_element: level.control_name,
                    trailer: trailer_control.into_owned(),
                    header: self.interchange_state.control_number.clone(),
                },
                location,
            );
        }
        self.interchange_trailer.assign(trailer);
        self.interchange_state.has_trailer = true;
        self.inside = false;
        Step::Emit(Current::InterchangeEnd)
    }

    fn close_interchange_missing_trailer(&mut self, found: Option<Tag>, offset: u64, number: u64) -> Step {
        if !self.interchange_state.bare {
            let level = &self.syntax.interchange;
            let location = self.location(offset, number, found, None);
            self.report(
                ErrorKind::MissingTrailer {
                    trailer: level.trailer_name,
                    opened_by: level.noun,
                    control_number: self.interchange_state.control_number.clone(),
                },
                location,
            );
        }
        self.inside = false;
        Step::Emit(Current::InterchangeEnd)
    }

    /// Closes the innermost open level whose trailer never came (end of input, or the next
    /// interchange's UNA).
    fn close_innermost(&mut self, found: Option<Tag>, offset: u64) -> Step {
        let number = if found.is_some() { self.segment_number + 1 } else { self.segment_number };
        if self.set.is_some() {
            self.close_set_missing_trailer(found, offset, number)
        } else if self.group.is_some() {
            self.close_group_missing_trailer(found, offset, number)
        } else {
            self.close_interchange_missing_trailer(found, offset, number)
        }
    }

    // ---- checks and reporting ---------------------------------------------------------

    /// Limits, line breaks and character set of one segment.
    fn check_segment(
        &mut self,
        raw: &[u8],
        counts: &Counts,
        offset: u64,
        number: u64,
        tag: Tag,
        position: Option<u32>,
    ) {
        if counts.clean && self.charset == Charset::Unchecked {
            // A short segment with no line break: nothing can be wrong with its shape.
            return;
        }
        let limits = self.options.limits;
        let delimiters = self.delimiters;
        if counts.elements > limits.elements_per_segment_max {
            // Escaped separators were counted too: count exactly before complaining.
            let exact =
                if counts.releases > 0 { exact_segment(raw, &delimiters).element_count() } else { counts.elements };
            if exact > limits.elements_per_segment_max {
                let location = self.location(offset, number, Some(tag), position);
                self.report(
                    ErrorKind::TooManyElements { max: limits.elements_per_segment_max, found: exact },
                    location,
                );
            }
        }
        if counts.components >= limits.components_per_element_max
            || counts.repetitions >= limits.repetitions_per_element_max
        {
            let segment = exact_segment(raw, &delimiters);
            for (i, element) in segment.elements().enumerate() {
                let element_position = (i + 1).min(usize::from(u16::MAX)) as u16;
                let repetitions = element.repetitions().count();
                if repetitions > limits.repetitions_per_element_max {
                    let location = self.location(offset, number, Some(tag), position).with_element(element_position);
                    self.report(
                        ErrorKind::TooManyRepetitions { max: limits.repetitions_per_element_max, found: repetitions },
                        location,
                    );
                    break;
                }
                let components = element.repetitions().map(|r| r.components().count()).max().unwrap_or(0);
                if components > limits.components_per_element_max {
                    let location = self.location(offset, number, Some(tag), position).with_element(element_position);
                    self.report(
                        ErrorKind::TooManyComponents { max: limits.components_per_element_max, found: components },
                        location,
                    );
                    break;
                }
            }
        }
        if counts.line_breaks > 0
            && !self.options.allow_line_breaks_in_segments
            && !self.interchange_state.line_break_reported
        {
            // Once per interchange: in a hard-wrapped file every segment has one.
            self.interchange_state.line_break_reported = true;
            let at = raw.iter().position(|b| *b == b'\n' || *b == b'\r').unwrap_or(0);
            let location = self.location(offset + at as u64, number, Some(tag), position);
            self.report(ErrorKind::LineBreakInSegment, location);
        }
        if self.charset != Charset::Unchecked {
            let line_breaks = self.options.allow_line_breaks_in_segments;
            let charset = self.charset;
            let invalid = raw
                .iter()
                .enumerate()
                .find(|(_, b)| !(line_breaks && (**b == b'\n' || **b == b'\r')) && !charset.allows(**b, &delimiters));
            if let Some((at, byte)) = invalid {
                let location = self.location(offset + at as u64, number, Some(tag), position);
                let found = crate::delimiters::ByteDisplay(*byte).to_string();
                self.report(ErrorKind::InvalidCharacter { charset: self.charset.name(), found }, location);
            }
        }
    }

    fn check_interchange_size(&mut self, end: u64, offset: u64, number: u64, tag: Tag) {
        let max = self.options.limits.interchange_bytes_max;
        let state = &self.interchange_state;
        if !state.size_reported && end.saturating_sub(state.start) > max {
            self.interchange_state.size_reported = true;
            let location = self.location(offset, number, Some(tag), None);
            self.interchange_state.errors.push(Error::new(ErrorKind::InterchangeTooLarge { max }, location));
        }
    }

    /// Attaches an error to the innermost open level (or emits it when none is open).
    fn report(&mut self, kind: ErrorKind, location: Location) {
        let error = Error::new(kind, location);
        if let Some(set) = &mut self.set {
            set.errors.push(error);
        } else if self.group.is_some() {
            self.group_state.errors.push(error);
        } else if self.inside {
            self.interchange_state.errors.push(error);
        } else {
            self.pending.push_back(error);
        }
    }

    fn fatal(&mut self, kind: ErrorKind, offset: u64) -> Step {
        let location = self.location(offset, self.segment_number, None, None);
        self.pending.push_back(Error::new(kind, location));
        self.done = true;
        Step::Continue
    }

    fn location(&self, offset: u64, number: u64, tag: Option<Tag>, position: Option<u32>) -> Location {
        let inside = self.inside && !self.interchange_state.bare;
        Location {
            offset,
            segment_number: number,
            segment_tag: tag,
            segment_position: position,
            element: None,
            component: None,
            repetition: None,
            control_numbers: ControlNumbers {
                interchange: inside.then(|| self.interchange_state.control_number.clone()),
                group: self.group.as_ref().map(|_| self.group_state.control_number.clone()),
                transaction_set: self.set.as_ref().map(|s| s.control_number.clone()),
            },
        }
    }
}

fn span_of(segment: &Segment<'_>, raw: &[u8]) -> Span {
    Span {
        start: segment.offset(),
        len: raw.len() as u32,
        data_start: segment.data_start() as u32,
        tag: segment.tag(),
        flags: segment.flags(),
        number: segment.number(),
    }
}

/// A segment view that honours release characters, for exact counting.
fn exact_segment<'a>(raw: &'a [u8], delimiters: &Delimiters) -> Segment<'a> {
    let (_, data_start) = split_tag(raw, delimiters, false);
    let mut flags = SegmentFlags::empty();
    if delimiters.release.is_some() {
        flags.insert(SegmentFlags::RELEASE);
    }
    Segment::from_parts(Tag::default(), raw, data_start, *delimiters, 0, 0, flags)
}
