//! X12 to canonical: 850, 855 and 856, in 004010 and 005010 as retail and distribution use
//! them (VICS-style).
//!
//! Segment tags are matched as bytes (`b"PO1"`): `Tag::as_str` checks the tag as UTF-8, and
//! doing that for every match of every segment was 4% of `crossdock translate`.

use std::borrow::Cow;

use crossdock_parsers::Segment;

use super::dictionary::{self as d, SegmentDef};
use super::elements::Elements;
use super::error::DataErrorKind;
use super::{extension, only, opt, text, texts, validate, vocab, Rank, SetContext};
use crate::canonical::json_writer::PurchaseOrderStream;
use crate::canonical::purchase_order::{DraftItemId, LineDraft, PackagingDraft};
use crate::canonical::ship_notice::{Carrier, Packaging, ShipNoticeTotals};
use crate::canonical::{
    Address, Contact, Date, Decimal, Item, Note, Number, Order, Pack, Party, PartyId, PurchaseOrder, PurchaseOrderAck,
    PurchaseOrderAckLine, Reference, ShipNotice, Standard, Time, Totals,
};

type Seg<'a> = (u32, Segment<'a>);

/// Validates a mapped segment and returns its element texts, or `None` (after recording the
/// errors) when it is invalid. A segment of plain text with no problem is checked as it is
/// cut (`validate::x12_cut_into`); any other is read into texts and checked by `validate::x12`,
/// which reports what is wrong.
fn checked<'a>(cx: &mut SetContext<'_>, seg: &Seg<'a>, def: &SegmentDef) -> Option<Elements<'a>> {
    let mut elements = Elements::new();
    checked_into(cx, seg, def, &mut elements).then_some(elements)
}

/// `checked` into `elements`, for the maps of the segments every line has (PO1, PID, PO4):
/// they cut into one `Elements` of their own rather than have one copied to them
/// (`validate::x12_cut_into`). Whether the segment is valid.
fn checked_into<'a>(cx: &mut SetContext<'_>, seg: &Seg<'a>, def: &SegmentDef, elements: &mut Elements<'a>) -> bool {
    let segment = &seg.1;
    if let Some(text) = segment.plain_text() {
        if validate::x12_cut_into(def, text, segment.delimiters().element, elements) {
            return true;
        }
    }
    let values = texts(segment);
    let valid = validate::x12(cx, segment, seg.0, def, &values);
    if valid {
        *elements = Elements::decoded(values);
    }
    valid
}

fn decimal(values: &Elements<'_>, position: usize) -> Option<Decimal> {
    values.get(position - 1).and_then(|v| Decimal::parse_edi(v, b'.'))
}

/// A decimal kept as its text when JSON writes it so (`Number`).
fn number<'a>(values: &Elements<'a>, position: usize) -> Option<Number<'a>> {
    match values.text(position - 1)? {
        Cow::Borrowed(text) => Number::read_edi(text),
        Cow::Owned(text) => Decimal::parse_edi(&text, b'.').map(Number::Value),
    }
}

fn date(values: &Elements<'_>, position: usize) -> Option<Date> {
    values.get(position - 1).and_then(Date::from_edi)
}

/// REF: qualifier, value, description.
fn reference(cx: &mut SetContext<'_>, seg: &Seg<'_>) -> Option<Reference> {
    let v = checked(cx, seg, &d::REF)?;
    only(&v, |i| i <= 3).then(|| Reference {
        qualifier: v[0].to_string(),
        value: opt(&v, 2).unwrap_or_default(),
        description: opt(&v, 3),
    })
}

/// PER: function, name, and up to three numbers of which each of TE, EM, FX at most once.
fn contact(cx: &mut SetContext<'_>, seg: &Seg<'_>) -> Option<Contact> {
    let v = checked(cx, seg, &d::PER)?;
    if !only(&v, |i| i <= 8) {
        return None;
    }
    let mut contact = Contact { function_code: opt(&v, 1), name: opt(&v, 2), ..Contact::default() };
    for pair in [3, 5, 7] {
        let (Some(qualifier), Some(number)) = (opt(&v, pair), opt(&v, pair + 1)) else { continue };
        let slot = match qualifier.as_str() {
            "TE" => &mut contact.phone,
            "EM" => &mut contact.email,
            "FX" => &mut contact.fax,
            _ => return None,
        };
        if slot.is_some() {
            return None;
        }
        *slot = Some(number);
    }
    Some(contact)
}

/// MSG or NTE as a note.
fn note(cx: &mut SetContext<'_>, seg: &Seg<'_>) -> Option<Note> {
    match seg.1.tag().as_bytes() {
        b"MSG" => {
            let v = checked(cx, seg, &d::MSG)?;
            only(&v, |i| i == 1).then(|| Note { text: v[0].to_string(), code: None })
        }
        _ => {
            let v = checked(cx, seg, &d::NTE)?;
            only(&v, |i| i <= 2).then(|| Note { text: opt(&v, 2).unwrap_or_default(), code: opt(&v, 1) })
        }
    }
}

/// N1: the start of a party.
fn party(cx: &mut SetContext<'_>, seg: &Seg<'_>) -> Option<Party> {
    let v = checked(cx, seg, &d::N1)?;
    if !only(&v, |i| i <= 4) {
        return None;
    }
    let code = v[0].to_string();
    Some(Party {
        role: vocab::role(Standard::X12, &code),
        role_code: Some(code),
        name: opt(&v, 2),
        id: opt(&v, 3).map(|qualifier| PartyId { qualifier, value: opt(&v, 4).unwrap_or_default(), code_list: None }),
        ..Party::default()
    })
}

