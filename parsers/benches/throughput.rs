//! Parser throughput over generated ~50 MB files (850, 856, ORDERS), side by side with a
//! plain memchr split of the same bytes measured in the same run.
//!
//! `cargo bench -p crossdock-parsers` (set `CROSSDOCK_BENCH_MB` for another size).
//!
//! - `memchr_split`: segments on the terminator, elements on the separator, counted: the floor.
//! - `tokenize`: `segments()` plus splitting every element: framing without envelope rules.
//! - `validate`: the parser with envelope validation and limits, segments not kept
//!   (`crossdock parse --check`).
//! - `parse`: the parser keeping segments, walking every element of every transaction set.

mod generate;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use crossdock_parsers::{segments, Event, ParseOptions, Reader};
use memchr::{memchr, memchr_iter};

fn memchr_split(input: &[u8], element: u8, terminator: u8) -> usize {
    let (mut count, mut rest) = (0, input);
    while let Some(end) = memchr(terminator, rest) {
        count += 1 + memchr_iter(element, &rest[..end]).count();
        rest = &rest[end + 1..];
    }
    count
}

fn tokenize(input: &[u8]) -> usize {
    segments(input).map(|s| s.map(|s| 1 + s.elements().count()).unwrap_or(0)).sum()
}

fn validate(input: &[u8]) -> usize {
    let mut reader = Reader::new(input, ParseOptions::default()).keep_segments(false);
    let mut sets = 0;
    while let Some(event) = reader.next() {
        if let Event::TransactionSet(set) = event {
            assert!(set.is_valid());
            sets += 1;
        }
    }
    sets
}

fn parse(input: &[u8]) -> usize {
    let mut reader = Reader::new(input, ParseOptions::default());
    let mut elements = 0;
    while let Some(event) = reader.next() {
        if let Event::TransactionSet(set) = event {
            for segment in set.segments() {
                elements += 1 + segment.elements().count();
            }
        }
    }
    elements
}

fn throughput(c: &mut Criterion) {
    let megabytes: usize = std::env::var("CROSSDOCK_BENCH_MB").ok().and_then(|m| m.parse().ok()).unwrap_or(50);
    for (name, kind, element, terminator) in [
        ("850", generate::Kind::X12_850, b'*', b'~'),
        ("856", generate::Kind::X12_856, b'*', b'~'),
        ("ORDERS", generate::Kind::Orders, b'+', b'\''),
    ] {
        let input = generate::generate(kind, megabytes * 1024 * 1024, 42);
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.sample_size(10);
        group.bench_function("memchr_split", |b| b.iter(|| memchr_split(black_box(&input), element, terminator)));
        group.bench_function("tokenize", |b| b.iter(|| tokenize(black_box(&input))));
        group.bench_function("validate", |b| b.iter(|| validate(black_box(&input))));
        group.bench_function("parse", |b| b.iter(|| parse(black_box(&input))));
        group.finish();
    }
}

criterion_group!(benches, throughput);
criterion_main!(benches);
