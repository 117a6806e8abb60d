//! Every input that once failed a fuzz target (`parsers/fuzz/regressions/<target>/`, from
//! `cargo fuzz`'s artifacts) is checked again as the target checks it, in the normal test run:
//! the fuzzers themselves need nightly and run outside CI.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

/// Runs `check` on every file of `regressions/<target>`; fails naming each input that panics.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs in {}", dir.display());
    let failed: Vec<String> = inputs
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).unwrap();
            std::panic::catch_unwind(|| check(&data)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "fuzz target {target} fails again on: {failed:?}");
}

#[test]
fn stream_reader_inputs_that_once_failed() {
    replay("stream_reader", checks::stream_reader);
}

#[test]
fn tree_round_trip_inputs_that_once_failed() {
    replay("tree_round_trip", checks::tree_round_trip);
}

/// The reader and the tokenizer must not panic on any of those inputs either (their own
/// targets have no failures on record).
#[test]
fn every_input_on_record_passes_the_reader_and_tokenizer_checks() {
    for dir in ["stream_reader", "tree_round_trip"] {
        replay(dir, checks::reader);
        replay(dir, checks::segments);
    }
}
