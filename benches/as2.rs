//! AS2 inbound throughput: signed (SHA-256) and encrypted (AES-256) 10 KB messages, each
//! answered with a signed synchronous MDN, over 1 and over 16 connections.
//!
//! `cargo bench --bench as2 [-- MESSAGES]` (default 1000 per phase): the client builds every
//! message first (signing and encrypting are not timed), then POSTs them to `crossdock serve`
//! (the release binary, delivering to a local ERP stand-in) as fast as they are answered and
//! checks that each MDN says `processed`. The reference is OpenAS2 4.9.0 on this machine as issue #5 quotes it (about 155
//! messages/s over 1 connection, 350 over 16); it is a Java server this repository does not
//! build, so its figures are quoted, not re-measured.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossdock::as2::certs::{self, Identity};
use crossdock::as2::cms::{self, Digest};
use crossdock::as2::message::{self, Wrapping};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Request;
use openssl::pkey::PKey;
use openssl::x509::X509;

mod common;
use common::{connect, crossdock, erp_stand_in, read_address};

const OPENAS2: [(usize, f64); 2] = [(1, 155.0), (16, 350.0)];

/// A 10 KB 850: the header and enough PO1 lines.
fn payload(n: usize) -> Vec<u8> {
    let mut body = String::new();
    let mut lines = 0;
    while body.len() < 9_600 {
        lines += 1;
        body.push_str(&format!(
            "PO1*{lines}*{}*EA*{}.25**BP*B-{lines:05}*VP*ACME-{lines:05}*UP*01234567890{}~PID*F****WIDGET NUMBER {lines}~",
            lines % 90 + 1,
            lines % 40 + 1,
            lines % 10
        ));
    }
    let segments = 3 + 2 * lines + 2;
    format!(
        "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*SUPPLIERCO     *260105*0900*^*00501*{n:09}*0*P*>~\
         GS*PO*BUYERCO*SUPPLIERCO*20260105*0900*{n}*X*005010~ST*850*0001~BEG*00*SA*PO-{n}**20260105~CUR*BY*USD~\
         {body}CTT*{lines}~SE*{segments}*0001~GE*1*{n}~IEA*1*{n:09}~"
    )
    .into_bytes()
}

fn identity(dir: &std::path::Path, id: &str) -> Identity {
    let (cert, key) = certs::self_signed(id, 30).unwrap();
    std::fs::write(dir.join(format!("{id}.pem")), &cert).unwrap();
    std::fs::write(dir.join(format!("{id}.key")), &key).unwrap();
    Identity {
        as2_id: id.into(),
        certificate: X509::from_pem(cert.as_bytes()).unwrap(),
        key: PKey::private_key_from_pem(key.as_bytes()).unwrap(),
    }
}

struct Prebuilt {
    headers: Vec<(String, String)>,
    body: Bytes,
}

