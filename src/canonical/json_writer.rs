//! A writer of canonical purchase orders as JSON, made for `crossdock translate`'s hot path.
//!
//! serde_json wrote every key through its escaping loop and every field through the
//! `Serialize` walk: its string escaping alone was 12% of `crossdock translate`. This writer
//! writes a purchase order's keys as the constants they are and its values straight from
//! the model, byte for byte what `serde_json::to_writer` writes (a property test holds the
//! two equal); a string that needs escaping, and the segments kept whole (`extensions`), go
//! through serde_json, and the other document types go to serde_json whole.
//!
//! A purchase order's lines are written from drafts (`LineDraft`): the X12 map hands them
//! over one by one as they are read (`PurchaseOrderStream`), and a whole document lends
//! its lines to drafts.

use super::purchase_order::{LineDraft, PackagingDraft};
use super::{
    Address, CanonicalDocument, Contact, Date, Decimal, Document, Envelope, Extension, ItemIds, Note, Number, Party,
    PurchaseOrder, QualifiedId, Reference, Standard, Time, Totals,
};

/// Appends `document` as `serde_json::to_writer` writes it.
pub fn write(document: &CanonicalDocument, out: &mut Vec<u8>) {
    match &document.document {
        Document::PurchaseOrder(po) => {
            let envelope = document.envelope.as_ref().map(EnvelopeJson::Whole);
            let mut stream = PurchaseOrderStream::new(out, document.partner.as_deref(), envelope);
            for line in &po.lines {
                stream.line(po, &LineDraft::of(line));
            }
            stream.finish(po);
        }
        // Serializing an in-memory document into a Vec cannot fail.
        _ => serde_json::to_writer(out, document).unwrap_or_default(),
    }
}

