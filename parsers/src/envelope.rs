//! What the parser reports: interchanges, functional groups and transaction sets (EDIFACT:
//! interchanges, groups and messages), as events.
//!
//! Interchange and group headers are copied (they are small and outlive many transaction
//! sets, and the streaming reader's buffer moves under them); transaction set segments are
//! borrowed from the input.

use std::borrow::Cow;
use std::sync::Arc;

use crate::delimiters::{Delimiters, Standard};
use crate::error::Error;
use crate::segment::{Segment, SegmentFlags, Tag};

/// One event of the parse, in input order.
#[derive(Debug)]
pub enum Event<'a> {
    /// ISA, or UNA/UNB (or the start of bare EDIFACT messages, when allowed).
    InterchangeStart(&'a Interchange),
    /// A TA1 segment: an interchange acknowledgment, outside any group.
    InterchangeAcknowledgment(Segment<'a>),
    /// GS or UNG.
    GroupStart(&'a Group),
    /// ST..SE or UNH..UNT, complete, with its errors.
    TransactionSet(TransactionSet<'a>),
    /// GE or UNE (or the point where it was missing), with the group's errors.
    GroupEnd(GroupEnd<'a>),
    /// IEA or UNZ (or the point where it was missing), with the interchange's errors.
    InterchangeEnd(InterchangeEnd<'a>),
    /// An error outside any interchange. Errors inside one are attached to the transaction
    /// set, group or interchange they concern.
    Error(&'a Error),
}

/// An owned copy of one segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentBuf {
    bytes: Vec<u8>,
    tag: Tag,
    data_start: usize,
    delimiters: Delimiters,
    flags: SegmentFlags,
    offset: u64,
    number: u64,
}

impl SegmentBuf {
    pub fn from_segment(segment: &Segment<'_>) -> Self {
        let mut buf = SegmentBuf {
            bytes: Vec::new(),
            tag: Tag::default(),
            data_start: 0,
            delimiters: *segment.delimiters(),
            flags: SegmentFlags::empty(),
            offset: 0,
            number: 0,
        };
        buf.assign(segment);
        buf
    }

    /// Copies `segment` in, reusing the allocation.
    pub(crate) fn assign(&mut self, segment: &Segment<'_>) {
        self.bytes.clear();
        self.bytes.extend_from_slice(segment.raw());
        self.tag = segment.tag();
        self.data_start = segment.data_start();
        self.delimiters = *segment.delimiters();
        self.flags = segment.flags();
        self.offset = segment.offset();
        self.number = segment.number();
    }

    pub fn segment(&self) -> Segment<'_> {
        Segment::from_parts(
            self.tag,
            &self.bytes,
            self.data_start,
            self.delimiters,
            self.offset,
            self.number,
            self.flags,
        )
    }
}

/// A sender or receiver identification: qualifier and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyId<'a> {
    pub qualifier: Cow<'a, str>,
    pub id: Cow<'a, str>,
}

/// An interchange header: ISA, or UNB with the UNA that preceded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interchange {
    pub(crate) standard: Standard,
    pub(crate) delimiters: Delimiters,
    pub(crate) header: Option<SegmentBuf>,
    pub(crate) service_string_advice: bool,
    pub(crate) syntax_version: Option<u8>,
    pub(crate) offset: u64,
}

impl Interchange {
    pub fn standard(&self) -> Standard {
        self.standard
    }

    pub fn delimiters(&self) -> &Delimiters {
        &self.delimiters
    }

    /// Byte offset of the interchange (of its UNA, when there is one).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The ISA or UNB; `None` for bare EDIFACT messages.
    pub fn header(&self) -> Option<Segment<'_>> {
        self.header.as_ref().map(SegmentBuf::segment)
    }

    /// Whether the EDIFACT interchange began with a UNA service string advice.
    pub fn has_service_string_advice(&self) -> bool {
        self.service_string_advice
    }

    /// EDIFACT syntax version (UNB S001 0002), 1 to 4.
    pub fn syntax_version(&self) -> Option<u8> {
        self.syntax_version
    }

    /// ISA13 or UNB 0020.
    pub fn control_number(&self) -> Option<Cow<'_, str>> {
        let header = self.header()?;
        let position = match self.standard {
            Standard::X12 => 13,
            Standard::Edifact => 5,
        };
        Some(header.text(position))
    }

    /// ISA05:ISA06 or UNB S002 (id, qualifier), padding trimmed.
    pub fn sender(&self) -> Option<PartyId<'_>> {
        self.party(5)
    }

    /// ISA07:ISA08 or UNB S003.
    pub fn receiver(&self) -> Option<PartyId<'_>> {
        self.party(7)
    }

    fn party(&self, x12_position: usize) -> Option<PartyId<'_>> {
        let header = self.header()?;
        match self.standard {
            Standard::X12 => Some(PartyId {
                qualifier: trim_cow(header.text(x12_position)),
                id: trim_cow(header.text(x12_position + 1)),
            }),
            Standard::Edifact => {
                let element = header.element(if x12_position == 5 { 2 } else { 3 })?;
                Some(PartyId { qualifier: element.component_text(2), id: element.component_text(1) })
            }
        }
    }

    /// ISA12 (`00401`) or the UNB syntax identifier and version (`UNOC:3`).
    pub fn version(&self) -> Option<Cow<'_, str>> {
        let header = self.header()?;
        match self.standard {
            Standard::X12 => Some(header.text(12)),
            Standard::Edifact => Some(header.text(1)),
        }
    }

    /// ISA15 `T`, or UNB 0035 `1`.
    pub fn is_test(&self) -> bool {
        let Some(header) = self.header() else { return false };
        match self.standard {
            Standard::X12 => header.text(15) == "T",
            Standard::Edifact => header.text(11) == "1",
        }
    }
}

