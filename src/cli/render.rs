//! `crossdock render --partner ID [--partners DIR] FILE|-`: canonical JSON (one object or
//! JSON Lines) in, the partner's EDI out, in one interchange with fresh control numbers.
//!
//! The input is streamed: the reader cuts it into batches at document boundaries, workers
//! (one per core) parse, render and check each document as a transaction set, and the sets
//! are gathered by type into functional groups, spooled to disk until the input ends. Each set
//! is checked against the dictionary as the partner's translator would check it; if any
//! document cannot be rendered, nothing is printed and no control number is used.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::pool::{run_ordered, workers};
use super::{load_partners, Input, EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::canonical::{json_reader, CanonicalDocument, DocumentKind};
use crate::control_numbers::{nth, ControlNumberFile, Counters};
use crate::translate::render::envelope::Stamp;
use crate::translate::render::interchange::{InterchangeRenderer, RenderedSet, Wrapping};

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

/// A batch closes at the first document boundary after this many bytes of JSON. At 256 KiB
/// the hand-offs between threads (2,900 context switches for the bench's 163 MB) cost 5% of
/// the CPU; at 1 MiB, 870 switches, for 8 MB more peak memory (34 MB).
const BATCH_BYTES: usize = 1024 * 1024;
/// Batches waiting per worker, and rendered batches waiting for the writer.
const QUEUED_BATCHES: usize = 2;
/// A document still open after this many bytes is refused: memory stays bounded whatever the
/// input (the largest transaction set the parser accepts, 32 MiB, makes about 100 MiB of JSON).
const DOCUMENT_BYTES_MAX: usize = 256 * 1024 * 1024;
/// Problems reported before the rest are only counted.
const PROBLEMS_SHOWN: usize = 100;

/// Documents for one worker: the JSON, where it starts, and the first set control number.
struct Batch {
    json: Vec<u8>,
    /// Index (from 0) of the batch's first document in the input.
    first_document: u64,
    first_set_number: u64,
}

/// What a worker made of a batch: sets, or problems in words for the sender.
#[derive(Default)]
struct Rendered {
    sets: Vec<RenderedSet>,
    problems: Vec<Problem>,
    /// Line breaks in the batch, so the writer can say on which input line a problem is.
    lines: u64,
}

struct Problem {
    /// Line (from 1) and column within the batch, for JSON that does not parse.
    at: Option<(u64, usize)>,
    text: String,
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

    let mut spool = Spool { dir: &args.data_dir, groups: Vec::new() };
    let mut spooled: io::Result<()> = Ok(());
    let mut problems = Vec::new();
    let mut problem_count = 0usize;
    let mut lines = 0u64;
    let read = run_ordered(
        workers(),
        QUEUED_BATCHES,
        |submit| read_batches(source, first.transaction_set, DOCUMENT_BYTES_MAX, submit),
        |batch: Batch| render_batch(&renderer, &batch),
        |rendered: Rendered| {
            problem_count += rendered.problems.len();
            for problem in rendered.problems {
                if problems.len() < PROBLEMS_SHOWN {
                    problems.push(match problem.at {
                        Some((line, column)) => format!("line {}, column {column}: {}", lines + line, problem.text),
                        None => problem.text,
                    });
                }
            }
            lines += rendered.lines;
            if problem_count == 0 {
                spooled = rendered.sets.into_iter().try_for_each(|set| spool.push(set));
            }
            spooled.is_ok()
        },
    );
    let documents = match read {
        Ok(documents) => documents,
        // The input, not the reading of it, is at fault: a document without an end.
        Err(err) if err.kind() == io::ErrorKind::InvalidData => {
            eprintln!("{name}: {err}");
            return EXIT_INVALID;
        }
        Err(err) => {
            eprintln!("crossdock: cannot read {name}: {err}");
            return EXIT_USAGE;
        }
    };
    if let Err(err) = spooled {
        eprintln!("crossdock: cannot spool the rendered sets in {}: {err}", args.data_dir.display());
        return EXIT_USAGE;
    }
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
    let counts = spool.counts();
    let wrapping = match renderer.wrapping(first.interchange, first.group, &counts, &stamp) {
        Ok(wrapping) => wrapping,
        Err(problem) => {
            eprintln!("crossdock: {problem}");
            return EXIT_USAGE;
        }
    };
    let last = Counters {
        interchange: first.interchange,
        group: nth(first.group, counts.len() as u64 - 1),
        transaction_set: nth(first.transaction_set, documents - 1),
    };
    if let Err(err) = held.commit(&partner.id, last) {
        eprintln!("crossdock: cannot record the control numbers in {}: {err}", args.data_dir.display());
        return EXIT_USAGE;
    }
    let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    match spool.write_to(&wrapping, &mut stdout).and_then(|()| stdout.flush()) {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
            eprintln!("crossdock: cannot write output: {err}");
            EXIT_USAGE
        }
        _ => EXIT_OK,
    }
}

