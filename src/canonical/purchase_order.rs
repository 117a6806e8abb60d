//! `purchase_order`: X12 850, EDIFACT ORDERS.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