/// A document's envelope, for the writer: whole, or as the JSON that the transaction sets of
/// one functional group share written once, with the two fields each set has of its own.
#[derive(Clone, Copy)]
pub enum EnvelopeJson<'a> {
    Whole(&'a Envelope),
    Shared { shared: &'a SharedEnvelopeJson, transaction_control_number: &'a str, transaction_set: &'a str },
}

/// The JSON of an envelope before and after the transaction set's control number and id.
#[derive(Debug)]
pub struct SharedEnvelopeJson {
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl SharedEnvelopeJson {
    /// From `envelope`, whose own transaction set fields are left out.
    pub fn new(envelope: &Envelope) -> Self {
        let mut head = Vec::new();
        Writer { out: &mut head }.envelope_head(envelope);
        let mut tail = Vec::new();
        Writer { out: &mut tail }.envelope_tail(envelope);
        SharedEnvelopeJson { head, tail }
    }
}

/// A purchase order written as its lines come, for a map that reads the lines after the
/// header and never changes the header once lines have come: everything before `lines` is
/// written with the first line, everything after at the end. What it writes is what
/// `write` writes for the whole document.
pub struct PurchaseOrderStream<'o, 'd> {
    writer: Writer<'o>,
    partner: Option<&'d str>,
    envelope: Option<EnvelopeJson<'d>>,
    lines: usize,
}

impl<'o, 'd> PurchaseOrderStream<'o, 'd> {
    pub fn new(out: &'o mut Vec<u8>, partner: Option<&'d str>, envelope: Option<EnvelopeJson<'d>>) -> Self {
        PurchaseOrderStream { writer: Writer { out }, partner, envelope, lines: 0 }
    }

    /// Appends `line`; `po` is the document's header so far.
    pub fn line(&mut self, po: &PurchaseOrder, line: &LineDraft<'_>) {
        if self.lines == 0 {
            self.writer.head(self.partner, self.envelope, po);
        } else {
            self.writer.out.push(b',');
        }
        self.lines += 1;
        self.writer.line(line);
    }

    /// Ends the document: what comes after its lines.
    pub fn finish(mut self, po: &PurchaseOrder) {
        if self.lines == 0 {
            self.writer.head(self.partner, self.envelope, po);
        }
        self.writer.tail(po);
    }
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

/// Whether JSON needs `byte` escaped: quotes, backslashes and control characters.
pub(crate) fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Whether any byte of `text` needs escaping, a word at a time: the byte-by-byte scan was a
/// tenth of the writer. Most values are a few bytes long, so a short one is read as two
/// overlapping halves rather than looped over.
fn needs_escaping(text: &[u8]) -> bool {
    let special = |word: u64| escape_mask(word) != 0;
    let u32_at = |at: usize| text.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let u64_at = |at: usize| u64::from(u32_at(at)) | (u64::from(u32_at(at + 4)) << 32);
    match text.len() {
        0..4 => text.iter().any(|&b| needs_escape(b)),
        len @ 4..8 => special(u64::from(u32_at(0)) | (u64::from(u32_at(len - 4)) << 32)),
        len => (0..len / 8).any(|i| special(u64_at(i * 8))) || (len % 8 != 0 && special(u64_at(len - 8))),
    }
}

/// For eight bytes read little-endian, the high bit of each byte JSON escapes in a string
/// (quote, backslash, control character) set, and maybe of bytes after the first such one;
/// the lowest set bit is always exact (Hacker's Delight, "haszero": a borrow only runs
/// upwards). Zero when none needs escaping.
pub(crate) fn escape_mask(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Bytes below `n` (n <= 0x80), and zero bytes.
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH;
    let zero = |word: u64| word.wrapping_sub(ONES) & !word & HIGH;
    below(word, 0x20) | zero(word ^ (ONES * u64::from(b'"'))) | zero(word ^ (ONES * u64::from(b'\\')))
}

impl Writer<'_> {
    fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Small enough to inline: a value with something to escape is the rare case, out of line.
    #[inline]
    fn string(&mut self, text: &str) {
        let bytes = text.as_bytes();
        if needs_escaping(bytes) {
            return self.escaped_string(text);
        }
        self.out.push(b'"');
        self.out.extend_from_slice(bytes);
        self.out.push(b'"');
    }

    #[cold]
    #[inline(never)]
    fn escaped_string(&mut self, text: &str) {
        serde_json::to_writer(&mut *self.out, text).unwrap_or_default();
    }

    fn decimal(&mut self, value: &Decimal) {
        value.write_json(self.out);
    }

    /// `,"key":` (or without the comma for an object's first field); `key` needs no escaping.
    fn key(&mut self, first: &mut bool, key: &str) {
        if !std::mem::take(first) {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn field_string(&mut self, first: &mut bool, key: &str, value: &str) {
        self.key(first, key);
        self.string(value);
    }

    /// An optional field, skipped when absent (`skip_serializing_if = "Option::is_none"`).
    fn opt_string(&mut self, first: &mut bool, key: &str, value: &Option<impl AsRef<str>>) {
        if let Some(value) = value {
            self.field_string(first, key, value.as_ref());
        }
    }

    fn opt_decimal(&mut self, first: &mut bool, key: &str, value: &Option<Decimal>) {
        if let Some(value) = value {
            self.key(first, key);
            self.decimal(value);
        }
    }

    fn opt_number(&mut self, first: &mut bool, key: &str, value: &Option<Number<'_>>) {
        if let Some(value) = value {
            self.key(first, key);
            value.write_json(self.out);
        }
    }

    fn opt_date(&mut self, first: &mut bool, key: &str, value: Option<&Date>) {
        if let Some(value) = value {
            self.field_string(first, key, value.as_str());
        }
    }

    fn opt_time(&mut self, first: &mut bool, key: &str, value: &Option<Time>) {
        if let Some(value) = value {
            self.field_string(first, key, value.as_str());
        }
    }

    /// A list field, skipped when empty (`skip_serializing_if = "Vec::is_empty"`).
    fn list<T>(&mut self, first: &mut bool, key: &str, items: &[T], mut item: impl FnMut(&mut Self, &T)) {
        if !items.is_empty() {
            self.key(first, key);
            self.array(items, &mut item);
        }
    }

    fn array<T>(&mut self, items: &[T], mut item: impl FnMut(&mut Self, &T)) {
        self.out.push(b'[');
        for (i, value) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            item(self, value);
        }
        self.out.push(b']');
    }

    /// The canonical document up to its purchase order's first line: `{"type":...,
    /// "document":{..."lines":[`.
    fn head(&mut self, partner: Option<&str>, envelope: Option<EnvelopeJson<'_>>, po: &PurchaseOrder) {
        self.raw(b"{\"type\":\"purchase_order\",\"partner\":");
        match partner {
            Some(partner) => self.string(partner),
            None => self.raw(b"null"),
        }
        if let Some(envelope) = envelope {
            self.raw(b",\"envelope\":");
            self.envelope(envelope);
        }
        self.raw(b",\"document\":");
        self.purchase_order_head(po);
    }

    /// Segments kept whole, through serde_json (rare, and nested arrays of their own).
    fn extensions(&mut self, first: &mut bool, extensions: &[Extension]) {
        if !extensions.is_empty() {
            self.key(first, "extensions");
            // Serializing an in-memory value into a Vec cannot fail.
            serde_json::to_writer(&mut *self.out, extensions).unwrap_or_default();
        }
    }

    fn qualified_id(&mut self, id: &QualifiedId) {
        let first = &mut true;
        self.out.push(b'{');
        self.field_string(first, "qualifier", &id.qualifier);
        self.field_string(first, "id", &id.id);
        self.out.push(b'}');
    }

    fn envelope(&mut self, envelope: EnvelopeJson<'_>) {
        let (transaction_control_number, transaction_set) = match envelope {
            EnvelopeJson::Whole(e) => {
                self.envelope_head(e);
                (e.transaction_control_number.as_str(), e.transaction_set.as_str())
            }
            EnvelopeJson::Shared { shared, transaction_control_number, transaction_set } => {
                self.raw(&shared.head);
                (transaction_control_number, transaction_set)
            }
        };
        // Never the first field: `standard` is.
        let first = &mut false;
        self.field_string(first, "transaction_control_number", transaction_control_number);
        self.field_string(first, "transaction_set", transaction_set);
        match envelope {
            EnvelopeJson::Whole(e) => self.envelope_tail(e),
            EnvelopeJson::Shared { shared, .. } => self.raw(&shared.tail),
        }
    }

    /// An envelope's fields before `transaction_control_number`, from the opening brace.
    fn envelope_head(&mut self, e: &Envelope) {
        let first = &mut true;
        self.out.push(b'{');
        self.key(first, "standard");
        self.raw(match e.standard {
            Standard::X12 => b"\"x12\"",
            Standard::Edifact => b"\"edifact\"",
        });
        self.field_string(first, "version", &e.version);
        self.opt_string(first, "version_detail", &e.version_detail);
        self.key(first, "sender");
        self.qualified_id(&e.sender);
        self.key(first, "receiver");
        self.qualified_id(&e.receiver);
        self.field_string(first, "interchange_control_number", &e.interchange_control_number);
        // Written even when absent (no skip_serializing_if).
        self.key(first, "group_control_number");
        match &e.group_control_number {
            Some(group) => self.string(group),
            None => self.raw(b"null"),
        }
    }

    /// An envelope's fields after `transaction_set`, to the closing brace.
    fn envelope_tail(&mut self, e: &Envelope) {
        let first = &mut false;
        self.opt_string(first, "application_sender", &e.application_sender);
        self.opt_string(first, "application_receiver", &e.application_receiver);
        if e.test {
            self.key(first, "test");
            self.raw(b"true");
        }
        self.out.push(b'}');
    }

    /// A purchase order's fields up to `"lines":[`. `lines` is written even when empty (no
    /// skip_serializing_if), so it is never the first field: the tail need not know.
    fn purchase_order_head(&mut self, po: &PurchaseOrder) {
        let first = &mut true;
        self.out.push(b'{');
        self.field_string(first, "po_number", &po.po_number);
        self.opt_string(first, "purpose", &po.purpose);
        self.opt_string(first, "purpose_code", &po.purpose_code);
        self.opt_string(first, "order_type_code", &po.order_type_code);
        self.opt_date(first, "po_date", po.po_date.as_ref());
        self.opt_time(first, "po_time", &po.po_time);
        self.opt_string(first, "release_number", &po.release_number);
        self.opt_string(first, "contract_number", &po.contract_number);
        self.opt_string(first, "acknowledgment_type_code", &po.acknowledgment_type_code);
        self.opt_string(first, "invoice_type_code", &po.invoice_type_code);
        self.opt_string(first, "contract_type_code", &po.contract_type_code);
        self.opt_string(first, "purchase_category_code", &po.purchase_category_code);
        self.opt_string(first, "security_level_code", &po.security_level_code);
        self.opt_string(first, "transaction_type_code", &po.transaction_type_code);
        self.opt_string(first, "currency", &po.currency);
        self.opt_date(first, "requested_delivery_date", po.requested_delivery_date.as_ref());
        self.opt_date(first, "requested_ship_date", po.requested_ship_date.as_ref());
        self.opt_date(first, "cancel_after_date", po.cancel_after_date.as_ref());
        self.list(first, "references", &po.references, Self::reference);
        self.list(first, "contacts", &po.contacts, Self::contact);
        self.list(first, "notes", &po.notes, Self::note);
        self.list(first, "parties", &po.parties, Self::party);
        self.key(first, "lines");
        self.out.push(b'[');
    }

    /// After the lines: `]`, the totals and the extensions, and the closing braces of the
    /// purchase order and of the canonical document.
    fn tail(&mut self, po: &PurchaseOrder) {
        self.out.push(b']');
        let first = &mut false;
        if let Some(totals) = &po.totals {
            self.key(first, "totals");
            self.totals(totals);
        }
        self.extensions(first, &po.extensions);
        self.raw(b"}}");
    }

    fn line(&mut self, line: &LineDraft<'_>) {
        let first = &mut true;
        self.out.push(b'{');
        self.opt_string(first, "line_number", &line.line_number);
        self.opt_number(first, "quantity", &line.quantity);
        self.opt_string(first, "uom", &line.uom);
        self.opt_string(first, "uom_code", &line.uom_code);
        self.opt_number(first, "unit_price", &line.unit_price);
        self.opt_string(first, "price_basis", &line.price_basis);
        self.opt_string(first, "price_type_code", &line.price_type_code);
        self.opt_string(first, "price_specification_code", &line.price_specification_code);
        self.item_ids(first, "item_ids", line.item_ids.iter().filter_map(|id| Some((&*id.kind, id.value.as_deref()?))));
        self.item_ids(
            first,
            "item_id_codes",
            line.item_ids.iter().filter_map(|id| Some((&*id.kind, id.code.as_deref()?))),
        );
        self.opt_string(first, "description", &line.description);
        self.opt_date(first, "requested_delivery_date", line.requested_delivery_date.as_deref());
        if let Some(packaging) = &line.packaging {
            self.key(first, "packaging");
            self.packaging(packaging);
        }
        self.list(first, "references", &line.references, Self::reference);
        self.extensions(first, &line.extensions);
        self.out.push(b'}');
    }

    /// An `ItemIds` map, skipped when empty (`skip_serializing_if = "ItemIds::is_empty"`).
    fn item_ids<'i>(&mut self, first: &mut bool, key: &str, ids: impl Iterator<Item = (&'i str, &'i str)>) {
        let mut empty = true;
        for (kind, value) in ids {
            if std::mem::take(&mut empty) {
                self.key(first, key);
                self.out.push(b'{');
            } else {
                self.out.push(b',');
            }
            match ItemIds::json_key(kind) {
                Some(key) => self.raw(key),
                None => {
                    self.string(kind);
                    self.out.push(b':');
                }
            }
            self.string(value);
        }
        if !empty {
            self.out.push(b'}');
        }
    }

    fn packaging(&mut self, p: &PackagingDraft<'_>) {
        let first = &mut true;
        self.out.push(b'{');
        self.opt_number(first, "pack", &p.pack);
        self.opt_number(first, "size", &p.size);
        self.opt_string(first, "size_uom", &p.size_uom);
        self.opt_string(first, "packaging_code", &p.packaging_code);
        self.opt_string(first, "weight_qualifier", &p.weight_qualifier);
        self.opt_number(first, "gross_weight", &p.gross_weight);
        self.opt_string(first, "weight_uom", &p.weight_uom);
        self.opt_number(first, "gross_volume", &p.gross_volume);
        self.opt_string(first, "volume_uom", &p.volume_uom);
        self.opt_number(first, "length", &p.length);
        self.opt_number(first, "width", &p.width);
        self.opt_number(first, "height", &p.height);
        self.opt_string(first, "dimension_uom", &p.dimension_uom);
        self.out.push(b'}');
    }

    fn totals(&mut self, t: &Totals) {
        let first = &mut true;
        self.out.push(b'{');
        self.opt_decimal(first, "line_count", &t.line_count);
        self.opt_decimal(first, "quantity", &t.quantity);
        self.opt_decimal(first, "amount", &t.amount);
        self.opt_string(first, "amount_qualifier", &t.amount_qualifier);
        self.out.push(b'}');
    }

    fn reference(&mut self, r: &Reference) {
        let first = &mut true;
        self.out.push(b'{');
        self.field_string(first, "qualifier", &r.qualifier);
        self.field_string(first, "value", &r.value);
        self.opt_string(first, "description", &r.description);
        self.out.push(b'}');
    }

    fn contact(&mut self, c: &Contact) {
        let first = &mut true;
        self.out.push(b'{');
        self.opt_string(first, "function_code", &c.function_code);
        self.opt_string(first, "name", &c.name);
        self.opt_string(first, "phone", &c.phone);
        self.opt_string(first, "email", &c.email);
        self.opt_string(first, "fax", &c.fax);
        self.out.push(b'}');
    }

    fn note(&mut self, n: &Note) {
        let first = &mut true;
        self.out.push(b'{');
        self.field_string(first, "text", &n.text);
        self.opt_string(first, "code", &n.code);
        self.out.push(b'}');
    }

    fn party(&mut self, p: &Party) {
        let first = &mut true;
        self.out.push(b'{');
        self.field_string(first, "role", &p.role);
        self.opt_string(first, "role_code", &p.role_code);
        self.opt_string(first, "name", &p.name);
        self.list(first, "additional_names", &p.additional_names, |w, name| w.string(name));
        if let Some(id) = &p.id {
            self.key(first, "id");
            let first = &mut true;
            self.out.push(b'{');
            self.field_string(first, "qualifier", &id.qualifier);
            self.field_string(first, "value", &id.value);
            self.opt_string(first, "code_list", &id.code_list);
            self.out.push(b'}');
        }
        if let Some(address) = &p.address {
            self.key(first, "address");
            self.address(address);
        }
        self.list(first, "contacts", &p.contacts, Self::contact);
        self.list(first, "references", &p.references, Self::reference);
        self.extensions(first, &p.extensions);
        self.out.push(b'}');
    }

    fn address(&mut self, a: &Address) {
        let first = &mut true;
        self.out.push(b'{');
        self.list(first, "lines", &a.lines, |w, line| w.string(line));
        self.opt_string(first, "city", &a.city);
        self.opt_string(first, "region", &a.region);
        self.opt_string(first, "postal_code", &a.postal_code);
        self.opt_string(first, "country", &a.country);
        self.out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::purchase_order::ItemPackaging;
    use crate::canonical::PurchaseOrderLine;

    fn both(document: &CanonicalDocument) -> (String, String) {
        let mut ours = Vec::new();
        write(document, &mut ours);
        (String::from_utf8(ours).unwrap(), serde_json::to_string(document).unwrap())
    }

    #[test]
    fn the_word_scan_finds_every_byte_that_needs_escaping_wherever_it_stands() {
        // Every length around the word sizes, every position, each kind of byte: those JSON
        // escapes, their neighbours, and non-ASCII (which it does not).
        for len in 0..=24 {
            for at in 0..len {
                for byte in [0x00, 0x1f, 0x20, b'"', b'!', b'#', b'\\', b'[', b']', 0x7f, 0x80, 0xa2, 0xff] {
                    let mut text = vec![b'a'; len];
                    text[at] = byte;
                    assert_eq!(needs_escaping(&text), needs_escape(byte), "{byte:#04x} at {at} of {len}");
                }
            }
            assert!(!needs_escaping(&vec![b'a'; len]));
        }
        // The lowest flagged byte of a word is the first that needs escaping, whatever
        // follows it (the reader finds a string's end by it).
        let specials = [0x00, 0x01, 0x1f, b'"', b'\\'];
        for first in 0..8 {
            for &byte in &specials {
                for after in [0x00, 0x01, 0x21, b'"', 0x5b, b'\\', 0x5d, 0x80, 0xff] {
                    let mut word = [0x20u8; 8];
                    word[first] = byte;
                    word[first + 1..].fill(after);
                    let mask = escape_mask(u64::from_le_bytes(word));
                    assert_eq!(mask.trailing_zeros() / 8, first as u32, "{byte:#04x} at {first}, then {after:#04x}");
                }
            }
        }
        assert_eq!(escape_mask(u64::from_le_bytes(*b" !#[]~\x7f\x80")), 0);
    }

    #[test]
    fn strings_are_written_as_serde_writes_them_at_every_length() {
        // Around the word sizes of the escape scan and past them, every position, each kind of
        // byte; non-ASCII characters as well, which straddle the words.
        for len in 0..=24 {
            for at in 0..len.max(1) {
                for byte in [b'a', 0x00, 0x1f, b' ', b'"', b'\\', b'~', 0x7f] {
                    let mut text = (0..len).map(|i| b'A' + i as u8).collect::<Vec<u8>>();
                    if let Some(b) = text.get_mut(at) {
                        *b = byte;
                    }
                    let text = String::from_utf8(text).unwrap();
                    let mut ours = b"[".to_vec();
                    Writer { out: &mut ours }.string(&text);
                    ours.push(b']');
                    assert_eq!(
                        String::from_utf8(ours).unwrap(),
                        format!("[{}]", serde_json::to_string(&text).unwrap())
                    );
                }
            }
            for wide in ["\u{e9}", "\u{4e2d}", "\u{1f600}"] {
                let text: String = wide.repeat(len).chars().take(len).collect::<String>() + &"z".repeat(len % 3);
                let mut ours = Vec::new();
                Writer { out: &mut ours }.string(&text);
                assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(&text).unwrap());
            }
        }
    }

    #[test]
    fn writes_what_serde_writes_at_the_edges() {
        // No lines (written as []), no partner (written as null), an escaped item id kind,
        // decimals whole, negative, fractional and beyond i64.
        let mut po = PurchaseOrder { po_number: "A\"B".into(), ..PurchaseOrder::default() };
        let (ours, serde) =
            both(&CanonicalDocument { partner: None, envelope: None, document: Document::PurchaseOrder(po.clone()) });
        assert_eq!(ours, serde);
        assert!(ours.contains(r#""lines":[]"#) && ours.contains(r#""partner":null"#), "{ours}");
        let mut line = PurchaseOrderLine::default();
        line.item_ids.insert("k\n".to_owned(), "v\\".into());
        line.quantity = Decimal::parse_edi("-40", b'.');
        line.unit_price = Decimal::parse_edi("0.005", b'.');
        line.packaging = Some(Box::new(ItemPackaging {
            pack: Decimal::parse_edi("123456789012345678901234567", b'.'),
            ..ItemPackaging::default()
        }));
        po.lines.push(line);
        po.totals = Some(Totals::default());
        let (ours, serde) = both(&CanonicalDocument {
            partner: Some("p".into()),
            envelope: None,
            document: Document::PurchaseOrder(po),
        });
        assert_eq!(ours, serde);
    }
}
