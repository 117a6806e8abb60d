//! Canonical to X12: 850, 855, 856 bodies in the standard's segment order.

use crossdock_parsers::tree;
use crossdock_parsers::writer::SimpleSegments;

use super::{extension_segment, is_due, kept_whole, s, simple, Body, RenderError, Target};
use crate::canonical::purchase_order::ItemPackaging;
use crate::canonical::{
    Contact, Date, Decimal, Document, Extension, Item, ItemIds, Note, Order, Pack, Party, PurchaseOrder,
    PurchaseOrderAck, Reference, ShipNotice, Standard, Totals, DECIMAL_TEXT,
};
use crate::translate::vocab;
use crate::translate::xref::INTERNAL_ITEM_ID;

pub(super) fn body(document: Document, target: &Target<'_>) -> Result<Vec<tree::Segment>, RenderError> {
    let mut body = Body::default();
    match document {
        Document::PurchaseOrder(po) => purchase_order(po, target, &mut body)?,
        Document::PurchaseOrderAck(ack) => purchase_order_ack(&ack, target, &mut body)?,
        Document::ShipNotice(asn) => ship_notice(&asn, target, &mut body)?,
    }
    Ok(body.finish())
}

fn dec(value: &Option<Decimal>) -> Option<String> {
    value.as_ref().map(|v| v.to_edi(b'.'))
}

fn dt(value: &Option<Date>) -> Option<String> {
    value.as_ref().map(Date::to_ccyymmdd)
}

fn reference(r: &Reference) -> tree::Segment {
    simple("REF", [s(&r.qualifier), s(&r.value), r.description.clone()])
}

fn contact(c: &Contact) -> tree::Segment {
    let mut values = vec![c.function_code.clone().or(Some("IC".into())), c.name.clone()];
    for (qualifier, number) in [("TE", &c.phone), ("EM", &c.email), ("FX", &c.fax)] {
        if let Some(number) = number {
            values.push(s(qualifier));
            values.push(Some(number.clone()));
        }
    }
    simple("PER", values)
}

fn note(n: &Note) -> tree::Segment {
    match &n.code {
        None => simple("MSG", [s(&n.text)]),
        Some(code) => simple("NTE", [s(code), s(&n.text)]),
    }
}

fn date_segment(qualifier: &str, date: &Option<Date>, body: &mut Body) {
    if date.is_some() {
        body.push_simple(simple("DTM", [s(qualifier), dt(date)]));
    }
}

/// N1 loop: N1, N2, N3, N4, REF, PER, then the loop's extensions.
fn party(p: &Party, body: &mut Body) {
    let code = p.role_code.clone().unwrap_or_else(|| vocab::role_code(Standard::X12, &p.role));
    let (qualifier, id) = match &p.id {
        Some(id) => (s(&id.qualifier), s(&id.value)),
        None => (None, None),
    };
    body.push_simple(simple("N1", [Some(code), p.name.clone(), qualifier, id]));
    for names in p.additional_names.chunks(2) {
        body.push_simple(simple("N2", names.iter().map(|n| Some(n.clone()))));
    }
    if let Some(address) = &p.address {
        for lines in address.lines.chunks(2) {
            body.push_simple(simple("N3", lines.iter().map(|l| Some(l.clone()))));
        }
        if address.city.is_some()
            || address.region.is_some()
            || address.postal_code.is_some()
            || address.country.is_some()
        {
            body.push_simple(simple(
                "N4",
                [address.city.clone(), address.region.clone(), address.postal_code.clone(), address.country.clone()],
            ));
        }
    }
    for r in &p.references {
        body.push_simple(reference(r));
    }
    for c in &p.contacts {
        body.push_simple(contact(c));
    }
    body.extensions(&p.extensions);
}

/// Product id pairs in the order the document holds them, added to `pairs`; our own item id
/// stays home.
fn item_id_pairs(pairs: &mut Vec<Option<String>>, ids: &ItemIds, codes: &ItemIds, target: &Target<'_>) {
    owned_item_id_pairs(pairs, ids.clone(), codes.clone(), target);
}

