//! `crossdock serve`, black-box: the real binary over loopback HTTP, a real SQLite file, and an
//! ERP stand-in that records what it gets and fails on demand.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{request, scratch, Answer, Erp, Gateway};
use crate::support::{fixture, promtool_check_metrics, python, wait_until};

/// The fixture 850 with its own interchange control number and PO number, so that duplicate
/// detection does not refuse it.
pub fn edi_850(icn: u32, po: &str) -> Vec<u8> {
    std::fs::read_to_string(fixture("crossdock_850_5010.edi"))
        .unwrap()
        .replace("000000101", &format!("{icn:09}"))
        .replace("PO-9001", po)
        .into_bytes()
}

fn erp_config(erp: &Erp) -> String {
    format!("[erp]\nurl = \"{}\"\ninitial_backoff_seconds = 0\nmax_attempts = 4\nmax_in_flight = 16\nmax_requests_per_second = 0\n", erp.url())
}

#[test]
fn inbound_edi_is_stored_translated_acknowledged_and_delivered() {
    let dir = scratch();
    let erp = Erp::start();
    let gateway = Gateway::start(dir.path(), &erp_config(&erp));
    let response = gateway.request("POST", "/v1/inbound", &[("X-Correlation-Id", "corr-42")], &edi_850(4001, "PO-A"));
    assert_eq!(response.status, 202, "{}", response.text());
    let accepted = response.json();
    assert_eq!(accepted["correlation_id"], "corr-42");
    let id = accepted["message_id"].as_str().unwrap();
    assert_eq!(response.headers.get("location").map(String::as_str), Some(format!("/v1/messages/{id}").as_str()));

    let message = gateway.wait_for_state(id, "delivered");
    let received = erp.wait_for(1);
    let delivery = &received[0];
    assert_eq!(delivery.path, "/edi");
    assert_eq!(
        delivery.headers.get("idempotency-key"),
        message["documents"][0]["id"].as_str().map(str::to_owned).as_ref()
    );
    assert_eq!(delivery.headers.get("x-correlation-id").map(String::as_str), Some("corr-42"));
    assert_eq!(delivery.headers.get("content-type").map(String::as_str), Some("application/json"));
    let document: Value = serde_json::from_str(&delivery.body).unwrap();
    assert_eq!(document["type"], "purchase_order");
    assert_eq!(document["partner"], "buyerco");
    assert_eq!(document["document"]["po_number"], "PO-A");
    assert_eq!(document["document"]["lines"][0]["unit_price"].to_string(), "9.25");

    assert_eq!(message["partner"], "buyerco");
    assert_eq!(message["type"], "850");
    assert_eq!(message["interchange_control_number"], "000004001");
    assert!(message["raw"].as_str().unwrap().starts_with("ISA*00*"));
    let states: Vec<&str> =
        message["history"].as_array().unwrap().iter().map(|h| h["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["received", "translated", "delivered", "delivered"]);
    let attempts = message["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["status"], 200);
    // 005010 partner: a 999, accepted.
    let ack = &message["acknowledgments"][0];
    assert_eq!(
        (ack["kind"].as_str(), ack["result"].as_str(), ack["to"].as_str()),
        (Some("999"), Some("accepted"), Some("buyerco"))
    );
    assert!(ack["payload"].as_str().unwrap().contains("IK5*A"), "{ack}");

    // Search by PO number, by interchange control number, by state.
    for query in
        ["reference=PO-A", "reference=000004001", "status=delivered&partner=buyerco", "type=850", "type=purchase_order"]
    {
        let found = gateway.get_json(&format!("/v1/messages?{query}"));
        assert_eq!(found["messages"].as_array().unwrap().len(), 1, "{query}: {found}");
    }
    assert!(gateway.get_json("/v1/messages?reference=PO-B")["messages"].as_array().unwrap().is_empty());
    let status = gateway.stop();
    assert!(status.success(), "SIGTERM ends the gateway cleanly: {status:?}");
}

#[test]
fn every_accepted_document_is_delivered_across_kill_9() {
    let dir = scratch();
    let erp = Erp::start();
    // The ERP hangs on every request: deliveries are in flight when the gateway dies.
    erp.set_default(Answer::Stall);
    let gateway = Gateway::start(dir.path(), &erp_config(&erp));
    let ids: Vec<String> = (0..30).map(|i| gateway.post_edi(&edi_850(5000 + i, &format!("PO-K{i}")))).collect();
    erp.wait_for(3);
    gateway.kill();
    // Accepted but never processed: stored raw, picked up by the restart.
    erp.set_default(Answer::Status(200, "{}"));
    let gateway = Gateway::restart(dir.path());
    for id in &ids {
        gateway.wait_for_state(id, "delivered");
    }
    let mut keys: Vec<String> = erp
        .received()
        .iter()
        .filter(|r| !r.body.is_empty())
        .filter_map(|r| r.headers.get("idempotency-key").cloned())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 30, "every document reached the ERP, each under one key");
    // Redeliveries after the kill carry the same key as the attempt that was cut.
    let pos: Vec<String> = erp
        .received()
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["document"]["po_number"].as_str().unwrap().to_owned())
        .collect();
    for i in 0..30 {
        assert!(pos.contains(&format!("PO-K{i}")), "PO-K{i} never arrived");
    }
}

#[test]
fn a_kill_right_after_accepting_loses_nothing() {
    let dir = scratch();
    let erp = Erp::start();
    let gateway = Gateway::start(dir.path(), &erp_config(&erp));
    let ids: Vec<String> = (0..50).map(|i| gateway.post_edi(&edi_850(6000 + i, &format!("PO-Q{i}")))).collect();
    gateway.kill();
    let gateway = Gateway::restart(dir.path());
    for id in &ids {
        gateway.wait_for_state(id, "delivered");
    }
    let mut keys: Vec<String> =
        erp.received().iter().filter_map(|r| r.headers.get("idempotency-key").cloned()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 50);
}

#[test]
fn an_unavailable_erp_is_retried_until_it_recovers() {
    let dir = scratch();
    let erp = Erp::start();
    erp.plan([Answer::Unavailable(1), Answer::Status(502, "bad gateway")]);
    let gateway = Gateway::start(dir.path(), &erp_config(&erp));
    let id = gateway.post_edi(&edi_850(7001, "PO-R"));
    let message = gateway.wait_for_state(&id, "delivered");
    let attempts = message["attempts"].as_array().unwrap();
    let outcomes: Vec<(&str, i64)> =
        attempts.iter().map(|a| (a["outcome"].as_str().unwrap(), a["status"].as_i64().unwrap_or(0))).collect();
    assert_eq!(outcomes, [("retry", 503), ("retry", 502), ("delivered", 200)]);
    // Retry-After: 1 was honoured.
    let gap = attempts[1]["at"].as_i64().unwrap() - attempts[0]["at"].as_i64().unwrap();
    assert!(gap >= 950, "the second attempt came {gap} ms after the first");
    let keys: Vec<String> = erp.received().iter().filter_map(|r| r.headers.get("idempotency-key").cloned()).collect();
    assert!(keys.windows(2).all(|w| w[0] == w[1]), "one key across retries: {keys:?}");
}

#[test]
fn a_refused_document_is_dead_lettered_then_replayed() {
    let dir = scratch();
    let erp = Erp::start();
    erp.plan([Answer::Status(400, "{\"error\":\"unknown buyer\"}")]);
    let gateway = Gateway::start(dir.path(), &erp_config(&erp));
    let id = gateway.post_edi(&edi_850(7101, "PO-D"));
    let message = gateway.wait_for_state(&id, "dead_lettered");
    assert_eq!(message["documents"][0]["state"], "dead_lettered");
    assert!(message["attempts"][0]["detail"].as_str().unwrap().contains("unknown buyer"), "the response is kept");
    assert_eq!(erp.received().len(), 1, "a 400 is not retried");
    let dead = gateway.get_json("/v1/messages?status=dead_lettered");
    assert_eq!(dead["messages"][0]["id"], id.as_str());

    let replayed = gateway.request("POST", &format!("/v1/messages/{id}/replay"), &[], b"");
    assert_eq!(replayed.status, 200, "{}", replayed.text());
    assert_eq!(replayed.json()["action"], "redeliver");
    gateway.wait_for_state(&id, "delivered");
    assert_eq!(erp.received().len(), 2);
    let again = gateway.request("POST", &format!("/v1/messages/{id}/replay"), &[], b"");
    assert_eq!(again.status, 409, "{}", again.text());
    assert_eq!(again.headers.get("content-type").map(String::as_str), Some("application/problem+json"));
    let missing = gateway.request("POST", "/v1/messages/nope/replay", &[], b"");
    assert_eq!(missing.status, 404);
}

#[test]
fn bad_input_gets_a_located_error_and_a_negative_acknowledgment() {
    let dir = scratch();
    let erp = Erp::start();
    let gateway = Gateway::start(dir.path(), &erp_config(&erp));
    // BEG05 is not a date: a data error in a known partner's set.
    let bad = String::from_utf8(edi_850(7201, "PO-X")).unwrap().replace("**20260105~", "**2026013X~");
    let id = gateway.post_edi(bad.as_bytes());
    let message = gateway.wait_for_state(&id, "rejected");
    let errors = message["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e.as_str().unwrap().contains("BEG05") && e.as_str().unwrap().contains("2026013X")),
        "{errors:?}"
    );
    let ack = &message["acknowledgments"][0];
    assert_eq!(ack["result"], "rejected");
    assert!(ack["payload"].as_str().unwrap().contains("IK5*R"), "{ack}");

    // An unknown sender: kept with a located error, nothing delivered.
    let stranger =
        String::from_utf8(edi_850(7202, "PO-Y")).unwrap().replace("ZZ*BUYERCO        ", "ZZ*STRANGER       ");
    let id = gateway.post_edi(stranger.as_bytes());
    let message = gateway.wait_for_state(&id, "rejected");
    assert!(
        message["errors"][0].as_str().unwrap().contains("no partner profile matches sender ZZ:STRANGER"),
        "{message}"
    );

    // Not EDI at all: 400 with a problem document, nothing stored.
    let response = gateway.request("POST", "/v1/inbound", &[], b"%PDF-1.7 not an interchange");
    assert_eq!(response.status, 400);
    let problem = response.json();
    assert_eq!(problem["status"], 400);
    assert!(problem["detail"].as_str().unwrap().contains("expected ISA, UNA or UNB"), "{problem}");
    assert_eq!(gateway.get_json("/v1/messages")["messages"].as_array().unwrap().len(), 2);
    assert!(erp.received().is_empty());
}

#[test]
fn hostile_bodies_get_4xx_or_202_and_never_crash_the_gateway() {
    let dir = scratch();
    let erp = Erp::start();
    let gateway = Gateway::start(dir.path(), &format!("[server]\nmax_body_bytes = 1000000\n{}", erp_config(&erp)));
    let valid = edi_850(8000, "PO-H");
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    // Truncations.
    for cut in [3, 50, 105, 106, 200, valid.len() / 2, valid.len() - 5] {
        bodies.push(valid[..cut].to_vec());
    }
    // Random byte mutations, deterministic.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..60 {
        let mut body = valid.clone();
        for _ in 0..(next() % 8 + 1) {
            let at = (next() as usize) % body.len();
            body[at] = (next() % 256) as u8;
        }
        bodies.push(body);
    }
    // A 300 KB segment, binary junk, an empty body, junk after a valid interchange.
    let mut long = String::from_utf8(valid.clone()).unwrap();
    long = long.replace("CUR*BY*USD~", &format!("CUR*BY*{}~", "U".repeat(300_000)));
    bodies.push(long.into_bytes());
    bodies.push((0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect());
    bodies.push(Vec::new());
    let mut trailing = valid.clone();
    trailing.extend_from_slice(b"\x00\xffgarbage");
    bodies.push(trailing);
    let mut accepted = Vec::new();
    for body in &bodies {
        let response = gateway.request("POST", "/v1/inbound", &[], body);
        assert!(
            response.status == 202 || (400..500).contains(&response.status),
            "status {} for {:?}",
            response.status,
            String::from_utf8_lossy(&body[..body.len().min(80)])
        );
        if response.status == 202 {
            accepted.push(response.json()["message_id"].as_str().unwrap().to_owned());
        } else {
            assert_eq!(response.headers.get("content-type").map(String::as_str), Some("application/problem+json"));
        }
    }
    // Over the limit: 413 before the body is read.
    let huge = vec![b'A'; 1_200_000];
    assert_eq!(gateway.request("POST", "/v1/inbound", &[], &huge).status, 413);
    // Everything accepted settles: processed, never stuck, never lost.
    wait_until("every hostile message to be processed", Duration::from_secs(60), || {
        accepted.iter().all(|id| gateway.message(id)["state"] != "received")
    });
    for id in &accepted {
        let message = gateway.message(id);
        if message["state"] == "rejected" {
            assert!(!message["errors"].as_array().unwrap().is_empty(), "a rejection says why: {message}");
        }
    }
    assert_eq!(gateway.request("GET", "/healthz", &[], b"").status, 200);
    assert!(!gateway.log().contains("panicked"), "{}", gateway.log());
}

#[test]
fn duplicate_interchanges_are_refused_per_policy() {
    let dir = scratch();
    let erp = Erp::start();
    let gateway = Gateway::start(dir.path(), &erp_config(&erp));
    let first = gateway.post_edi(&edi_850(9001, "PO-1"));
    gateway.wait_for_state(&first, "delivered");
    let second = gateway.post_edi(&edi_850(9001, "PO-1"));
    let message = gateway.wait_for_state(&second, "duplicate");
    assert!(message["errors"][0].as_str().unwrap().contains(&format!("duplicate of message {first}")), "{message}");
    assert_eq!(erp.received().len(), 1);

    // An operator who knows better replays it: processed as new.
    let replayed = gateway.request("POST", &format!("/v1/messages/{second}/replay"), &[], b"");
    assert_eq!(replayed.json()["action"], "reprocess");
    gateway.wait_for_state(&second, "delivered");

    // A partner whose policy is "flag" gets it through, marked.
    let profile = dir.path().join("partners/buyerco.toml");
    let text = std::fs::read_to_string(&profile).unwrap();
    std::fs::write(&profile, format!("{text}\n[duplicates]\npolicy = \"flag\"\n")).unwrap();
    wait_until("the profile reload", Duration::from_secs(20), || {
        let third = gateway.post_edi(&edi_850(9001, "PO-1"));
        let state = gateway.wait_for_any(&third);
        state["state"] == "delivered" && state["documents"][0]["duplicate"] == true
    });
}

impl Gateway {
    /// Waits until a message leaves `received`.
    fn wait_for_any(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let message = self.message(id);
            if message["state"] != "received" && message["state"] != "translated" {
                return message;
            }
            assert!(Instant::now() < deadline, "{id} never settled");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn profiles_reload_without_restart_and_a_broken_one_leaves_the_last_good_set() {
    let dir = scratch();
    let gateway = Gateway::start(dir.path(), "[partners]\nreload_interval_seconds = 1\n");
    let stranger = |icn: u32| {
        String::from_utf8(edi_850(icn, "PO-N"))
            .unwrap()
            .replace("ZZ*BUYERCO        ", "ZZ*NEWCO          ")
            .replace("GS*PO*BUYERCO", "GS*PO*NEWCO")
    };
    let first = gateway.post_edi(stranger(9101).as_bytes());
    gateway.wait_for_state(&first, "rejected");
    // Onboard the partner: one file.
    std::fs::write(
        dir.path().join("partners/newco.toml"),
        "id = \"newco\"\n[x12]\ninterchange_id = \"ZZ:NEWCO\"\nversion = \"005010\"\n[documents]\nreceive = [\"850\"]\n",
    )
    .unwrap();
    wait_until("newco to be known", Duration::from_secs(20), || {
        gateway.get_json("/readyz")["partners"]["loaded"] == 14
    });
    let second = gateway.post_edi(stranger(9102).as_bytes());
    let message = gateway.wait_for_state(&second, "delivered");
    assert_eq!(message["partner"], "newco");
    // The first one can now be replayed from its raw bytes.
    gateway.request("POST", &format!("/v1/messages/{first}/replay"), &[], b"");
    gateway.wait_for_state(&first, "delivered");

    // Break a file: reported, and the last good set stays in force.
    std::fs::write(dir.path().join("partners/newco.toml"), "id = \"newco\"\n[x12]\ninterchange_id = \"NEWCO\"\n")
        .unwrap();
    wait_until("the problem to be reported", Duration::from_secs(20), || {
        gateway.get_json("/readyz")["partners"]["problems"].as_array().is_some_and(|p| !p.is_empty())
    });
    let ready = gateway.get_json("/readyz");
    assert!(ready["partners"]["problems"][0].as_str().unwrap().contains("newco.toml:3: x12.interchange_id"), "{ready}");
    assert_eq!(ready["partners"]["loaded"], 14);
    let third = gateway.post_edi(stranger(9103).as_bytes());
    assert_eq!(gateway.wait_for_state(&third, "delivered")["partner"], "newco");
    let metrics = gateway.request("GET", "/metrics", &[], b"").text();
    assert!(metrics.contains("crossdock_partner_reloads_total{outcome=\"failed\"}"), "{metrics}");
}

#[test]
fn metrics_are_valid_prometheus_text_with_the_design_names() {
    let dir = scratch();
    let erp = Erp::start();
    erp.plan([Answer::Status(500, "oops")]);
    let gateway = Gateway::start(dir.path(), &erp_config(&erp));
    let id = gateway.post_edi(&edi_850(9201, "PO-M"));
    gateway.wait_for_state(&id, "delivered");
    let duplicate = gateway.post_edi(&edi_850(9201, "PO-M"));
    gateway.wait_for_state(&duplicate, "duplicate");
    std::thread::sleep(Duration::from_millis(2500)); // one gauge refresh
    let text = gateway.request("GET", "/metrics", &[], b"").text();
    let path = dir.path().join("metrics.txt");
    std::fs::write(&path, &text).unwrap();
    let output = python("parse_metrics.py", &[&path.display().to_string()]);
    assert!(output.status.success(), "{}\n{text}", String::from_utf8_lossy(&output.stderr));
    // Prometheus' own linter: help texts, types, counter suffixes, label and bucket rules.
    let lint = promtool_check_metrics(&text);
    let said = format!("{}{}", String::from_utf8_lossy(&lint.stdout), String::from_utf8_lossy(&lint.stderr));
    assert!(lint.status.success() && said.trim().is_empty(), "promtool check metrics: {said}\n{text}");
    let families: Value = serde_json::from_slice(&output.stdout).unwrap();
    let sample = |name: &str, labels: &[(&str, &str)]| -> f64 {
        families[name]
            .as_array()
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
            .iter()
            .find(|s| labels.iter().all(|(k, v)| s["labels"][k] == *v))
            .and_then(|s| s["value"].as_f64())
            .unwrap_or_else(|| panic!("no {name}{labels:?} in\n{text}"))
    };
    assert_eq!(
        sample(
            "crossdock_messages_received_total",
            &[("partner", "buyerco"), ("transport", "http"), ("standard", "x12"), ("type", "850")]
        ),
        2.0
    );
    assert_eq!(sample("crossdock_erp_delivery_total", &[("partner", "buyerco"), ("outcome", "retry")]), 1.0);
    assert_eq!(sample("crossdock_erp_delivery_total", &[("partner", "buyerco"), ("outcome", "delivered")]), 1.0);
    assert_eq!(sample("crossdock_duplicates_total", &[("partner", "buyerco")]), 1.0);
    assert_eq!(
        sample("crossdock_acks_sent_total", &[("partner", "buyerco"), ("kind", "999"), ("result", "accepted")]),
        1.0
    );
    assert_eq!(sample("crossdock_queue_depth", &[("state", "delivered")]), 1.0);
    assert_eq!(sample("crossdock_queue_depth", &[("state", "duplicate")]), 1.0);
    assert_eq!(sample("crossdock_erp_delivery_seconds_count", &[]), 2.0);
    assert!(sample("crossdock_processing_seconds_count", &[("stage", "process")]) >= 2.0);
    assert_eq!(sample("crossdock_partners_loaded", &[]), 13.0);
}

#[test]
fn tokens_guard_the_api_by_role_and_open_listeners_need_them() {
    let dir = scratch();
    std::fs::write(dir.path().join("reader.token"), "read-only-token\n").unwrap();
    let config = "[[server.api_tokens]]\nname = \"erp\"\ntoken = \"env:CROSSDOCK_TEST_TOKEN\"\nroles = [\"inbound\", \"send\"]\n\
                  [[server.api_tokens]]\nname = \"ops\"\ntoken = \"file:reader.token\"\nroles = [\"read\"]\n";
    std::env::set_var("CROSSDOCK_TEST_TOKEN", "sender-token");
    let gateway = Gateway::start(dir.path(), config);
    let body = edi_850(9301, "PO-T");
    let no_token = gateway.request("POST", "/v1/inbound", &[], &body);
    assert_eq!(no_token.status, 401);
    assert_eq!(no_token.headers.get("www-authenticate").map(String::as_str), Some("Bearer"));
    assert_eq!(gateway.request("POST", "/v1/inbound", &[("Authorization", "Bearer wrong")], &body).status, 401);
    let read_token = [("Authorization", "Bearer read-only-token")];
    assert_eq!(gateway.request("POST", "/v1/inbound", &read_token, &body).status, 403);
    let accepted = gateway.request("POST", "/v1/inbound", &[("Authorization", "Bearer sender-token")], &body);
    assert_eq!(accepted.status, 202);
    assert_eq!(gateway.request("GET", "/v1/messages", &read_token, b"").status, 200);
    assert_eq!(gateway.request("GET", "/v1/messages", &[("Authorization", "Bearer sender-token")], b"").status, 403);
    // Metrics and health need no token.
    assert_eq!(gateway.request("GET", "/metrics", &[], b"").status, 200);
    assert_eq!(gateway.request("GET", "/healthz", &[], b"").status, 200);
    drop(gateway);

    // Beyond loopback with no token: refused, with the reason.
    let open = dir.path().join("open.toml");
    std::fs::write(&open, "[server]\nlisten = \"0.0.0.0:0\"\n").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_crossdock"))
        .args(["serve", "--config", &open.display().to_string()])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("refusing to listen on 0.0.0.0:0 with no API token"));
}

#[test]
fn webhooks_need_the_partner_signature() {
    use hmac::{Hmac, Mac};
    let dir = scratch();
    std::fs::write(dir.path().join("hook.secret"), "s3cret\n").unwrap();
    let profile = dir.path().join("partners/buyerco.toml");
    let text = std::fs::read_to_string(&profile).unwrap();
    std::fs::write(&profile, format!("{text}\n[webhook]\nsecret = \"file:hook.secret\"\n")).unwrap();
    let erp = Erp::start();
    let gateway = Gateway::start(dir.path(), &erp_config(&erp));
    let body = edi_850(9401, "PO-W");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
    mac.update(&body);
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let good = gateway.request("POST", "/v1/hooks/buyerco", &[("X-Crossdock-Signature", &signature)], &body);
    assert_eq!(good.status, 202, "{}", good.text());
    let id = good.json()["message_id"].as_str().unwrap().to_owned();
    assert_eq!(gateway.wait_for_state(&id, "delivered")["transport"], "webhook");
    let tampered =
        gateway.request("POST", "/v1/hooks/buyerco", &[("X-Crossdock-Signature", &signature)], &edi_850(9402, "PO-W"));
    assert_eq!(tampered.status, 401);
    assert_eq!(gateway.request("POST", "/v1/hooks/buyerco", &[], &body).status, 401);
    assert_eq!(
        gateway.request("POST", "/v1/hooks/nobody", &[("X-Crossdock-Signature", &signature)], &body).status,
        404
    );
}

#[test]
fn outbound_documents_are_rendered_with_fresh_control_numbers() {
    let dir = scratch();
    std::fs::write(
        dir.path().join("partners/acks-only.toml"),
        "id = \"acks-only\"\n[x12]\ninterchange_id = \"ZZ:ACKSONLY\"\n[documents]\nreceive = [\"850\"]\nsend = [\"855\"]\n",
    )
    .unwrap();
    let gateway = Gateway::start(dir.path(), "");
    let id = gateway.post_edi(&edi_850(9501, "PO-O"));
    let inbound = gateway.wait_for_state(&id, "delivered");
    let mut document = inbound["documents"][0]["canonical"].clone();
    document.as_object_mut().unwrap().remove("envelope");
    document["partner"] = "buyerco".into();
    let mut ids = Vec::new();
    for _ in 0..2 {
        ids.push(gateway.post_outbound(&document));
    }
    let first = gateway.wait_for_state(&ids[0], "rendered");
    let second = gateway.wait_for_state(&ids[1], "rendered");
    let edi = first["rendered"].as_str().unwrap();
    assert!(edi.starts_with("ISA*00*          *00*          *ZZ*CROSSDOCK      *ZZ*BUYERCO        *"), "{edi}");
    assert!(edi.contains("BEG*00*SA*PO-O**20260105~"), "{edi}");
    // The inbound 999 took interchange 1; the two renderings 2 and 3, in whichever order the
    // two processing workers took them up.
    let mut numbers = [&first, &second].map(|m| m["interchange_control_number"].as_str().unwrap().to_owned());
    numbers.sort();
    assert_eq!(numbers, ["000000002", "000000003"]);
    // Refused at the door: no partner, a partner that does not take the type.
    let mut orphan = document.clone();
    orphan.as_object_mut().unwrap().remove("partner");
    assert_eq!(gateway.request("POST", "/v1/outbound", &[], orphan.to_string().as_bytes()).status, 422);
    let mut asn = document.clone();
    asn["partner"] = "acks-only".into();
    let refused = gateway.request("POST", "/v1/outbound", &[], asn.to_string().as_bytes());
    assert_eq!(refused.status, 422, "{}", refused.text());
}

#[test]
fn the_embedded_outbox_and_the_messages_command() {
    let dir = scratch();
    let gateway = Gateway::start(dir.path(), "");
    let id = gateway.post_edi(&edi_850(9601, "PO-E"));
    let message = gateway.wait_for_state(&id, "delivered");
    let document_id = message["documents"][0]["id"].as_str().unwrap();
    let file = dir.path().join(format!("data/outbox/{document_id}.json"));
    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written["document"]["po_number"], "PO-E");
    let config = gateway.config_path().display().to_string();
    let list = std::process::Command::new(env!("CARGO_BIN_EXE_crossdock"))
        .args(["messages", "list", "--config", &config, "--status", "delivered"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(list.status.success() && text.contains(&id) && text.contains("buyerco"), "{text}");
    let show = std::process::Command::new(env!("CARGO_BIN_EXE_crossdock"))
        .args(["messages", "show", &id, "--config", &config])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let shown: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(shown["documents"][0]["canonical"]["document"]["po_number"], "PO-E");
    let replay = std::process::Command::new(env!("CARGO_BIN_EXE_crossdock"))
        .args(["messages", "replay", &id, "--config", &config])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(replay.status.code(), Some(1), "a delivered message has nothing to replay");
    assert!(String::from_utf8_lossy(&replay.stderr).contains("nothing to replay"));
}

#[test]
fn https_with_the_configured_certificate() {
    let dir = scratch();
    let generated = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.pem",
        ])
        .current_dir(dir.path())
        .output()
        .expect("openssl makes the test certificate");
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let gateway = Gateway::start(
        dir.path(),
        "[server]\ntls_certificate = \"server.pem\"\ntls_private_key = \"file:server.key\"\n",
    );
    let url = format!("https://{}/healthz", gateway.addr);
    let output = std::process::Command::new("curl")
        .args(["-sS", "--cacert", "server.pem", &url])
        .current_dir(dir.path())
        .output()
        .expect("curl runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "{\"status\":\"ok\"}");
    // Plain HTTP to the TLS port is not served.
    let plain =
        std::process::Command::new("curl").args(["-sS", "-m", "5", &url.replace("https", "http")]).output().unwrap();
    assert!(!plain.status.success());
}

#[test]
fn the_openapi_document_describes_every_route() {
    let dir = scratch();
    let gateway = Gateway::start(dir.path(), "");
    let served = gateway.get_json("/openapi.json");
    let kept: Value =
        serde_json::from_str(&std::fs::read_to_string(crate::support::repo("docs/openapi.json")).unwrap()).unwrap();
    assert_eq!(served, kept);
    assert_eq!(served["openapi"], "3.1.0");
    let paths = served["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/inbound", "post"),
        ("/v1/hooks/{partner}", "post"),
        ("/v1/outbound", "post"),
        ("/v1/messages", "get"),
        ("/v1/messages/{id}", "get"),
        ("/v1/messages/{id}/replay", "post"),
        ("/metrics", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/openapi.json", "get"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is not documented");
        // And it is really served (not the fallback for unknown paths).
        let concrete = path.replace("{partner}", "buyerco").replace("{id}", "x");
        let response = request(gateway.addr, &method.to_uppercase(), &concrete, &[], b"");
        assert!(!response.text().contains("no such endpoint"), "{method} {concrete}: {}", response.text());
    }
    let unknown = gateway.request("GET", "/v2/nothing", &[], b"");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["type"], "urn:crossdock:problem:not-found");
    assert_eq!(gateway.request("DELETE", "/v1/inbound", &[], b"").status, 405);
}