pub(crate) fn trim_cow(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim_end()),
        Cow::Owned(s) => Cow::Owned(s.trim_end().to_owned()),
    }
}

/// A functional group header: GS or UNG.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub(crate) standard: Standard,
    pub(crate) header: SegmentBuf,
}

impl Group {
    pub fn header(&self) -> Segment<'_> {
        self.header.segment()
    }

    /// GS06 or UNG 0048.
    pub fn control_number(&self) -> Cow<'_, str> {
        self.header().text(match self.standard {
            Standard::X12 => 6,
            Standard::Edifact => 5,
        })
    }

    /// GS01 functional identifier (`PO`) or UNG 0038 message group identification.
    pub fn functional_id(&self) -> Cow<'_, str> {
        self.header().text(1)
    }

    /// GS02 application sender, or UNG S006 id.
    pub fn application_sender(&self) -> Cow<'_, str> {
        match self.standard {
            Standard::X12 => self.header().text(2),
            Standard::Edifact => self.header().element(2).map(|e| e.component_text(1)).unwrap_or_default(),
        }
    }

    /// GS03 application receiver, or UNG S007 id.
    pub fn application_receiver(&self) -> Cow<'_, str> {
        match self.standard {
            Standard::X12 => self.header().text(3),
            Standard::Edifact => self.header().element(3).map(|e| e.component_text(1)).unwrap_or_default(),
        }
    }

    /// GS08 version / release / industry identifier (`004010VICS`), or UNG S008 as written.
    pub fn version(&self) -> Cow<'_, str> {
        match self.standard {
            Standard::X12 => self.header().text(8),
            Standard::Edifact => self.header().text(7),
        }
    }
}

/// Where one segment of a transaction set lies in the input.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub start: u64,
    pub len: u32,
    pub data_start: u32,
    pub tag: Tag,
    pub flags: SegmentFlags,
    pub number: u64,
}

