//! Exact decimals for quantities and prices: parsed from the EDI text, written to JSON as a
//! number with the same digits (`12.30` becomes `12.3`, never `12.299999`). No binary float
//! is ever involved: serde_json keeps the number's text (`arbitrary_precision`).

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A normalized exact decimal (trailing zeros dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Decimal(rust_decimal::Decimal);

impl Decimal {
    pub const ZERO: Decimal = Decimal(rust_decimal::Decimal::ZERO);

    /// Parses EDI numeric text: an optional sign, digits, and an optional decimal mark (`.`,
    /// or the EDIFACT interchange's `decimal` mark). No exponent, no grouping.
    pub fn parse_edi(text: &str, decimal_mark: u8) -> Option<Decimal> {
        // Whitespace, ASCII or not, neither starts nor ends with a printable ASCII byte: a
        // value that does (every one validation lets through) has nothing to trim.
        let printable = |b: Option<&u8>| b.is_some_and(u8::is_ascii_graphic);
        let text =
            if printable(text.as_bytes().first()) && printable(text.as_bytes().last()) { text } else { text.trim() };
        let (negative, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        // Fast path: accumulate the digits in 64 bits (19 of them, more than any quantity or
        // price); the text route below handles what does not fit.
        let mut mantissa: u64 = 0;
        let mut scale: u32 = 0;
        let mut seen_digit = false;
        let mut seen_mark = false;
        let mut fits = true;
        for b in digits.bytes() {
            match b {
                b'0'..=b'9' => {
                    seen_digit = true;
                    if seen_mark {
                        scale += 1;
                    }
                    match mantissa.checked_mul(10).and_then(|m| m.checked_add(u64::from(b - b'0'))) {
                        Some(m) => mantissa = m,
                        None => fits = false,
                    }
                }
                b'.' | b',' if (b == decimal_mark || b == b'.') && !seen_mark => seen_mark = true,
                _ => return None,
            }
        }
        if !seen_digit {
            return None;
        }
        if fits && scale <= MAX_SCALE {
            // Normalized here rather than by `normalize`, which divides the 96-bit value: the
            // fraction's trailing zeros dropped (`from_parts` gives zero no sign).
            while scale > 0 && mantissa.is_multiple_of(10) {
                mantissa /= 10;
                scale -= 1;
            }
            let (lo, mid) = (mantissa as u32, (mantissa >> 32) as u32);
            return Some(Decimal(rust_decimal::Decimal::from_parts(lo, mid, 0, negative, scale)));
        }
        let normalized: String = digits.chars().map(|c| if c == ',' { '.' } else { c }).collect();
        let normalized = if normalized.starts_with('.') { format!("0{normalized}") } else { normalized };
        let mut value = rust_decimal::Decimal::from_str_exact(&normalized).ok()?;
        if negative {
            value.set_sign_negative(true);
        }
        Some(Decimal(value.normalize()))
    }

    pub fn from_i64(value: i64) -> Decimal {
        Decimal(rust_decimal::Decimal::from(value))
    }

    pub fn is_integer(&self) -> bool {
        self.0.fract().is_zero()
    }

    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        self.0.checked_add(other.0).map(|v| Decimal(v.normalize()))
    }

    /// The value written with `mark` as decimal mark (for EDIFACT interchanges that declare `,`).
    pub fn to_edi(&self, mark: u8) -> String {
        // Not `to_string`: rendering writes every quantity and price, and the formatter's
        // machinery cost more than the digits.
        let mut buf = [0; TEXT_MAX];
        let text = self.write_text(&mut buf);
        if mark == b'.' {
            text.to_owned()
        } else {
            text.replace('.', &(mark as char).to_string())
        }
    }

    /// Number of significant digits, as X12 counts them for length checks (sign and mark
    /// excluded).
    pub fn digit_count(&self) -> usize {
        self.to_string().bytes().filter(u8::is_ascii_digit).count()
    }
}

/// The most fractional digits `rust_decimal` holds.
const MAX_SCALE: u32 = 28;

/// Room for a sign, 29 digits, a mark and a leading zero.
const TEXT_MAX: usize = 40;

/// The room `Decimal::write_text` needs.
pub(crate) const DECIMAL_TEXT: usize = TEXT_MAX;

impl Decimal {
    /// Writes the plain decimal text (`-12.5`, `0.003`, `120`) into `buf`: the hot path of
    /// every quantity and price in a translation, so no formatter machinery.
    pub(crate) fn write_text(self, buf: &mut [u8; TEXT_MAX]) -> &str {
        // Only ASCII digits, '.' and '-' are written.
        std::str::from_utf8(self.write_ascii(buf)).unwrap_or("0")
    }

    /// `write_text`'s bytes, for writers of bytes (JSON): checking a dozen ASCII bytes as UTF-8
    /// cost as much as writing them.
    fn write_ascii(self, buf: &mut [u8; TEXT_MAX]) -> &[u8] {
        // `normalize` leaves `-0` possible; write it as 0.
        if self.0.is_zero() {
            return b"0";
        }
        let scale = self.0.scale() as usize;
        // The digits, right-aligned; then zeros up to one before the mark (`0.05`).
        let mut at = match u64::try_from(self.0.mantissa().unsigned_abs()) {
            // Nearly every quantity and price: two digits at a time, in 64 bits.
            Ok(small) => write_digits(small, buf),
            Err(_) => {
                // A 128-bit division is a call into the runtime: one digit at a time.
                let (mut magnitude, mut at) = (self.0.mantissa().unsigned_abs(), TEXT_MAX);
                while magnitude > 0 {
                    at -= 1;
                    buf[at] = b'0' + (magnitude % 10) as u8;
                    magnitude /= 10;
                }
                at
            }
        };
        while TEXT_MAX - at <= scale {
            at -= 1;
            buf[at] = b'0';
        }
        if scale > 0 {
            // The whole part moves one place left, and the mark takes its place.
            let mark = TEXT_MAX - scale - 1;
            buf.copy_within(at..=mark, at - 1);
            at -= 1;
            buf[mark] = b'.';
        }
        if self.0.is_sign_negative() {
            at -= 1;
            buf[at] = b'-';
        }
        &buf[at..]
    }
}

/// "00" to "99", for writing two digits at a time.
const DIGIT_PAIRS: [u8; 200] = {
    let mut pairs = [0; 200];
    let mut i = 0;
    while i < 100 {
        pairs[2 * i] = b'0' + (i / 10) as u8;
        pairs[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    pairs
};

/// Writes `value`'s digits so that they end at `buf`'s end; returns where they start.
fn write_digits(mut value: u64, buf: &mut [u8; TEXT_MAX]) -> usize {
    let mut at = TEXT_MAX;
    while value >= 100 {
        let pair = (value % 100) as usize * 2;
        value /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if value >= 10 {
        let pair = value as usize * 2;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + value as u8;
    }
    at
}

impl Decimal {
    /// Appends the value as JSON, as its `Serialize` writes it (a whole number's digits are
    /// its text too).
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.write_ascii(&mut [0; TEXT_MAX]));
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.write_text(&mut [0; TEXT_MAX]))
    }
}

impl FromStr for Decimal {
    type Err = rust_decimal::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        rust_decimal::Decimal::from_str_exact(text).map(|v| Decimal(v.normalize()))
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Whole numbers (most quantities) go out as integers; with arbitrary_precision, a
        // Number built from text is written as that text.
        if self.0.scale() == 0 {
            if let Ok(whole) = i64::try_from(self.0.mantissa()) {
                return serializer.serialize_i64(whole);
            }
        }
        let number =
            serde_json::Number::from_str(self.write_text(&mut [0; TEXT_MAX])).map_err(serde::ser::Error::custom)?;
        number.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    /// Reads the number's own text as it stands in the JSON, borrowed: canonical documents are
    /// always read from bytes in memory (`from_slice`), and a `serde_json::Number` would first
    /// copy every quantity and price into a new string.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&RawValue>::deserialize(deserializer)?;
        Decimal::from_json(raw.get()).map_err(serde::de::Error::custom)
    }
}

