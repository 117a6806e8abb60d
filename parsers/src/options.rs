//! What the parser accepts: strict by default, with opt-in `allow_*` leniency for known
//! partner habits, and a limit on everything so hostile input cannot exhaust memory.

/// Parser options. `ParseOptions::default()` is strict; each `allow_*` flag relaxes one
/// rule that real partners are known to break.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// EDIFACT files hard-wrapped at a fixed width (line breaks inside segments, even inside
    /// tags and values). The line breaks are ignored. Off: a line break inside a segment is
    /// an error, because it would otherwise become part of a value.
    pub allow_line_breaks_in_segments: bool,
    /// EDIFACT messages (UNH..UNT) with no UNB/UNZ interchange around them.
    pub allow_bare_messages: bool,
    /// X12 ISA elements that are not padded to their fixed widths. The terminator is then
    /// found by counting separators rather than by position.
    pub allow_isa_width_variance: bool,
    /// Check that EDIFACT data uses only the characters its UNOA/UNOB syntax identifier
    /// allows. Off by default: partners routinely send UTF-8 or Latin-1 text under UNOA.
    pub check_charset: bool,
    /// Upper bounds; a breach is a typed error, never an unbounded allocation.
    pub limits: Limits,
}

impl ParseOptions {
    /// Every `allow_*` flag on: what `crossdock parse --lenient` uses.
    pub fn lenient() -> Self {
        ParseOptions {
            allow_line_breaks_in_segments: true,
            allow_bare_messages: true,
            allow_isa_width_variance: true,
            ..ParseOptions::default()
        }
    }
}

/// Upper bounds on the shape of the input. The defaults are far above what real partners
/// send (the largest X12 element is 80 bytes outside of binary segments) and low enough that
/// one transaction set in memory stays small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes in one segment, terminator excluded.
    pub segment_bytes_max: usize,
    /// Elements in one segment.
    pub elements_per_segment_max: usize,
    /// Components in one element (or in one repetition of it).
    pub components_per_element_max: usize,
    /// Repetitions of one element.
    pub repetitions_per_element_max: usize,
    /// Segments in one transaction set / message, header and trailer included.
    pub segments_per_transaction_set_max: usize,
    /// Bytes in one transaction set / message: what the streaming reader holds at most.
    pub transaction_set_bytes_max: usize,
    /// Bytes in one interchange, header to trailer.
    pub interchange_bytes_max: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            segment_bytes_max: 64 * 1024,
            elements_per_segment_max: 256,
            components_per_element_max: 64,
            repetitions_per_element_max: 256,
            segments_per_transaction_set_max: 500_000,
            transaction_set_bytes_max: 32 * 1024 * 1024,
            interchange_bytes_max: 4 * 1024 * 1024 * 1024,
        }
    }
}
