//! The in-memory reader on arbitrary bytes, strict or lenient (first byte picks), walking
//! every element, component and value: nothing may panic.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::reader(data));