#[test]
fn the_dashboard_queries_only_metrics_the_gateway_exports() {
    let source = std::fs::read_to_string(crate::support::repo("src/metrics.rs")).unwrap();
    let dashboard = std::fs::read_to_string(crate::support::repo("deploy/grafana-dashboard.json")).unwrap();
    let _: Value = serde_json::from_str(&dashboard).unwrap();
    let mut queried: Vec<&str> = dashboard
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("crossdock_"))
        .collect();
    queried.sort_unstable();
    queried.dedup();
    assert!(queried.len() >= 10);
    for name in queried {
        let base = name.trim_end_matches("_bucket");
        assert!(
            source.contains(&format!("\"{base}\"")),
            "the dashboard queries {name}, which src/metrics.rs does not define"
        );
    }
}

#[test]
fn outbound_posts_are_idempotent_and_go_out_over_a_signed_webhook() {
    use hmac::{Hmac, Mac};
    let dir = scratch();
    let partner_hook = Erp::start();
    // The partner's endpoint fails once, then takes it.
    partner_hook.plan([Answer::Status(503, "busy")]);
    std::fs::write(dir.path().join("hook.secret"), "s3cret").unwrap();
    std::fs::write(
        dir.path().join("partners/hooked.toml"),
        format!(
            "id = \"hooked\"\n[x12]\ninterchange_id = \"ZZ:HOOKED\"\nversion = \"005010\"\nacknowledgment = \"none\"\n\
             [documents]\nreceive = [\"850\"]\nsend = [\"855\"]\nsend_via = \"webhook\"\n\
             [webhook]\nsecret = \"file:hook.secret\"\nurl = \"{}\"\n",
            partner_hook.url()
        ),
    )
    .unwrap();
    let gateway = Gateway::start(dir.path(), "");
    let document = crate::support::outbound_855("hooked");
    let body = document.to_string();
    let first = gateway.request("POST", "/v1/outbound", &[("Idempotency-Key", "erp-order-77")], body.as_bytes());
    assert_eq!(first.status, 202, "{}", first.text());
    let again = gateway.request("POST", "/v1/outbound", &[("Idempotency-Key", "erp-order-77")], body.as_bytes());
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["message_id"], first.json()["message_id"], "the same message, not a second one");
    let mut other = document.clone();
    other["document"]["po_number"] = "SOMETHING-ELSE".into();
    let reused =
        gateway.request("POST", "/v1/outbound", &[("Idempotency-Key", "erp-order-77")], other.to_string().as_bytes());
    assert_eq!(reused.status, 409, "{}", reused.text());

    let id = first.json()["message_id"].as_str().unwrap().to_owned();
    let message = gateway.wait_for_state(&id, "sent");
    let sent = partner_hook.wait_for(2);
    assert_eq!(sent.len(), 2, "one refused attempt, one accepted: nothing sent twice once accepted");
    let rendered = message["rendered"].as_str().unwrap();
    for request in &sent {
        assert_eq!(request.body, rendered);
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(request.body.as_bytes());
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(request.headers.get("x-crossdock-signature"), Some(&expected));
    }
    let transmission = &message["transmissions"][0];
    assert_eq!(transmission["transport"], "webhook");
    assert_eq!(transmission["attempts"], 2);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(partner_hook.received().len(), 2);
    let listed = gateway.get_json("/v1/messages?partner=hooked");
    let listed = listed.as_array().cloned().unwrap_or_else(|| listed["messages"].as_array().cloned().unwrap());
    assert_eq!(listed.len(), 1, "one outbound message for two identical POSTs");
}

