//! The envelope grammar of each standard, as data: which tags open and close each level,
//! and where the control numbers and counts live. One state machine (`parser`) runs both.

use crate::delimiters::Standard;
use crate::segment::Tag;

/// The role a segment plays in the envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    InterchangeHeader,
    InterchangeTrailer,
    GroupHeader,
    GroupTrailer,
    SetHeader,
    SetTrailer,
    /// X12 TA1 interchange acknowledgment, which stands outside groups.
    InterchangeAcknowledgment,
    Body,
}

impl Role {
    pub(crate) fn is_envelope(self) -> bool {
        !matches!(self, Role::Body | Role::InterchangeAcknowledgment)
    }
}

/// One level of the envelope: its header and trailer, and the names used in messages.
#[derive(Debug)]
pub(crate) struct Level {
    /// The trailer's tag, for messages.
    pub trailer_name: &'static str,
    /// 1-based element of the header holding the control number.
    pub control_element: usize,
    /// `"ST02"`, `"UNH01"`: the header's control number element.
    pub control_name: &'static str,
    /// `"SE01"`: the trailer's count element.
    pub count_name: &'static str,
    /// `"SE02"`: the trailer's control number element.
    pub trailer_control_name: &'static str,
    /// What this level is called: `"transaction set"`, `"message"`.
    pub noun: &'static str,
    /// What its count counts: `"segment"`, `"transaction set"`.
    pub counted: &'static str,
    /// Control numbers of this level are numeric (X12 N0 fields: ISA13/IEA02, GS06/GE02), so
    /// `3438` closes `000003438`. Others (ST02, UNB 0020) are compared as text.
    pub numeric_control: bool,
}

impl Level {
    /// Whether a trailer's control number closes the header's.
    pub(crate) fn control_matches(&self, header: &str, trailer: &str) -> bool {
        if header == trailer {
            return true;
        }
        if !self.numeric_control {
            return false;
        }
        matches!((numeric(header), numeric(trailer)), (Some(a), Some(b)) if a == b)
    }
}

#[derive(Debug)]
pub(crate) struct Syntax {
    pub standard: Standard,
    pub interchange: Level,
    pub group: Level,
    pub set: Level,
}

/// The digits of a numeric control number without leading zeros.
fn numeric(text: &str) -> Option<&str> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.trim_start_matches('0'))
}

pub(crate) static X12: Syntax = Syntax {
    standard: Standard::X12,
    interchange: Level {
        trailer_name: "IEA",
        control_element: 13,
        control_name: "ISA13",
        count_name: "IEA01",
        trailer_control_name: "IEA02",
        noun: "interchange",
        counted: "functional group",
        numeric_control: true,
    },
    group: Level {
        trailer_name: "GE",
        control_element: 6,
        control_name: "GS06",
        count_name: "GE01",
        trailer_control_name: "GE02",
        noun: "functional group",
        counted: "transaction set",
        numeric_control: true,
    },
    set: Level {
        trailer_name: "SE",
        control_element: 2,
        control_name: "ST02",
        count_name: "SE01",
        trailer_control_name: "SE02",
        noun: "transaction set",
        counted: "segment",
        numeric_control: false,
    },
};

pub(crate) static EDIFACT: Syntax = Syntax {
    standard: Standard::Edifact,
    interchange: Level {
        trailer_name: "UNZ",
        control_element: 5,
        control_name: "UNB05",
        count_name: "UNZ01",
        trailer_control_name: "UNZ02",
        noun: "interchange",
        counted: "message",
        numeric_control: false,
    },
    group: Level {
        trailer_name: "UNE",
        control_element: 5,
        control_name: "UNG05",
        count_name: "UNE01",
        trailer_control_name: "UNE02",
        noun: "group",
        counted: "message",
        numeric_control: false,
    },
    set: Level {
        trailer_name: "UNT",
        control_element: 1,
        control_name: "UNH01",
        count_name: "UNT01",
        trailer_control_name: "UNT02",
        noun: "message",
        counted: "segment",
        numeric_control: false,
    },
};

impl Syntax {
    #[inline]
    pub(crate) fn role(&self, tag: Tag) -> Role {
        const fn code(text: &'static str) -> u32 {
            Tag::from_static(text).code()
        }
        const ST: u32 = code("ST");
        const SE: u32 = code("SE");
        const GS: u32 = code("GS");
        const GE: u32 = code("GE");
        const ISA: u32 = code("ISA");
        const IEA: u32 = code("IEA");
        const TA1: u32 = code("TA1");
        const UNH: u32 = code("UNH");
        const UNT: u32 = code("UNT");
        const UNG: u32 = code("UNG");
        const UNE: u32 = code("UNE");
        const UNB: u32 = code("UNB");
        const UNA: u32 = code("UNA");
        const UNZ: u32 = code("UNZ");
        match self.standard {
            Standard::X12 => match tag.code() {
                ST => Role::SetHeader,
                SE => Role::SetTrailer,
                GS => Role::GroupHeader,
                GE => Role::GroupTrailer,
                ISA => Role::InterchangeHeader,
                IEA => Role::InterchangeTrailer,
                TA1 => Role::InterchangeAcknowledgment,
                _ => Role::Body,
            },
            Standard::Edifact => match tag.code() {
                UNH => Role::SetHeader,
                UNT => Role::SetTrailer,
                UNG => Role::GroupHeader,
                UNE => Role::GroupTrailer,
                UNB | UNA => Role::InterchangeHeader,
                UNZ => Role::InterchangeTrailer,
                _ => Role::Body,
            },
        }
    }
}