/// Rendered sets by document type, each type's in an unnamed temporary file under the data
/// directory until the whole input has rendered: memory stays bounded whatever the size of the
/// input (holding the sets took the peak RSS to 89-96 MB for 52.7 MB of EDI; spooled, 24-26
/// MB). The files have no name and disappear with the spool, written out or not.
struct Spool<'d> {
    dir: &'d Path,
    /// Document type, its sets so far, how many.
    groups: Vec<(DocumentKind, BufWriter<File>, usize)>,
}

impl Spool<'_> {
    fn push(&mut self, set: RenderedSet) -> io::Result<()> {
        let at = match self.groups.iter().position(|(kind, ..)| *kind == set.kind) {
            Some(at) => at,
            None => {
                let file = tempfile::tempfile_in(self.dir)?;
                self.groups.push((set.kind, BufWriter::with_capacity(1 << 16, file), 0));
                self.groups.len() - 1
            }
        };
        let (_, file, count) = &mut self.groups[at];
        file.write_all(&set.bytes)?;
        *count += 1;
        Ok(())
    }

    /// Each group's document type and number of sets, in order of first appearance.
    fn counts(&self) -> Vec<(DocumentKind, usize)> {
        self.groups.iter().map(|(kind, _, count)| (*kind, *count)).collect()
    }

    /// The interchange: the wrapping around each group's spooled sets.
    fn write_to(self, wrapping: &Wrapping, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&wrapping.header)?;
        for ((_, file, _), (header, trailer)) in self.groups.into_iter().zip(&wrapping.groups) {
            let mut file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
            file.seek(SeekFrom::Start(0))?;
            out.write_all(header)?;
            io::copy(&mut file, out)?;
            out.write_all(trailer)?;
        }
        out.write_all(&wrapping.trailer)
    }
}

/// Where a JSON text stands after the bytes scanned so far: top-level documents end where
/// the brace nesting returns to zero outside a string. Brackets need no tracking: inside an
/// object they are balanced, and a top-level array is not a document (the worker's parser
/// reports it).
#[derive(Clone, Copy, Debug, Default)]
struct Boundaries {
    depth: u32,
    in_string: bool,
    /// A string's backslash was the last byte scanned: the next byte is escaped.
    escaped: bool,
}

impl Boundaries {
    /// Scans `bytes`; returns the end (exclusive) of the last complete document in them and
    /// how many documents ended. Sixty-four bytes at a time, as bit masks of quotes, braces and
    /// backslashes (`Masks`): canonical JSON has a quote every few bytes, so looking for the
    /// next one (memchr) took twice as long as a byte loop, and eight bytes at a time (SWAR)
    /// still took 0.15 s of CPU on the 163 MB bench file, against 0.04 s now. A block holding
    /// a backslash (rare: only escapes have one) goes byte by byte.
    fn scan(&mut self, bytes: &[u8]) -> (Option<usize>, u64) {
        let mut last = None;
        let mut ended = 0;
        let mut blocks = bytes.chunks_exact(64);
        let mut at = 0;
        for block in blocks.by_ref() {
            let block: &[u8; 64] = block.try_into().expect("64 bytes");
            let masks = Masks::of(block);
            if self.escaped || masks.backslashes != 0 {
                for (k, &byte) in block.iter().enumerate() {
                    if self.step(byte) {
                        last = Some(at + k + 1);
                        ended += 1;
                    }
                }
                at += 64;
                continue;
            }
            // Without escapes, the bytes inside a string are those after an odd number of
            // quotes (counting from the block's start, and the state it starts in).
            let quotes = masks.quotes;
            let mut inside = quotes;
            for shift in [1, 2, 4, 8, 16, 32] {
                inside ^= inside << shift;
            }
            if self.in_string {
                inside = !inside;
            }
            self.in_string ^= quotes.count_ones() % 2 == 1;
            let opens = masks.opens & !inside;
            let closes = masks.closes & !inside;
            // Inside a document (nearly every block), the depth cannot reach zero unless the
            // block closes as many braces as are open: count them, in any order.
            let close_count = closes.count_ones();
            if self.depth > close_count {
                self.depth = self.depth + opens.count_ones() - close_count;
                at += 64;
                continue;
            }
            let mut braces = opens | closes;
            while braces != 0 {
                let bit = braces.trailing_zeros();
                braces &= braces - 1;
                if opens & (1 << bit) != 0 {
                    self.depth += 1;
                } else if self.depth > 0 {
                    self.depth -= 1;
                    if self.depth == 0 {
                        last = Some(at + bit as usize + 1);
                        ended += 1;
                    }
                }
            }
            at += 64;
        }
        for (k, &byte) in blocks.remainder().iter().enumerate() {
            if self.step(byte) {
                last = Some(at + k + 1);
                ended += 1;
            }
        }
        (last, ended)
    }