/// A 999 from the `acker` partner acknowledging our group `group` with AK9 `code`.
fn acker_999(icn: u32, group: &str, code: &str) -> Vec<u8> {
    let set_code = if code == "R" { "R*5" } else { "A" };
    let accepted = if code == "R" { 0 } else { 1 };
    format!(
        "ISA*00*          *00*          *ZZ*ACKER          *ZZ*CROSSDOCK      *260105*0900*^*00501*{icn:09}*0*P*>~\
         GS*FA*ACKER*CROSSDOCK*20260105*0900*{icn}*X*005010X231A1~ST*999*0001*005010X231A1~AK1*PR*{group}*005010~\
         AK2*855*0001~IK5*{set_code}~AK9*{code}*1*1*{accepted}~SE*6*0001~GE*1*{icn}~IEA*1*{icn:09}~"
    )
    .into_bytes()
}

#[test]
fn partner_acknowledgments_are_matched_to_what_we_sent_and_missing_ones_flagged() {
    let dir = scratch();
    let partner_hook = Erp::start();
    std::fs::write(dir.path().join("hook.secret"), "k").unwrap();
    std::fs::write(
        dir.path().join("partners/acker.toml"),
        format!(
            "id = \"acker\"\n[x12]\ninterchange_id = \"ZZ:ACKER\"\nversion = \"005010\"\nacknowledgment = \"999\"\n\
             [documents]\nreceive = [\"850\"]\nsend = [\"855\"]\nsend_via = \"webhook\"\nacknowledgment_deadline_seconds = 3\n\
             [webhook]\nsecret = \"file:hook.secret\"\nurl = \"{}\"\n",
            partner_hook.url()
        ),
    )
    .unwrap();
    let gateway = Gateway::start(dir.path(), "");
    let document = crate::support::outbound_855("acker");
    let mut sent = Vec::new();
    for _ in 0..3 {
        let id = gateway.post_outbound(&document);
        let message = gateway.wait_for_state(&id, "sent");
        // GS06 of what went out.
        let rendered = message["rendered"].as_str().unwrap().to_owned();
        let gs = rendered.split('~').map(str::trim).find(|s| s.starts_with("GS*")).unwrap().to_owned();
        sent.push((id, gs.split('*').nth(6).unwrap().to_owned()));
    }
    assert_eq!(sent[0].1.parse::<u64>().unwrap() + 1, sent[1].1.parse::<u64>().unwrap());
    // The partner accepts the first group (with leading zeros, as some do) and rejects the second.
    let accepted = gateway.post_edi(&acker_999(601, &format!("000{}", sent[0].1), "A"));
    let rejected = gateway.post_edi(&acker_999(602, &sent[1].1, "R"));
    for id in [&accepted, &rejected] {
        let inbound = gateway.wait_for_state(id, "delivered");
        assert!(inbound["acknowledgments"].as_array().unwrap().is_empty(), "an acknowledgment is not acknowledged");
        let history: Vec<&str> =
            inbound["history"].as_array().unwrap().iter().map(|h| h["state"].as_str().unwrap()).collect();
        assert!(history.contains(&"acknowledgment_matched"), "{history:?}");
    }
    let first = gateway.message(&sent[0].0);
    assert_eq!(first["acknowledgment"]["status"], "accepted", "{:#}", first["acknowledgment"]);
    let second = gateway.message(&sent[1].0);
    assert_eq!(second["acknowledgment"]["status"], "rejected");
    assert!(
        second["acknowledgment"]["detail"].as_str().unwrap().contains("855 0001 (R)"),
        "{}",
        second["acknowledgment"]
    );
    // The third gets nothing: awaiting, then overdue past the profile's deadline.
    let third = gateway.message(&sent[2].0);
    assert!(["awaiting", "overdue"].contains(&third["acknowledgment"]["status"].as_str().unwrap()), "{third:#}");
    let overdue = "crossdock_acknowledgments_overdue{partner=\"acker\"}";
    gateway.wait_for_metric(overdue, Some(1.0));
    assert_eq!(gateway.message(&sent[2].0)["acknowledgment"]["status"], "overdue");
    // It arrives late after all: matched, and the gauge (an operator's alert) clears.
    let late = gateway.post_edi(&acker_999(603, &sent[2].1, "A"));
    gateway.wait_for_state(&late, "delivered");
    assert_eq!(gateway.message(&sent[2].0)["acknowledgment"]["status"], "accepted");
    gateway.wait_for_metric(overdue, Some(0.0));
}