/// Segments of the 850/855 N1 loop the model keeps whole in the party.
const ORDER_PARTY_EXTRAS: &[&[u8]] = &[b"NX2", b"SI", b"FOB", b"TD1", b"TD5", b"TD3", b"TD4", b"PKG"];
/// Segments of the 856 N1 loop the model keeps whole in the party.
const SHIPMENT_PARTY_EXTRAS: &[&[u8]] = &[b"FOB"];

/// A segment of an open N1 loop: mapped into the party, or kept in its extensions. `false`
/// when the segment does not belong to the loop.
fn party_segment(cx: &mut SetContext<'_>, party: &mut Party, rank: &mut Rank, seg: &Seg<'_>, extras: &[&[u8]]) -> bool {
    let tag = seg.1.tag();
    let in_order = match tag.as_bytes() {
        b"N2" => rank.admit(1),
        b"N3" => rank.admit(2),
        b"N4" => rank.admit(3),
        b"REF" => rank.admit(4),
        b"PER" => rank.admit(5),
        _ => true,
    };
    // Names and address lines render two per segment: a short segment may only be the last.
    let names_full = party.additional_names.len().is_multiple_of(2);
    let lines_full = party.address.as_ref().is_none_or(|a| a.lines.len() % 2 == 0);
    let mapped = match tag.as_bytes() {
        _ if !in_order && matches!(tag.as_bytes(), b"N2" | b"N3" | b"N4" | b"REF" | b"PER") => None,
        b"N2" if !names_full => None,
        b"N3" if !lines_full => None,
        b"N2" => checked(cx, seg, &d::N2).filter(|v| only(v, |i| i <= 2)).map(|v| {
            party.additional_names.extend(v.iter().filter(|n| !n.is_empty()).map(|n| n.to_string()));
        }),
        b"N3" => {
            let address = party.address.get_or_insert_with(Address::default);
            // Address lines after the city would come back in another order: keep them whole.
            let ordered = address.city.is_none() && address.region.is_none() && address.postal_code.is_none();
            checked(cx, seg, &d::N3).filter(|v| ordered && only(v, |i| i <= 2) && v.len() <= 2).map(|v| {
                address.lines.extend(v.iter().filter(|l| !l.is_empty()).map(|l| l.to_string()));
            })
        }
        b"N4" => {
            let fresh = party.address.as_ref().is_none_or(|a| {
                a.city.is_none() && a.region.is_none() && a.postal_code.is_none() && a.country.is_none()
            });
            checked(cx, seg, &d::N4).filter(|v| fresh && only(v, |i| i <= 4)).map(|v| {
                let address = party.address.get_or_insert_with(Address::default);
                address.city = opt(&v, 1);
                address.region = opt(&v, 2);
                address.postal_code = opt(&v, 3);
                address.country = opt(&v, 4);
            })
        }
        b"PER" => contact(cx, seg).map(|c| party.contacts.push(c)),
        b"REF" => reference(cx, seg).map(|r| party.references.push(r)),
        other if extras.contains(&other) => None,
        _ => return false,
    };
    if mapped.is_none() {
        party.extensions.push(extension(&seg.1, seg.0));
    }
    // An empty address (an N3 that could not be mapped) is dropped again.
    if party.address.as_ref().is_some_and(Address::is_empty) {
        party.address = None;
    }
    true
}

/// Product/service id pairs (qualifier at `from`, id at `from + 1`, up to `to`), with our
/// item id from the partner's cross-reference.
fn item_ids<'a>(cx: &SetContext<'_>, v: &Elements<'a>, from: usize, to: usize, ids: &mut Vec<DraftItemId<'a>>) {
    ids.reserve((to.min(v.len() + 1).saturating_sub(from)).div_ceil(2));
    let mut position = from;
    // Up to the last element sent: PO1 has room for ten pairs, a line fills two or three.
    while position < to && position < v.len() {
        if let (Some(qualifier), Some(value)) = (text(v, position), text(v, position + 1)) {
            let mut kind = vocab::item_id_key(Standard::X12, &qualifier);
            // A qualifier sent twice keeps both: the second as `vendor#2`.
            if ids.iter().any(|id| id.kind == kind) {
                let base = std::mem::take(&mut kind);
                let mut n = 2;
                loop {
                    kind = format!("{base}#{n}").into();
                    if !ids.iter().any(|id| id.kind == kind) {
                        break;
                    }
                    n += 1;
                }
            }
            ids.push(DraftItemId { kind, code: Some(qualifier), value: Some(value) });
        }
        position += 2;
    }
    if let Some(xref) = cx.xref {
        xref.items_inbound_draft(ids);
    }
}

/// PO4 as packaging details, when it holds nothing beyond PO413.
fn packaging<'a>(cx: &mut SetContext<'_>, seg: &Seg<'a>) -> Option<PackagingDraft<'a>> {
    let mut packaging = None;
    packaging_into(cx, seg, &mut packaging);
    packaging
}

/// `packaging` into `slot` when it is empty; `false` (the segment kept whole) when it is
/// not, or the PO4 is invalid or holds more. Filled in place: a draft returned, 300 bytes,
/// was copied right after its fields were written. The segment is validated either way.
fn packaging_into<'a>(cx: &mut SetContext<'_>, seg: &Seg<'a>, slot: &mut Option<PackagingDraft<'a>>) -> bool {
    let mut elements = Elements::new();
    if !checked_into(cx, seg, &d::PO4, &mut elements) {
        return false;
    }
    let v = &elements;
    if slot.is_some() || !only(v, |i| i <= 13) {
        return false;
    }
    let p = slot.insert(PackagingDraft::default());
    p.pack = number(v, 1);
    p.size = number(v, 2);
    p.size_uom = text(v, 3);
    // Past the elements sent the fields stay empty: a PO4 nearly always sends the first three
    // of its thirteen, and asking for the other ten was a tenth of the line's work.
    if v.len() <= 3 {
        return true;
    }
    p.packaging_code = text(v, 4);
    p.weight_qualifier = text(v, 5);
    p.gross_weight = number(v, 6);
    p.weight_uom = text(v, 7);
    p.gross_volume = number(v, 8);
    p.volume_uom = text(v, 9);
    p.length = number(v, 10);
    p.width = number(v, 11);
    p.height = number(v, 12);
    p.dimension_uom = text(v, 13);
    true
}

