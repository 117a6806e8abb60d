//! Syntax errors: a kind (what is wrong, expected vs found) and a location (where).
//!
//! Messages are written for a partner manager: they name the segment and element as the
//! implementation guides do (`SE01`, `UNT`), say what was expected and what was found, and
//! carry no trailing period.

use std::fmt;

use crate::delimiters::{ByteDisplay, DelimiterConflict};
use crate::location::Location;

/// One problem in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub location: Location,
}

impl Error {
    pub fn new(kind: ErrorKind, location: Location) -> Self {
        Error { kind, location }
    }

    /// Short stable name of the kind, for metrics labels and JSON (`"count_mismatch"`).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.kind, self.location)
    }
}

impl std::error::Error for Error {}

/// What is wrong. Static names; runtime values go in the fields.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error("the input is not X12 or EDIFACT: expected ISA, UNA or UNB, found {found}")]
    NotEdi { found: String },
    #[error("the input ends in the middle of {expected}")]
    Truncated { expected: &'static str },
    #[error("ISA{element:02} must be {expected} characters wide but is {found}")]
    IsaElementWidth { element: u8, expected: usize, found: usize },
    #[error("ISA{element:02} contains byte {byte:02X}, which is not ASCII; the ISA is fixed-width ASCII")]
    IsaNotAscii { element: u8, byte: u8 },
    #[error("ISA{element:02} contains the {delimiter_name} {delimiter}; a delimiter cannot appear in data")]
    IsaDelimiterInValue { element: u8, delimiter_name: &'static str, delimiter: ByteDisplay },
    #[error("the ISA segment must have 16 elements but the input ends or the segment stops after {found}")]
    IsaIncomplete { found: usize },
    #[error("the delimiters cannot be used: {0}")]
    Delimiters(DelimiterConflict),
    #[error("ISA12 version {found:?} is not supported; expected 00200 to 00801")]
    UnsupportedVersion { found: String },
    #[error("the UNA service string advice must be UNA followed by six characters, found {found:?}")]
    InvalidServiceStringAdvice { found: String },
    #[error("UNB syntax identifier {found:?} is not supported; expected UNOA to UNOY")]
    InvalidSyntaxIdentifier { found: String },
    #[error("UNB syntax version {found:?} is not supported; expected 1, 2, 3 or 4")]
    UnsupportedSyntaxVersion { found: String },
    #[error("the segment is longer than the limit of {max} bytes (or its terminator is missing)")]
    SegmentTooLong { max: usize },
    #[error("the segment has {found} elements; the limit is {max}")]
    TooManyElements { max: usize, found: usize },
    #[error("the element has {found} components; the limit is {max}")]
    TooManyComponents { max: usize, found: usize },
    #[error("the element repeats {found} times; the limit is {max}")]
    TooManyRepetitions { max: usize, found: usize },
    #[error("the transaction set has more than {max} segments")]
    TransactionSetTooLong { max: usize },
    #[error("the transaction set is larger than {max} bytes")]
    TransactionSetTooLarge { max: usize },
    #[error("the interchange is larger than {max} bytes")]
    InterchangeTooLarge { max: u64 },
    #[error("{found:?} is not a segment tag; a tag is 1 to 4 upper-case letters or digits starting with a letter")]
    InvalidSegmentTag { found: String },
    #[error("a line break inside the segment: the file looks hard-wrapped (allow_line_breaks_in_segments accepts it)")]
    LineBreakInSegment,
    #[error("the segment ends with a release character that escapes nothing")]
    DanglingRelease,
    #[error("character {found} is not allowed by syntax identifier {charset}")]
    InvalidCharacter { charset: &'static str, found: String },
    #[error("{opened_by} {control_number} is never closed: its {trailer} trailer is missing")]
    MissingTrailer { trailer: &'static str, opened_by: &'static str, control_number: String },
    #[error("segment {found} is {context}; expected {expected}")]
    UnexpectedSegment { found: String, context: &'static str, expected: &'static str },
    #[error("{element} ({meaning}) is missing")]
    MissingElement { element: &'static str, meaning: &'static str },
    #[error("{element} declares {declared} {counted}(s); counted {actual}")]
    CountMismatch { element: &'static str, counted: &'static str, declared: String, actual: u64 },
    #[error("{trailer_element} is {trailer:?} but the {header_element} it closes is {header:?}; they must be equal")]
    ControlNumberMismatch {
        trailer_element: &'static str,
        header_element: &'static str,
        trailer: String,
        header: String,
    },
    #[error("unexpected data after the end of the interchange: {found}")]
    TrailingData { found: String },
}

impl ErrorKind {
    /// Short stable name, for metrics labels and JSON.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::NotEdi { .. } => "not_edi",
            ErrorKind::Truncated { .. } => "truncated",
            ErrorKind::IsaElementWidth { .. } => "isa_element_width",
            ErrorKind::IsaNotAscii { .. } => "isa_not_ascii",
            ErrorKind::IsaDelimiterInValue { .. } => "isa_delimiter_in_value",
            ErrorKind::IsaIncomplete { .. } => "isa_incomplete",
            ErrorKind::Delimiters(_) => "delimiters",
            ErrorKind::UnsupportedVersion { .. } => "unsupported_version",
            ErrorKind::InvalidServiceStringAdvice { .. } => "invalid_service_string_advice",
            ErrorKind::InvalidSyntaxIdentifier { .. } => "invalid_syntax_identifier",
            ErrorKind::UnsupportedSyntaxVersion { .. } => "unsupported_syntax_version",
            ErrorKind::SegmentTooLong { .. } => "segment_too_long",
            ErrorKind::TooManyElements { .. } => "too_many_elements",
            ErrorKind::TooManyComponents { .. } => "too_many_components",
            ErrorKind::TooManyRepetitions { .. } => "too_many_repetitions",
            ErrorKind::TransactionSetTooLong { .. } => "transaction_set_too_long",
            ErrorKind::TransactionSetTooLarge { .. } => "transaction_set_too_large",
            ErrorKind::InterchangeTooLarge { .. } => "interchange_too_large",
            ErrorKind::InvalidSegmentTag { .. } => "invalid_segment_tag",
            ErrorKind::LineBreakInSegment => "line_break_in_segment",
            ErrorKind::DanglingRelease => "dangling_release",
            ErrorKind::InvalidCharacter { .. } => "invalid_character",
            ErrorKind::MissingTrailer { .. } => "missing_trailer",
            ErrorKind::UnexpectedSegment { .. } => "unexpected_segment",
            ErrorKind::MissingElement { .. } => "missing_element",
            ErrorKind::CountMismatch { .. } => "count_mismatch",
            ErrorKind::ControlNumberMismatch { .. } => "control_number_mismatch",
            ErrorKind::TrailingData { .. } => "trailing_data",
        }
    }

    /// Errors after which the parser cannot find the next segment and stops.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            ErrorKind::NotEdi { .. }
                | ErrorKind::IsaIncomplete { .. }
                | ErrorKind::Delimiters(_)
                | ErrorKind::InvalidServiceStringAdvice { .. }
                | ErrorKind::TrailingData { .. }
        )
    }
}

/// How many bytes of unexpected input a message shows.
pub(crate) const PREVIEW_BYTES: usize = 16;

/// Renders the first bytes of unexpected input for a message: printable ASCII as text,
/// the rest as hex, at most `PREVIEW_BYTES`.
pub(crate) fn preview(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing".to_owned();
    }
    let shown = &bytes[..bytes.len().min(PREVIEW_BYTES)];
    if shown.iter().all(|b| (0x20..0x7f).contains(b)) {
        let mut text = format!("{:?}", String::from_utf8_lossy(shown));
        if bytes.len() > shown.len() {
            text.push('…');
        }
        text
    } else {
        let mut text = String::from("bytes");
        for b in shown {
            text.push_str(&format!(" {b:02X}"));
        }
        text
    }
}