fn main() {
    let per_phase: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1000);
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    std::fs::create_dir_all(dir.join("certs")).unwrap();
    std::fs::create_dir_all(dir.join("partners")).unwrap();
    let gateway_identity = identity(&dir.join("certs"), "CROSSDOCK");
    let partner = identity(&dir.join("certs"), "PARTNER");
    std::fs::write(
        dir.join("partners/partner.toml"),
        "id = \"partner\"\n[x12]\ninterchange_id = \"ZZ:BUYERCO\"\nversion = \"005010\"\nacknowledgment = \"none\"\n\
         [documents]\nreceive = [\"850\"]\n[as2]\nas2_id = \"PARTNER\"\ncertificate = \"certs/PARTNER.pem\"\n",
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let erp = runtime.block_on(erp_stand_in(Arc::new(std::sync::atomic::AtomicU64::new(0))));
    std::fs::write(
        dir.join("crossdock.toml"),
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[erp]\nurl = \"http://{erp}/edi\"\nmax_requests_per_second = 0\n\
             [as2]\nas2_id = \"CROSSDOCK\"\ncertificate = \"certs/CROSSDOCK.pem\"\nprivate_key = \"file:certs/CROSSDOCK.key\"\n"
        ),
    )
    .unwrap();

    // Build every message first, on every core.
    let total = per_phase * OPENAS2.len();
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let built: Vec<(usize, Prebuilt)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..std::thread::available_parallelism().map_or(2, usize::from))
            .map(|_| {
                scope.spawn(|| {
                    let gateway_certs = [gateway_identity.certificate.clone()];
                    let mut out = Vec::new();
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if n >= total {
                            return out;
                        }
                        let wrapping = Wrapping {
                            sign: Some(Digest::Sha256),
                            signature: cms::SignatureScheme::Pkcs1,
                            encrypt: cms::cipher("aes256-cbc"),
                            key_transport: cms::KeyTransport::Pkcs1,
                            compress: false,
                            identity: &partner,
                            partner_certificates: &gateway_certs,
                        };
                        let built = message::build(&payload(n + 1), "application/edi-x12", "po.edi", &wrapping).unwrap();
                        let mut headers = built.headers;
                        headers.extend([
                            ("AS2-Version".to_owned(), "1.2".to_owned()),
                            ("AS2-From".to_owned(), "PARTNER".to_owned()),
                            ("AS2-To".to_owned(), "CROSSDOCK".to_owned()),
                            ("Message-ID".to_owned(), format!("<bench-{n}@partner>")),
                            ("Disposition-Notification-To".to_owned(), "edi@partner.example".to_owned()),
                            (
                                "Disposition-Notification-Options".to_owned(),
                                "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256"
                                    .to_owned(),
                            ),
                        ]);
                        out.push((n, Prebuilt { headers, body: Bytes::from(built.body) }));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    let mut built = built;
    built.sort_by_key(|(n, _)| *n);
    let messages: Vec<Prebuilt> = built.into_iter().map(|(_, p)| p).collect();
    eprintln!(
        "as2: {} messages of {} bytes built in {:.1} s",
        messages.len(),
        messages[0].body.len(),
        started.elapsed().as_secs_f64()
    );

    let mut gateway = std::process::Command::new(crossdock())
        .args(["serve", "--config", "crossdock.toml"])
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let addr = read_address(gateway.stderr.take().unwrap(), "crossdock: serving on http://");
    let messages = Arc::new(messages);
    let mut rows = Vec::new();
    for (phase, (connections, openas2)) in OPENAS2.into_iter().enumerate() {
        let range = phase * per_phase..(phase + 1) * per_phase;
        let (elapsed, processed, mut latencies) =
            runtime.block_on(post_all(addr, Arc::clone(&messages), range, connections));
        latencies.sort_unstable();
        let rate = processed as f64 / elapsed.as_secs_f64();
        let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
        rows.push(format!(
            "| {connections} | {processed} of {per_phase} | {rate:.0} | {:.1} | {:.1} | {openas2:.0} | {:.2}x |",
            p(0.5),
            p(0.99),
            rate / openas2
        ));
    }
    let _ = std::process::Command::new("kill").args(["-TERM", &gateway.id().to_string()]).status();
    let _ = gateway.wait();
    println!();
    println!("as2: signed (SHA-256) + encrypted (AES-256) 10 KB messages, signed synchronous MDNs");
    println!();
    println!("| connections | MDN processed | messages/s | p50 ms | p99 ms | OpenAS2 4.9.0 (quoted) | vs OpenAS2 |");
    println!("|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
}

async fn post_all(
    addr: SocketAddr,
    messages: Arc<Vec<Prebuilt>>,
    range: std::ops::Range<usize>,
    connections: usize,
) -> (Duration, usize, Vec<u32>) {
    let next = Arc::new(AtomicUsize::new(range.start));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (next, messages, end) = (Arc::clone(&next), Arc::clone(&messages), range.end);
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(addr).await;
            let (mut processed, mut latencies) = (0usize, Vec::new());
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= end {
                    return (processed, latencies);
                }
                let message = &messages[n];
                let mut request = Request::post("/as2").header("host", addr.to_string());
                for (name, value) in &message.headers {
                    request = request.header(name.as_str(), value.as_str());
                }
                let request = request.body(Full::new(message.body.clone())).unwrap();
                let sent = Instant::now();
                let response = sender.send_request(request).await.unwrap();
                let ok = response.status().is_success();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                latencies.push(sent.elapsed().as_micros() as u32);
                if ok && memchr::memmem::find(&body, b"MDN-sent-automatically; processed\r\n").is_some() {
                    processed += 1;
                }
            }
        }));
    }
    let (mut processed, mut latencies) = (0, Vec::new());
    for task in tasks {
        let (p, l) = task.await.unwrap();
        processed += p;
        latencies.extend(l);
    }
    (started.elapsed(), processed, latencies)
}