/// DTM with a date and nothing else: `(qualifier, date, time)`.
fn date_time(cx: &mut SetContext<'_>, seg: &Seg<'_>, allow_time: bool) -> Option<(String, Date, Option<Time>)> {
    let v = checked(cx, seg, &d::DTM)?;
    let covered = if allow_time { 3 } else { 2 };
    if !only(&v, |i| i <= covered) {
        return None;
    }
    let time = match opt(&v, 3) {
        Some(t) => Some(Time::from_edi(&t)?),
        None => None,
    };
    Some((v[0].to_string(), date(&v, 2)?, time))
}

/// Sets a single-valued field if it is empty; `false` (keep the segment whole) otherwise.
fn set_once<T>(slot: &mut Option<T>, value: T) -> bool {
    if slot.is_some() {
        return false;
    }
    *slot = Some(value);
    true
}

fn totals_ctt(cx: &mut SetContext<'_>, seg: &Seg<'_>, totals: &mut Option<Totals>) -> bool {
    let Some(v) = checked(cx, seg, &d::CTT) else { return false };
    let t = totals.get_or_insert_with(Totals::default);
    if !only(&v, |i| i <= 2) || t.line_count.is_some() {
        return false;
    }
    t.line_count = decimal(&v, 1);
    t.quantity = decimal(&v, 2);
    true
}

fn totals_amt(cx: &mut SetContext<'_>, seg: &Seg<'_>, totals: &mut Option<Totals>) -> bool {
    let Some(v) = checked(cx, seg, &d::AMT) else { return false };
    let t = totals.get_or_insert_with(Totals::default);
    if !only(&v, |i| i <= 2) || t.amount.is_some() {
        return false;
    }
    t.amount = decimal(&v, 2);
    t.amount_qualifier = opt(&v, 1);
    true
}

/// Where segments go while a map walks a transaction set.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Header,
    Party,
    Line,
    /// After the lines: CTT, AMT.
    Summary,
}

// ---- 850 --------------------------------------------------------------------------------

/// The purchase order of an 850. Its lines go to `stream` as each is complete, when given,
/// rather than into the document's `lines`.
pub(crate) fn purchase_order<'a>(
    cx: &mut SetContext<'_>,
    segments: &[Seg<'a>],
    mut stream: Option<&mut PurchaseOrderStream<'_, '_>>,
) -> PurchaseOrder {
    let mut po = PurchaseOrder::default();
    // The PO1 loop being read; a line is complete when the next PO1 comes, or the set ends.
    let mut line: Option<LineDraft<'a>> = None;
    let mut lines = 0;
    let mut seen_beg = false;
    let mut scope = Scope::Header;
    // Parties of the header, or of the current line (kept whole there: the model has none).
    let mut party: Option<Party> = None;
    let mut party_rank = Rank::default();
    let mut rank = Rank::default();
    let mut line_rank = Rank::default();
    for seg in segments {
        let tag = seg.1.tag();
        if scope == Scope::Party {
            if let Some(p) = party.as_mut() {
                if party_segment(cx, p, &mut party_rank, seg, ORDER_PARTY_EXTRAS) {
                    continue;
                }
            }
            po.parties.extend(party.take());
            scope = Scope::Header;
        }
        let mapped = match tag.as_bytes() {
            b"BEG" if !seen_beg => {
                seen_beg = true;
                beg(cx, seg, &mut po)
            }
            b"BEG" => {
                let kind = DataErrorKind::SegmentRepeated { segment: "BEG".into(), max: 1, found: 2 };
                cx.error(kind, &seg.1, seg.0, None, None, None);
                true
            }
            b"CUR" if scope == Scope::Header && rank.admit(2) => checked(cx, seg, &d::CUR)
                .filter(|v| only(v, |i| i <= 2) && &v[0] == "BY")
                .is_some_and(|v| set_once(&mut po.currency, v[1].to_string())),
            b"REF" if scope == Scope::Header && rank.admit(3) => {
                reference(cx, seg).map(|r| po.references.push(r)).is_some()
            }
            b"PER" if scope == Scope::Header && rank.admit(4) => {
                contact(cx, seg).map(|c| po.contacts.push(c)).is_some()
            }
            b"MSG" | b"NTE" if scope == Scope::Header && rank.admit(6) => {
                note(cx, seg).map(|n| po.notes.push(n)).is_some()
            }
            b"DTM" if scope == Scope::Header && rank.admit(5) => match date_time(cx, seg, false) {
                Some((q, date, _)) => match q.as_str() {
                    "002" => set_once(&mut po.requested_delivery_date, date),
                    "010" => set_once(&mut po.requested_ship_date, date),
                    "001" => set_once(&mut po.cancel_after_date, date),
                    _ => false,
                },
                None => false,
            },
            b"N1" if scope == Scope::Header && rank.admit(7) => match self::party(cx, seg) {
                Some(p) => {
                    party = Some(p);
                    party_rank = Rank::default();
                    scope = Scope::Party;
                    true
                }
                None => false,
            },
            b"PO1" => {
                scope = Scope::Line;
                rank.admit(8);
                line_rank = Rank::default();
                complete_line(&mut po, &mut line, &mut stream);
                lines += 1;
                // The draft of the line before is reused: its item ids keep their room.
                let draft = line.get_or_insert_default();
                draft.clear();
                po1(cx, seg, draft)
            }
            b"PID" | b"PO4" | b"REF" | b"DTM" if scope == Scope::Line => {
                let Some(line) = line.as_mut() else { continue };
                let order = match tag.as_bytes() {
                    b"PID" => 1,
                    b"PO4" => 2,
                    b"REF" => 3,
                    _ => 4,
                };
                line_rank.admit(order) && line_segment(cx, seg, line)
            }
            b"CTT" if rank.admit(9) => {
                scope = Scope::Summary;
                totals_ctt(cx, seg, &mut po.totals)
            }
            b"AMT" if scope == Scope::Summary && rank.admit(10) => totals_amt(cx, seg, &mut po.totals),
            _ => false,
        };
        if !mapped {
            let ext = extension(&seg.1, seg.0);
            match (scope, line.as_mut()) {
                (Scope::Line, Some(line)) => line.extensions.to_mut().push(ext),
                _ => po.extensions.push(ext),
            }
        }
    }
    po.parties.extend(party.take());
    complete_line(&mut po, &mut line, &mut stream);
    if po.totals.as_ref().is_some_and(Totals::is_empty) {
        po.totals = None;
    }
    if !seen_beg {
        cx.missing("BEG", "beginning segment for purchase order", segments.first(), 2);
    }
    if lines == 0 && seen_beg {
        let last = segments.last().map(|s| s.0 + 1).unwrap_or(2);
        cx.missing("PO1", "baseline item data", None, last);
    }
    po
}

