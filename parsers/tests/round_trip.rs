//! Property tests: random trees, written with random delimiter sets, parse back to the same
//! tree, through both the in-memory and the streaming reader.

use crossdock_parsers::tree::{self, Element, Group, Interchange, Segment, TransactionSet};
use crossdock_parsers::writer::{write_all, WriteOptions};
use crossdock_parsers::{Delimiters, ParseOptions, Standard, StreamReader};
use proptest::prelude::*;
use proptest::strategy::ValueTree;

/// Bytes that can serve as separators: punctuation and the control characters real partners
/// use (newline, NAK 0x15, the information separators 0x1C-0x1F).
const DELIMITER_POOL: &[u8] = b"*|^!~>:+'#@{}<\n\x15\x1c\x1d\x1e\x1f";

fn distinct(n: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::sample::subsequence(DELIMITER_POOL.to_vec(), n).prop_shuffle()
}

fn x12_delimiters() -> impl Strategy<Value = Delimiters> {
    (distinct(4), any::<bool>()).prop_map(|(b, repeats)| Delimiters {
        element: b[0],
        component: b[1],
        repetition: repeats.then_some(b[2]),
        segment: b[3],
        release: None,
        decimal: b'.',
    })
}

fn edifact_delimiters() -> impl Strategy<Value = Delimiters> {
    (distinct(5), any::<bool>(), prop_oneof![Just(b'.'), Just(b',')]).prop_map(|(b, repeats, decimal)| Delimiters {
        element: b[0],
        component: b[1],
        repetition: repeats.then_some(b[2]),
        segment: b[3],
        release: Some(b[4]),
        decimal,
    })
}

/// A value: printable text, Latin letters beyond ASCII included. For X12, bytes that are
/// delimiters are dropped (X12 cannot escape them); EDIFACT keeps them and escapes.
fn value(d: Delimiters, standard: Standard) -> impl Strategy<Value = String> {
    "[A-Za-z0-9 .,()/=+:?'*!éü-]{0,8}".prop_map(move |s| match standard {
        Standard::X12 => s.chars().filter(|c| !(c.is_ascii() && d.is_delimiter(*c as u8))).collect(),
        Standard::Edifact => s,
    })
}

fn element(d: Delimiters, standard: Standard) -> impl Strategy<Value = Element> {
    let max_repetitions = if d.repetition.is_some() { 3 } else { 1 };
    proptest::collection::vec(proptest::collection::vec(value(d, standard), 1..4), 1..=max_repetitions)
        .prop_map(|repetitions| Element(repetitions.into_iter().map(Into::into).collect()))
}

fn body_segment(d: Delimiters, standard: Standard) -> impl Strategy<Value = Segment> {
    let tags = prop_oneof![Just("BEG"), Just("REF"), Just("N1"), Just("PO1"), Just("LIN"), Just("QTY"), Just("FTX")];
    (tags, proptest::collection::vec(element(d, standard), 0..6))
        .prop_map(|(tag, elements)| Segment::new(tag, elements))
}

fn x12_interchange() -> impl Strategy<Value = Interchange> {
    x12_delimiters()
        .prop_flat_map(|d| {
            let sets = proptest::collection::vec(
                (1u32..99_999, proptest::collection::vec(body_segment(d, Standard::X12), 0..6)),
                1..4,
            );
            let groups = proptest::collection::vec((1u32..999_999_999, sets), 1..3);
            (Just(d), 0u32..999_999_999, groups, 0usize..2)
        })
        .prop_map(|(d, control, groups, ta1s)| {
            let version = if d.repetition.is_some() { "00501" } else { "00401" };
            let isa11 = d.repetition.map(|r| (r as char).to_string()).unwrap_or_else(|| "U".to_owned());
            let isa: Vec<String> = vec![
                "00".into(),
                " ".repeat(10),
                "00".into(),
                " ".repeat(10),
                "ZZ".into(),
                format!("{:<15}", "SENDER"),
                "ZZ".into(),
                format!("{:<15}", "RECEIVER"),
                "260101".into(),
                "1200".into(),
                isa11,
                version.into(),
                format!("{control:09}"),
                "0".into(),
                "P".into(),
                (d.component as char).to_string(),
            ];
            Interchange {
                standard: Standard::X12,
                delimiters: d,
                service_string_advice: false,
                header: Some(Segment::simple("ISA", &isa)),
                acknowledgments: (0..ta1s)
                    .map(|i| Segment::simple("TA1", &[format!("{:09}", i + 1).as_str(), "260101", "1200", "A", "000"]))
                    .collect(),
                groups: groups
                    .into_iter()
                    .map(|(gcn, sets)| Group {
                        header: Some(Segment::simple(
                            "GS",
                            &["PO", "SENDER", "RECEIVER", "20260101", "1200", &gcn.to_string(), "X", "004010"],
                        )),
                        transaction_sets: sets
                            .into_iter()
                            .map(|(cn, segments)| TransactionSet {
                                header: Segment::simple("ST", &["850", &format!("{cn:04}")]),
                                segments,
                            })
                            .collect(),
                    })
                    .collect(),
            }
        })
}

