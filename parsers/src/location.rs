//! Where in the input something is: byte offset, segment, element, component, and the
//! control numbers of the envelopes around it.

use std::fmt;

use crate::segment::Tag;

/// A position in the input, precise enough for a partner manager to find the byte and for
/// an acknowledgment to name the segment and element (AK3/AK4, IK3/IK4, UCS/UCD).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// Byte offset from the start of the input (0-based).
    pub offset: u64,
    /// Segment number in the input (1-based; 0 before the first segment). The UNA service
    /// string advice is not a segment and is not counted.
    pub segment_number: u64,
    /// Tag of the segment, when the error is in one.
    pub segment_tag: Option<Tag>,
    /// Position of the segment in its transaction set / message (the ST or UNH is 1), as
    /// acknowledgments report it.
    pub segment_position: Option<u32>,
    /// Element position (1-based, as in `SE01`).
    pub element: Option<u16>,
    /// Component position within the element (1-based).
    pub component: Option<u16>,
    /// Repetition of the element (1-based).
    pub repetition: Option<u16>,
    /// Control numbers of the envelopes open at this point.
    pub control_numbers: ControlNumbers,
}

/// Control numbers in force: ISA13/UNB 0020, GS06/UNG 0048, ST02/UNH 0062.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControlNumbers {
    pub interchange: Option<String>,
    pub group: Option<String>,
    pub transaction_set: Option<String>,
}

impl Location {
    pub fn at(offset: u64) -> Self {
        Location { offset, ..Location::default() }
    }

    pub fn with_element(mut self, element: u16) -> Self {
        self.element = Some(element);
        self
    }

    pub fn with_component(mut self, component: u16) -> Self {
        self.component = Some(component);
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}", self.offset)?;
        if self.segment_number > 0 {
            write!(f, ", segment {}", self.segment_number)?;
            match (&self.segment_tag, self.segment_position) {
                (Some(tag), Some(position)) => write!(f, " ({tag}, position {position} in its set)")?,
                (Some(tag), None) => write!(f, " ({tag})")?,
                (None, _) => {}
            }
        }
        if let Some(element) = self.element {
            write!(f, ", element {element}")?;
        }
        if let Some(component) = self.component {
            write!(f, ", component {component}")?;
        }
        if let Some(repetition) = self.repetition {
            write!(f, ", repetition {repetition}")?;
        }
        let numbers = &self.control_numbers;
        let mut open = false;
        for (name, value) in [
            ("interchange", &numbers.interchange),
            ("group", &numbers.group),
            ("transaction set", &numbers.transaction_set),
        ] {
            if let Some(value) = value {
                f.write_str(if open { ", " } else { " [" })?;
                write!(f, "{name} {}", value.escape_debug())?;
                open = true;
            }
        }
        if open {
            f.write_str("]")?;
        }
        Ok(())
    }
}
