//! Validation of mapped segments against the dictionary: requirement designators, lengths,
//! data types, X12 syntax notes, EDIFACT composites.

use std::borrow::Cow;
use std::sync::atomic::Ordering;

use crossdock_parsers::tree::SmallVec;
use crossdock_parsers::Segment;

use super::dictionary::{EdiKind, EdiSegmentDef, ElementDef, Kind, SegmentDef, SyntaxNote, Usage};
use super::elements::{Elements, MAX_CUT};
use super::error::DataErrorKind;
use super::SetContext;
use crate::canonical::{Date, Decimal, Time};

/// Checks an X12 segment whose element texts are `values`; returns whether it was free of
/// errors, which go to `cx` located at `segment`.
pub(crate) fn x12(
    cx: &mut SetContext<'_>,
    segment: &Segment<'_>,
    position: u32,
    def: &SegmentDef,
    values: &[Cow<'_, str>],
) -> bool {
    let before = cx.errors.len();
    x12_problems(def, values, |p| cx.error(p.kind, segment, position, p.element, p.reference, p.value));
    cx.errors.len() == before
}

/// `x12`'s verdict on a segment of plain text (`Segment::plain_text`), without building its
/// texts: cuts `text` at each `separator` and checks each element as it is cut, by the same
/// rules as `x12_problems`. Gives the elements when the segment has no problem; `None` when
/// it has any, or is too long or too wide to cut in place, and then `x12_problems` says what
/// (the maps' slow path). Nearly every segment a partner sends takes only this pass.
#[cfg(test)]
pub(crate) fn x12_cut<'a>(def: &SegmentDef, text: &'a str, separator: u8) -> Option<Elements<'a>> {
    let mut elements = Elements::new();
    x12_cut_into(def, text, separator, &mut elements).then_some(elements)
}

/// `x12_cut` into `elements`, which the maps keep and fill in place: `Elements` is 176
/// bytes, and copying one out right after its places were written, two bytes at a time,
/// cost more than the copy's size (the reads wait for the writes). Whether the segment
/// passed; when it did not, `elements` holds no meaning.
pub(crate) fn x12_cut_into<'a>(def: &SegmentDef, text: &'a str, separator: u8, elements: &mut Elements<'a>) -> bool {
    let defined = def.elements.len();
    if defined > MAX_CUT || text.len() > usize::from(u16::MAX) {
        return false;
    }
    let mut cut = Cut { def, text, spans: elements.start_cut(text), present: 0, count: 0, start: 0 };
    // The separators, eight bytes at a time: the exact mask has the high bit of each byte
    // equal to `separator` (no borrow runs between bytes, unlike `escape_mask`'s test).
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let repeated = u64::from_le_bytes([separator; 8]);
    let separators = |word: &[u8]| {
        let x = u64::from_le_bytes(word.try_into().unwrap_or_default()) ^ repeated;
        !(((x & LOW7) + LOW7) | x | LOW7)
    };
    let bytes = text.as_bytes();
    let mut words = bytes.chunks_exact(8);
    let mut base = 0;
    for word in &mut words {
        if !cut.ends_in_word(base, separators(word)) {
            return false;
        }
        base += 8;
    }
    let rest = words.remainder().len();
    if rest > 0 && bytes.len() >= 8 {
        // The last eight bytes as one word, of which only the top `rest` are new: cheaper
        // than a byte loop over them (segments are 10-60 bytes, so the tail is a good share).
        base = bytes.len() - 8;
        if !cut.ends_in_word(base, separators(&bytes[base..]) & (u64::MAX << (8 * (8 - rest)))) {
            return false;
        }
    } else {
        for (at, &byte) in words.remainder().iter().enumerate() {
            if byte == separator && !cut.ends_at(base + at) {
                return false;
            }
        }
    }
    // The text's end ends the last element.
    if !cut.ends_at(text.len()) {
        return false;
    }
    let present = cut.present;
    if def.mandatory & !present != 0 {
        return false;
    }
    // `present` has at most `MAX_CUT` bits, so it is never the empty memo's `u64::MAX`.
    if def.notes_held_with.load(Ordering::Relaxed) != present {
        let held = def
            .notes
            .iter()
            .zip(&def.note_elements)
            .all(|(note, &(elements, first))| !broken(note, present & elements, elements, first));
        if !held {
            return false;
        }
        def.notes_held_with.store(present, Ordering::Relaxed);
    }
    let count = cut.count;
    elements.cut_done(count);
    true
}

