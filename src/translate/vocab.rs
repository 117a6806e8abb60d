//! The code vocabularies of DESIGN.md: raw EDI codes to the words of the canonical model and
//! back. Each table is a list of pairs so both directions read from one place.

use std::borrow::Cow;

use crate::canonical::Standard;

/// BEG01 / BSN01 / BAK01 transaction set purpose.
const X12_PURPOSE: &[(&str, &str)] =
    &[("00", "original"), ("01", "cancellation"), ("04", "change"), ("05", "replace"), ("07", "duplicate")];

/// BGM 1225 message function.
const EDIFACT_PURPOSE: &[(&str, &str)] = &[
    ("9", "original"),
    ("1", "cancellation"),
    ("4", "change"),
    ("5", "replace"),
    ("7", "duplicate"),
    ("29", "accepted"),
    ("27", "rejected"),
];

/// BAK02 acknowledgment type.
const X12_ACK_TYPE: &[(&str, &str)] = &[
    ("AD", "accepted"),
    ("AC", "accepted_with_changes"),
    ("AE", "accepted_with_exceptions"),
    ("AK", "accepted"),
    ("AT", "accepted"),
    ("RD", "rejected"),
    ("RJ", "rejected"),
];

/// ORDRSP BGM 1225 as an acknowledgment type.
const EDIFACT_ACK_TYPE: &[(&str, &str)] = &[("29", "accepted"), ("4", "accepted_with_changes"), ("27", "rejected")];

/// ACK01 line item status.
const X12_LINE_STATUS: &[(&str, &str)] = &[
    ("IA", "accepted"),
    ("IB", "backordered"),
    ("IC", "accepted_with_changes"),
    ("ID", "deleted"),
    ("IP", "price_changed"),
    ("IQ", "quantity_changed"),
    ("IR", "rejected"),
    ("DR", "date_changed"),
    ("IS", "substituted"),
    ("IW", "on_hold"),
];

/// ORDRSP LIN 1229 action request as a line status.
const EDIFACT_LINE_STATUS: &[(&str, &str)] = &[
    ("5", "accepted"),
    ("3", "accepted_with_changes"),
    ("2", "deleted"),
    ("7", "rejected"),
    ("6", "accepted_with_changes"),
];

/// N101 entity identifier.
const X12_ROLE: &[(&str, &str)] = &[
    ("BY", "buyer"),
    ("SE", "seller"),
    ("ST", "ship_to"),
    ("BT", "bill_to"),
    ("SF", "ship_from"),
    ("SU", "supplier"),
    ("RI", "remit_to"),
];

/// NAD 3035 party function.
const EDIFACT_ROLE: &[(&str, &str)] = &[
    ("BY", "buyer"),
    ("SE", "seller"),
    ("SU", "supplier"),
    ("DP", "ship_to"),
    ("ST", "ship_to"),
    ("IV", "bill_to"),
    ("SF", "ship_from"),
];

/// Product/service id qualifiers (X12 235) to `item_ids` keys.
const X12_ITEM_ID: &[(&str, &str)] = &[
    ("BP", "buyer"),
    ("IN", "buyer"),
    ("VP", "vendor"),
    ("VN", "vendor"),
    ("UP", "upc"),
    ("UK", "gtin"),
    ("EN", "ean"),
    ("SK", "sku"),
    ("MG", "manufacturer"),
    ("CB", "catalog"),
];

/// EDIFACT 7143 item type identification to `item_ids` keys.
const EDIFACT_ITEM_ID: &[(&str, &str)] = &[
    ("EN", "ean"),
    ("SRV", "gtin"),
    ("UP", "upc"),
    ("BP", "buyer"),
    ("SA", "vendor"),
    ("VP", "vendor"),
    ("IN", "buyer"),
];

/// BSN05 hierarchical structure.
const X12_HIERARCHY: &[(&str, &str)] = &[("0001", "SOPI"), ("0002", "SOIP"), ("0004", "SOI")];

