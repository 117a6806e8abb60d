//! Whatever parses without error writes back and parses to the same tree.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::tree_round_trip(data));
