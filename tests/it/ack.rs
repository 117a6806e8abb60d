//! `crossdock ack`: 997, 999, TA1 and CONTRL, checked segment by segment for accepted,
//! partially accepted and rejected input.

use serde_json::Value;

use crate::support::{fixture, json_lines, partners_dir, run, run_with_env, sample, stderr, FIXED_TIME};

/// The acknowledgment for `input` (bytes), parsed back: one JSON line per transaction set.
fn ack(input: &[u8]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.edi");
    std::fs::write(&file, input).unwrap();
    let data = dir.path().display().to_string();
    let output = run_with_env(
        &["ack", "--partners", &partners_dir(), "--data-dir", &data, &file.display().to_string()],
        &[FIXED_TIME],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    json_lines(&run(&["parse", "-"], Some(&output.stdout)))
}

/// Segments of a parsed transaction set, without ST and SE.
fn body(line: &Value) -> Vec<Value> {
    let segments = line["segments"].as_array().unwrap();
    segments[1..segments.len() - 1].to_vec()
}

fn segments(values: &[&str]) -> Vec<Value> {
    values.iter().map(|s| Value::Array(s.split('*').map(|e| Value::String(e.to_owned())).collect())).collect()
}

#[test]
fn accepted_004010_purchase_order_gets_a_clean_997() {
    let lines = ack(&std::fs::read(sample("x12/ok/nodex12_850_4010vics.edi")).unwrap());
    assert_eq!(lines.len(), 1);
    let ack = &lines[0];
    assert_eq!(ack["id"], "997");
    assert_eq!(ack["group"]["functional_id"], "FA");
    assert_eq!(ack["group"]["version"], "004010");
    // From us to the partner, in its interchange's terms.
    assert_eq!(ack["interchange"]["sender"]["id"], "CROSSDOCK");
    assert_eq!(ack["interchange"]["receiver"]["id"], "4405197800");
    assert_eq!(body(ack), segments(&["AK1*PO*1421", "AK2*850*000000010", "AK5*A", "AK9*A*1*1*1"]));
}

#[test]
fn syntax_note_violations_get_ak3_and_ak4() {
    let lines = ack(&std::fs::read(sample("x12/err/edieng_850_syntax_note_violation.edi")).unwrap());
    assert_eq!(
        body(&lines[0]),
        segments(&[
            "AK1*PO*1421",
            "AK2*850*000000010",
            "AK3*PO1*13**8",
            "AK4*7*234*2",
            "AK3*PO4*30**8",
            "AK4*6*384*2",
            "AK5*R*5",
            "AK9*R*1*1*0",
        ])
    );
}

#[test]
fn a_group_with_one_bad_transaction_set_is_partially_accepted() {
    // Two 850s in one group: the second has a non-numeric quantity.
    let good = std::fs::read_to_string(fixture("crossdock_850_5010.edi")).unwrap();
    let set: String = good.lines().skip(2).take_while(|l| !l.starts_with("GE")).map(|l| format!("{l}\n")).collect();
    let bad = set
        .replace("ST*850*0001", "ST*850*0002")
        .replace("SE*20*0001", "SE*20*0002")
        .replace("PO1*2*10*EA", "PO1*2*1O*EA");
    let input = good.replace("GE*1*101", &format!("{bad}GE*2*101"));
    let lines = ack(input.as_bytes());
    let ack = &lines[0];
    // 005010 partners get a 999.
    assert_eq!(ack["id"], "999");
    assert_eq!(ack["segments"][0], serde_json::json!(["ST", "999", "0001", "005010X231"]));
    assert_eq!(
        body(ack),
        segments(&[
            "AK1*PO*101*005010",
            "AK2*850*0001",
            "IK5*A",
            "AK2*850*0002",
            "IK3*PO1*16**8",
            "IK4*2*330*6*1O",
            "IK5*R*5",
            "AK9*P*2*2*1",
        ])
    );
}

#[test]
fn envelope_errors_are_coded() {
    // SE02, GE02 and IEA02 all wrong: a TA1 rejects the interchange (note 001), alone.
    let lines = ack(&std::fs::read(sample("x12/err/edieng_control_numbers_mismatch.edi")).unwrap());
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["kind"], "interchange_acknowledgment");
    assert_eq!(lines[0]["segment"], serde_json::json!(["TA1", "000003438", "101127", "1719", "R", "001"]));
    // The fixed clock: 2026-01-15 12:30 UTC.
    assert_eq!(lines[0]["interchange"]["header"][9], "260115");
    assert_eq!(lines[0]["interchange"]["header"][10], "1230");

    // Group and set counts wrong, interchange sound: AK5 and AK9 codes.
    let input = std::fs::read_to_string(fixture("crossdock_850_5010.edi"))
        .unwrap()
        .replace("SE*20*0001", "SE*19*0001")
        .replace("GE*1*101", "GE*3*101");
    let lines = ack(input.as_bytes());
    assert_eq!(body(&lines[0]), segments(&["AK1*PO*101*005010", "AK2*850*0001", "IK5*R*4", "AK9*R*3*1*0*5"]));
}

