//! `purchase_order`: X12 850, EDIFACT ORDERS.

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::decimal::Number;
use super::{Contact, Date, Decimal, Extension, ItemIds, Note, Party, Reference, Time, Totals};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrder {
    /// BEG03 / BGM 1004.
    pub po_number: String,
    /// `original`, `cancellation`, `replace`, `duplicate`, `change` (BEG01 / BGM 1225).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose_code: Option<String>,
    /// BEG02 (`SA` stand-alone, `NE` new order) / BGM 1001 (`220`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_type_code: Option<String>,
    /// BEG05 / DTM+137.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_time: Option<Time>,
    /// BEG04.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_number: Option<String>,
    /// BEG06.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    /// BEG07 acknowledgment type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgment_type_code: Option<String>,
    /// BEG08 invoice type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_type_code: Option<String>,
    /// BEG09 contract type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_type_code: Option<String>,
    /// BEG10 purchase category (005010).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_category_code: Option<String>,
    /// BEG11 security level (005010).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_level_code: Option<String>,
    /// BEG12 transaction type (005010).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_type_code: Option<String>,
    /// CUR02 / CUX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// DTM 002 / DTM+2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_delivery_date: Option<Date>,
    /// DTM 010 / DTM+10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_ship_date: Option<Date>,
    /// DTM 001 / DTM+61.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_after_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    /// Header contacts (PER outside the N1 loop).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<Party>,
    #[serde(default)]
    pub lines: Vec<PurchaseOrderLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
}

/// One line: the PO1 loop, the LIN group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderLine {
    /// PO101 / LIN 1082.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<String>,
    /// PO102 / QTY+21.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// Our unit of measure (the partner's code through its `[xref] uom` table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// The partner's unit of measure code as sent (PO103 / QTY 6411).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom_code: Option<String>,
    /// PO104 / PRI 5118.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    /// PO105 basis of unit price / PRI 5125 price qualifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_basis: Option<String>,
    /// PRI 5375 price type (`CT` contract), EDIFACT only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_type_code: Option<String>,
    /// PRI 5387 price specification (`AAE`), EDIFACT only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_specification_code: Option<String>,
    /// PO106..PO125 pairs / LIN C212 and PIA.
    #[serde(default, skip_serializing_if = "ItemIds::is_empty")]
    pub item_ids: ItemIds,
    /// The qualifier each `item_ids` entry came with (`buyer` → `IN`), for rendering back.
    #[serde(default, skip_serializing_if = "ItemIds::is_empty")]
    pub item_id_codes: ItemIds,
    /// PID*F / IMD+F.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// DTM 002 / DTM+2 in the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_delivery_date: Option<Date>,
    /// PO4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packaging: Option<Box<ItemPackaging>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
}

/// Item physical details: PO4.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPackaging {
    /// PO401 inner packs per outer pack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<Decimal>,
    /// PO402 size of each inner pack, in `size_uom` (PO403).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_uom: Option<String>,
    /// PO404 packaging code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packaging_code: Option<String>,
    /// PO405 weight qualifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_qualifier: Option<String>,
    /// PO406 gross weight per pack, in `weight_uom` (PO407).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gross_weight: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_uom: Option<String>,
    /// PO408 gross volume per pack, in `volume_uom` (PO409).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gross_volume: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_uom: Option<String>,
    /// PO410-PO412 dimensions, in `dimension_uom` (PO413).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension_uom: Option<String>,
}

/// A purchase order line as the X12 map builds it: its texts still borrowed from the EDI where
/// they can be. `crossdock translate` writes it as JSON as soon as the line is complete
/// (`json_writer::PurchaseOrderStream`), so a line's values are never copied into strings of
/// their own; elsewhere it becomes a `PurchaseOrderLine` (`into_line`). The JSON writer
/// writes a `PurchaseOrderLine` through a draft borrowing from it (`of`), so both are written
/// by the same code. Fields as in `PurchaseOrderLine`.
#[derive(Clone, Debug, Default)]
pub struct LineDraft<'a> {
    pub line_number: Option<Cow<'a, str>>,
    pub quantity: Option<Number<'a>>,
    pub uom: Option<Cow<'a, str>>,
    pub uom_code: Option<Cow<'a, str>>,
    pub unit_price: Option<Number<'a>>,
    pub price_basis: Option<Cow<'a, str>>,
    pub price_type_code: Option<Cow<'a, str>>,
    pub price_specification_code: Option<Cow<'a, str>>,
    /// `item_ids` and `item_id_codes` in one list.
    pub item_ids: Vec<DraftItemId<'a>>,
    pub description: Option<Cow<'a, str>>,
    pub requested_delivery_date: Option<Cow<'a, Date>>,
    pub packaging: Option<PackagingDraft<'a>>,
    pub references: Cow<'a, [Reference]>,
    pub extensions: Cow<'a, [Extension]>,
}

/// One kind of item id of a draft line: its entry in `item_ids` (the value), in
/// `item_id_codes` (the qualifier it came with), or in both, as the X12 map reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftItemId<'a> {
    pub kind: Cow<'static, str>,
    pub code: Option<Cow<'a, str>>,
    pub value: Option<Cow<'a, str>>,
}

impl DraftItemId<'_> {
    /// The `item_ids` and `item_id_codes` maps of a list.
    pub fn split(ids: Vec<DraftItemId<'_>>) -> (ItemIds, ItemIds) {
        let (mut item_ids, mut item_id_codes) = (ItemIds::with_capacity(ids.len()), ItemIds::with_capacity(ids.len()));
        for id in ids {
            if let Some(value) = id.value {
                item_ids.push_new(id.kind.clone(), value.into_owned());
            }
            if let Some(code) = id.code {
                item_id_codes.push_new(id.kind, code.into_owned());
            }
        }
        (item_ids, item_id_codes)
    }
}