impl Span {
    pub(crate) fn segment<'a>(&self, buf: &'a [u8], base: u64, delimiters: Delimiters) -> Segment<'a> {
        let start = self.start.saturating_sub(base) as usize;
        let raw = buf.get(start..start + self.len as usize).unwrap_or_default();
        Segment::from_parts(self.tag, raw, self.data_start as usize, delimiters, self.start, self.number, self.flags)
    }
}

/// A complete transaction set (EDIFACT: message), header to trailer.
#[derive(Debug)]
pub struct TransactionSet<'a> {
    pub(crate) interchange: &'a Interchange,
    pub(crate) group: Option<&'a Group>,
    pub(crate) header: Segment<'a>,
    pub(crate) trailer: Option<Segment<'a>>,
    pub(crate) spans: &'a [Span],
    pub(crate) buf: &'a [u8],
    pub(crate) base: u64,
    pub(crate) errors: &'a [Error],
    pub(crate) segment_count: u64,
}

impl<'a> TransactionSet<'a> {
    pub fn interchange(&self) -> &'a Interchange {
        self.interchange
    }

    /// The functional group; `None` for EDIFACT messages outside a UNG group (and for an
    /// X12 transaction set found outside any group, which is also reported as an error).
    pub fn group(&self) -> Option<&'a Group> {
        self.group
    }

    /// ST or UNH.
    pub fn header(&self) -> Segment<'a> {
        self.header
    }

    /// SE or UNT; `None` when it was missing.
    pub fn trailer(&self) -> Option<Segment<'a>> {
        self.trailer
    }

    /// ST01 (`850`) or the UNH message type (`ORDERS`).
    pub fn id(&self) -> Cow<'a, str> {
        match self.interchange.standard {
            Standard::X12 => self.header.text(1),
            Standard::Edifact => self.header.element(2).map(|e| e.component_text(1)).unwrap_or_default(),
        }
    }

    /// ST02 or UNH 0062.
    pub fn control_number(&self) -> Cow<'a, str> {
        match self.interchange.standard {
            Standard::X12 => self.header.text(2),
            Standard::Edifact => self.header.text(1),
        }
    }

    /// EDIFACT message version and release from UNH S009 (`D` + `96A` = `D96A`); X12 ST03
    /// (the implementation convention reference, 005010 on) when present.
    pub fn version(&self) -> Option<String> {
        match self.interchange.standard {
            Standard::X12 => Some(self.header.text(3).into_owned()).filter(|v| !v.is_empty()),
            Standard::Edifact => {
                let s009 = self.header.element(2)?;
                Some(format!("{}{}", s009.component_text(2), s009.component_text(3)))
            }
        }
    }

    /// Every segment, header and trailer included, in order. Empty when the parser was told
    /// not to keep segments (`--check` mode) or the set broke a size limit.
    pub fn segments(&self) -> impl ExactSizeIterator<Item = Segment<'a>> + 'a {
        let (buf, base, delimiters) = (self.buf, self.base, self.interchange.delimiters);
        // The set's bytes are checked as UTF-8 once, here, rather than segment by segment
        // (short runs, each paying the check's set-up) when their elements are read.
        let (from, text) = match self.byte_range() {
            Some((from, to)) => (from, buf.get(from..to).and_then(|bytes| std::str::from_utf8(bytes).ok())),
            None => (0, None),
        };
        self.spans.iter().map(move |span| {
            let segment = span.segment(buf, base, delimiters);
            let start = (span.start.saturating_sub(base) as usize).checked_sub(from);
            let text = text.zip(start).and_then(|(text, start)| text.get(start..start + span.len as usize));
            segment.with_text(text)
        })
    }

    /// Where the set's segments lie in `buf`, header to trailer.
    fn byte_range(&self) -> Option<(usize, usize)> {
        let (first, last) = (self.spans.first()?, self.spans.last()?);
        let from = first.start.saturating_sub(self.base) as usize;
        let to = (last.start + u64::from(last.len)).saturating_sub(self.base) as usize;
        Some((from, to))
    }

    /// The segments between header and trailer.
    pub fn body(&self) -> impl Iterator<Item = Segment<'a>> + 'a {
        let has_trailer = self.trailer.is_some();
        let n = self.spans.len();
        let take = if has_trailer { n.saturating_sub(2) } else { n.saturating_sub(1) };
        self.segments().skip(1).take(take)
    }

    /// Segments counted, header and trailer included.
    pub fn segment_count(&self) -> u64 {
        self.segment_count
    }

    /// Byte offset of the header.
    pub fn offset(&self) -> u64 {
        self.header.offset()
    }

    pub fn errors(&self) -> &'a [Error] {
        self.errors
    }

    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

