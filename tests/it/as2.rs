//! AS2 against pyas2lib (tests/python/as2_peer.py), an implementation nobody here wrote, both
//! directions: pyas2lib sends to `POST /as2` with every signing, encryption, compression and
//! MDN option and parses our MDNs; the gateway sends rendered EDI to pyas2lib, which parses it
//! and answers its own MDNs, sync and async. Certificates are made at test time with
//! `crossdock certs new`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::gateway::edi_850;
use crate::harness::{Answer, Erp, Gateway};
use crate::support::{python, repo, run};

/// A scratch directory with certificates for the gateway and the peer (and a stranger), and
/// the peer's profile.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(profile_extra: &str, url: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        for id in ["CROSSDOCK", "PYAS2PEER", "STRANGER"] {
            let out =
                run(&["certs", "new", "--as2-id", id, "--out", &dir.path().join("certs").display().to_string()], None);
            assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        }
        std::fs::create_dir_all(dir.path().join("partners")).unwrap();
        let setup = Setup { dir };
        setup.write_profile(profile_extra, url);
        setup
    }

    fn write_profile(&self, extra: &str, url: &str) {
        let profile = format!(
            "id = \"pyas2peer\"\n[x12]\ninterchange_id = \"ZZ:BUYERCO\"\nour_interchange_id = \"ZZ:SUPPLIERCO\"\n\
             version = \"005010\"\nacknowledgment = \"none\"\n[documents]\nreceive = [\"850\"]\nsend = [\"855\"]\n\
             send_via = \"as2\"\n[as2]\nas2_id = \"PYAS2PEER\"\nurl = \"{url}\"\ncertificate = \"certs/PYAS2PEER.pem\"\n{extra}"
        );
        std::fs::write(self.dir.path().join("partners/pyas2peer.toml"), profile).unwrap();
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn gateway(&self, erp: &Erp) -> Gateway {
        Gateway::start(
            self.dir.path(),
            &format!(
                "[erp]\nurl = \"{}\"\ninitial_backoff_seconds = 0\nmax_requests_per_second = 0\n\
                 [as2]\nas2_id = \"CROSSDOCK\"\ncertificate = \"certs/CROSSDOCK.pem\"\nprivate_key = \"file:certs/CROSSDOCK.key\"\n",
                erp.url()
            ),
        )
    }

    /// pyas2lib sends `payload` with `options`; returns what it printed.
    fn send(&self, gateway: &Gateway, payload: &[u8], options: Value) -> Value {
        self.send_as(gateway, payload, "PYAS2PEER", options)
    }

    fn send_as(&self, gateway: &Gateway, payload: &[u8], key_of: &str, options: Value) -> Value {
        let payload_path = self.path(&format!("payload-{}.edi", fastrand::u64(..)));
        std::fs::write(&payload_path, payload).unwrap();
        let mut config = json!({
            "url": format!("http://{}/as2", gateway.addr),
            "our_as2_id": "PYAS2PEER",
            "gateway_as2_id": "CROSSDOCK",
            "our_key": self.path(&format!("certs/{key_of}.key")),
            "our_cert": self.path(&format!("certs/{key_of}.pem")),
            "gateway_cert": self.path("certs/CROSSDOCK.pem"),
            "payload": payload_path,
        });
        for (k, v) in options.as_object().unwrap() {
            config[k] = v.clone();
        }
        let out = python("as2_peer.py", &["send", &config.to_string()]);
        assert!(out.status.success(), "as2_peer.py send failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("as2_peer.py printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
    }
}

/// Stored messages whose interchange control number is `icn`.
fn stored(gateway: &Gateway, icn: u32) -> Vec<Value> {
    let found = gateway.get_json(&format!("/v1/messages?reference={icn:09}"));
    found.as_array().cloned().unwrap_or_else(|| found["messages"].as_array().cloned().unwrap_or_default())
}

/// The messages whose interchange control number is `icn`, once processing has read it (the
/// MDN is sent when the body is stored, before it is processed): waits up to 20 s for one.
fn processed(gateway: &Gateway, icn: u32) -> Vec<Value> {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let found = stored(gateway, icn);
        if !found.is_empty() || Instant::now() > until {
            return found;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn pyas2lib_sends_with_every_option_and_reads_our_mdns() {
    let setup = Setup::new("require_signed = false\nrequire_encrypted = false\n", "http://127.0.0.1:9/as2");
    let erp = Erp::start();
    let gateway = setup.gateway(&erp);
    let digests = ["", "sha1", "sha256", "sha384", "sha512"];
    let ciphers = ["", "tripledes_192_cbc", "aes_128_cbc", "aes_192_cbc", "aes_256_cbc"];
    let mut icn = 7000;
    // Every digest with every cipher; compression and the MDN's kind vary along.
    for (d, digest) in digests.iter().enumerate() {
        for (c, cipher) in ciphers.iter().enumerate() {
            icn += 1;
            let compress = (d + c) % 2 == 1;
            let mdn_mode = if (d + c) % 3 == 2 { "ASYNC" } else { "SYNC" };
            let mdn_digest = if c % 2 == 0 && !digest.is_empty() { Value::from(*digest) } else { Value::Null };
            let mut options = json!({"compress": compress, "mdn_mode": mdn_mode, "mdn_digest": mdn_digest});
            if !digest.is_empty() {
                options["sign"] = (*digest).into();
            }
            if !cipher.is_empty() {
                options["encrypt"] = (*cipher).into();
            }
            // CRLF line ends (MIME's canonical form for text, which pyas2lib writes).
            let payload = String::from_utf8(edi_850(icn, &format!("PO-AS2-{icn}"))).unwrap().replace("~\n", "~\r\n");
            let case = format!(
                "sign {digest:?} encrypt {cipher:?} compress {compress} mdn {mdn_mode} signed-mdn {mdn_digest}"
            );
            let out = setup.send(&gateway, payload.as_bytes(), options);
            assert_eq!(out["http_status"], 200, "{case}: {out}");
            assert_eq!(out["mdn_status"], "processed", "{case}: pyas2lib read our MDN as {out}");
            assert_eq!(out["mdn_detail"], Value::Null, "{case}: {out}");
            assert_eq!(out["mdn_signed"], !mdn_digest.is_null(), "{case}: a signed MDN exactly when asked");
            let messages = processed(&gateway, icn);
            assert_eq!(messages.len(), 1, "{case}: one stored message: {messages:?}");
            let message = gateway.message(messages[0]["id"].as_str().unwrap());
            assert_eq!(message["transport"], "as2");
            assert_eq!(message["partner"], "pyas2peer");
            assert_eq!(message["raw"].as_str().unwrap(), payload, "{case}: the payload bytes as sent");
        }
    }
    // Binary content (application/octet-stream) arrives byte for byte: bare LFs, a CR alone.
    for (n, options) in [
        json!({"sign": "sha256", "encrypt": "aes_256_cbc", "compress": true, "mdn_mode": "SYNC", "content_type": "application/octet-stream"}),
        json!({"sign": "sha384", "mdn_mode": "SYNC", "mdn_digest": "sha384", "content_type": "application/octet-stream"}),
    ]
    .into_iter()
    .enumerate()
    {
        icn += 1;
        let payload = String::from_utf8(edi_850(icn, &format!("PO-BIN-{n}"))).unwrap().replacen("~\n", "~\r", 1);
        let out = setup.send(&gateway, payload.as_bytes(), options);
        assert_eq!(out["mdn_status"], "processed", "{out}");
        let messages = processed(&gateway, icn);
        let message = gateway.message(messages[0]["id"].as_str().unwrap());
        assert_eq!(message["raw"].as_str().unwrap().as_bytes(), payload.as_bytes(), "binary content, byte for byte");
    }
    // RSASSA-PSS signatures (pyas2lib's, without the PSS parameters: see ARCHITECTURE, AS2) and
    // RSAES-OAEP key transport, which newer AS2 software uses.
    for options in [
        json!({"sign": "sha256", "sign_alg": "rsassa_pss", "mdn_mode": "SYNC", "mdn_digest": "sha256"}),
        json!({"encrypt": "aes_128_cbc", "key_enc_alg": "rsaes_oaep", "mdn_mode": "SYNC"}),
        json!({"sign": "sha512", "sign_alg": "rsassa_pss", "encrypt": "aes_256_cbc", "key_enc_alg": "rsaes_oaep",
               "compress": true, "mdn_mode": "ASYNC", "mdn_digest": "sha512"}),
    ] {
        icn += 1;
        let payload = String::from_utf8(edi_850(icn, &format!("PO-PSS-{icn}"))).unwrap().replace("~\n", "~\r\n");
        let out = setup.send(&gateway, payload.as_bytes(), options.clone());
        assert_eq!(out["mdn_status"], "processed", "{options}: {out}");
        assert_eq!(out["mdn_detail"], Value::Null, "{options}: {out}");
        let messages = processed(&gateway, icn);
        let message = gateway.message(messages[0]["id"].as_str().unwrap());
        assert_eq!(message["raw"].as_str().unwrap(), payload, "{options}: the payload bytes as sent");
    }
    // Every one of them translated and delivered to the ERP.
    let received = erp.wait_for(30);
    assert_eq!(received.len(), 30);
    let metrics = gateway.request("GET", "/metrics", &[], b"").text();
    assert!(
        metrics.lines().any(|l| l.starts_with("crossdock_as2_mdn_total{")
            && l.contains("disposition=\"processed\"")
            && l.contains("direction=\"sent\"")
            && l.ends_with(" 30")),
        "{metrics}"
    );
}

#[test]
fn refusals_get_the_negative_mdn_of_rfc_4130_and_nothing_is_delivered() {
    let setup = Setup::new("require_signed = true\nrequire_encrypted = true\n", "http://127.0.0.1:9/as2");
    let erp = Erp::start();
    erp.set_default(Answer::Status(200, ""));
    let gateway = setup.gateway(&erp);
    let secure = json!({"sign": "sha256", "encrypt": "aes_256_cbc", "mdn_mode": "SYNC", "mdn_digest": "sha256"});
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "unsigned",
            json!({"encrypt": "aes_256_cbc", "mdn_mode": "SYNC", "mdn_digest": "sha256"}),
            "PYAS2PEER",
            "insufficient-message-security",
        ),
        (
            "unencrypted",
            json!({"sign": "sha256", "mdn_mode": "SYNC", "mdn_digest": "sha256"}),
            "PYAS2PEER",
            "insufficient-message-security",
        ),
        ("signed by a stranger", secure.clone(), "STRANGER", "authentication-failed"),
        (
            "corrupted ciphertext",
            {
                let mut o = secure.clone();
                o["corrupt_tail"] = true.into();
                o
            },
            "PYAS2PEER",
            "decryption-failed",
        ),
        (
            "altered content",
            json!({"sign": "sha256", "mdn_mode": "SYNC", "corrupt_text": ["PO-NO", "PO-N0"]}),
            "PYAS2PEER",
            "integrity-check-failed",
        ),
        (
            "altered content, RSASSA-PSS signature",
            json!({"sign": "sha384", "sign_alg": "rsassa_pss", "mdn_mode": "SYNC", "corrupt_text": ["PO-NO", "PO-N0"]}),
            "PYAS2PEER",
            "integrity-check-failed",
        ),
        (
            "RSASSA-PSS signature by a stranger",
            json!({"sign": "sha256", "sign_alg": "rsassa_pss", "encrypt": "aes_256_cbc", "mdn_mode": "SYNC"}),
            "STRANGER",
            "authentication-failed",
        ),
        (
            "unknown AS2-To",
            {
                let mut o = secure.clone();
                o["override_headers"] = json!({"AS2-To": "crossdock"});
                o
            },
            "PYAS2PEER",
            "unknown-trading-partner",
        ),
        (
            "unknown AS2-From",
            {
                let mut o = secure.clone();
                o["override_headers"] = json!({"AS2-From": "NOBODY"});
                o
            },
            "PYAS2PEER",
            "unknown-trading-partner",
        ),
    ];
    for (n, (case, options, key, modifier)) in cases.into_iter().enumerate() {
        let icn = 7100 + n as u32;
        let out = setup.send_as(&gateway, &edi_850(icn, "PO-NO"), key, options);
        assert_eq!(out["http_status"], 200, "{case}: {out}");
        assert_eq!(
            out["mdn_status"].as_str().map(str::to_lowercase).as_deref(),
            Some("processed/error"),
            "{case}: {out}"
        );
        assert_eq!(out["mdn_detail"], modifier, "{case}: {out}");
        assert!(stored(&gateway, icn).is_empty(), "{case}: nothing stored as a message");
    }
    // A good one still goes through, and is the only thing the ERP ever sees.
    let out = setup.send(&gateway, &edi_850(7199, "PO-YES"), secure);
    assert_eq!(out["mdn_status"], "processed", "{out}");
    let received = erp.wait_for(1);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(erp.received().len(), 1);
    assert!(received[0].body.contains("PO-YES"));
    let log = gateway.log();
    assert!(log.contains("AS2 message refused"), "{log}");
}

#[test]
fn an_asynchronous_mdn_not_delivered_is_sent_after_a_restart() {
    let setup = Setup::new("", "http://127.0.0.1:9/as2");
    let erp = Erp::start();
    let gateway = setup.gateway(&erp);
    // The partner's MDN endpoint is down at first.
    let mdn_endpoint = Erp::start();
    mdn_endpoint.set_default(Answer::Status(503, "down"));
    let options = json!({"sign": "sha256", "encrypt": "aes_128_cbc", "mdn_mode": "ASYNC", "mdn_digest": "sha256",
        "message_id": "owed-mdn-1", "async_mdn_url": format!("http://{}/mdn", mdn_endpoint.addr)});
    let out = setup.send(&gateway, &edi_850(7301, "PO-OWED"), options);
    assert_eq!(out["http_status"], 200, "{out}");
    assert_eq!(processed(&gateway, 7301).len(), 1, "the message is stored");
    mdn_endpoint.wait_for(1);
    let owed = "crossdock_as2_mdns_owed{partner=\"pyas2peer\"}";
    gateway.wait_for_metric(owed, Some(1.0));
    // Killed while the MDN is owed; the endpoint comes back; a restart delivers it.
    gateway.kill();
    mdn_endpoint.set_default(Answer::Status(200, "ok"));
    let refused = mdn_endpoint.received().len();
    let gateway = Gateway::restart(setup.dir.path());
    let received = mdn_endpoint.wait_for(refused + 1);
    let mdn = received.last().unwrap();
    assert_eq!(mdn.path, "/mdn");
    assert_eq!(mdn.headers.get("as2-from").map(String::as_str), Some("CROSSDOCK"), "{:?}", mdn.headers);
    assert!(mdn.body.contains("owed-mdn-1"), "the MDN names the original message: {}", mdn.body);
    assert!(mdn.body.contains("processed"), "{}", mdn.body);
    // Nothing owed any more: the restarted gateway reports 0, or (its gauge refresh having
    // found nothing owed from the start) no series at all.
    let deadline = Instant::now() + Duration::from_secs(20);
    while gateway.metric(owed).is_some_and(|n| n != 0.0) {
        assert!(Instant::now() < deadline, "{owed} still reads {:?}", gateway.metric(owed));
        std::thread::sleep(Duration::from_millis(200));
    }
    // Delivered is recorded: the next start does not send it again.
    gateway.kill();
    let delivered = mdn_endpoint.received().len();
    let _gateway = Gateway::restart(setup.dir.path());
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(mdn_endpoint.received().len(), delivered, "an MDN delivered is not sent again");
}

#[test]
fn owed_mdns_to_an_endpoint_that_is_down_do_not_hold_up_another_partners() {
    let setup = Setup::new("", "http://127.0.0.1:9/as2");
    let erp = Erp::start();
    let gateway = setup.gateway(&erp);
    // Two MDNs owed to an endpoint that stays down, then one to an endpoint that comes back.
    let (down, back) = (Erp::start(), Erp::start());
    down.set_default(Answer::Status(503, "down"));
    back.set_default(Answer::Status(503, "down"));
    for (n, (endpoint, icn)) in [(&down, 7401), (&down, 7402), (&back, 7403)].into_iter().enumerate() {
        let options = json!({"sign": "sha256", "encrypt": "aes_128_cbc", "mdn_mode": "ASYNC", "mdn_digest": "sha256",
            "message_id": format!("owed-pass-{n}"), "async_mdn_url": format!("http://{}/mdn", endpoint.addr)});
        let out = setup.send(&gateway, &edi_850(icn, "PO-PASS"), options);
        assert_eq!(out["http_status"], 200, "{out}");
    }
    down.wait_for(2);
    back.wait_for(1);
    gateway.kill();
    back.set_default(Answer::Status(200, "ok"));
    let (tried_down, tried_back) = (down.received().len(), back.received().len());
    let _gateway = Gateway::restart(setup.dir.path());
    // The first pass reaches the third MDN past the two owed to the endpoint that is down...
    let received = back.wait_for(tried_back + 1);
    assert!(received.last().unwrap().body.contains("owed-pass-2"), "{}", received.last().unwrap().body);
    // ...and tries that endpoint once, not once per MDN.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(down.received().len(), tried_down + 1, "one attempt per pass at an endpoint that is down");
}

#[test]
fn a_resent_message_id_gets_its_mdn_again_and_is_stored_once() {
    let setup = Setup::new("", "http://127.0.0.1:9/as2");
    let erp = Erp::start();
    let gateway = setup.gateway(&erp);
    // The RFC 5751 spelling "sha-256" in the options: the MIC is answered in that spelling.
    let options = json!({"sign": "sha256", "encrypt": "aes_128_cbc", "mdn_mode": "SYNC", "mdn_digest": "sha256", "message_id": "resend-1",
        "override_headers": {"disposition-notification-options": "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256"}});
    let first = setup.send(&gateway, &edi_850(7201, "PO-R"), options.clone());
    let again = setup.send(&gateway, &edi_850(7201, "PO-R"), options);
    assert_eq!(first["mdn_status"], "processed", "{first}");
    assert_eq!(first["mdn_mic_alg"], "sha-256", "{first}");
    assert_eq!(again["mdn_status"], "processed", "{again}");
    assert_eq!(processed(&gateway, 7201).len(), 1, "a resend is not stored twice");

    // After a failure, the same Message-ID is processed.
    let broken = json!({"sign": "sha256", "encrypt": "aes_128_cbc", "mdn_mode": "SYNC", "mdn_digest": "sha256", "message_id": "resend-2", "corrupt_tail": true});
    let failed = setup.send(&gateway, &edi_850(7202, "PO-S"), broken);
    assert_eq!(failed["mdn_detail"], "decryption-failed", "{failed}");
    let good = json!({"sign": "sha256", "encrypt": "aes_128_cbc", "mdn_mode": "SYNC", "mdn_digest": "sha256", "message_id": "resend-2"});
    let retried = setup.send(&gateway, &edi_850(7202, "PO-S"), good);
    assert_eq!(retried["mdn_status"], "processed", "{retried}");
    assert_eq!(processed(&gateway, 7202).len(), 1);
}

/// pyas2lib as the receiving partner, on a loopback port.
struct Peer {
    child: Child,
    url: String,
    received: PathBuf,
}

impl Peer {
    fn start(setup: &Setup) -> Peer {
        Peer::start_with(setup, json!({}))
    }

    /// A peer with options of `as2_peer.py serve` (`async_mdn_first`).
    fn start_with(setup: &Setup, options: Value) -> Peer {
        let interpreter = std::env::var("CROSSDOCK_TEST_PYTHON")
            .expect("CROSSDOCK_TEST_PYTHON is not set: run the tests with ./scripts/test.sh");
        let received = setup.path("peer-received");
        let config = json!({
            "our_as2_id": "PYAS2PEER",
            "gateway_as2_id": "CROSSDOCK",
            "our_key": setup.path("certs/PYAS2PEER.key"),
            "our_cert": setup.path("certs/PYAS2PEER.pem"),
            "gateway_cert": setup.path("certs/CROSSDOCK.pem"),
            // No requirements of its own: it verifies our signature and decrypts when we
            // sign and encrypt, and takes what we send when we do not.
            "received_dir": received,
        });
        let mut config = config;
        if let (Some(config), Some(options)) = (config.as_object_mut(), options.as_object()) {
            config.extend(options.clone());
        }
        let mut child = Command::new(interpreter)
            .arg(repo("tests/python/as2_peer.py"))
            .args(["serve", &config.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("as2_peer.py serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("as2_peer.py said {line:?}"));
        Peer { child, url: format!("http://127.0.0.1:{port}/as2"), received }
    }

    /// The n-th message received (1-based): pyas2lib's view of it, and the payload.
    fn received(&self, n: usize) -> Option<(Value, Option<Vec<u8>>)> {
        let record = std::fs::read(self.received.join(format!("{n}.json"))).ok()?;
        Some((serde_json::from_slice(&record).unwrap(), std::fs::read(self.received.join(format!("{n}.payload"))).ok()))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post_855(gateway: &Gateway) -> String {
    gateway.post_outbound(&crate::support::outbound_855("pyas2peer"))
}

fn wait_for_state(gateway: &Gateway, id: &str, states: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let message = gateway.message(id);
        if states.iter().any(|s| message["state"] == *s) {
            return message;
        }
        assert!(Instant::now() < deadline, "message {id} never reached {states:?}: {message:#}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_gateway_sends_to_pyas2lib_and_checks_its_mdns() {
    let placeholder = Setup::new("", "http://127.0.0.1:9/as2");
    let peer = Peer::start(&placeholder);
    let erp = Erp::start();
    let variants = [
        (
            "sign = \"sha256\"\nencrypt = \"aes256-cbc\"\ncompress = false\nmdn = \"sync\"\nmdn_signed = true\n",
            Some("sha256"),
            Some("aes256_cbc"),
            false,
        ),
        (
            "sign = \"sha512\"\nencrypt = \"3des\"\ncompress = true\nmdn = \"sync\"\nmdn_signed = false\n",
            Some("sha512"),
            Some("tripledes_3key"),
            true,
        ),
        (
            "sign = \"sha1\"\nencrypt = \"aes128-cbc\"\ncompress = true\nmdn = \"async\"\nmdn_signed = true\n",
            Some("sha1"),
            Some("aes128_cbc"),
            true,
        ),
        ("sign = \"none\"\nencrypt = \"none\"\nmdn = \"sync\"\nmdn_signed = false\n", None, None, false),
        // RSASSA-PSS (seen in the signature, the message not being encrypted) and RSAES-OAEP.
        (
            "sign = \"sha256\"\nsign_padding = \"pss\"\nencrypt = \"none\"\nmdn = \"sync\"\nmdn_signed = true\n",
            Some("sha256"),
            None,
            false,
        ),
        (
            "sign = \"sha384\"\nsign_padding = \"pss\"\nencrypt = \"aes256-cbc\"\nencrypt_padding = \"oaep\"\n\
             mdn = \"sync\"\nmdn_signed = true\n",
            Some("sha384"),
            Some("aes256_cbc"),
            false,
        ),
    ];
    for (n, (extra, digest, cipher, compressed)) in variants.iter().enumerate() {
        placeholder.write_profile(extra, &peer.url);
        let gateway = placeholder.gateway(&erp);
        let id = post_855(&gateway);
        let message = wait_for_state(&gateway, &id, &["sent", "failed"]);
        assert_eq!(message["state"], "sent", "variant {n}: {message:#}");
        let (record, payload) = peer.received(n + 1).expect("pyas2lib received the message");
        assert_eq!(record["status"], "processed", "variant {n}: pyas2lib says {record}");
        assert_eq!(record["signed"], digest.is_some(), "variant {n}: {record}");
        assert_eq!(record["digest_alg"].as_str(), *digest, "variant {n}: {record}");
        assert_eq!(record["cipher"].as_str(), *cipher, "variant {n}: {record}");
        assert_eq!(record["compressed"], *compressed, "variant {n}: {record}");
        let padding =
            |key: &str| extra.lines().find_map(|l| l.strip_prefix(key)).map(|v| v.trim_matches([' ', '=', '"']));
        if cipher.is_some() {
            let oaep = padding("encrypt_padding") == Some("oaep");
            assert_eq!(
                record["key_transport"],
                if oaep { "rsaes_oaep" } else { "rsaes_pkcs1v15" },
                "variant {n}: {record}"
            );
        }
        if digest.is_some() && cipher.is_none() {
            let pss = padding("sign_padding") == Some("pss");
            assert_eq!(
                record["signature_alg"],
                if pss { "rsassa_pss" } else { "rsassa_pkcs1v15" },
                "variant {n}: {record}"
            );
        }
        assert_eq!(
            payload.as_deref(),
            message["rendered"].as_str().map(str::as_bytes),
            "variant {n}: the EDI as rendered"
        );
        let transmission = &message["transmissions"][0];
        assert_eq!(transmission["state"], "sent");
        assert_eq!(transmission["as2_message_id"], record["message_id"]);
        let detail = transmission["detail"].as_str().unwrap();
        assert!(detail.contains("MDN processed"), "variant {n}: {detail}");
        if digest.is_some() {
            assert!(detail.contains("MIC matched"), "variant {n}: {detail}");
        }
        gateway.stop();
    }
}

#[test]
fn an_asynchronous_mdn_that_overtakes_the_answer_to_our_post_is_matched() {
    // pyas2lib posts its MDN before it answers our POST: the MDN reaches the gateway while the
    // send is still waiting for that answer, before it is recorded as awaiting an MDN.
    let setup = Setup::new("", "http://127.0.0.1:9/as2");
    let peer = Peer::start_with(&setup, json!({"async_mdn_first": true}));
    setup.write_profile("sign = \"sha256\"\nencrypt = \"aes256-cbc\"\nmdn = \"async\"\nmdn_signed = true\n", &peer.url);
    let erp = Erp::start();
    let gateway = setup.gateway(&erp);
    let id = post_855(&gateway);
    let message = wait_for_state(&gateway, &id, &["sent", "failed"]);
    assert_eq!(message["state"], "sent", "{message:#}");
    let detail = message["transmissions"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("MDN processed") && detail.contains("MIC matched"), "{detail}");
    gateway.stop();
}

#[test]
fn an_mdn_that_does_not_come_or_says_failed_marks_the_message_failed() {
    // The "partner" here is an HTTP stand-in: it answers 200 with no MDN, or with junk.
    let setup = Setup::new("sign = \"sha256\"\nencrypt = \"aes256-cbc\"\nmdn = \"sync\"\n", "http://127.0.0.1:9/as2");
    let partner = Erp::start();
    partner.set_default(Answer::Status(200, ""));
    setup.write_profile("sign = \"sha256\"\nencrypt = \"aes256-cbc\"\nmdn = \"sync\"\n", &partner.url());
    let erp = Erp::start();
    let gateway = setup.gateway(&erp);
    let id = post_855(&gateway);
    let message = wait_for_state(&gateway, &id, &["sent", "failed"]);
    assert_eq!(message["state"], "failed", "{message:#}");
    let detail = message["transmissions"][0]["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("MDN cannot be accepted"), "{detail}");
    // What went out was an AS2 message: signed, then encrypted, for the partner's certificate.
    let sent = partner.wait_for(1);
    assert!(sent[0].headers.get("content-type").unwrap().contains("enveloped-data"), "{:?}", sent[0].headers);
    assert_eq!(sent[0].headers.get("as2-to").map(String::as_str), Some("PYAS2PEER"));
    assert!(sent[0].headers.get("disposition-notification-options").unwrap().contains("sha-256"));
    gateway.stop();

    // Async: no MDN by the deadline.
    setup.write_profile("sign = \"sha256\"\nencrypt = \"aes256-cbc\"\nmdn = \"async\"\n", &partner.url());
    let config = setup.path("crossdock.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace("[as2]\n", "[as2]\nmdn_timeout_seconds = 2\n");
    std::fs::write(&config, text).unwrap();
    let gateway = Gateway::restart(setup.dir.path());
    let id = post_855(&gateway);
    let message = wait_for_state(&gateway, &id, &["failed"]);
    let history: Vec<String> =
        message["history"].as_array().unwrap().iter().map(|h| h["detail"].as_str().unwrap().to_owned()).collect();
    assert!(history.iter().any(|d| d.contains("no MDN arrived before the deadline")), "{history:?}");
}

#[test]
fn certs_new_makes_a_usable_pair_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().display().to_string();
    let made = run(&["certs", "new", "--as2-id", "ACME SUPPLY", "--out", &out_dir, "--days", "30"], None);
    assert_eq!(made.status.code(), Some(0), "{}", String::from_utf8_lossy(&made.stderr));
    let again = run(&["certs", "new", "--as2-id", "ACME SUPPLY", "--out", &out_dir], None);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not overwriting"));
    let cert = Path::new(&out_dir).join("ACME_SUPPLY.pem");
    // openssl itself reads it: RSA 2048, the AS2 id as the subject, 30 days.
    let text =
        Command::new("openssl").args(["x509", "-noout", "-text", "-in"]).arg(&cert).output().expect("openssl runs");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
    assert!(text.contains("CN = ACME SUPPLY") || text.contains("CN=ACME SUPPLY"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(Path::new(&out_dir).join("ACME_SUPPLY.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
