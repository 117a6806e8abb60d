//! Dates (`YYYY-MM-DD`) and times (`HH:MM` or `HH:MM:SS`), read from and written to the EDI
//! forms (`CCYYMMDD`, `YYMMDD`, `HHMM`, `HHMMSS`).

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

/// A calendar date, `YYYY-MM-DD`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Date(String);

impl Date {
    /// From `CCYYMMDD`, or `YYMMDD` (years below 50 are 20YY, others 19YY, as X12 readers do).
    pub fn from_edi(text: &str) -> Option<Date> {
        let (year, month, day) = Date::edi_parts(text)?;
        Date::checked(year, month, day)
    }

    /// Whether `text` is a date `from_edi` reads; without building it, for validation.
    pub fn is_edi(text: &str) -> bool {
        Date::edi_parts(text).is_some_and(|(year, month, day)| Date::exists(year, month, day))
    }

    fn edi_parts(text: &str) -> Option<(u32, u32, u32)> {
        let digits = text.as_bytes();
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let (year, rest) = match digits.len() {
            8 => (number(&digits[..4]), &digits[4..]),
            6 => {
                let year = number(&digits[..2]);
                (year + if year < 50 { 2000 } else { 1900 }, &digits[2..])
            }
            _ => return None,
        };
        Some((year, number(&rest[..2]), number(&rest[2..])))
    }

    fn exists(year: u32, month: u32, day: u32) -> bool {
        let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        (1..=days).contains(&day) && year <= 9999
    }

    fn checked(year: u32, month: u32, day: u32) -> Option<Date> {
        if !Date::exists(year, month, day) {
            return None;
        }
        // Written by hand: this runs for every date of every document, and of every date
        // element that validation checks.
        let mut text = *b"0000-00-00";
        text[..4].copy_from_slice(&four_digits(year));
        text[5..7].copy_from_slice(&four_digits(month)[2..]);
        text[8..10].copy_from_slice(&four_digits(day)[2..]);
        // Only ASCII digits and dashes were written.
        std::str::from_utf8(&text).ok().map(|text| Date(text.to_owned()))
    }

    /// `YYYY-MM-DD` text, validated.
    pub fn parse_iso(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        Date::checked(text[..4].parse().ok()?, text[5..7].parse().ok()?, text[8..].parse().ok()?)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `CCYYMMDD`.
    pub fn to_ccyymmdd(&self) -> String {
        self.write_ccyymmdd(&mut [0; 8]).to_owned()
    }

    /// `CCYYMMDD` into `buf`, for writers that need no string of its own.
    pub fn write_ccyymmdd<'b>(&self, buf: &'b mut [u8; 8]) -> &'b str {
        // A Date always holds YYYY-MM-DD in ASCII.
        let b = self.0.as_bytes();
        buf[..4].copy_from_slice(&b[..4]);
        buf[4..6].copy_from_slice(&b[5..7]);
        buf[6..].copy_from_slice(&b[8..10]);
        std::str::from_utf8(buf).unwrap_or_default()
    }

    /// `YYMMDD`, for versions whose dates have six digits.
    pub fn to_yymmdd(&self) -> String {
        self.to_ccyymmdd()[2..].to_owned()
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse_iso(&text).ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a YYYY-MM-DD date")))
    }
}

impl JsonSchema for Date {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Date".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" })
    }
}

/// The value of ASCII digits.
fn number(digits: &[u8]) -> u32 {
    digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'))
}

/// `value` (below 10,000) as four ASCII digits, with leading zeros.
fn four_digits(value: u32) -> [u8; 4] {
    let mut out = [b'0'; 4];
    let mut rest = value;
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out
}

/// A time of day, `HH:MM` or `HH:MM:SS`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Time(String);

