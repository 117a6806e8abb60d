//! Cross-reference tables of a partner profile: its units of measure and item ids to ours on
//! the way in, ours to its on the way out.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::canonical::purchase_order::DraftItemId;
use crate::canonical::ItemIds;

/// The `item_ids` key under which the inbound translation puts our own item id, looked up from
/// the partner's. Rendering never sends it to the partner.
pub const INTERNAL_ITEM_ID: &str = "internal";

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Xref {
    uom_inbound: HashMap<String, String>,
    uom_outbound: HashMap<String, String>,
    items_inbound: HashMap<String, String>,
    items_outbound: HashMap<String, String>,
    /// The `item_ids` key that holds the partner's own item number (`buyer` for a customer,
    /// `vendor` for a supplier).
    partner_item_key: String,
}

impl Xref {
    /// `uom`: partner code to our code. `items`: partner item id to our item id.
    pub fn new(
        uom: impl IntoIterator<Item = (String, String)>,
        items: impl IntoIterator<Item = (String, String)>,
        partner_item_key: &str,
    ) -> Self {
        let mut xref = Xref { partner_item_key: partner_item_key.to_owned(), ..Xref::default() };
        for (theirs, ours) in uom {
            xref.uom_outbound.entry(ours.clone()).or_insert_with(|| theirs.clone());
            xref.uom_inbound.insert(theirs, ours);
        }
        for (theirs, ours) in items {
            xref.items_outbound.entry(ours.clone()).or_insert_with(|| theirs.clone());
            xref.items_inbound.insert(theirs, ours);
        }
        xref
    }

    pub fn uom_inbound(&self, code: &str) -> Option<&str> {
        self.uom_inbound.get(code).map(String::as_str)
    }

    pub fn uom_outbound(&self, ours: &str) -> Option<&str> {
        self.uom_outbound.get(ours).map(String::as_str)
    }

    pub fn partner_item_key(&self) -> &str {
        &self.partner_item_key
    }

    /// Adds our item id, when the partner's is in the table.
    pub fn items_inbound(&self, ids: &mut ItemIds) {
        let ours = ids.get(&self.partner_item_key).and_then(|theirs| self.items_inbound.get(theirs)).cloned();
        if let Some(ours) = ours {
            ids.insert(INTERNAL_ITEM_ID, ours);
        }
    }

    /// As `items_inbound`, for the item ids of a line being read.
    pub fn items_inbound_draft(&self, ids: &mut Vec<DraftItemId<'_>>) {
        // Most profiles have no item table: nothing to look for on every line.
        if self.items_inbound.is_empty() {
            return;
        }
        let theirs = ids.iter().find(|id| id.kind == self.partner_item_key).and_then(|id| id.value.as_deref());
        let Some(ours) = theirs.and_then(|theirs| self.items_inbound.get(theirs)) else { return };
        let ours = Some(Cow::Owned(ours.clone()));
        match ids.iter_mut().find(|id| id.kind == INTERNAL_ITEM_ID && id.value.is_some()) {
            Some(id) => id.value = ours,
            None => ids.push(DraftItemId { kind: Cow::Borrowed(INTERNAL_ITEM_ID), code: None, value: ours }),
        }
    }

    /// The partner's item id for our item id, when we know it and the document lacks it.
    pub fn items_outbound(&self, ids: &ItemIds) -> Option<(String, String)> {
        self.items_outbound_ref(ids).map(|(key, value)| (key.to_owned(), value.to_owned()))
    }

    /// `items_outbound`, borrowed.
    pub fn items_outbound_ref(&self, ids: &ItemIds) -> Option<(&str, &str)> {
        if self.items_outbound.is_empty() || ids.contains_key(&self.partner_item_key) {
            return None;
        }
        let ours = ids.get(INTERNAL_ITEM_ID)?;
        let theirs = self.items_outbound.get(ours)?;
        Some((&self.partner_item_key, theirs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ways() {
        let xref = Xref::new(
            [("CA".to_owned(), "CASE".to_owned()), ("EA".to_owned(), "EACH".to_owned())],
            [("ACME-1".to_owned(), "SKU-9".to_owned())],
            "buyer",
        );
        assert_eq!(xref.uom_inbound("CA"), Some("CASE"));
        assert_eq!(xref.uom_outbound("EACH"), Some("EA"));
        let mut ids = ItemIds::new();
        ids.insert("buyer", "ACME-1".into());
        xref.items_inbound(&mut ids);
        assert_eq!(ids.get(INTERNAL_ITEM_ID).map(String::as_str), Some("SKU-9"));
        let mut ours = ItemIds::new();
        ours.insert(INTERNAL_ITEM_ID, "SKU-9".into());
        assert_eq!(xref.items_outbound(&ours), Some(("buyer".into(), "ACME-1".into())));
    }
}
