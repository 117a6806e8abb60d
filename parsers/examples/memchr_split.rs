//! The baseline for the parser benchmarks, as a whole process: read the file, split it into
//! segments on the terminator and each segment into elements on the separator, with memchr,
//! and count them. No validation, no envelopes, no limits: the floor a parser is measured
//! against.
//!
//! `cargo run --release -p crossdock-parsers --example memchr_split -- FILE`

use memchr::{memchr, memchr_iter};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: memchr_split FILE");
        std::process::exit(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("memchr_split: {path}: {err}");
            std::process::exit(2);
        }
    };
    // Delimiters from the first bytes: the ISA's, or EDIFACT's defaults.
    let (element, terminator) =
        if bytes.starts_with(b"ISA") && bytes.len() > 105 { (bytes[3], bytes[105]) } else { (b'+', b'\'') };
    let (mut segments, mut elements) = (0usize, 0usize);
    let mut rest = &bytes[..];
    while let Some(end) = memchr(terminator, rest) {
        segments += 1;
        elements += memchr_iter(element, &rest[..end]).count();
        rest = &rest[end + 1..];
    }
    println!("{segments} segments, {elements} elements");
}
