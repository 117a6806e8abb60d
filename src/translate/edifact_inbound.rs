//! EDIFACT to canonical: ORDERS, ORDRSP and DESADV in D96A and D01B, as EANCOM uses them.

use std::borrow::Cow;

use crossdock_parsers::Segment;

use super::dictionary::{self as d, EdiSegmentDef};
use super::{extension, validate, vocab, Rank, SetContext};
use crate::canonical::ship_notice::{Carrier, Packaging, ShipNoticeTotals};
use crate::canonical::{
    Address, Contact, Date, Decimal, Item, ItemIds, Note, Order, Pack, Party, PartyId, PurchaseOrder, PurchaseOrderAck,
    PurchaseOrderAckLine, PurchaseOrderLine, Reference, ShipNotice, Standard, Time, Totals,
};

type Seg<'a> = (u32, Segment<'a>);

/// A segment's elements, each as the components of its first repetition; `repeated` marks
/// elements sent more than once (syntax version 4), which only COM maps.
struct Fields<'a> {
    elements: Vec<Vec<Cow<'a, str>>>,
    repeated: bool,
}

impl<'a> Fields<'a> {
    fn of(segment: &Segment<'a>) -> Self {
        let mut repeated = false;
        let elements = segment
            .elements()
            .map(|e| {
                let mut repetitions = e.repetitions();
                let first = repetitions.next().map(|r| r.components().map(|c| c.text()).collect()).unwrap_or_default();
                repeated |= repetitions.next().is_some();
                first
            })
            .collect();
        Fields { elements, repeated }
    }

    /// Component `component` of element `element` (both 1-based), `None` when empty.
    fn get(&self, element: usize, component: usize) -> Option<String> {
        self.elements
            .get(element - 1)
            .and_then(|e| e.get(component - 1))
            .filter(|v| !v.is_empty())
            .map(|v| v.to_string())
    }

    fn text(&self, element: usize, component: usize) -> &str {
        self.elements.get(element - 1).and_then(|e| e.get(component - 1)).map(|v| v.as_ref()).unwrap_or("")
    }

    /// Whether every non-empty component is at a covered `(element, component)` position.
    fn only(&self, covered: impl Fn(usize, usize) -> bool) -> bool {
        !self.repeated
            && self.elements.iter().enumerate().all(|(i, components)| {
                components.iter().enumerate().all(|(j, v)| v.is_empty() || covered(i + 1, j + 1))
            })
    }
}

fn checked<'a>(cx: &mut SetContext<'_>, seg: &Seg<'a>, def: &EdiSegmentDef) -> Option<Fields<'a>> {
    validate::edifact(cx, &seg.1, seg.0, def).then(|| Fields::of(&seg.1))
}

fn number(cx: &SetContext<'_>, text: &str) -> Option<Decimal> {
    Decimal::parse_edi(text, cx.decimal_mark)
}

fn set_once<T>(slot: &mut Option<T>, value: T) -> bool {
    if slot.is_some() {
        return false;
    }
    *slot = Some(value);
    true
}

/// DTM: `(qualifier, date, time)` for formats 102, 203, 204 and 101.
fn date_time(cx: &mut SetContext<'_>, seg: &Seg<'_>) -> Option<(String, Date, Option<Time>)> {
    let f = checked(cx, seg, &d::EDI_DTM)?;
    if !f.only(|e, c| e == 1 && c <= 3) {
        return None;
    }
    let value = f.text(1, 2);
    let (date, time) = match f.text(1, 3) {
        "102" | "" if value.len() == 8 => (Date::from_edi(value)?, None),
        "101" if value.len() == 6 => (Date::from_edi(value)?, None),
        "203" if value.len() == 12 => (Date::from_edi(&value[..8])?, Some(Time::from_edi(&value[8..])?)),
        "204" if value.len() == 14 => (Date::from_edi(&value[..8])?, Some(Time::from_edi(&value[8..])?)),
        _ => return None,
    };
    Some((f.text(1, 1).to_owned(), date, time))
}

fn reference(cx: &mut SetContext<'_>, seg: &Seg<'_>) -> Option<Reference> {
    let f = checked(cx, seg, &d::RFF)?;
    f.only(|e, c| e == 1 && c <= 2).then(|| Reference {
        qualifier: f.text(1, 1).to_owned(),
        value: f.text(1, 2).to_owned(),
        description: None,
    })
}

/// FTX+code+++text: one line of free text.
fn note(cx: &mut SetContext<'_>, seg: &Seg<'_>) -> Option<Note> {
    let f = checked(cx, seg, &d::FTX)?;
    f.only(|e, c| c == 1 && (e == 1 || e == 4)).then(|| Note { text: f.text(4, 1).to_owned(), code: f.get(1, 1) })
}

fn party(cx: &mut SetContext<'_>, seg: &Seg<'_>) -> Option<Party> {
    let f = checked(cx, seg, &d::NAD)?;
    let covered = |e: usize, c: usize| match e {
        1 => c == 1,
        2 => c <= 3,
        4 => c <= 5,
        5 => c <= 4,
        6 | 8 | 9 => c == 1,
        7 => c == 1,
        _ => false,
    };
    if !f.only(covered) {
        return None;
    }
    let code = f.text(1, 1).to_owned();
    let names: Vec<String> = (1..=5).filter_map(|c| f.get(4, c)).collect();
    let address = Address {
        lines: (1..=4).filter_map(|c| f.get(5, c)).collect(),
        city: f.get(6, 1),
        region: f.get(7, 1),
        postal_code: f.get(8, 1),
        country: f.get(9, 1),
    };
    // Names must be contiguous to come back in the same components.
    if (1..=5).filter_map(|c| f.get(4, c)).count() != names.len()
        || (1..=5).any(|c| f.get(4, c).is_none() && (c..=5).any(|k| f.get(4, k).is_some()))
    {
        return None;
    }
    if (1..=4).any(|c| f.get(5, c).is_none() && (c..=4).any(|k| f.get(5, k).is_some())) {
        return None;
    }
    let mut names = names.into_iter();
    Some(Party {
        role: vocab::role(Standard::Edifact, &code),
        role_code: Some(code),
        name: names.next(),
        additional_names: names.collect(),
        id: f.get(2, 1).map(|value| PartyId {
            qualifier: f.get(2, 3).unwrap_or_default(),
            value,
            code_list: f.get(2, 2),
        }),
        address: (!address.is_empty()).then_some(address),
        ..Party::default()
    })
}