fn word(table: &[(&str, &'static str)], code: &str) -> Option<&'static str> {
    table.iter().find(|(c, _)| *c == code).map(|(_, w)| *w)
}

fn code(table: &[(&'static str, &str)], word: &str) -> Option<&'static str> {
    table.iter().find(|(_, w)| *w == word).map(|(c, _)| *c)
}

/// `purpose` for a purpose code; unknown codes stay as they are.
pub fn purpose(standard: Standard, raw: &str) -> String {
    let table = if standard == Standard::X12 { X12_PURPOSE } else { EDIFACT_PURPOSE };
    word(table, raw).map(str::to_owned).unwrap_or_else(|| raw.to_owned())
}

/// The code for a `purpose` word (or the word itself when it is a code).
pub fn purpose_code(standard: Standard, purpose: &str) -> String {
    purpose_code_ref(standard, purpose).to_owned()
}

/// `purpose_code`, borrowed.
pub fn purpose_code_ref(standard: Standard, purpose: &str) -> &str {
    let table = if standard == Standard::X12 { X12_PURPOSE } else { EDIFACT_PURPOSE };
    code(table, purpose).unwrap_or(purpose)
}

pub fn ack_type(standard: Standard, raw: &str) -> String {
    let table = if standard == Standard::X12 { X12_ACK_TYPE } else { EDIFACT_ACK_TYPE };
    word(table, raw).map(str::to_owned).unwrap_or_else(|| raw.to_owned())
}

pub fn ack_type_code(standard: Standard, ack_type: &str) -> String {
    let table = if standard == Standard::X12 { X12_ACK_TYPE } else { EDIFACT_ACK_TYPE };
    code(table, ack_type).map(str::to_owned).unwrap_or_else(|| ack_type.to_owned())
}

/// Line status: unknown codes are `other`.
pub fn line_status(standard: Standard, raw: &str) -> String {
    let table = if standard == Standard::X12 { X12_LINE_STATUS } else { EDIFACT_LINE_STATUS };
    word(table, raw).unwrap_or("other").to_owned()
}

pub fn line_status_code(standard: Standard, status: &str) -> Option<&'static str> {
    let table = if standard == Standard::X12 { X12_LINE_STATUS } else { EDIFACT_LINE_STATUS };
    code(table, status)
}

pub fn role(standard: Standard, raw: &str) -> String {
    let table = if standard == Standard::X12 { X12_ROLE } else { EDIFACT_ROLE };
    word(table, raw).map(str::to_owned).unwrap_or_else(|| raw.to_owned())
}

pub fn role_code(standard: Standard, role: &str) -> String {
    role_code_ref(standard, role).to_owned()
}

/// `role_code`, borrowed.
pub fn role_code_ref(standard: Standard, role: &str) -> &str {
    let table = if standard == Standard::X12 { X12_ROLE } else { EDIFACT_ROLE };
    code(table, role).unwrap_or(role)
}

/// The `item_ids` key for a qualifier: the vocabulary's word, or the code in lower case.
pub fn item_id_key(standard: Standard, qualifier: &str) -> Cow<'static, str> {
    let table = if standard == Standard::X12 { X12_ITEM_ID } else { EDIFACT_ITEM_ID };
    word(table, qualifier).map_or_else(|| Cow::Owned(qualifier.to_ascii_lowercase()), Cow::Borrowed)
}

/// The qualifier for an `item_ids` key: the first code of the vocabulary, or the key in
/// upper case.
pub fn item_id_qualifier(standard: Standard, key: &str) -> String {
    item_id_qualifier_ref(standard, key).into_owned()
}

/// `item_id_qualifier`, borrowed unless the key must be put in upper case.
pub fn item_id_qualifier_ref(standard: Standard, key: &str) -> Cow<'_, str> {
    let table = if standard == Standard::X12 { X12_ITEM_ID } else { EDIFACT_ITEM_ID };
    let base = key.split('#').next().unwrap_or(key);
    match code(table, base) {
        Some(code) => Cow::Borrowed(code),
        None if !base.bytes().any(|b| b.is_ascii_lowercase()) => Cow::Borrowed(base),
        None => Cow::Owned(base.to_ascii_uppercase()),
    }
}

/// `hierarchy` from BSN05 when the HL levels cannot say.
pub fn hierarchy(raw: &str) -> String {
    word(X12_HIERARCHY, raw).map(str::to_owned).unwrap_or_else(|| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::ItemIds;

    #[test]
    fn every_item_id_word_is_a_known_kind() {
        // A word ItemIds does not know would still work, but be copied for every line.
        for (_, word) in X12_ITEM_ID.iter().chain(EDIFACT_ITEM_ID) {
            assert!(matches!(ItemIds::kind(word), Cow::Borrowed(_)), "{word}");
        }
        assert!(matches!(item_id_key(Standard::X12, "ZZ"), Cow::Owned(ref key) if key == "zz"));
    }

    #[test]
    fn both_directions() {
        assert_eq!(purpose(Standard::X12, "00"), "original");
        assert_eq!(purpose_code(Standard::X12, "original"), "00");
        assert_eq!(purpose(Standard::Edifact, "9"), "original");
        assert_eq!(purpose(Standard::X12, "06"), "06");
        assert_eq!(purpose_code(Standard::X12, "06"), "06");
        assert_eq!(line_status(Standard::X12, "IB"), "backordered");
        assert_eq!(line_status(Standard::X12, "ZZ"), "other");
        assert_eq!(item_id_key(Standard::X12, "IN"), "buyer");
        assert_eq!(item_id_key(Standard::X12, "B6"), "b6");
        assert_eq!(item_id_qualifier(Standard::X12, "buyer"), "BP");
        assert_eq!(item_id_qualifier(Standard::X12, "b6"), "B6");
        assert_eq!(role(Standard::Edifact, "DP"), "ship_to");
        assert_eq!(role_code(Standard::Edifact, "ship_to"), "DP");
        assert_eq!(role(Standard::X12, "VN"), "VN");
        assert_eq!(ack_type(Standard::X12, "AC"), "accepted_with_changes");
        assert_eq!(hierarchy("0001"), "SOPI");
    }
}
