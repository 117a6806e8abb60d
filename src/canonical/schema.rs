//! JSON Schemas (draft 2020-12) of the canonical documents: `crossdock schema TYPE`.

use schemars::JsonSchema;
use serde_json::{json, Value};

use super::{DocumentKind, Envelope, PurchaseOrder, PurchaseOrderAck, ShipNotice};

/// The wire shape, for schema generation only.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct Canonical<D> {
    #[serde(rename = "type")]
    kind: String,
    /// The partner profile id (`null` when no profile matched).
    partner: Option<String>,
    envelope: Option<Envelope>,
    document: D,
}

/// The schema of one document type.
pub fn schema(kind: DocumentKind) -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = match kind {
        DocumentKind::PurchaseOrder => generator.into_root_schema_for::<Canonical<PurchaseOrder>>(),
        DocumentKind::PurchaseOrderAck => generator.into_root_schema_for::<Canonical<PurchaseOrderAck>>(),
        DocumentKind::ShipNotice => generator.into_root_schema_for::<Canonical<ShipNotice>>(),
    };
    let mut value = schema.to_value();
    if let Some(object) = value.as_object_mut() {
        object.insert("$id".into(), json!(format!("https://crossdock.dev/schema/{}.json", kind.as_str())));
        object.insert("title".into(), json!(kind.as_str()));
        object.insert("additionalProperties".into(), json!(false));
        if let Some(properties) = object.get_mut("properties").and_then(Value::as_object_mut) {
            properties.insert("type".into(), json!({ "const": kind.as_str() }));
        }
        // `envelope` is written only for documents that came in an envelope.
        if let Some(required) = object.get_mut("required").and_then(Value::as_array_mut) {
            required.retain(|r| r != "envelope" && r != "partner");
        }
    }
    value
}
