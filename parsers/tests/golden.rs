//! Golden tests over real sample files (see `test_data/SOURCES.md`).
//!
//! Every file in `ok/` parses with the expected number of transaction sets; every syntactic
//! fault (in `err/`, and the wrong counts some `ok/` samples really carry) is reported with
//! the right kind and location. Each file is also read through the streaming reader in tiny
//! chunks, which must give exactly what the in-memory reader gives.

use std::path::PathBuf;

use crossdock_parsers::{Event, ParseOptions, Reader, StreamReader};

/// What a parse reported: sets, TA1s, and each error as (kind, offset, tag, element).
#[derive(Debug, PartialEq, Eq, Default)]
struct Outcome {
    transaction_sets: Vec<String>,
    acknowledgments: usize,
    errors: Vec<(String, u64, String, Option<u16>)>,
}

fn record(outcome: &mut Outcome, event: Event<'_>) {
    let mut push = |errors: &[crossdock_parsers::Error]| {
        for e in errors {
            let tag = e.location.segment_tag.map(|t| t.to_string()).unwrap_or_default();
            outcome.errors.push((e.code().to_owned(), e.location.offset, tag, e.location.element));
        }
    };
    match event {
        Event::TransactionSet(set) => {
            push(set.errors());
            outcome.transaction_sets.push(format!("{}:{}:{}", set.id(), set.control_number(), set.segments().len()));
        }
        Event::GroupEnd(end) => push(end.errors),
        Event::InterchangeEnd(end) => push(end.errors),
        Event::Error(error) => push(std::slice::from_ref(error)),
        Event::InterchangeAcknowledgment(_) => outcome.acknowledgments += 1,
        Event::InterchangeStart(_) | Event::GroupStart(_) => {}
    }
}

fn read(path: &str) -> Vec<u8> {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data").join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn parse(input: &[u8], options: &ParseOptions) -> Outcome {
    let mut outcome = Outcome::default();
    let mut reader = Reader::new(input, options.clone());
    while let Some(event) = reader.next() {
        record(&mut outcome, event);
    }
    outcome
}

fn parse_streaming(input: &[u8], options: &ParseOptions, chunk: usize) -> Outcome {
    let mut outcome = Outcome::default();
    let mut reader = StreamReader::new(input, options.clone()).chunk_bytes(chunk);
    while let Some(event) = reader.next() {
        record(&mut outcome, event.expect("reading from a slice cannot fail"));
    }
    outcome
}

type Expected<'a> = &'a [(&'a str, u64, &'a str, Option<u16>)];

fn check(path: &str, options: ParseOptions, sets: usize, expected_errors: Expected<'_>) {
    let input = read(path);
    let outcome = parse(&input, &options);
    assert_eq!(outcome.transaction_sets.len(), sets, "{path}: transaction sets {:?}", outcome.transaction_sets);
    let expected: Vec<_> = expected_errors.iter().map(|(k, o, t, e)| (k.to_string(), *o, t.to_string(), *e)).collect();
    assert_eq!(outcome.errors, expected, "{path}: errors");
    for chunk in [1, 7, 64, 4096] {
        assert_eq!(parse_streaming(&input, &options, chunk), outcome, "{path}: streaming in chunks of {chunk}");
    }
}

fn strict() -> ParseOptions {
    ParseOptions::default()
}

#[test]
fn x12_valid_samples() {
    check("x12/ok/edieng_850_sln_composite.edi", strict(), 1, &[]);
    check("x12/ok/edieng_856_crossdock_SOPI.edi", strict(), 1, &[]);
    // Its IEA02 "3438" closes ISA13 "000003438": numeric control numbers compare as numbers.
    // The last IEA has no terminator at the end of the file, which is accepted.
    check("x12/ok/edieng_two_isa_two_gs_each.edi", strict(), 6, &[]);
    check("x12/ok/nodex12_850_4010vics.edi", strict(), 1, &[]);
    check("x12/ok/nodex12_850_newline_terminator.edi", strict(), 1, &[]);
    check("x12/ok/nodex12_850_petco_redacted.edi", strict(), 1, &[]);
    check("x12/ok/nodex12_855_ack_statuses.edi", strict(), 1, &[]);
    check("x12/ok/nodex12_856_4060_SOI.edi", strict(), 1, &[]);
    check("x12/ok/pyx12_999_bang_repetition.edi", strict(), 1, &[]);
    check("x12/ok/pyx12_999_two_gs_two_st.edi", strict(), 4, &[]);
    check("x12/ok/staedi_810_850_two_groups.edi", strict(), 3, &[]);
    check("x12/ok/staedi_855_two_st_one_gs.edi", strict(), 2, &[]);
    check("x12/ok/staedi_997_5010_reject.edi", strict(), 1, &[]);
    check("x12/ok/staedi_997_repetition_and_components.edi", strict(), 1, &[]);
    check("x12/ok/staedi_997_three_interchanges.edi", strict(), 3, &[]);
    check("x12/ok/staedi_999_partial_accept.edi", strict(), 1, &[]);
    // A TA1-only interchange; its IEA01 counts the TA1, which some senders do.
    check("x12/ok/staedi_ta1_accepted_5010.edi", strict(), 0, &[]);
}