/// `x12_cut`'s state: where the elements cut so far are, which have a text, and where the
/// next one starts.
struct Cut<'d, 'a, 's> {
    def: &'d SegmentDef,
    text: &'a str,
    spans: &'s mut [(u16, u16); MAX_CUT],
    /// Element 1 in bit 0.
    present: u64,
    /// Elements cut so far.
    count: usize,
    start: usize,
}

impl Cut<'_, '_, '_> {
    /// Elements end at the separators `found` marks (the high bit of each byte) in the word
    /// at `base`: whether each passes.
    #[inline(always)]
    fn ends_in_word(&mut self, base: usize, mut found: u64) -> bool {
        while found != 0 {
            if !self.ends_at(base + (found.trailing_zeros() / 8) as usize) {
                return false;
            }
            found &= found - 1;
        }
        true
    }

    /// The next element ends at `end` (a separator, or the text's end): whether it passes.
    #[inline(always)]
    fn ends_at(&mut self, end: usize) -> bool {
        let (index, start) = (self.count, self.start);
        self.count += 1;
        self.start = end + 1;
        // Both fit: the text is at most `u16::MAX` long.
        if let Some(span) = self.spans.get_mut(index) {
            *span = (start as u16, end as u16);
        }
        let Some(element) = self.def.elements.get(index) else {
            // Past the definition only empty elements are allowed.
            return end == start;
        };
        if end == start {
            return true;
        }
        self.present |= 1 << index;
        // Most elements are codes and names that fit: no type to check, and characters to
        // count only when some could take more than one byte (then `measure` does).
        let bytes = end - start;
        if matches!(element.kind, Kind::Id | Kind::An) && bytes <= usize::from(element.max) {
            if element.min <= 1 {
                return true;
            }
            if bytes >= usize::from(element.min) && self.text.as_bytes().get(start..end).is_some_and(<[u8]>::is_ascii) {
                return true;
            }
        }
        let value = self.text.get(start..end).unwrap_or_default();
        measure(element, value).is_ok_and(|length| (element.min.into()..=element.max.into()).contains(&length))
    }
}

/// One problem of a segment, apart from where the segment stands.
pub(crate) struct Problem<'v> {
    pub kind: DataErrorKind,
    /// Element position (1-based).
    pub element: Option<u16>,
    /// The element's dictionary reference number.
    pub reference: Option<u16>,
    pub value: Option<&'v str>,
}