fn beg(cx: &mut SetContext<'_>, seg: &Seg<'_>, po: &mut PurchaseOrder) -> bool {
    let Some(v) = checked(cx, seg, &d::BEG) else { return true };
    let purpose_code = v[0].to_string();
    po.purpose = Some(vocab::purpose(Standard::X12, &purpose_code));
    po.purpose_code = Some(purpose_code);
    po.order_type_code = opt(&v, 2);
    po.po_number = v[2].to_string();
    po.release_number = opt(&v, 4);
    po.po_date = date(&v, 5);
    po.contract_number = opt(&v, 6);
    po.acknowledgment_type_code = opt(&v, 7);
    po.invoice_type_code = opt(&v, 8);
    po.contract_type_code = opt(&v, 9);
    po.purchase_category_code = opt(&v, 10);
    po.security_level_code = opt(&v, 11);
    po.transaction_type_code = opt(&v, 12);
    true
}

/// A line read: into the stream (the draft stays, to be reused), or into the document.
fn complete_line<'a>(
    po: &mut PurchaseOrder,
    line: &mut Option<LineDraft<'a>>,
    stream: &mut Option<&mut PurchaseOrderStream<'_, '_>>,
) {
    match stream {
        Some(stream) => {
            if let Some(line) = line {
                stream.line(po, line);
            }
        }
        None => po.lines.extend(line.take().map(LineDraft::into_line)),
    }
}

/// PO1 into `line`, a clear draft; `false` (the line stays empty) when it is invalid.
fn po1<'a>(cx: &mut SetContext<'_>, seg: &Seg<'a>, line: &mut LineDraft<'a>) -> bool {
    let mut elements = Elements::new();
    if !checked_into(cx, seg, &d::PO1, &mut elements) {
        return false;
    }
    let v = &elements;
    let uom_code = text(v, 3);
    line.line_number = text(v, 1);
    line.quantity = number(v, 2);
    line.uom = uom_code.as_ref().map(|code| match cx.xref.and_then(|x| x.uom_inbound(code)) {
        Some(ours) => Cow::Owned(ours.to_owned()),
        None => code.clone(),
    });
    line.uom_code = uom_code;
    line.unit_price = number(v, 4);
    line.price_basis = text(v, 5);
    item_ids(cx, v, 6, 25, &mut line.item_ids);
    true
}

/// PID, PO4, DTM, REF of a PO1 loop.
fn line_segment<'a>(cx: &mut SetContext<'_>, seg: &Seg<'a>, line: &mut LineDraft<'a>) -> bool {
    match seg.1.tag().as_bytes() {
        b"PID" => description(cx, seg).is_some_and(|text| set_once(&mut line.description, text)),
        b"PO4" => packaging_into(cx, seg, &mut line.packaging),
        b"DTM" => match date_time(cx, seg, false) {
            Some((q, date, _)) if q == "002" => set_once(&mut line.requested_delivery_date, Cow::Owned(date)),
            _ => false,
        },
        b"REF" => reference(cx, seg).map(|r| line.references.to_mut().push(r)).is_some(),
        _ => false,
    }
}

/// PID*F****text: a free-form description.
fn description<'a>(cx: &mut SetContext<'_>, seg: &Seg<'a>) -> Option<Cow<'a, str>> {
    let mut elements = Elements::new();
    if !checked_into(cx, seg, &d::PID, &mut elements) {
        return None;
    }
    let v = &elements;
    (&v[0] == "F" && only(v, |i| i == 1 || i == 5)).then(|| text(v, 5)).flatten()
}

// ---- 855 --------------------------------------------------------------------------------

