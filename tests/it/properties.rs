//! Property tests: random canonical documents, rendered to X12 or EDIFACT and translated back,
//! come back the same.
//!
//! The documents are in the model's normal form, as translation produces them: every raw code
//! beside its word, values within their elements' lengths. Extensions are left to the round
//! trips of real samples (`translate.rs`), which have them at real positions.

use crossdock::canonical::purchase_order::ItemPackaging;
use crossdock::canonical::ship_notice::{Carrier, Packaging, ShipNoticeTotals};
use crossdock::canonical::*;
use crossdock::config::Partners;
use crossdock::translate::render::envelope::{self, EnvelopeSpec, Rendered, Stamp};
use crossdock::translate::render::{body, Target};
use crossdock::translate::vocab;
use crossdock_parsers::writer::{write, WriteOptions};
use crossdock_parsers::{Delimiters, ParseOptions};
use proptest::prelude::*;

/// One document rendered in `standard` as an interchange of its own.
fn render_interchange(document: &Document, standard: Standard) -> Result<Vec<u8>, String> {
    let (version, delimiters) = match standard {
        Standard::X12 => ("005010", Delimiters::X12),
        Standard::Edifact => ("D96A", Delimiters::EDIFACT),
    };
    let target = Target { standard, version, decimal_mark: delimiters.decimal, xref: None };
    let segments = body(document.clone(), &target).map_err(|e| e.to_string())?;
    let spec = EnvelopeSpec {
        standard,
        version: version.into(),
        delimiters,
        sender: QualifiedId { qualifier: "ZZ".into(), id: "CROSSDOCK".into() },
        receiver: QualifiedId { qualifier: "ZZ".into(), id: "PARTNER".into() },
        application_sender: "CROSSDOCK".into(),
        application_receiver: "PARTNER".into(),
        syntax: ("UNOC".into(), 3),
        association_code: None,
        test: false,
    };
    let stamp = Stamp { date: "20260115".into(), time: "1230".into() };
    let set = Rendered { kind: document.kind(), control_number: "0001".into(), body: segments };
    let interchange = envelope::single(&spec, (1, 1), set, &stamp);
    let mut bytes = Vec::new();
    write(&interchange, WriteOptions::default(), &mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// Renders one document in `standard` and translates it back.
fn round_trip(document: &Document, standard: Standard) -> Result<Document, String> {
    let bytes = render_interchange(document, standard)?;
    let processed = crossdock::process::process(&bytes, &Partners::default(), ParseOptions::default());
    let text = String::from_utf8_lossy(&bytes).into_owned();
    for interchange in &processed.interchanges {
        for group in &interchange.groups {
            for set in &group.sets {
                if let Some(error) = set.syntax_errors.first() {
                    return Err(format!("{error}\n{text}"));
                }
                if let Some(error) = set.data_errors.first() {
                    return Err(format!("{error}\n{text}"));
                }
            }
        }
    }
    let translated = processed.documents().next().ok_or_else(|| format!("nothing translated\n{text}"))?;
    // Through the canonical JSON, as the store and the ERP get it.
    let document: CanonicalDocument = serde_json::from_str(&translated.json).map_err(|e| format!("{e}\n{text}"))?;
    Ok(document.document)
}

// ---- values ------------------------------------------------------------------------------

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Z0-9][A-Z0-9 .,/-]{{0,{}}}", max.saturating_sub(1)))
        .unwrap()
        .prop_map(|s| s.trim_end().to_owned())
        .prop_filter("non-empty", |s| !s.is_empty())
}

/// Text of `min` to `max` characters.
fn text_between(min: usize, max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Z0-9]{{{min}}}[A-Z0-9 .,/-]{{0,{}}}", max - min))
        .unwrap()
        .prop_map(|s| s.trim_end().to_owned())
}

fn code(min: usize, max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[A-Z][A-Z0-9]{{{},{}}}", min - 1, max - 1)).unwrap()
}

fn decimal(max_integer_digits: u32) -> impl Strategy<Value = Decimal> {
    (0i64..10i64.pow(max_integer_digits), 0i64..100, any::<bool>()).prop_map(|(whole, cents, fraction)| {
        let text = if fraction { format!("{whole}.{cents:02}") } else { whole.to_string() };
        Decimal::parse_edi(&text, b'.').unwrap()
    })
}

fn whole(max_digits: u32) -> impl Strategy<Value = Decimal> {
    (0i64..10i64.pow(max_digits)).prop_map(Decimal::from_i64)
}

fn date() -> impl Strategy<Value = Date> {
    (2000u32..2040, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| Date::parse_iso(&format!("{y:04}-{m:02}-{d:02}")).unwrap())
}

fn time() -> impl Strategy<Value = Time> {
    (0u32..24, 0u32..60).prop_map(|(h, m)| Time::parse_iso(&format!("{h:02}:{m:02}")).unwrap())
}

