//! Whatever parses without error writes back and parses to the same tree.
#![no_main]

use crossdock_parsers::tree;
use crossdock_parsers::writer::{write_all, WriteError, WriteOptions};
use crossdock_parsers::ParseOptions;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
});
