//! `purchase_order_ack`: X12 855, EDIFACT ORDRSP.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Contact, Date, Decimal, Extension, ItemIds, Note, Party, Reference, Time, Totals};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderAck {
    /// BAK03 / RFF+ON.
    pub po_number: String,
    /// BAK04 / DTM+171 of the order reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub po_date: Option<Date>,
    /// BAK09 / DTM+137.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_time: Option<Time>,
    /// `accepted`, `accepted_with_changes`, `accepted_with_exceptions`, `rejected`, or the raw
    /// code (BAK02 / BGM 1225).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_type_code: Option<String>,
    /// BAK01 transaction set purpose (`original`, ...), X12 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose_code: Option<String>,
    /// BAK08 seller's order number / BGM 1004 response number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_number: Option<String>,
    /// BGM 1001 document name code (`231`), EDIFACT only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_code: Option<String>,
    /// BAK05.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_number: Option<String>,
    /// BAK06.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_reference_number: Option<String>,
    /// BAK07.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_number: Option<String>,
    /// BAK10 transaction type code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_type_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parties: Vec<Party>,
    #[serde(default)]
    pub lines: Vec<PurchaseOrderAckLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
}

/// One acknowledged line: PO1 + ACK, LIN group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderAckLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_number: Option<String>,
    /// The ordered quantity (PO102 / QTY+21).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_basis: Option<String>,
    /// PRI 5375 price type (`CT` contract), EDIFACT only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_type_code: Option<String>,
    /// PRI 5387 price specification (`AAE`), EDIFACT only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_specification_code: Option<String>,
    #[serde(default, skip_serializing_if = "ItemIds::is_empty")]
    pub item_ids: ItemIds,
    #[serde(default, skip_serializing_if = "ItemIds::is_empty")]
    pub item_id_codes: ItemIds,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `accepted`, `backordered`, `accepted_with_changes`, `deleted`, `price_changed`,
    /// `quantity_changed`, `rejected`, `date_changed`, `substituted`, `on_hold`, `other`
    /// (ACK01 / LIN 1229).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    /// ACK02 / QTY the status applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_quantity: Option<Decimal>,
    /// ACK03 unit of measure of `status_quantity`, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_uom_code: Option<String>,
    /// ACK05 / DTM in the line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_date: Option<Date>,
    /// ACK04 date qualifier (`068` current schedule ship, `067` current schedule delivery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_date_qualifier: Option<String>,
    /// ACK27-ACK29: an industry reason code (agency, code list, code), as book trade sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason_agency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason_list: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason_code: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
}
