//! What each fuzz target checks, as plain functions: the targets call them on what libFuzzer
//! generates, and `parsers/tests/fuzz_regressions.rs` on every input that once failed one
//! (`regressions/<target>/`), so those stay fixed in the normal test run.

// Each fuzz target calls one of these.
#![allow(dead_code)]

use crossdock_parsers::tree;
use crossdock_parsers::writer::{write_all, WriteError, WriteOptions};
use crossdock_parsers::{Event, Limits, ParseOptions, Reader, StreamReader};

/// The in-memory reader on arbitrary bytes, strict or lenient (first byte picks), walking
/// every element, component and value: nothing may panic.
pub fn reader(data: &[u8]) {
    let Some((&mode, input)) = data.split_first() else { return };
    let mut options = if mode & 1 == 1 { ParseOptions::lenient() } else { ParseOptions::default() };
    options.check_charset = mode & 2 == 2;
    if mode & 4 == 4 {
        // Tiny limits, so that every limit is exercised.
        options.limits = Limits {
            segment_bytes_max: 40,
            elements_per_segment_max: 4,
            components_per_element_max: 2,
            repetitions_per_element_max: 2,
            segments_per_transaction_set_max: 5,
            transaction_set_bytes_max: 200,
            interchange_bytes_max: 400,
        };
    }
    let mut reader = Reader::new(input, options);
    while let Some(event) = reader.next() {
        match event {
            Event::InterchangeStart(i) => {
                let _ = (i.control_number(), i.sender(), i.receiver(), i.version(), i.is_test());
            }
            Event::GroupStart(g) => {
                let _ = (g.control_number(), g.functional_id(), g.version());
            }
            Event::TransactionSet(set) => {
                let _ = (set.id(), set.control_number(), set.version());
                for segment in set.segments() {
                    for element in segment.elements() {
                        let _ = element.text();
                        for repetition in element.repetitions() {
                            for component in repetition.components() {
                                let _ = component.text();
                            }
                        }
                    }
                }
                for error in set.errors() {
                    let _ = error.to_string();
                }
            }
            Event::Error(error) => {
                let _ = error.to_string();
            }
            _ => {}
        }
    }
}

/// The tokenizer on arbitrary bytes: nothing may panic.
pub fn segments(data: &[u8]) {
    for segment in crossdock_parsers::segments(data) {
        let Ok(segment) = segment else { break };
        for element in segment.elements() {
            let _ = element.text();
        }
    }
}

fn describe(event: Event<'_>) -> String {
    match event {
        Event::TransactionSet(set) => {
            let segments: Vec<String> = set.segments().map(|s| String::from_utf8_lossy(s.raw()).into_owned()).collect();
            format!("set {} {:?} {:?}", set.control_number(), segments, set.errors())
        }
        Event::GroupEnd(end) => format!("group end {:?}", end.errors),
        Event::InterchangeEnd(end) => format!("interchange end {:?}", end.errors),
        Event::Error(error) => format!("error {error:?}"),
        Event::InterchangeStart(i) => format!("interchange {:?}", i.control_number()),
        Event::GroupStart(g) => format!("group {}", g.control_number()),
        Event::InterchangeAcknowledgment(s) => format!("ta1 {:?}", s.raw()),
    }
}

/// The streaming reader must report exactly what the in-memory reader reports, whatever the
/// chunk size (first byte picks it).
pub fn stream_reader(data: &[u8]) {
    let Some((&chunk, input)) = data.split_first() else { return };
    let options = if chunk & 1 == 1 { ParseOptions::lenient() } else { ParseOptions::default() };
    let mut expected = Vec::new();
    let mut reader = Reader::new(input, options.clone());
    while let Some(event) = reader.next() {
        expected.push(describe(event));
    }
    let mut actual = Vec::new();
    let mut stream = StreamReader::new(input, options).chunk_bytes(usize::from(chunk / 2) + 1);
    while let Some(event) = stream.next() {
        actual.push(describe(event.expect("a slice never fails to read")));
    }
    assert_eq!(expected, actual);
}

/// Whatever parses without error writes back and parses to the same tree.
pub fn tree_round_trip(data: &[u8]) {
    let (interchanges, errors) = tree::parse(data, ParseOptions::default());
    if !errors.is_empty() || interchanges.is_empty() {
        return;
    }
    let written = match write_all(&interchanges, WriteOptions::default()) {
        Ok(written) => written,
        // Text is written as UTF-8: with a non-ASCII delimiter, a non-ASCII character's bytes
        // may contain it, and the writer rightly refuses rather than split the value.
        Err(WriteError::DelimiterInValue { delimiter, .. }) if delimiter.0 >= 0x80 => return,
        Err(err) => panic!("a parsed tree can be written: {err:?}"),
    };
    let (again, errors) = tree::parse(&written, ParseOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(interchanges, again);
}