/// `item_id_pairs` for a document rendered once: the values move into the segment.
fn owned_item_id_pairs(pairs: &mut Vec<Option<String>>, ids: ItemIds, mut codes: ItemIds, target: &Target<'_>) {
    let ours = target.xref.and_then(|x| x.items_outbound(&ids));
    for (key, value) in ids {
        if key == INTERNAL_ITEM_ID {
            continue;
        }
        let qualifier = codes.remove(&key).unwrap_or_else(|| vocab::item_id_qualifier(Standard::X12, &key));
        pairs.push(Some(qualifier));
        pairs.push(Some(value));
    }
    if let Some((key, value)) = ours {
        pairs.push(Some(vocab::item_id_qualifier(Standard::X12, &key)));
        pairs.push(Some(value));
    }
}

/// The partner's unit for a line: as sent, else ours through the table, else ours.
fn uom(code: &Option<String>, ours: &Option<String>, target: &Target<'_>) -> Option<String> {
    owned_uom(code.clone(), ours.clone(), target)
}

/// `uom` for a document rendered once: the values move.
fn owned_uom(code: Option<String>, ours: Option<String>, target: &Target<'_>) -> Option<String> {
    code.or_else(|| {
        ours.map(|u| match target.xref.and_then(|x| x.uom_outbound(&u)) {
            Some(theirs) => theirs.to_owned(),
            None => u,
        })
    })
}

fn packaging(p: &ItemPackaging) -> tree::Segment {
    owned_packaging(p.clone())
}

fn owned_packaging(p: ItemPackaging) -> tree::Segment {
    simple(
        "PO4",
        [
            dec(&p.pack),
            dec(&p.size),
            p.size_uom,
            p.packaging_code,
            p.weight_qualifier,
            dec(&p.gross_weight),
            p.weight_uom,
            dec(&p.gross_volume),
            p.volume_uom,
            dec(&p.length),
            dec(&p.width),
            dec(&p.height),
            p.dimension_uom,
        ],
    )
}

/// CTT and AMT, when the document has totals (a source without CTT gives none, and must
/// render without one).
fn totals(t: &Option<Totals>, body: &mut Body, line_count: usize) {
    let Some(t) = t else { return };
    let count = t.line_count.map(|c| c.to_string()).unwrap_or_else(|| line_count.to_string());
    body.push_simple(simple("CTT", [Some(count), dec(&t.quantity)]));
    if let Some(amount) = &t.amount {
        body.push_simple(simple("AMT", [t.amount_qualifier.clone().or(Some("TT".into())), Some(amount.to_string())]));
    }
}

