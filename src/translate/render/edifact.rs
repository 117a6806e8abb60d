//! Canonical to EDIFACT: ORDERS, ORDRSP, DESADV bodies in EANCOM order.

// Segments are written as element-by-element component lists; `slice::from_ref` in place of
// a one-component literal would hide that layout.
#![allow(clippy::cloned_ref_to_slice_refs)]

use crossdock_parsers::tree;

use super::{kept_whole, s, Body, RenderError, Target};
use crate::canonical::{
    Contact, Date, Decimal, Document, Item, ItemIds, Note, Pack, Party, PurchaseOrder, PurchaseOrderAck, Reference,
    ShipNotice, Standard, Time, Totals,
};
use crate::translate::vocab;
use crate::translate::xref::INTERNAL_ITEM_ID;

pub(super) fn body(document: &Document, target: &Target<'_>) -> Result<Vec<tree::Segment>, RenderError> {
    let mut body = Body::default();
    match document {
        Document::PurchaseOrder(po) => purchase_order(po, target, &mut body)?,
        Document::PurchaseOrderAck(ack) => purchase_order_ack(ack, target, &mut body)?,
        Document::ShipNotice(asn) => ship_notice(asn, target, &mut body)?,
    }
    Ok(body.finish())
}

/// A segment from elements given as their components.
fn seg(tag: &'static str, elements: &[&[Option<String>]]) -> tree::Segment {
    tree::Segment {
        tag: tag.into(),
        elements: elements
            .iter()
            .map(|components| tree::Element::composite(components.iter().map(|c| c.clone().unwrap_or_default())))
            .collect(),
    }
}

fn num(value: &Option<Decimal>, target: &Target<'_>) -> Option<String> {
    value.as_ref().map(|v| v.to_edi(target.decimal_mark))
}

fn date_time(qualifier: &str, date: &Date, time: Option<&Time>) -> tree::Segment {
    let (text, format) = match time {
        None => (date.to_ccyymmdd(), "102"),
        Some(t) if t.as_str().len() == 8 => (format!("{}{}", date.to_ccyymmdd(), t.to_edi()), "204"),
        Some(t) => (format!("{}{}", date.to_ccyymmdd(), t.to_edi()), "203"),
    };
    seg("DTM", &[&[s(qualifier), Some(text), s(format)]])
}

fn dtm(qualifier: &str, date: &Option<Date>, body: &mut Body) {
    if let Some(date) = date {
        body.push(date_time(qualifier, date, None));
    }
}

fn reference(r: &Reference) -> tree::Segment {
    seg("RFF", &[&[s(&r.qualifier), s(&r.value)]])
}

fn note(n: &Note) -> tree::Segment {
    seg("FTX", &[&[n.code.clone().or(Some("AAI".into()))], &[], &[], &[s(&n.text)]])
}

fn contact(c: &Contact, body: &mut Body) {
    if c.function_code.is_some() || c.name.is_some() {
        body.push(seg("CTA", &[&[c.function_code.clone()], &[None, c.name.clone()]]));
    }
    for (kind, number) in [("TE", &c.phone), ("EM", &c.email), ("FX", &c.fax)] {
        if let Some(number) = number {
            body.push(seg("COM", &[&[Some(number.clone()), s(kind)]]));
        }
    }
}

/// NAD group: NAD, RFF, CTA, COM, then its extensions.
fn party(p: &Party, body: &mut Body) {
    let code = p.role_code.clone().unwrap_or_else(|| vocab::role_code(Standard::Edifact, &p.role));
    let id: Vec<Option<String>> = match &p.id {
        Some(id) => vec![s(&id.value), id.code_list.clone(), s(&id.qualifier)],
        None => vec![],
    };
    let mut names = vec![p.name.clone()];
    names.extend(p.additional_names.iter().map(|n| Some(n.clone())));
    if p.name.is_none() && p.additional_names.is_empty() {
        names.clear();
    }
    let address = p.address.clone().unwrap_or_default();
    let lines: Vec<Option<String>> = address.lines.iter().map(|l| Some(l.clone())).collect();
    body.push(seg(
        "NAD",
        &[
            &[Some(code)],
            &id,
            &[],
            &names,
            &lines,
            &[address.city.clone()],
            &[address.region.clone()],
            &[address.postal_code.clone()],
            &[address.country.clone()],
        ],
    ));
    p.references.iter().for_each(|r| body.push(reference(r)));
    p.contacts.iter().for_each(|c| contact(c, body));
    body.extensions(&p.extensions);
}