/// The nice value of each thread of process `pid` whose name `named` accepts
/// (`/proc/PID/task/TID/stat`: the name is in parentheses, the nice value is field 19).
fn thread_nice_values(pid: u32, named: impl Fn(&str) -> bool) -> Vec<i64> {
    let mut values = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        if !named(&stat[open + 1..close]) {
            continue;
        }
        // Fields after the name start at field 3 (state).
        let nice = stat[close + 1..].split_whitespace().nth(19 - 3).and_then(|n| n.parse().ok());
        values.push(nice.unwrap_or_else(|| panic!("no nice value in {stat}")));
    }
    values
}

#[test]
fn processing_and_delivery_run_at_low_priority_unless_the_config_says_otherwise() {
    for (config, background) in [("", true), ("[workers]\nprocessing = 2\nbackground = false\n", false)] {
        let dir = scratch();
        let gateway = Gateway::start(dir.path(), config);
        let pid = gateway.pid();
        let main = thread_nice_values(pid, |name| name == "crossdock");
        assert!(!main.is_empty(), "no runtime thread found in /proc/{pid}/task");
        let mut processing = Vec::new();
        // The workers and the delivery thread lower their own priority as they start.
        wait_until("the processing and delivery threads", Duration::from_secs(10), || {
            // The workers: process-0, process-1, ... (not process-scan); and deliver.
            processing = thread_nice_values(pid, |name| {
                name == "deliver"
                    || name.strip_prefix("process-").is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            });
            processing.len() >= 3 && (!background || processing.iter().all(|&n| n == 19))
        });
        for nice in processing {
            if background {
                assert_eq!(nice, 19, "{config:?}");
            } else {
                assert_eq!(nice, main[0], "{config:?}: processing at the gateway's own priority");
            }
        }
        gateway.stop();
    }
}