fn purpose(standard: Standard) -> impl Strategy<Value = (Option<String>, Option<String>)> {
    let codes: &[&str] = match standard {
        Standard::X12 => &["00", "01", "04", "05", "07"],
        Standard::Edifact => &["9", "1", "4", "5", "7"],
    };
    proptest::sample::select(codes).prop_map(move |c| (Some(vocab::purpose(standard, c)), Some(c.to_owned())))
}

fn references(standard: Standard) -> impl Strategy<Value = Vec<Reference>> {
    let qualifier = match standard {
        Standard::X12 => code(2, 3).boxed(),
        // Not ON, BM or CN: those have their own fields in some documents.
        Standard::Edifact => proptest::sample::select(&["CT", "VA", "PD", "AAK"][..]).prop_map(str::to_owned).boxed(),
    };
    proptest::collection::vec(
        (qualifier, text(30)).prop_map(|(qualifier, value)| Reference { qualifier, value, description: None }),
        0..3,
    )
}

fn item_ids(standard: Standard) -> impl Strategy<Value = (ItemIds, ItemIds)> {
    let qualifiers: &[&str] = match standard {
        Standard::X12 => &["BP", "VP", "UP", "EN", "SK", "MG", "CB", "B6"],
        Standard::Edifact => &["EN", "SRV", "UP", "BP", "SA"],
    };
    proptest::collection::vec((proptest::sample::select(qualifiers), text(20)), 1..5).prop_map(move |pairs| {
        let mut ids = ItemIds::new();
        let mut codes = ItemIds::new();
        for (qualifier, value) in pairs {
            let key = vocab::item_id_key(standard, qualifier);
            if ids.contains_key(&key) {
                continue;
            }
            codes.insert(key.clone(), qualifier.to_owned());
            ids.insert(key, value);
        }
        (ids, codes)
    })
}

fn party(standard: Standard) -> impl Strategy<Value = Party> {
    let roles: &[&str] = match standard {
        Standard::X12 => &["BY", "SE", "ST", "BT", "SF", "VN"],
        Standard::Edifact => &["BY", "SU", "DP", "IV", "SF"],
    };
    let contact = match standard {
        Standard::X12 => (
            code(2, 2),
            proptest::option::of(text(30)),
            proptest::option::of("[0-9]{10}"),
            proptest::option::of("[a-z]{3,8}@example[.]com"),
        )
            .prop_map(|(f, name, phone, email)| Contact { function_code: Some(f), name, phone, email, fax: None })
            .boxed(),
        Standard::Edifact => (code(2, 2), proptest::option::of(text(30)), proptest::option::of("[0-9]{10}"))
            .prop_map(|(f, name, phone)| Contact { function_code: Some(f), name, phone, email: None, fax: None })
            .boxed(),
    };
    (
        proptest::sample::select(roles),
        proptest::option::of(text(30)),
        proptest::collection::vec(text(30), 0..3),
        proptest::option::of((code(1, 2), "[0-9]{6,13}")),
        proptest::collection::vec(text(30), 0..3),
        proptest::option::of(text_between(2, 20)),
        proptest::option::of("[A-Z]{2}"),
        proptest::option::of("[0-9]{5}"),
        proptest::collection::vec(contact, 0..2),
    )
        .prop_map(move |(role, name, additional, id, lines, city, region, postal, contacts)| {
            let address = Address { lines, city, region, postal_code: postal, country: None };
            Party {
                role: vocab::role(standard, role),
                role_code: Some(role.to_owned()),
                // A party needs a name or an id; without a name there are no further names.
                additional_names: if name.is_some() { additional } else { Vec::new() },
                name: name.or_else(|| id.is_none().then(|| "NAME".to_owned())),
                id: id.map(|(qualifier, value)| PartyId { qualifier, value, code_list: None }),
                address: (!address.is_empty()).then_some(address),
                contacts,
                references: Vec::new(),
                extensions: Vec::new(),
            }
        })
}

// ---- documents ---------------------------------------------------------------------------

