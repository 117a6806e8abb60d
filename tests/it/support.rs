//! Helpers shared by the black-box tests.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// Path of a file in the repository.
pub fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A sample from the parser's test data.
pub fn sample(path: &str) -> PathBuf {
    repo("parsers/test_data").join(path)
}

/// The binary under test.
pub fn crossdock() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crossdock"))
}

/// Runs the binary with `args` and, when given, `stdin`.
pub fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut command = crossdock();
    command.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = command.spawn().expect("the crossdock binary starts");
    // Feed stdin from another thread: a large input and a large output would otherwise each
    // wait for the other's pipe to drain.
    let feeder = stdin.map(|input| {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let input = input.to_vec();
        std::thread::spawn(move || {
            // The command may stop reading early (an error); that is its right.
            let _ = pipe.write_all(&input);
        })
    });
    let output = child.wait_with_output().expect("the crossdock binary finishes");
    if let Some(feeder) = feeder {
        feeder.join().expect("the stdin feeder finishes");
    }
    output
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Standard output parsed as JSON Lines.
pub fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    stdout(output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// The partner profiles the tests use.
pub fn partners_dir() -> String {
    repo("tests/fixtures/partners").display().to_string()
}

/// A fixture EDI file written for these tests.
pub fn fixture(name: &str) -> PathBuf {
    repo("tests/fixtures/edi").join(name)
}

/// Runs one of the Python checks in `tests/python` with the interpreter `scripts/test.sh`
/// prepared. Fails, never skips, when it is not there.
pub fn python(script: &str, args: &[&str]) -> Output {
    let interpreter = std::env::var("CROSSDOCK_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "CROSSDOCK_TEST_PYTHON is not set: run the tests with ./scripts/test.sh, which installs \
             pydifact, badx12 and jsonschema in a virtualenv, or point it at a Python that has them"
        )
    });
    let output = Command::new(&interpreter)
        .arg(repo("tests/python").join(script))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {interpreter}: {e}"));
    output
}

/// Lints a Prometheus text exposition with Prometheus' own `promtool check metrics`, which
/// `scripts/test.sh` fetches. Fails, never skips, when it is not there.
pub fn promtool_check_metrics(text: &str) -> Output {
    use std::io::Write;
    let promtool = std::env::var("CROSSDOCK_TEST_PROMTOOL").unwrap_or_else(|_| {
        panic!(
            "CROSSDOCK_TEST_PROMTOOL is not set: run the tests with ./scripts/test.sh, which fetches \
             promtool from Debian's prometheus package, or point it at a promtool binary"
        )
    });
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {promtool}: {e}"));
    child.stdin.take().expect("piped stdin").write_all(text.as_bytes()).expect("promtool reads the text");
    child.wait_with_output().expect("promtool finishes")
}

/// Polls `done` until it holds; fails the test, naming `what`, after `timeout`.
pub fn wait_until(what: &str, timeout: std::time::Duration, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Runs the binary with environment variables set.
pub fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = crossdock();
    command.args(args).envs(env.iter().copied()).stdin(Stdio::null());
    command.output().expect("the crossdock binary runs")
}

/// A fixed clock for reproducible envelopes: 2026-01-15 12:30 UTC.
pub const FIXED_TIME: (&str, &str) = ("SOURCE_DATE_EPOCH", "1768480200");

/// The golden 855 as an outbound request for `partner`: the canonical document without its
/// envelope (the gateway makes one).
pub fn outbound_855(partner: &str) -> serde_json::Value {
    let golden = std::fs::read_to_string(repo("tests/fixtures/golden/crossdock_855_5010.jsonl")).unwrap();
    let mut document: serde_json::Value =
        serde_json::Deserializer::from_str(&golden).into_iter().next().unwrap().unwrap();
    document.as_object_mut().unwrap().remove("envelope");
    document["partner"] = partner.into();
    document
}