    /// One byte; returns whether a document ended with it.
    fn step(&mut self, byte: u8) -> bool {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if byte == b'\\' {
                self.escaped = true;
            } else if byte == b'"' {
                self.in_string = false;
            }
            return false;
        }
        match byte {
            b'"' => self.in_string = true,
            b'{' => self.depth += 1,
            b'}' if self.depth > 0 => {
                self.depth -= 1;
                return self.depth == 0;
            }
            _ => {}
        }
        false
    }
}

/// Bit masks of a block's quotes, backslashes, opening and closing braces (bit `k` for
/// `block[k]`).
struct Masks {
    quotes: u64,
    backslashes: u64,
    opens: u64,
    closes: u64,
}

impl Masks {
    /// Sixteen bytes per compare: SSE2 is part of every x86-64.
    #[cfg(target_arch = "x86_64")]
    fn of(block: &[u8; 64]) -> Masks {
        use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
        let mut masks = Masks { quotes: 0, backslashes: 0, opens: 0, closes: 0 };
        for (k, sixteen) in block.chunks_exact(16).enumerate() {
            // SAFETY: SSE2 is enabled on every x86-64 target; `sixteen` holds 16 readable
            // bytes, and an unaligned load accepts any address.
            unsafe {
                let vector = _mm_loadu_si128(sixteen.as_ptr().cast::<__m128i>());
                let bits =
                    |byte: u8| u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(vector, _mm_set1_epi8(byte as i8))) as u16);
                masks.quotes |= bits(b'"') << (16 * k);
                masks.backslashes |= bits(b'\\') << (16 * k);
                masks.opens |= bits(b'{') << (16 * k);
                masks.closes |= bits(b'}') << (16 * k);
            }
        }
        masks
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn of(block: &[u8; 64]) -> Masks {
        let mut masks = Masks { quotes: 0, backslashes: 0, opens: 0, closes: 0 };
        for (k, &byte) in block.iter().enumerate() {
            masks.quotes |= u64::from(byte == b'"') << k;
            masks.backslashes |= u64::from(byte == b'\\') << k;
            masks.opens |= u64::from(byte == b'{') << k;
            masks.closes |= u64::from(byte == b'}') << k;
        }
        masks
    }
}

