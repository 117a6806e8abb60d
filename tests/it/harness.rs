//! What the gateway tests run against: the real `crossdock serve` process in a scratch
//! directory, a plain HTTP/1.1 client over loopback, and an ERP stand-in that records what it
//! receives and answers as told (the one fake: the ERP side).

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::repo;

/// A running gateway.
pub struct Gateway {
    pub addr: SocketAddr,
    child: Option<Child>,
    log: Arc<Mutex<String>>,
    config: PathBuf,
}

impl Gateway {
    /// Starts `crossdock serve` in `dir` with `config` (written to `dir/crossdock.toml`).
    /// `listen` and the store are set here; `config` adds the rest.
    pub fn start(dir: &Path, config: &str) -> Gateway {
        let path = dir.join("crossdock.toml");
        let text = if config.contains("[server]") {
            config.replacen("[server]", "[server]\nlisten = \"127.0.0.1:0\"", 1)
        } else {
            format!("[server]\nlisten = \"127.0.0.1:0\"\n{config}")
        };
        std::fs::write(&path, text).unwrap();
        Gateway::start_with(dir, &path)
    }

    /// Starts it again on the same directory and configuration (after a kill, say).
    pub fn restart(dir: &Path) -> Gateway {
        Gateway::start_with(dir, &dir.join("crossdock.toml"))
    }

    fn start_with(dir: &Path, config: &Path) -> Gateway {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crossdock"))
            .args(["serve", "--config", &config.display().to_string()])
            .current_dir(dir)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("crossdock serve starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line
                    .strip_prefix("crossdock: serving on http://")
                    .or_else(|| line.strip_prefix("crossdock: serving on https://"))
                {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr.to_owned());
                    }
                }
                if let Ok(mut log) = sink.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(addr) => addr.parse().expect("a socket address"),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                panic!("the gateway did not start:\n{}", log.lock().unwrap());
            }
        };
        Gateway { addr, child: Some(child), log, config: config.to_owned() }
    }

    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn config_path(&self) -> &Path {
        &self.config
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        request(self.addr, method, path, headers, body)
    }

    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.request("GET", path, &[], b"");
        assert_eq!(response.status, 200, "GET {path}: {}", response.text());
        response.json()
    }

    /// Posts EDI to `/v1/inbound`; returns the message id.
    pub fn post_edi(&self, body: &[u8]) -> String {
        let response = self.request("POST", "/v1/inbound", &[], body);
        assert_eq!(response.status, 202, "{}", response.text());
        response.json()["message_id"].as_str().unwrap().to_owned()
    }

    /// Posts a canonical document to `/v1/outbound`; returns the message id.
    pub fn post_outbound(&self, document: &serde_json::Value) -> String {
        let response = self.request(
            "POST",
            "/v1/outbound",
            &[("Content-Type", "application/json")],
            document.to_string().as_bytes(),
        );
        assert_eq!(response.status, 202, "{}", response.text());
        response.json()["message_id"].as_str().unwrap().to_owned()
    }

    /// The gateway's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("the gateway runs")
    }

    /// The value of one series in `/metrics` (name and labels as Prometheus text writes them).
    pub fn metric(&self, series: &str) -> Option<f64> {
        let text = self.request("GET", "/metrics", &[], b"").text();
        text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
    }

    /// Waits until `series` reads `value` (gauges are refreshed every two seconds).
    pub fn wait_for_metric(&self, series: &str, value: Option<f64>) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let current = self.metric(series);
            if current == value {
                return;
            }
            assert!(Instant::now() < deadline, "{series} reads {current:?}, expected {value:?}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn message(&self, id: &str) -> serde_json::Value {
        self.get_json(&format!("/v1/messages/{id}"))
    }

    /// Waits until the message is in `state`.
    pub fn wait_for_state(&self, id: &str, state: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let message = self.message(id);
            if message["state"] == state {
                return message;
            }
            if Instant::now() > deadline {
                panic!("message {id} never became {state}: {message:#}\nlog:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, and the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the gateway did not stop on SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A scratch directory with the test partner profiles in `partners/`.
pub fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let partners = dir.path().join("partners");
    std::fs::create_dir_all(&partners).unwrap();
    for entry in std::fs::read_dir(repo("tests/fixtures/partners")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), partners.join(entry.file_name())).unwrap();
    }
    dir
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// One HTTP/1.1 request on a fresh connection.
pub fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).expect("the gateway accepts connections");
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before reading it all; that is fine.
    let _ = stream.write_all(body);
    read_response(&mut stream)
}

fn read_response(stream: &mut TcpStream) -> Response {
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned())))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.get("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        body = dechunk(&body);
    }
    Response { status, headers, body }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..line_end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

/// One request as the ERP received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

/// How the ERP answers the next request.
#[derive(Clone, Debug)]
pub enum Answer {
    Status(u16, &'static str),
    /// With a Retry-After of so many seconds.
    Unavailable(u64),
    /// Read the request, then never answer (until the connection is dropped).
    Stall,
}

/// The ERP stand-in.
pub struct Erp {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    plan: Arc<Mutex<VecDeque<Answer>>>,
    default: Arc<Mutex<Answer>>,
}

impl Erp {
    pub fn start() -> Erp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let erp = Erp {
            addr,
            received: Arc::default(),
            plan: Arc::default(),
            default: Arc::new(Mutex::new(Answer::Status(200, "{\"ok\":true}"))),
        };
        let (received, plan, default) = (Arc::clone(&erp.received), Arc::clone(&erp.plan), Arc::clone(&erp.default));
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (received, plan, default) = (Arc::clone(&received), Arc::clone(&plan), Arc::clone(&default));
                std::thread::spawn(move || serve_connection(stream, &received, &plan, &default));
            }
        });
        erp
    }

    pub fn url(&self) -> String {
        format!("http://{}/edi", self.addr)
    }

    /// Answers for the next requests, in order; after them, the default.
    pub fn plan(&self, answers: impl IntoIterator<Item = Answer>) {
        self.plan.lock().unwrap().extend(answers);
    }

    pub fn set_default(&self, answer: Answer) {
        *self.default.lock().unwrap() = answer;
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests came in.
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            assert!(Instant::now() < deadline, "the ERP received {} of {n} requests", received.len());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn serve_connection(
    stream: TcpStream,
    received: &Mutex<Vec<Received>>,
    plan: &Mutex<VecDeque<Answer>>,
    default: &Mutex<Answer>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let answer = plan.lock().unwrap().pop_front().unwrap_or_else(|| default.lock().unwrap().clone());
        received.lock().unwrap().push(Received { path, headers, body: String::from_utf8_lossy(&body).into_owned() });
        let (status, extra, text) = match answer {
            Answer::Status(status, text) => (status, String::new(), text),
            Answer::Unavailable(seconds) => (503, format!("Retry-After: {seconds}\r\n"), "busy"),
            Answer::Stall => {
                // Hold the connection until the other side gives up.
                let mut sink = Vec::new();
                let _ = reader.read_to_end(&mut sink);
                return;
            }
        };
        let response = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra}\r\n{text}",
            text.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
