//! `crossdock translate [--partners DIR] FILE|-`: EDI in, canonical JSON out (JSON Lines).
//!
//! Streams the input one transaction set at a time. Each set is translated with the profile
//! of the partner its envelope names; sets we do not translate are reported, never dropped.
//! The reader frames sets on this thread; batches of sets are translated and serialized on
//! one worker per core and written in input order.

use std::collections::HashSet;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use crossdock_parsers::{Error, Event, OwnedTransactionSet, ParseOptions, StreamReader};

use super::pool::{run_ordered, workers};
use super::{load_partners, Input, EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::config::Partners;
use crate::process::{partner_for, translate_set_to_json};
use crate::translate::{Envelopes, Outcome};

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

/// A batch closes at whichever comes first: this many bytes of EDI or this many sets.
const BATCH_BYTES: usize = 128 * 1024;
const BATCH_SETS: usize = 512;
/// Batches waiting per worker, and translated batches waiting for the writer. One is
/// enough to keep the workers fed, and fewer batches in flight keep the memory they touch
/// in the cache: one measured 2-6% faster than two on the bench file, in wall and CPU time
/// (three alternated runs of twenty-five pairs).
const QUEUED_BATCHES: usize = 1;

/// What the reader hands to the workers, in input order.
#[allow(clippy::large_enum_variant, reason = "nearly every item is a set; boxing would allocate for each")]
enum Item {
    Set(OwnedTransactionSet),
    /// Group, interchange or stray errors, reported where they occur.
    Errors(Vec<Error>),
}

/// What a worker hands to the writer for one batch.
#[derive(Default)]
struct Translated {
    json: Vec<u8>,
    messages: Vec<Message>,
    invalid: bool,
}

enum Message {
    /// A sender no profile matches; reported once per sender.
    UnknownSender(String),
    Line(String),
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

    let mut out = BufWriter::with_capacity(1 << 16, io::stdout());
    let mut written: io::Result<()> = Ok(());
    let mut invalid = false;
    let mut warned = HashSet::new();
    let read = run_ordered(
        workers(),
        QUEUED_BATCHES,
        |submit| read_batches(StreamReader::new(source, options), submit),
        |batch: Vec<Item>| translate_batch(&batch, &partners, &name),
        |translated: Translated| {
            invalid |= translated.invalid;
            let mut errors = io::stderr().lock();
            for message in translated.messages {
                let _ = match message {
                    Message::UnknownSender(sender) if warned.insert(sender.clone()) => writeln!(
                        errors,
                        "{name}: warning: no partner profile matches sender {sender}; translated without cross-references"
                    ),
                    Message::UnknownSender(_) => Ok(()),
                    Message::Line(line) => writeln!(errors, "{line}"),
                };
            }
            written = out.write_all(&translated.json);
            written.is_ok()
        },
    );
    if let Err(err) = read {
        eprintln!("crossdock: cannot read {name}: {err}");
        return EXIT_USAGE;
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

/// Reads the input and submits it in batches; stops early when the writer has stopped.
fn read_batches<R: io::Read>(mut reader: StreamReader<R>, submit: &mut dyn FnMut(Vec<Item>) -> bool) -> io::Result<()> {
    let mut batch = Vec::new();
    let mut bytes = 0;
    while let Some(event) = reader.next() {
        match event? {
            Event::TransactionSet(set) => {
                let previous = batch.iter().rev().find_map(|item| match item {
                    Item::Set(set) => Some(set),
                    Item::Errors(_) => None,
                });
                let set = set.to_owned_set_after(previous);
                bytes += set.byte_len();
                batch.push(Item::Set(set));
            }
            Event::GroupEnd(end) if !end.errors.is_empty() => batch.push(Item::Errors(end.errors.to_vec())),
            Event::InterchangeEnd(end) if !end.errors.is_empty() => batch.push(Item::Errors(end.errors.to_vec())),
            Event::Error(error) => batch.push(Item::Errors(vec![error.clone()])),
            _ => continue,
        }
        if (bytes >= BATCH_BYTES || batch.len() >= BATCH_SETS) && !submit(std::mem::take(&mut batch)) {
            return Ok(());
        }
        if batch.is_empty() {
            bytes = 0;
        }
    }
    if !batch.is_empty() {
        submit(batch);
    }
    Ok(())
}

fn translate_batch(batch: &[Item], partners: &Partners, name: &str) -> Translated {
    // Canonical JSON runs about three times the size of the EDI: size the buffer once.
    let edi_bytes: usize = batch.iter().map(|item| if let Item::Set(set) = item { set.byte_len() } else { 0 }).sum();
    let mut translated = Translated { json: Vec::with_capacity(edi_bytes * 7 / 2), ..Translated::default() };
    let report = |translated: &mut Translated, errors: &[Error]| {
        for error in errors {
            translated.messages.push(Message::Line(format!("{name}: {error}")));
            translated.invalid = true;
        }
    };
    let mut envelopes = Envelopes::default();
    for item in batch {
        let set = match item {
            Item::Set(set) => set.view(),
            Item::Errors(errors) => {
                report(&mut translated, errors);
                continue;
            }
        };
        let partner = partner_for(partners, &set, &mut envelopes);
        if partner.is_none() {
            let sender = set.interchange().sender().map(|s| format!("{}:{}", s.qualifier, s.id)).unwrap_or_default();
            translated.messages.push(Message::UnknownSender(sender));
        }
        report(&mut translated, set.errors());
        match translate_set_to_json(&set, partner, &mut envelopes, &mut translated.json) {
            Outcome::Translated(_) => translated.json.push(b'\n'),
            Outcome::Unsupported { transaction_set } => {
                translated.invalid = true;
                let reason = match partner {
                    Some(p) => {
                        format!("partner {} is not set up to send us {transaction_set} (documents.receive)", p.id)
                    }
                    None => {
                        format!("Crossdock translates 850, 855, 856, ORDERS, ORDRSP and DESADV, not {transaction_set}")
                    }
                };
                translated.messages.push(Message::Line(format!(
                    "{name}: transaction set {transaction_set} {} at byte {} was not translated: {reason}",
                    set.control_number(),
                    set.offset()
                )));
            }
            Outcome::Rejected { errors } => {
                translated.invalid = true;
                for error in errors {
                    translated.messages.push(Message::Line(format!("{name}: {error}")));
                }
            }
        }
    }
    translated
}
