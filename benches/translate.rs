//! Translation and rendering throughput, whole process, with a baseline in the same run.
//!
//! `cargo bench --bench translate [-- MEGABYTES]` (default 50):
//! - generates a VICS-style 850 file of that size (the parser benchmark's generator);
//! - baseline: the `edi` 0.4 crate parsing it and serializing its tree with serde_json (read
//!   the file, parse, write the JSON to /dev/null), in this process;
//! - `crossdock translate` of the file to canonical JSON (/dev/null);
//! - `crossdock render` of that canonical JSON back to the partner's X12 (/dev/null).
//!
//! The crossdock commands run from the binary cargo built for the bench and, when
//! `CROSSDOCK_RELEASE_BIN` names one, also from the profile-guided release build of
//! `scripts/build-release.sh`, side by side in the same rounds.
//!
//! Nine rounds run them all in turn (so a slower minute of the machine falls on all); the
//! median time of each is reported, and for translate also the median of the nine rounds'
//! own ratios to the baseline: on a shared machine whose speed moves from minute to minute,
//! the ratio within a round compares the two in the same minute. MB/s counts the EDI bytes
//! (input for parsing and translating, output for rendering).

#[path = "../parsers/benches/generate/mod.rs"]
mod generate;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 9;

/// The median wall time and the median CPU time of runs.
fn median(runs: &[(Duration, Duration)]) -> (Duration, Duration) {
    let middle = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    (middle(runs.iter().map(|r| r.0).collect()), middle(runs.iter().map(|r| r.1).collect()))
}

/// CPU time (user and system) used so far by this process or by its waited-for children.
fn cpu(who: libc::c_int) -> Duration {
    // SAFETY: getrusage fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut usage) };
    let at = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    at(usage.ru_utime) + at(usage.ru_stime)
}

/// Wall time and CPU time of `run`: this process's CPU for the in-process baseline, the
/// children's for the crossdock commands. CPU time is the steadier figure on a shared machine,
/// where another tenant can take a core for a while.
fn time(run: impl FnOnce()) -> (Duration, Duration) {
    let (cpu_self, cpu_children) = (cpu(libc::RUSAGE_SELF), cpu(libc::RUSAGE_CHILDREN));
    let started = Instant::now();
    run();
    let wall = started.elapsed();
    let used = (cpu(libc::RUSAGE_SELF) - cpu_self) + (cpu(libc::RUSAGE_CHILDREN) - cpu_children);
    (wall, used)
}

fn crossdock(binary: &Path, dir: &Path, args: &[&str], stdout: Stdio) {
    let status = Command::new(binary)
        .args(args)
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1768480200")
        .stdout(stdout)
        .status()
        .unwrap();
    assert!(status.success(), "crossdock {args:?} failed");
}

/// A crossdock binary the bench times, and what it is.
struct Binary {
    path: PathBuf,
    build: &'static str,
}

/// Each binary's translate and render runs.
#[derive(Default)]
struct Runs {
    translates: Vec<(Duration, Duration)>,
    renders: Vec<(Duration, Duration)>,
}