pub(crate) fn purchase_order_ack(cx: &mut SetContext<'_>, segments: &[Seg<'_>]) -> PurchaseOrderAck {
    let mut ack = PurchaseOrderAck::default();
    let mut seen_bak = false;
    let mut scope = Scope::Header;
    let mut party: Option<Party> = None;
    let mut party_rank = Rank::default();
    let mut rank = Rank::default();
    let mut line_rank = Rank::default();
    for seg in segments {
        let tag = seg.1.tag();
        if scope == Scope::Party {
            if let Some(p) = party.as_mut() {
                if party_segment(cx, p, &mut party_rank, seg, ORDER_PARTY_EXTRAS) {
                    continue;
                }
            }
            ack.parties.extend(party.take());
            scope = Scope::Header;
        }
        let mapped = match tag.as_bytes() {
            b"BAK" if !seen_bak => {
                seen_bak = true;
                bak(cx, seg, &mut ack)
            }
            b"CUR" if scope == Scope::Header && rank.admit(2) => checked(cx, seg, &d::CUR)
                .filter(|v| only(v, |i| i <= 2) && &v[0] == "BY")
                .is_some_and(|v| set_once(&mut ack.currency, v[1].to_string())),
            b"REF" if scope == Scope::Header && rank.admit(3) => {
                reference(cx, seg).map(|r| ack.references.push(r)).is_some()
            }
            b"PER" if scope == Scope::Header && rank.admit(4) => {
                contact(cx, seg).map(|c| ack.contacts.push(c)).is_some()
            }
            b"MSG" | b"NTE" if scope == Scope::Header && rank.admit(5) => {
                note(cx, seg).map(|n| ack.notes.push(n)).is_some()
            }
            b"N1" if scope == Scope::Header && rank.admit(6) => match self::party(cx, seg) {
                Some(p) => {
                    party = Some(p);
                    party_rank = Rank::default();
                    scope = Scope::Party;
                    true
                }
                None => false,
            },
            b"PO1" => {
                scope = Scope::Line;
                rank.admit(7);
                line_rank = Rank::default();
                let mut draft = LineDraft::default();
                let line = po1(cx, seg, &mut draft).then(|| {
                    let l = draft.into_line();
                    PurchaseOrderAckLine {
                        line_number: l.line_number,
                        quantity: l.quantity,
                        uom: l.uom,
                        uom_code: l.uom_code,
                        unit_price: l.unit_price,
                        price_basis: l.price_basis,
                        item_ids: l.item_ids,
                        item_id_codes: l.item_id_codes,
                        ..PurchaseOrderAckLine::default()
                    }
                });
                let mapped = line.is_some();
                ack.lines.push(line.unwrap_or_default());
                mapped
            }
            b"PID" | b"ACK" | b"REF" if scope == Scope::Line => {
                let Some(line) = ack.lines.last_mut() else { continue };
                let order = match tag.as_bytes() {
                    b"PID" => 1,
                    b"REF" => 2,
                    _ => 3,
                };
                line_rank.admit(order)
                    && match tag.as_bytes() {
                        b"PID" => {
                            description(cx, seg).is_some_and(|text| set_once(&mut line.description, text.into_owned()))
                        }
                        b"ACK" => ack_line(cx, seg, line),
                        _ => reference(cx, seg).map(|r| line.references.push(r)).is_some(),
                    }
            }
            b"CTT" if rank.admit(8) => {
                scope = Scope::Summary;
                totals_ctt(cx, seg, &mut ack.totals)
            }
            b"AMT" if scope == Scope::Summary && rank.admit(9) => totals_amt(cx, seg, &mut ack.totals),
            _ => false,
        };
        if !mapped {
            let ext = extension(&seg.1, seg.0);
            match (scope, ack.lines.last_mut()) {
                (Scope::Line, Some(line)) => line.extensions.push(ext),
                _ => ack.extensions.push(ext),
            }
        }
    }
    ack.parties.extend(party.take());
    if ack.totals.as_ref().is_some_and(Totals::is_empty) {
        ack.totals = None;
    }
    if !seen_bak {
        cx.missing("BAK", "beginning segment for purchase order acknowledgment", segments.first(), 2);
    }
    ack
}

fn bak(cx: &mut SetContext<'_>, seg: &Seg<'_>, ack: &mut PurchaseOrderAck) -> bool {
    let Some(v) = checked(cx, seg, &d::BAK) else { return true };
    let purpose_code = v[0].to_string();
    ack.purpose = Some(vocab::purpose(Standard::X12, &purpose_code));
    ack.purpose_code = Some(purpose_code);
    let ack_type_code = v[1].to_string();
    ack.ack_type = Some(vocab::ack_type(Standard::X12, &ack_type_code));
    ack.ack_type_code = Some(ack_type_code);
    ack.po_number = v[2].to_string();
    ack.po_date = date(&v, 4);
    ack.release_number = opt(&v, 5);
    ack.request_reference_number = opt(&v, 6);
    ack.contract_number = opt(&v, 7);
    ack.ack_number = opt(&v, 8);
    ack.ack_date = date(&v, 9);
    ack.transaction_type_code = opt(&v, 10);
    true
}

/// The first ACK of a line: its status. Further ACKs, or ACKs with product ids, stay whole.
fn ack_line(cx: &mut SetContext<'_>, seg: &Seg<'_>, line: &mut PurchaseOrderAckLine) -> bool {
    let Some(v) = checked(cx, seg, &d::ACK) else { return false };
    if line.status_code.is_some() || !only(&v, |i| i <= 5 || (27..=29).contains(&i)) {
        return false;
    }
    let code = v[0].to_string();
    line.status = Some(vocab::line_status(Standard::X12, &code));
    line.status_code = Some(code);
    line.status_quantity = decimal(&v, 2);
    line.status_uom_code = opt(&v, 3);
    line.scheduled_date_qualifier = opt(&v, 4);
    line.scheduled_date = date(&v, 5);
    line.status_reason_agency = opt(&v, 27);
    line.status_reason_list = opt(&v, 28);
    line.status_reason_code = opt(&v, 29);
    true
}

// ---- 856 --------------------------------------------------------------------------------

/// One HL and what follows it.
struct Node {
    id: String,
    /// Order of the segments mapped in this level (see `Rank`).
    rank: Rank,
    level: String,
    parent: Option<usize>,
    children: Vec<usize>,
    body: NodeBody,
}

enum NodeBody {
    Shipment,
    Order(Order),
    Pack(Pack),
    Item(Item),
}

