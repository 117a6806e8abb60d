//! `crossdock parse [--check] FILE|-`: the syntax tree as JSON Lines.
//!
//! One object per transaction set (EDIFACT: message), and one per TA1, each carrying its
//! envelope (interchange and group headers in full, control numbers, delimiters) and its
//! segments as arrays: `["TAG", element, ...]`. An element is a string; a composite element
//! is an array of component strings; a repeated element is an array of repetitions, each an
//! array of components. Empty elements and components are kept, so nothing is lost.
//!
//! The input is streamed: memory stays flat however large the file. Errors go to standard
//! error as `FILE: what at where`.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use crossdock_parsers::{
    Delimiters, Element, Error, Event, Group, Interchange, ParseOptions, Segment, SegmentFlags, StreamReader,
};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

use super::{Input, EXIT_INVALID, EXIT_OK, EXIT_USAGE};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print only errors, and keep no segments in memory.
    #[arg(long)]
    check: bool,
    /// Accept known partner habits: hard-wrapped EDIFACT lines, bare EDIFACT messages, ISA
    /// fields not padded to their widths.
    #[arg(long)]
    lenient: bool,
    /// Refuse characters outside the UNOA/UNOB repertoire an EDIFACT interchange declares.
    #[arg(long)]
    strict_charset: bool,
    /// The EDI file, or - for standard input.
    file: PathBuf,
}

pub fn run(args: Args) -> u8 {
    let input = Input::new(args.file);
    let mut options = if args.lenient { ParseOptions::lenient() } else { ParseOptions::default() };
    options.check_charset = args.strict_charset;
    let source = match input.open() {
        Ok(source) => source,
        Err(err) => {
            eprintln!("crossdock: cannot read {}: {err}", input.name());
            return EXIT_USAGE;
        }
    };
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut errors = io::stderr().lock();
    let name = input.name();
    let mut invalid = false;
    let mut report = |list: &[Error]| {
        for error in list {
            invalid = true;
            let _ = writeln!(errors, "{name}: {error}");
        }
    };
    let mut reader = StreamReader::new(source, options).keep_segments(!args.check);
    let mut interchange = Value::Null;
    let mut group = Value::Null;
    let mut written: io::Result<()> = Ok(());
    while let Some(event) = reader.next() {
        let event = match event {
            Ok(event) => event,
            Err(err) => {
                eprintln!("crossdock: cannot read {name}: {err}");
                return EXIT_USAGE;
            }
        };
        match event {
            Event::InterchangeStart(header) => {
                interchange = interchange_json(header);
                group = Value::Null;
            }
            Event::GroupStart(header) => group = group_json(header),
            Event::TransactionSet(set) => {
                report(set.errors());
                if !args.check && written.is_ok() {
                    let kind = match set.interchange().standard() {
                        crossdock_parsers::Standard::X12 => "transaction_set",
                        crossdock_parsers::Standard::Edifact => "message",
                    };
                    let line = SetLine {
                        kind,
                        offset: set.offset(),
                        interchange: &interchange,
                        group: &group,
                        id: &set.id(),
                        control_number: &set.control_number(),
                        version: set.version(),
                        segment_count: set.segment_count(),
                        segments: Segments(&set),
                        errors: set.errors().iter().map(ErrorJson).collect(),
                    };
                    written = write_line(&mut out, &line);
                }
            }
            Event::InterchangeAcknowledgment(segment) => {
                if !args.check && written.is_ok() {
                    let line = json!({
                        "kind": "interchange_acknowledgment",
                        "offset": segment.offset(),
                        "interchange": &interchange,
                        "segment": SegmentJson(&segment),
                    });
                    written = write_line(&mut out, &line);
                }
            }
            Event::GroupEnd(end) => {
                report(end.errors);
                group = Value::Null;
            }
            Event::InterchangeEnd(end) => report(end.errors),
            Event::Error(error) => report(std::slice::from_ref(error)),
        }
    }
    let flushed = written.and_then(|()| out.flush());
    match flushed {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
            eprintln!("crossdock: cannot write output: {err}");
            EXIT_USAGE
        }
        _ if invalid => EXIT_INVALID,
        _ => EXIT_OK,
    }
}