impl<'a> LineDraft<'a> {
    /// A draft of `line`, borrowing every value.
    pub fn of(line: &'a PurchaseOrderLine) -> Self {
        let text = |value: &'a Option<String>| value.as_deref().map(Cow::Borrowed);
        let ids = line.item_ids.entries().iter().map(|(kind, value)| DraftItemId {
            kind: kind.clone(),
            code: None,
            value: Some(Cow::Borrowed(value.as_str())),
        });
        let codes = line.item_id_codes.entries().iter().map(|(kind, code)| DraftItemId {
            kind: kind.clone(),
            code: Some(Cow::Borrowed(code.as_str())),
            value: None,
        });
        LineDraft {
            line_number: text(&line.line_number),
            quantity: line.quantity.map(Number::Value),
            uom: text(&line.uom),
            uom_code: text(&line.uom_code),
            unit_price: line.unit_price.map(Number::Value),
            price_basis: text(&line.price_basis),
            price_type_code: text(&line.price_type_code),
            price_specification_code: text(&line.price_specification_code),
            item_ids: ids.chain(codes).collect(),
            description: text(&line.description),
            requested_delivery_date: line.requested_delivery_date.as_ref().map(Cow::Borrowed),
            packaging: line.packaging.as_deref().map(PackagingDraft::of),
            references: Cow::Borrowed(&line.references),
            extensions: Cow::Borrowed(&line.extensions),
        }
    }

    /// Empties the draft for the next line, keeping the room its item ids took.
    pub fn clear(&mut self) {
        // Every field named, so that a field added is cleared too.
        let LineDraft {
            line_number,
            quantity,
            uom,
            uom_code,
            unit_price,
            price_basis,
            price_type_code,
            price_specification_code,
            item_ids,
            description,
            requested_delivery_date,
            packaging,
            references,
            extensions,
        } = self;
        (*line_number, *uom, *uom_code, *price_basis, *price_type_code, *price_specification_code, *description) =
            (None, None, None, None, None, None, None);
        (*quantity, *unit_price) = (None, None);
        item_ids.clear();
        *requested_delivery_date = None;
        *packaging = None;
        *references = Cow::Borrowed(&[]);
        *extensions = Cow::Borrowed(&[]);
    }

    /// The line, its values copied into strings of its own.
    pub fn into_line(self) -> PurchaseOrderLine {
        let owned = |value: Option<Cow<'a, str>>| value.map(Cow::into_owned);
        let (item_ids, item_id_codes) = DraftItemId::split(self.item_ids);
        PurchaseOrderLine {
            line_number: owned(self.line_number),
            quantity: self.quantity.map(Number::value),
            uom: owned(self.uom),
            uom_code: owned(self.uom_code),
            unit_price: self.unit_price.map(Number::value),
            price_basis: owned(self.price_basis),
            price_type_code: owned(self.price_type_code),
            price_specification_code: owned(self.price_specification_code),
            item_ids,
            item_id_codes,
            description: owned(self.description),
            requested_delivery_date: self.requested_delivery_date.map(Cow::into_owned),
            packaging: self.packaging.map(|p| Box::new(p.into_packaging())),
            references: self.references.into_owned(),
            extensions: self.extensions.into_owned(),
        }
    }
}

/// PO4 as a draft line holds it: `ItemPackaging` with its texts borrowed, as `LineDraft`.
#[derive(Clone, Debug, Default)]
pub struct PackagingDraft<'a> {
    pub pack: Option<Number<'a>>,
    pub size: Option<Number<'a>>,
    pub size_uom: Option<Cow<'a, str>>,
    pub packaging_code: Option<Cow<'a, str>>,
    pub weight_qualifier: Option<Cow<'a, str>>,
    pub gross_weight: Option<Number<'a>>,
    pub weight_uom: Option<Cow<'a, str>>,
    pub gross_volume: Option<Number<'a>>,
    pub volume_uom: Option<Cow<'a, str>>,
    pub length: Option<Number<'a>>,
    pub width: Option<Number<'a>>,
    pub height: Option<Number<'a>>,
    pub dimension_uom: Option<Cow<'a, str>>,
}

impl<'a> PackagingDraft<'a> {
    pub fn of(p: &'a ItemPackaging) -> Self {
        let text = |value: &'a Option<String>| value.as_deref().map(Cow::Borrowed);
        let number = |value: Option<Decimal>| value.map(Number::Value);
        PackagingDraft {
            pack: number(p.pack),
            size: number(p.size),
            size_uom: text(&p.size_uom),
            packaging_code: text(&p.packaging_code),
            weight_qualifier: text(&p.weight_qualifier),
            gross_weight: number(p.gross_weight),
            weight_uom: text(&p.weight_uom),
            gross_volume: number(p.gross_volume),
            volume_uom: text(&p.volume_uom),
            length: number(p.length),
            width: number(p.width),
            height: number(p.height),
            dimension_uom: text(&p.dimension_uom),
        }
    }

    pub fn into_packaging(self) -> ItemPackaging {
        let owned = |value: Option<Cow<'a, str>>| value.map(Cow::into_owned);
        let value = |number: Option<Number<'a>>| number.map(Number::value);
        ItemPackaging {
            pack: value(self.pack),
            size: value(self.size),
            size_uom: owned(self.size_uom),
            packaging_code: owned(self.packaging_code),
            weight_qualifier: owned(self.weight_qualifier),
            gross_weight: value(self.gross_weight),
            weight_uom: owned(self.weight_uom),
            gross_volume: value(self.gross_volume),
            volume_uom: owned(self.volume_uom),
            length: value(self.length),
            width: value(self.width),
            height: value(self.height),
            dimension_uom: owned(self.dimension_uom),
        }
    }
}