/// What `x12` checks, each problem handed to `report` in order: the same rules for a segment
/// read from bytes and for a rendered one read back (`check_rendered`). Runs on
/// every mapped segment, so it allocates only when it reports.
pub(crate) fn x12_problems<'v>(def: &SegmentDef, values: &'v [Cow<'_, str>], mut report: impl FnMut(Problem<'v>)) {
    // Elements reported so far: a conditional element already reported is not reported again.
    let reported = std::cell::RefCell::new(Vec::<u16>::new());
    let mut report = |problem: Problem<'v>| {
        reported.borrow_mut().extend(problem.element);
        report(problem);
    };
    let name_of = |i: usize| format!("{}{:02}", def.tag, i);

    if values.len() > def.elements.len() && values[def.elements.len()..].iter().any(|v| !v.is_empty()) {
        let last = values.iter().rposition(|v| !v.is_empty()).unwrap_or(values.len() - 1) + 1;
        let kind = DataErrorKind::TooManyElements { segment: def.tag.to_owned(), max: def.elements.len(), found: last };
        report(Problem { kind, element: Some(last as u16), reference: None, value: None });
    }
    // Which elements have a text, as bits (element 1 in bit 0; definitions stay within 64).
    let present_bits =
        values.iter().take(64).enumerate().fold(0u64, |bits, (i, v)| bits | u64::from(!v.is_empty()) << i);
    let defined = u64::MAX >> (64 - def.elements.len().clamp(1, 64));
    // Only elements with a text or a mandatory one have anything to check, in position order:
    // most segments use a few of the elements their definition has (PO1 12 of 25).
    let mut to_check = (present_bits | def.mandatory) & defined;
    while to_check != 0 {
        let i = to_check.trailing_zeros() as usize;
        to_check &= to_check - 1;
        let Some(element) = def.elements.get(i) else { break };
        let value = values.get(i).map_or("", |v| v.as_ref());
        let position_in_segment = i + 1;
        if value.is_empty() {
            if element.usage == Usage::Mandatory {
                let kind = DataErrorKind::MandatoryElementMissing {
                    element: name_of(position_in_segment),
                    name: element.name,
                };
                let (element, reference) = (Some(position_in_segment as u16), Some(element.reference));
                report(Problem { kind, element, reference, value: None });
            }
            continue;
        }
        let length = match measure(element, value) {
            Ok(length) => length,
            Err(expected) => {
                let element_name = name_of(position_in_segment);
                let kind = match expected {
                    "date" => DataErrorKind::InvalidDate {
                        element: element_name,
                        name: element.name,
                        value: value.to_owned(),
                    },
                    "time" => DataErrorKind::InvalidTime {
                        element: element_name,
                        name: element.name,
                        value: value.to_owned(),
                    },
                    expected => DataErrorKind::InvalidCharacters {
                        element: element_name,
                        name: element.name,
                        expected,
                        value: value.to_owned(),
                    },
                };
                let (element, reference) = (Some(position_in_segment as u16), Some(element.reference));
                report(Problem { kind, element, reference, value: Some(value) });
                continue;
            }
        };
        if length < usize::from(element.min) {
            let kind = DataErrorKind::TooShort {
                element: name_of(position_in_segment),
                name: element.name,
                min: element.min.into(),
                found: length,
            };
            let (element, reference) = (Some(position_in_segment as u16), Some(element.reference));
            report(Problem { kind, element, reference, value: Some(value) });
        } else if length > usize::from(element.max) {
            let kind = DataErrorKind::TooLong {
                element: name_of(position_in_segment),
                name: element.name,
                max: element.max.into(),
                found: length,
            };
            let (element, reference) = (Some(position_in_segment as u16), Some(element.reference));
            report(Problem { kind, element, reference, value: Some(value) });
        }
    }
    for (note, &(elements, first)) in def.notes.iter().zip(&def.note_elements) {
        // The note's test on the bits; only a broken note is looked at element by element.
        let used = present_bits & elements;
        if !broken(note, used, elements, first) {
            continue;
        }
        // Which of the note's elements (positions from 1, checked when the definition was
        // built) have a text.
        let has = |i: u8| used & 1 << (i - 1) != 0;
        let missing: Vec<u8> = match note {
            SyntaxNote::Paired(list) => list.iter().copied().filter(|&i| !has(i)).collect(),
            SyntaxNote::Required(list) => list.first().copied().into_iter().collect(),
            SyntaxNote::Conditional(list) => list.iter().skip(1).copied().filter(|&i| !has(i)).collect(),
            SyntaxNote::ListConditional(list) => list.get(1).copied().into_iter().collect(),
            SyntaxNote::Exclusion(list) => {
                let mut used = list.iter().copied().filter(|&i| has(i));
                if let (Some(first), Some(second)) = (used.next(), used.next()) {
                    let element = &def.elements[usize::from(second) - 1];
                    let kind = DataErrorKind::ExclusionViolated {
                        element: name_of(second.into()),
                        name: element.name,
                        other: name_of(first.into()),
                        note: note.label(),
                    };
                    report(Problem {
                        kind,
                        element: Some(second.into()),
                        reference: Some(element.reference),
                        value: None,
                    });
                }
                continue;
            }
        };
        for i in missing {
            // An element already reported as mandatory-missing is not reported again.
            let element = &def.elements[usize::from(i) - 1];
            if reported.borrow().contains(&u16::from(i)) {
                continue;
            }
            let kind = DataErrorKind::ConditionalElementMissing {
                element: name_of(i.into()),
                name: element.name,
                note: note.label(),
                rule: describe(note, def.tag),
            };
            report(Problem { kind, element: Some(i.into()), reference: Some(element.reference), value: None });
        }
    }
}