fn write_line(out: &mut impl Write, line: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}

#[derive(Serialize)]
struct SetLine<'a> {
    kind: &'static str,
    offset: u64,
    interchange: &'a Value,
    group: &'a Value,
    id: &'a str,
    control_number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    segment_count: u64,
    segments: Segments<'a, 'a>,
    errors: Vec<ErrorJson<'a>>,
}

struct Segments<'s, 'a>(&'s crossdock_parsers::TransactionSet<'a>);

impl Serialize for Segments<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let segments = self.0.segments();
        let mut seq = serializer.serialize_seq(Some(segments.len()))?;
        for segment in segments {
            seq.serialize_element(&SegmentJson(&segment))?;
        }
        seq.end()
    }
}

/// `["TAG", element, ...]`.
pub struct SegmentJson<'s, 'a>(pub &'s Segment<'a>);

impl Serialize for SegmentJson<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let segment = self.0;
        let atomic = segment.flags().contains(SegmentFlags::ATOMIC);
        let mut seq = serializer.serialize_seq(None)?;
        seq.serialize_element(segment.tag().as_str())?;
        for element in segment.elements() {
            seq.serialize_element(&ElementJson { element, atomic })?;
        }
        seq.end()
    }
}

struct ElementJson<'a> {
    element: Element<'a>,
    atomic: bool,
}

impl Serialize for ElementJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let element = &self.element;
        if self.atomic || (!element.is_repeated() && !element.is_composite()) {
            return serializer.serialize_str(&element.text());
        }
        let components = |e: &Element<'_>| e.components().map(|c| c.text().into_owned()).collect::<Vec<_>>();
        if !element.is_repeated() {
            return components(element).serialize(serializer);
        }
        let mut seq = serializer.serialize_seq(None)?;
        for repetition in element.repetitions() {
            seq.serialize_element(&components(&repetition))?;
        }
        seq.end()
    }
}

struct ErrorJson<'a>(&'a Error);

impl Serialize for ErrorJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let error = self.0;
        let location = &error.location;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("code", error.code())?;
        map.serialize_entry("message", &error.kind.to_string())?;
        map.serialize_entry("offset", &location.offset)?;
        map.serialize_entry("segment_number", &location.segment_number)?;
        map.serialize_entry("segment_tag", &location.segment_tag.map(|t| t.to_string()))?;
        map.serialize_entry("segment_position", &location.segment_position)?;
        map.serialize_entry("element", &location.element)?;
        map.serialize_entry("component", &location.component)?;
        map.end()
    }
}

fn delimiters_json(d: &Delimiters) -> Value {
    let char_of = |b: u8| (b as char).to_string();
    json!({
        "element": char_of(d.element),
        "component": char_of(d.component),
        "repetition": d.repetition.map(char_of),
        "segment": char_of(d.segment),
        "release": d.release.map(char_of),
        "decimal": char_of(d.decimal),
    })
}

fn interchange_json(interchange: &Interchange) -> Value {
    let party = |p: Option<crossdock_parsers::PartyId<'_>>| {
        p.map(|p| json!({"qualifier": p.qualifier, "id": p.id})).unwrap_or(Value::Null)
    };
    json!({
        "standard": interchange.standard().as_str(),
        "offset": interchange.offset(),
        "control_number": interchange.control_number(),
        "sender": party(interchange.sender()),
        "receiver": party(interchange.receiver()),
        "version": interchange.version(),
        "test": interchange.is_test(),
        "service_string_advice": interchange.has_service_string_advice(),
        "delimiters": delimiters_json(interchange.delimiters()),
        "header": interchange.header().map(|h| serde_json::to_value(SegmentJson(&h)).unwrap_or(Value::Null)),
    })
}

fn group_json(group: &Group) -> Value {
    json!({
        "control_number": group.control_number(),
        "functional_id": group.functional_id(),
        "application_sender": group.application_sender(),
        "application_receiver": group.application_receiver(),
        "version": group.version(),
        "header": serde_json::to_value(SegmentJson(&group.header())).unwrap_or(Value::Null),
    })
}
