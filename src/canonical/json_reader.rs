//! A reader of canonical purchase orders in JSON, made for `crossdock render`'s hot path.
//!
//! serde's derived readers spent about 40% of `crossdock render`'s time on the bench's
//! purchase orders, most of it in the walk around each field rather than in the bytes. This
//! reader takes the plain case head on: a `purchase_order` whose `type` comes before its
//! `document`, strings without escapes, no extensions. It reads such a document into exactly
//! the value serde reads, or gives up (`None`) anywhere it is not sure, and serde reads the
//! document from its start, with serde's errors for what is wrong with it. So it never
//! refuses what serde accepts nor accepts what serde refuses; a property test holds the two
//! equal on generated and damaged documents.

use std::borrow::Cow;

use super::json_writer::{escape_mask, needs_escape};
use super::purchase_order::ItemPackaging;
use super::{
    Address, CanonicalDocument, Contact, Date, Decimal, Document, Envelope, ItemIds, Note, Party, PartyId,
    PurchaseOrder, PurchaseOrderLine, QualifiedId, Reference, Standard, Time, Totals,
};

/// Reads one canonical purchase order from the start of `text` (after any whitespace);
/// returns it and the bytes it took, or `None` for serde to read.
pub fn read_purchase_order(text: &str) -> Option<(CanonicalDocument, usize)> {
    let mut c = Cursor { text, bytes: text.as_bytes(), at: 0 };
    let document = c.canonical_document()?;
    Some((document, c.at))
}

struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

/// Marks field `bit` as read; `None` when it was read before (serde refuses duplicates).
fn once(seen: &mut u64, bit: u32) -> Option<()> {
    let mask = 1 << bit;
    if *seen & mask != 0 {
        return None;
    }
    *seen |= mask;
    Some(())
}

/// An object of known fields, read with `keyed_object`: each key, its bit in `seen` (serde
/// refuses a key given twice; a field's bit is its place in the list), an optional condition,
/// and how its value is read, with the cursor named `$c`. Any other key is left to serde.
macro_rules! fields {
    ($cursor:expr, $c:ident, $seen:ident, { $($name:literal $bit:literal $(if $guard:expr)? => $read:expr,)* }) => {{
        const KEYS: &[&str] = &[$($name),*];
        // A field's bit is its place in KEYS, which `keyed_object` hands over.
        const _: () = {
            let bits = [$($bit),*];
            let mut i = 0;
            while i < bits.len() {
                assert!(bits[i] == i);
                i += 1;
            }
        };
        $cursor.keyed_object(KEYS, |$c, place| {
            match place {
                $($bit $(if $guard)? => {
                    once(&mut $seen, $bit)?;
                    $read;
                })*
                _ => return None,
            }
            Some(())
        })
    }};
}

/// Whether `a` and `b` hold the same bytes: for a key of a few bytes, words compared (the
/// last one overlapping) rather than a call to memcmp.
fn same_short(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| s.get(at..at + 8).map(|w| u64::from_le_bytes(w.try_into().unwrap_or_default()));
    let half = |s: &[u8], at: usize| s.get(at..at + 4).map(|w| u32::from_le_bytes(w.try_into().unwrap_or_default()));
    match n {
        0..4 => a.iter().zip(b).all(|(x, y)| x == y),
        4..8 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => (0..n - 8).step_by(8).all(|at| word(a, at) == word(b, at)) && word(a, n - 8) == word(b, n - 8),
    }
}

impl<'a> Cursor<'a> {
    /// The next byte after JSON whitespace.
    fn peek(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// `null`, taken if it is next.
    fn null(&mut self) -> bool {
        let is_null = self.peek() == Some(b'n') && self.bytes[self.at..].starts_with(b"null");
        if is_null {
            self.at += 4;
        }
        is_null
    }

    /// A string without escapes or control characters (serde refuses the latter; the former
    /// are left to it).
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        // Eight bytes at a time to the first quote, backslash or control character; the
        // string must end at a quote (an escape or a control character is serde's to read).
        let bytes = self.bytes;
        let mut at = start;
        let end = loop {
            match bytes.get(at..at + 8) {
                Some(word) => {
                    let mask = escape_mask(u64::from_le_bytes(word.try_into().ok()?));
                    if mask != 0 {
                        break at + (mask.trailing_zeros() / 8) as usize;
                    }
                    at += 8;
                }
                None => break at + bytes.get(at..)?.iter().position(|&b| needs_escape(b))?,
            }
        };
        if bytes.get(end) != Some(&b'"') {
            return None;
        }
        self.at = end;
        let text = self.text.get(start..self.at)?;
        self.at += 1;
        Some(text)
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(str::to_owned)
    }

