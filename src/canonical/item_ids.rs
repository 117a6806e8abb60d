//! `item_ids`: a small ordered map from id kind (`buyer`, `vendor`, `upc`, …) to value.
//!
//! A line carries one to five ids, so a vector searched in order beats a hash map on every
//! count (and keeps the order the partner sent, which rendering reproduces).

use std::borrow::Cow;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kinds the vocabulary names, and our own (`internal`, from the cross-reference), each as
/// itself and as a JSON key: matches rather than searches, as they run for every id of every
/// line read.
macro_rules! known_kinds {
    ($($word:literal),* $(,)?) => {
        const KNOWN: &[&str] = &[$($word),*];

        fn known_kind(kind: &str) -> Option<&'static str> {
            match kind {
                $($word => Some($word),)*
                _ => None,
            }
        }

        fn known_json_key(kind: &str) -> Option<&'static [u8]> {
            match kind {
                $($word => Some(concat!("\"", $word, "\":").as_bytes()),)*
                _ => None,
            }
        }
    };
}

known_kinds!("buyer", "vendor", "upc", "gtin", "ean", "sku", "manufacturer", "catalog", "internal");

/// Item identifications: normalized name (`buyer`, `vendor`, `upc`, `gtin`, `ean`, `sku`,
/// `manufacturer`, `catalog`, or the qualifier in lower case) to value, in the order sent.
///
/// A kind is nearly always one of a few words, held as a `&'static str`: every line of every
/// document carries two of these maps, and their keys were a third of a line's allocations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemIds(Vec<(Cow<'static, str>, String)>);

impl ItemIds {
    /// The kinds held as static words, for a reader to look for.
    pub(crate) const KNOWN_KINDS: &'static [&'static str] = KNOWN;

    pub fn new() -> Self {
        ItemIds(Vec::new())
    }

    /// Room for `count` ids: a line's are known before they are added.
    pub fn with_capacity(count: usize) -> Self {
        ItemIds(Vec::with_capacity(count))
    }

    /// `kind` as a key: the known word, borrowed, or a copy.
    pub fn kind(kind: &str) -> Cow<'static, str> {
        known_kind(kind).map_or_else(|| Cow::Owned(kind.to_owned()), Cow::Borrowed)
    }

    /// A known kind as a JSON key, quoted and followed by its colon (`"buyer":`): the JSON
    /// writer writes these without looking for characters to escape.
    pub(crate) fn json_key(kind: &str) -> Option<&'static [u8]> {
        known_json_key(kind)
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key`, keeping its place if present; returns the value it replaced.
    pub fn insert(&mut self, key: impl Into<Cow<'static, str>>, value: String) -> Option<String> {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// Adds `key`, which the caller knows is not present.
    pub(crate) fn push_new(&mut self, key: Cow<'static, str>, value: String) {
        debug_assert!(!self.contains_key(&key), "{key} is present");
        self.0.push((key, value));
    }

    /// Removes `key`, keeping the order of the rest.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    /// Each kind with its value, in order.
    pub fn entries(&self) -> &[(Cow<'static, str>, String)] {
        &self.0
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &String)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl IntoIterator for ItemIds {
    type Item = (Cow<'static, str>, String);
    type IntoIter = std::vec::IntoIter<(Cow<'static, str>, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ItemIds {
    type Item = (&'a str, &'a String);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Cow<'static, str>, String)>,
        fn(&'a (Cow<'static, str>, String)) -> Self::Item,
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

impl<K: Into<Cow<'static, str>>> FromIterator<(K, String)> for ItemIds {
    fn from_iter<I: IntoIterator<Item = (K, String)>>(iter: I) -> Self {
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
                while let Some(Kind(key)) = access.next_key::<Kind>()? {
                    let value = access.next_value::<String>()?;
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

/// A kind read from JSON: a known word is not copied.
struct Kind(Cow<'static, str>);

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KindVisitor;

        impl Visitor<'_> for KindVisitor {
            type Value = Kind;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an item id kind")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Kind, E> {
                Ok(Kind(ItemIds::kind(text)))
            }
        }

        deserializer.deserialize_str(KindVisitor)
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
    fn every_known_kind_has_its_json_key() {
        let known = ["buyer", "vendor", "upc", "gtin", "ean", "sku", "manufacturer", "catalog", "internal"];
        for kind in known {
            assert!(matches!(ItemIds::kind(kind), Cow::Borrowed(_)), "{kind}");
            let key = ItemIds::json_key(kind).unwrap_or_else(|| panic!("{kind} has no JSON key"));
            assert_eq!(key, format!("{}:", serde_json::to_string(kind).unwrap()).as_bytes());
        }
        for kind in ["buyers", "bp", "", "vendor#2", "k\"ey"] {
            assert_eq!(ItemIds::json_key(kind), None, "{kind}");
            assert!(matches!(ItemIds::kind(kind), Cow::Owned(_)), "{kind}");
        }
    }

    #[test]
    fn keeps_order_replaces_in_place_and_refuses_duplicate_keys() {
        let mut ids = ItemIds::new();
        ids.insert("vendor", "V1".into());
        ids.insert("buyer", "B1".into());
        assert_eq!(ids.insert("vendor", "V2".into()).as_deref(), Some("V1"));
        assert_eq!(serde_json::to_string(&ids).unwrap(), r#"{"vendor":"V2","buyer":"B1"}"#);
        assert_eq!(ids.remove("vendor").as_deref(), Some("V2"));
        assert_eq!(ids.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["buyer"]);
        let back: ItemIds = serde_json::from_str(r#"{"upc":"1","sku":"2"}"#).unwrap();
        assert_eq!(back.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["upc", "sku"]);
        let odd: ItemIds = serde_json::from_str(r#"{"zz":"1","buyer":"2"}"#).unwrap();
        assert_eq!((odd.get("zz").map(String::as_str), odd.get("buyer").map(String::as_str)), (Some("1"), Some("2")));
        let twice = serde_json::from_str::<ItemIds>(r#"{"upc":"1","upc":"2"}"#).unwrap_err();
        assert!(twice.to_string().contains("appears twice"), "{twice}");
    }
}