/// Reads the input and submits batches of whole documents; returns how many documents were
/// submitted.
fn read_batches(
    mut source: impl Read,
    first_set_number: u64,
    document_bytes_max: usize,
    submit: &mut dyn FnMut(Batch) -> bool,
) -> io::Result<u64> {
    const READ_BYTES: usize = 64 * 1024;
    let mut pending: Vec<u8> = Vec::with_capacity(BATCH_BYTES + 2 * READ_BYTES);
    let mut scanned = 0;
    let mut boundary = 0;
    let mut boundary_documents = 0u64;
    let mut scanner = Boundaries::default();
    let mut documents = 0u64;
    let mut submit_up_to = |pending: &mut Vec<u8>, end: usize, count: u64, documents: &mut u64| {
        // Hand over the buffer and keep only the tail: copying the tail is cheaper than
        // copying the batch.
        let tail = pending[end..].to_vec();
        let mut json = std::mem::replace(pending, Vec::with_capacity(BATCH_BYTES + 2 * READ_BYTES));
        json.truncate(end);
        pending.extend_from_slice(&tail);
        let batch = Batch { json, first_document: *documents, first_set_number: nth(first_set_number, *documents) };
        *documents += count;
        submit(batch)
    };
    loop {
        // Into the spare capacity as it is: zeroing it first meant a memset of the whole input.
        pending.reserve(READ_BYTES);
        let read = (&mut source).take(READ_BYTES as u64).read_to_end(&mut pending)?;
        if read == 0 {
            break;
        }
        let (last, ended) = scanner.scan(&pending[scanned..]);
        if let Some(end) = last {
            boundary = scanned + end;
            boundary_documents += ended;
        }
        scanned = pending.len();
        if pending.len() - boundary > document_bytes_max {
            let number = documents + boundary_documents + 1;
            let message = format!("document {number} does not end within {} MiB", document_bytes_max >> 20);
            return Err(io::Error::new(io::ErrorKind::InvalidData, message));
        }
        if boundary >= BATCH_BYTES {
            if !submit_up_to(&mut pending, boundary, boundary_documents, &mut documents) {
                return Ok(documents);
            }
            scanned -= boundary;
            boundary = 0;
            boundary_documents = 0;
        }
    }
    // The rest, whole or not: the worker's parser reports what is wrong with it.
    if pending.iter().any(|b| !b.is_ascii_whitespace()) {
        let partial = pending[boundary..].iter().any(|b| !b.is_ascii_whitespace());
        let end = pending.len();
        submit_up_to(&mut pending, end, boundary_documents + u64::from(partial), &mut documents);
    }
    Ok(documents)
}

fn render_batch(renderer: &InterchangeRenderer<'_>, batch: &Batch) -> Rendered {
    let mut rendered = Rendered::default();
    // UTF-8 is checked once for the batch, so that the readers need not check each string
    // (serde_json used 12-23% less CPU); a batch that is not UTF-8 is read as bytes by
    // serde_json, which says where.
    match std::str::from_utf8(&batch.json) {
        Ok(text) => render_text(renderer, batch, text, &mut rendered),
        Err(_) => render_documents(renderer, batch, serde_json::Deserializer::from_slice(&batch.json), &mut rendered),
    }
    rendered.lines = memchr::memchr_iter(b'\n', &batch.json).count() as u64;
    rendered
}

/// Each document through `json_reader` when it can read it (plain purchase orders: the
/// bench's 163.5 MB took 0.37 s on one core against serde_json's 0.53 s, and rendering as a
/// whole 17% less time), through serde_json when not; serde_json reports what is wrong.
fn render_text(renderer: &InterchangeRenderer<'_>, batch: &Batch, text: &str, rendered: &mut Rendered) {
    let mut at = 0;
    for i in 0.. {
        let rest = text[at..].trim_start_matches([' ', '\t', '\n', '\r']);
        if rest.is_empty() {
            return;
        }
        at = text.len() - rest.len();
        let number = batch.first_document + i + 1;
        let (document, length) = match json_reader::read_purchase_order(rest) {
            Some(read) => read,
            None => {
                let mut documents = serde_json::Deserializer::from_str(rest).into_iter::<CanonicalDocument>();
                match documents.next() {
                    Some(Ok(document)) => (document, documents.byte_offset()),
                    Some(Err(err)) => {
                        // serde_json counts from the document's start: add the lines and the
                        // columns before it.
                        let before = &text[..at];
                        let line_start = before.rfind('\n').map_or(0, |n| n + 1);
                        let lines_before = memchr::memchr_iter(b'\n', before.as_bytes()).count() as u64;
                        // (serde_json's columns count bytes.)
                        let column = if err.line() == 1 { err.column() + (at - line_start) } else { err.column() };
                        rendered.problems.push(not_canonical(number, &err, lines_before + err.line() as u64, column));
                        return;
                    }
                    None => return,
                }
            }
        };
        render_one(renderer, batch, document, i, rendered);
        at += length;
    }
}

fn render_one(
    renderer: &InterchangeRenderer<'_>,
    batch: &Batch,
    document: CanonicalDocument,
    i: u64,
    rendered: &mut Rendered,
) {
    let number = batch.first_document + i + 1;
    match renderer.transaction_set(document, nth(batch.first_set_number, i)) {
        Ok(set) => rendered.sets.push(set),
        Err(problems) => rendered
            .problems
            .extend(problems.into_iter().map(|p| Problem { at: None, text: format!("document {number}: {p}") })),
    }
}