/// Item ids: the first in LIN, the rest in PIA+1 five at a time; our own id stays home.
fn item_ids(ids: &ItemIds, codes: &ItemIds, target: &Target<'_>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = ids
        .iter()
        .filter(|(key, _)| *key != INTERNAL_ITEM_ID)
        .map(|(key, value)| {
            let qualifier = codes.get(key).cloned().unwrap_or_else(|| vocab::item_id_qualifier(Standard::Edifact, key));
            (value.clone(), qualifier)
        })
        .collect();
    if let Some((key, value)) = target.xref.and_then(|x| x.items_outbound(ids)) {
        out.push((value, vocab::item_id_qualifier(Standard::Edifact, &key)));
    }
    out
}

/// The LIN/PIA/IMD part of a line. A LIN the model could not hold was kept whole in the
/// line's extensions: then that copy stands in for the modeled one.
fn lin_group(
    line_number: &Option<String>,
    action: Option<String>,
    ids: Vec<(String, String)>,
    lot: &Option<String>,
    description: &Option<String>,
    lin_kept_whole: bool,
    body: &mut Body,
) {
    let mut ids = ids.into_iter();
    let first = ids.next();
    let c212: Vec<Option<String>> = match &first {
        Some((value, qualifier)) => vec![Some(value.clone()), Some(qualifier.clone())],
        None => vec![],
    };
    if !lin_kept_whole {
        body.push(seg("LIN", &[&[line_number.clone()], &[action], &c212]));
    }
    let rest: Vec<(String, String)> = ids.collect();
    for chunk in rest.chunks(5) {
        let mut elements: Vec<Vec<Option<String>>> = vec![vec![s("1")]];
        elements.extend(chunk.iter().map(|(v, q)| vec![Some(v.clone()), Some(q.clone())]));
        let refs: Vec<&[Option<String>]> = elements.iter().map(Vec::as_slice).collect();
        body.push(seg("PIA", &refs));
    }
    if let Some(lot) = lot {
        body.push(seg("PIA", &[&[s("1")], &[Some(lot.clone()), s("NB")]]));
    }
    if let Some(text) = description {
        body.push(seg("IMD", &[&[s("F")], &[], &[None, None, None, Some(text.clone())]]));
    }
}

fn unit(code: &Option<String>, ours: &Option<String>, target: &Target<'_>) -> Option<String> {
    code.clone().or_else(|| ours.as_ref().map(|u| target.xref.and_then(|x| x.uom_outbound(u)).unwrap_or(u).to_owned()))
}

fn price(
    basis: &Option<String>,
    price: &Option<Decimal>,
    kind: &Option<String>,
    spec: &Option<String>,
    target: &Target<'_>,
    body: &mut Body,
) {
    if basis.is_some() || price.is_some() {
        body.push(seg(
            "PRI",
            &[&[basis.clone().or(Some("AAA".into())), num(price, target), kind.clone(), spec.clone()]],
        ));
    }
}

/// UNS+S, then MOA and CNT when the document has totals.
fn summary(totals: &Option<Totals>, lines: usize, target: &Target<'_>, body: &mut Body) {
    body.push(seg("UNS", &[&[s("S")]]));
    let Some(t) = totals else { return };
    if let Some(amount) = &t.amount {
        body.push(seg(
            "MOA",
            &[&[t.amount_qualifier.clone().or(Some("79".into())), Some(amount.to_edi(target.decimal_mark))]],
        ));
    }
    let count = t.line_count.map(|c| c.to_string()).unwrap_or_else(|| lines.to_string());
    body.push(seg("CNT", &[&[s("2"), Some(count)]]));
    if let Some(quantity) = &t.quantity {
        body.push(seg("CNT", &[&[s("1"), Some(quantity.to_edi(target.decimal_mark))]]));
    }
}

