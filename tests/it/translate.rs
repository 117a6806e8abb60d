//! `crossdock translate` and `crossdock render`: golden documents, the round trip through the
//! partner's EDI, schemas, cross-references, and independent readers of what we write.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{
    fixture, json_lines, partners_dir, python, repo, run, run_with_env, sample, stderr, stdout, FIXED_TIME,
};

/// Inputs with golden canonical JSON in `tests/fixtures/golden/<stem>.jsonl`.
/// `UPDATE_GOLDEN=1` rewrites them (review the diff before committing).
const GOLDEN: &[&str] = &[
    "parsers/test_data/x12/ok/nodex12_850_4010vics.edi",
    "parsers/test_data/x12/ok/nodex12_850_petco_redacted.edi",
    "parsers/test_data/x12/ok/edieng_850_sln_composite.edi",
    "parsers/test_data/x12/ok/nodex12_855_ack_statuses.edi",
    "parsers/test_data/x12/ok/staedi_855_two_st_one_gs.edi",
    "parsers/test_data/x12/ok/edieng_856_crossdock_SOPI.edi",
    "parsers/test_data/x12/ok/nodex12_856_4060_SOI.edi",
    "parsers/test_data/edifact/ok/smooks_orders_d03b_unoa4.edi",
    "tests/fixtures/edi/crossdock_850_5010.edi",
    "tests/fixtures/edi/crossdock_855_5010.edi",
    "tests/fixtures/edi/crossdock_856_5010_sotpi.edi",
    "tests/fixtures/edi/crossdock_856_4010_stoi.edi",
    "tests/fixtures/edi/crossdock_orders_d96a_eancom.edi",
    "tests/fixtures/edi/crossdock_ordrsp_d96a.edi",
    "tests/fixtures/edi/crossdock_ordrsp_d01b_decimal_comma.edi",
    "tests/fixtures/edi/crossdock_desadv_d96a_single_order.edi",
    "tests/fixtures/edi/crossdock_desadv_d01b_line_orders.edi",
];

fn translate(path: &Path) -> std::process::Output {
    run(&["translate", "--partners", &partners_dir(), &path.display().to_string()], None)
}

fn golden_path(input: &str) -> PathBuf {
    let stem = Path::new(input).file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    repo("tests/fixtures/golden").join(format!("{stem}.jsonl"))
}