/// RFF, CTA, COM of a NAD group; other segments of the group are kept whole in the party.
/// `false` when the segment does not belong to the group.
fn party_segment(cx: &mut SetContext<'_>, party: &mut Party, rank: &mut Rank, seg: &Seg<'_>) -> bool {
    let tag = seg.1.tag();
    let in_order = match tag.as_bytes() {
        b"RFF" => rank.admit(1),
        b"CTA" | b"COM" => rank.admit(2),
        _ => true,
    };
    let mapped = match tag.as_bytes() {
        _ if !in_order && matches!(tag.as_bytes(), b"RFF" | b"CTA" | b"COM") => false,
        b"RFF" => reference(cx, seg).map(|r| party.references.push(r)).is_some(),
        b"CTA" => match checked(cx, seg, &d::CTA) {
            Some(f) if f.only(|e, c| e == 1 || (e == 2 && c == 2)) => {
                party.contacts.push(Contact { function_code: f.get(1, 1), name: f.get(2, 2), ..Contact::default() });
                true
            }
            _ => false,
        },
        b"COM" => communication(cx, seg, party),
        b"LOC" | b"FII" | b"DOC" | b"DTM" => false,
        _ => return false,
    };
    if !mapped {
        party.extensions.push(extension(&seg.1, seg.0));
    }
    true
}

/// COM: numbers of the last contact (one of each kind), or of a new one.
fn communication(cx: &mut SetContext<'_>, seg: &Seg<'_>, party: &mut Party) -> bool {
    if !validate::edifact(cx, &seg.1, seg.0, &d::COM) {
        return false;
    }
    let numbers: Vec<(String, String)> = seg
        .1
        .elements()
        .flat_map(|e| e.repetitions().collect::<Vec<_>>())
        .map(|r| (r.component_text(2).into_owned(), r.component_text(1).into_owned()))
        .collect();
    // One number per COM: several in one (repetitions) would come back as several COMs.
    if numbers.len() != 1 {
        return false;
    }
    if party.contacts.is_empty() {
        party.contacts.push(Contact::default());
    }
    let Some(contact) = party.contacts.last_mut() else { return false };
    let mut updated = contact.clone();
    for (kind, number) in numbers {
        let slot = match kind.as_str() {
            "TE" => &mut updated.phone,
            "EM" => &mut updated.email,
            "FX" => &mut updated.fax,
            _ => return false,
        };
        if slot.is_some() {
            return false;
        }
        *slot = Some(number);
    }
    *contact = updated;
    true
}

/// Item ids from LIN C212 (element 3) and PIA (elements 2-6); lot numbers (`NB`) apart.
fn add_item_id(ids: &mut ItemIds, codes: &mut ItemIds, qualifier: &str, value: &str) {
    let base = vocab::item_id_key(Standard::Edifact, qualifier);
    let mut key = base.clone();
    let mut n = 2;
    while ids.contains_key(&key) {
        key = format!("{base}#{n}").into();
        n += 1;
    }
    // Both maps hold the same kinds, and `key` is in neither.
    codes.push_new(key.clone(), qualifier.to_owned());
    ids.push_new(key, value.to_owned());
}

/// The common part of a LIN group line.
#[derive(Default)]
struct LineCore {
    rank: Rank,
    /// Ids taken from PIA segments: they render five per PIA, so only the last may be short.
    pia_ids: usize,
    line_number: Option<String>,
    action_code: Option<String>,
    item_ids: ItemIds,
    item_id_codes: ItemIds,
    lot_number: Option<String>,
    description: Option<String>,
}

fn lin(cx: &mut SetContext<'_>, seg: &Seg<'_>, allow_action: bool) -> Option<LineCore> {
    let f = checked(cx, seg, &d::EDI_LIN)?;
    if !f.only(|e, c| e == 1 || (e == 2 && allow_action) || (e == 3 && c <= 2)) {
        return None;
    }
    let mut core = LineCore { line_number: f.get(1, 1), action_code: f.get(2, 1), ..LineCore::default() };
    match f.get(3, 1) {
        Some(value) => add_item_id(&mut core.item_ids, &mut core.item_id_codes, f.text(3, 2), &value),
        // Without an id in LIN, the first PIA id would move into LIN on rendering.
        None if f.get(3, 2).is_some() => return None,
        None => core.pia_ids = 1,
    }
    Some(core)
}