impl TransactionSet<'_> {
    /// An owned copy that can outlive the reader's buffer, e.g. to be translated on another
    /// thread while the reader goes on. Copies the set's bytes once.
    pub fn to_owned_set(&self) -> OwnedTransactionSet {
        self.to_owned_set_after(None)
    }

    /// `to_owned_set`, sharing the interchange and group headers with `previous` (the set
    /// copied before it) when they are the same: the sets of one group then hold one copy.
    pub fn to_owned_set_after(&self, previous: Option<&OwnedTransactionSet>) -> OwnedTransactionSet {
        let (base, buf) = match (self.spans.first(), self.byte_range()) {
            (Some(first), Some((from, to))) => (first.start, self.buf.get(from..to).unwrap_or_default().to_vec()),
            _ => (self.base, Vec::new()),
        };
        let interchange = match previous {
            Some(previous) if *previous.interchange == *self.interchange => Arc::clone(&previous.interchange),
            _ => Arc::new(self.interchange.clone()),
        };
        let group = match (previous.and_then(|p| p.group.as_ref()), self.group) {
            (Some(previous), Some(group)) if **previous == *group => Some(Arc::clone(previous)),
            (_, group) => group.map(|group| Arc::new(group.clone())),
        };
        OwnedTransactionSet {
            interchange,
            group,
            header: SegmentBuf::from_segment(&self.header),
            trailer: self.trailer.as_ref().map(SegmentBuf::from_segment),
            spans: self.spans.to_vec(),
            buf,
            base,
            errors: self.errors.to_vec(),
            segment_count: self.segment_count,
        }
    }
}

/// A transaction set that owns its bytes; [`OwnedTransactionSet::view`] reads it as a
/// [`TransactionSet`].
#[derive(Clone, Debug)]
pub struct OwnedTransactionSet {
    interchange: Arc<Interchange>,
    group: Option<Arc<Group>>,
    header: SegmentBuf,
    trailer: Option<SegmentBuf>,
    spans: Vec<Span>,
    buf: Vec<u8>,
    base: u64,
    errors: Vec<Error>,
    segment_count: u64,
}

impl OwnedTransactionSet {
    pub fn view(&self) -> TransactionSet<'_> {
        TransactionSet {
            interchange: &self.interchange,
            group: self.group.as_deref(),
            header: self.header.segment(),
            trailer: self.trailer.as_ref().map(SegmentBuf::segment),
            spans: &self.spans,
            buf: &self.buf,
            base: self.base,
            errors: &self.errors,
            segment_count: self.segment_count,
        }
    }

    /// Bytes held, for sizing batches.
    pub fn byte_len(&self) -> usize {
        self.buf.len()
    }
}

/// The end of a group.
#[derive(Debug)]
pub struct GroupEnd<'a> {
    pub group: &'a Group,
    pub trailer: Option<Segment<'a>>,
    /// Transaction sets counted in the group.
    pub transaction_sets: u64,
    pub errors: &'a [Error],
}

/// The end of an interchange.
#[derive(Debug)]
pub struct InterchangeEnd<'a> {
    pub interchange: &'a Interchange,
    pub trailer: Option<Segment<'a>>,
    pub groups: u64,
    pub transaction_sets: u64,
    pub errors: &'a [Error],
}
