//! The tokenizer on arbitrary bytes: nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for segment in crossdock_parsers::segments(data) {
        let Ok(segment) = segment else { break };
        for element in segment.elements() {
            let _ = element.text();
        }
    }
});