/// PIA+1|5 with up to five C212 (id, type); `NB` is a batch (lot) number.
fn pia(cx: &mut SetContext<'_>, seg: &Seg<'_>, core: &mut LineCore) -> bool {
    let Some(f) = checked(cx, seg, &d::PIA) else { return false };
    let function = f.text(1, 1);
    if !(function == "1" || function == "5") || !f.only(|e, c| e == 1 || (e >= 2 && c <= 2)) {
        return false;
    }
    // PIA+5 (the main id) and PIA+1 (additional ids) both land in item_ids; keep the
    // function code recoverable through the qualifiers' order only when it is 1.
    if function == "5" {
        return false;
    }
    let ids: Vec<(String, String)> =
        (2..=6).filter_map(|e| f.get(e, 1).map(|v| (v, f.text(e, 2).to_owned()))).collect();
    // A batch number stands alone in its PIA, after the id PIAs.
    if ids.iter().any(|(_, q)| q == "NB") {
        if ids.len() != 1 || core.lot_number.is_some() || !core.rank.admit(3) {
            return false;
        }
        core.lot_number = ids.into_iter().next().map(|(v, _)| v);
        return true;
    }
    // Ids fill PIAs five at a time after the one in LIN: a PIA after a short one would come
    // back merged.
    if !core.pia_ids.is_multiple_of(5) || ids.is_empty() || !core.rank.admit(2) {
        return false;
    }
    core.pia_ids += ids.len();
    for (value, qualifier) in ids {
        add_item_id(&mut core.item_ids, &mut core.item_id_codes, &qualifier, &value);
    }
    true
}

/// IMD+F++:::text: a free-form description.
fn imd(cx: &mut SetContext<'_>, seg: &Seg<'_>, core: &mut LineCore) -> bool {
    if !core.rank.admit(4) {
        return false;
    }
    let Some(f) = checked(cx, seg, &d::IMD) else { return false };
    f.text(1, 1) == "F"
        && f.only(|e, c| e == 1 || (e == 3 && c == 4))
        && set_once(&mut core.description, f.text(3, 4).to_owned())
}

/// QTY: `(qualifier, quantity, unit)`.
fn quantity(cx: &mut SetContext<'_>, seg: &Seg<'_>) -> Option<(String, Decimal, Option<String>)> {
    let f = checked(cx, seg, &d::QTY)?;
    f.only(|e, c| e == 1 && c <= 3)
        .then(|| Some((f.text(1, 1).to_owned(), number(cx, f.text(1, 2))?, f.get(1, 3))))
        .flatten()
}

/// PRI C509: qualifier, price, type, specification.
struct Price {
    qualifier: String,
    amount: Option<Decimal>,
    kind: Option<String>,
    specification: Option<String>,
}

fn price(cx: &mut SetContext<'_>, seg: &Seg<'_>) -> Option<Price> {
    let f = checked(cx, seg, &d::PRI)?;
    if !f.only(|e, c| e == 1 && c <= 4) {
        return None;
    }
    let amount = match f.get(1, 2) {
        Some(p) => Some(number(cx, &p)?),
        None => None,
    };
    Some(Price { qualifier: f.text(1, 1).to_owned(), amount, kind: f.get(1, 3), specification: f.get(1, 4) })
}

fn cnt(cx: &mut SetContext<'_>, seg: &Seg<'_>) -> Option<(String, Decimal)> {
    let f = checked(cx, seg, &d::CNT)?;
    f.only(|e, c| e == 1 && c <= 2).then(|| Some((f.text(1, 1).to_owned(), number(cx, f.text(1, 2))?))).flatten()
}

fn moa(cx: &mut SetContext<'_>, seg: &Seg<'_>) -> Option<(String, Decimal)> {
    let f = checked(cx, seg, &d::MOA)?;
    f.only(|e, c| e == 1 && c <= 2).then(|| Some((f.text(1, 1).to_owned(), number(cx, f.text(1, 2))?))).flatten()
}

/// BGM: document code (1001), number (1004) and function (1225); `complete` is false when it
/// held more than that (then it is also kept whole, and that copy is what renders).
struct Beginning {
    code: Option<String>,
    number: String,
    function: Option<String>,
    complete: bool,
}

fn bgm(cx: &mut SetContext<'_>, seg: &Seg<'_>) -> Option<Beginning> {
    let f = checked(cx, seg, &d::BGM)?;
    let complete = f.only(|e, c| c == 1 && e <= 3);
    Some(Beginning { code: f.get(1, 1), number: f.text(2, 1).to_owned(), function: f.get(3, 1), complete })
}

/// CUX+2:CUR:9 as the document currency.
fn currency(cx: &mut SetContext<'_>, seg: &Seg<'_>) -> Option<String> {
    let f = checked(cx, seg, &d::CUX)?;
    (f.only(|e, c| e == 1 && c <= 3) && f.text(1, 1) == "2" && f.text(1, 3) == "9").then(|| f.text(1, 2).to_owned())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Header,
    Party,
    Line,
    Summary,
}

// ---- ORDERS -----------------------------------------------------------------------------