/// The document is consumed: its values move into the segments instead of being copied
/// (`crossdock render` renders every document once; the copies were a tenth of its time).
fn purchase_order(po: PurchaseOrder, target: &Target<'_>, body: &mut Body) -> Result<(), RenderError> {
    if po.po_number.is_empty() {
        return Err(RenderError::Missing { document: "purchase order", field: "po_number" });
    }
    let po_date = po.po_date.as_ref().ok_or(RenderError::Missing { document: "purchase order", field: "po_date" })?;
    let line_count = po.lines.len();
    if !kept_whole(&po.extensions, "BEG") {
        let purpose = po
            .purpose_code
            .or_else(|| po.purpose.as_deref().map(|p| vocab::purpose_code(Standard::X12, p)))
            .unwrap_or_else(|| "00".into());
        body.push_simple(simple(
            "BEG",
            [
                Some(purpose),
                po.order_type_code.or(Some("SA".into())),
                Some(po.po_number),
                po.release_number,
                Some(po_date.to_ccyymmdd()),
                po.contract_number,
                po.acknowledgment_type_code,
                po.invoice_type_code,
                po.contract_type_code,
                po.purchase_category_code,
                po.security_level_code,
                po.transaction_type_code,
            ],
        ));
    }
    if let Some(currency) = po.currency {
        body.push_simple(simple("CUR", [s("BY"), Some(currency)]));
    }
    po.references.iter().for_each(|r| body.push_simple(reference(r)));
    po.contacts.iter().for_each(|c| body.push_simple(contact(c)));
    date_segment("002", &po.requested_delivery_date, body);
    date_segment("010", &po.requested_ship_date, body);
    date_segment("001", &po.cancel_after_date, body);
    po.notes.iter().for_each(|n| body.push_simple(note(n)));
    body.extensions(&po.extensions);
    po.parties.iter().for_each(|p| party(p, body));
    for line in po.lines {
        let mut po1 = Vec::with_capacity(7 + 2 * line.item_ids.len());
        po1.extend([
            line.line_number,
            dec(&line.quantity),
            owned_uom(line.uom_code, line.uom, target),
            dec(&line.unit_price),
            line.price_basis,
        ]);
        owned_item_id_pairs(&mut po1, line.item_ids, line.item_id_codes, target);
        body.push_simple(simple("PO1", po1));
        if let Some(text) = line.description {
            body.push_simple(simple("PID", [s("F"), None, None, None, Some(text)]));
        }
        if let Some(p) = line.packaging {
            body.push_simple(owned_packaging(*p));
        }
        line.references.iter().for_each(|r| body.push_simple(reference(r)));
        date_segment("002", &line.requested_delivery_date, body);
        body.extensions(&line.extensions);
    }
    totals(&po.totals, body, line_count);
    Ok(())
}

