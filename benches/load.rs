//! The gateway under load, side by side with a minimal baseline, in one run.
//!
//! `cargo bench --bench load [-- SECONDS]` (default 10 s per phase):
//! 1. the baseline: this binary re-run as a server that does the least a durable ingest can
//!    do — hyper, one SQLite INSERT per request with `synchronous = FULL` in WAL mode, group
//!    commit on a writer thread, `202` after the commit;
//! 2. `crossdock serve` (the release binary Cargo built for this bench) with a local ERP
//!    stand-in that answers `200` at once.
//!
//! Both take the same load: 32 keep-alive connections POSTing unique single-850
//! interchanges (a fresh ISA13 and PO number each) as fast as they are answered. Reported:
//! accepted requests per second, accept latency (p50, p99), for the gateway the documents
//! delivered to the ERP per second end to end, and each server's peak RSS.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

mod common;
use common::{connect, crossdock, erp_stand_in, read_address};

const CONNECTIONS: usize = 32;

const TEMPLATE: &str =
    "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*SUPPLIERCO     *260105*0900*^*00501*{ICN}*0*P*>~\
GS*PO*BUYERCO*SUPPLIERCO*20260105*0900*{GCN}*X*005010~ST*850*0001~BEG*00*SA*{PO}**20260105~CUR*BY*USD~REF*DP*042~\
PER*BD*JOHN BUYER*TE*5551234567*EM*john@buyer.example~DTM*002*20260120~N1*BY*BUYER CO*92*0042~N1*ST*STORE 42*92*0042~\
N3*42 MAIN STREET*SUITE 7~N4*SPRINGFIELD*IL*62701*US~PO1*1*120*CA*9.25**BP*B-100*VP*ACME-100*UP*012345678905~\
PID*F****BLUE WIDGET 50MM~PO4*12*1*EA~PO1*2*10*EA*120.5**BP*B-200*VP*ACME-200~CTT*2*130~AMT*TT*2315~SE*17*0001~\
GE*1*{GCN}~IEA*1*{ICN}~";

fn body(n: u64) -> Bytes {
    Bytes::from(
        TEMPLATE
            .replace("{ICN}", &format!("{:09}", n % 1_000_000_000))
            .replace("{GCN}", &(n % 1_000_000_000).to_string())
            .replace("{PO}", &format!("PO-{n}")),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--baseline-server") {
        let dir = args.get(at + 1).expect("a directory").clone();
        baseline_server(&dir);
        return;
    }
    let seconds: u64 = args.iter().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(bench(Duration::from_secs(seconds)));
}

/// What one phase measured.
struct Figures {
    accepted: u64,
    refused: u64,
    elapsed: Duration,
    latencies_us: Vec<u32>,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let at = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies_us[at]) / 1000.0
    }
}

async fn bench(duration: Duration) {
    let scratch = tempfile::tempdir().unwrap();
    let sample = scratch.path().join("sample.edi");
    std::fs::write(&sample, body(1)).unwrap();
    let check = std::process::Command::new(crossdock()).args(["parse", "--check"]).arg(&sample).output().unwrap();
    assert!(check.status.success(), "the load's 850 is not valid: {}", String::from_utf8_lossy(&check.stderr));

    // Phase 1: the baseline.
    let baseline_dir = scratch.path().join("baseline");
    std::fs::create_dir_all(&baseline_dir).unwrap();
    let mut baseline = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--baseline-server", &baseline_dir.display().to_string()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let addr = read_address(baseline.stdout.take().unwrap(), "baseline: listening on ");
    let base = load(addr, duration, 1).await;
    eprintln!("load: baseline accepted {}", base.accepted);
    let base_rss = peak_rss_kib(baseline.id());
    let _ = baseline.kill();
    let _ = baseline.wait();

    // Phase 2: the gateway, with an ERP stand-in.
    let erp = Arc::new(AtomicU64::new(0));
    let erp_addr = erp_stand_in(Arc::clone(&erp)).await;
    let gateway_dir = scratch.path().join("gateway");
    std::fs::create_dir_all(gateway_dir.join("partners")).unwrap();
    std::fs::write(
        gateway_dir.join("partners/buyerco.toml"),
        "id = \"buyerco\"\n[x12]\ninterchange_id = \"ZZ:BUYERCO\"\nversion = \"005010\"\n[documents]\nreceive = [\"850\"]\n",
    )
    .unwrap();
    std::fs::write(
        gateway_dir.join("crossdock.toml"),
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[erp]\nurl = \"http://{erp_addr}/edi\"\nmax_in_flight = 64\nmax_requests_per_second = 0\n"
        ),
    )
    .unwrap();
    let mut gateway = std::process::Command::new(crossdock())
        .args(["serve", "--config", "crossdock.toml"])
        .current_dir(&gateway_dir)
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let addr = read_address(gateway.stderr.take().unwrap(), "crossdock: serving on http://");
    let started = Instant::now();
    let gateway_figures = load(addr, duration, 1_000_000).await;
    // End to end: until the ERP has every document accepted (or nothing moves for 30 s).
    let mut last = (erp.load(Ordering::Relaxed), Instant::now());
    while erp.load(Ordering::Relaxed) < gateway_figures.accepted && last.1.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = erp.load(Ordering::Relaxed);
        if now != last.0 {
            last = (now, Instant::now());
        }
    }
    eprintln!("load: gateway accepted {}, the ERP received {}", gateway_figures.accepted, erp.load(Ordering::Relaxed));
    let delivered = erp.load(Ordering::Relaxed);
    let end_to_end = started.elapsed();
    let gateway_rss = peak_rss_kib(gateway.id());
    let _ = std::process::Command::new("kill").args(["-TERM", &gateway.id().to_string()]).status();
    let _ = gateway.wait();

    let row = |name: &str, f: &Figures, rss: u64| {
        println!(
            "| {name} | {:.0} | {:.1} | {:.1} | {} | {:.1} |",
            f.per_second(),
            f.percentile(0.50),
            f.percentile(0.99),
            f.refused,
            rss as f64 / 1024.0
        )
    };
    println!();
    println!(
        "load: {CONNECTIONS} connections, {} s per phase, unique single-850 interchanges of {} bytes",
        duration.as_secs(),
        body(1).len()
    );
    println!();
    println!("| server | accepted/s | p50 ms | p99 ms | refused | peak RSS MiB |");
    println!("|---|---|---|---|---|---|");
    row("baseline (hyper + SQLite FULL, group commit)", &base, base_rss);
    row("crossdock serve", &gateway_figures, gateway_rss);
    println!();
    println!(
        "gateway vs baseline: {:.2}x accepted/s; delivered to the ERP end to end: {delivered} of {} in {:.1} s = {:.0} documents/s",
        gateway_figures.per_second() / base.per_second(),
        gateway_figures.accepted,
        end_to_end.as_secs_f64(),
        delivered as f64 / end_to_end.as_secs_f64()
    );
}

