//! `ship_notice`: X12 856, EDIFACT DESADV. The HL (or CPS) hierarchy becomes nested
//! `orders` / `packs` / `items`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Date, Decimal, Extension, ItemIds, Note, Party, Reference, Time};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipNotice {
    /// BSN02 / BGM 1004.
    pub shipment_id: String,
    /// BSN01 / BGM 1225.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose_code: Option<String>,
    /// BGM 1001 document name code (`351`), EDIFACT only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_code: Option<String>,
    /// BSN03 / DTM+137.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_date: Option<Date>,
    /// BSN04.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_time: Option<Time>,
    /// The levels of the hierarchy as sent, top down (`SOPI`, `SOI`, `SOTPI`, `STOI`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hierarchy: Option<String>,
    /// BSN05 hierarchical structure code as sent (`0001`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hierarchy_code: Option<String>,
    /// BSN06 transaction type code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_type_code: Option<String>,
    /// BSN07 status reason code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason_code: Option<String>,
    /// DTM 011 / DTM+11.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_time: Option<Time>,
    /// DTM 017 / DTM+17.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_delivery_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<Carrier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packaging: Option<Packaging>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<Party>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<Order>,
    /// Packs not under any order (S-P-I hierarchies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packs: Vec<Pack>,
    /// Items not under any order or pack (S-I hierarchies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<ShipNoticeTotals>,
    /// Shipment-level segments the model has no field for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
}

/// TD5, REF*BM, REF*CN / TDT, RFF+BM, RFF+CN.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Carrier {
    /// TD503 with TD502 `2` / TDT C040 carrier id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scac: Option<String>,
    /// TD505 / TDT C040 carrier name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// TD504 transportation method (`M` motor, `A` air) / TDT C220 mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// TD501 routing sequence code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_sequence_code: Option<String>,
    /// TD502 id qualifier when it is not `2` (SCAC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_qualifier: Option<String>,
    /// REF*CN / RFF+CN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// REF*BM / RFF+BM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bill_of_lading: Option<String>,
}

/// TD1 / MEA + PAC at shipment level.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Packaging {
    /// TD102 / PAC 7224.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lading_quantity: Option<Decimal>,
    /// TD101 (`CTN25`) / PAC 7065.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_code: Option<String>,
    /// TD106 weight qualifier (`G` gross).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_qualifier: Option<String>,
    /// TD107 / MEA+WT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gross_weight: Option<Decimal>,
    /// TD108 / MEA unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_uom: Option<String>,
    /// TD109 volume, in `volume_uom` (TD110).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_uom: Option<String>,
}

/// An order in the shipment: HL O with PRF / the order number of DESADV lines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Order {
    /// PRF01 / RFF+ON.
    pub po_number: String,
    /// PRF04.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_date: Option<Date>,
    /// PRF02 release number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_number: Option<String>,
    /// PRF03 change order sequence number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_sequence: Option<String>,
    /// PRF05 assigned identification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_id: Option<String>,
    /// PRF06 contract number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    /// PRF07 purchase order type code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_type_code: Option<String>,
    /// The tare (pallet) this order travels on, when tares stand above orders (S-T-O-I).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tare: Option<Box<Pack>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<Party>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packs: Vec<Pack>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
}

/// A pallet (tare) or carton (pack): HL T / HL P with MAN*GM, PO4 / CPS with PAC, GIN+BJ.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    /// `tare` (HL T, a pallet) or `pack` (HL P, a carton).
    #[serde(rename = "type")]
    pub pack_type: String,
    /// MAN*GM / GIN+BJ: the SSCC-18.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sscc: Option<String>,
    /// The hierarchical id as sent (HL01 / CPS 7164), used to keep one pack that several
    /// orders share together when rendering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// CPS 7075 packaging level, EDIFACT only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packaging_level_code: Option<String>,
    /// PO404 / PAC 7065 packaging type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_code: Option<String>,
    /// PAC 7224 number of packages, EDIFACT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// PO4 at the pack level: pack, size, weight, dimensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<super::purchase_order::ItemPackaging>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packs: Vec<Pack>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
}

/// An item: HL I with LIN, SN1, PID / LIN, PIA, QTY+12.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// LIN01 / LIN 1082.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<String>,
    #[serde(default, skip_serializing_if = "ItemIds::is_empty")]
    pub item_ids: ItemIds,
    #[serde(default, skip_serializing_if = "ItemIds::is_empty")]
    pub item_id_codes: ItemIds,
    /// SN102 / QTY+12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_shipped: Option<Decimal>,
    /// Our unit of measure (through the partner's `[xref] uom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// SN103 / QTY 6411 as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom_code: Option<String>,
    /// SN105 / QTY+21.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_ordered: Option<Decimal>,
    /// SN106 unit of the ordered quantity, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_ordered_uom_code: Option<String>,
    /// SN101 assigned identification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_id: Option<String>,
    /// SN104 quantity shipped to date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_shipped_to_date: Option<Decimal>,
    /// SN107 / SN108 status codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_status_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_status_code: Option<String>,
    /// LIN with `LT` qualifier / PIA batch number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot_number: Option<String>,
    /// PID*F / IMD+F.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Packs under an item (S-O-I-P hierarchies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packs: Vec<Pack>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
}

/// CTT / CNT.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipNoticeTotals {
    /// CTT01: number of HL segments / CNT+2 line count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hl_count: Option<Decimal>,
    /// CTT02 hash total / CNT+1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
}
