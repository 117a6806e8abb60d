//! The canonical documents: one JSON model of purchase orders, order acknowledgments and ship
//! notices, whatever standard the partner speaks (DESIGN.md, "Canonical JSON").
//!
//! Quantities and prices are exact decimals; dates are `YYYY-MM-DD` and times `HH:MM[:SS]`;
//! codes the model normalizes keep their raw code beside them. A segment the model has no room
//! for is kept whole under `extensions`, with its position in the transaction set, so nothing a
//! partner sent is lost and rendering puts it back where it was.

mod date;
mod decimal;
mod item_ids;
pub mod json_reader;
pub mod json_writer;
pub mod purchase_order;
pub mod purchase_order_ack;
pub mod schema;
pub mod ship_notice;

use std::fmt;

use schemars::JsonSchema;
use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

pub use date::{Date, Time};
pub(crate) use decimal::DECIMAL_TEXT;
pub use decimal::{Decimal, Number};
pub use item_ids::ItemIds;
pub use purchase_order::{PurchaseOrder, PurchaseOrderLine};
pub use purchase_order_ack::{PurchaseOrderAck, PurchaseOrderAckLine};
pub use ship_notice::{Item, Order, Pack, ShipNotice};

/// The three document types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    PurchaseOrder,
    PurchaseOrderAck,
    ShipNotice,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 3] =
        [DocumentKind::PurchaseOrder, DocumentKind::PurchaseOrderAck, DocumentKind::ShipNotice];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::PurchaseOrder => "purchase_order",
            DocumentKind::PurchaseOrderAck => "purchase_order_ack",
            DocumentKind::ShipNotice => "ship_notice",
        }
    }

    pub fn parse(name: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The X12 transaction set: 850, 855, 856.
    pub fn x12_transaction_set(self) -> &'static str {
        match self {
            DocumentKind::PurchaseOrder => "850",
            DocumentKind::PurchaseOrderAck => "855",
            DocumentKind::ShipNotice => "856",
        }
    }

    /// The X12 functional identifier code of its group (GS01).
    pub fn x12_functional_id(self) -> &'static str {
        match self {
            DocumentKind::PurchaseOrder => "PO",
            DocumentKind::PurchaseOrderAck => "PR",
            DocumentKind::ShipNotice => "SH",
        }
    }

    /// The EDIFACT message: ORDERS, ORDRSP, DESADV.
    pub fn edifact_message(self) -> &'static str {
        match self {
            DocumentKind::PurchaseOrder => "ORDERS",
            DocumentKind::PurchaseOrderAck => "ORDRSP",
            DocumentKind::ShipNotice => "DESADV",
        }
    }

    /// The kind of an X12 transaction set id or EDIFACT message type, if we translate it.
    pub fn from_document_type(id: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.into_iter().find(|k| k.x12_transaction_set() == id || k.edifact_message() == id)
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The standard a document came in (or goes out) in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Standard {
    X12,
    Edifact,
}

impl From<crossdock_parsers::Standard> for Standard {
    fn from(standard: crossdock_parsers::Standard) -> Self {
        match standard {
            crossdock_parsers::Standard::X12 => Standard::X12,
            crossdock_parsers::Standard::Edifact => Standard::Edifact,
        }
    }
}

impl From<Standard> for crossdock_parsers::Standard {
    fn from(standard: Standard) -> Self {
        match standard {
            Standard::X12 => crossdock_parsers::Standard::X12,
            Standard::Edifact => crossdock_parsers::Standard::Edifact,
        }
    }
}

/// A qualified identification: ISA05/06, UNB S002, N103/N104.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QualifiedId {
    pub qualifier: String,
    pub id: String,
}

/// Where a document came from: the envelope around it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub standard: Standard,
    /// `004010`, `005010` (from GS08) or `D96A`, `D01B` (from UNH S009).
    pub version: String,
    /// GS08 in full (`004010VICS`), or the UNH association assigned code (`EAN008`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_detail: Option<String>,
    pub sender: QualifiedId,
    pub receiver: QualifiedId,
    pub interchange_control_number: String,
    #[serde(default)]
    pub group_control_number: Option<String>,
    pub transaction_control_number: String,
    /// `850`, `ORDERS`, ...
    pub transaction_set: String,
    /// GS02 / UNG sender application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_sender: Option<String>,
    /// GS03 / UNG recipient application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_receiver: Option<String>,
    /// ISA15 `T` / UNB test indicator.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
}