/// `purchase_order` written straight into `segments`, without a tree: the same bytes,
/// extensions included (`Straight` merges them as `Body::finish` does). `None` when the
/// order cannot be written, with nothing to undo but the bytes after where it started:
/// without its number or date, with a delimiter in a value, an extension the writer refuses;
/// then the tree path words the problem.
pub(super) fn purchase_order_written(
    po: &PurchaseOrder,
    target: &Target<'_>,
    segments: &mut SimpleSegments<'_>,
) -> Option<()> {
    if po.po_number.is_empty() {
        return None;
    }
    let po_date = po.po_date.as_ref()?;
    // Positioned extensions in the order `Body` gathers them: the header's, each party's,
    // each line's; a stable sort by position, as `Body::finish` sorts them.
    let mut waiting: Vec<(u32, &Extension)> = po
        .extensions
        .iter()
        .chain(po.parties.iter().flat_map(|p| &p.extensions))
        .chain(po.lines.iter().flat_map(|l| &l.extensions))
        .filter_map(|e| Some((e.position?, e)))
        .collect();
    waiting.sort_by_key(|(position, _)| *position);
    let w = &mut Straight { w: segments, waiting: waiting.into() };
    let purpose = match (&po.purpose_code, &po.purpose) {
        (Some(code), _) => code.as_str(),
        (None, Some(purpose)) => vocab::purpose_code_ref(Standard::X12, purpose),
        (None, None) => "00",
    };
    let mut date = [0; 8];
    if !kept_whole(&po.extensions, "BEG") {
        w.begin("BEG")?;
        let written = w.value(purpose)
            && w.value(po.order_type_code.as_deref().unwrap_or("SA"))
            && w.value(&po.po_number)
            && w.opt(po.release_number.as_deref())
            && w.value(po_date.write_ccyymmdd(&mut date))
            && [
                &po.contract_number,
                &po.acknowledgment_type_code,
                &po.invoice_type_code,
                &po.contract_type_code,
                &po.purchase_category_code,
                &po.security_level_code,
                &po.transaction_type_code,
            ]
            .into_iter()
            .all(|v| w.opt(v.as_deref()));
        end(w, written)?;
    }
    if let Some(currency) = &po.currency {
        w.begin("CUR")?;
        let written = w.value("BY") && w.value(currency);
        end(w, written)?;
    }
    po.references.iter().try_for_each(|r| reference_written(r, w))?;
    po.contacts.iter().try_for_each(|c| contact_written(c, w))?;
    date_written("002", &po.requested_delivery_date, w)?;
    date_written("010", &po.requested_ship_date, w)?;
    date_written("001", &po.cancel_after_date, w)?;
    for n in &po.notes {
        let written = match &n.code {
            None => {
                w.begin("MSG")?;
                w.value(&n.text)
            }
            Some(code) => {
                w.begin("NTE")?;
                w.value(code) && w.value(&n.text)
            }
        };
        end(w, written)?;
    }
    w.extensions(&po.extensions)?;
    po.parties.iter().try_for_each(|p| party_written(p, w))?;
    let mut number = [0; DECIMAL_TEXT];
    for line in &po.lines {
        w.begin("PO1")?;
        let uom = line.uom_code.as_deref().or_else(|| {
            let ours = line.uom.as_deref()?;
            Some(target.xref.and_then(|x| x.uom_outbound(ours)).unwrap_or(ours))
        });
        let mut written = w.opt(line.line_number.as_deref())
            && w.opt(decimal(&line.quantity, &mut number))
            && w.opt(uom)
            && w.opt(decimal(&line.unit_price, &mut number))
            && w.opt(line.price_basis.as_deref());
        // An `ItemIds` holds each kind once, so finding a kind's code is removing it, as
        // `owned_item_id_pairs` does.
        for (key, value) in &line.item_ids {
            if !written || key == INTERNAL_ITEM_ID {
                continue;
            }
            written = match line.item_id_codes.get(key) {
                Some(code) => w.value(code),
                None => w.value(&vocab::item_id_qualifier_ref(Standard::X12, key)),
            } && w.value(value);
        }
        if let Some((key, value)) = target.xref.and_then(|x| x.items_outbound_ref(&line.item_ids)) {
            written = written && w.value(&vocab::item_id_qualifier_ref(Standard::X12, key)) && w.value(value);
        }
        end(w, written)?;
        if let Some(text) = &line.description {
            w.begin("PID")?;
            let written = w.value("F") && w.value("") && w.value("") && w.value("") && w.value(text);
            end(w, written)?;
        }
        if let Some(p) = &line.packaging {
            w.begin("PO4")?;
            let written = w.opt(decimal(&p.pack, &mut number))
                && w.opt(decimal(&p.size, &mut number))
                && w.opt(p.size_uom.as_deref())
                && w.opt(p.packaging_code.as_deref())
                && w.opt(p.weight_qualifier.as_deref())
                && w.opt(decimal(&p.gross_weight, &mut number))
                && w.opt(p.weight_uom.as_deref())
                && w.opt(decimal(&p.gross_volume, &mut number))
                && w.opt(p.volume_uom.as_deref())
                && w.opt(decimal(&p.length, &mut number))
                && w.opt(decimal(&p.width, &mut number))
                && w.opt(decimal(&p.height, &mut number))
                && w.opt(p.dimension_uom.as_deref());
            end(w, written)?;
        }
        line.references.iter().try_for_each(|r| reference_written(r, w))?;
        date_written("002", &line.requested_delivery_date, w)?;
        w.extensions(&line.extensions)?;
    }
    if let Some(t) = &po.totals {
        w.begin("CTT")?;
        let count = t.line_count.map(|c| c.to_string()).unwrap_or_else(|| po.lines.len().to_string());
        let written = w.value(&count) && w.opt(decimal(&t.quantity, &mut number));
        end(w, written)?;
        if let Some(amount) = &t.amount {
            w.begin("AMT")?;
            let written =
                w.value(t.amount_qualifier.as_deref().unwrap_or("TT")) && w.value(amount.write_text(&mut number));
            end(w, written)?;
        }
    }
    w.finish()
}

/// `SimpleSegments` with an order's extensions: a positioned one waits for its place in the
/// set and goes out before the first segment that would take it, as `Body::finish` merges
/// them; an unpositioned one goes where its container ends. Extensions are written through
/// the tree writer (their elements may repeat or have components).
struct Straight<'a, 'o> {
    w: &'a mut SimpleSegments<'o>,
    /// By position, first due first.
    waiting: std::collections::VecDeque<(u32, &'a Extension)>,
}

impl Straight<'_, '_> {
    /// Inlined, with the test for waiting extensions first: an order without extensions
    /// pays one comparison a segment.
    #[inline(always)]
    fn begin(&mut self, tag: &'static str) -> Option<()> {
        if !self.waiting.is_empty() {
            self.due()?;
        }
        self.w.begin(tag);
        Some(())
    }

