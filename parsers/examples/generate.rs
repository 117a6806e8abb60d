//! Writes a generated benchmark file to standard output:
//! `cargo run --release -p crossdock-parsers --example generate -- 850|856|ORDERS MEGABYTES [SEED]`

#[path = "../benches/generate/mod.rs"]
mod generate;

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: generate 850|856|ORDERS MEGABYTES [SEED]";
    let Some(kind) = args.first().and_then(|k| generate::Kind::parse(k)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let Some(megabytes) = args.get(1).and_then(|m| m.parse::<usize>().ok()) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(42);
    let bytes = generate::generate(kind, megabytes * 1024 * 1024, seed);
    if let Err(err) = std::io::stdout().lock().write_all(&bytes) {
        eprintln!("generate: {err}");
        std::process::exit(2);
    }
}