pub(crate) fn ship_notice(cx: &mut SetContext<'_>, segments: &[Seg<'_>]) -> ShipNotice {
    let mut asn = ShipNotice::default();
    let mut seen_bsn = false;
    let mut nodes: Vec<Node> = Vec::new();
    let mut party: Option<Party> = None;
    let mut party_rank = Rank::default();
    let mut in_summary = false;
    for seg in segments {
        let tag = seg.1.tag();
        // An open N1 loop (shipment or order level) takes what belongs to it.
        if let Some(p) = party.as_mut() {
            if party_segment(cx, p, &mut party_rank, seg, SHIPMENT_PARTY_EXTRAS) {
                continue;
            }
            close_party(&mut asn, &mut nodes, party.take());
        }
        let current = nodes.len().checked_sub(1);
        let mapped = match tag.as_bytes() {
            b"BSN" if !seen_bsn => {
                seen_bsn = true;
                bsn(cx, seg, &mut asn)
            }
            b"HL" => {
                hl(cx, seg, &mut nodes);
                true
            }
            b"CTT" if !in_summary => {
                in_summary = true;
                let Some(v) = checked(cx, seg, &d::CTT) else { continue };
                let fits = only(&v, |i| i <= 2);
                if fits {
                    asn.totals = Some(ShipNoticeTotals { hl_count: decimal(&v, 1), quantity: decimal(&v, 2) });
                }
                fits
            }
            b"DTM"
                if current.is_some_and(|c| matches!(nodes[c].body, NodeBody::Shipment))
                    && !in_summary
                    && nodes[0].rank.admit(4) =>
            {
                match date_time(cx, seg, true) {
                    Some((q, date, time)) => match q.as_str() {
                        "011" => {
                            let fits = asn.shipped_date.is_none();
                            if fits {
                                asn.shipped_date = Some(date);
                                asn.shipped_time = time;
                            }
                            fits
                        }
                        "017" if time.is_none() => set_once(&mut asn.estimated_delivery_date, date),
                        _ => false,
                    },
                    None => false,
                }
            }
            b"N1"
                if current.is_some_and(|c| {
                    let rank = if matches!(nodes[c].body, NodeBody::Shipment) { 6 } else { 3 };
                    matches!(nodes[c].body, NodeBody::Shipment | NodeBody::Order(_)) && nodes[c].rank.admit(rank)
                }) =>
            {
                match self::party(cx, seg) {
                    Some(p) => {
                        party = Some(p);
                        party_rank = Rank::default();
                        true
                    }
                    None => false,
                }
            }
            _ if !in_summary => match current {
                Some(c) => node_segment(cx, seg, &mut asn, &mut nodes[c]),
                None => false,
            },
            _ => false,
        };
        if !mapped {
            let ext = extension(&seg.1, seg.0);
            match current.map(|c| &mut nodes[c].body) {
                Some(NodeBody::Order(order)) if !in_summary => order.extensions.push(ext),
                Some(NodeBody::Pack(pack)) if !in_summary => pack.extensions.push(ext),
                Some(NodeBody::Item(item)) if !in_summary => item.extensions.push(ext),
                _ => asn.extensions.push(ext),
            }
        }
    }
    close_party(&mut asn, &mut nodes, party.take());
    if !seen_bsn {
        cx.missing("BSN", "beginning segment for ship notice", segments.first(), 2);
    }
    if nodes.is_empty() && seen_bsn {
        let last = segments.last().map(|s| s.0 + 1).unwrap_or(3);
        cx.missing("HL", "hierarchical level", None, last);
    }
    if let Err(reason) = assemble(&mut asn, nodes) {
        let kind = DataErrorKind::InvalidHierarchy { reason };
        let location = segments.iter().find(|s| s.1.tag() == "HL").map(|s| cx.location(&s.1, s.0)).unwrap_or_default();
        cx.errors.push(super::DataError::new(kind, location));
    }
    asn
}

fn close_party(asn: &mut ShipNotice, nodes: &mut [Node], party: Option<Party>) {
    let Some(party) = party else { return };
    match nodes.last_mut().map(|n| &mut n.body) {
        Some(NodeBody::Order(order)) => order.parties.push(party),
        _ => asn.parties.push(party),
    }
}

fn bsn(cx: &mut SetContext<'_>, seg: &Seg<'_>, asn: &mut ShipNotice) -> bool {
    let Some(v) = checked(cx, seg, &d::BSN) else { return true };
    let purpose_code = v[0].to_string();
    asn.purpose = Some(vocab::purpose(Standard::X12, &purpose_code));
    asn.purpose_code = Some(purpose_code);
    asn.shipment_id = v[1].to_string();
    asn.notice_date = date(&v, 3);
    // Decimal seconds (HHMMSSdd) are cut: the model's times stop at seconds.
    asn.notice_time = v.get(3).and_then(|t| Time::from_edi(&t[..t.len().min(6)]));
    asn.hierarchy_code = opt(&v, 5);
    asn.transaction_type_code = opt(&v, 6);
    asn.status_reason_code = opt(&v, 7);
    if v.get(3).is_some_and(|t| t.len() > 6) {
        // The model cannot hold the fraction: keep BSN whole too, so nothing is lost.
        asn.extensions.push(extension(&seg.1, seg.0));
    }
    true
}

