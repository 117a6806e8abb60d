//! The ISA interchange header: where X12 declares its delimiters.
//!
//! The element separator is the byte after `ISA`; ISA11 is the repetition separator from
//! version 00402 on; ISA16 is the component separator; the byte after ISA16 terminates the
//! segment. The 16 elements have fixed widths, so a well-formed ISA is exactly 106 bytes.

use memchr::memchr;
use nom::bytes::complete::{tag, take};
use nom::IResult;
use nom::Parser as _;

use crate::delimiters::{ByteDisplay, Delimiters, Standard};
use crate::error::ErrorKind;

/// Fixed widths of ISA01..ISA16.
pub(crate) const ISA_WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];

/// Length of a fixed-width ISA, terminator included.
pub(crate) const ISA_LEN: usize = 106;

/// How far we look for the end of an ISA whose widths vary before giving up.
const ISA_SEARCH_MAX: usize = 512;

/// A parsed ISA.
#[derive(Debug)]
pub(crate) struct Isa {
    pub delimiters: Delimiters,
    /// Index of the terminator (the segment is `0..terminator`).
    pub terminator: usize,
    /// Width problems and version problems, with the element they concern.
    pub problems: Vec<(ErrorKind, Option<u16>)>,
}

pub(crate) enum IsaParse {
    NeedMore,
    Done(Isa),
    /// The ISA cannot be read; the delimiters are unknown, so parsing stops.
    Fatal(ErrorKind),
}

/// Reads the ISA at the start of `input`.
pub(crate) fn parse_isa(input: &[u8], eof: bool, allow_width_variance: bool) -> IsaParse {
    if let Ok((_, (component_at, separator))) = fixed_width_isa(input) {
        // The layout matched; make sure no element hides an extra separator.
        let separators = input[3..component_at].iter().filter(|b| **b == separator).count();
        if separators == 16 {
            return finish(input, component_at, separator, Vec::new());
        }
    }
    // Not the fixed layout: find the 16 separators, then report the widths that differ.
    let Some(&separator) = input.get(3) else {
        return if eof { IsaParse::Fatal(ErrorKind::IsaIncomplete { found: 0 }) } else { IsaParse::NeedMore };
    };
    let window = &input[..input.len().min(ISA_SEARCH_MAX)];
    let mut starts = [0usize; 16];
    let mut at = 3;
    for (i, start) in starts.iter_mut().enumerate() {
        match window.get(at..).and_then(|w| memchr(separator, w)) {
            Some(j) => {
                at += j + 1;
                *start = at;
            }
            None if !eof && input.len() < ISA_SEARCH_MAX => return IsaParse::NeedMore,
            None => return IsaParse::Fatal(ErrorKind::IsaIncomplete { found: i }),
        }
    }
    let component_at = starts[15];
    if input.len() < component_at + 2 {
        return if eof { IsaParse::Fatal(ErrorKind::IsaIncomplete { found: 16 }) } else { IsaParse::NeedMore };
    }
    let mut problems = Vec::new();
    if !allow_width_variance {
        for i in 0..15 {
            let width = starts[i + 1] - 1 - starts[i];
            if width != ISA_WIDTHS[i] {
                let element = (i + 1) as u8;
                problems.push((
                    ErrorKind::IsaElementWidth { element, expected: ISA_WIDTHS[i], found: width },
                    Some(u16::from(element)),
                ));
            }
        }
    }
    finish(input, component_at, separator, problems)
}

/// `(index of ISA16, element separator)` when the ISA has the fixed layout.
fn fixed_width_isa(input: &[u8]) -> IResult<&[u8], (usize, u8)> {
    let (mut rest, (_, sep)) = (tag(&b"ISA"[..]), take(1usize)).parse(input)?;
    let separator = sep[0];
    for (i, width) in ISA_WIDTHS.iter().enumerate() {
        let (r, _) = take(*width).parse(rest)?;
        rest = r;
        if i < 15 {
            let (r, _) = tag(&[separator][..]).parse(rest)?;
            rest = r;
        }
    }
    // ISA16 sits at index 104; the terminator at 105.
    let (rest, _) = take(1usize).parse(rest)?;
    Ok((rest, (ISA_LEN - 2, separator)))
}

fn finish(input: &[u8], component_at: usize, separator: u8, mut problems: Vec<(ErrorKind, Option<u16>)>) -> IsaParse {
    let (Some(&component), Some(&segment)) = (input.get(component_at), input.get(component_at + 1)) else {
        return IsaParse::NeedMore;
    };
    let isa = &input[..component_at + 1];
    let elements: Vec<&[u8]> = isa.get(4..).unwrap_or_default().split(|b| *b == separator).collect();
    let version = elements.get(11).copied().unwrap_or_default();
    let isa11 = elements.get(10).and_then(|e| e.first()).copied();
    let version_number = std::str::from_utf8(version).ok().and_then(|v| v.parse::<u32>().ok());
    let supported = version.len() == 5 && version_number.is_some_and(|v| (200..=801).contains(&v));
    if !supported {
        problems
            .push((ErrorKind::UnsupportedVersion { found: String::from_utf8_lossy(version).into_owned() }, Some(12)));
    }
    // ISA11 is the repetition separator from 00402 on; before that it is a code ("U").
    let repetition = match (version_number, isa11) {
        (Some(v), Some(byte)) if v >= 402 && !byte.is_ascii_alphanumeric() && byte != b' ' => Some(byte),
        _ => None,
    };
    let delimiters = Delimiters { element: separator, component, repetition, segment, release: None, decimal: b'.' };
    if let Err(conflict) = delimiters.check(Standard::X12) {
        return IsaParse::Fatal(ErrorKind::Delimiters(conflict));
    }
    check_values(&elements, &delimiters, &mut problems);
    IsaParse::Done(Isa { delimiters, terminator: component_at + 1, problems })
}