fn purchase_order(po: &PurchaseOrder, target: &Target<'_>, body: &mut Body) -> Result<(), RenderError> {
    if po.po_number.is_empty() {
        return Err(RenderError::Missing { document: "purchase order", field: "po_number" });
    }
    if !kept_whole(&po.extensions, "BGM") {
        let function = po
            .purpose_code
            .clone()
            .or_else(|| po.purpose.as_deref().map(|p| vocab::purpose_code(Standard::Edifact, p)))
            .unwrap_or_else(|| "9".into());
        body.push(seg(
            "BGM",
            &[&[po.order_type_code.clone().or(Some("220".into()))], &[s(&po.po_number)], &[Some(function)]],
        ));
    }
    if let Some(date) = &po.po_date {
        body.push(date_time("137", date, po.po_time.as_ref()));
    }
    dtm("2", &po.requested_delivery_date, body);
    dtm("10", &po.requested_ship_date, body);
    dtm("61", &po.cancel_after_date, body);
    po.notes.iter().for_each(|n| body.push(note(n)));
    po.references.iter().for_each(|r| body.push(reference(r)));
    body.extensions(&po.extensions);
    po.parties.iter().for_each(|p| party(p, body));
    // Header contacts have no NAD of their own in EDIFACT.
    po.contacts.iter().for_each(|c| contact(c, body));
    if let Some(currency) = &po.currency {
        body.push(seg("CUX", &[&[s("2"), Some(currency.clone()), s("9")]]));
    }
    for line in &po.lines {
        lin_group(
            &line.line_number,
            None,
            item_ids(&line.item_ids, &line.item_id_codes, target),
            &None,
            &line.description,
            kept_whole(&line.extensions, "LIN"),
            body,
        );
        if let Some(quantity) = &line.quantity {
            body.push(seg(
                "QTY",
                &[&[s("21"), Some(quantity.to_edi(target.decimal_mark)), unit(&line.uom_code, &line.uom, target)]],
            ));
        }
        dtm("2", &line.requested_delivery_date, body);
        price(&line.price_basis, &line.unit_price, &line.price_type_code, &line.price_specification_code, target, body);
        line.references.iter().for_each(|r| body.push(reference(r)));
        body.extensions(&line.extensions);
    }
    summary(&po.totals, po.lines.len(), target, body);
    Ok(())
}

fn purchase_order_ack(ack: &PurchaseOrderAck, target: &Target<'_>, body: &mut Body) -> Result<(), RenderError> {
    if ack.po_number.is_empty() {
        return Err(RenderError::Missing { document: "purchase order acknowledgment", field: "po_number" });
    }
    if !kept_whole(&ack.extensions, "BGM") {
        let function = ack
            .ack_type_code
            .clone()
            .or_else(|| ack.ack_type.as_deref().map(|t| vocab::ack_type_code(Standard::Edifact, t)))
            .unwrap_or_else(|| "29".into());
        let number = ack.ack_number.clone().unwrap_or_else(|| ack.po_number.clone());
        body.push(seg(
            "BGM",
            &[&[ack.document_code.clone().or(Some("231".into()))], &[Some(number)], &[Some(function)]],
        ));
    }
    if let Some(date) = &ack.ack_date {
        body.push(date_time("137", date, ack.ack_time.as_ref()));
    }
    ack.notes.iter().for_each(|n| body.push(note(n)));
    body.push(seg("RFF", &[&[s("ON"), s(&ack.po_number)]]));
    dtm("171", &ack.po_date, body);
    ack.references.iter().for_each(|r| body.push(reference(r)));
    body.extensions(&ack.extensions);
    ack.parties.iter().for_each(|p| party(p, body));
    ack.contacts.iter().for_each(|c| contact(c, body));
    if let Some(currency) = &ack.currency {
        body.push(seg("CUX", &[&[s("2"), Some(currency.clone()), s("9")]]));
    }
    for line in &ack.lines {
        let action = line.status_code.clone().or_else(|| {
            line.status.as_deref().and_then(|st| vocab::line_status_code(Standard::Edifact, st)).map(str::to_owned)
        });
        lin_group(
            &line.line_number,
            action,
            item_ids(&line.item_ids, &line.item_id_codes, target),
            &None,
            &line.description,
            kept_whole(&line.extensions, "LIN"),
            body,
        );
        if let Some(quantity) = &line.quantity {
            body.push(seg(
                "QTY",
                &[&[s("21"), Some(quantity.to_edi(target.decimal_mark)), unit(&line.uom_code, &line.uom, target)]],
            ));
        }
        if let Some(quantity) = &line.status_quantity {
            body.push(seg(
                "QTY",
                &[&[s("113"), Some(quantity.to_edi(target.decimal_mark)), line.status_uom_code.clone()]],
            ));
        }
        if let Some(date) = &line.scheduled_date {
            let qualifier = line.scheduled_date_qualifier.clone().unwrap_or_else(|| "2".into());
            body.push(date_time(&qualifier, date, None));
        }
        price(&line.price_basis, &line.unit_price, &line.price_type_code, &line.price_specification_code, target, body);
        line.references.iter().for_each(|r| body.push(reference(r)));
        body.extensions(&line.extensions);
    }
    summary(&ack.totals, ack.lines.len(), target, body);
    Ok(())
}

