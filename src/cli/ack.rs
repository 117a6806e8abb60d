//! `crossdock ack [--partners DIR] FILE|-`: the functional acknowledgments (997, 999, TA1,
//! CONTRL) the gateway would send for an input, one interchange per acknowledged interchange.

use std::io::{self, Write};
use std::path::PathBuf;

use crossdock_parsers::ParseOptions;

use super::{load_partners, Input, EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::ack;
use crate::control_numbers::ControlNumberFile;
use crate::process::process_for_acknowledgments;
use crate::translate::render::envelope::Stamp;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory of partner profiles.
    #[arg(long, default_value = "partners")]
    partners: PathBuf,
    /// Where the control number counters are kept.
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
    /// Accept known partner habits (see `crossdock parse --lenient`).
    #[arg(long)]
    lenient: bool,
    /// The EDI file, or - for standard input.
    file: PathBuf,
}

pub fn run(args: Args) -> u8 {
    let Some(partners) = load_partners(&args.partners) else { return EXIT_USAGE };
    let input = Input::new(args.file);
    let bytes = match input.read_all() {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("crossdock: cannot read {}: {err}", input.name());
            return EXIT_USAGE;
        }
    };
    let options = if args.lenient { ParseOptions::lenient() } else { ParseOptions::default() };
    let processed = process_for_acknowledgments(&bytes, &partners, options);
    for error in &processed.errors {
        eprintln!("{}: {error}", input.name());
    }
    if processed.interchanges.is_empty() {
        return EXIT_INVALID;
    }
    let mut out = Vec::new();
    for report in &processed.interchanges {
        let counters = ControlNumberFile::new(&args.data_dir);
        let mut reserve = |key: &str, groups: u64| {
            counters
                .reserve(key, 1, groups, 0)
                .map_err(|e| format!("cannot reserve control numbers in {}: {e}", args.data_dir.display()))
        };
        match ack::for_interchange(report, &partners, &mut reserve, &Stamp::now()) {
            Ok(Some(acknowledgment)) => out.extend(acknowledgment.bytes),
            Ok(None) => {}
            Err(err) => {
                eprintln!("crossdock: {err}");
                return EXIT_USAGE;
            }
        }
    }
    let mut stdout = io::stdout().lock();
    match stdout.write_all(&out).and_then(|()| stdout.flush()) {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
            eprintln!("crossdock: cannot write output: {err}");
            EXIT_USAGE
        }
        _ => EXIT_OK,
    }
}
