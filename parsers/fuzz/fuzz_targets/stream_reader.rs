//! The streaming reader must report exactly what the in-memory reader reports, whatever the
//! chunk size (first byte picks it).
#![no_main]

use crossdock_parsers::{Event, ParseOptions, Reader, StreamReader};
use libfuzzer_sys::fuzz_target;

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

fuzz_target!(|data: &[u8]| {
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
});
