//! Errors in the data of a transaction set: what the maps and their validation find, located
//! like the parser's errors, and coded the way acknowledgments report them (997 AK3/AK4,
//! 999 IK3/IK4, CONTRL UCS/UCD).

use std::fmt;

use crossdock_parsers::Location;

/// One problem in a transaction set's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataError {
    pub kind: DataErrorKind,
    pub location: Location,
    /// The X12 data element reference number (`234` for a product id), for AK402/IK402.
    pub element_reference: Option<u16>,
    /// The offending value, for AK404/IK404.
    pub value: Option<String>,
}

impl DataError {
    pub fn new(kind: DataErrorKind, location: Location) -> Self {
        DataError { kind, location, element_reference: None, value: None }
    }

    /// Whether the error concerns one element (AK4/IK4/UCD) or the whole segment (AK3/UCS).
    pub fn is_element_error(&self) -> bool {
        self.kind.element_code().is_some()
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.kind, self.location)
    }
}

/// What is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DataErrorKind {
    #[error("the mandatory {segment} segment ({name}) is missing")]
    MandatorySegmentMissing { segment: &'static str, name: &'static str },
    #[error("{segment} appears {found} times; it may appear at most {max}")]
    SegmentRepeated { segment: String, max: usize, found: usize },
    #[error("{segment} is out of place: {reason}")]
    SegmentOutOfOrder { segment: String, reason: &'static str },
    #[error("{element} ({name}) is mandatory but empty")]
    MandatoryElementMissing { element: String, name: &'static str },
    #[error("{element} ({name}) is required by syntax note {note}: {rule}")]
    ConditionalElementMissing { element: String, name: &'static str, note: String, rule: String },
    #[error("{element} ({name}) may not be used together with {other}: syntax note {note}")]
    ExclusionViolated { element: String, name: &'static str, other: String, note: String },
    #[error("{segment} has {found} elements; the standard defines {max}")]
    TooManyElements { segment: String, max: usize, found: usize },
    #[error("{element} ({name}) is {found} characters long; the minimum is {min}")]
    TooShort { element: String, name: &'static str, min: usize, found: usize },
    #[error("{element} ({name}) is {found} characters long; the maximum is {max}")]
    TooLong { element: String, name: &'static str, max: usize, found: usize },
    #[error("{element} ({name}) must be {expected}, found {value:?}")]
    InvalidCharacters { element: String, name: &'static str, expected: &'static str, value: String },
    #[error("{element} ({name}) must be one of {allowed}, found {value:?}")]
    InvalidCode { element: String, name: &'static str, allowed: String, value: String },
    #[error("{element} ({name}) is not a valid date: {value:?}")]
    InvalidDate { element: String, name: &'static str, value: String },
    #[error("{element} ({name}) is not a valid time: {value:?}")]
    InvalidTime { element: String, name: &'static str, value: String },
    #[error("the HL hierarchy is broken: {reason}")]
    InvalidHierarchy { reason: String },
}

impl DataErrorKind {
    /// Short stable name, for JSON and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            DataErrorKind::MandatorySegmentMissing { .. } => "mandatory_segment_missing",
            DataErrorKind::SegmentRepeated { .. } => "segment_repeated",
            DataErrorKind::SegmentOutOfOrder { .. } => "segment_out_of_order",
            DataErrorKind::MandatoryElementMissing { .. } => "mandatory_element_missing",
            DataErrorKind::ConditionalElementMissing { .. } => "conditional_element_missing",
            DataErrorKind::ExclusionViolated { .. } => "exclusion_violated",
            DataErrorKind::TooManyElements { .. } => "too_many_elements",
            DataErrorKind::TooShort { .. } => "too_short",
            DataErrorKind::TooLong { .. } => "too_long",
            DataErrorKind::InvalidCharacters { .. } => "invalid_characters",
            DataErrorKind::InvalidCode { .. } => "invalid_code",
            DataErrorKind::InvalidDate { .. } => "invalid_date",
            DataErrorKind::InvalidTime { .. } => "invalid_time",
            DataErrorKind::InvalidHierarchy { .. } => "invalid_hierarchy",
        }
    }

    /// X12 AK304 / IK304 segment syntax error code (720 / 620).
    pub fn segment_code(&self) -> &'static str {
        match self {
            DataErrorKind::MandatorySegmentMissing { .. } => "3",
            DataErrorKind::SegmentRepeated { .. } => "5",
            DataErrorKind::SegmentOutOfOrder { .. } | DataErrorKind::InvalidHierarchy { .. } => "7",
            _ => "8",
        }
    }

    /// X12 AK403 / IK403 data element syntax error code (723 / 621), for element errors.
    pub fn element_code(&self) -> Option<&'static str> {
        Some(match self {
            DataErrorKind::MandatoryElementMissing { .. } => "1",
            DataErrorKind::ConditionalElementMissing { .. } => "2",
            DataErrorKind::TooManyElements { .. } => "3",
            DataErrorKind::TooShort { .. } => "4",
            DataErrorKind::TooLong { .. } => "5",
            DataErrorKind::InvalidCharacters { .. } => "6",
            DataErrorKind::InvalidCode { .. } => "7",
            DataErrorKind::InvalidDate { .. } => "8",
            DataErrorKind::InvalidTime { .. } => "9",
            DataErrorKind::ExclusionViolated { .. } => "10",
            _ => return None,
        })
    }

    /// EDIFACT syntax error code (0085) for CONTRL UCS/UCD.
    pub fn edifact_code(&self) -> &'static str {
        match self {
            DataErrorKind::MandatorySegmentMissing { .. }
            | DataErrorKind::MandatoryElementMissing { .. }
            | DataErrorKind::ConditionalElementMissing { .. } => "13",
            DataErrorKind::SegmentRepeated { .. } => "35",
            DataErrorKind::SegmentOutOfOrder { .. } | DataErrorKind::InvalidHierarchy { .. } => "15",
            DataErrorKind::TooManyElements { .. } => "16",
            DataErrorKind::TooShort { .. } => "40",
            DataErrorKind::TooLong { .. } => "39",
            DataErrorKind::InvalidCharacters { .. } => "37",
            DataErrorKind::InvalidCode { .. }
            | DataErrorKind::InvalidDate { .. }
            | DataErrorKind::InvalidTime { .. }
            | DataErrorKind::ExclusionViolated { .. } => "12",
        }
    }
}