#[test]
fn acknowledgments_are_not_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(
        &[
            "ack",
            "--partners",
            &partners_dir(),
            "--data-dir",
            &dir.path().display().to_string(),
            &sample("x12/ok/staedi_997_5010_reject.edi").display().to_string(),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty(), "{}", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn contrl_for_accepted_and_rejected_messages() {
    let lines = ack(&std::fs::read(fixture("crossdock_ordrsp_d96a.edi")).unwrap());
    let contrl = &lines[0];
    assert_eq!(contrl["id"], "CONTRL");
    assert_eq!(contrl["segments"][0], serde_json::json!(["UNH", "1", ["CONTRL", "D", "3", "UN"]]));
    assert_eq!(
        body(contrl),
        vec![
            serde_json::json!(["UCI", "RSP0001", ["5412345000013", "14"], ["5400000000001", "14"], "7"]),
            serde_json::json!(["UCM", "1", ["ORDRSP", "D", "96A", "UN"], "7"]),
        ]
    );
    // Two messages, the second with a missing mandatory element and a bad number.
    let text = std::fs::read_to_string(fixture("crossdock_ordrsp_d96a.edi")).unwrap();
    let start = text.find("UNH+1").unwrap();
    let end = text.find("UNZ").unwrap();
    let second = text[start..end]
        .replace("UNH+1+", "UNH+2+")
        .replace("UNT+21+1", "UNT+21+2")
        .replace("QTY+21:24:PCE", "QTY+21:2X:PCE")
        .replace("NAD+BY+5400000000001::9", "NAD++5400000000001::9");
    let input = format!("{}{}{}", &text[..end], second, text[end..].replace("UNZ+1+", "UNZ+2+"));
    let lines = ack(input.as_bytes());
    assert_eq!(
        body(&lines[0]),
        vec![
            serde_json::json!(["UCI", "RSP0001", ["5412345000013", "14"], ["5400000000001", "14"], "7"]),
            serde_json::json!(["UCM", "1", ["ORDRSP", "D", "96A", "UN"], "7"]),
            serde_json::json!(["UCM", "2", ["ORDRSP", "D", "96A", "UN"], "4"]),
            serde_json::json!(["UCS", "6"]),
            serde_json::json!(["UCD", "13", "1"]),
            serde_json::json!(["UCS", "14"]),
            serde_json::json!(["UCD", "37", ["1", "2"]]),
        ]
    );
    // An interchange whose UNZ count is wrong is rejected at its level.
    let lines = ack(text.replace("UNZ+1+", "UNZ+4+").as_bytes());
    assert_eq!(
        body(&lines[0]),
        vec![serde_json::json!([
            "UCI",
            "RSP0001",
            ["5412345000013", "14"],
            ["5400000000001", "14"],
            "4",
            "29",
            "UNZ",
            "1"
        ])]
    );
}

/// `crossdock ack` streams: the first interchange's acknowledgment comes out while the input
/// is still open, and the second follows when its interchange arrives.
#[test]
fn each_interchange_is_acknowledged_as_soon_as_it_ends() {
    use std::io::{Read, Write};
    use std::process::Stdio;
    use std::sync::mpsc;
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let first = std::fs::read_to_string(fixture("crossdock_850_5010.edi")).unwrap();
    let second = first.replace("000000101", "000000102").replace("*101*", "*102*").replace("GE*1*101", "GE*1*102");
    assert_ne!(first, second);
    let mut child = crate::support::crossdock()
        .args(["ack", "--partners", &partners_dir(), "--data-dir", &dir.path().display().to_string(), "-"])
        .env(FIXED_TIME.0, FIXED_TIME.1)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // Everything written to stdout, as it comes.
    let (sent, received) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            if sent.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut output = Vec::new();
    let wait_for_interchanges = |output: &mut Vec<u8>, count: usize| {
        while String::from_utf8_lossy(output).matches("IEA*").count() < count {
            match received.recv_timeout(Duration::from_secs(60)) {
                Ok(bytes) => output.extend(bytes),
                Err(_) => panic!(
                    "no acknowledgment {count} after a minute with the input still open (crossdock ack waited for the \
                     end of the input?); got {:?}",
                    String::from_utf8_lossy(output)
                ),
            }
        }
    };

    stdin.write_all(first.as_bytes()).unwrap();
    stdin.flush().unwrap();
    wait_for_interchanges(&mut output, 1);
    stdin.write_all(second.as_bytes()).unwrap();
    drop(stdin);
    wait_for_interchanges(&mut output, 2);
    let status = child.wait().unwrap();
    reader.join().unwrap();
    assert!(status.success());

    let acks = json_lines(&run(&["parse", "-"], Some(&output)));
    assert_eq!(acks.len(), 2);
    for (ack, group) in acks.iter().zip(["101", "102"]) {
        assert_eq!(ack["id"], "999");
        assert_eq!(body(ack)[0], serde_json::json!(["AK1", "PO", group, "005010"]), "{ack}");
    }
    // Each has its own control numbers.
    assert_ne!(acks[0]["interchange"]["control_number"], acks[1]["interchange"]["control_number"]);
}