impl Time {
    /// From `HHMM` or `HHMMSS`. Decimal seconds are not represented (the segment stays whole
    /// in `extensions` instead).
    pub fn from_edi(text: &str) -> Option<Time> {
        let (h, m, s) = Time::edi_parts(text)?;
        Some(Time(match s {
            Some(s) => format!("{h:02}:{m:02}:{s:02}"),
            None => format!("{h:02}:{m:02}"),
        }))
    }

    /// Whether `text` is a time `from_edi` reads; without building it, for validation.
    pub fn is_edi(text: &str) -> bool {
        Time::edi_parts(text).is_some()
    }

    fn edi_parts(text: &str) -> Option<(u32, u32, Option<u32>)> {
        if !(text.len() == 4 || text.len() == 6) || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (h, m) = (number(&text.as_bytes()[..2]), number(&text.as_bytes()[2..4]));
        let s = (text.len() == 6).then(|| number(&text.as_bytes()[4..]));
        (h <= 23 && m <= 59 && s.is_none_or(|s| s <= 59)).then_some((h, m, s))
    }

    pub fn parse_iso(text: &str) -> Option<Time> {
        let digits: String = text.split(':').collect();
        let parts = text.split(':').count();
        if !(parts == 2 || parts == 3) || text.len() != parts * 3 - 1 {
            return None;
        }
        Time::from_edi(&digits)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `HHMM` or `HHMMSS`.
    pub fn to_edi(&self) -> String {
        self.0.replace(':', "")
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Time::parse_iso(&text).ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not an HH:MM[:SS] time")))
    }
}

impl JsonSchema for Time {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Time".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "pattern": "^[0-9]{2}:[0-9]{2}(:[0-9]{2})?$" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Validation's checks agree with what translation reads.
        #[test]
        fn validation_agrees_with_reading(text in "[0-9]{0,9}|[0-9 a-]{4,8}") {
            proptest::prop_assert_eq!(Date::is_edi(&text), Date::from_edi(&text).is_some());
            proptest::prop_assert_eq!(Time::is_edi(&text), Time::from_edi(&text).is_some());
        }
    }

    #[test]
    fn dates() {
        assert_eq!(Date::from_edi("20101127").unwrap().as_str(), "2010-11-27");
        assert_eq!(Date::from_edi("040317").unwrap().as_str(), "2004-03-17");
        assert_eq!(Date::from_edi("960807").unwrap().as_str(), "1996-08-07");
        assert!(Date::from_edi("20080543").is_none());
        assert!(Date::from_edi("20230229").is_none());
        assert!(Date::from_edi("20240229").is_some());
        assert!(Date::from_edi("2024022").is_none());
        // The hand-written text: leading zeros in every part, and the YYMMDD century pivot.
        assert_eq!(Date::from_edi("00010203").unwrap().as_str(), "0001-02-03");
        assert_eq!(Date::from_edi("99991231").unwrap().as_str(), "9999-12-31");
        assert_eq!(Date::from_edi("491231").unwrap().as_str(), "2049-12-31");
        assert_eq!(Date::from_edi("500101").unwrap().as_str(), "1950-01-01");
        assert!(Date::from_edi("2024-2-1").is_none());
        assert!(Date::from_edi("2024\u{00e9}01").is_none());
        assert!(Date::from_edi("20241301").is_none());
        assert!(Date::from_edi("20240100").is_none());
        assert_eq!(Date::from_edi("20240101").unwrap().to_ccyymmdd(), "20240101");
        assert_eq!(Date::parse_iso("2026-01-15").unwrap().to_ccyymmdd(), "20260115");
        assert!(Date::parse_iso("2026-1-15").is_none());
    }

    #[test]
    fn times() {
        assert_eq!(Time::from_edi("1719").unwrap().as_str(), "17:19");
        assert_eq!(Time::from_edi("142428").unwrap().as_str(), "14:24:28");
        assert!(Time::from_edi("2460").is_none());
        assert!(Time::from_edi("14242812").is_none());
        assert_eq!(Time::parse_iso("17:19").unwrap().to_edi(), "1719");
        assert!(Time::parse_iso("1719").is_none());
    }
}