fn edifact_interchange() -> impl Strategy<Value = Interchange> {
    edifact_delimiters()
        .prop_flat_map(|d| {
            let messages = proptest::collection::vec(
                ("[A-Z0-9]{1,14}", proptest::collection::vec(body_segment(d, Standard::Edifact), 0..6)),
                1..4,
            );
            let groups = proptest::collection::vec(("[0-9]{1,14}", messages), 1..3);
            (Just(d), "[A-Z0-9]{1,14}", any::<bool>(), groups, prop_oneof![Just("3"), Just("4")], any::<bool>())
        })
        .prop_map(|(d, control, use_groups, groups, version, una)| {
            let unb = Segment::new(
                "UNB",
                vec![
                    Element::composite(["UNOC", version]),
                    Element::composite(["SENDER", "14"]),
                    Element::composite(["RECEIVER", "14"]),
                    Element::composite(["260101", "1200"]),
                    Element::simple(control),
                ],
            );
            let to_messages = |messages: Vec<(String, Vec<Segment>)>| {
                messages
                    .into_iter()
                    .map(|(reference, segments)| TransactionSet {
                        header: Segment::new(
                            "UNH",
                            vec![Element::simple(reference), Element::composite(["ORDERS", "D", "96A", "UN"])],
                        ),
                        segments,
                    })
                    .collect::<Vec<_>>()
            };
            let groups = if use_groups {
                groups
                    .into_iter()
                    .map(|(reference, messages)| Group {
                        header: Some(Segment::new(
                            "UNG",
                            vec![
                                Element::simple("ORDERS"),
                                Element::composite(["SENDER", "14"]),
                                Element::composite(["RECEIVER", "14"]),
                                Element::composite(["260101", "1200"]),
                                Element::simple(reference),
                                Element::simple("UN"),
                                Element::composite(["D", "96A"]),
                            ],
                        )),
                        transaction_sets: to_messages(messages),
                    })
                    .collect()
            } else {
                vec![Group {
                    header: None,
                    transaction_sets: groups.into_iter().flat_map(|(_, m)| to_messages(m)).collect(),
                }]
            };
            Interchange {
                standard: Standard::Edifact,
                delimiters: Delimiters::EDIFACT,
                service_string_advice: una,
                header: Some(unb),
                acknowledgments: vec![],
                groups,
            }
            .with_delimiters(d)
        })
}

fn interchanges() -> impl Strategy<Value = Vec<Interchange>> {
    proptest::collection::vec(prop_oneof![x12_interchange(), edifact_interchange()], 1..4)
}

/// The transaction sets the streaming reader reports, read `chunk` bytes at a time.
fn streamed_sets(input: &[u8], chunk: usize) -> Vec<TransactionSet> {
    let mut sets = Vec::new();
    let mut reader = StreamReader::new(input, ParseOptions::default()).chunk_bytes(chunk);
    while let Some(event) = reader.next() {
        if let crossdock_parsers::Event::TransactionSet(set) = event.unwrap() {
            assert!(set.is_valid(), "{:?}", set.errors());
            sets.push(TransactionSet {
                header: Segment::from_view(&set.header()),
                segments: set.body().map(|s| Segment::from_view(&s)).collect(),
            });
        }
    }
    sets
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn written_trees_parse_back_identically(trees in interchanges(), line_breaks in any::<bool>(), chunk in 1usize..300) {
        let options = WriteOptions { line_break_after_segment: line_breaks };
        let bytes = write_all(&trees, options).unwrap();
        let (parsed, errors) = tree::parse(&bytes, ParseOptions::default());
        prop_assert!(errors.is_empty(), "{:?}\n{}", errors, String::from_utf8_lossy(&bytes));
        prop_assert_eq!(&parsed, &trees);

        let all_sets: Vec<_> = trees.iter().flat_map(|i| i.groups.iter().flat_map(|g| g.transaction_sets.clone())).collect();
        prop_assert_eq!(&streamed_sets(&bytes, chunk), &all_sets);
    }

    #[test]
    fn x12_values_with_delimiters_are_refused(d in x12_delimiters(), pick in 0usize..4) {
        let mut tree = x12_interchange_fixed(d);
        let delimiter = [d.element, d.component, d.segment, d.repetition.unwrap_or(d.element)][pick];
        tree.groups[0].transaction_sets[0].segments = vec![Segment::simple("REF", &[format!("A{}B", delimiter as char).as_str()])];
        prop_assert!(write_all(&[tree], WriteOptions::default()).is_err());
    }
}

fn x12_interchange_fixed(d: Delimiters) -> Interchange {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut tree = x12_interchange().new_tree(&mut runner).unwrap().current();
    tree = tree.with_delimiters(d);
    if d.repetition.is_none() {
        if let Some(isa) = tree.header.as_mut() {
            isa.elements[10] = Element::simple("U");
            isa.elements[11] = Element::simple("00401");
        }
    }
    tree
}

#[test]
fn non_ascii_delimiters_are_written_as_bytes() {
    // Found by fuzzing: ISA16 = 0xBA was written as the two UTF-8 bytes of 'º'.
    let input = b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*\xA6*00501*000000001*0*P*\xBA\x85GS*PO*S*R*20260101*1200*1*X*005010\x85ST*850*0001\x85PO1*1*2*EA*3**BP*A\xBAB\xA6C\x85SE*3*0001\x85GE*1*1\x85IEA*1*000000001\x85";
    let (interchanges, errors) = tree::parse(input, ParseOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    let written = write_all(&interchanges, WriteOptions::default()).unwrap();
    assert_eq!(written.iter().filter(|b| **b == 0xBA).count(), 2, "{}", String::from_utf8_lossy(&written));
    let (again, errors) = tree::parse(&written, ParseOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(again, interchanges);
}