pub(crate) fn purchase_order(cx: &mut SetContext<'_>, segments: &[Seg<'_>]) -> PurchaseOrder {
    let mut po = PurchaseOrder::default();
    let mut seen_bgm = false;
    let mut scope = Scope::Header;
    let mut party_open: Option<Party> = None;
    let mut party_rank = Rank::default();
    let mut rank = Rank::default();
    let mut core: Option<LineCore> = None;
    for seg in segments {
        let tag = seg.1.tag();
        if scope == Scope::Party {
            if let Some(p) = party_open.as_mut() {
                if party_segment(cx, p, &mut party_rank, seg) {
                    continue;
                }
            }
            po.parties.extend(party_open.take());
            scope = Scope::Header;
        }
        if scope == Scope::Line && matches!(tag.as_bytes(), b"LIN" | b"UNS") {
            finish_line(cx, &mut po, core.take());
        }
        let mapped = match tag.as_bytes() {
            b"BGM" if !seen_bgm => {
                seen_bgm = true;
                match bgm(cx, seg) {
                    Some(b) => {
                        po.order_type_code = b.code;
                        po.po_number = b.number;
                        po.purpose = b.function.as_deref().map(|f| vocab::purpose(Standard::Edifact, f));
                        po.purpose_code = b.function;
                        b.complete
                    }
                    None => true,
                }
            }
            b"DTM" if scope == Scope::Header && rank.admit(2) => match date_time(cx, seg) {
                Some((q, date, time)) => match q.as_str() {
                    "137" if po.po_date.is_none() => {
                        po.po_date = Some(date);
                        po.po_time = time;
                        true
                    }
                    "2" if time.is_none() => set_once(&mut po.requested_delivery_date, date),
                    "10" if time.is_none() => set_once(&mut po.requested_ship_date, date),
                    "61" if time.is_none() => set_once(&mut po.cancel_after_date, date),
                    _ => false,
                },
                None => false,
            },
            b"FTX" if scope == Scope::Header && rank.admit(3) => note(cx, seg).map(|n| po.notes.push(n)).is_some(),
            b"RFF" if scope == Scope::Header && rank.admit(4) => {
                reference(cx, seg).map(|r| po.references.push(r)).is_some()
            }
            b"NAD" if scope == Scope::Header && rank.admit(5) => match party(cx, seg) {
                Some(p) => {
                    party_open = Some(p);
                    party_rank = Rank::default();
                    scope = Scope::Party;
                    true
                }
                None => false,
            },
            b"CUX" if scope == Scope::Header && rank.admit(6) => {
                currency(cx, seg).is_some_and(|c| set_once(&mut po.currency, c))
            }
            b"LIN" => {
                scope = Scope::Line;
                rank.admit(7);
                match lin(cx, seg, false) {
                    Some(c) => {
                        core = Some(c);
                        po.lines.push(PurchaseOrderLine::default());
                        true
                    }
                    None => {
                        core = Some(LineCore::default());
                        po.lines.push(PurchaseOrderLine::default());
                        false
                    }
                }
            }
            b"PIA" | b"IMD" | b"QTY" | b"PRI" | b"DTM" | b"RFF" if scope == Scope::Line => {
                let (Some(line), Some(core)) = (po.lines.last_mut(), core.as_mut()) else { continue };
                let in_order = match tag.as_bytes() {
                    b"QTY" => core.rank.admit(6),
                    b"DTM" => core.rank.admit(8),
                    b"PRI" => core.rank.admit(10),
                    b"RFF" => core.rank.admit(12),
                    _ => true,
                };
                in_order
                    && match tag.as_bytes() {
                        b"PIA" => pia(cx, seg, core),
                        b"IMD" => imd(cx, seg, core),
                        b"QTY" => match quantity(cx, seg) {
                            Some((q, value, unit)) if q == "21" && line.quantity.is_none() => {
                                line.quantity = Some(value);
                                line.uom = unit.as_deref().map(|u| cx.our_uom(u));
                                line.uom_code = unit;
                                true
                            }
                            _ => false,
                        },
                        b"PRI" => match price(cx, seg) {
                            Some(p) if line.unit_price.is_none() && line.price_basis.is_none() => {
                                line.price_basis = Some(p.qualifier);
                                line.unit_price = p.amount;
                                line.price_type_code = p.kind;
                                line.price_specification_code = p.specification;
                                true
                            }
                            _ => false,
                        },
                        b"DTM" => match date_time(cx, seg) {
                            Some((q, date, None)) if q == "2" => set_once(&mut line.requested_delivery_date, date),
                            _ => false,
                        },
                        _ => reference(cx, seg).map(|r| line.references.push(r)).is_some(),
                    }
            }
            b"UNS" if rank.admit(8) => {
                scope = Scope::Summary;
                summary_separator(seg)
            }
            b"CNT" if scope == Scope::Summary && rank.admit(10) => match cnt(cx, seg) {
                Some((q, value)) => {
                    let totals = po.totals.get_or_insert_with(Totals::default);
                    match q.as_str() {
                        "2" => set_once(&mut totals.line_count, value),
                        "1" => set_once(&mut totals.quantity, value),
                        _ => false,
                    }
                }
                None => false,
            },
            b"MOA" if scope == Scope::Summary && rank.admit(9) => match moa(cx, seg) {
                Some((q, value)) => {
                    let totals = po.totals.get_or_insert_with(Totals::default);
                    totals.amount.is_none() && {
                        totals.amount = Some(value);
                        totals.amount_qualifier = Some(q);
                        true
                    }
                }
                None => false,
            },
            _ => false,
        };
        if !mapped {
            let ext = extension(&seg.1, seg.0);
            match (scope, po.lines.last_mut()) {
                (Scope::Line, Some(line)) => line.extensions.push(ext),
                _ => po.extensions.push(ext),
            }
        }
    }
    po.parties.extend(party_open.take());
    if scope == Scope::Line {
        finish_line(cx, &mut po, core.take());
    }
    if po.totals.as_ref().is_some_and(Totals::is_empty) {
        po.totals = None;
    }
    if !seen_bgm {
        cx.missing("BGM", "beginning of message", segments.first(), 2);
    }
    po
}

/// Moves the LIN/PIA/IMD part of a line into it, and applies the item cross-reference.
fn finish_line(cx: &SetContext<'_>, po: &mut PurchaseOrder, core: Option<LineCore>) {
    let (Some(core), Some(line)) = (core, po.lines.last_mut()) else { return };
    line.line_number = core.line_number;
    line.item_ids = core.item_ids;
    line.item_id_codes = core.item_id_codes;
    line.description = core.description;
    if let Some(xref) = cx.xref {
        xref.items_inbound(&mut line.item_ids);
    }
}

/// UNS+S separates detail from summary: part of the structure, rendered again.
fn summary_separator(seg: &Seg<'_>) -> bool {
    seg.1.element_count() == 1 && seg.1.text(1) == "S"
}

// ---- ORDRSP -----------------------------------------------------------------------------