    fn optional<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.null() {
            return Some(None);
        }
        read(self).map(Some)
    }

    fn boolean(&mut self) -> Option<bool> {
        for (text, value) in [(&b"true"[..], true), (b"false", false)] {
            if self.peek()? == text[0] && self.bytes[self.at..].starts_with(text) {
                self.at += text.len();
                return Some(value);
            }
        }
        None
    }

    fn standard(&mut self) -> Option<Standard> {
        match self.str()? {
            "x12" => Some(Standard::X12),
            "edifact" => Some(Standard::Edifact),
            _ => None,
        }
    }

    fn opt_string(&mut self) -> Option<Option<String>> {
        self.optional(Self::string)
    }

    /// A number's text as JSON's grammar has it: `-`, an integer without leading zeros, an
    /// optional fraction and an optional exponent.
    fn number(&mut self) -> Option<&'a str> {
        self.peek()?;
        let start = self.at;
        let digits = |c: &mut Self| {
            let from = c.at;
            while c.bytes.get(c.at).is_some_and(u8::is_ascii_digit) {
                c.at += 1;
            }
            c.at - from
        };
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        match self.bytes.get(self.at) {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return None,
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            if digits(self) == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                self.at += 1;
            }
            if digits(self) == 0 {
                return None;
            }
        }
        // A digit straight after `0` (`01`, not JSON) is refused by the caller, which wants a
        // delimiter next.
        self.text.get(start..self.at)
    }

    fn opt_decimal(&mut self) -> Option<Option<Decimal>> {
        self.optional(|c| Decimal::from_json(c.number()?).ok())
    }

    fn opt_date(&mut self) -> Option<Option<Date>> {
        self.optional(|c| Date::parse_iso(c.str()?))
    }

    fn opt_time(&mut self) -> Option<Option<Time>> {
        self.optional(|c| Time::parse_iso(c.str()?))
    }

    /// An object, each key handed to `field` with the cursor at its value.
    fn object(&mut self, field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.object_by(Self::str, field)
    }

    /// An object whose keys `key` reads (giving what `field` is handed with the cursor at
    /// the key's value).
    fn object_by<K>(
        &mut self,
        mut key: impl FnMut(&mut Self) -> Option<K>,
        mut field: impl FnMut(&mut Self, K) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = key(self)?;
            self.eat(b':')?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An object of the fields `keys` names, each handed to `field` by its place in `keys`
    /// with the cursor at its value. Crossdock's writer lists a document's fields in the
    /// order of `keys`, so the next key is first looked for among those after the last one
    /// read: a byte or two per field passed over, where reading the key and matching it
    /// against every name took a tenth of `crossdock render`. A key out of that order is read
    /// and looked up; an unknown one gives `None`.
    fn keyed_object(&mut self, keys: &[&str], field: impl FnMut(&mut Self, usize) -> Option<()>) -> Option<()> {
        let mut next = 0;
        let key = |c: &mut Self| {
            let place = match c.key_among(keys, next) {
                Some(place) => place,
                None => {
                    let key = c.str()?;
                    keys.iter().position(|k| *k == key)?
                }
            };
            next = place + 1;
            Some(place)
        };
        self.object_by(key, field)
    }

    /// The place in `keys`, from `from` on, of the key (a string without escapes) the cursor
    /// is at, which it then passes; `None`, the cursor left at the key, when it is none of
    /// those.
    fn key_among(&mut self, keys: &[&str], from: usize) -> Option<usize> {
        if self.peek()? != b'"' {
            return None;
        }
        let rest = self.bytes.get(self.at + 1..)?;
        let place = (from..keys.len()).find(|&i| {
            let key = keys[i].as_bytes();
            rest.get(key.len()) == Some(&b'"') && rest.get(..key.len()).is_some_and(|text| same_short(text, key))
        })?;
        self.at += keys[place].len() + 2;
        Some(place)
    }

    fn array<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        self.eat(b'[')?;
        let mut items = Vec::new();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(items);
        }
        loop {
            items.push(item(self)?);
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(items);
                }
                _ => return None,
            }
        }
    }

    /// An array of values read in place, for large ones (a purchase order line is 336 bytes,
    /// and returning each and pushing it copied it twice).
    fn array_in_place<T: Default>(&mut self, mut item: impl FnMut(&mut Self, &mut T) -> Option<()>) -> Option<Vec<T>> {
        self.eat(b'[')?;
        let mut items = Vec::new();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(items);
        }
        items.reserve(16);
        loop {
            items.push(T::default());
            let last = items.last_mut()?;
            item(self, last)?;
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(items);
                }
                _ => return None,
            }
        }
    }

    /// Extensions are left to serde, unless there are none.
    fn no_extensions<T>(&mut self) -> Option<Vec<T>> {
        self.eat(b'[')?;
        self.eat(b']')?;
        Some(Vec::new())
    }

    fn canonical_document(&mut self) -> Option<CanonicalDocument> {
        let (mut seen, mut typed) = (0, false);
        let (mut partner, mut envelope, mut document) = (None, None, None);
        fields!(self, c, seen, {
            // The document must come after its type, and be a purchase order.
            "type" 0 => typed = (c.str()? == "purchase_order").then_some(true)?,
            "partner" 1 => partner = c.opt_string()?,
            "envelope" 2 => envelope = c.optional(Self::envelope)?,
            "document" 3 if typed => document = Some(c.purchase_order()?),
        })?;
        Some(CanonicalDocument { partner, envelope, document: Document::PurchaseOrder(document?) })
    }

    fn qualified_id(&mut self) -> Option<QualifiedId> {
        let (mut seen, mut qualifier, mut id) = (0, None, None);
        fields!(self, c, seen, {
            "qualifier" 0 => qualifier = Some(c.string()?),
            "id" 1 => id = Some(c.string()?),
        })?;
        Some(QualifiedId { qualifier: qualifier?, id: id? })
    }

    fn envelope(&mut self) -> Option<Envelope> {
        let mut seen = 0;
        let (mut standard, mut version, mut sender, mut receiver) = (None, None, None, None);
        let (mut interchange, mut transaction, mut transaction_set) = (None, None, None);
        let (mut version_detail, mut group, mut application_sender, mut application_receiver) =
            (None, None, None, None);
        let mut test = false;
        fields!(self, c, seen, {
            "standard" 0 => standard = Some(c.standard()?),
            "version" 1 => version = Some(c.string()?),
            "version_detail" 2 => version_detail = c.opt_string()?,
            "sender" 3 => sender = Some(c.qualified_id()?),
            "receiver" 4 => receiver = Some(c.qualified_id()?),
            "interchange_control_number" 5 => interchange = Some(c.string()?),
            "group_control_number" 6 => group = c.opt_string()?,
            "transaction_control_number" 7 => transaction = Some(c.string()?),
            "transaction_set" 8 => transaction_set = Some(c.string()?),
            "application_sender" 9 => application_sender = c.opt_string()?,
            "application_receiver" 10 => application_receiver = c.opt_string()?,
            "test" 11 => test = c.boolean()?,
        })?;
        Some(Envelope {
            standard: standard?,
            version: version?,
            version_detail,
            sender: sender?,
            receiver: receiver?,
            interchange_control_number: interchange?,
            group_control_number: group,
            transaction_control_number: transaction?,
            transaction_set: transaction_set?,
            application_sender,
            application_receiver,
            test,
        })
    }

    fn purchase_order(&mut self) -> Option<PurchaseOrder> {
        let mut po = PurchaseOrder::default();
        let mut seen = 0;
        fields!(self, c, seen, {
            "po_number" 0 => po.po_number = c.string()?,
            "purpose" 1 => po.purpose = c.opt_string()?,
            "purpose_code" 2 => po.purpose_code = c.opt_string()?,
            "order_type_code" 3 => po.order_type_code = c.opt_string()?,
            "po_date" 4 => po.po_date = c.opt_date()?,
            "po_time" 5 => po.po_time = c.opt_time()?,
            "release_number" 6 => po.release_number = c.opt_string()?,
            "contract_number" 7 => po.contract_number = c.opt_string()?,
            "acknowledgment_type_code" 8 => po.acknowledgment_type_code = c.opt_string()?,
            "invoice_type_code" 9 => po.invoice_type_code = c.opt_string()?,
            "contract_type_code" 10 => po.contract_type_code = c.opt_string()?,
            "purchase_category_code" 11 => po.purchase_category_code = c.opt_string()?,
            "security_level_code" 12 => po.security_level_code = c.opt_string()?,
            "transaction_type_code" 13 => po.transaction_type_code = c.opt_string()?,
            "currency" 14 => po.currency = c.opt_string()?,
            "requested_delivery_date" 15 => po.requested_delivery_date = c.opt_date()?,
            "requested_ship_date" 16 => po.requested_ship_date = c.opt_date()?,
            "cancel_after_date" 17 => po.cancel_after_date = c.opt_date()?,
            "references" 18 => po.references = c.array(Self::reference)?,
            "contacts" 19 => po.contacts = c.array(Self::contact)?,
            "notes" 20 => po.notes = c.array(Self::note)?,
            "parties" 21 => po.parties = c.array(Self::party)?,
            "lines" 22 => po.lines = c.array_in_place(Self::line)?,
            "totals" 23 => po.totals = c.optional(Self::totals)?,
            "extensions" 24 => po.extensions = c.no_extensions()?,
        })?;
        // po_number has no default: serde says it is missing.
        (seen & 1 != 0).then_some(po)
    }

    fn line(&mut self, line: &mut PurchaseOrderLine) -> Option<()> {
        let mut seen = 0;
        fields!(self, c, seen, {
            "line_number" 0 => line.line_number = c.opt_string()?,
            "quantity" 1 => line.quantity = c.opt_decimal()?,
            "uom" 2 => line.uom = c.opt_string()?,
            "uom_code" 3 => line.uom_code = c.opt_string()?,
            "unit_price" 4 => line.unit_price = c.opt_decimal()?,
            "price_basis" 5 => line.price_basis = c.opt_string()?,
            "price_type_code" 6 => line.price_type_code = c.opt_string()?,
            "price_specification_code" 7 => line.price_specification_code = c.opt_string()?,
            "item_ids" 8 => line.item_ids = c.item_ids()?,
            "item_id_codes" 9 => line.item_id_codes = c.item_ids()?,
            "description" 10 => line.description = c.opt_string()?,
            "requested_delivery_date" 11 => line.requested_delivery_date = c.opt_date()?,
            "packaging" 12 => line.packaging = c.optional(|c| c.packaging().map(Box::new))?,
            "references" 13 => line.references = c.array(Self::reference)?,
            "extensions" 14 => line.extensions = c.no_extensions()?,
        })
    }

    fn item_ids(&mut self) -> Option<ItemIds> {
        let mut ids = ItemIds::with_capacity(4);
        // A kind the vocabulary names is found without reading its key.
        let kind = |c: &mut Self| match c.key_among(ItemIds::KNOWN_KINDS, 0) {
            Some(place) => Some(Cow::Borrowed(ItemIds::KNOWN_KINDS[place])),
            None => c.str().map(ItemIds::kind),
        };
        self.object_by(kind, |c, kind| {
            if ids.contains_key(&kind) {
                return None;
            }
            let value = c.string()?;
            ids.push_new(kind, value);
            Some(())
        })?;
        Some(ids)
    }

    fn packaging(&mut self) -> Option<ItemPackaging> {
        let mut p = ItemPackaging::default();
        let mut seen = 0;
        fields!(self, c, seen, {
            "pack" 0 => p.pack = c.opt_decimal()?,
            "size" 1 => p.size = c.opt_decimal()?,
            "size_uom" 2 => p.size_uom = c.opt_string()?,
            "packaging_code" 3 => p.packaging_code = c.opt_string()?,
            "weight_qualifier" 4 => p.weight_qualifier = c.opt_string()?,
            "gross_weight" 5 => p.gross_weight = c.opt_decimal()?,
            "weight_uom" 6 => p.weight_uom = c.opt_string()?,
            "gross_volume" 7 => p.gross_volume = c.opt_decimal()?,
            "volume_uom" 8 => p.volume_uom = c.opt_string()?,
            "length" 9 => p.length = c.opt_decimal()?,
            "width" 10 => p.width = c.opt_decimal()?,
            "height" 11 => p.height = c.opt_decimal()?,
            "dimension_uom" 12 => p.dimension_uom = c.opt_string()?,
        })?;
        Some(p)
    }

    fn totals(&mut self) -> Option<Totals> {
        let mut t = Totals::default();
        let mut seen = 0;
        fields!(self, c, seen, {
            "line_count" 0 => t.line_count = c.opt_decimal()?,
            "quantity" 1 => t.quantity = c.opt_decimal()?,
            "amount" 2 => t.amount = c.opt_decimal()?,
            "amount_qualifier" 3 => t.amount_qualifier = c.opt_string()?,
        })?;
        Some(t)
    }

    fn reference(&mut self) -> Option<Reference> {
        let (qualifier, value, description) = self.qualified_value("description")?;
        Some(Reference { qualifier, value, description })
    }

    fn party_id(&mut self) -> Option<PartyId> {
        let (qualifier, value, code_list) = self.qualified_value("code_list")?;
        Some(PartyId { qualifier, value, code_list })
    }

    /// `{"qualifier", "value", <third>}`, the first two required: a reference (`description`)
    /// or a party id (`code_list`).
    fn qualified_value(&mut self, third: &str) -> Option<(String, String, Option<String>)> {
        let (mut seen, mut qualifier, mut value, mut extra) = (0, None, None, None);
        self.object(|c, key| {
            let bit = match key {
                "qualifier" => 0,
                "value" => 1,
                _ if key == third => 2,
                _ => return None,
            };
            once(&mut seen, bit)?;
            match bit {
                0 => qualifier = Some(c.string()?),
                1 => value = Some(c.string()?),
                _ => extra = c.opt_string()?,
            }
            Some(())
        })?;
        Some((qualifier?, value?, extra))
    }

    fn contact(&mut self) -> Option<Contact> {
        let mut contact = Contact::default();
        let mut seen = 0;
        fields!(self, c, seen, {
            "function_code" 0 => contact.function_code = c.opt_string()?,
            "name" 1 => contact.name = c.opt_string()?,
            "phone" 2 => contact.phone = c.opt_string()?,
            "email" 3 => contact.email = c.opt_string()?,
            "fax" 4 => contact.fax = c.opt_string()?,
        })?;
        Some(contact)
    }

    fn note(&mut self) -> Option<Note> {
        let (mut seen, mut text, mut code) = (0, None, None);
        fields!(self, c, seen, {
            "text" 0 => text = Some(c.string()?),
            "code" 1 => code = c.opt_string()?,
        })?;
        Some(Note { text: text?, code })
    }

    fn party(&mut self) -> Option<Party> {
        let mut party = Party::default();
        let mut seen = 0;
        fields!(self, c, seen, {
            "role" 0 => party.role = c.string()?,
            "role_code" 1 => party.role_code = c.opt_string()?,
            "name" 2 => party.name = c.opt_string()?,
            "additional_names" 3 => party.additional_names = c.array(Self::string)?,
            "id" 4 => party.id = c.optional(Self::party_id)?,
            "address" 5 => party.address = c.optional(Self::address)?,
            "contacts" 6 => party.contacts = c.array(Self::contact)?,
            "references" 7 => party.references = c.array(Self::reference)?,
            "extensions" 8 => party.extensions = c.no_extensions()?,
        })?;
        // role has no default: serde says it is missing.
        (seen & 1 != 0).then_some(party)
    }

    fn address(&mut self) -> Option<Address> {
        let mut address = Address::default();
        let mut seen = 0;
        fields!(self, c, seen, {
            "lines" 0 => address.lines = c.array(Self::string)?,
            "city" 1 => address.city = c.opt_string()?,
            "region" 2 => address.region = c.opt_string()?,
            "postal_code" 3 => address.postal_code = c.opt_string()?,
            "country" 4 => address.country = c.opt_string()?,
        })?;
        Some(address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Holds the reader to serde on `text`; returns whether the reader read it.
    fn agree(text: &str) -> bool {
        let mut serde = serde_json::Deserializer::from_str(text).into_iter::<CanonicalDocument>();
        let by_serde = serde.next();
        match read_purchase_order(text) {
            Some((read, length)) => {
                assert!(matches!(&by_serde, Some(Ok(d)) if *d == read), "{text}: serde read {by_serde:?}");
                assert_eq!(serde.byte_offset(), length, "{text}");
                true
            }
            None => false,
        }
    }

    fn serde_refuses(text: &str) -> bool {
        serde_json::from_str::<CanonicalDocument>(text).is_err()
    }

    fn reversed(fields: &mut [(String, serde_json::Value)]) {
        fields.reverse();
    }

    fn rotated(fields: &mut [(String, serde_json::Value)]) {
        if !fields.is_empty() {
            fields.rotate_left(1);
        }
    }

    /// Reorders the fields of every object in `value` with `turn`.
    fn reorder(value: &mut serde_json::Value, turn: fn(&mut [(String, serde_json::Value)])) {
        match value {
            serde_json::Value::Object(map) => {
                let mut fields: Vec<_> = std::mem::take(map).into_iter().collect();
                turn(&mut fields);
                for (_, field) in &mut fields {
                    reorder(field, turn);
                }
                map.extend(fields);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|item| reorder(item, turn)),
            _ => {}
        }
    }

    fn po(document: &str) -> String {
        format!(r#"{{"type":"purchase_order","partner":"acme","document":{document}}}"#)
    }

    #[test]
    fn reads_plain_purchase_orders_as_serde_does() {
        let line = r#"{"line_number":"1","quantity":1e2,"unit_price":-0.50,"uom":null,"item_ids":{"buyer":"B1","zz":"Z"},"item_id_codes":{"buyer":"BP"},"packaging":{"pack":2,"size_uom":"EA"},"requested_delivery_date":"2026-02-28","references":[{"qualifier":"ZZ","value":"1","description":null}],"extensions":[ ]}"#;
        let party = r#"{"role":"ship_to","id":{"qualifier":"92","value":"1","code_list":"9"},"address":{"lines":["A","B"],"city":"X"},"additional_names":["N"],"contacts":[{"name":"J","fax":"1"}]}"#;
        let envelope = r#"{"standard":"x12","version":"004010","sender":{"qualifier":"ZZ","id":"A"},"receiver":{"qualifier":"ZZ","id":"B"},"interchange_control_number":"1","group_control_number":null,"transaction_control_number":"0001","transaction_set":"850","test":true}"#;
        let document = format!(
            r#"{{"po_number":"PO-1","po_date":"2026-01-01","po_time":"10:30","notes":[{{"text":"T","code":"GEN"}}],"parties":[{party}],"lines":[{line},{line}],"totals":{{"line_count":2,"amount":1.5}}}}"#
        );
        let text = format!(r#"{{"type":"purchase_order","partner":null,"envelope":{envelope},"document":{document}}}"#);
        assert!(agree(&text));
        // Whitespace anywhere JSON allows it.
        let pretty = serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&text).unwrap()).unwrap();
        assert!(agree(&pretty));
        // Fields in any order, `type` still first: every object's fields reversed, then
        // rotated by one (the reader looks for the writer's order first, and for any other
        // key by name).
        for turn in [reversed as fn(&mut [(String, serde_json::Value)]), rotated] {
            let mut value = serde_json::from_str::<serde_json::Value>(&text).unwrap();
            reorder(&mut value, turn);
            // Except `type`, which the reader wants before the document.
            let serde_json::Value::Object(top) = &mut value else { unreachable!() };
            let kind = top.shift_remove("type").unwrap();
            top.shift_insert(0, "type".to_owned(), kind);
            let reordered = serde_json::to_string(&value).unwrap();
            assert_ne!(reordered, text);
            assert!(agree(&reordered), "{reordered}");
        }
        assert!(agree(&format!(" \n\t{}\r\n{}", po(r#"{"po_number":"1"}"#), po(r#"{"po_number":"2"}"#))));
        // A field whose name starts another's, without that other before it.
        assert!(agree(&po(
            r#"{"po_number":"1","lines":[{"line_number":"1","uom_code":"EA","item_id_codes":{"upc":"UP"}}]}"#
        )));
    }

    #[test]
    fn gives_way_where_serde_refuses() {
        let refused = [
            // Duplicates, at every level.
            r#"{"type":"purchase_order","type":"purchase_order","document":{"po_number":"1"}}"#.to_owned(),
            po(r#"{"po_number":"1","po_number":"2"}"#),
            po(r#"{"po_number":"1","lines":[{"quantity":1,"quantity":2}]}"#),
            po(r#"{"po_number":"1","lines":[{"item_ids":{"buyer":"1","buyer":"2"}}]}"#),
            po(r#"{"po_number":"1","parties":[{"role":"x","role":"y"}]}"#),
            // Missing, unknown and null where a value is required.
            po(r#"{"purpose":"original"}"#),
            po(r#"{"po_number":"1","parties":[{"name":"x"}]}"#),
            po(r#"{"po_number":"1","references":[{"qualifier":"x"}]}"#),
            po(r#"{"po_number":"1","colour":"red"}"#),
            po(r#"{"po_number":null}"#),
            po(r#"{"po_number":"1","lines":null}"#),
            r#"{"type":"purchase_order"}"#.to_owned(),
            // Not JSON, or not numbers, dates and strings.
            po(r#"{"po_number":"1","lines":[{"quantity":01}]}"#),
            po(r#"{"po_number":"1","lines":[{"quantity":1.}]}"#),
            po(r#"{"po_number":"1","lines":[{"quantity":-}]}"#),
            po(r#"{"po_number":"1","lines":[{"quantity":1e}]}"#),
            po(r#"{"po_number":"1","lines":[{"quantity":"1"}]}"#),
            po(r#"{"po_number":"1","lines":[{"quantity":1e999}]}"#),
            po(r#"{"po_number":"1","po_date":"2026-02-30"}"#),
            po(r#"{"po_number":"1",}"#),
            po(r#"{"po_number":"1","lines":[{},]}"#),
            po("{\"po_number\":\"1\u{1}\"}"),
            po(r#"{"po_number":"1","purpose":nul}"#),
            r#"{"type":"purchase_order","document":{"po_number":"1"}"#.to_owned(),
            r#"{"type":"purchase_order","envelope":{"standard":"x12","test":tru},"document":{"po_number":"1"}}"#
                .to_owned(),
        ];
        for text in &refused {
            assert!(serde_refuses(text), "serde reads {text}");
            assert!(!agree(text), "the reader read {text}");
        }
    }

    proptest::proptest! {
        /// Token soup after a purchase order's opening: whatever the reader makes of it,
        /// serde makes the same, and nothing panics.
        #[test]
        fn agrees_with_serde_on_token_soup(tokens in proptest::collection::vec(proptest::sample::select(vec![
            "{", "}", "[", "]", ":", ",", " ", "\n", "null", "true", "0", "-1.50", "1e2", "01", "\"\"", "\"A\\\"B\"",
            "\"po_number\"", "\"lines\"", "\"quantity\"", "\"item_ids\"", "\"buyer\"", "\"packaging\"", "\"pack\"",
            "\"parties\"", "\"role\"", "\"address\"", "\"lines\":[", "\"po_date\"", "\"2026-01-31\"", "\"x\"",
            "\"extensions\":[]", "\"totals\"", "\"references\"", "\"qualifier\"", "\"value\"",
        ]), 0..60)) {
            let text = format!(r#"{{"type":"purchase_order","document":{{"po_number":"1",{}"#, tokens.concat());
            agree(&text);
            agree(&format!("{text}}}}}"));
        }
    }

    #[test]
    fn gives_way_to_serde_for_what_it_does_not_read() {
        let left = [
            r#"{"document":{"po_number":"1"},"type":"purchase_order"}"#.to_owned(),
            r#"{"type":"ship_notice","document":{"shipment_id":"1"}}"#.to_owned(),
            po(r#"{"po_number":"A\"B"}"#),
            po(r#"{"po_number":"1","extensions":[{"segment":"ZZZ","elements":["1"]}]}"#),
        ];
        for text in &left {
            assert!(!serde_refuses(text), "serde refuses {text}");
            assert!(!agree(text), "the reader read {text}");
        }
    }
}
