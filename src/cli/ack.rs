//! `crossdock ack [--partners DIR] FILE|-`: the functional acknowledgments (997, 999, TA1,
//! CONTRL) the gateway would send for an input, one interchange per acknowledged interchange.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crossdock_parsers::writer::{write, WriteOptions};
use crossdock_parsers::{Delimiters, ParseOptions};

use super::{load_partners, Input, EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::ack::{self, AckEnvelope, AckPolicy};
use crate::canonical::Standard;
use crate::config::partner::{AckKind, Ta1Policy};
use crate::config::Partners;
use crate::control_numbers::ControlNumberFile;
use crate::process::{process, InterchangeReport};
use crate::translate::render::envelope::{EnvelopeSpec, Stamp};

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
    let processed = process(&bytes, &partners, options);
    for error in &processed.errors {
        eprintln!("{}: {error}", input.name());
    }
    if processed.interchanges.is_empty() {
        return EXIT_INVALID;
    }
    let mut out = Vec::new();
    for report in &processed.interchanges {
        match acknowledgment(report, &partners, &args.data_dir, &Stamp::now()) {
            Ok(Some(bytes)) => out.extend(bytes),
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

/// The acknowledgment interchange for one received interchange, in its partner's terms (or,
/// without a profile, back to its sender with the sender's delimiters).
pub fn acknowledgment(
    report: &InterchangeReport,
    partners: &Partners,
    data_dir: &Path,
    stamp: &Stamp,
) -> Result<Option<Vec<u8>>, String> {
    let partner = report.partner.as_deref().and_then(|id| partners.get(id));
    let policy = match partner {
        Some(p) => AckPolicy {
            kind: p.acknowledgment(report.standard),
            ta1: p.x12.as_ref().map(|x| x.ta1).unwrap_or(Ta1Policy::OnError),
        },
        None => AckPolicy::default_for(report),
    };
    if policy.kind == AckKind::None && policy.ta1 == Ta1Policy::Never {
        return Ok(None);
    }
    let mut spec = match partner.and_then(|p| p.envelope_spec(report.standard)) {
        Some(spec) => spec,
        None => EnvelopeSpec {
            standard: report.standard,
            version: report
                .groups
                .first()
                .map(|g| g.version.get(..6).unwrap_or(&g.version).to_owned())
                .unwrap_or_else(|| "004010".into()),
            delimiters: match report.standard {
                Standard::X12 => Delimiters::X12,
                Standard::Edifact => Delimiters::EDIFACT,
            },
            sender: report.receiver.clone(),
            receiver: report.sender.clone(),
            application_sender: String::new(),
            application_receiver: String::new(),
            syntax: (report.version.split(':').next().unwrap_or("UNOC").to_owned(), report.syntax_version.unwrap_or(3)),
            association_code: None,
            test: report.test,
        },
    };
    spec.test = report.test;
    if policy.kind == AckKind::X999 {
        spec.version = "005010".into();
    }
    let key =
        partner.map(|p| p.id.clone()).unwrap_or_else(|| format!("{}:{}", report.sender.qualifier, report.sender.id));
    let groups = report.groups.len() as u64;
    let numbers = ControlNumberFile::new(data_dir)
        .reserve(&key, 1, groups.max(1), 0)
        .map_err(|e| format!("cannot reserve control numbers in {}: {e}", data_dir.display()))?;
    let mut next = numbers.group;
    let mut next_number = move || {
        let n = next;
        next += 1;
        n
    };
    let mut envelope = AckEnvelope {
        spec,
        interchange_number: numbers.interchange,
        next_number: &mut next_number,
        stamp: stamp.clone(),
    };
    let Some(interchange) = ack::acknowledge(report, policy, &mut envelope) else { return Ok(None) };
    let mut bytes = Vec::new();
    write(&interchange, WriteOptions { line_break_after_segment: true }, &mut bytes).map_err(|e| e.to_string())?;
    Ok(Some(bytes))
}
