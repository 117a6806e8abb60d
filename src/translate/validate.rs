//! Validation of mapped segments against the dictionary: requirement designators, lengths,
//! data types, X12 syntax notes, EDIFACT composites.

use crossdock_parsers::Segment;

use super::dictionary::{EdiKind, EdiSegmentDef, Kind, SegmentDef, SyntaxNote, Usage};
use super::error::DataErrorKind;
use super::SetContext;
use crate::canonical::{Date, Decimal, Time};

/// Checks an X12 segment; returns whether it was free of errors.
pub(crate) fn x12(cx: &mut SetContext<'_>, segment: &Segment<'_>, position: u32, def: &SegmentDef) -> bool {
    let before = cx.errors.len();
    let values: Vec<_> = segment.elements().map(|e| e.text()).collect();
    let present = |i: u8| values.get(usize::from(i) - 1).is_some_and(|v| !v.is_empty());
    let name_of = |i: usize| format!("{}{:02}", def.tag, i);

    if values.len() > def.elements.len() && values[def.elements.len()..].iter().any(|v| !v.is_empty()) {
        let last = values.iter().rposition(|v| !v.is_empty()).unwrap_or(values.len() - 1) + 1;
        let kind = DataErrorKind::TooManyElements { segment: def.tag.to_owned(), max: def.elements.len(), found: last };
        cx.error(kind, segment, position, Some(last as u16), None, None);
    }
    for (i, element) in def.elements.iter().enumerate() {
        let position_in_segment = i + 1;
        let value = values.get(i).map(|v| v.as_ref()).unwrap_or("");
        let element_name = name_of(position_in_segment);
        if value.is_empty() {
            if element.usage == Usage::Mandatory {
                let kind = DataErrorKind::MandatoryElementMissing { element: element_name, name: element.name };
                cx.error(kind, segment, position, Some(position_in_segment as u16), Some(element.reference), None);
            }
            continue;
        }
        let chars = value.chars().count();
        let (length, kind) = match element.kind {
            Kind::Id | Kind::An => (chars, None),
            Kind::N(_) => {
                let digits = value.strip_prefix('-').unwrap_or(value);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    (
                        chars,
                        Some(DataErrorKind::InvalidCharacters {
                            element: element_name.clone(),
                            name: element.name,
                            expected: "a whole number",
                            value: value.to_owned(),
                        }),
                    )
                } else {
                    (digits.len(), None)
                }
            }
            Kind::R => match Decimal::parse_edi(value, b'.') {
                Some(_) => (value.bytes().filter(u8::is_ascii_digit).count(), None),
                None => (
                    chars,
                    Some(DataErrorKind::InvalidCharacters {
                        element: element_name.clone(),
                        name: element.name,
                        expected: "a decimal number",
                        value: value.to_owned(),
                    }),
                ),
            },
            Kind::Dt => match Date::from_edi(value) {
                Some(_) => (chars, None),
                None => (
                    chars,
                    Some(DataErrorKind::InvalidDate {
                        element: element_name.clone(),
                        name: element.name,
                        value: value.to_owned(),
                    }),
                ),
            },
            Kind::Tm => {
                let valid = value.len() >= 4
                    && value.len() <= 8
                    && value.bytes().all(|b| b.is_ascii_digit())
                    && Time::from_edi(&value[..if value.len() >= 6 { 6 } else { 4 }]).is_some();
                (
                    chars,
                    (!valid).then(|| DataErrorKind::InvalidTime {
                        element: element_name.clone(),
                        name: element.name,
                        value: value.to_owned(),
                    }),
                )
            }
        };
        if let Some(kind) = kind {
            cx.error(kind, segment, position, Some(position_in_segment as u16), Some(element.reference), Some(value));
            continue;
        }
        if length < usize::from(element.min) {
            let kind = DataErrorKind::TooShort {
                element: element_name,
                name: element.name,
                min: element.min.into(),
                found: length,
            };
            cx.error(kind, segment, position, Some(position_in_segment as u16), Some(element.reference), Some(value));
        } else if length > usize::from(element.max) {
            let kind = DataErrorKind::TooLong {
                element: element_name,
                name: element.name,
                max: element.max.into(),
                found: length,
            };
            cx.error(kind, segment, position, Some(position_in_segment as u16), Some(element.reference), Some(value));
        }
    }
    for note in def.notes {
        let missing: Vec<u8> = match note {
            SyntaxNote::Paired(list) if list.iter().any(|&i| present(i)) => {
                list.iter().copied().filter(|&i| !present(i)).collect()
            }
            SyntaxNote::Required(list) if !list.iter().any(|&i| present(i)) => {
                list.first().copied().into_iter().collect()
            }
            SyntaxNote::Conditional(list) if list.first().is_some_and(|&i| present(i)) => {
                list.iter().skip(1).copied().filter(|&i| !present(i)).collect()
            }
            SyntaxNote::ListConditional(list)
                if list.first().is_some_and(|&i| present(i)) && !list.iter().skip(1).any(|&i| present(i)) =>
            {
                list.get(1).copied().into_iter().collect()
            }
            SyntaxNote::Exclusion(list) => {
                let used: Vec<u8> = list.iter().copied().filter(|&i| present(i)).collect();
                if used.len() > 1 {
                    let (first, second) = (used[0], used[1]);
                    let element = &def.elements[usize::from(second) - 1];
                    let kind = DataErrorKind::ExclusionViolated {
                        element: name_of(second.into()),
                        name: element.name,
                        other: name_of(first.into()),
                        note: note.label(),
                    };
                    cx.error(kind, segment, position, Some(second.into()), Some(element.reference), None);
                }
                Vec::new()
            }
            _ => Vec::new(),
        };
        for i in missing {
            // An element already reported as mandatory-missing is not reported again.
            let element = &def.elements[usize::from(i) - 1];
            let already = cx.errors[before..].iter().any(|e| e.location.element == Some(i.into()));
            if already {
                continue;
            }
            let kind = DataErrorKind::ConditionalElementMissing {
                element: name_of(i.into()),
                name: element.name,
                note: note.label(),
                rule: describe(note, def.tag),
            };
            cx.error(kind, segment, position, Some(i.into()), Some(element.reference), None);
        }
    }
    cx.errors.len() == before
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
    let elements: Vec<_> = segment.elements().collect();
    if elements.len() > def.elements.len() && elements[def.elements.len()..].iter().any(|e| !e.is_empty()) {
        let kind = DataErrorKind::TooManyElements {
            segment: def.tag.to_owned(),
            max: def.elements.len(),
            found: elements.len(),
        };
        cx.error(kind, segment, position, Some(def.elements.len() as u16 + 1), None, None);
    }
    for (i, element_def) in def.elements.iter().enumerate() {
        let position_in_segment = (i + 1) as u16;
        let element = elements.get(i);
        let absent = element.is_none_or(|e| e.is_empty());
        if absent {
            if element_def.mandatory {
                let kind = DataErrorKind::MandatoryElementMissing {
                    element: format!("{} {}", def.tag, element_def.code),
                    name: element_def.components.first().map(|c| c.name).unwrap_or(""),
                };
                cx.error(kind, segment, position, Some(position_in_segment), None, None);
            }
            continue;
        }
        let Some(element) = element else { continue };
        for repetition in element.repetitions() {
            let components: Vec<_> = repetition.components().collect();
            if components.len() > element_def.components.len()
                && components[element_def.components.len()..].iter().any(|c| !c.is_empty())
            {
                let kind = DataErrorKind::TooManyElements {
                    segment: format!("{} {}", def.tag, element_def.code),
                    max: element_def.components.len(),
                    found: components.len(),
                };
                cx.error(kind, segment, position, Some(position_in_segment), None, None);
            }
            for (j, component_def) in element_def.components.iter().enumerate() {
                let value = components.get(j).map(|c| c.text()).unwrap_or_default();
                let label = format!("{} {}", def.tag, component_def.code);
                let mut location_component = Some((j + 1) as u16);
                if element_def.components.len() == 1 {
                    location_component = None;
                }
                if value.is_empty() {
                    if component_def.mandatory {
                        let kind = DataErrorKind::MandatoryElementMissing { element: label, name: component_def.name };
                        cx.error_at(kind, segment, position, Some(position_in_segment), location_component, None);
                    }
                    continue;
                }
                if component_def.kind == EdiKind::N && Decimal::parse_edi(&value, cx.decimal_mark).is_none() {
                    let kind = DataErrorKind::InvalidCharacters {
                        element: label,
                        name: component_def.name,
                        expected: "a number",
                        value: value.clone().into_owned(),
                    };
                    cx.error_at(kind, segment, position, Some(position_in_segment), location_component, Some(&value));
                    continue;
                }
                let length = if component_def.kind == EdiKind::N {
                    value.bytes().filter(u8::is_ascii_digit).count()
                } else {
                    value.chars().count()
                };
                if length > usize::from(component_def.max) {
                    let kind = DataErrorKind::TooLong {
                        element: label,
                        name: component_def.name,
                        max: component_def.max.into(),
                        found: length,
                    };
                    cx.error_at(kind, segment, position, Some(position_in_segment), location_component, Some(&value));
                }
            }
        }
    }
    cx.errors.len() == before
}
