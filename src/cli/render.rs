//! `crossdock render --partner ID [--partners DIR] FILE|-`: canonical JSON (one object or
//! JSON Lines) in, the partner's EDI out, in one interchange with fresh control numbers.
//!
//! The input is streamed: the reader cuts it into batches at document boundaries, workers
//! (one per core) parse, render and check each document as a transaction set, and the sets
//! are gathered by type into functional groups. Each set is checked against the dictionary
//! as the partner's translator would check it; if any document cannot be rendered, nothing is
//! printed and no control number is used.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use super::pool::{run_ordered, workers};
use super::{load_partners, Input, EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::canonical::CanonicalDocument;
use crate::control_numbers::{nth, ControlNumberFile, Counters};
use crate::translate::render::envelope::Stamp;
use crate::translate::render::interchange::{Groups, InterchangeRenderer, RenderedSet};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The partner profile to render for.
    #[arg(long)]
    partner: String,
    /// Directory of partner profiles.
    #[arg(long, default_value = "partners")]
    partners: PathBuf,
    /// Where the control number counters are kept.
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
    /// Canonical JSON: one object, or one per line; - for standard input.
    file: PathBuf,
}

/// A batch closes at the first document boundary after this many bytes of JSON.
const BATCH_BYTES: usize = 256 * 1024;
/// Problems reported before the rest are only counted.
const PROBLEMS_SHOWN: usize = 100;

/// Documents for one worker: the JSON, where it starts, and the first set control number.
struct Batch {
    json: Vec<u8>,
    /// Index (from 0) of the batch's first document in the input, and its line.
    first_document: u64,
    first_line: u64,
    first_set_number: u64,
}

/// What a worker made of a batch: sets, or problems in words for the sender.
#[derive(Default)]
struct Rendered {
    sets: Vec<RenderedSet>,
    problems: Vec<String>,
}

pub fn run(args: Args) -> u8 {
    let Some(partners) = load_partners(&args.partners) else { return EXIT_USAGE };
    let Some(partner) = partners.get(&args.partner) else {
        eprintln!("crossdock: no partner profile with id {:?} in {}", args.partner, args.partners.display());
        return EXIT_USAGE;
    };
    let renderer = match InterchangeRenderer::new(partner) {
        Ok(renderer) => renderer,
        Err(problem) => {
            eprintln!("crossdock: {problem}");
            return EXIT_USAGE;
        }
    };
    let input = Input::new(args.file);
    let name = input.name();
    let source = match input.open() {
        Ok(source) => source,
        Err(err) => {
            eprintln!("crossdock: cannot read {name}: {err}");
            return EXIT_USAGE;
        }
    };
    let counters = ControlNumberFile::new(&args.data_dir);
    let held = match counters.hold() {
        Ok(held) => held,
        Err(err) => {
            eprintln!("crossdock: cannot use the control numbers in {}: {err}", args.data_dir.display());
            return EXIT_USAGE;
        }
    };
    let first = held.first(&partner.id);

    let mut groups = Groups::default();
    let mut problems = Vec::new();
    let mut problem_count = 0usize;
    let read = run_ordered(
        workers(),
        |submit| read_batches(source, first.transaction_set, submit),
        |batch: Batch| render_batch(&renderer, &batch),
        |rendered: Rendered| {
            problem_count += rendered.problems.len();
            for problem in rendered.problems {
                if problems.len() < PROBLEMS_SHOWN {
                    problems.push(problem);
                }
            }
            if problem_count == 0 {
                for set in rendered.sets {
                    groups.push(set);
                }
            }
            true
        },
    );
    let documents = match read {
        Ok(documents) => documents,
        Err(err) => {
            eprintln!("crossdock: cannot read {name}: {err}");
            return EXIT_USAGE;
        }
    };
    if documents == 0 && problem_count == 0 {
        eprintln!("{name}: no documents to render");
        return EXIT_INVALID;
    }
    if problem_count > 0 {
        for problem in &problems {
            eprintln!("{name}: {problem}");
        }
        if problem_count > problems.len() {
            eprintln!("{name}: and {} more problems", problem_count - problems.len());
        }
        return EXIT_INVALID;
    }
    let stamp = Stamp::now();
    let mut out = Vec::new();
    if let Err(problem) = renderer.assemble(first.interchange, first.group, &groups, &stamp, &mut out) {
        eprintln!("{name}: {problem}");
        return EXIT_INVALID;
    }
    let last = Counters {
        interchange: first.interchange,
        group: nth(first.group, groups.len() as u64 - 1),
        transaction_set: nth(first.transaction_set, documents - 1),
    };
    if let Err(err) = held.commit(&partner.id, last) {
        eprintln!("crossdock: cannot record the control numbers in {}: {err}", args.data_dir.display());
        return EXIT_USAGE;
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

/// Where a JSON text stands after the bytes scanned so far: top-level documents are cut where
/// the nesting returns to zero outside a string.
#[derive(Debug, Default)]
struct Boundaries {
    depth: u32,
    in_string: bool,
    escaped: bool,
}

impl Boundaries {
    /// Scans `bytes`; returns the end (exclusive) of the last complete document in them and
    /// how many documents ended.
    fn scan(&mut self, bytes: &[u8]) -> (Option<usize>, u64) {
        let mut last = None;
        let mut ended = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' if self.depth > 0 => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        last = Some(i + 1);
                        ended += 1;
                    }
                }
                _ => {}
            }
        }
        (last, ended)
    }
}

