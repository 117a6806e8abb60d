//! `crossdock render --partner ID [--partners DIR] FILE|-`: canonical JSON (one object or
//! JSON Lines) in, the partner's EDI out, in one interchange with fresh control numbers.
//!
//! The output is parsed and translated back before it is printed: what cannot be read back
//! cleanly (a value too long for its element, a delimiter inside an X12 value) is refused.

use std::io::{self, Write};
use std::path::PathBuf;

use crossdock_parsers::writer::{write, WriteOptions};
use crossdock_parsers::ParseOptions;

use super::{load_partners, Input, EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::canonical::CanonicalDocument;
use crate::config::Partners;
use crate::control_numbers::ControlNumberFile;
use crate::translate::render::envelope::{self, Rendered, Stamp};
use crate::translate::render::{self, Target};

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

pub fn run(args: Args) -> u8 {
    let Some(partners) = load_partners(&args.partners) else { return EXIT_USAGE };
    let Some(partner) = partners.get(&args.partner) else {
        eprintln!("crossdock: no partner profile with id {:?} in {}", args.partner, args.partners.display());
        return EXIT_USAGE;
    };
    let input = Input::new(args.file);
    let bytes = match input.read_all() {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("crossdock: cannot read {}: {err}", input.name());
            return EXIT_USAGE;
        }
    };
    let mut documents = Vec::new();
    for document in serde_json::Deserializer::from_slice(&bytes).into_iter::<CanonicalDocument>() {
        match document {
            Ok(document) => documents.push(document),
            Err(err) => {
                eprintln!("{}: not a canonical document: {err}", input.name());
                return EXIT_INVALID;
            }
        }
    }
    match render_for(&partners, &partner.id, &documents, &args.data_dir, &Stamp::now()) {
        Ok(bytes) => {
            let mut out = io::stdout().lock();
            match out.write_all(&bytes).and_then(|()| out.flush()) {
                Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
                    eprintln!("crossdock: cannot write output: {err}");
                    EXIT_USAGE
                }
                _ => EXIT_OK,
            }
        }
        Err(problems) => {
            for problem in problems {
                eprintln!("{}: {problem}", input.name());
            }
            EXIT_INVALID
        }
    }
}

/// Renders documents for a partner into one interchange, checked by reading it back.
pub fn render_for(
    partners: &Partners,
    partner_id: &str,
    documents: &[CanonicalDocument],
    data_dir: &std::path::Path,
    stamp: &Stamp,
) -> Result<Vec<u8>, Vec<String>> {
    let partner = partners.get(partner_id).ok_or_else(|| vec![format!("no partner profile {partner_id:?}")])?;
    let standard =
        partner.standard().ok_or_else(|| vec![format!("partner {partner_id} has no [x12] or [edifact] section")])?;
    let spec = partner
        .envelope_spec(standard)
        .ok_or_else(|| vec![format!("partner {partner_id} has no envelope settings")])?;
    if documents.is_empty() {
        return Err(vec!["no documents to render".into()]);
    }
    let mut problems = Vec::new();
    let target =
        Target { standard, version: &spec.version, decimal_mark: spec.delimiters.decimal, xref: Some(&partner.xref) };
    let mut bodies = Vec::new();
    for (i, document) in documents.iter().enumerate() {
        if !partner.sends(document.kind()) {
            problems.push(format!(
                "document {}: partner {partner_id} is not set up to receive a {} (documents.send)",
                i + 1,
                document.kind()
            ));
            continue;
        }
        match render::body(&document.document, &target) {
            Ok(body) => bodies.push((document.kind(), body)),
            Err(err) => problems.push(format!("document {}: {err}", i + 1)),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut kinds: Vec<_> = bodies.iter().map(|(k, _)| *k).collect();
    kinds.dedup();
    let numbers = ControlNumberFile::new(data_dir)
        .reserve(partner_id, 1, kinds.len() as u64, bodies.len() as u64)
        .map_err(|e| vec![format!("cannot reserve control numbers in {}: {e}", data_dir.display())])?;
    let sets = bodies
        .into_iter()
        .enumerate()
        .map(|(i, (kind, body))| Rendered {
            kind,
            control_number: format!("{:04}", numbers.transaction_set + i as u64),
            body,
        })
        .collect();
    let mut next_group = numbers.group;
    let mut group_number = move || {
        let n = next_group;
        next_group += 1;
        n
    };
    let interchange = envelope::interchange(&spec, numbers.interchange, &mut group_number, sets, stamp);
    let mut bytes = Vec::new();
    write(&interchange, WriteOptions { line_break_after_segment: true }, &mut bytes)
        .map_err(|e| vec![e.to_string()])?;
    // Read it back as the partner would.
    let processed = crate::process::process(&bytes, &Partners::new(Vec::new()), ParseOptions::default());
    for error in &processed.errors {
        problems.push(format!("the rendered EDI is invalid: {error}"));
    }
    for interchange in &processed.interchanges {
        problems.extend(interchange.errors.iter().map(|e| format!("the rendered EDI is invalid: {e}")));
        for group in &interchange.groups {
            for set in &group.sets {
                problems.extend(set.syntax_errors.iter().map(|e| format!("the rendered EDI is invalid: {e}")));
                problems.extend(set.data_errors.iter().map(|e| format!("the rendered EDI is invalid: {e}")));
            }
        }
    }
    if problems.is_empty() {
        Ok(bytes)
    } else {
        Err(problems)
    }
}