    #[inline]
    fn value(&mut self, value: &str) -> bool {
        self.w.value(value)
    }

    #[inline]
    fn opt(&mut self, value: Option<&str>) -> bool {
        self.w.opt(value)
    }

    /// The positioned extensions whose place has come.
    fn due(&mut self) -> Option<()> {
        while let Some(&(position, extension)) = self.waiting.front() {
            if !is_due(position, self.w.written()) {
                break;
            }
            self.waiting.pop_front();
            self.extension(extension)?;
        }
        Some(())
    }

    /// A container's unpositioned extensions, after its other segments.
    #[inline(always)]
    fn extensions(&mut self, extensions: &[Extension]) -> Option<()> {
        if extensions.is_empty() {
            return Some(());
        }
        self.unpositioned(extensions)
    }

    fn unpositioned(&mut self, extensions: &[Extension]) -> Option<()> {
        for extension in extensions.iter().filter(|e| e.position.is_none()) {
            self.due()?;
            self.extension(extension)?;
        }
        Some(())
    }

    fn extension(&mut self, extension: &Extension) -> Option<()> {
        self.w.tree_segment(&extension_segment(extension)).then_some(())
    }

    /// The extensions still waiting, positioned past the set's other segments.
    fn finish(&mut self) -> Option<()> {
        while let Some((_, extension)) = self.waiting.pop_front() {
            self.extension(extension)?;
        }
        Some(())
    }
}

/// Closes the segment when all its values were written.
fn end(w: &mut Straight<'_, '_>, written: bool) -> Option<()> {
    written.then(|| w.w.end())
}

fn decimal<'b>(value: &Option<Decimal>, buf: &'b mut [u8; DECIMAL_TEXT]) -> Option<&'b str> {
    value.as_ref().map(|v| v.write_text(buf))
}

fn reference_written(r: &Reference, w: &mut Straight<'_, '_>) -> Option<()> {
    w.begin("REF")?;
    let written = w.value(&r.qualifier) && w.value(&r.value) && w.opt(r.description.as_deref());
    end(w, written)
}

fn contact_written(c: &Contact, w: &mut Straight<'_, '_>) -> Option<()> {
    w.begin("PER")?;
    let mut written = w.value(c.function_code.as_deref().unwrap_or("IC")) && w.opt(c.name.as_deref());
    for (qualifier, number) in [("TE", &c.phone), ("EM", &c.email), ("FX", &c.fax)] {
        if let Some(number) = number {
            written = written && w.value(qualifier) && w.value(number);
        }
    }
    end(w, written)
}

fn date_written(qualifier: &'static str, date: &Option<Date>, w: &mut Straight<'_, '_>) -> Option<()> {
    let Some(date) = date else { return Some(()) };
    w.begin("DTM")?;
    let written = w.value(qualifier) && w.value(date.write_ccyymmdd(&mut [0; 8]));
    end(w, written)
}

fn party_written(p: &Party, w: &mut Straight<'_, '_>) -> Option<()> {
    w.begin("N1")?;
    let code = p.role_code.as_deref().unwrap_or_else(|| vocab::role_code_ref(Standard::X12, &p.role));
    let written = w.value(code)
        && w.opt(p.name.as_deref())
        && w.opt(p.id.as_ref().map(|id| id.qualifier.as_str()))
        && w.opt(p.id.as_ref().map(|id| id.value.as_str()));
    end(w, written)?;
    for names in p.additional_names.chunks(2) {
        w.begin("N2")?;
        let written = names.iter().all(|n| w.value(n));
        end(w, written)?;
    }
    if let Some(address) = &p.address {
        for lines in address.lines.chunks(2) {
            w.begin("N3")?;
            let written = lines.iter().all(|l| w.value(l));
            end(w, written)?;
        }
        let parts = [&address.city, &address.region, &address.postal_code, &address.country];
        if parts.iter().any(|part| part.is_some()) {
            w.begin("N4")?;
            let written = parts.into_iter().all(|part| w.opt(part.as_deref()));
            end(w, written)?;
        }
    }
    p.references.iter().try_for_each(|r| reference_written(r, w))?;
    p.contacts.iter().try_for_each(|c| contact_written(c, w))?;
    w.extensions(&p.extensions)
}