/// The length X12 counts for a non-empty value of `element` (characters, or digits for
/// numbers), or what the value should have been when it is not of the element's type.
fn measure(element: &ElementDef, value: &str) -> Result<usize, &'static str> {
    match element.kind {
        // Characters never outnumber bytes: a value within the maximum in bytes needs no
        // count when it is ASCII, or when any non-empty value meets the minimum.
        Kind::Id | Kind::An if value.len() <= usize::from(element.max) && (element.min <= 1 || value.is_ascii()) => {
            Ok(value.len())
        }
        Kind::Id | Kind::An => Ok(value.chars().count()),
        Kind::N(_) => whole_number_digits(value).ok_or("a whole number"),
        Kind::R => decimal_digits(value).ok_or("a decimal number"),
        // CCYYMMDD, or YYMMDD as versions before 004 write it, naming a real day.
        Kind::Dt => Date::is_edi(value).then_some(value.len()).ok_or("date"),
        Kind::Tm => valid_time(value).then_some(value.len()).ok_or("time"),
    }
}

/// Whether a note is broken, given which of its `elements` are `used` (bits, as
/// `SegmentDef::note_elements` has them with the note's `first` element).
fn broken(note: &SyntaxNote, used: u64, elements: u64, first: u64) -> bool {
    match note {
        SyntaxNote::Paired(_) => used != 0 && used != elements,
        SyntaxNote::Required(_) => used == 0,
        SyntaxNote::Conditional(_) => used & first != 0 && used != elements,
        SyntaxNote::ListConditional(_) => used & first != 0 && used == first,
        SyntaxNote::Exclusion(_) => used.count_ones() >= 2,
    }
}

/// Digits of an X12 N value (`-12`), or `None` when it is not one.
fn whole_number_digits(value: &str) -> Option<usize> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits.len())
}

/// Digits of an X12 R value (`-12.50`, `.5`), or `None` when it is not one.
fn decimal_digits(value: &str) -> Option<usize> {
    let body = value.strip_prefix('-').unwrap_or(value);
    let mut digits = 0;
    let mut points = 0;
    for b in body.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => points += 1,
            _ => return None,
        }
    }
    (digits > 0 && points <= 1).then_some(digits)
}

/// HHMM, HHMMSS, HHMMSSd or HHMMSSdd.
fn valid_time(value: &str) -> bool {
    (4..=8).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_digit())
        && Time::is_edi(&value[..if value.len() >= 6 { 6 } else { 4 }])
}

fn describe(note: &SyntaxNote, tag: &str) -> String {
    let names = |list: &[u8]| list.iter().map(|i| format!("{tag}{i:02}")).collect::<Vec<_>>().join(", ");
    match note {
        SyntaxNote::Paired(list) => format!("{} are used together or not at all", names(list)),
        SyntaxNote::Required(list) => format!("at least one of {} is required", names(list)),
        SyntaxNote::Exclusion(list) => format!("only one of {} may be used", names(list)),
        SyntaxNote::Conditional(list) => {
            format!("when {} is used, {} is required", names(&list[..1]), names(&list[1..]))
        }
        SyntaxNote::ListConditional(list) => {
            format!("when {} is used, one of {} is required", names(&list[..1]), names(&list[1..]))
        }
    }
}

/// Checks an EDIFACT segment; returns whether it was free of errors.
pub(crate) fn edifact(cx: &mut SetContext<'_>, segment: &Segment<'_>, position: u32, def: &EdiSegmentDef) -> bool {
    let before = cx.errors.len();
    // On the stack: this runs for every segment, and EDIFACT segments are short.
    let elements: SmallVec<[_; 16]> = segment.elements().collect();
    let decimal_mark = cx.decimal_mark;
    edifact_problems(def, &elements, decimal_mark, &mut |p| {
        cx.error_at(p.kind, segment, position, Some(p.element), p.component, p.value);
    });
    cx.errors.len() == before
}

