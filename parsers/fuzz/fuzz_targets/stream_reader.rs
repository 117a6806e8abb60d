//! The streaming reader must report exactly what the in-memory reader reports, whatever the
//! chunk size (first byte picks it).
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::stream_reader(data));
