//! `crossdock ack [--partners DIR] FILE|-`: the functional acknowledgments (997, 999, TA1,
//! CONTRL) the gateway would send for an input, one interchange per acknowledged interchange.
//!
//! The input is streamed: each interchange is acknowledged, and its acknowledgment written,
//! as soon as it ends, so memory stays flat whatever the size of the input and a pipe gets
//! each acknowledgment without waiting for the rest.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crossdock_parsers::{Event, ParseOptions, StreamReader};

use super::{load_partners, Input, EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::ack;
use crate::config::Partners;
use crate::control_numbers::ControlNumberFile;
use crate::process::{Processed, Processor};
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
    let name = input.name();
    let source = match input.open() {
        Ok(source) => source,
        Err(err) => {
            eprintln!("crossdock: cannot read {name}: {err}");
            return EXIT_USAGE;
        }
    };
    let options = if args.lenient { ParseOptions::lenient() } else { ParseOptions::default() };
    // Sets are translated and validated, but no document's JSON is kept.
    let mut processor = Processor::new(&partners, false);
    let mut reader = StreamReader::new(source, options);
    let mut out = Acknowledger {
        counters: ControlNumberFile::new(&args.data_dir),
        data_dir: &args.data_dir,
        partners: &partners,
        name: &name,
        stdout: io::stdout().lock(),
        interchanges: 0,
    };
    loop {
        let event = match reader.next() {
            None => break,
            Some(Err(err)) => {
                eprintln!("crossdock: cannot read {name}: {err}");
                return EXIT_USAGE;
            }
            Some(Ok(event)) => event,
        };
        let ended = matches!(event, Event::InterchangeEnd(_));
        processor.event(event);
        if ended {
            if let Err(code) = out.acknowledge(processor.take()) {
                return code;
            }
        }
    }
    // What is left: errors after the last interchange, or an interchange the input cut short.
    if let Err(code) = out.acknowledge(processor.take()) {
        return code;
    }
    if out.interchanges == 0 {
        return EXIT_INVALID;
    }
    EXIT_OK
}

/// Acknowledges interchanges as they end and writes each acknowledgment at once.
struct Acknowledger<'a> {
    counters: ControlNumberFile,
    data_dir: &'a Path,
    partners: &'a Partners,
    name: &'a str,
    stdout: io::StdoutLock<'static>,
    interchanges: usize,
}

impl Acknowledger<'_> {
    /// Reports the errors and writes the acknowledgments of `processed`; `Err` is the exit
    /// code to stop with (0 when the reader of the output has gone away).
    fn acknowledge(&mut self, processed: Processed) -> Result<(), u8> {
        for error in &processed.errors {
            eprintln!("{}: {error}", self.name);
        }
        for report in &processed.interchanges {
            self.interchanges += 1;
            let mut reserve = |key: &str, groups: u64| {
                self.counters
                    .reserve(key, 1, groups, 0)
                    .map_err(|e| format!("cannot reserve control numbers in {}: {e}", self.data_dir.display()))
            };
            let acknowledgment = match ack::for_interchange(report, self.partners, &mut reserve, &Stamp::now()) {
                Ok(Some(acknowledgment)) => acknowledgment,
                Ok(None) => continue,
                Err(err) => {
                    eprintln!("crossdock: {err}");
                    return Err(EXIT_USAGE);
                }
            };
            match self.stdout.write_all(&acknowledgment.bytes).and_then(|()| self.stdout.flush()) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::BrokenPipe => return Err(EXIT_OK),
                Err(err) => {
                    eprintln!("crossdock: cannot write output: {err}");
                    return Err(EXIT_USAGE);
                }
            }
        }
        Ok(())
    }
}
