//! `crossdock translate [--partners DIR] FILE|-`: EDI in, canonical JSON out (JSON Lines).
//!
//! Streams the input one transaction set at a time. Each set is translated with the profile
//! of the partner its envelope names; sets we do not translate are reported, never dropped.

use std::collections::HashMap;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use crossdock_parsers::{Error, Event, ParseOptions, StreamReader};

use super::{load_partners, Input, EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::process::{partner_for, translate_set};
use crate::translate::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory of partner profiles.
    #[arg(long, default_value = "partners")]
    partners: PathBuf,
    /// Accept known partner habits (see `crossdock parse --lenient`).
    #[arg(long)]
    lenient: bool,
    /// The EDI file, or - for standard input.
    file: PathBuf,
}

pub fn run(args: Args) -> u8 {
    let Some(partners) = load_partners(&args.partners) else { return EXIT_USAGE };
    let input = Input::new(args.file);
    let name = input.name();
    let source = match input.open() {
        Ok(source) => source,
        Err(err) => {
            eprintln!("crossdock: cannot read {name}: {err}");
            return EXIT_USAGE;
        }
    };
    let options = if args.lenient { ParseOptions::lenient() } else { ParseOptions::default() };
    let mut reader = StreamReader::new(source, options);
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut errors = io::stderr().lock();
    let mut invalid = false;
    let report = |errors: &mut dyn Write, list: &[Error]| {
        for error in list {
            let _ = writeln!(errors, "{name}: {error}");
        }
        !list.is_empty()
    };
    let mut warned: HashMap<String, ()> = HashMap::new();
    let mut written = Ok(());
    while let Some(event) = reader.next() {
        let event = match event {
            Ok(event) => event,
            Err(err) => {
                eprintln!("crossdock: cannot read {name}: {err}");
                return EXIT_USAGE;
            }
        };
        match event {
            Event::TransactionSet(set) => {
                let partner = partner_for(&partners, &set);
                if partner.is_none() {
                    let sender =
                        set.interchange().sender().map(|s| format!("{}:{}", s.qualifier, s.id)).unwrap_or_default();
                    if warned.insert(sender.clone(), ()).is_none() {
                        let _ = writeln!(
                            errors,
                            "{name}: warning: no partner profile matches sender {sender}; translated without cross-references"
                        );
                    }
                }
                invalid |= report(&mut errors, set.errors());
                match translate_set(&set, partner) {
                    Outcome::Translated(document) => {
                        if written.is_ok() {
                            written = serde_json::to_writer(&mut out, &document)
                                .map_err(io::Error::other)
                                .and_then(|()| out.write_all(b"\n"));
                        }
                    }
                    Outcome::Unsupported { transaction_set } => {
                        invalid = true;
                        let reason = match partner {
                            Some(p) => format!(
                                "partner {} is not set up to send us {transaction_set} (documents.receive)",
                                p.id
                            ),
                            None => format!(
                                "Crossdock translates 850, 855, 856, ORDERS, ORDRSP and DESADV, not {transaction_set}"
                            ),
                        };
                        let _ = writeln!(
                            errors,
                            "{name}: transaction set {transaction_set} {} at byte {} was not translated: {reason}",
                            set.control_number(),
                            set.offset()
                        );
                    }
                    Outcome::Rejected { errors: data_errors } => {
                        invalid = true;
                        for error in data_errors {
                            let _ = writeln!(errors, "{name}: {error}");
                        }
                    }
                }
            }
            Event::GroupEnd(end) => invalid |= report(&mut errors, end.errors),
            Event::InterchangeEnd(end) => invalid |= report(&mut errors, end.errors),
            Event::Error(error) => invalid |= report(&mut errors, std::slice::from_ref(error)),
            _ => {}
        }
    }
    match written.and_then(|()| out.flush()) {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
            eprintln!("crossdock: cannot write output: {err}");
            EXIT_USAGE
        }
        _ if invalid => EXIT_INVALID,
        _ => EXIT_OK,
    }
}