fn purchase_order_ack(ack: &PurchaseOrderAck, target: &Target<'_>, body: &mut Body) -> Result<(), RenderError> {
    if ack.po_number.is_empty() {
        return Err(RenderError::Missing { document: "purchase order acknowledgment", field: "po_number" });
    }
    let po_date = ack
        .po_date
        .as_ref()
        .ok_or(RenderError::Missing { document: "purchase order acknowledgment", field: "po_date" })?;
    if !kept_whole(&ack.extensions, "BAK") {
        let purpose = ack
            .purpose_code
            .clone()
            .or_else(|| ack.purpose.as_deref().map(|p| vocab::purpose_code(Standard::X12, p)))
            .unwrap_or_else(|| "00".into());
        let ack_type = ack
            .ack_type_code
            .clone()
            .or_else(|| ack.ack_type.as_deref().map(|t| vocab::ack_type_code(Standard::X12, t)))
            .unwrap_or_else(|| "AC".into());
        body.push_simple(simple(
            "BAK",
            [
                Some(purpose),
                Some(ack_type),
                s(&ack.po_number),
                Some(po_date.to_ccyymmdd()),
                ack.release_number.clone(),
                ack.request_reference_number.clone(),
                ack.contract_number.clone(),
                ack.ack_number.clone(),
                dt(&ack.ack_date),
                ack.transaction_type_code.clone(),
            ],
        ));
    }
    if let Some(currency) = &ack.currency {
        body.push_simple(simple("CUR", [s("BY"), Some(currency.clone())]));
    }
    ack.references.iter().for_each(|r| body.push_simple(reference(r)));
    ack.contacts.iter().for_each(|c| body.push_simple(contact(c)));
    ack.notes.iter().for_each(|n| body.push_simple(note(n)));
    body.extensions(&ack.extensions);
    ack.parties.iter().for_each(|p| party(p, body));
    for line in &ack.lines {
        let mut po1 = Vec::with_capacity(7 + 2 * line.item_ids.len());
        po1.extend([
            line.line_number.clone(),
            dec(&line.quantity),
            uom(&line.uom_code, &line.uom, target),
            dec(&line.unit_price),
            line.price_basis.clone(),
        ]);
        item_id_pairs(&mut po1, &line.item_ids, &line.item_id_codes, target);
        body.push_simple(simple("PO1", po1));
        if let Some(text) = &line.description {
            body.push_simple(simple("PID", [s("F"), None, None, None, Some(text.clone())]));
        }
        line.references.iter().for_each(|r| body.push_simple(reference(r)));
        let status = line.status_code.clone().or_else(|| {
            line.status.as_deref().and_then(|s| vocab::line_status_code(Standard::X12, s)).map(str::to_owned)
        });
        if let Some(status) = status {
            let mut values = vec![
                Some(status),
                dec(&line.status_quantity),
                line.status_uom_code
                    .clone()
                    .or_else(|| line.status_quantity.and(uom(&line.uom_code, &line.uom, target))),
                line.scheduled_date_qualifier.clone().or_else(|| line.scheduled_date.as_ref().map(|_| "068".into())),
                dt(&line.scheduled_date),
            ];
            if line.status_reason_code.is_some() {
                values.resize(26, None);
                values.push(line.status_reason_agency.clone());
                values.push(line.status_reason_list.clone());
                values.push(line.status_reason_code.clone());
            }
            body.push_simple(simple("ACK", values));
        }
        body.extensions(&line.extensions);
    }
    totals(&ack.totals, body, ack.lines.len());
    Ok(())
}