impl Decimal {
    /// A JSON value's text as an exact decimal: a number, or the reason it is not one.
    pub(crate) fn from_json(text: &str) -> Result<Decimal, String> {
        if !text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            return Err(format!("{text} is not a number"));
        }
        // Plain decimals take the EDI fast path; JSON also allows exponents (1e3), which
        // rust_decimal's scientific parser reads exactly.
        match Decimal::parse_edi(text, b'.') {
            Some(value) => Ok(value),
            None => rust_decimal::Decimal::from_str_exact(text)
                .or_else(|_| rust_decimal::Decimal::from_scientific(text))
                .map(|value| Decimal(value.normalize()))
                .map_err(|e| format!("{text} is not an exact decimal: {e}")),
        }
    }
}

impl JsonSchema for Decimal {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Decimal".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "number",
            "description": "An exact decimal, written with the digits of the EDI text (trailing zeros dropped)"
        })
    }
}

/// A decimal as a draft line holds it (`LineDraft`): the text it was read from, when the JSON
/// of its value is that very text, or else its value. Most quantities and prices are sent as
/// JSON writes them (`115`, `337.57`), and copying the text costs a fifth of parsing it and
/// writing the value back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Number<'a> {
    Text(&'a str),
    Value(Decimal),
}

impl<'a> Number<'a> {
    /// `text` as `Decimal::parse_edi` reads it with `.` as the decimal mark.
    pub fn read_edi(text: &'a str) -> Option<Number<'a>> {
        if written_as_is(text) {
            return Some(Number::Text(text));
        }
        Decimal::parse_edi(text, b'.').map(Number::Value)
    }

    pub fn value(self) -> Decimal {
        match self {
            // Never the default: the text was read as a decimal (`written_as_is`).
            Number::Text(text) => Decimal::parse_edi(text, b'.').unwrap_or_default(),
            Number::Value(value) => value,
        }
    }

    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Number::Text(text) => out.extend_from_slice(text.as_bytes()),
            Number::Value(value) => value.write_json(out),
        }
    }
}

