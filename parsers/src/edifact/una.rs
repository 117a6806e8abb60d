//! The UNA service string advice and the UNB syntax identifier.
//!
//! `UNA:+.? '` declares, in order: component separator, element separator, decimal mark,
//! release character, repetition separator (reserved in syntax versions 1 to 3) and segment
//! terminator. A space in the release or repetition position means "not used".

use nom::bytes::complete::{tag, take};
use nom::IResult;
use nom::Parser as _;

use crate::delimiters::{Delimiters, Standard};
use crate::error::{preview, ErrorKind};

/// Length of the UNA service string advice.
pub(crate) const UNA_LEN: usize = 9;

/// Reads a UNA at the start of `input` (which holds at least `UNA_LEN` bytes).
pub(crate) fn parse_una(input: &[u8]) -> Result<Delimiters, ErrorKind> {
    let invalid = || ErrorKind::InvalidServiceStringAdvice { found: preview(&input[..input.len().min(UNA_LEN)]) };
    let (_, chars) = una(input).map_err(|_| invalid())?;
    let [component, element, decimal, release, repetition, segment] = chars;
    if decimal != b'.' && decimal != b',' {
        return Err(invalid());
    }
    let delimiters = Delimiters {
        element,
        component,
        repetition: (repetition != b' ').then_some(repetition),
        segment,
        release: (release != b' ').then_some(release),
        decimal,
    };
    delimiters.check(Standard::Edifact).map_err(ErrorKind::Delimiters)?;
    Ok(delimiters)
}

fn una(input: &[u8]) -> IResult<&[u8], [u8; 6]> {
    let (rest, (_, chars)) = (tag(&b"UNA"[..]), take(6usize)).parse(input)?;
    let mut out = [0u8; 6];
    out.copy_from_slice(chars);
    Ok((rest, out))
}

/// The character repertoire a syntax identifier promises, where we can check it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Charset {
    /// UNOA: upper-case letters, digits, space and `.,-()/='+:?!"%&*;<>`.
    LevelA,
    /// UNOB: level A plus lower-case letters and `#@[]\^_{|}~` -- ISO 646 without control codes.
    LevelB,
    /// Any other (UNOC and up): not checked byte by byte.
    Unchecked,
}

impl Charset {
    pub(crate) fn from_identifier(identifier: &str) -> Charset {
        match identifier {
            "UNOA" => Charset::LevelA,
            "UNOB" => Charset::LevelB,
            _ => Charset::Unchecked,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Charset::LevelA => "UNOA",
            Charset::LevelB => "UNOB",
            Charset::Unchecked => "UNOC",
        }
    }

    /// Whether `byte` belongs to the repertoire (separators always do).
    pub(crate) fn allows(self, byte: u8, d: &Delimiters) -> bool {
        let in_repertoire = match self {
            Charset::LevelA => {
                byte.is_ascii_uppercase() || byte.is_ascii_digit() || b" .,-()/='+:?!\"%&*;<>".contains(&byte)
            }
            Charset::LevelB => (0x20..0x7f).contains(&byte),
            Charset::Unchecked => true,
        };
        in_repertoire || d.is_delimiter(byte)
    }

    #[cfg(test)]
    fn first_invalid(self, bytes: &[u8], d: &Delimiters) -> Option<usize> {
        bytes.iter().position(|&b| !self.allows(b, d))
    }
}

/// Checks a UNB syntax identifier (`UNOA` to `UNOY`) and version (1 to 4).
pub(crate) fn check_syntax(identifier: &str, version: &str) -> Result<u8, (ErrorKind, u16)> {
    let id = identifier.as_bytes();
    let valid_id = id.len() == 4 && id.starts_with(b"UNO") && (b'A'..=b'Y').contains(&id[3]);
    if !valid_id {
        return Err((ErrorKind::InvalidSyntaxIdentifier { found: identifier.to_owned() }, 1));
    }
    match version {
        "1" | "2" | "3" | "4" => Ok(version.as_bytes()[0] - b'0'),
        _ => Err((ErrorKind::UnsupportedSyntaxVersion { found: version.to_owned() }, 2)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_una() {
        let d = parse_una(b"UNA:+.? '").unwrap();
        assert_eq!(d, Delimiters::EDIFACT);
    }

    #[test]
    fn custom_una() {
        let d = parse_una(b"UNA*@.? #").unwrap();
        assert_eq!((d.component, d.element, d.segment, d.repetition), (b'*', b'@', b'#', None));
        let d = parse_una(b"UNA:+,?*'").unwrap();
        assert_eq!((d.decimal, d.repetition), (b',', Some(b'*')));
    }

    #[test]
    fn bad_una() {
        assert!(matches!(parse_una(b"UNA::.? '"), Err(ErrorKind::Delimiters(_))));
        assert!(matches!(parse_una(b"UNA:+X? '"), Err(ErrorKind::InvalidServiceStringAdvice { .. })));
    }

    #[test]
    fn syntax_identifiers() {
        assert_eq!(check_syntax("UNOC", "3"), Ok(3));
        assert!(check_syntax("UNOZ", "3").is_err());
        assert!(check_syntax("IATB", "1").is_err());
        assert!(matches!(check_syntax("UNOA", "5"), Err((ErrorKind::UnsupportedSyntaxVersion { .. }, 2))));
    }

    #[test]
    fn charset_level_a() {
        let d = Delimiters::EDIFACT;
        assert_eq!(Charset::LevelA.first_invalid(b"ABC 123+X:Y", &d), None);
        assert_eq!(Charset::LevelA.first_invalid(b"ABc", &d), Some(2));
        assert_eq!(Charset::LevelB.first_invalid(b"ABc", &d), None);
        assert_eq!(Charset::LevelB.first_invalid("Ä".as_bytes(), &d), Some(0));
    }
}