/// ISA01..ISA15 (but ISA11 when it is the repetition separator) must be ASCII without
/// delimiters: widths are counted in bytes, so a multi-byte character would shift every later
/// field for a reader that counts characters, and neither could be written back.
fn check_values(elements: &[&[u8]], delimiters: &Delimiters, problems: &mut Vec<(ErrorKind, Option<u16>)>) {
    let named = [
        (Some(delimiters.component), "component separator"),
        (Some(delimiters.segment), "segment terminator"),
        (delimiters.repetition, "repetition separator"),
    ];
    for (i, value) in elements.iter().enumerate().take(15) {
        if i == 10 && delimiters.repetition.is_some() {
            continue;
        }
        let element = (i + 1) as u8;
        let problem = if let Some(&byte) = value.iter().find(|b| !b.is_ascii()) {
            ErrorKind::IsaNotAscii { element, byte }
        } else if let Some((byte, name)) =
            named.iter().find_map(|(d, name)| d.filter(|d| value.contains(d)).map(|d| (d, *name)))
        {
            ErrorKind::IsaDelimiterInValue { element, delimiter_name: name, delimiter: ByteDisplay(byte) }
        } else {
            continue;
        };
        problems.push((problem, Some(u16::from(element))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &[u8] =
        b"ISA*00*          *00*          *ZZ*SENDERISA      *ZZ*RECEIVERISA    *960807*1548*^*00501*000000020*0*T*>~";

    #[test]
    fn fixed_width() {
        let IsaParse::Done(isa) = parse_isa(ISA, false, false) else { panic!("not parsed") };
        assert_eq!(isa.terminator, 105);
        assert_eq!(isa.delimiters.element, b'*');
        assert_eq!(isa.delimiters.component, b'>');
        assert_eq!(isa.delimiters.repetition, Some(b'^'));
        assert_eq!(isa.delimiters.segment, b'~');
        assert!(isa.problems.is_empty());
    }

    #[test]
    fn older_version_has_no_repetition() {
        let old = String::from_utf8(ISA.to_vec()).unwrap().replace("^*00501", "U*00401");
        let IsaParse::Done(isa) = parse_isa(old.as_bytes(), false, false) else { panic!("not parsed") };
        assert_eq!(isa.delimiters.repetition, None);
    }

    #[test]
    fn variable_width_is_reported_or_allowed() {
        let short = b"ISA*00*0*00*0*ZZ*SENDER*ZZ*RECEIVER*960807*1548*U*00401*000000020*0*T*>~GS";
        let IsaParse::Done(isa) = parse_isa(short, false, false) else { panic!("not parsed") };
        assert_eq!(isa.delimiters.segment, b'~');
        assert_eq!(isa.problems.len(), 4);
        assert!(matches!(isa.problems[0].0, ErrorKind::IsaElementWidth { element: 2, expected: 10, found: 1 }));
        let IsaParse::Done(isa) = parse_isa(short, false, true) else { panic!("not parsed") };
        assert!(isa.problems.is_empty());
    }

    #[test]
    fn truncated_isa() {
        assert!(matches!(parse_isa(&ISA[..50], false, false), IsaParse::NeedMore));
        assert!(matches!(parse_isa(&ISA[..50], true, false), IsaParse::Fatal(ErrorKind::IsaIncomplete { .. })));
        assert!(matches!(parse_isa(b"ISA", true, false), IsaParse::Fatal(_)));
    }

    #[test]
    fn unsupported_version() {
        let v = String::from_utf8(ISA.to_vec()).unwrap().replace("00501", "00900");
        let IsaParse::Done(isa) = parse_isa(v.as_bytes(), false, false) else { panic!("not parsed") };
        assert!(matches!(isa.problems[0].0, ErrorKind::UnsupportedVersion { .. }));
    }

    #[test]
    fn non_ascii_byte_is_reported_with_its_element() {
        // Found by fuzzing: a Latin-1 byte in ISA09 kept the byte width but could not be
        // written back at the same width.
        let mut v = ISA.to_vec();
        v[71] = 0xE5;
        let IsaParse::Done(isa) = parse_isa(&v, false, false) else { panic!("not parsed") };
        assert!(
            matches!(isa.problems[..], [(ErrorKind::IsaNotAscii { element: 9, byte: 0xE5 }, Some(9))]),
            "{:?}",
            isa.problems
        );
    }

    #[test]
    fn delimiter_in_a_value_is_reported() {
        // Found by fuzzing: ISA02 held the component separator.
        let v = String::from_utf8(ISA.to_vec()).unwrap().replacen("*          *00", "*>         *00", 1);
        let IsaParse::Done(isa) = parse_isa(v.as_bytes(), false, false) else { panic!("not parsed") };
        assert_eq!(isa.problems.len(), 1, "{:?}", isa.problems);
        assert_eq!(
            isa.problems[0].0.to_string(),
            "ISA02 contains the component separator '>'; a delimiter cannot appear in data"
        );
    }

    #[test]
    fn isa11_is_data_before_00402() {
        // Found by fuzzing: before 00402 ISA11 is a code, so a non-ASCII byte there is data.
        let mut v = String::from_utf8(ISA.to_vec()).unwrap().replace("00501", "00401").into_bytes();
        v[82] = 0xC8;
        let IsaParse::Done(isa) = parse_isa(&v, false, false) else { panic!("not parsed") };
        assert!(
            matches!(isa.problems[..], [(ErrorKind::IsaNotAscii { element: 11, byte: 0xC8 }, _)]),
            "{:?}",
            isa.problems
        );
    }
}