fn purchase_order(standard: Standard) -> impl Strategy<Value = Document> {
    let line = (
        "[0-9]{1,4}",
        decimal(6),
        code(2, 2),
        proptest::option::of(decimal(5)),
        item_ids(standard),
        proptest::option::of(text(40)),
        proptest::option::of(date()),
        references(standard),
        // PO4: pack, size and unit, then now and then each group its syntax notes tie
        // together (packaging code; weight; volume; dimensions), so PO4s of every length.
        proptest::option::of((
            (whole(3), decimal(3), code(2, 2)),
            proptest::option::of(code(3, 5)),
            proptest::option::of((decimal(4), code(2, 2))),
            proptest::option::of((decimal(4), code(2, 2))),
            proptest::option::of((decimal(3), decimal(3), decimal(3), code(2, 2))),
        )),
    )
        .prop_map(
            move |(number, quantity, uom, price, (ids, codes), description, delivery, references, packaging)| {
                PurchaseOrderLine {
                    line_number: Some(number),
                    quantity: Some(quantity),
                    uom: Some(uom.clone()),
                    uom_code: Some(uom),
                    price_basis: price.map(|_| if standard == Standard::X12 { "PE".into() } else { "AAA".into() }),
                    unit_price: price,
                    item_ids: ids,
                    item_id_codes: codes,
                    description,
                    requested_delivery_date: delivery,
                    packaging: (standard == Standard::X12).then_some(packaging).flatten().map(
                        |((pack, size, uom), code, weight, volume, dimensions)| {
                            let (weight, weight_uom) = weight.unzip();
                            let (volume, volume_uom) = volume.unzip();
                            let (length, width, height, dimension_uom) = match dimensions {
                                Some((l, w, h, u)) => (Some(l), Some(w), Some(h), Some(u)),
                                None => (None, None, None, None),
                            };
                            Box::new(ItemPackaging {
                                pack: Some(pack),
                                size: Some(size),
                                size_uom: Some(uom),
                                packaging_code: code,
                                weight_qualifier: weight.map(|_| "G".to_owned()),
                                gross_weight: weight,
                                weight_uom,
                                gross_volume: volume,
                                volume_uom,
                                length,
                                width,
                                height,
                                dimension_uom,
                            })
                        },
                    ),
                    references,
                    ..PurchaseOrderLine::default()
                }
            },
        );
    (
        "[A-Z0-9-]{1,20}",
        purpose(standard),
        date(),
        proptest::option::of(time()),
        proptest::option::of("[A-Z]{3}"),
        proptest::option::of(date()),
        references(standard),
        proptest::collection::vec(party(standard), 0..3),
        proptest::collection::vec(line, 1..5),
        proptest::option::of((whole(5), decimal(8))),
        proptest::collection::vec(text(40).prop_map(|text| Note { text, code: Some("GEN".into()) }), 0..2),
    )
        .prop_map(
            move |(
                number,
                (purpose, purpose_code),
                po_date,
                po_time,
                currency,
                delivery,
                references,
                parties,
                lines,
                totals,
                notes,
            )| {
                let line_count = lines.len() as i64;
                Document::PurchaseOrder(PurchaseOrder {
                    po_number: number,
                    purpose,
                    purpose_code,
                    order_type_code: Some(if standard == Standard::X12 { "SA".into() } else { "220".into() }),
                    po_date: Some(po_date),
                    po_time: if standard == Standard::Edifact { po_time } else { None },
                    currency,
                    requested_delivery_date: delivery,
                    references,
                    parties,
                    lines,
                    totals: totals.map(|(quantity, amount)| Totals {
                        line_count: Some(Decimal::from_i64(line_count)),
                        quantity: Some(quantity),
                        amount: Some(amount),
                        amount_qualifier: Some(if standard == Standard::X12 { "TT".into() } else { "79".into() }),
                    }),
                    notes: notes
                        .into_iter()
                        .map(|n| Note {
                            code: Some(if standard == Standard::X12 { "GEN".into() } else { "AAI".into() }),
                            ..n
                        })
                        .collect(),
                    ..PurchaseOrder::default()
                })
            },
        )
}

fn purchase_order_ack(standard: Standard) -> impl Strategy<Value = Document> {
    let statuses: &[&str] = match standard {
        Standard::X12 => &["IA", "IB", "IC", "ID", "IR", "IQ"],
        Standard::Edifact => &["5", "3", "2", "7"],
    };
    let line = (
        "[0-9]{1,4}",
        decimal(6),
        code(2, 2),
        item_ids(standard),
        proptest::sample::select(statuses),
        proptest::option::of(decimal(6)),
        proptest::option::of(date()),
    )
        .prop_map(move |(number, quantity, uom, (ids, codes), status, status_quantity, scheduled)| {
            PurchaseOrderAckLine {
                line_number: Some(number),
                quantity: Some(quantity),
                uom: Some(uom.clone()),
                uom_code: Some(uom.clone()),
                item_ids: ids,
                item_id_codes: codes,
                status: Some(vocab::line_status(standard, status)),
                status_code: Some(status.to_owned()),
                status_uom_code: status_quantity.map(|_| uom),
                status_quantity,
                scheduled_date_qualifier: scheduled.as_ref().map(|_| {
                    if standard == Standard::X12 {
                        "068".into()
                    } else {
                        "2".into()
                    }
                }),
                scheduled_date: scheduled,
                ..PurchaseOrderAckLine::default()
            }
        });
    let types: &[&str] = match standard {
        Standard::X12 => &["AC", "AD", "RJ"],
        Standard::Edifact => &["29", "4", "27"],
    };
    (
        "[A-Z0-9-]{1,20}",
        date(),
        proptest::option::of(date()),
        proptest::sample::select(types),
        proptest::collection::vec(line, 1..5),
    )
        .prop_map(move |(number, po_date, ack_date, ack_type, lines)| {
            Document::PurchaseOrderAck(PurchaseOrderAck {
                po_number: number.clone(),
                po_date: Some(po_date),
                ack_date,
                ack_type: Some(vocab::ack_type(standard, ack_type)),
                ack_type_code: Some(ack_type.to_owned()),
                purpose: (standard == Standard::X12).then(|| "original".into()),
                purpose_code: (standard == Standard::X12).then(|| "00".into()),
                ack_number: (standard == Standard::Edifact).then_some(number),
                document_code: (standard == Standard::Edifact).then(|| "231".into()),
                lines,
                ..PurchaseOrderAck::default()
            })
        })
}