fn hl(cx: &mut SetContext<'_>, seg: &Seg<'_>, nodes: &mut Vec<Node>) {
    let Some(v) = checked(cx, seg, &d::HL) else {
        // Keep the tree walkable: an invalid HL still opens a node, as an item.
        nodes.push(Node {
            id: String::new(),
            rank: Rank::default(),
            level: "I".into(),
            parent: None,
            children: vec![],
            body: NodeBody::Item(Item::default()),
        });
        return;
    };
    let id = v[0].to_string();
    let level = v[2].to_string();
    let parent_id = opt(&v, 2);
    let parent = parent_id.as_ref().and_then(|p| nodes.iter().rposition(|n| &n.id == p));
    if parent_id.is_some() && parent.is_none() {
        let kind = DataErrorKind::InvalidHierarchy {
            reason: format!("HL {id} names parent {} which does not come before it", parent_id.unwrap_or_default()),
        };
        cx.error(kind, &seg.1, seg.0, Some(2), Some(734), None);
    }
    if nodes.iter().any(|n| n.id == id) {
        let kind = DataErrorKind::InvalidHierarchy { reason: format!("HL id {id} is used twice") };
        cx.error(kind, &seg.1, seg.0, Some(1), Some(628), Some(&id));
    }
    let body = match level.as_str() {
        "S" => NodeBody::Shipment,
        "O" => NodeBody::Order(Order::default()),
        "T" | "P" => NodeBody::Pack(Pack {
            pack_type: if level == "T" { "tare".into() } else { "pack".into() },
            id: Some(id.clone()),
            ..Pack::default()
        }),
        "I" => NodeBody::Item(Item::default()),
        _ => {
            let kind = DataErrorKind::InvalidCode {
                element: "HL03".into(),
                name: "hierarchical level code",
                allowed: "S, O, T, P or I".into(),
                value: level.clone(),
            };
            cx.error(kind, &seg.1, seg.0, Some(3), Some(735), Some(&level));
            NodeBody::Item(Item::default())
        }
    };
    let index = nodes.len();
    if let Some(p) = parent {
        nodes[p].children.push(index);
    }
    nodes.push(Node { id, rank: Rank::default(), level, parent, children: Vec::new(), body });
}

/// A segment inside an HL level.
fn node_segment(cx: &mut SetContext<'_>, seg: &Seg<'_>, asn: &mut ShipNotice, node: &mut Node) -> bool {
    let tag = seg.1.tag();
    let order = match (&node.body, tag.as_bytes()) {
        (NodeBody::Shipment, b"TD1")
        | (NodeBody::Order(_), b"PRF")
        | (NodeBody::Pack(_), b"PO4")
        | (NodeBody::Item(_), b"LIN") => 1,
        (NodeBody::Shipment, b"TD5")
        | (NodeBody::Order(_), b"REF")
        | (NodeBody::Pack(_), b"MAN")
        | (NodeBody::Item(_), b"SN1") => 2,
        (NodeBody::Shipment, b"REF") | (NodeBody::Item(_), b"PID") => 3,
        (NodeBody::Shipment, b"MSG" | b"NTE") => 5,
        (NodeBody::Item(_), b"REF") => 4,
        _ => 0,
    };
    if order > 0 && !node.rank.admit(order) {
        return false;
    }
    match &mut node.body {
        NodeBody::Shipment => match tag.as_bytes() {
            b"TD1" => {
                let Some(v) = checked(cx, seg, &d::TD1) else { return false };
                let fits = only(&v, |i| i <= 2 || (6..=10).contains(&i)) && asn.packaging.is_none();
                if fits {
                    asn.packaging = Some(Packaging {
                        package_code: opt(&v, 1),
                        lading_quantity: decimal(&v, 2),
                        weight_qualifier: opt(&v, 6),
                        gross_weight: decimal(&v, 7),
                        weight_uom: opt(&v, 8),
                        volume: decimal(&v, 9),
                        volume_uom: opt(&v, 10),
                    });
                }
                fits
            }
            b"TD5" => {
                let Some(v) = checked(cx, seg, &d::TD5) else { return false };
                let carrier = asn.carrier.get_or_insert_with(Carrier::default);
                let fits = only(&v, |i| i <= 5)
                    && carrier.scac.is_none()
                    && carrier.name.is_none()
                    && carrier.mode.is_none()
                    && carrier.routing_sequence_code.is_none();
                if fits {
                    let qualifier = opt(&v, 2);
                    carrier.routing_sequence_code = opt(&v, 1);
                    carrier.id_qualifier = qualifier.clone().filter(|q| q != "2");
                    carrier.scac = opt(&v, 3);
                    carrier.mode = opt(&v, 4);
                    carrier.name = opt(&v, 5);
                }
                if asn.carrier.as_ref().is_some_and(|c| c == &Carrier::default()) {
                    asn.carrier = None;
                }
                fits
            }
            b"REF" => match reference(cx, seg) {
                Some(r) if r.description.is_none() && (r.qualifier == "BM" || r.qualifier == "CN") => {
                    let carrier = asn.carrier.get_or_insert_with(Carrier::default);
                    let slot =
                        if r.qualifier == "BM" { &mut carrier.bill_of_lading } else { &mut carrier.tracking_number };
                    if slot.is_some() {
                        asn.references.push(r);
                    } else {
                        *slot = Some(r.value);
                    }
                    true
                }
                Some(r) => {
                    asn.references.push(r);
                    true
                }
                None => false,
            },
            b"MSG" | b"NTE" => note(cx, seg).map(|n| asn.notes.push(n)).is_some(),
            _ => false,
        },
        NodeBody::Order(order) => match tag.as_bytes() {
            b"PRF" => {
                let Some(v) = checked(cx, seg, &d::PRF) else { return false };
                if !order.po_number.is_empty() {
                    return false;
                }
                order.po_number = v[0].to_string();
                order.release_number = opt(&v, 2);
                order.change_sequence = opt(&v, 3);
                order.po_date = date(&v, 4);
                order.assigned_id = opt(&v, 5);
                order.contract_number = opt(&v, 6);
                order.order_type_code = opt(&v, 7);
                true
            }
            b"REF" => reference(cx, seg).map(|r| order.references.push(r)).is_some(),
            _ => false,
        },
        NodeBody::Pack(pack) => match tag.as_bytes() {
            b"MAN" => {
                let Some(v) = checked(cx, seg, &d::MAN) else { return false };
                &v[0] == "GM" && only(&v, |i| i <= 2) && set_once(&mut pack.sscc, v[1].to_string())
            }
            b"PO4" => packaging(cx, seg).is_some_and(|p| set_once(&mut pack.details, p.into_packaging())),
            _ => false,
        },
        NodeBody::Item(item) => match tag.as_bytes() {
            b"LIN" => {
                let Some(v) = checked(cx, seg, &d::LIN) else { return false };
                if !item.item_ids.is_empty() || item.line_number.is_some() {
                    return false;
                }
                item.line_number = opt(&v, 1);
                let mut draft = Vec::new();
                item_ids(cx, &v, 2, 31, &mut draft);
                let (mut ids, mut codes) = DraftItemId::split(draft);
                // A lot number is an attribute of the item, not an id.
                let lot = codes.iter().find(|(_, q)| q.as_str() == "LT").map(|(k, _)| k.to_owned());
                if let Some(key) = lot {
                    codes.remove(&key);
                    item.lot_number = ids.remove(&key);
                }
                item.item_ids = ids;
                item.item_id_codes = codes;
                true
            }
            b"SN1" => {
                let Some(v) = checked(cx, seg, &d::SN1) else { return false };
                if item.quantity_shipped.is_some() {
                    return false;
                }
                let uom_code = opt(&v, 3);
                item.assigned_id = opt(&v, 1);
                item.quantity_shipped = decimal(&v, 2);
                item.uom = uom_code.as_deref().map(|c| cx.our_uom(c));
                item.uom_code = uom_code;
                item.quantity_shipped_to_date = decimal(&v, 4);
                item.quantity_ordered = decimal(&v, 5);
                item.quantity_ordered_uom_code = opt(&v, 6);
                item.ship_status_code = opt(&v, 7);
                item.line_status_code = opt(&v, 8);
                true
            }
            b"PID" => description(cx, seg).is_some_and(|text| set_once(&mut item.description, text.into_owned())),
            b"REF" => reference(cx, seg).map(|r| item.references.push(r)).is_some(),
            _ => false,
        },
    }
}