/// An element as the EDIFACT rules see it: one read from a segment's bytes, or one of a
/// rendered tree (`edifact_body_verdict`), which must read as the same texts once written.
pub(crate) trait EdifactElement {
    /// Whether the element is written as nothing.
    fn is_absent(&self) -> bool;
    /// Calls `each` with the texts of each repetition's components.
    fn each_repetition(&self, each: &mut dyn FnMut(&[Cow<'_, str>]));
}

impl EdifactElement for crossdock_parsers::Element<'_> {
    fn is_absent(&self) -> bool {
        self.is_empty()
    }

    fn each_repetition(&self, each: &mut dyn FnMut(&[Cow<'_, str>])) {
        for repetition in self.repetitions() {
            let components: SmallVec<[_; 8]> = repetition.components().map(|c| c.text()).collect();
            each(&components);
        }
    }
}

impl EdifactElement for crossdock_parsers::tree::Element {
    fn is_absent(&self) -> bool {
        // What the writer writes as nothing: one empty value, or no value at all.
        match self.0.as_slice() {
            [] => true,
            [components] => components.len() <= 1 && components.iter().all(String::is_empty),
            _ => false,
        }
    }

    fn each_repetition(&self, each: &mut dyn FnMut(&[Cow<'_, str>])) {
        for repetition in &self.0 {
            let components: SmallVec<[_; 8]> = repetition.iter().map(|c| Cow::Borrowed(c.as_str())).collect();
            each(&components);
        }
    }
}

/// One problem of an EDIFACT segment, apart from where the segment stands.
pub(crate) struct EdifactProblem<'v> {
    pub kind: DataErrorKind,
    /// Element position (1-based).
    pub element: u16,
    /// Component position, for an element of several components.
    pub component: Option<u16>,
    pub value: Option<&'v str>,
}

/// What `edifact` checks, each problem handed to `report` in order: the same rules for a
/// segment read from bytes and for a rendered one judged from its tree.
pub(crate) fn edifact_problems<E: EdifactElement>(
    def: &EdiSegmentDef,
    elements: &[E],
    decimal_mark: u8,
    report: &mut dyn FnMut(EdifactProblem<'_>),
) {
    if elements.len() > def.elements.len() && elements[def.elements.len()..].iter().any(|e| !e.is_absent()) {
        let kind = DataErrorKind::TooManyElements {
            segment: def.tag.to_owned(),
            max: def.elements.len(),
            found: elements.len(),
        };
        report(EdifactProblem { kind, element: def.elements.len() as u16 + 1, component: None, value: None });
    }
    for (i, element_def) in def.elements.iter().enumerate() {
        let position_in_segment = (i + 1) as u16;
        let element = elements.get(i);
        if element.is_none_or(|e| e.is_absent()) {
            if element_def.mandatory {
                let kind = DataErrorKind::MandatoryElementMissing {
                    element: format!("{} {}", def.tag, element_def.code),
                    name: element_def.components.first().map(|c| c.name).unwrap_or(""),
                };
                report(EdifactProblem { kind, element: position_in_segment, component: None, value: None });
            }
            continue;
        }
        let Some(element) = element else { continue };
        element.each_repetition(&mut |components| {
            if components.len() > element_def.components.len()
                && components[element_def.components.len()..].iter().any(|c| !c.is_empty())
            {
                let kind = DataErrorKind::TooManyElements {
                    segment: format!("{} {}", def.tag, element_def.code),
                    max: element_def.components.len(),
                    found: components.len(),
                };
                report(EdifactProblem { kind, element: position_in_segment, component: None, value: None });
            }
            for (j, component_def) in element_def.components.iter().enumerate() {
                let value = components.get(j).map(|c| c.as_ref()).unwrap_or_default();
                // Named only when reported: this runs for every component of every segment.
                let label = || format!("{} {}", def.tag, component_def.code);
                let component = (element_def.components.len() > 1).then_some((j + 1) as u16);
                let problem = |kind, value| EdifactProblem { kind, element: position_in_segment, component, value };
                if value.is_empty() {
                    if component_def.mandatory {
                        let kind =
                            DataErrorKind::MandatoryElementMissing { element: label(), name: component_def.name };
                        report(problem(kind, None));
                    }
                    continue;
                }
                if component_def.kind == EdiKind::N && Decimal::parse_edi(value, decimal_mark).is_none() {
                    let kind = DataErrorKind::InvalidCharacters {
                        element: label(),
                        name: component_def.name,
                        expected: "a number",
                        value: value.to_owned(),
                    };
                    report(problem(kind, Some(value)));
                    continue;
                }
                let length = if component_def.kind == EdiKind::N {
                    value.bytes().filter(u8::is_ascii_digit).count()
                } else {
                    value.chars().count()
                };
                if length > usize::from(component_def.max) {
                    let kind = DataErrorKind::TooLong {
                        element: label(),
                        name: component_def.name,
                        max: component_def.max.into(),
                        found: length,
                    };
                    report(problem(kind, Some(value)));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::translate::dictionary::{self, ElementDef};

    const A: ElementDef =
        ElementDef { reference: 1, name: "a", kind: Kind::An, min: 1, max: 9, usage: Usage::Optional };
    /// The notes no segment the maps read has, on a made-up segment.
    static OTHER_NOTES: SegmentDef = SegmentDef::new(
        "ZZZ",
        "test",
        &[A, A, A, A, ElementDef { usage: Usage::Mandatory, ..A }, A],
        &[SyntaxNote::Exclusion(&[1, 2, 3]), SyntaxNote::ListConditional(&[4, 2, 6]), SyntaxNote::Required(&[3, 6])],
    );

    fn definitions() -> Vec<&'static SegmentDef> {
        let tags = [
            "BEG", "CUR", "REF", "PER", "DTM", "N1", "N2", "N3", "N4", "PO1", "PID", "PO4", "CTT", "AMT", "MSG", "NTE",
            "BAK", "ACK", "BSN", "HL", "TD1", "TD5", "MAN", "LIN", "SN1", "PRF",
        ];
        let mut defs: Vec<_> = tags.iter().map(|t| dictionary::x12_segment(t).expect("a mapped segment")).collect();
        defs.push(&OTHER_NOTES);
        defs
    }

    /// A value the element's type and length accept.
    fn valid(element: &ElementDef) -> String {
        let length = usize::from(element.min.max(1));
        match element.kind {
            Kind::Id | Kind::An => "A".repeat(length),
            Kind::N(_) | Kind::R => "1".repeat(length),
            Kind::Dt => "20260101".to_owned(),
            Kind::Tm => "1200".to_owned(),
        }
    }

    /// What the standards say, element by element: mandatory elements first, then each
    /// note in turn, an element reported once.
    fn expected(def: &SegmentDef, present: &[bool]) -> Vec<(&'static str, u16)> {
        let has = |i: u8| present.get(usize::from(i) - 1).copied().unwrap_or(false);
        let mut problems: Vec<(&'static str, u16)> = Vec::new();
        for (i, element) in def.elements.iter().enumerate() {
            if element.usage == Usage::Mandatory && !has(i as u8 + 1) {
                problems.push(("mandatory", i as u16 + 1));
            }
        }
        for note in def.notes {
            let list = note.positions();
            let (first, rest) = (list[0], &list[1..]);
            let missing: Vec<u8> = match note {
                SyntaxNote::Paired(_) if list.iter().any(|&i| has(i)) => {
                    list.iter().copied().filter(|&i| !has(i)).collect()
                }
                SyntaxNote::Required(_) if !list.iter().any(|&i| has(i)) => vec![first],
                SyntaxNote::Conditional(_) if has(first) => rest.iter().copied().filter(|&i| !has(i)).collect(),
                SyntaxNote::ListConditional(_) if has(first) && !rest.iter().any(|&i| has(i)) => vec![rest[0]],
                SyntaxNote::Exclusion(_) => {
                    if let Some(&second) = list.iter().filter(|&&i| has(i)).nth(1) {
                        problems.push(("exclusion", second.into()));
                    }
                    continue;
                }
                _ => continue,
            };
            for i in missing {
                if !problems.iter().any(|&(_, e)| e == u16::from(i)) {
                    problems.push(("conditional", i.into()));
                }
            }
        }
        problems
    }

    /// A value for `element` of the kind `pick` names: valid, absent, or wrong in one way.
    fn value_of(element: &ElementDef, pick: u8) -> String {
        match pick {
            0 => valid(element),
            2 => String::new(),
            3 => "A".repeat(usize::from(element.max) + 1),
            4 => "1".repeat(usize::from(element.min.saturating_sub(1))),
            5 => "X-".to_owned(),
            6 => "é".repeat(usize::from(element.min.max(1))),
            7 => "20261340".to_owned(),
            _ => "1.2.3".to_owned(),
        }
    }

    proptest! {
        /// The fast path's verdict is `x12_problems`' (no problem at all), and its elements
        /// are the texts `Segment::element_texts` cuts, whatever the segment holds: valid and
        /// absent elements, each kind of wrong value, trailing elements past the definition.
        /// Each case runs twice and the cases share the notes' memo, as segments do.
        #[test]
        fn the_fast_path_passes_exactly_what_reports_no_problem(
            which in 0usize..27,
            // All elements present keeps every note but an exclusion: a wrong value then
            // decides alone.
            bits in prop_oneof![Just(u64::MAX), any::<u64>()],
            wrong in proptest::option::of((0usize..32, 3u8..9)),
            extra in proptest::collection::vec(prop_oneof![3 => Just(""), 1 => Just("Z")], 0..3),
        ) {
            let defs = definitions();
            let def = defs[which % defs.len()];
            // Valid or absent elements (which decides the notes), one maybe wrong.
            let mut values: Vec<String> = def
                .elements
                .iter()
                .enumerate()
                .map(|(i, element)| value_of(element, if bits >> i & 1 == 1 { 0 } else { 2 }))
                .collect();
            if let Some((at, pick)) = wrong {
                let at = at % values.len();
                values[at] = value_of(&def.elements[at], pick);
            }
            values.extend(extra.iter().map(|e| e.to_string()));
            let text = values.join("*");
            let texts: Vec<Cow<'_, str>> = text.split('*').map(Cow::Borrowed).collect();
            let mut passes = true;
            x12_problems(def, &texts, |_| passes = false);
            let expected: Vec<&str> = texts.iter().map(|t| t.as_ref()).collect();
            for _ in 0..2 {
                let cut = x12_cut(def, &text, b'*');
                prop_assert_eq!(cut.is_some(), passes, "{} {:?}", def.tag, text);
                if let Some(cut) = cut {
                    prop_assert_eq!(cut.iter().collect::<Vec<_>>(), expected.clone());
                }
            }
            // Into elements that held the widest segment before (every place set), or
            // decoded texts.
            let widest = *defs.iter().max_by_key(|d| d.elements.len()).unwrap();
            let wide: Vec<String> = widest.elements.iter().map(|element| value_of(element, 0)).collect();
            let wide = wide.join("*");
            let mut reused = Elements::new();
            prop_assert!(x12_cut_into(widest, &wide, b'*', &mut reused), "{}", wide);
            prop_assert_eq!(x12_cut_into(def, &text, b'*', &mut reused), passes);
            if passes {
                prop_assert_eq!(reused.iter().collect::<Vec<_>>(), expected.clone());
            }
            let mut reused = Elements::decoded(vec![Cow::Borrowed("DECODED"); 3]);
            prop_assert_eq!(x12_cut_into(def, &text, b'*', &mut reused), passes);
            if passes {
                prop_assert_eq!(reused.iter().collect::<Vec<_>>(), expected);
            }
        }

        /// The bit tests choose the same elements and notes to report as the rules read
        /// element by element, for every definition, in the same order.
        #[test]
        fn reports_what_the_rules_say_whichever_elements_are_present(
            which in 0usize..27, bits in any::<u64>(), cut in 0usize..70
        ) {
            let defs = definitions();
            let def = defs[which % defs.len()];
            let present: Vec<bool> = (0..def.elements.len()).map(|i| bits >> i & 1 == 1).collect();
            // Trailing absent elements are sometimes left out altogether.
            let mut values: Vec<Cow<'_, str>> = def
                .elements
                .iter()
                .zip(&present)
                .map(|(element, &on)| Cow::Owned(if on { valid(element) } else { String::new() }))
                .collect();
            let last = present.iter().rposition(|&p| p).map_or(0, |i| i + 1);
            values.truncate(last.max(cut.min(values.len())));
            let mut reported = Vec::new();
            x12_problems(def, &values, |p| {
                let label = match p.kind {
                    DataErrorKind::MandatoryElementMissing { .. } => "mandatory",
                    DataErrorKind::ConditionalElementMissing { .. } => "conditional",
                    DataErrorKind::ExclusionViolated { .. } => "exclusion",
                    ref other => panic!("{other:?} for a valid value"),
                };
                reported.push((label, p.element.unwrap_or_default()));
            });
            prop_assert_eq!(reported, expected(def, &present), "{} with {:?}", def.tag, values);
        }
    }
}
