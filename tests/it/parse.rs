//! `crossdock parse`: JSON Lines out, errors located, exit codes 0 / 1 / 2.

use serde_json::Value;

use crate::support::{json_lines, run, sample, stderr, stdout};

fn path(p: &str) -> String {
    sample(p).display().to_string()
}

#[test]
fn one_line_per_transaction_set_with_its_envelope() {
    let output = run(&["parse", &path("x12/ok/staedi_810_850_two_groups.edi")], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 3);
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["810", "810", "850"]);
    let po = &lines[2];
    assert_eq!(po["kind"], "transaction_set");
    assert_eq!(po["control_number"], "000191240");
    assert_eq!(po["interchange"]["control_number"], "000000020");
    assert_eq!(po["interchange"]["sender"]["id"], "SENDERISA");
    assert_eq!(po["interchange"]["delimiters"]["component"], ">");
    assert_eq!(po["group"]["functional_id"], "PO");
    assert_eq!(po["group"]["control_number"], "165");
    assert_eq!(po["segments"][0], serde_json::json!(["ST", "850", "000191240"]));
    assert_eq!(po["segments"].as_array().unwrap().len(), 17);
    assert_eq!(po["errors"], serde_json::json!([]));
}

/// Rebuilds a segment's text from its JSON, to prove nothing was dropped.
fn rebuild(segment: &Value, d: &Value) -> String {
    let (e, c, r) = (d["element"].as_str().unwrap(), d["component"].as_str().unwrap(), d["repetition"].as_str());
    let items = segment.as_array().unwrap();
    let mut text = items[0].as_str().unwrap().to_owned();
    for element in &items[1..] {
        text.push_str(e);
        let components =
            |v: &Value| v.as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect::<Vec<_>>().join(c);
        match element {
            Value::String(s) => text.push_str(s),
            Value::Array(parts) if parts.iter().all(Value::is_string) => text.push_str(&components(element)),
            Value::Array(repetitions) => {
                let reps: Vec<String> = repetitions.iter().map(components).collect();
                text.push_str(&reps.join(r.expect("a repeated element implies a repetition separator")));
            }
            other => panic!("unexpected element {other}"),
        }
    }
    text
}

#[test]
fn output_is_lossless() {
    // Every segment rebuilt from the JSON is found verbatim in the file, empty elements,
    // components and repetitions included.
    for file in [
        "x12/ok/nodex12_856_4060_SOI.edi",
        "x12/ok/staedi_999_partial_accept.edi",
        "x12/ok/nodex12_850_petco_redacted.edi",
    ] {
        let original = std::fs::read_to_string(sample(file)).unwrap();
        let output = run(&["parse", &path(file)], None);
        assert_eq!(output.status.code(), Some(0));
        for line in json_lines(&output) {
            let d = &line["interchange"]["delimiters"];
            let terminator = d["segment"].as_str().unwrap();
            for segment in line["segments"].as_array().unwrap() {
                let text = format!("{}{terminator}", rebuild(segment, d));
                assert!(original.contains(&text), "{file}: {text:?} is not in the file");
            }
        }
    }
}

#[test]
fn composites_and_repetitions_are_nested_arrays() {
    let output = run(&["parse", &path("x12/ok/staedi_999_partial_accept.edi")], None);
    let line = &json_lines(&output)[0];
    let segments = line["segments"].as_array().unwrap();
    // CTX*CLM01:123456789: a composite is an array of components.
    assert!(segments.contains(&serde_json::json!(["CTX", ["CLM01", "123456789"]])));
    // CTX01 repeats: an array of repetitions, each an array of components; CTX05 is a composite.
    let ctx = segments.iter().find(|s| s[0] == "CTX" && s.as_array().unwrap().len() > 2).unwrap();
    assert_eq!(
        ctx[1],
        serde_json::json!([["SITUATIONAL TRIGGER"], ["SITUATIONAL TRIGGER", "2"], ["SITUATIONAL TRIGGER", "3"]])
    );
    assert_eq!(ctx[5], serde_json::json!(["5", "3"]));
    assert_eq!(ctx[4], "");
}

#[test]
fn edifact_messages_with_release_characters() {
    let output = run(&["parse", &path("edifact/ok/smooks_invoic_d03b_release_apostrophe.edi")], None);
    // This sample's UNT count is wrong: the message is still printed, with its error.
    assert_eq!(output.status.code(), Some(1));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 1);
    let message = &lines[0];
    assert_eq!(message["kind"], "message");
    assert_eq!(message["id"], "INVOIC");
    assert_eq!(message["version"], "D03B");
    assert_eq!(message["interchange"]["service_string_advice"], true);
    let imd = message["segments"].as_array().unwrap().iter().find(|s| s[0] == "IMD").unwrap();
    assert_eq!(imd[3][3], "Collectors edition of The Hobbit with Tolkien's original colours on sleeve");
    assert_eq!(message["errors"][0]["code"], "count_mismatch");
    assert_eq!(message["errors"][0]["segment_tag"], "UNT");
    assert!(stderr(&output).contains("UNT01 declares 36 segment(s); counted 35 at byte 769"), "{}", stderr(&output));
}

#[test]
fn check_prints_only_located_errors() {
    let output = run(&["parse", "--check", &path("x12/err/edieng_control_numbers_mismatch.edi")], None);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    let errors = stderr(&output);
    assert_eq!(errors.lines().count(), 3, "{errors}");
    assert!(errors.contains("SE02 is \"0002\" but the ST02 it closes is \"0001\"; they must be equal at byte 265, segment 7 (SE, position 5 in its set), element 2"), "{errors}");

    let output = run(&["parse", "--check", &path("x12/ok/nodex12_850_4010vics.edi")], None);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "");
    assert_eq!(stderr(&output), "");
}

#[test]
fn standard_input_and_leniency() {
    let wrapped = std::fs::read(sample("edifact/ok/staedi_invoic_d97b_una_wrapped15.edi")).unwrap();
    let strict = run(&["parse", "-"], Some(&wrapped));
    assert_eq!(strict.status.code(), Some(1));
    assert!(stderr(&strict).starts_with("<stdin>: a line break inside the segment"), "{}", stderr(&strict));
    let lenient = run(&["parse", "--lenient", "-"], Some(&wrapped));
    assert_eq!(lenient.status.code(), Some(0), "{}", stderr(&lenient));
    let lines = json_lines(&lenient);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], "INVOIC");
}

#[test]
fn not_edi_is_refused_and_usage_errors_exit_2() {
    let output = run(&["parse", "-"], Some(b"{\"hello\": \"world\"}"));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("the input is not X12 or EDIFACT: expected ISA, UNA or UNB, found \"{\\\"hello\\\""),
        "{}",
        stderr(&output)
    );

    let output = run(&["parse", "/nonexistent/file.edi"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot read /nonexistent/file.edi"));

    let output = run(&["parse"], None);
    assert_eq!(output.status.code(), Some(2));
    let output = run(&["frobnicate"], None);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn ta1_gets_its_own_line() {
    let output = run(&["parse", &path("x12/ok/staedi_ta1_accepted_5010.edi")], None);
    assert_eq!(output.status.code(), Some(0));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["kind"], "interchange_acknowledgment");
    assert_eq!(lines[0]["segment"], serde_json::json!(["TA1", "000000050", "200229", "1200", "A", "000"]));
}