pub(crate) fn purchase_order_ack(cx: &mut SetContext<'_>, segments: &[Seg<'_>]) -> PurchaseOrderAck {
    let mut ack = PurchaseOrderAck::default();
    let mut seen_bgm = false;
    let mut scope = Scope::Header;
    let mut party_open: Option<Party> = None;
    let mut core: Option<LineCore> = None;
    let mut after_order_reference = false;
    let mut party_rank = Rank::default();
    let mut rank = Rank::default();
    for seg in segments {
        let tag = seg.1.tag();
        if scope == Scope::Party {
            if let Some(p) = party_open.as_mut() {
                if party_segment(cx, p, &mut party_rank, seg) {
                    continue;
                }
            }
            ack.parties.extend(party_open.take());
            scope = Scope::Header;
        }
        if scope == Scope::Line && matches!(tag.as_bytes(), b"LIN" | b"UNS") {
            finish_ack_line(cx, &mut ack, core.take());
        }
        let follows_order_reference = std::mem::take(&mut after_order_reference);
        let mapped = match tag.as_bytes() {
            b"BGM" if !seen_bgm => {
                seen_bgm = true;
                match bgm(cx, seg) {
                    Some(b) => {
                        ack.document_code = b.code;
                        ack.ack_number = Some(b.number).filter(|n| !n.is_empty());
                        ack.ack_type = b.function.as_deref().map(|f| vocab::ack_type(Standard::Edifact, f));
                        ack.ack_type_code = b.function;
                        b.complete
                    }
                    None => true,
                }
            }
            b"DTM" if scope == Scope::Header && rank.admit(if follows_order_reference { 4 } else { 2 }) => {
                match date_time(cx, seg) {
                    Some((q, date, time)) if q == "137" && ack.ack_date.is_none() && !follows_order_reference => {
                        ack.ack_date = Some(date);
                        ack.ack_time = time;
                        true
                    }
                    // The order's date follows its RFF+ON.
                    Some((q, date, None)) if q == "171" && follows_order_reference => set_once(&mut ack.po_date, date),
                    _ => false,
                }
            }
            b"FTX" if scope == Scope::Header && rank.admit(3) => note(cx, seg).map(|n| ack.notes.push(n)).is_some(),
            b"RFF" if scope == Scope::Header && rank.admit(4) => match reference(cx, seg) {
                Some(r) if r.qualifier == "ON" && ack.po_number.is_empty() => {
                    ack.po_number = r.value;
                    after_order_reference = true;
                    true
                }
                Some(r) => {
                    ack.references.push(r);
                    true
                }
                None => false,
            },
            b"NAD" if scope == Scope::Header && rank.admit(5) => match party(cx, seg) {
                Some(p) => {
                    party_open = Some(p);
                    party_rank = Rank::default();
                    scope = Scope::Party;
                    true
                }
                None => false,
            },
            b"CUX" if scope == Scope::Header && rank.admit(6) => {
                currency(cx, seg).is_some_and(|c| set_once(&mut ack.currency, c))
            }
            b"LIN" => {
                scope = Scope::Line;
                rank.admit(7);
                let parsed = lin(cx, seg, true);
                let mapped = parsed.is_some();
                core = Some(parsed.unwrap_or_default());
                ack.lines.push(PurchaseOrderAckLine::default());
                mapped
            }
            b"PIA" | b"IMD" | b"QTY" | b"PRI" | b"DTM" | b"RFF" if scope == Scope::Line => {
                let (Some(line), Some(core)) = (ack.lines.last_mut(), core.as_mut()) else { continue };
                let in_order = match tag.as_bytes() {
                    b"QTY" => core.rank.admit(6),
                    b"DTM" => core.rank.admit(8),
                    b"PRI" => core.rank.admit(10),
                    b"RFF" => core.rank.admit(12),
                    _ => true,
                };
                in_order
                    && match tag.as_bytes() {
                        b"PIA" => pia(cx, seg, core),
                        b"IMD" => imd(cx, seg, core),
                        b"QTY" => match quantity(cx, seg) {
                            Some((q, value, unit)) if q == "21" && line.quantity.is_none() => {
                                line.quantity = Some(value);
                                line.uom = unit.as_deref().map(|u| cx.our_uom(u));
                                line.uom_code = unit;
                                true
                            }
                            Some((q, value, unit)) if q == "113" && line.status_quantity.is_none() => {
                                line.status_quantity = Some(value);
                                line.status_uom_code = unit;
                                true
                            }
                            _ => false,
                        },
                        b"PRI" => match price(cx, seg) {
                            Some(p) if line.unit_price.is_none() && line.price_basis.is_none() => {
                                line.price_basis = Some(p.qualifier);
                                line.unit_price = p.amount;
                                line.price_type_code = p.kind;
                                line.price_specification_code = p.specification;
                                true
                            }
                            _ => false,
                        },
                        b"DTM" => match date_time(cx, seg) {
                            Some((q, date, None)) if line.scheduled_date.is_none() => {
                                line.scheduled_date = Some(date);
                                line.scheduled_date_qualifier = Some(q);
                                true
                            }
                            _ => false,
                        },
                        _ => reference(cx, seg).map(|r| line.references.push(r)).is_some(),
                    }
            }
            b"UNS" if rank.admit(8) => {
                scope = Scope::Summary;
                summary_separator(seg)
            }
            b"CNT" if scope == Scope::Summary && rank.admit(10) => match cnt(cx, seg) {
                Some((q, value)) => {
                    let totals = ack.totals.get_or_insert_with(Totals::default);
                    match q.as_str() {
                        "2" => set_once(&mut totals.line_count, value),
                        "1" => set_once(&mut totals.quantity, value),
                        _ => false,
                    }
                }
                None => false,
            },
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
    ack.parties.extend(party_open.take());
    if scope == Scope::Line {
        finish_ack_line(cx, &mut ack, core.take());
    }
    if ack.totals.as_ref().is_some_and(Totals::is_empty) {
        ack.totals = None;
    }
    if !seen_bgm {
        cx.missing("BGM", "beginning of message", segments.first(), 2);
    }
    ack
}

fn finish_ack_line(cx: &SetContext<'_>, ack: &mut PurchaseOrderAck, core: Option<LineCore>) {
    let (Some(core), Some(line)) = (core, ack.lines.last_mut()) else { return };
    line.line_number = core.line_number;
    line.item_ids = core.item_ids;
    line.item_id_codes = core.item_id_codes;
    line.description = core.description;
    if let Some(xref) = cx.xref {
        xref.items_inbound(&mut line.item_ids);
    }
    if let Some(code) = core.action_code {
        line.status = Some(vocab::line_status(Standard::Edifact, &code));
        line.status_code = Some(code);
    }
}

// ---- DESADV -----------------------------------------------------------------------------

/// One CPS level and its contents.
struct Level {
    id: String,
    parent: Option<String>,
    pack: Pack,
    /// Items of this level, each with the order it belongs to (line RFF+ON).
    items: Vec<(Option<String>, Item)>,
}

pub(crate) fn ship_notice(cx: &mut SetContext<'_>, segments: &[Seg<'_>]) -> ShipNotice {
    let mut asn = ShipNotice::default();
    let mut seen_bgm = false;
    let mut scope = Scope::Header;
    let mut party_open: Option<Party> = None;
    let mut header_order: Option<Order> = None;
    let mut after_order_reference = false;
    let mut levels: Vec<Level> = Vec::new();
    // Items before any CPS.
    let mut loose: Vec<(Option<String>, Item)> = Vec::new();
    let mut core: Option<(LineCore, Item, Option<String>)> = None;
    let mut party_rank = Rank::default();
    let mut rank = Rank::default();
    let mut level_rank = Rank::default();
    for seg in segments {
        let tag = seg.1.tag();
        if scope == Scope::Party {
            if let Some(p) = party_open.as_mut() {
                if party_segment(cx, p, &mut party_rank, seg) {
                    continue;
                }
            }
            asn.parties.extend(party_open.take());
            scope = Scope::Header;
        }
        if scope == Scope::Line && matches!(tag.as_bytes(), b"LIN" | b"CPS" | b"CNT" | b"UNS") {
            finish_item(cx, &mut levels, &mut loose, core.take());
            scope = Scope::Summary;
        }
        let follows_order_reference = std::mem::take(&mut after_order_reference);
        let in_header = scope == Scope::Header;
        let mapped = match tag.as_bytes() {
            b"BGM" if !seen_bgm => {
                seen_bgm = true;
                match bgm(cx, seg) {
                    Some(b) => {
                        asn.document_code = b.code;
                        asn.shipment_id = b.number;
                        asn.purpose = b.function.as_deref().map(|f| vocab::purpose(Standard::Edifact, f));
                        asn.purpose_code = b.function;
                        b.complete
                    }
                    None => true,
                }
            }
            b"DTM" if in_header && rank.admit(if follows_order_reference { 4 } else { 2 }) => {
                match date_time(cx, seg) {
                    Some((q, date, time)) => match q.as_str() {
                        "137" if asn.notice_date.is_none() => {
                            asn.notice_date = Some(date);
                            asn.notice_time = time;
                            true
                        }
                        "11" if asn.shipped_date.is_none() => {
                            asn.shipped_date = Some(date);
                            asn.shipped_time = time;
                            true
                        }
                        "17" if time.is_none() => set_once(&mut asn.estimated_delivery_date, date),
                        "171" if time.is_none() && follows_order_reference => {
                            header_order.as_mut().is_some_and(|o| set_once(&mut o.po_date, date))
                        }
                        _ => false,
                    },
                    None => false,
                }
            }
            b"FTX" if in_header && rank.admit(3) => note(cx, seg).map(|n| asn.notes.push(n)).is_some(),
            b"RFF" if in_header && rank.admit(4) => match reference(cx, seg) {
                Some(r) if r.qualifier == "ON" && header_order.is_none() => {
                    header_order = Some(Order { po_number: r.value, ..Order::default() });
                    after_order_reference = true;
                    true
                }
                Some(r) if r.qualifier == "BM" || r.qualifier == "CN" => {
                    let carrier = asn.carrier.get_or_insert_with(Carrier::default);
                    let slot =
                        if r.qualifier == "BM" { &mut carrier.bill_of_lading } else { &mut carrier.tracking_number };
                    if slot.is_none() {
                        *slot = Some(r.value);
                    } else {
                        asn.references.push(r);
                    }
                    true
                }
                Some(r) => {
                    asn.references.push(r);
                    true
                }
                None => false,
            },
            b"NAD" if in_header && rank.admit(5) => match party(cx, seg) {
                Some(p) => {
                    party_open = Some(p);
                    party_rank = Rank::default();
                    scope = Scope::Party;
                    true
                }
                None => false,
            },
            b"TDT" if in_header && rank.admit(6) => {
                let Some(f) = checked(cx, seg, &d::TDT) else { continue };
                let carrier = asn.carrier.get_or_insert_with(Carrier::default);
                let fits = f.text(1, 1) == "20"
                    && f.only(|e, c| e == 1 || (e == 3 && c == 1) || (e == 5 && (c == 1 || c == 3 || c == 4)))
                    && carrier.scac.is_none()
                    && carrier.mode.is_none()
                    && carrier.name.is_none();
                if fits {
                    carrier.mode = f.get(3, 1);
                    carrier.scac = f.get(5, 1);
                    carrier.id_qualifier = f.get(5, 3);
                    carrier.name = f.get(5, 4);
                }
                if asn.carrier.as_ref().is_some_and(|c| c == &Carrier::default()) {
                    asn.carrier = None;
                }
                fits
            }
            b"CPS" => {
                scope = Scope::Summary;
                rank.admit(7);
                level_rank = Rank::default();
                match checked(cx, seg, &d::CPS) {
                    Some(f) if f.only(|e, c| e <= 3 && c == 1) => {
                        levels.push(Level {
                            id: f.text(1, 1).to_owned(),
                            parent: f.get(2, 1),
                            pack: Pack {
                                pack_type: "pack".into(),
                                id: f.get(1, 1),
                                packaging_level_code: f.get(3, 1),
                                ..Pack::default()
                            },
                            items: Vec::new(),
                        });
                        true
                    }
                    _ => false,
                }
            }
            b"PAC" | b"MEA" | b"GIN" if !levels.is_empty() && core.is_none() => {
                let root = levels.len() == 1 && levels[0].parent.is_none();
                let order = match tag.as_bytes() {
                    b"PAC" => 1,
                    b"MEA" => 2,
                    _ => 3,
                };
                level_rank.admit(order) && level_segment(cx, seg, &mut levels, root, &mut asn)
            }
            b"LIN" => {
                scope = Scope::Line;
                let parsed = lin(cx, seg, false);
                let mapped = parsed.is_some();
                core = Some((parsed.unwrap_or_default(), Item::default(), None));
                mapped
            }
            b"PIA" | b"IMD" | b"QTY" | b"RFF" if scope == Scope::Line => {
                let Some((core, item, order)) = core.as_mut() else { continue };
                let in_order = match tag.as_bytes() {
                    b"QTY" => core.rank.admit(6),
                    b"RFF" => core.rank.admit(8),
                    _ => true,
                };
                in_order
                    && match tag.as_bytes() {
                        b"PIA" => pia(cx, seg, core),
                        b"IMD" => imd(cx, seg, core),
                        b"QTY" => match quantity(cx, seg) {
                            Some((q, value, unit)) if q == "12" && item.quantity_shipped.is_none() => {
                                item.quantity_shipped = Some(value);
                                item.uom = unit.as_deref().map(|u| cx.our_uom(u));
                                item.uom_code = unit;
                                true
                            }
                            Some((q, value, unit)) if q == "21" && item.quantity_ordered.is_none() => {
                                item.quantity_ordered = Some(value);
                                item.quantity_ordered_uom_code = unit;
                                true
                            }
                            _ => false,
                        },
                        _ => match reference(cx, seg) {
                            Some(r) if r.qualifier == "ON" && order.is_none() && header_order.is_none() => {
                                *order = Some(r.value);
                                true
                            }
                            Some(r) => {
                                item.references.push(r);
                                true
                            }
                            None => false,
                        },
                    }
            }
            b"UNS" => summary_separator(seg),
            b"CNT" => match cnt(cx, seg) {
                Some((q, value)) if q == "2" => {
                    let totals = asn.totals.get_or_insert_with(ShipNoticeTotals::default);
                    set_once(&mut totals.hl_count, value)
                }
                Some((q, value)) if q == "1" => {
                    let totals = asn.totals.get_or_insert_with(ShipNoticeTotals::default);
                    set_once(&mut totals.quantity, value)
                }
                _ => false,
            },
            _ => false,
        };
        if !mapped {
            let ext = extension(&seg.1, seg.0);
            match (scope, core.as_mut(), levels.last_mut()) {
                (Scope::Line, Some((_, item, _)), _) => item.extensions.push(ext),
                (Scope::Summary, None, Some(level)) if tag != "CNT" && tag != "UNS" => level.pack.extensions.push(ext),
                _ => asn.extensions.push(ext),
            }
        }
    }
    asn.parties.extend(party_open.take());
    finish_item(cx, &mut levels, &mut loose, core.take());
    if !seen_bgm {
        cx.missing("BGM", "beginning of message", segments.first(), 2);
    }
    if let Err(reason) = assemble(&mut asn, levels, loose, header_order) {
        let kind = super::DataErrorKind::InvalidHierarchy { reason };
        let location = segments.iter().find(|s| s.1.tag() == "CPS").map(|s| cx.location(&s.1, s.0)).unwrap_or_default();
        cx.errors.push(super::DataError::new(kind, location));
    }
    asn
}

/// PAC, MEA, GIN of a CPS level. At the root level (the whole consignment) PAC and MEA
/// describe the shipment's packaging.
fn level_segment(
    cx: &mut SetContext<'_>,
    seg: &Seg<'_>,
    levels: &mut [Level],
    root: bool,
    asn: &mut ShipNotice,
) -> bool {
    let Some(level) = levels.last_mut() else { return false };
    match seg.1.tag().as_bytes() {
        b"PAC" => {
            let Some(f) = checked(cx, seg, &d::PAC) else { return false };
            if !f.only(|e, c| e == 1 || (e == 3 && c == 1)) {
                return false;
            }
            let quantity = f.get(1, 1).and_then(|q| number(cx, &q));
            let code = f.get(3, 1);
            if root {
                let packaging = asn.packaging.get_or_insert_with(Packaging::default);
                if packaging.lading_quantity.is_some() || packaging.package_code.is_some() {
                    return false;
                }
                packaging.lading_quantity = quantity;
                packaging.package_code = code;
                return true;
            }
            if level.pack.quantity.is_some() || level.pack.package_code.is_some() {
                return false;
            }
            level.pack.quantity = quantity;
            level.pack.package_code = code;
            true
        }
        b"MEA" if root => {
            let Some(f) = checked(cx, seg, &d::MEA) else { return false };
            let weight = f.text(1, 1) == "PD"
                && f.text(2, 1) == "AAB"
                && f.only(|e, c| e == 1 || (e == 2 && c == 1) || (e == 3 && c <= 2));
            let packaging = asn.packaging.get_or_insert_with(Packaging::default);
            if !weight || packaging.gross_weight.is_some() {
                return false;
            }
            packaging.gross_weight = f.get(3, 2).and_then(|w| number(cx, &w));
            packaging.weight_uom = f.get(3, 1);
            packaging.gross_weight.is_some()
        }
        b"GIN" => {
            let Some(f) = checked(cx, seg, &d::GIN) else { return false };
            !root
                && f.text(1, 1) == "BJ"
                && f.only(|e, c| e == 1 || (e == 2 && c == 1))
                && set_once(&mut level.pack.sscc, f.text(2, 1).to_owned())
        }
        _ => false,
    }
}

fn finish_item(
    cx: &SetContext<'_>,
    levels: &mut [Level],
    loose: &mut Vec<(Option<String>, Item)>,
    core: Option<(LineCore, Item, Option<String>)>,
) {
    let Some((core, mut item, order)) = core else { return };
    item.line_number = core.line_number;
    item.item_ids = core.item_ids;
    item.item_id_codes = core.item_id_codes;
    item.lot_number = core.lot_number;
    item.description = core.description;
    if let Some(xref) = cx.xref {
        xref.items_inbound(&mut item.item_ids);
    }
    match levels.last_mut() {
        Some(level) => level.items.push((order, item)),
        None => loose.push((order, item)),
    }
}

/// Builds orders / packs / items from the CPS levels: one order from the header RFF+ON, or
/// one per order number of the lines (a pack holding several orders' items appears in each,
/// with the same `id`), or, with no order numbers at all, packs and items of the shipment.
fn assemble(
    asn: &mut ShipNotice,
    levels: Vec<Level>,
    loose: Vec<(Option<String>, Item)>,
    header_order: Option<Order>,
) -> Result<(), String> {
    asn.hierarchy = Some(if levels.is_empty() { "SOI".into() } else { "SOPI".into() });
    if let Some(packaging) = &asn.packaging {
        if packaging == &Packaging::default() {
            asn.packaging = None;
        }
    }
    // The root level (no parent) is the consignment; the others are packs.
    let root_id = levels.first().filter(|l| l.parent.is_none()).map(|l| l.id.clone());
    let mut order_numbers: Vec<String> = Vec::new();
    let mut all_items: Vec<&(Option<String>, Item)> = loose.iter().collect();
    for level in &levels {
        all_items.extend(level.items.iter());
    }
    for (order, _) in &all_items {
        if let Some(o) = order {
            if !order_numbers.contains(o) {
                order_numbers.push(o.clone());
            }
        }
    }
    for level in &levels {
        if let Some(parent) = &level.parent {
            if !levels.iter().any(|l| &l.id == parent) {
                return Err(format!("CPS {} names parent {parent} which is not in the message", level.id));
            }
        }
    }
    let build = |filter: &dyn Fn(&Option<String>) -> bool| -> (Vec<Pack>, Vec<Item>) {
        let mut root_items: Vec<Item> = loose.iter().filter(|(o, _)| filter(o)).map(|(_, i)| i.clone()).collect();
        let mut top: Vec<Pack> = Vec::new();
        for level in levels.iter() {
            let is_root = Some(&level.id) == root_id.as_ref() && level.parent.is_none();
            if is_root {
                root_items.extend(level.items.iter().filter(|(o, _)| filter(o)).map(|(_, i)| i.clone()));
                continue;
            }
            let parent_is_root = level.parent.is_none() || level.parent.as_ref() == root_id.as_ref();
            if parent_is_root {
                if let Some(pack) = pack_tree(&levels, level, filter) {
                    top.push(pack);
                }
            }
        }
        (top, root_items)
    };
    // Extensions of the root level belong to the shipment.
    if let Some(root) = levels.first().filter(|l| Some(&l.id) == root_id.as_ref()) {
        asn.extensions.extend(root.pack.extensions.iter().cloned());
    }
    match (header_order, order_numbers.is_empty()) {
        (Some(mut order), _) => {
            let (packs, items) = build(&|_| true);
            order.packs = packs;
            order.items = items;
            asn.orders.push(order);
        }
        (None, false) => {
            for number in &order_numbers {
                let (packs, items) = build(&|o| o.as_ref() == Some(number));
                asn.orders.push(Order { po_number: number.clone(), packs, items, ..Order::default() });
            }
            // Items without an order number stay at shipment level.
            let (packs, items) = build(&|o| o.is_none());
            asn.packs = packs;
            asn.items = items;
        }
        (None, true) => {
            let (packs, items) = build(&|_| true);
            asn.packs = packs;
            asn.items = items;
        }
    }
    // A pack holding packs is a pallet (tare); the others are cartons.
    fn mark(pack: &mut Pack) {
        if !pack.packs.is_empty() {
            pack.pack_type = "tare".into();
        }
        pack.packs.iter_mut().for_each(mark);
    }
    asn.packs.iter_mut().for_each(mark);
    for order in &mut asn.orders {
        order.packs.iter_mut().for_each(mark);
    }
    Ok(())
}

/// The pack of `level` with its sub-packs and the items `filter` keeps; `None` when empty of
/// such items while items were filtered (a pack of another order).
fn pack_tree(levels: &[Level], level: &Level, filter: &dyn Fn(&Option<String>) -> bool) -> Option<Pack> {
    let mut pack = level.pack.clone();
    pack.items = level.items.iter().filter(|(o, _)| filter(o)).map(|(_, i)| i.clone()).collect();
    let had_items = !level.items.is_empty();
    pack.packs = levels
        .iter()
        .filter(|l| l.parent.as_deref() == Some(level.id.as_str()))
        .filter_map(|l| pack_tree(levels, l, filter))
        .collect();
    let empty_here = pack.items.is_empty() && pack.packs.is_empty();
    let has_any_items = had_items || levels.iter().any(|l| l.parent.as_deref() == Some(level.id.as_str()));
    (!(empty_here && has_any_items)).then_some(pack)
}
