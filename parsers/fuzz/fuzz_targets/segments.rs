//! The tokenizer on arbitrary bytes: nothing may panic.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::segments(data));