fn ship_notice(standard: Standard) -> impl Strategy<Value = Document> {
    let uom = if standard == Standard::X12 { code(2, 2) } else { code(2, 3) };
    let item = ("[0-9]{1,4}", item_ids(standard), whole(4), uom, proptest::option::of(whole(4))).prop_map(
        move |(number, (ids, codes), shipped, uom, ordered)| Item {
            line_number: Some(number),
            item_ids: ids,
            item_id_codes: codes,
            quantity_shipped: Some(shipped),
            uom: Some(uom.clone()),
            // SN105 and SN106 go together (syntax note P0506).
            quantity_ordered_uom_code: (standard == Standard::X12).then_some(ordered.map(|_| uom.clone())).flatten(),
            uom_code: Some(uom),
            quantity_ordered: ordered,
            ..Item::default()
        },
    );
    let pack = ("[0-9]{18}", proptest::collection::vec(item, 1..3)).prop_map(|(sscc, items)| Pack {
        pack_type: "pack".into(),
        sscc: Some(sscc),
        items,
        ..Pack::default()
    });
    let order = ("[A-Z0-9-]{1,20}", proptest::collection::vec(pack, 1..3)).prop_map(|(po_number, packs)| Order {
        po_number,
        packs,
        ..Order::default()
    });
    (
        "[A-Z0-9-]{2,20}",
        date(),
        proptest::option::of(date()),
        proptest::option::of(("[A-Z]{4}", text(20))),
        proptest::option::of("[A-Z0-9]{6,12}"),
        proptest::option::of((whole(3), decimal(5))),
        proptest::collection::vec(order, 1..3),
    )
        .prop_map(move |(shipment, notice_date, shipped, carrier, bol, packaging, mut orders)| {
            // One order per shipment keeps EDIFACT's order number in the header, as EANCOM does.
            if standard == Standard::Edifact {
                orders.truncate(1);
            }
            Document::ShipNotice(ShipNotice {
                shipment_id: shipment,
                purpose: Some(vocab::purpose(standard, if standard == Standard::X12 { "00" } else { "9" })),
                purpose_code: Some(if standard == Standard::X12 { "00".into() } else { "9".into() }),
                document_code: (standard == Standard::Edifact).then(|| "351".into()),
                notice_date: Some(notice_date),
                notice_time: (standard == Standard::X12).then(|| Time::parse_iso("08:00").unwrap()),
                hierarchy: Some("SOPI".into()),
                shipped_date: shipped,
                carrier: match (carrier, bol) {
                    (None, None) => None,
                    (scac_name, bol) => Some(Carrier {
                        scac: scac_name.as_ref().map(|(s, _)| s.clone()),
                        name: scac_name.map(|(_, n)| n),
                        bill_of_lading: bol,
                        ..Carrier::default()
                    }),
                },
                packaging: packaging.map(|(count, weight)| Packaging {
                    lading_quantity: Some(count),
                    gross_weight: Some(weight),
                    weight_uom: Some(if standard == Standard::X12 { "LB".into() } else { "KGM".into() }),
                    weight_qualifier: (standard == Standard::X12).then(|| "G".into()),
                    package_code: Some(if standard == Standard::X12 { "CTN25".into() } else { "201".into() }),
                    ..Packaging::default()
                }),
                orders,
                totals: Some(ShipNoticeTotals { hl_count: None, quantity: None }),
                ..ShipNotice::default()
            })
        })
}

/// What a round trip may legitimately fill in: pack ids (the HL or CPS numbers given on
/// rendering), the hierarchy string, and the HL count of an ASN.
fn normalized(document: &Document) -> Document {
    let mut document = document.clone();
    if let Document::ShipNotice(asn) = &mut document {
        fn strip(pack: &mut Pack) {
            pack.id = None;
            pack.packs.iter_mut().for_each(strip);
        }
        for order in &mut asn.orders {
            order.packs.iter_mut().for_each(strip);
        }
        asn.packs.iter_mut().for_each(strip);
        asn.hierarchy = Some("SOPI".into());
        asn.totals = None;
    }
    document
}