/// A document serde_json could not read, at `line` and `column` of the batch.
fn not_canonical(number: u64, err: &serde_json::Error, line: u64, column: usize) -> Problem {
    let text = err.to_string();
    let what = text.rsplit_once(" at line ").map_or(text.as_str(), |(what, _)| what);
    Problem { at: Some((line, column)), text: format!("document {number} is not a canonical document: {what}") }
}

fn render_documents<'de, R: serde_json::de::Read<'de>>(
    renderer: &InterchangeRenderer<'_>,
    batch: &Batch,
    json: serde_json::Deserializer<R>,
    rendered: &mut Rendered,
) {
    for (i, document) in json.into_iter::<CanonicalDocument>().enumerate() {
        match document {
            Ok(document) => render_one(renderer, batch, document, i as u64, rendered),
            Err(err) => {
                // serde_json counts lines from the batch's start; the writer adds the lines
                // of the batches before.
                let (line, column) = (err.line() as u64, err.column());
                rendered.problems.push(not_canonical(batch.first_document + i as u64 + 1, &err, line, column));
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Sixty-four bytes at a time or one by one, from any state, cut anywhere: the same
        /// ends. Backslashes are rare, as in real JSON, so that most blocks take the mask path.
        #[test]
        fn blocks_and_single_bytes_find_the_same_ends(
            text in proptest::collection::vec(
                prop_oneof![40 => prop::sample::select(b"{}\"a \n:[],".to_vec()), 1 => Just(b'\\')],
                0..400,
            ),
            cut in 0usize..400,
            start in (0u32..3, any::<bool>(), any::<bool>()),
        ) {
            let start = Boundaries { depth: start.0, in_string: start.1, escaped: start.1 && start.2 };
            let cut = cut.min(text.len());
            let mut fast = start;
            let (first, n1) = fast.scan(&text[..cut]);
            let (second, n2) = fast.scan(&text[cut..]);
            let mut slow = start;
            let ends: Vec<usize> = (0..text.len()).filter(|&i| slow.step(text[i])).map(|i| i + 1).collect();
            prop_assert_eq!(n1 + n2, ends.len() as u64);
            prop_assert_eq!(first, ends.iter().copied().rfind(|&e| e <= cut));
            prop_assert_eq!(second.map(|e| e + cut), ends.iter().copied().rfind(|&e| e > cut));
            prop_assert_eq!((fast.depth, fast.in_string, fast.escaped), (slow.depth, slow.in_string, slow.escaped));
        }
    }

    #[test]
    fn a_document_that_does_not_end_is_refused_once_past_the_limit() {
        // Two whole documents, then one that never closes (a string that runs on).
        let mut input = b"{\"a\":1}\n{\"b\":2}\n{\"c\":\"".to_vec();
        input.resize(3 * 1024 * 1024, b'x');
        let err = read_batches(&input[..], 1, 2 * 1024 * 1024, &mut |_| true).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(err.to_string(), "document 3 does not end within 2 MiB");
        // Under the limit, the same input is read to its end and handed over for the worker
        // to report.
        assert_eq!(read_batches(&input[..], 1, 4 * 1024 * 1024, &mut |_| true).unwrap(), 3);
    }

    #[test]
    fn documents_end_where_braces_close_outside_strings_whatever_the_reads() {
        // Braces and escaped quotes inside strings, an escaped backslash, nesting, and a
        // pretty-printed document over several lines.
        let text = br#"{"a":"}\"{","b":[{"c":1}]}
{
  "d": "\\"
}
{"e":{}}"#;
        let ends = [26, 42, 51];
        for split in 0..=text.len() {
            let mut scanner = Boundaries::default();
            let (first, n1) = scanner.scan(&text[..split]);
            let (second, n2) = scanner.scan(&text[split..]);
            assert_eq!(n1 + n2, 3, "split at {split}");
            assert_eq!(first, ends.iter().rev().copied().find(|&e| e <= split), "split at {split}");
            assert_eq!(second.map(|e| e + split), if split < 51 { Some(51) } else { None }, "split at {split}");
        }
    }
}