fn ship_notice(asn: &ShipNotice, target: &Target<'_>, body: &mut Body) -> Result<(), RenderError> {
    if asn.shipment_id.is_empty() {
        return Err(RenderError::Missing { document: "ship notice", field: "shipment_id" });
    }
    let date =
        asn.notice_date.as_ref().ok_or(RenderError::Missing { document: "ship notice", field: "notice_date" })?;
    let time = asn.notice_time.as_ref().map(|t| t.to_edi()).unwrap_or_else(|| "0000".into());
    if !kept_whole(&asn.extensions, "BSN") {
        let purpose = asn
            .purpose_code
            .clone()
            .or_else(|| asn.purpose.as_deref().map(|p| vocab::purpose_code(Standard::X12, p)))
            .unwrap_or_else(|| "00".into());
        body.push_simple(simple(
            "BSN",
            [
                Some(purpose),
                s(&asn.shipment_id),
                Some(date.to_ccyymmdd()),
                Some(time),
                asn.hierarchy_code.clone(),
                asn.transaction_type_code.clone(),
                asn.status_reason_code.clone(),
            ],
        ));
    }
    let mut hl = Hl { next: 1, count: 0 };
    let shipment = hl.open(None, "S", body);
    if let Some(p) = &asn.packaging {
        body.push_simple(simple(
            "TD1",
            [
                p.package_code.clone(),
                dec(&p.lading_quantity),
                None,
                None,
                None,
                p.weight_qualifier.clone(),
                dec(&p.gross_weight),
                p.weight_uom.clone(),
                dec(&p.volume),
                p.volume_uom.clone(),
            ],
        ));
    }
    if let Some(c) = &asn.carrier {
        if c.scac.is_some() || c.name.is_some() || c.mode.is_some() || c.routing_sequence_code.is_some() {
            let qualifier = c.id_qualifier.clone().or_else(|| c.scac.as_ref().map(|_| "2".into()));
            body.push_simple(simple(
                "TD5",
                [c.routing_sequence_code.clone(), qualifier, c.scac.clone(), c.mode.clone(), c.name.clone()],
            ));
        }
        if let Some(bol) = &c.bill_of_lading {
            body.push_simple(simple("REF", [s("BM"), Some(bol.clone())]));
        }
        if let Some(pro) = &c.tracking_number {
            body.push_simple(simple("REF", [s("CN"), Some(pro.clone())]));
        }
    }
    asn.references.iter().for_each(|r| body.push_simple(reference(r)));
    if asn.shipped_date.is_some() {
        body.push_simple(simple(
            "DTM",
            [s("011"), dt(&asn.shipped_date), asn.shipped_time.as_ref().map(|t| t.to_edi())],
        ));
    }
    date_segment("017", &asn.estimated_delivery_date, body);
    asn.notes.iter().for_each(|n| body.push_simple(note(n)));
    asn.parties.iter().for_each(|p| party(p, body));
    // Orders on a tare stand under that tare (S-T-O-I); consecutive orders on the same tare
    // share one HL.
    let mut index = 0;
    while index < asn.orders.len() {
        let order = &asn.orders[index];
        match &order.tare {
            Some(tare) => {
                let tare_hl = hl.open(Some(shipment), "T", body);
                pack_segments(tare, body);
                body.extensions(&tare.extensions);
                while index < asn.orders.len() && asn.orders[index].tare.as_deref() == Some(tare) {
                    order_hl(&asn.orders[index], tare_hl, &mut hl, target, body);
                    index += 1;
                }
            }
            None => {
                order_hl(order, shipment, &mut hl, target, body);
                index += 1;
            }
        }
    }
    for pack in &asn.packs {
        pack_hl(pack, shipment, &mut hl, target, body);
    }
    for item in &asn.items {
        item_hl(item, shipment, &mut hl, target, body);
    }
    body.extensions(&asn.extensions);
    let count =
        asn.totals.as_ref().and_then(|t| t.hl_count).map(|c| c.to_string()).unwrap_or_else(|| hl.count.to_string());
    let quantity = asn.totals.as_ref().and_then(|t| dec(&t.quantity));
    body.push_simple(simple("CTT", [Some(count), quantity]));
    Ok(())
}