fn check(document: Document, standard: Standard) -> Result<(), TestCaseError> {
    let back = round_trip(&document, standard).map_err(TestCaseError::fail)?;
    prop_assert_eq!(normalized(&back), normalized(&document));
    // And a second round trip changes nothing at all.
    let again = round_trip(&back, standard).map_err(TestCaseError::fail)?;
    prop_assert_eq!(again, back);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn x12_purchase_orders(document in purchase_order(Standard::X12)) { check(document, Standard::X12)?; }

    #[test]
    fn edifact_purchase_orders(document in purchase_order(Standard::Edifact)) { check(document, Standard::Edifact)?; }

    #[test]
    fn x12_acknowledgments(document in purchase_order_ack(Standard::X12)) { check(document, Standard::X12)?; }

    #[test]
    fn edifact_acknowledgments(document in purchase_order_ack(Standard::Edifact)) { check(document, Standard::Edifact)?; }

    #[test]
    fn x12_ship_notices(document in ship_notice(Standard::X12)) { check(document, Standard::X12)?; }

    #[test]
    fn edifact_ship_notices(document in ship_notice(Standard::Edifact)) { check(document, Standard::Edifact)?; }
}

// ---- hostile canonical JSON ----------------------------------------------------------------

/// Profiles to render for: X12 004010 and EDIFACT D96A, sending every document type.
fn render_partners() -> &'static (crossdock::config::Partner, crossdock::config::Partner) {
    static PARTNERS: std::sync::OnceLock<(crossdock::config::Partner, crossdock::config::Partner)> =
        std::sync::OnceLock::new();
    PARTNERS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let x12 = dir.path().join("x12.toml");
        std::fs::write(
            &x12,
            "id = \"x12\"\n[x12]\ninterchange_id = \"ZZ:BUYERCO\"\nour_interchange_id = \"ZZ:CROSSDOCK\"\n\
             version = \"004010\"\n[documents]\nsend = [\"850\", \"855\", \"856\"]\n",
        )
        .unwrap();
        let edifact = dir.path().join("edifact.toml");
        std::fs::write(
            &edifact,
            "id = \"edifact\"\n[edifact]\ninterchange_id = \"5412345000013:14\"\n\
             our_interchange_id = \"5400000000001:14\"\nversion = \"D96A\"\n\
             [documents]\nsend = [\"ORDERS\", \"ORDRSP\", \"DESADV\"]\n",
        )
        .unwrap();
        let load = |path: &std::path::Path| crossdock::config::partner::load_file(path).unwrap();
        (load(&x12), load(&edifact))
    })
}