/// A pack of the merged CPS tree: the pack as first seen, with the items of every order.
struct Level {
    id: String,
    parent: String,
    pack: Pack,
    items: Vec<(Option<String>, Item)>,
}

fn ship_notice(asn: &ShipNotice, target: &Target<'_>, body: &mut Body) -> Result<(), RenderError> {
    if asn.shipment_id.is_empty() {
        return Err(RenderError::Missing { document: "ship notice", field: "shipment_id" });
    }
    if !kept_whole(&asn.extensions, "BGM") {
        let function = asn
            .purpose_code
            .clone()
            .or_else(|| asn.purpose.as_deref().map(|p| vocab::purpose_code(Standard::Edifact, p)))
            .unwrap_or_else(|| "9".into());
        body.push(seg(
            "BGM",
            &[&[asn.document_code.clone().or(Some("351".into()))], &[s(&asn.shipment_id)], &[Some(function)]],
        ));
    }
    if let Some(date) = &asn.notice_date {
        body.push(date_time("137", date, asn.notice_time.as_ref()));
    }
    if let Some(date) = &asn.shipped_date {
        body.push(date_time("11", date, asn.shipped_time.as_ref()));
    }
    dtm("17", &asn.estimated_delivery_date, body);
    asn.notes.iter().for_each(|n| body.push(note(n)));
    // One order: its number stands in the header; several: on each line.
    let single = asn.orders.len() == 1 && asn.packs.is_empty() && asn.items.is_empty();
    if single {
        let order = &asn.orders[0];
        body.push(seg("RFF", &[&[s("ON"), s(&order.po_number)]]));
        dtm("171", &order.po_date, body);
    }
    if let Some(carrier) = &asn.carrier {
        if let Some(bol) = &carrier.bill_of_lading {
            body.push(seg("RFF", &[&[s("BM"), Some(bol.clone())]]));
        }
        if let Some(pro) = &carrier.tracking_number {
            body.push(seg("RFF", &[&[s("CN"), Some(pro.clone())]]));
        }
    }
    asn.references.iter().for_each(|r| body.push(reference(r)));
    asn.parties.iter().for_each(|p| party(p, body));
    if let Some(c) = &asn.carrier {
        if c.scac.is_some() || c.mode.is_some() || c.name.is_some() {
            body.push(seg(
                "TDT",
                &[
                    &[s("20")],
                    &[],
                    &[c.mode.clone()],
                    &[],
                    &[c.scac.clone(), None, c.id_qualifier.clone(), c.name.clone()],
                ],
            ));
        }
    }
    // The merged CPS tree.
    let mut levels: Vec<Level> = Vec::new();
    let mut root_items: Vec<(Option<String>, Item)> = Vec::new();
    let mut next_id = 2u64;
    fn collect(pack: &Pack, parent: &str, order: Option<&str>, levels: &mut Vec<Level>, next_id: &mut u64) {
        let id = pack.id.clone().unwrap_or_else(|| {
            let id = next_id.to_string();
            *next_id += 1;
            id
        });
        if let Ok(n) = id.parse::<u64>() {
            *next_id = (*next_id).max(n + 1);
        }
        let index = match levels.iter().position(|l| l.id == id) {
            Some(index) => index,
            None => {
                let mut shell = pack.clone();
                shell.items.clear();
                shell.packs.clear();
                levels.push(Level { id: id.clone(), parent: parent.to_owned(), pack: shell, items: Vec::new() });
                levels.len() - 1
            }
        };
        for item in &pack.items {
            levels[index].items.push((order.map(str::to_owned), item.clone()));
        }
        for child in &pack.packs {
            collect(child, &id, order, levels, next_id);
        }
    }
    for order in &asn.orders {
        for pack in &order.packs {
            collect(pack, "1", Some(&order.po_number), &mut levels, &mut next_id);
        }
        root_items.extend(order.items.iter().map(|i| (Some(order.po_number.clone()), i.clone())));
    }
    for pack in &asn.packs {
        collect(pack, "1", None, &mut levels, &mut next_id);
    }
    root_items.extend(asn.items.iter().map(|i| (None, i.clone())));
    body.extensions(&asn.extensions);
    let has_root = asn.packaging.is_some() || !levels.is_empty() || !root_items.is_empty();
    if has_root {
        body.push(seg("CPS", &[&[s("1")]]));
        if let Some(p) = &asn.packaging {
            if p.lading_quantity.is_some() || p.package_code.is_some() {
                body.push(seg("PAC", &[&[num(&p.lading_quantity, target)], &[], &[p.package_code.clone()]]));
            }
            if let Some(weight) = &p.gross_weight {
                body.push(seg(
                    "MEA",
                    &[
                        &[s("PD")],
                        &[s("AAB")],
                        &[p.weight_uom.clone().or(Some("KGM".into())), Some(weight.to_edi(target.decimal_mark))],
                    ],
                ));
            }
        }
        for (order, item) in &root_items {
            item_group(item, order.as_deref().filter(|_| !single), target, body);
        }
    }
    for level in &levels {
        body.push(seg("CPS", &[&[s(&level.id)], &[s(&level.parent)], &[level.pack.packaging_level_code.clone()]]));
        let p = &level.pack;
        if p.quantity.is_some() || p.package_code.is_some() {
            body.push(seg("PAC", &[&[num(&p.quantity, target)], &[], &[p.package_code.clone()]]));
        }
        if let Some(sscc) = &p.sscc {
            body.push(seg("GIN", &[&[s("BJ")], &[Some(sscc.clone())]]));
        }
        body.extensions(&p.extensions);
        for (order, item) in &level.items {
            item_group(item, order.as_deref().filter(|_| !single), target, body);
        }
    }
    if let Some(totals) = &asn.totals {
        if let Some(count) = &totals.hl_count {
            body.push(seg("CNT", &[&[s("2"), Some(count.to_string())]]));
        }
        if let Some(quantity) = &totals.quantity {
            body.push(seg("CNT", &[&[s("1"), Some(quantity.to_edi(target.decimal_mark))]]));
        }
    }
    Ok(())
}

fn item_group(item: &Item, order: Option<&str>, target: &Target<'_>, body: &mut Body) {
    lin_group(
        &item.line_number,
        None,
        item_ids(&item.item_ids, &item.item_id_codes, target),
        &item.lot_number,
        &item.description,
        kept_whole(&item.extensions, "LIN"),
        body,
    );
    if let Some(quantity) = &item.quantity_shipped {
        body.push(seg(
            "QTY",
            &[&[s("12"), Some(quantity.to_edi(target.decimal_mark)), unit(&item.uom_code, &item.uom, target)]],
        ));
    }
    if let Some(quantity) = &item.quantity_ordered {
        body.push(seg(
            "QTY",
            &[&[s("21"), Some(quantity.to_edi(target.decimal_mark)), item.quantity_ordered_uom_code.clone()]],
        ));
    }
    if let Some(order) = order {
        body.push(seg("RFF", &[&[s("ON"), s(order)]]));
    }
    item.references.iter().for_each(|r| body.push(reference(r)));
    body.extensions(&item.extensions);
}