fn main() {
    let megabytes: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(50);
    let mut binaries = vec![Binary { path: env!("CARGO_BIN_EXE_crossdock").into(), build: "cargo build" }];
    if let Some(path) = std::env::var_os("CROSSDOCK_RELEASE_BIN") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "CROSSDOCK_RELEASE_BIN: no file at {}", path.display());
        binaries.push(Binary { path, build: "release build, PGO" });
    }
    let dir = tempfile::tempdir().unwrap();
    let edi_path = dir.path().join("850.edi");
    let edi = generate::generate(generate::Kind::parse("850").unwrap(), megabytes * 1024 * 1024, 42);
    std::fs::write(&edi_path, &edi).unwrap();
    std::fs::create_dir_all(dir.path().join("partners")).unwrap();
    std::fs::write(
        dir.path().join("partners/buyerco.toml"),
        "id = \"buyerco\"\n[x12]\ninterchange_id = \"ZZ:BUYERCO\"\nour_interchange_id = \"ZZ:SUPPLIERCO\"\nversion = \"004010\"\n\
         [documents]\nreceive = [\"850\"]\nsend = [\"850\"]\n",
    )
    .unwrap();
    let mb = |bytes: usize, took: Duration| bytes as f64 / 1e6 / took.as_secs_f64();

    // The canonical JSON for rendering, and the rendered size (what render produces).
    let json_path = dir.path().join("850.jsonl");
    let first = &binaries[0].path;
    crossdock(first, dir.path(), &["translate", "850.edi"], Stdio::from(std::fs::File::create(&json_path).unwrap()));
    let rendered_path = dir.path().join("rendered.edi");
    let render_args = ["render", "--partner", "buyerco", "--data-dir", "data", "850.jsonl"];
    crossdock(first, dir.path(), &render_args, Stdio::from(std::fs::File::create(&rendered_path).unwrap()));
    let rendered = std::fs::metadata(&rendered_path).unwrap().len() as usize;

    // Rounds of the baseline, then each binary's translate and render, in turn.
    let mut baselines = Vec::new();
    let mut runs: Vec<Runs> = binaries.iter().map(|_| Runs::default()).collect();
    for _ in 0..RUNS {
        // The baseline: edi 0.4 + serde_json.
        baselines.push(time(|| {
            let text = std::fs::read_to_string(&edi_path).unwrap();
            let document = edi::parse(&text).expect("edi parses the file");
            let mut out = BufWriter::new(std::fs::File::create("/dev/null").unwrap());
            serde_json::to_writer(&mut out, &document).unwrap();
            out.flush().unwrap();
        }));
        for (binary, runs) in binaries.iter().zip(&mut runs) {
            runs.translates
                .push(time(|| crossdock(&binary.path, dir.path(), &["translate", "850.edi"], Stdio::null())));
            runs.renders.push(time(|| crossdock(&binary.path, dir.path(), &render_args, Stdio::null())));
        }
    }

    let documents = std::fs::read_to_string(&json_path).unwrap().lines().count();
    println!();
    println!(
        "{:.1} MB generated 850 file ({documents} purchase orders); {:.1} MB of canonical JSON; {:.1} MB rendered; median of {RUNS} runs",
        edi.len() as f64 / 1e6,
        std::fs::metadata(&json_path).unwrap().len() as f64 / 1e6,
        rendered as f64 / 1e6
    );
    println!();
    println!("| run | time | MB/s of EDI | vs baseline | CPU time |");
    println!("|---|---|---|---|---|");
    let (baseline, baseline_cpu) = median(&baselines);
    let base = mb(edi.len(), baseline);
    println!(
        "| baseline: `edi` 0.4 parse + serde_json | {:.2} s | {base:.0} | 1.00x | {:.2} s |",
        baseline.as_secs_f64(),
        baseline_cpu.as_secs_f64()
    );
    for (command, bytes) in [("translate", edi.len()), ("render", rendered)] {
        for (binary, runs) in binaries.iter().zip(&runs) {
            let (took, cpu) = median(if command == "translate" { &runs.translates } else { &runs.renders });
            let speed = mb(bytes, took);
            let what = if command == "render" { "whole process, EDI out" } else { "whole process" };
            println!(
                "| `crossdock {command}` ({}, {what}) | {:.2} s | {speed:.0} | {:.2}x | {:.2} s |",
                binary.build,
                took.as_secs_f64(),
                speed / base,
                cpu.as_secs_f64()
            );
        }
    }
    println!();
    // Each round's translate against its own baseline, by wall time.
    for (binary, runs) in binaries.iter().zip(&runs) {
        let ratios: Vec<f64> =
            baselines.iter().zip(&runs.translates).map(|(b, t)| b.0.as_secs_f64() / t.0.as_secs_f64()).collect();
        let mut sorted = ratios.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "translate ({}) against the baseline, round by round: median {:.2}x (rounds in order: {})",
            binary.build,
            sorted[sorted.len() / 2],
            ratios.iter().map(|r| format!("{r:.2}x")).collect::<Vec<_>>().join(", ")
        );
    }
}