/// A reference number: REF / RFF.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub qualifier: String,
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A party identification: N103/N104, NAD C082.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyId {
    /// N103 / NAD 3055 code list agency (`9` for GS1).
    pub qualifier: String,
    pub value: String,
    /// NAD 1131 code list, EDIFACT only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_list: Option<String>,
}

/// A postal address: N3/N4, NAD.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl Address {
    pub fn is_empty(&self) -> bool {
        self == &Address::default()
    }
}

/// A contact: PER, CTA + COM.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// PER01 / CTA 3139 (`BD` buyer, `IC` information contact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fax: Option<String>,
}

/// A trading party: the N1 loop, or the NAD group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// `buyer`, `seller`, `ship_to`, `bill_to`, `ship_from`, `supplier`, `remit_to`, or the raw
    /// code for others.
    pub role: String,
    /// N101 / NAD 3035 as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// N2 additional names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<PartyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
}

/// A free-text note: MSG, NTE, FTX.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub text: String,
    /// NTE01 reference code or FTX subject qualifier (`GEN`, `AAI`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// A segment the model has no field for, kept whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    pub segment: String,
    /// Elements as `crossdock parse` writes them: a string, an array of components, or an
    /// array of repetitions (each an array of components).
    pub elements: Vec<ExtensionElement>,
    /// Position of the segment in its transaction set (the ST or UNH is 1). Rendering puts it
    /// back there; without a position it goes after its container's other segments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
}

/// One element of an extension segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ExtensionElement {
    Simple(String),
    Composite(Vec<String>),
    Repeated(Vec<Vec<String>>),
}

/// Totals: CTT/AMT, CNT/MOA.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    /// CTT01 / CNT+2: number of line items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_count: Option<Decimal>,
    /// CTT02 / CNT+1: hash total of quantities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// AMT02 / MOA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    /// AMT01 / MOA 5025 as sent (`TT`, `1`, `79`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_qualifier: Option<String>,
}

impl Totals {
    pub fn is_empty(&self) -> bool {
        self == &Totals::default()
    }
}

/// The document body, by type.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Document {
    PurchaseOrder(PurchaseOrder),
    PurchaseOrderAck(PurchaseOrderAck),
    ShipNotice(ShipNotice),
}

impl Document {
    pub fn kind(&self) -> DocumentKind {
        match self {
            Document::PurchaseOrder(_) => DocumentKind::PurchaseOrder,
            Document::PurchaseOrderAck(_) => DocumentKind::PurchaseOrderAck,
            Document::ShipNotice(_) => DocumentKind::ShipNotice,
        }
    }

    /// The business reference a person searches for: PO number or shipment id.
    pub fn reference(&self) -> &str {
        match self {
            Document::PurchaseOrder(po) => &po.po_number,
            Document::PurchaseOrderAck(ack) => &ack.po_number,
            Document::ShipNotice(asn) => &asn.shipment_id,
        }
    }
}

/// One canonical document: `{type, partner, envelope, document}`.
#[derive(Clone, Debug, PartialEq)]
pub struct CanonicalDocument {
    /// The partner profile id; `None` when no profile matched (the CLI still translates).
    pub partner: Option<String>,
    /// The envelope it came in; `None` for documents the ERP sends out.
    pub envelope: Option<Envelope>,
    pub document: Document,
}

impl CanonicalDocument {
    pub fn kind(&self) -> DocumentKind {
        self.document.kind()
    }
}

impl Serialize for CanonicalDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("type", &self.kind())?;
        map.serialize_entry("partner", &self.partner)?;
        if let Some(envelope) = &self.envelope {
            map.serialize_entry("envelope", envelope)?;
        }
        map.serialize_entry("document", &self.document)?;
        map.end()
    }
}

