//! `item_ids`: a small ordered map from id kind (`buyer`, `vendor`, `upc`, …) to value.
//!
//! A line carries one to five ids, so a vector searched in order beats a hash map on every
//! count (and keeps the order the partner sent, which rendering reproduces).

use std::fmt;

use schemars::JsonSchema;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Item identifications: normalized name (`buyer`, `vendor`, `upc`, `gtin`, `ean`, `sku`,
/// `manufacturer`, `catalog`, or the qualifier in lower case) to value, in the order sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemIds(Vec<(String, String)>);

impl ItemIds {
    pub fn new() -> Self {
        ItemIds(Vec::new())
    }

    /// Room for `count` ids: a line's are known before they are added.
    pub fn with_capacity(count: usize) -> Self {
        ItemIds(Vec::with_capacity(count))
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key`, keeping its place if present; returns the value it replaced.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// Removes `key`, keeping the order of the rest.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl IntoIterator for ItemIds {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ItemIds {
    type Item = (&'a String, &'a String);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (String, String)>, fn(&'a (String, String)) -> Self::Item>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl FromIterator<(String, String)> for ItemIds {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut ids = ItemIds::new();
        for (k, v) in iter {
            ids.insert(k, v);
        }
        ids
    }
}

impl Serialize for ItemIds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ItemIds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdsVisitor;

        impl<'de> Visitor<'de> for IdsVisitor {
            type Value = ItemIds;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of item id kinds to values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<ItemIds, A::Error> {
                // A line carries one to five ids: sized once rather than grown from empty.
                let mut ids = ItemIds::with_capacity(access.size_hint().unwrap_or(4));
                while let Some((key, value)) = access.next_entry::<String, String>()? {
                    if ids.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!("item id kind {key:?} appears twice")));
                    }
                    ids.0.push((key, value));
                }
                Ok(ids)
            }
        }

        deserializer.deserialize_map(IdsVisitor)
    }
}

impl JsonSchema for ItemIds {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ItemIds".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "description": "Item identifications: kind (buyer, vendor, upc, gtin, ean, sku, manufacturer, catalog, or the qualifier in lower case) to value, in the order sent",
            "additionalProperties": { "type": "string" }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_replaces_in_place_and_refuses_duplicate_keys() {
        let mut ids = ItemIds::new();
        ids.insert("vendor".into(), "V1".into());
        ids.insert("buyer".into(), "B1".into());
        assert_eq!(ids.insert("vendor".into(), "V2".into()).as_deref(), Some("V1"));
        assert_eq!(serde_json::to_string(&ids).unwrap(), r#"{"vendor":"V2","buyer":"B1"}"#);
        assert_eq!(ids.remove("vendor").as_deref(), Some("V2"));
        assert_eq!(ids.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["buyer"]);
        let back: ItemIds = serde_json::from_str(r#"{"upc":"1","sku":"2"}"#).unwrap();
        assert_eq!(back.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["upc", "sku"]);
        let twice = serde_json::from_str::<ItemIds>(r#"{"upc":"1","upc":"2"}"#).unwrap_err();
        assert!(twice.to_string().contains("appears twice"), "{twice}");
    }
}