/// Numbers HL segments as they are written.
struct Hl {
    next: u32,
    count: u32,
}

impl Hl {
    fn open(&mut self, parent: Option<u32>, level: &str, body: &mut Body) -> u32 {
        let id = self.next;
        self.next += 1;
        self.count += 1;
        body.push_simple(simple("HL", [Some(id.to_string()), parent.map(|p| p.to_string()), s(level)]));
        id
    }
}

fn order_hl(order: &Order, parent: u32, hl: &mut Hl, target: &Target<'_>, body: &mut Body) {
    let id = hl.open(Some(parent), "O", body);
    body.push_simple(simple(
        "PRF",
        [
            s(&order.po_number),
            order.release_number.clone(),
            order.change_sequence.clone(),
            dt(&order.po_date),
            order.assigned_id.clone(),
            order.contract_number.clone(),
            order.order_type_code.clone(),
        ],
    ));
    order.references.iter().for_each(|r| body.push_simple(reference(r)));
    order.parties.iter().for_each(|p| party(p, body));
    body.extensions(&order.extensions);
    for pack in &order.packs {
        pack_hl(pack, id, hl, target, body);
    }
    for item in &order.items {
        item_hl(item, id, hl, target, body);
    }
}

fn pack_segments(pack: &Pack, body: &mut Body) {
    if let Some(details) = &pack.details {
        body.push_simple(packaging(details));
    }
    if let Some(sscc) = &pack.sscc {
        body.push_simple(simple("MAN", [s("GM"), Some(sscc.clone())]));
    }
}

fn pack_hl(pack: &Pack, parent: u32, hl: &mut Hl, target: &Target<'_>, body: &mut Body) {
    let level = if pack.pack_type == "tare" { "T" } else { "P" };
    let id = hl.open(Some(parent), level, body);
    pack_segments(pack, body);
    body.extensions(&pack.extensions);
    for child in &pack.packs {
        pack_hl(child, id, hl, target, body);
    }
    for item in &pack.items {
        item_hl(item, id, hl, target, body);
    }
}

fn item_hl(item: &Item, parent: u32, hl: &mut Hl, target: &Target<'_>, body: &mut Body) {
    let id = hl.open(Some(parent), "I", body);
    let mut lin = Vec::with_capacity(5 + 2 * item.item_ids.len());
    lin.push(item.line_number.clone());
    item_id_pairs(&mut lin, &item.item_ids, &item.item_id_codes, target);
    if let Some(lot) = &item.lot_number {
        lin.push(s("LT"));
        lin.push(Some(lot.clone()));
    }
    if lin.len() > 1 || item.line_number.is_some() {
        body.push_simple(simple("LIN", lin));
    }
    if item.quantity_shipped.is_some() {
        body.push_simple(simple(
            "SN1",
            [
                item.assigned_id.clone(),
                dec(&item.quantity_shipped),
                uom(&item.uom_code, &item.uom, target).or(Some("EA".into())),
                dec(&item.quantity_shipped_to_date),
                dec(&item.quantity_ordered),
                item.quantity_ordered_uom_code
                    .clone()
                    .or_else(|| item.quantity_ordered.and(uom(&item.uom_code, &item.uom, target))),
                item.ship_status_code.clone(),
                item.line_status_code.clone(),
            ],
        ));
    }
    if let Some(text) = &item.description {
        body.push_simple(simple("PID", [s("F"), None, None, None, Some(text.clone())]));
    }
    item.references.iter().for_each(|r| body.push_simple(reference(r)));
    body.extensions(&item.extensions);
    for pack in &item.packs {
        pack_hl(pack, id, hl, target, body);
    }
}