#[test]
fn ta1_is_reported_outside_groups() {
    let outcome = parse(&read("x12/ok/staedi_ta1_accepted_5010.edi"), &strict());
    assert_eq!(outcome.acknowledgments, 1);
}

#[test]
fn x12_transaction_sets_are_identified() {
    let outcome = parse(&read("x12/ok/staedi_810_850_two_groups.edi"), &strict());
    assert_eq!(outcome.transaction_sets, ["810:000000001:32", "810:000000002:22", "850:000191240:17"]);
    let outcome = parse(&read("x12/ok/nodex12_850_4010vics.edi"), &strict());
    assert_eq!(outcome.transaction_sets, ["850:000000010:33"]);
}

#[test]
fn edifact_valid_samples() {
    check("edifact/ok/smooks_orders_d03b_unoa4.edi", strict(), 1, &[]);
    check("edifact/ok/smooks_recadv_d01b_utf8_in_unoa.edi", strict(), 1, &[]);
    check("edifact/ok/staedi_invoic_d93a_decimal_comma.edi", strict(), 1, &[]);
    check("edifact/ok/staedi_invoic_d97b_custom_una.edi", strict(), 1, &[]);
    // These samples really carry wrong UNT counts (35 segments, declared 36; 18, declared 21).
    check(
        "edifact/ok/smooks_invoic_d03b_release_apostrophe.edi",
        strict(),
        1,
        &[("count_mismatch", 769, "UNT", Some(1))],
    );
    check("edifact/ok/staedi_orders_d96b_eancom_ung.edi", strict(), 1, &[("count_mismatch", 545, "UNT", Some(1))]);
    // A synthetic sample with wrong counts and a wrong UNZ control reference.
    check(
        "edifact/ok/smooks_una_custom_at_star_hash.edi",
        strict(),
        3,
        &[
            ("count_mismatch", 99, "UNT", Some(1)),
            ("count_mismatch", 151, "UNT", Some(1)),
            ("count_mismatch", 204, "UNT", Some(1)),
            ("count_mismatch", 216, "UNZ", Some(1)),
            ("control_number_mismatch", 216, "UNZ", Some(2)),
        ],
    );
}

#[test]
fn edifact_leniency_is_opt_in() {
    // Hard-wrapped every 15 characters: strict refuses with a hint, the allow flag reads it.
    let path = "edifact/ok/staedi_invoic_d97b_una_wrapped15.edi";
    let outcome = parse(&read(path), &strict());
    assert_eq!(outcome.errors[0], ("line_break_in_segment".to_owned(), 15, "UNB".to_owned(), None));
    check(path, ParseOptions { allow_line_breaks_in_segments: true, ..strict() }, 1, &[]);
    let wrapped = parse(&read(path), &ParseOptions::lenient());
    let plain = parse(&read("edifact/ok/staedi_invoic_d97b_custom_una.edi"), &strict());
    assert_eq!(wrapped.transaction_sets, plain.transaction_sets);

    // Bare UNH..UNT with no UNB.
    let path = "edifact/ok/edifactrs_orders_d01b_no_unb.edi";
    check(path, strict(), 1, &[("unexpected_segment", 10, "UNH", None)]);
    check(path, ParseOptions { allow_bare_messages: true, ..strict() }, 1, &[]);
}