#[test]
fn golden_documents() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for input in GOLDEN {
        let output = translate(&repo(input));
        assert_eq!(output.status.code(), Some(0), "{input}: {}", stderr(&output));
        let actual = json_lines(&output);
        let path = golden_path(input);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let text: String =
                actual.iter().map(|v| format!("{}\n", serde_json::to_string_pretty(v).unwrap())).collect();
            std::fs::write(&path, text).unwrap();
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let expected: Vec<Value> =
            serde_json::Deserializer::from_str(&text).into_iter::<Value>().map(|v| v.unwrap()).collect();
        if actual != expected {
            mismatches.push(format!(
                "{input}: differs from {}\n--- expected\n{}\n--- actual\n{}",
                path.display(),
                serde_json::to_string_pretty(&expected).unwrap(),
                serde_json::to_string_pretty(&actual).unwrap()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}

#[test]
fn field_by_field_checks_of_key_documents() {
    // The VICS 850: header, parties, exact decimals, qualifier pairs, PO4, totals.
    let po = &json_lines(&translate(&sample("x12/ok/nodex12_850_4010vics.edi")))[0];
    assert_eq!(po["type"], "purchase_order");
    assert_eq!(po["partner"], "vics-retail");
    let d = &po["document"];
    assert_eq!(d["po_number"], "08292233294");
    assert_eq!(d["purpose"], "original");
    assert_eq!(d["purpose_code"], "00");
    assert_eq!(d["po_date"], "2010-11-27");
    assert_eq!(d["requested_delivery_date"], "2010-12-14");
    assert_eq!(d["parties"][0]["role"], "ship_to");
    assert_eq!(d["parties"][0]["address"]["city"], "SOLON");
    let line = &d["lines"][0];
    assert_eq!(line["quantity"].to_string(), "120");
    assert_eq!(line["unit_price"].to_string(), "9.25");
    assert_eq!(line["item_ids"]["vendor"], "AB3542");
    assert_eq!(line["item_ids"]["catalog"], "065322-117");
    assert_eq!(line["item_id_codes"]["vendor"], "VN");
    assert_eq!(line["description"], "SMALL WIDGET");
    assert_eq!(line["packaging"]["gross_weight"].to_string(), "3");
    assert_eq!(d["lines"].as_array().unwrap().len(), 6);
    assert_eq!(d["totals"]["amount"].to_string(), "13045.94");
    // ITD, PKG and TD5 have no field: kept whole with their positions.
    let kept: Vec<(&str, u64)> = d["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["segment"].as_str().unwrap(), e["position"].as_u64().unwrap()))
        .collect();
    assert_eq!(kept, [("ITD", 5), ("PKG", 7), ("PKG", 8), ("TD5", 9)]);

    // The 855: line statuses with the raw code beside the word.
    let ack = &json_lines(&translate(&sample("x12/ok/nodex12_855_ack_statuses.edi")))[0]["document"];
    assert_eq!(ack["ack_type"], "accepted");
    assert_eq!(ack["ack_type_code"], "AD");
    let statuses: Vec<(&str, &str)> = ack["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["status"].as_str().unwrap(), l["status_code"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [("accepted", "IA"), ("rejected", "IR"), ("rejected", "IR"), ("accepted", "IA")]);
    assert_eq!(ack["lines"][0]["item_ids"]["ean"], "9780446360265");
    assert_eq!(ack["lines"][1]["status_reason_code"], "CW");

    // The S-O-P-I 856: nested orders, packs with SSCC, items.
    let asn = &json_lines(&translate(&sample("x12/ok/edieng_856_crossdock_SOPI.edi")))[0]["document"];
    assert_eq!(asn["shipment_id"], "000009");
    assert_eq!(asn["hierarchy"], "SOPI");
    assert_eq!(asn["carrier"]["bill_of_lading"], "000001");
    assert_eq!(asn["carrier"]["tracking_number"], "0000000008741");
    assert_eq!(asn["orders"][0]["po_number"], "POREF00");
    assert_eq!(asn["orders"][0]["packs"][0]["sscc"], "00000715670002152360");
    assert_eq!(asn["orders"][0]["packs"][0]["items"][0]["item_ids"]["upc"], "0000000000642");
    assert_eq!(asn["orders"][0]["packs"][0]["items"][0]["quantity_shipped"].to_string(), "12");
    assert_eq!(asn["orders"][1]["po_number"], "POREF01");
    assert_eq!(asn["totals"]["hl_count"].to_string(), "13");

    // The decimal comma ORDRSP: 12,5 is 12.5, exactly.
    let rsp = &json_lines(&translate(&fixture("crossdock_ordrsp_d01b_decimal_comma.edi")))[0]["document"];
    assert_eq!(rsp["lines"][0]["quantity"].to_string(), "12.5");
    assert_eq!(rsp["lines"][0]["unit_price"].to_string(), "3.75");
    assert_eq!(rsp["ack_time"], "08:00");
    assert_eq!(rsp["ack_type"], "accepted");
}

#[test]
fn every_sample_translates_or_is_refused_for_its_real_defect() {
    let documents = [
        ("x12/ok/edieng_850_sln_composite.edi", 1),
        ("x12/ok/nodex12_850_4010vics.edi", 1),
        ("x12/ok/nodex12_850_newline_terminator.edi", 1),
        ("x12/ok/nodex12_850_petco_redacted.edi", 1),
        ("x12/ok/nodex12_855_ack_statuses.edi", 1),
        ("x12/ok/staedi_855_two_st_one_gs.edi", 2),
        ("x12/ok/edieng_856_crossdock_SOPI.edi", 1),
        ("x12/ok/nodex12_856_4060_SOI.edi", 1),
        ("edifact/ok/smooks_orders_d03b_unoa4.edi", 1),
    ];
    for (path, count) in documents {
        let output = translate(&sample(path));
        assert_eq!(output.status.code(), Some(0), "{path}: {}", stderr(&output));
        assert_eq!(json_lines(&output).len(), count, "{path}");
    }
    // Three samples carry real defects, and are refused for them, located:
    // an N1 with a qualifier but no id (syntax note P0304)...
    let output = translate(&sample("x12/ok/staedi_810_850_two_groups.edi"));
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains(
        "N104 (identification code) is required by syntax note P0304: N103, N104 are used together or not at all at byte 1713, segment 67 (N1, position 9 in its set), element 4"
    ), "{}", stderr(&output));
    // ...a UNT that counts 21 segments in an 18-segment message...
    let output = translate(&sample("edifact/ok/staedi_orders_d96b_eancom_ung.edi"));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json_lines(&output).len(), 0);
    assert!(stderr(&output).contains("UNT01 declares 21 segment(s); counted 18"), "{}", stderr(&output));
    // ...and an ORDERS with no UNB, which translates once bare messages are allowed.
    let output = run(
        &["translate", "--lenient", &sample("edifact/ok/edifactrs_orders_d01b_no_unb.edi").display().to_string()],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json_lines(&output)[0]["document"]["po_number"], "ORD-1001");
}

#[test]
fn transaction_sets_we_do_not_translate_are_reported_not_dropped() {
    let output = translate(&sample("x12/ok/staedi_810_850_two_groups.edi"));
    let errors = stderr(&output);
    assert!(errors.contains("transaction set 810 000000001 at byte 160 was not translated"), "{errors}");
    assert!(errors.contains("transaction set 810 000000002 at byte 963 was not translated"), "{errors}");
}

#[test]
fn syntax_note_violations_are_refused_with_located_errors() {
    let output = translate(&sample("x12/err/edieng_850_syntax_note_violation.edi"));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    let errors = stderr(&output);
    assert!(
        errors.contains("PO107 (product/service id) is required by syntax note P0607: PO106, PO107 are used together or not at all at byte 436, segment 15 (PO1, position 13 in its set), element 7"),
        "{errors}"
    );
    assert!(
        errors.contains("PO406 (gross weight per pack) is required by syntax note C0506: when PO405 is used, PO406 is required at byte 972, segment 32 (PO4, position 30 in its set), element 6"),
        "{errors}"
    );
}

#[test]
fn samples_survive_translate_render_translate() {
    let dir = tempfile::tempdir().unwrap();
    let inputs: Vec<PathBuf> = [
        "x12/ok/edieng_850_sln_composite.edi",
        "x12/ok/nodex12_850_4010vics.edi",
        "x12/ok/nodex12_850_petco_redacted.edi",
        "x12/ok/nodex12_855_ack_statuses.edi",
        "x12/ok/staedi_855_two_st_one_gs.edi",
        "x12/ok/edieng_856_crossdock_SOPI.edi",
        "x12/ok/nodex12_856_4060_SOI.edi",
        "edifact/ok/smooks_orders_d03b_unoa4.edi",
    ]
    .iter()
    .map(|p| sample(p))
    .chain(std::fs::read_dir(repo("tests/fixtures/edi")).unwrap().map(|e| e.unwrap().path()))
    .collect();
    for input in inputs {
        let first = json_lines(&translate(&input));
        assert!(!first.is_empty(), "{}", input.display());
        let partner = first[0]["partner"].as_str().unwrap().to_owned();
        let canonical = dir.path().join("canonical.jsonl");
        std::fs::write(&canonical, first.iter().map(|d| format!("{d}\n")).collect::<String>()).unwrap();
        let rendered = run(
            &[
                "render",
                "--partner",
                &partner,
                "--partners",
                &partners_dir(),
                "--data-dir",
                &dir.path().display().to_string(),
                &canonical.display().to_string(),
            ],
            None,
        );
        assert_eq!(rendered.status.code(), Some(0), "{}: {}", input.display(), stderr(&rendered));
        let edi = dir.path().join("rendered.edi");
        std::fs::write(&edi, &rendered.stdout).unwrap();
        let second = json_lines(&translate(&edi));
        let documents = |v: &[Value]| v.iter().map(|d| d["document"].clone()).collect::<Vec<_>>();
        assert_eq!(
            documents(&second),
            documents(&first),
            "{}: the documents changed in the round trip",
            input.display()
        );
    }
}

#[test]
fn every_output_validates_against_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    for kind in ["purchase_order", "purchase_order_ack", "ship_notice"] {
        let schema = run(&["schema", kind], None);
        assert_eq!(schema.status.code(), Some(0));
        let parsed: Value = serde_json::from_slice(&schema.stdout).unwrap();
        assert_eq!(parsed["$schema"], "https://json-schema.org/draft/2020-12/schema");
        std::fs::write(dir.path().join(format!("{kind}.json")), &schema.stdout).unwrap();
    }
    let mut checked = 0;
    for input in GOLDEN {
        for document in json_lines(&translate(&repo(input))) {
            let kind = document["type"].as_str().unwrap().to_owned();
            let file = dir.path().join("document.jsonl");
            std::fs::write(&file, format!("{document}\n")).unwrap();
            let schema = dir.path().join(format!("{kind}.json"));
            let result = python("validate_schema.py", &[&schema.display().to_string(), &file.display().to_string()]);
            assert!(result.status.success(), "{input} does not validate: {}{}", stdout(&result), stderr(&result));
            checked += 1;
        }
    }
    assert!(checked >= 18, "{checked}");
    // The schema is not vacuous: a document with a float-breaking field type fails.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"type\":\"purchase_order\",\"partner\":null,\"document\":{\"po_number\":12,\"lines\":[]}}\n",
    )
    .unwrap();
    let result = python(
        "validate_schema.py",
        &[&dir.path().join("purchase_order.json").display().to_string(), &bad.display().to_string()],
    );
    assert!(!result.status.success());
    assert!(stdout(&result).contains("po_number"), "{}", stdout(&result));
}

#[test]
fn rendered_edifact_reads_back_in_pydifact() {
    let dir = tempfile::tempdir().unwrap();
    for (input, partner) in [
        ("crossdock_orders_d96a_eancom.edi", "eancom-buyer"),
        ("crossdock_ordrsp_d96a.edi", "eancom-supplier"),
        ("crossdock_desadv_d01b_line_orders.edi", "eancom-supplier"),
    ] {
        let documents = json_lines(&translate(&fixture(input)));
        let canonical = dir.path().join("in.jsonl");
        std::fs::write(&canonical, documents.iter().map(|d| format!("{d}\n")).collect::<String>()).unwrap();
        let data = dir.path().display().to_string();
        let rendered = run_with_env(
            &[
                "render",
                "--partner",
                partner,
                "--partners",
                &partners_dir(),
                "--data-dir",
                &data,
                &canonical.display().to_string(),
            ],
            &[FIXED_TIME],
        );
        assert_eq!(rendered.status.code(), Some(0), "{}", stderr(&rendered));
        let edi = dir.path().join("out.edi");
        std::fs::write(&edi, &rendered.stdout).unwrap();
        let theirs = python("edifact_segments.py", &[&edi.display().to_string()]);
        assert!(theirs.status.success(), "pydifact could not read it: {}", stderr(&theirs));
        let theirs: Value = serde_json::from_slice(&theirs.stdout).unwrap();
        // Our own parser's view of the same bytes.
        let ours = json_lines(&run(&["parse", &edi.display().to_string()], None));
        assert_eq!(theirs["messages"].as_array().unwrap().len(), ours.len());
        for (message, line) in theirs["messages"].as_array().unwrap().iter().zip(&ours) {
            assert_eq!(message["type"], line["id"]);
            assert_eq!(message["reference"], line["control_number"]);
            let their_segments = message["segments"].as_array().unwrap();
            let our_segments = line["segments"].as_array().unwrap();
            // pydifact leaves UNH and UNT out of a message's segments.
            assert_eq!(their_segments.len(), our_segments.len() - 2, "{input}");
            for (theirs, ours) in their_segments.iter().zip(&our_segments[1..]) {
                assert_eq!(theirs[0], ours[0], "{input}: segment tags");
                // Same element values (pydifact writes composites as lists, as we do).
                assert_eq!(theirs.as_array().unwrap()[1..], ours.as_array().unwrap()[1..], "{input}: {ours}");
            }
        }
        assert_eq!(theirs["control_reference"], ours_interchange_reference(&ours));
    }
}

fn ours_interchange_reference(lines: &[Value]) -> Value {
    lines[0]["interchange"]["control_number"].clone()
}

#[test]
fn rendered_x12_envelopes_pass_badx12() {
    let dir = tempfile::tempdir().unwrap();
    for (input, partner) in [
        ("crossdock_850_5010.edi", "buyerco"),
        ("crossdock_855_5010.edi", "supplierco"),
        ("crossdock_856_5010_sotpi.edi", "supplierco"),
    ] {
        let documents = json_lines(&translate(&fixture(input)));
        // Two copies: two transaction sets in one group.
        let canonical = dir.path().join("in.jsonl");
        let text: String = documents.iter().chain(documents.iter()).map(|d| format!("{d}\n")).collect();
        std::fs::write(&canonical, text).unwrap();
        let data = dir.path().display().to_string();
        let rendered = run(
            &[
                "render",
                "--partner",
                partner,
                "--partners",
                &partners_dir(),
                "--data-dir",
                &data,
                &canonical.display().to_string(),
            ],
            None,
        );
        assert_eq!(rendered.status.code(), Some(0), "{}", stderr(&rendered));
        let edi = dir.path().join("out.edi");
        std::fs::write(&edi, &rendered.stdout).unwrap();
        let report = python("x12_envelope.py", &[&edi.display().to_string()]);
        assert!(report.status.success(), "badx12 failed: {}", stderr(&report));
        let report: Value = serde_json::from_slice(&report.stdout).unwrap();
        assert_eq!(report["valid"], true, "{input}: {report}");
        assert_eq!(report["groups"][0]["transaction_sets"], 2, "{input}: {report}");
    }
    // The checker is not vacuous: it refuses an interchange with wrong counts.
    let report = python("x12_envelope.py", &[&sample("x12/err/edieng_wrong_ge_iea_counts.edi").display().to_string()]);
    let valid = serde_json::from_slice::<Value>(&report.stdout).map(|r| r["valid"] == true).unwrap_or(false);
    assert!(!valid, "badx12 accepted wrong counts: {}", stdout(&report));
}

#[test]
fn cross_references_apply_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let partners = dir.path().join("partners");
    std::fs::create_dir(&partners).unwrap();
    let items = dir.path().join("items.csv");
    std::fs::write(&items, "partner item id,our item id\nB-100,SKU-000100\nB-200,SKU-000200\n").unwrap();
    std::fs::write(
        partners.join("buyerco.toml"),
        format!(
            "id = \"buyerco\"\n[x12]\ninterchange_id = \"ZZ:BUYERCO\"\nversion = \"005010\"\n[documents]\nsend = [\"855\"]\n\
             [xref]\nuom = {{ CA = \"CASE\", EA = \"EACH\" }}\nitems = \"{}\"\n",
            items.display()
        ),
    )
    .unwrap();
    let output = run(
        &[
            "translate",
            "--partners",
            &partners.display().to_string(),
            &fixture("crossdock_850_5010.edi").display().to_string(),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let po = &json_lines(&output)[0]["document"];
    assert_eq!(po["lines"][0]["uom"], "CASE");
    assert_eq!(po["lines"][0]["uom_code"], "CA");
    assert_eq!(po["lines"][0]["item_ids"]["internal"], "SKU-000100");
    assert_eq!(po["lines"][1]["uom"], "EACH");
    assert_eq!(po["lines"][1]["item_ids"]["internal"], "SKU-000200");

    // The ERP answers in its own terms: our units and item ids only.
    let ack = serde_json::json!({
        "type": "purchase_order_ack",
        "document": {
            "po_number": "PO-9001", "po_date": "2026-01-05", "ack_type": "accepted",
            "lines": [{"line_number": "1", "quantity": 120, "uom": "CASE", "item_ids": {"internal": "SKU-000100"}, "status": "accepted"}]
        }
    });
    let input = dir.path().join("ack.json");
    std::fs::write(&input, ack.to_string()).unwrap();
    let rendered = run(
        &[
            "render",
            "--partner",
            "buyerco",
            "--partners",
            &partners.display().to_string(),
            "--data-dir",
            &dir.path().display().to_string(),
            &input.display().to_string(),
        ],
        None,
    );
    assert_eq!(rendered.status.code(), Some(0), "{}", stderr(&rendered));
    let text = stdout(&rendered);
    // Ours to theirs: CASE -> CA, SKU-000100 -> the buyer's B-100; our id never leaves.
    assert!(text.contains("PO1*1*120*CA***BP*B-100~"), "{text}");
    assert!(text.contains("ACK*IA~"), "{text}");
    assert!(!text.contains("SKU-000100"), "{text}");

    // The profile sends it acknowledgments only: a purchase order is refused.
    let po = dir.path().join("po.json");
    std::fs::write(
        &po,
        "{\"type\":\"purchase_order\",\"document\":{\"po_number\":\"PO-1\",\"po_date\":\"2026-01-05\",\"lines\":[]}}",
    )
    .unwrap();
    let refused = run(
        &[
            "render",
            "--partner",
            "buyerco",
            "--partners",
            &partners.display().to_string(),
            "--data-dir",
            &dir.path().display().to_string(),
            &po.display().to_string(),
        ],
        None,
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("partner buyerco is not set up to receive a purchase_order (documents.send)"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn control_numbers_are_fresh_and_never_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let documents = json_lines(&translate(&fixture("crossdock_850_5010.edi")));
    let canonical = dir.path().join("in.jsonl");
    std::fs::write(&canonical, documents.iter().map(|d| format!("{d}\n")).collect::<String>()).unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let rendered = run(
            &[
                "render",
                "--partner",
                "buyerco",
                "--partners",
                &partners_dir(),
                "--data-dir",
                &dir.path().display().to_string(),
                &canonical.display().to_string(),
            ],
            None,
        );
        assert_eq!(rendered.status.code(), Some(0), "{}", stderr(&rendered));
        let parsed = json_lines(&run(&["parse", "-"], Some(&rendered.stdout)));
        let line = &parsed[0];
        seen.push((
            line["interchange"]["control_number"].as_str().unwrap().to_owned(),
            line["group"]["control_number"].as_str().unwrap().to_owned(),
            line["control_number"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(
        seen,
        [
            ("000000001".to_owned(), "1".to_owned(), "0001".to_owned()),
            ("000000002".to_owned(), "2".to_owned(), "0002".to_owned()),
            ("000000003".to_owned(), "3".to_owned(), "0003".to_owned()),
        ]
    );
}

#[test]
fn render_refuses_what_it_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("po.json");
    // A PO number longer than BEG03's 22 characters, and one with the element separator.
    std::fs::write(
        &input,
        "{\"type\":\"purchase_order\",\"document\":{\"po_number\":\"PO-THAT-IS-FAR-TOO-LONG-FOR-BEG03\",\"po_date\":\"2026-01-05\",\"lines\":[{\"quantity\":1}]}}\n\
         {\"type\":\"purchase_order\",\"document\":{\"po_number\":\"PO*1\",\"po_date\":\"2026-01-05\",\"lines\":[{\"quantity\":1}]}}\n",
    )
    .unwrap();
    let data = dir.path().display().to_string();
    let rendered = run(
        &[
            "render",
            "--partner",
            "buyerco",
            "--partners",
            &partners_dir(),
            "--data-dir",
            &data,
            &input.display().to_string(),
        ],
        None,
    );
    assert_eq!(rendered.status.code(), Some(1));
    assert_eq!(stdout(&rendered), "");
    assert!(
        stderr(&rendered).contains("BEG03 value \"PO*1\" contains the element separator '*'"),
        "{}",
        stderr(&rendered)
    );
    // Too long for its element: caught when the output is read back.
    let long = dir.path().join("long.json");
    std::fs::write(
        &long,
        "{\"type\":\"purchase_order\",\"document\":{\"po_number\":\"PO-THAT-IS-FAR-TOO-LONG-FOR-BEG03\",\"po_date\":\"2026-01-05\",\"lines\":[{\"quantity\":1}]}}\n",
    )
    .unwrap();
    let rendered = run(
        &[
            "render",
            "--partner",
            "buyerco",
            "--partners",
            &partners_dir(),
            "--data-dir",
            &data,
            &long.display().to_string(),
        ],
        None,
    );
    assert_eq!(rendered.status.code(), Some(1));
    assert!(
        stderr(&rendered).contains("BEG03 (purchase order number) is 33 characters long; the maximum is 22"),
        "{}",
        stderr(&rendered)
    );
}

#[test]
fn large_inputs_keep_input_order_and_report_each_bad_set_where_it_is() {
    // Enough sets for many batches on several worker threads: documents must come out in
    // input order, and an invalid set in the middle is reported, not dropped or reordered.
    let isa =
        "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*SUPPLIERCO     *260105*0900*^*00501*000000101*0*P*>~";
    let mut input = String::new();
    let mut expected = Vec::new();
    for interchange in 0..3 {
        input.push_str(&isa.replace("000000101", &format!("{:09}", 200 + interchange)));
        input.push_str(&format!("GS*PO*BUYERCO*SUPPLIERCO*20260105*0900*{interchange}*X*005010~"));
        for set in 0..700 {
            let po = format!("PO-{interchange}-{set}");
            let bad = interchange == 1 && set == 350;
            // A bad set: BEG05 is not a date.
            let date = if bad { "2026013X" } else { "20260105" };
            input.push_str(&format!(
                "ST*850*{set:04}~BEG*00*SA*{po}**{date}~PO1*1*{q}*EA*9.25**BP*B-{set}~CTT*1~SE*5*{set:04}~",
                q = set + 1
            ));
            if !bad {
                expected.push(po);
            }
        }
        input.push_str(&format!("GE*700*{interchange}~IEA*1*{:09}~", 200 + interchange));
    }
    let output = run(&["translate", "--partners", &partners_dir(), "-"], Some(input.as_bytes()));
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let numbers: Vec<String> = json_lines(&output)
        .iter()
        .map(|d| d["document"]["po_number"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(numbers.len(), expected.len());
    assert!(numbers == expected, "documents out of input order");
    let errors = stderr(&output);
    assert_eq!(errors.lines().count(), 1, "{errors}");
    assert!(errors.contains("BEG05") && errors.contains("2026013X"), "{errors}");
}

/// Renders `input` for buyerco with counters in `data`.
fn render_buyerco(input: &[u8], data: &Path) -> std::process::Output {
    run(
        &[
            "render",
            "--partner",
            "buyerco",
            "--partners",
            &partners_dir(),
            "--data-dir",
            &data.display().to_string(),
            "-",
        ],
        Some(input),
    )
}

/// What `crossdock render` leaves in its data directory: its control numbers, and none of the
/// sets it spooled there.
fn data_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn large_renders_group_by_type_and_number_every_set() {
    // Thousands of documents of three types, interleaved, in compact and pretty-printed JSON:
    // many batches on several workers. The output must be one valid interchange with one
    // group per type, every set numbered once, and translate back to the same documents.
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    for fixture_name in ["crossdock_850_5010.edi", "crossdock_855_5010.edi", "crossdock_856_5010_sotpi.edi"] {
        let output = translate(&fixture(fixture_name));
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        inputs.push(json_lines(&output).remove(0));
    }
    let mut json = String::new();
    let mut by_type: Vec<Vec<Value>> = vec![Vec::new(); 3];
    let mut first_seen = Vec::new();
    for i in 0..3000 {
        let kind = (i * 7 / 3) % 3;
        if !first_seen.contains(&kind) {
            first_seen.push(kind);
        }
        let mut document = inputs[kind].clone();
        // What we send reads back as from us, not from the partner: compare the documents.
        document.as_object_mut().unwrap().remove("envelope");
        document.as_object_mut().unwrap().remove("partner");
        let key = ["po_number", "po_number", "shipment_id"][kind];
        document["document"][key] = Value::String(format!("R-{i}"));
        json.push_str(&if i % 5 == 0 {
            serde_json::to_string_pretty(&document).unwrap()
        } else {
            document.to_string()
        });
        json.push('\n');
        by_type[kind].push(document);
    }
    let rendered = render_buyerco(json.as_bytes(), dir.path());
    assert_eq!(rendered.status.code(), Some(0), "{}", stderr(&rendered));
    assert_eq!(data_files(dir.path()), ["control-numbers.json", "control-numbers.lock"]);

    let parsed = json_lines(&run(&["parse", "-"], Some(&rendered.stdout)));
    assert_eq!(parsed.len(), 3000);
    let mut groups: Vec<String> =
        parsed.iter().map(|s| s["group"]["control_number"].as_str().unwrap().to_owned()).collect();
    groups.dedup();
    assert_eq!(groups, ["1", "2", "3"], "one group per type, in order of first appearance");
    let mut numbers: Vec<&str> = parsed.iter().map(|s| s["control_number"].as_str().unwrap()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 3000, "every set has its own control number");

    let back = run(&["translate", "--partners", &partners_dir(), "-"], Some(&rendered.stdout));
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
    let expected: Vec<Value> = first_seen.iter().flat_map(|&kind| by_type[kind].clone()).collect();
    let actual: Vec<Value> = json_lines(&back)
        .into_iter()
        .map(|mut d| {
            d.as_object_mut().unwrap().remove("envelope");
            d.as_object_mut().unwrap().remove("partner");
            d
        })
        .collect();
    assert_eq!(actual.len(), expected.len());
    if let Some(i) = (0..actual.len()).find(|&i| actual[i] != expected[i]) {
        panic!("document {i} changed in the round trip:\n{}\nbecame\n{}", expected[i], actual[i]);
    }
}

#[test]
fn render_failures_say_where_and_use_no_control_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let good = json_lines(&translate(&fixture("crossdock_850_5010.edi"))).remove(0).to_string();
    // 2000 good lines, then a broken one: the error names its line, far past the first batch.
    let mut json: String = (0..2000).map(|_| format!("{good}\n")).collect();
    json.push_str("{\"type\":\"purchase_order\",\"document\":{\"po_number\":}\n");
    let refused = render_buyerco(json.as_bytes(), dir.path());
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(stdout(&refused), "");
    // No counters were committed, and nothing spooled was left behind.
    assert_eq!(data_files(dir.path()), ["control-numbers.lock"]);
    assert!(
        stderr(&refused).contains("line 2001, column 50: document 2001 is not a canonical document"),
        "{}",
        stderr(&refused)
    );
    // A broken document after a good one on the same line: its columns count from the line's
    // start; one spread over lines: from its line's.
    let json = format!("{good}\n{good} {{\"type\":\"purchase_order\",\"document\":{{\"po_number\":}}\n");
    let refused = render_buyerco(json.as_bytes(), dir.path());
    let expected = format!("line 2, column {}: document 3 is not a canonical document", good.len() + 1 + 50);
    assert!(stderr(&refused).contains(&expected), "{}", stderr(&refused));
    let json =
        format!("{good}\n{good}\n{{\"type\": \"purchase_order\",\n  \"document\": {{\n    \"po_number\": }}\n}}\n");
    let refused = render_buyerco(json.as_bytes(), dir.path());
    assert!(
        stderr(&refused).contains("line 5, column 18: document 3 is not a canonical document"),
        "{}",
        stderr(&refused)
    );
    // Nothing was rendered, so the next run starts at 1.
    let rendered = render_buyerco(format!("{good}\n").as_bytes(), dir.path());
    assert_eq!(rendered.status.code(), Some(0), "{}", stderr(&rendered));
    let parsed = json_lines(&run(&["parse", "-"], Some(&rendered.stdout)));
    assert_eq!(parsed[0]["interchange"]["control_number"], "000000001");
    // Bytes that are not UTF-8 are refused at the byte, past the first batch too.
    let mut bytes: Vec<u8> = (0..1500).flat_map(|_| format!("{good}\n").into_bytes()).collect();
    let at = good.find("\"po_number\":\"").unwrap() + "\"po_number\":\"".len();
    let mut broken = good.clone().into_bytes();
    broken[at] = 0xFF;
    bytes.extend_from_slice(&broken);
    let refused = render_buyerco(&bytes, dir.path());
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(stdout(&refused), "");
    let expected = format!("line 1501, column {}: document 1501 is not a canonical document: invalid unicode", at + 1);
    assert!(stderr(&refused).contains(&expected), "{}", stderr(&refused));
    // Empty input is refused too.
    let empty = render_buyerco(b"\n  \n", dir.path());
    assert_eq!(empty.status.code(), Some(1));
    assert!(stderr(&empty).contains("no documents to render"), "{}", stderr(&empty));
}