/// What a sender might do to a canonical document: cut it short, change a byte, put a
/// hostile fragment somewhere in its text, or put a hostile value in place of one of its
/// values (a field, an array entry, the document itself).
#[derive(Clone, Debug)]
enum Damage {
    Truncate(prop::sample::Index),
    Replace(prop::sample::Index, u8),
    Insert(prop::sample::Index, &'static str),
    Values(Vec<(prop::sample::Index, &'static str)>),
}

/// JSON values a canonical document must refuse or survive in any place.
const HOSTILE_VALUES: &[&str] = &[
    "1e999",
    "-0",
    "1.5e-30",
    "0.123456789012345678901234567890",
    "99999999999999999999999999999999",
    "-12.5",
    "\"12\"",
    "\"\"",
    "\"2026-02-30\"",
    "\"25:61\"",
    "\"\\u0000\"",
    "\"~*'+:?\\n\"",
    "\"\u{00e9}\u{4e2d}\"",
    "null",
    "true",
    "[]",
    "{}",
    "[null]",
    "[\"x\"]",
    "{\"x\":1}",
    "{\"segment\":\"ZZZ\",\"elements\":[]}",
];

fn damage() -> impl Strategy<Value = Damage> {
    let fragments: &[&'static str] = &[
        "1e999", "-", "0.123456789012345678901234567890", "99999999999999999999999999999999", "\"12\"",
        "null", "true", "[]", "{}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "\"\\u0000\"", "\"\\ud800\"", "\"~*'+:?\"", "\"\u{00e9}\u{4e2d}\"", ",", ":", "\"", "\\", "\n", "\"lines\":[]",
        "\"quantity\":-1", "\"po_date\":\"2026-02-30\"", "\"type\":\"ship_notice\"",
    ];
    prop_oneof![
        3 => proptest::collection::vec((any::<prop::sample::Index>(), proptest::sample::select(HOSTILE_VALUES)), 1..4)
            .prop_map(Damage::Values),
        1 => any::<prop::sample::Index>().prop_map(Damage::Truncate),
        1 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(at, byte)| Damage::Replace(at, byte)),
        1 => (any::<prop::sample::Index>(), proptest::sample::select(fragments))
            .prop_map(|(at, fragment)| Damage::Insert(at, fragment)),
    ]
}

fn damaged(json: &[u8], damage: &Damage) -> Vec<u8> {
    let mut bytes = json.to_vec();
    match damage {
        Damage::Truncate(at) => bytes.truncate(at.index(bytes.len())),
        Damage::Replace(at, byte) => {
            let at = at.index(bytes.len());
            bytes[at] = *byte;
        }
        Damage::Insert(at, fragment) => {
            let at = at.index(bytes.len() + 1);
            bytes.splice(at..at, fragment.bytes());
        }
        Damage::Values(replacements) => {
            let mut value: serde_json::Value = serde_json::from_slice(json).unwrap();
            for (at, hostile) in replacements {
                let mut n = at.index(nodes(&value));
                replace_nth(&mut value, &mut n, &serde_json::from_str(hostile).unwrap());
            }
            bytes = serde_json::to_vec(&value).unwrap();
        }
    }
    bytes
}

/// Number of values in a JSON tree, the root included.
fn nodes(value: &serde_json::Value) -> usize {
    1 + match value {
        serde_json::Value::Array(items) => items.iter().map(nodes).sum(),
        serde_json::Value::Object(map) => map.values().map(nodes).sum(),
        _ => 0,
    }
}

/// Replaces the `n`th value of the tree (depth first, the root is 0); true once replaced.
fn replace_nth(value: &mut serde_json::Value, n: &mut usize, with: &serde_json::Value) -> bool {
    if *n == 0 {
        *value = with.clone();
        return true;
    }
    *n -= 1;
    match value {
        serde_json::Value::Array(items) => items.iter_mut().any(|v| replace_nth(v, n, with)),
        serde_json::Value::Object(map) => map.values_mut().any(|v| replace_nth(v, n, with)),
        _ => false,
    }
}

/// Reads damaged JSON as the render command and the gateway do, and renders what reads for
/// both standards: whatever the damage, each step ends in a value or in problems in words,
/// never in a panic.
fn refused_or_rendered(document: Document, damage: Damage) -> Result<(), TestCaseError> {
    use crossdock::translate::render::interchange::InterchangeRenderer;
    let canonical = CanonicalDocument { partner: None, envelope: None, document };
    let json = serde_json::to_vec(&canonical).unwrap();
    let bytes = damaged(&json, &damage);
    let Ok(read) = serde_json::from_slice::<CanonicalDocument>(&bytes) else { return Ok(()) };
    let (x12, edifact) = render_partners();
    for partner in [x12, edifact] {
        let renderer = InterchangeRenderer::new(partner).unwrap();
        if let Err(problems) = renderer.transaction_set(read.clone(), 1) {
            prop_assert!(!problems.is_empty() && problems.iter().all(|p| !p.is_empty()), "{problems:?}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn damaged_purchase_orders_are_refused_or_rendered(document in purchase_order(Standard::X12), damage in damage()) {
        refused_or_rendered(document, damage)?;
    }

    #[test]
    fn damaged_ship_notices_are_refused_or_rendered(document in ship_notice(Standard::Edifact), damage in damage()) {
        refused_or_rendered(document, damage)?;
    }
}

/// `crossdock render`'s own reader of purchase orders (`json_reader`) and serde read every
/// text alike: where the reader reads a document, serde reads the same one and ends at the
/// same byte; where serde refuses a text, the reader gives way. Plain documents, compact or
/// pretty, must take the reader's path.
fn readers_agree(
    document: Document,
    envelope: bool,
    pretty: bool,
    damage: Option<Damage>,
) -> Result<(), TestCaseError> {
    use crossdock::canonical::json_reader::read_purchase_order;
    let envelope = envelope.then(|| Envelope {
        standard: Standard::X12,
        version: "004010".into(),
        version_detail: Some("004010VICS".into()),
        sender: QualifiedId { qualifier: "ZZ".into(), id: "BUYERCO".into() },
        receiver: QualifiedId { qualifier: "ZZ".into(), id: "SUPPLIERCO".into() },
        interchange_control_number: "000000001".into(),
        group_control_number: None,
        transaction_control_number: "0001".into(),
        transaction_set: "850".into(),
        application_sender: None,
        application_receiver: Some("SUPPLIERCO".into()),
        test: true,
    });
    let canonical = CanonicalDocument { partner: Some("buyerco".into()), envelope, document };
    let json = if pretty { serde_json::to_vec_pretty(&canonical) } else { serde_json::to_vec(&canonical) }.unwrap();
    let plain = damage.is_none() && !json.contains(&b'\\');
    let bytes = match &damage {
        Some(damage) => damaged(&json, damage),
        None => json,
    };
    let Ok(text) = std::str::from_utf8(&bytes) else { return Ok(()) };
    let mut serde = serde_json::Deserializer::from_str(text).into_iter::<CanonicalDocument>();
    let by_serde = serde.next();
    match read_purchase_order(text) {
        Some((read, length)) => {
            prop_assert!(
                matches!(&by_serde, Some(Ok(d)) if *d == read),
                "serde read {by_serde:?}, the reader {read:?}"
            );
            prop_assert_eq!(serde.byte_offset(), length);
        }
        None => prop_assert!(!plain, "the reader gave up on a plain purchase order: {text}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_purchase_order_reader_reads_as_serde_does(
        document in prop_oneof![purchase_order(Standard::X12), purchase_order(Standard::Edifact)],
        envelope in any::<bool>(),
        pretty in any::<bool>(),
    ) {
        readers_agree(document, envelope, pretty, None)?;
    }

    #[test]
    fn the_purchase_order_reader_gives_way_to_serde_on_damage(
        document in purchase_order(Standard::X12),
        envelope in any::<bool>(),
        pretty in any::<bool>(),
        damage in damage(),
    ) {
        readers_agree(document, envelope, pretty, Some(damage))?;
    }
}

/// An envelope with every optional field present (`full`) or absent.
fn sample_envelope(full: bool) -> Envelope {
    Envelope {
        standard: if full { Standard::Edifact } else { Standard::X12 },
        version: "004010".into(),
        version_detail: full.then(|| "004010VICS".into()),
        sender: QualifiedId { qualifier: "ZZ".into(), id: "BUYERCO".into() },
        receiver: QualifiedId { qualifier: "ZZ".into(), id: "SUPPLIERCO".into() },
        interchange_control_number: "000000001".into(),
        group_control_number: full.then(|| "1".into()),
        transaction_control_number: "0001".into(),
        transaction_set: "850".into(),
        application_sender: full.then(|| "BUYERCO".into()),
        application_receiver: full.then(|| "SUPPLIERCO".into()),
        test: full,
    }
}

/// `crossdock translate`'s own writer (`json_writer`) writes every document byte for byte as
/// serde_json does: purchase orders with or without an envelope, with strings that need
/// escaping in their keys and values, with extensions (left to serde_json), and the other
/// document types (left to serde_json too).
fn writers_agree(
    mut document: Document,
    envelope: Option<bool>,
    hostile: Option<String>,
    extension: bool,
) -> Result<(), TestCaseError> {
    if let (Some(text), Document::PurchaseOrder(po)) = (&hostile, &mut document) {
        po.po_number = text.clone();
        po.currency = Some(text.clone());
        if let Some(line) = po.lines.first_mut() {
            line.description = Some(text.clone());
            line.item_ids.insert(text.clone(), text.clone());
        }
        if let Some(party) = po.parties.first_mut() {
            party.name = Some(text.clone());
            party.additional_names.push(text.clone());
        }
    }
    if let (true, Document::PurchaseOrder(po)) = (extension, &mut document) {
        let extension =
            Extension { segment: "ZZZ".into(), elements: vec![ExtensionElement::Simple("1".into())], position: None };
        match po.lines.first_mut() {
            Some(line) => line.extensions.push(extension),
            None => po.extensions.push(extension),
        }
    }
    let canonical = CanonicalDocument {
        partner: envelope.map(|_| "buyerco".into()),
        envelope: envelope.map(sample_envelope),
        document,
    };
    let mut ours = Vec::new();
    crossdock::canonical::json_writer::write(&canonical, &mut ours);
    prop_assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(&canonical).unwrap());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_purchase_order_writer_writes_as_serde_does(
        document in prop_oneof![
            4 => purchase_order(Standard::X12),
            4 => purchase_order(Standard::Edifact),
            1 => purchase_order_ack(Standard::X12),
            1 => ship_notice(Standard::Edifact),
        ],
        envelope in proptest::option::of(any::<bool>()),
        hostile in proptest::option::of(proptest::string::string_regex("[\\x00-\\x1f\"\\\\a-z\\x7f\u{e9}\u{4e2d}]{0,8}").unwrap()),
        extension in proptest::bool::weighted(0.1),
    ) {
        writers_agree(document, envelope, hostile, extension)?;
    }
}

// ---- translation straight to JSON -----------------------------------------------------------

/// What is done to one segment of the body of a rendered X12 850 (between ST and SE).
#[derive(Clone, Debug)]
enum SegmentEdit {
    /// A segment after it: one the maps keep whole, or a second or invalid one of a kind
    /// they map.
    Insert(&'static str),
    Repeat,
    Drop,
    /// One byte of it overwritten (an element separator adds an element).
    Overwrite(prop::sample::Index, u8),
}

const INSERTED: &[&str] = &[
    "ZZZ*1*2",
    "PID*F****SECOND DESCRIPTION",
    "PID*S****X",
    "PO4*2*12*EA",
    "PO4*02*1.50*EA*****-0*LB",
    "PO1*9*010*EA*1.250**BP*A",
    "PO1*9*-0.5*EA*.5**BP*A",
    "PO4*1*2*EA**********CM*9",
    "DTM*002*20260115",
    "DTM*002*20260230",
    "DTM*010*20260115",
    "REF*PO*123*A \"QUOTED\" NOTE",
    "N1*ST*AFTER THE LINES*92*1",
    "PO1*9*1*EA*1.5**BP*A*BP*B*VN*\u{e9}\u{4e2d}",
    "PO1*9*X*EA",
    "CTT*1",
];

fn segment_edit() -> impl Strategy<Value = (prop::sample::Index, SegmentEdit)> {
    let edit = prop_oneof![
        4 => proptest::sample::select(INSERTED).prop_map(SegmentEdit::Insert),
        1 => Just(SegmentEdit::Repeat),
        1 => Just(SegmentEdit::Drop),
        1 => (any::<prop::sample::Index>(), proptest::sample::select(&b"*X0 \"~\n"[..]))
            .prop_map(|(at, byte)| SegmentEdit::Overwrite(at, byte)),
    ];
    (any::<prop::sample::Index>(), edit)
}

/// `translate_to_json`, which `crossdock translate` and the pipeline run (an 850's lines
/// written as they are read, never held as the document's), appends byte for byte what
/// serde_json writes of `translate`'s document, and refuses what it refuses with the same
/// errors: for X12 850s as rendered and then edited segment by segment, translated for a
/// partner whose cross-reference maps a unit and the first line's buyer item id.
fn json_route_agrees(document: Document, edits: Vec<(prop::sample::Index, SegmentEdit)>) -> Result<(), TestCaseError> {
    use crossdock::translate::{translate, translate_to_json, Envelopes, Outcome, PartnerContext, Xref};
    use crossdock_parsers::{Event, Reader};

    let Document::PurchaseOrder(po) = &document else { unreachable!("purchase orders only") };
    let buyer_item = po.lines.first().and_then(|l| l.item_ids.get("buyer")).cloned().unwrap_or_default();
    let uom = po.lines.first().and_then(|l| l.uom_code.clone()).unwrap_or_default();
    let xref = Xref::new([(uom, "OURS".to_owned())], [(buyer_item, "SKU-1".to_owned())], "buyer");
    let partner = PartnerContext { id: Some("p"), xref: Some(&xref) };

    let bytes = render_interchange(&document, Standard::X12).map_err(TestCaseError::fail)?;
    let text = String::from_utf8(bytes).unwrap();
    let mut segments: Vec<String> = text.split_inclusive('~').map(str::to_owned).collect();
    for (at, edit) in edits {
        // ISA, GS, ST before the body; SE, GE, IEA after it.
        let i = 3 + at.index(segments.len() - 6);
        match edit {
            SegmentEdit::Insert(segment) => segments.insert(i + 1, format!("{segment}~")),
            SegmentEdit::Repeat => segments.insert(i + 1, segments[i].clone()),
            SegmentEdit::Drop => drop(segments.remove(i)),
            SegmentEdit::Overwrite(at, byte) => {
                let mut segment = segments[i].clone().into_bytes();
                let at = at.index(segment.len());
                segment[at] = byte;
                segments[i] = String::from_utf8_lossy(&segment).into_owned();
            }
        }
    }
    // SE01 counted again, so that a segment added or dropped is judged by the maps.
    let st = segments.iter().position(|s| s.starts_with("ST*")).unwrap_or(0);
    if let Some(se) = segments.iter().rposition(|s| s.starts_with("SE*")).filter(|&se| se > st) {
        let control = segments[se].rsplit('*').next().unwrap_or_default().to_owned();
        segments[se] = format!("SE*{}*{control}", se - st + 1);
    }
    let edited = segments.concat();

    let (mut model_envelopes, mut json_envelopes) = (Envelopes::default(), Envelopes::default());
    let mut reader = Reader::new(edited.as_bytes(), ParseOptions::default());
    let mut sets = 0;
    while let Some(event) = reader.next() {
        let Event::TransactionSet(set) = event else { continue };
        sets += 1;
        let mut json = b"before\n".to_vec();
        match (
            translate(&set, partner, &mut model_envelopes),
            translate_to_json(&set, partner, &mut json_envelopes, &mut json),
        ) {
            (Outcome::Translated(document), Outcome::Translated(written)) => {
                let mut expected = b"before\n".to_vec();
                serde_json::to_writer(&mut expected, &document).unwrap();
                prop_assert_eq!(String::from_utf8_lossy(&json), String::from_utf8_lossy(&expected), "{}", edited);
                prop_assert_eq!(written.kind, document.kind());
                prop_assert_eq!(written.reference.as_str(), document.document.reference());
            }
            (Outcome::Rejected { errors: model }, Outcome::Rejected { errors: json_route }) => {
                prop_assert_eq!(model, json_route);
                prop_assert_eq!(&json[..], b"before\n", "a refused set writes nothing");
            }
            (Outcome::Unsupported { transaction_set: a }, Outcome::Unsupported { transaction_set: b }) => {
                prop_assert_eq!(a, b);
            }
            (model, json_route) => prop_assert!(false, "{model:?} against {json_route:?}\n{edited}"),
        }
    }
    prop_assert!(sets <= 2, "{sets} sets");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_json_route_translates_as_the_document_route_does(
        document in purchase_order(Standard::X12),
        edits in proptest::collection::vec(segment_edit(), 0..4),
    ) {
        json_route_agrees(document, edits)?;
    }
}