/// Whether `Decimal::parse_edi(text, b'.')` reads `text` and `write_json` writes it back
/// unchanged: an optional minus, a whole part without leading zeros, an optional fraction
/// not ending in zero, not minus zero, and few enough digits for the 64-bit route.
fn written_as_is(text: &str) -> bool {
    let bytes = text.as_bytes();
    let unsigned = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let (Some(&first), Some(&last)) = (unsigned.first(), unsigned.last()) else { return false };
    if unsigned.len() > 18 {
        return false;
    }
    // One pass: digits and at most one mark.
    let mut mark = None;
    for (at, &b) in unsigned.iter().enumerate() {
        match b {
            b'0'..=b'9' => {}
            b'.' if mark.is_none() => mark = Some(at),
            _ => return false,
        }
    }
    match mark {
        // A fraction, not empty, not ending in zero, after a whole part of one digit or
        // more, which starts with zero only when zero is all of it.
        Some(at) => at > 0 && last != b'0' && last != b'.' && (first != b'0' || at == 1),
        // Zero alone, but not minus zero (written `0`).
        None => first != b'0' || (unsigned.len() == 1 && unsigned.len() == bytes.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_kept_as_text_are_what_their_value_writes() {
        let json = |value: Decimal| {
            let mut out = Vec::new();
            value.write_json(&mut out);
            String::from_utf8(out).unwrap()
        };
        for text in
            ["0", "1", "115", "337.57", "-12.5", "0.05", "0.5", "100", "999999999999999999", "1.000000000000001"]
        {
            assert_eq!(Number::read_edi(text), Some(Number::Text(text)), "{text}");
            assert_eq!(json(Number::read_edi(text).unwrap().value()), text);
        }
        // Written otherwise than sent: read as values.
        for text in
            ["-0", "007", "1.50", "1.", ".5", "+1", " 1", "1 ", "-0.0", "00", "1.0", "9999999999999999999", "1,5"]
        {
            assert!(!matches!(Number::read_edi(text), Some(Number::Text(_))), "{text}");
            assert_eq!(Number::read_edi(text).map(Number::value), Decimal::parse_edi(text, b'.'), "{text}");
        }
        // Every short text of these bytes: kept as text exactly when its value writes it back.
        let alphabet = [b'0', b'1', b'9', b'.', b'-', b'+', b' ', b','];
        for len in 1..=5 {
            for mut n in 0..alphabet.len().pow(len) {
                let text: String = (0..len)
                    .map(|_| {
                        let b = alphabet[n % alphabet.len()];
                        n /= alphabet.len();
                        b as char
                    })
                    .collect();
                let parsed = Decimal::parse_edi(&text, b'.');
                let kept = matches!(Number::read_edi(&text), Some(Number::Text(_)));
                assert_eq!(kept, parsed.is_some_and(|v| json(v) == text), "{text:?}");
                assert_eq!(Number::read_edi(&text).map(Number::value), parsed, "{text:?}");
            }
        }
    }

    #[test]
    fn parses_edi_numbers_exactly() {
        let d = |t: &str| Decimal::parse_edi(t, b'.').map(|d| d.to_string());
        assert_eq!(d("12.30").as_deref(), Some("12.3"));
        assert_eq!(d("120").as_deref(), Some("120"));
        assert_eq!(d(".5").as_deref(), Some("0.5"));
        assert_eq!(d("-7.250").as_deref(), Some("-7.25"));
        assert_eq!(d("121212121212.121").as_deref(), Some("121212121212.121"));
        assert_eq!(d("0.00").as_deref(), Some("0"));
        assert_eq!(d("1020A"), None);
        assert_eq!(d("$1.179"), None);
        assert_eq!(d(""), None);
        assert_eq!(d("1.2.3"), None);
        // Whitespace around a number is trimmed, Unicode's too; inside it, it is not a number.
        assert_eq!(d(" 12.5").as_deref(), Some("12.5"));
        assert_eq!(d("7 ").as_deref(), Some("7"));
        assert_eq!(d("\u{a0}-7\u{2003}").as_deref(), Some("-7"));
        assert_eq!(d("1 2"), None);
        assert_eq!(Decimal::parse_edi("19,9", b',').map(|d| d.to_string()).as_deref(), Some("19.9"));
        assert_eq!(Decimal::parse_edi("19,9", b'.'), None);
    }

    #[test]
    fn json_numbers_keep_their_digits() {
        let value = Decimal::parse_edi("13045.940", b'.').unwrap();
        assert_eq!(serde_json::to_string(&value).unwrap(), "13045.94");
        let back: Decimal = serde_json::from_str("13045.94").unwrap();
        assert_eq!(back, value);
        let big: Decimal = serde_json::from_str("123456789012345.123456789").unwrap();
        assert_eq!(big.to_string(), "123456789012345.123456789");
        let exp: Decimal = serde_json::from_str("1.5e2").unwrap();
        assert_eq!(exp.to_string(), "150");
        let negative_exp: Decimal = serde_json::from_str("-25E-1").unwrap();
        assert_eq!(negative_exp.to_string(), "-2.5");
        let quoted = serde_json::from_str::<Decimal>(r#""12""#).unwrap_err();
        assert!(quoted.to_string().contains(r#""12" is not a number"#), "{quoted}");
        let too_precise = serde_json::from_str::<Decimal>("0.12345678901234567890123456789").unwrap_err();
        assert!(too_precise.to_string().contains("is not an exact decimal"), "{too_precise}");
        assert_eq!(Decimal::parse_edi("19.9", b'.').unwrap().to_edi(b','), "19,9");
    }

    #[test]
    fn edge_values_read_and_write_like_rust_decimal() {
        let d = |t: &str| Decimal::parse_edi(t, b'.').map(|d| d.to_string());
        assert_eq!(d("-0.000").as_deref(), Some("0"));
        assert!(!Decimal::parse_edi("-0.000", b'.').unwrap().0.is_sign_negative(), "zero has no sign");
        assert_eq!(d("0.0000001").as_deref(), Some("0.0000001"));
        assert_eq!(d("79228162514264337593543950335").as_deref(), Some("79228162514264337593543950335"));
        assert_eq!(d("79228162514264337593543950336"), None, "beyond 96 bits");
        assert_eq!(d("1.0000000000000000000000000000000"), None, "more than 28 places");
        assert_eq!(serde_json::to_string(&Decimal::parse_edi("-40", b'.').unwrap()).unwrap(), "-40");
    }

    proptest::proptest! {
        /// The 64-bit fast path reads what `rust_decimal` reads, normalized: up to 30 digits,
        /// leading and trailing zeros, both signs.
        #[test]
        fn edi_text_reads_as_rust_decimal_reads_it(
            sign in "[-+]?", whole in "0{0,3}[0-9]{1,18}", fraction in proptest::option::of("[0-9]{1,9}0{0,3}")
        ) {
            let text = match &fraction {
                Some(fraction) => format!("{sign}{whole}.{fraction}"),
                None => format!("{sign}{whole}"),
            };
            let expected = rust_decimal::Decimal::from_str_exact(&text).ok().map(|v| Decimal(v.normalize()));
            let parsed = Decimal::parse_edi(&text, b'.');
            proptest::prop_assert_eq!(parsed, expected);
            // Equal values, and the same digits and sign: zero has none.
            proptest::prop_assert_eq!(parsed.map(|d| d.to_string()), expected.map(|d| d.to_string()));
            proptest::prop_assert_eq!(parsed.map(|d| d.0.is_sign_negative()), expected.map(|d| d.0.is_sign_negative()));
        }

        /// Beyond 64 bits too (the digits are written another way there), with up to 28
        /// places.
        #[test]
        fn wide_text_matches_rust_decimal(mantissa in -(1i128 << 96) + 1..(1i128 << 96), scale in 0u32..=28) {
            let value = Decimal(rust_decimal::Decimal::from_i128_with_scale(mantissa, scale).normalize());
            let expected = if value.0.is_zero() { "0".to_owned() } else { value.0.to_string() };
            proptest::prop_assert_eq!(value.to_string(), expected);
        }

        #[test]
        fn text_matches_rust_decimal(mantissa in proptest::num::i64::ANY, scale in 0u32..=18) {
            let value = Decimal(rust_decimal::Decimal::new(mantissa, scale).normalize());
            let expected = if value.0.is_zero() { "0".to_owned() } else { value.0.to_string() };
            proptest::prop_assert_eq!(value.to_string(), expected.clone());
            proptest::prop_assert_eq!(Decimal::parse_edi(&expected, b'.'), Some(value));
            proptest::prop_assert_eq!(serde_json::to_string(&value).unwrap(), expected);
        }
    }
}