/// Peak resident set of a process, from /proc (VmHWM), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// 32 connections, each sending the next unique body as soon as the previous is answered.
async fn load(addr: SocketAddr, duration: Duration, first: u64) -> Figures {
    let counter = Arc::new(AtomicU64::new(first));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (counter, stop) = (Arc::clone(&counter), Arc::clone(&stop));
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(addr).await;
            let (mut accepted, mut refused, mut latencies) = (0u64, 0u64, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let request = Request::post("/v1/inbound")
                    .header("host", addr.to_string())
                    .header("content-type", "application/edi-x12")
                    .body(Full::new(body(n)))
                    .unwrap();
                let sent = Instant::now();
                let Ok(response) = sender.send_request(request).await else { break };
                let status = response.status();
                let _ = response.into_body().collect().await;
                latencies.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                if status.as_u16() == 202 {
                    accepted += 1;
                } else {
                    refused += 1;
                }
            }
            (accepted, refused, latencies)
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut figures = Figures { accepted: 0, refused: 0, elapsed: Duration::ZERO, latencies_us: Vec::new() };
    for task in tasks {
        let (accepted, refused, latencies) = task.await.unwrap();
        figures.accepted += accepted;
        figures.refused += refused;
        figures.latencies_us.extend(latencies);
    }
    figures.elapsed = started.elapsed();
    figures.latencies_us.sort_unstable();
    figures
}

/// The baseline: hyper, and a writer thread committing INSERTs in groups.
fn baseline_server(dir: &str) {
    type Reply = tokio::sync::oneshot::Sender<()>;
    let (tx, rx) = mpsc::channel::<(Bytes, Reply)>();
    let path = std::path::Path::new(dir).join("baseline.db");
    std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "FULL").unwrap();
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS bodies (id INTEGER PRIMARY KEY, received_at INTEGER, body BLOB)",
        )
        .unwrap();
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while let Ok(next) = rx.try_recv() {
                batch.push(next);
                if batch.len() >= 512 {
                    break;
                }
            }
            conn.execute_batch("BEGIN").unwrap();
            {
                let mut insert = conn.prepare_cached("INSERT INTO bodies (received_at, body) VALUES (?1, ?2)").unwrap();
                let now =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
                for (body, _) in &batch {
                    insert.execute(rusqlite::params![now, body.as_ref()]).unwrap();
                }
            }
            conn.execute_batch("COMMIT").unwrap();
            for (_, reply) in batch {
                let _ = reply.send(());
            }
        }
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("baseline: listening on {}", listener.local_addr().unwrap());
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let tx = tx.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let tx = tx.clone();
                    async move {
                        let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let (reply, committed) = tokio::sync::oneshot::channel();
                        let _ = tx.send((body, reply));
                        let _ = committed.await;
                        let mut response = Response::new(Full::new(Bytes::from_static(b"{\"accepted\":true}")));
                        *response.status_mut() = hyper::StatusCode::ACCEPTED;
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
}