#[test]
fn edifact_character_set_checks_are_opt_in() {
    let options = ParseOptions { check_charset: true, ..strict() };
    // UTF-8 Chinese text in a UNOA interchange: the first byte of it is reported.
    let outcome = parse(&read("edifact/ok/smooks_recadv_d01b_utf8_in_unoa.edi"), &options);
    assert_eq!(outcome.errors[0].0, "invalid_character");
    assert_eq!(outcome.errors[0].2, "NAD");
    // Lower-case letters are outside UNOA.
    let outcome = parse(&read("edifact/ok/staedi_invoic_d93a_decimal_comma.edi"), &options);
    assert_eq!(outcome.errors[0].0, "invalid_character");
    // UNOC (Latin-1) is not checked byte by byte.
    assert!(parse(&read("edifact/ok/smooks_invoic_d03b_release_apostrophe.edi"), &options).errors.len() == 1);
}

#[test]
fn x12_broken_samples() {
    check(
        "x12/err/edieng_control_numbers_mismatch.edi",
        strict(),
        1,
        &[
            ("control_number_mismatch", 265, "SE", Some(2)),
            ("control_number_mismatch", 275, "GE", Some(2)),
            ("control_number_mismatch", 285, "IEA", Some(2)),
        ],
    );
    check(
        "x12/err/edieng_wrong_ge_iea_counts.edi",
        strict(),
        1,
        &[("count_mismatch", 275, "GE", Some(1)), ("count_mismatch", 285, "IEA", Some(1))],
    );
    check(
        "x12/err/badx12_835_control_mismatch_oneline.edi",
        strict(),
        1,
        &[
            ("count_mismatch", 823, "SE", Some(1)),
            ("control_number_mismatch", 823, "SE", Some(2)),
            ("count_mismatch", 836, "GE", Some(1)),
            ("control_number_mismatch", 836, "GE", Some(2)),
            ("count_mismatch", 847, "IEA", Some(1)),
            ("control_number_mismatch", 847, "IEA", Some(2)),
        ],
    );
    // Only an ISA: the interchange is never closed.
    check("x12/err/badx12_isa_only_truncated.edi", strict(), 0, &[("missing_trailer", 106, "", None)]);
    // SE01 says 16; the set has 18 segments.
    check("x12/err/staedi_999_out_of_order.edi", strict(), 1, &[("count_mismatch", 486, "SE", Some(1))]);
}

#[test]
fn x12_broken_samples_whose_faults_are_not_syntax() {
    // Missing AK1/AK9, code-list values, X12 syntax notes: the envelope is sound, and the
    // document-level checks (translation) are what refuse them.
    check("x12/err/staedi_997_empty_mixed_versions.edi", strict(), 1, &[]);
    check("x12/err/staedi_997_invalid_codes.edi", strict(), 1, &[]);
    check("x12/err/edieng_850_syntax_note_violation.edi", strict(), 1, &[]);
}

#[test]
fn edifact_broken_samples() {
    check(
        "edifact/err/smooks_orders_d03b_unt_count_wrong.edi",
        strict(),
        1,
        &[("count_mismatch", 1247, "UNT", Some(1))],
    );
    check("edifact/err/pydifact_orders_decimal_comma_no_unz.edi", strict(), 1, &[("missing_trailer", 367, "", None)]);
    // BGM before UNH, and no UNB at all.
    check(
        "edifact/err/edifactrs_orders_d01b_segment_before_unh.edi",
        strict(),
        1,
        &[
            ("unexpected_segment", 10, "BGM", None),
            ("count_mismatch", 96, "UNT", Some(1)),
            ("unexpected_segment", 29, "UNH", None),
        ],
    );
    // Bad qualifiers and non-numeric quantities are document-level faults; a trailing
    // component separator carries no data and is accepted (real partners send it).
    check("edifact/err/staedi_invoic_d97b_bad_values.edi", strict(), 1, &[]);
    check("edifact/err/pydifact_invoic_trailing_component_sep.edi", strict(), 1, &[]);
}

#[test]
fn error_messages_say_where_and_what() {
    let input = read("x12/err/badx12_835_control_mismatch_oneline.edi");
    let mut reader = Reader::new(&input, strict());
    let mut messages = Vec::new();
    while let Some(event) = reader.next() {
        if let Event::TransactionSet(set) = event {
            messages.extend(set.errors().iter().map(|e| e.to_string()));
        }
    }
    assert_eq!(
        messages,
        [
            "SE01 declares 30 segment(s); counted 27 at byte 823, segment 29 (SE, position 27 in its set), element 1 \
             [interchange 000010216, group 20413, transaction set 112233]",
            "SE02 is \"112223\" but the ST02 it closes is \"112233\"; they must be equal at byte 823, segment 29 \
             (SE, position 27 in its set), element 2 [interchange 000010216, group 20413, transaction set 112233]",
        ]
    );
}