/// Builds the nested orders / packs / items from the HL nodes.
fn assemble(asn: &mut ShipNotice, mut nodes: Vec<Node>) -> Result<(), String> {
    if nodes.is_empty() {
        return Ok(());
    }
    if nodes[0].level != "S" || nodes[0].parent.is_some() {
        return Err(format!("the first HL must be the shipment (S) level, found {}", nodes[0].level));
    }
    asn.hierarchy = Some(hierarchy(&nodes));
    if asn.hierarchy.as_deref() == Some("S") {
        asn.hierarchy = asn.hierarchy_code.as_deref().map(vocab::hierarchy);
    }
    // Children before parents: take bodies out bottom-up.
    let mut bodies: Vec<Option<NodeBody>> =
        nodes.iter_mut().map(|n| Some(std::mem::replace(&mut n.body, NodeBody::Shipment))).collect();
    for index in (1..nodes.len()).rev() {
        let Some(parent) = nodes[index].parent else {
            return Err(format!("HL {} has no parent; only the first HL may be the root", nodes[index].id));
        };
        let child = bodies[index].take();
        let Some(child) = child else { continue };
        match (bodies[parent].as_mut(), child) {
            (Some(NodeBody::Shipment), NodeBody::Order(order)) => asn.orders.insert(0, order),
            (Some(NodeBody::Shipment), NodeBody::Pack(pack)) => {
                // A tare that only carries orders lives on in those orders' `tare`.
                let carries_orders = nodes[index].children.iter().any(|&c| nodes[c].level == "O");
                if !(carries_orders && pack.packs.is_empty() && pack.items.is_empty()) {
                    asn.packs.insert(0, pack);
                }
            }
            (Some(NodeBody::Shipment), NodeBody::Item(item)) => asn.items.insert(0, item),
            (Some(NodeBody::Order(order)), NodeBody::Pack(pack)) => order.packs.insert(0, pack),
            (Some(NodeBody::Order(order)), NodeBody::Item(item)) => order.items.insert(0, item),
            (Some(NodeBody::Pack(pack)), NodeBody::Pack(child)) => pack.packs.insert(0, child),
            (Some(NodeBody::Pack(pack)), NodeBody::Item(item)) => pack.items.insert(0, item),
            (Some(NodeBody::Item(item)), NodeBody::Pack(pack)) => item.packs.insert(0, pack),
            // A tare above orders (S-T-O-I): the order travels on that tare.
            (Some(NodeBody::Pack(tare)), NodeBody::Order(mut order)) => {
                let mut shared = tare.clone();
                shared.packs.clear();
                shared.items.clear();
                order.tare = Some(Box::new(shared));
                asn.orders.insert(0, order);
            }
            (_, child) => {
                let level = match child {
                    NodeBody::Shipment => "S",
                    NodeBody::Order(_) => "O",
                    NodeBody::Pack(_) => "T/P",
                    NodeBody::Item(_) => "I",
                };
                return Err(format!(
                    "HL {} at level {level} cannot stand under HL {} at level {}",
                    nodes[index].id, nodes[parent].id, nodes[parent].level
                ));
            }
        }
    }
    Ok(())
}

/// The levels along the first path down the tree: `SOPI`, `SOTPI`, `STOI`.
fn hierarchy(nodes: &[Node]) -> String {
    let mut levels = String::new();
    let mut at = 0;
    loop {
        levels.push_str(&nodes[at].level);
        match nodes[at].children.first() {
            Some(&child) => at = child,
            None => break,
        }
    }
    levels
}