/// The keys of a canonical document.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    Type,
    Partner,
    Envelope,
    Document,
}

/// Reads `type` first and then `document` straight into that type, as written by us and by
/// most producers; a `document` that comes before its `type` is held as raw JSON and read
/// once the type is known. (An untagged enum would buffer numbers and lose their exact text.)
struct DocumentVisitor;

impl<'de> serde::de::Visitor<'de> for DocumentVisitor {
    type Value = CanonicalDocument;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a canonical document: an object with type and document")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<CanonicalDocument, A::Error> {
        let mut kind: Option<DocumentKind> = None;
        let mut partner: Option<Option<String>> = None;
        let mut envelope: Option<Option<Envelope>> = None;
        let mut document: Option<Document> = None;
        let mut early: Option<Box<RawValue>> = None;
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Type if kind.is_some() => return Err(A::Error::duplicate_field("type")),
                Field::Type => kind = Some(map.next_value()?),
                Field::Partner if partner.is_some() => return Err(A::Error::duplicate_field("partner")),
                Field::Partner => partner = Some(map.next_value()?),
                Field::Envelope if envelope.is_some() => return Err(A::Error::duplicate_field("envelope")),
                Field::Envelope => envelope = Some(map.next_value()?),
                Field::Document if document.is_some() || early.is_some() => {
                    return Err(A::Error::duplicate_field("document"))
                }
                Field::Document => match kind {
                    Some(DocumentKind::PurchaseOrder) => document = Some(Document::PurchaseOrder(map.next_value()?)),
                    Some(DocumentKind::PurchaseOrderAck) => {
                        document = Some(Document::PurchaseOrderAck(map.next_value()?))
                    }
                    Some(DocumentKind::ShipNotice) => document = Some(Document::ShipNotice(map.next_value()?)),
                    None => early = Some(map.next_value()?),
                },
            }
        }
        let kind = kind.ok_or_else(|| A::Error::missing_field("type"))?;
        let document = match (document, early) {
            (Some(document), _) => document,
            (None, Some(raw)) => {
                let text = raw.get();
                match kind {
                    DocumentKind::PurchaseOrder => serde_json::from_str(text).map(Document::PurchaseOrder),
                    DocumentKind::PurchaseOrderAck => serde_json::from_str(text).map(Document::PurchaseOrderAck),
                    DocumentKind::ShipNotice => serde_json::from_str(text).map(Document::ShipNotice),
                }
                .map_err(|e| A::Error::custom(format!("document: {e}")))?
            }
            (None, None) => return Err(A::Error::missing_field("document")),
        };
        Ok(CanonicalDocument { partner: partner.flatten(), envelope: envelope.flatten(), document })
    }
}

impl<'de> Deserialize<'de> for CanonicalDocument {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DocumentVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<CanonicalDocument, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn type_and_document_in_either_order_with_exact_numbers() {
        let po = r#"{"po_number":"1","lines":[{"quantity":1.10}]}"#;
        for text in [
            format!(r#"{{"type":"purchase_order","document":{po}}}"#),
            format!(r#"{{"document":{po},"partner":"acme","type":"purchase_order"}}"#),
        ] {
            let document = read(&text).unwrap();
            assert_eq!(document.kind(), DocumentKind::PurchaseOrder);
            let json = serde_json::to_value(&document.document).unwrap();
            assert_eq!(json["lines"][0]["quantity"].to_string(), "1.1");
        }
    }

    #[test]
    fn malformed_wrappers_are_refused_with_the_reason() {
        let cases = [
            (r#"{"document":{}}"#, "missing field `type`"),
            (r#"{"type":"purchase_order"}"#, "missing field `document`"),
            (r#"{"type":"purchase_order","type":"ship_notice","document":{}}"#, "duplicate field `type`"),
            (r#"{"type":"purchase_order","extra":1,"document":{}}"#, "unknown field `extra`"),
            (r#"{"type":"invoice","document":{}}"#, "unknown variant `invoice`"),
            (r#"{"document":{"po_number":7},"type":"purchase_order"}"#, "document: invalid type"),
        ];
        for (text, expected) in cases {
            let err = read(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
