//! Whatever parses without error writes back and parses to the same tree.
#![no_main]

use crossdock_parsers::tree;
use crossdock_parsers::writer::{write_all, WriteOptions};
use crossdock_parsers::ParseOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (interchanges, errors) = tree::parse(data, ParseOptions::default());
    if !errors.is_empty() || interchanges.is_empty() {
        return;
    }
    let written = write_all(&interchanges, WriteOptions::default()).expect("a parsed tree can be written");
    let (again, errors) = tree::parse(&written, ParseOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(interchanges, again);
});