/// Reads the input and submits batches of whole documents; returns how many documents were
/// submitted.
fn read_batches(
    mut source: impl Read,
    first_set_number: u64,
    submit: &mut dyn FnMut(Batch) -> bool,
) -> io::Result<u64> {
    let mut pending: Vec<u8> = Vec::new();
    let mut scanned = 0;
    let mut boundary = 0;
    let mut boundary_documents = 0u64;
    let mut scanner = Boundaries::default();
    let mut next = (0u64, 1u64);
    let mut chunk = vec![0u8; 1 << 20];
    let mut submit_up_to = |pending: &mut Vec<u8>, end: usize, documents: u64, next: &mut (u64, u64)| {
        let json: Vec<u8> = pending.drain(..end).collect();
        let lines = json.iter().filter(|&&b| b == b'\n').count() as u64;
        let batch =
            Batch { json, first_document: next.0, first_line: next.1, first_set_number: nth(first_set_number, next.0) };
        *next = (next.0 + documents, next.1 + lines);
        submit(batch)
    };
    loop {
        let read = match source.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        pending.extend_from_slice(&chunk[..read]);
        let (last, ended) = scanner.scan(&pending[scanned..]);
        if let Some(end) = last {
            boundary = scanned + end;
            boundary_documents += ended;
        }
        scanned = pending.len();
        if boundary >= BATCH_BYTES {
            if !submit_up_to(&mut pending, boundary, boundary_documents, &mut next) {
                return Ok(next.0);
            }
            scanned -= boundary;
            boundary = 0;
            boundary_documents = 0;
        }
    }
    // The rest, whole or not: the worker's parser reports what is wrong with it.
    let rest_documents = boundary_documents
        + u64::from(scanner.depth > 0 || pending[boundary..].iter().any(|b| !b.is_ascii_whitespace()));
    if pending.iter().any(|b| !b.is_ascii_whitespace()) {
        let end = pending.len();
        submit_up_to(&mut pending, end, rest_documents, &mut next);
    }
    Ok(next.0)
}

fn render_batch(renderer: &InterchangeRenderer<'_>, batch: &Batch) -> Rendered {
    let mut rendered = Rendered::default();
    let documents = serde_json::Deserializer::from_slice(&batch.json).into_iter::<CanonicalDocument>();
    for (i, document) in documents.enumerate() {
        let number = batch.first_document + i as u64 + 1;
        match document {
            Ok(document) => match renderer.transaction_set(&document, nth(batch.first_set_number, i as u64)) {
                Ok(set) => rendered.sets.push(set),
                Err(problems) => {
                    rendered.problems.extend(problems.into_iter().map(|p| format!("document {number}: {p}")));
                }
            },
            Err(err) => {
                // serde_json counts lines from the batch's start; say where it is in the input.
                let text = err.to_string();
                let what = text.rsplit_once(" at line ").map_or(text.as_str(), |(what, _)| what);
                let line = batch.first_line + err.line() as u64 - 1;
                rendered.problems.push(format!(
                    "line {line}, column {}: document {number} is not a canonical document: {what}",
                    err.column()
                ));
                break;
            }
        }
    }
    rendered
}
