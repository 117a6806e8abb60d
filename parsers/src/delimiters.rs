//! The standard a document is written in, and the delimiters it declares.
//!
//! X12 declares its delimiters in the ISA segment; EDIFACT in the UNA service string advice
//! (or uses the defaults of ISO 9735 when there is none). Nothing here guesses a delimiter.

use std::fmt;

/// The EDI standard of an interchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Standard {
    X12,
    Edifact,
}

impl Standard {
    /// Lower-case name, as used in JSON output (`"x12"`, `"edifact"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Standard::X12 => "x12",
            Standard::Edifact => "edifact",
        }
    }
}

impl fmt::Display for Standard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Standard::X12 => "X12",
            Standard::Edifact => "EDIFACT",
        })
    }
}

/// The separators of one interchange.
///
/// `release` exists only in EDIFACT (X12 has no escape). `repetition` exists in X12 from
/// version 00402 on (ISA11) and in EDIFACT syntax version 4. `decimal` is the decimal mark
/// EDIFACT declares in UNA (X12 always uses `.`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Delimiters {
    pub element: u8,
    pub component: u8,
    pub repetition: Option<u8>,
    pub segment: u8,
    pub release: Option<u8>,
    pub decimal: u8,
}

impl Delimiters {
    /// The delimiters most X12 partners use: `*`, `>`, `^`, `~`.
    pub const X12: Delimiters = Delimiters {
        element: b'*',
        component: b'>',
        repetition: Some(b'^'),
        segment: b'~',
        release: None,
        decimal: b'.',
    };

    /// The ISO 9735 defaults that apply when there is no UNA: `:+.? '`.
    pub const EDIFACT: Delimiters = Delimiters {
        element: b'+',
        component: b':',
        repetition: None,
        segment: b'\'',
        release: Some(b'?'),
        decimal: b'.',
    };

    /// Checks that the separators can tell data apart: all distinct, none a letter or
    /// digit, and (X12) none a space, which pads ISA fields.
    pub fn check(&self, standard: Standard) -> Result<(), DelimiterConflict> {
        let mut named: [(&'static str, Option<u8>); 5] = [
            ("element separator", Some(self.element)),
            ("component separator", Some(self.component)),
            ("repetition separator", self.repetition),
            ("segment terminator", Some(self.segment)),
            ("release character", self.release),
        ];
        if standard == Standard::X12 {
            named[4].1 = None;
        }
        for (i, (name, byte)) in named.iter().enumerate() {
            let Some(byte) = *byte else { continue };
            if byte.is_ascii_alphanumeric() || (standard == Standard::X12 && byte == b' ') {
                return Err(DelimiterConflict { first: name, second: None, byte });
            }
            for (other, other_byte) in named.iter().skip(i + 1) {
                if *other_byte == Some(byte) {
                    return Err(DelimiterConflict { first: name, second: Some(other), byte });
                }
            }
        }
        Ok(())
    }

    /// True when `byte` is any separator of this set (the release character included).
    #[inline]
    pub fn is_delimiter(&self, byte: u8) -> bool {
        byte == self.element
            || byte == self.component
            || byte == self.segment
            || Some(byte) == self.repetition
            || Some(byte) == self.release
    }
}

/// Two separators share a byte, or one is a byte that data needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DelimiterConflict {
    pub first: &'static str,
    pub second: Option<&'static str>,
    pub byte: u8,
}

impl fmt::Display for DelimiterConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.second {
            Some(second) => {
                write!(f, "the {} and the {} are the same character {}", self.first, second, ByteDisplay(self.byte))
            }
            None => {
                write!(f, "the {} {} is a letter, digit or space, which data needs", self.first, ByteDisplay(self.byte))
            }
        }
    }
}

/// Shows a byte the way a partner manager would recognise it: `'*'`, or `0x15` for
/// control characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteDisplay(pub u8);

impl fmt::Display for ByteDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            b'\n' => f.write_str("newline (0x0A)"),
            b'\r' => f.write_str("carriage return (0x0D)"),
            b' ' => f.write_str("space"),
            0x21..=0x7e => write!(f, "'{}'", self.0 as char),
            _ => write!(f, "0x{:02X}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_consistent() {
        assert!(Delimiters::X12.check(Standard::X12).is_ok());
        assert!(Delimiters::EDIFACT.check(Standard::Edifact).is_ok());
    }

    #[test]
    fn conflicts_are_named() {
        let d = Delimiters { component: b'*', ..Delimiters::X12 };
        let err = d.check(Standard::X12).unwrap_err();
        assert_eq!(err.first, "element separator");
        assert_eq!(err.second, Some("component separator"));
        assert_eq!(err.to_string(), "the element separator and the component separator are the same character '*'");
        let d = Delimiters { element: b'A', ..Delimiters::X12 };
        assert!(d.check(Standard::X12).is_err());
    }
}
