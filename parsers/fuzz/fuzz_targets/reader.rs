//! The in-memory reader on arbitrary bytes, strict or lenient (first byte picks), walking
//! every element, component and value: nothing may panic.
#![no_main]

use crossdock_parsers::{Event, Limits, ParseOptions, Reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else { return };
    let mut options = if mode & 1 == 1 { ParseOptions::lenient() } else { ParseOptions::default() };
    options.check_charset = mode & 2 == 2;
    if mode & 4 == 4 {
        // Tiny limits, so that every limit is exercised.
        options.limits = Limits {
            segment_bytes_max: 40,
            elements_per_segment_max: 4,
            components_per_element_max: 2,
            repetitions_per_element_max: 2,
            segments_per_transaction_set_max: 5,
            transaction_set_bytes_max: 200,
            interchange_bytes_max: 400,
        };
    }
    let mut reader = Reader::new(input, options);
    while let Some(event) = reader.next() {
        match event {
            Event::InterchangeStart(i) => {
                let _ = (i.control_number(), i.sender(), i.receiver(), i.version(), i.is_test());
            }
            Event::GroupStart(g) => {
                let _ = (g.control_number(), g.functional_id(), g.version());
            }
            Event::TransactionSet(set) => {
                let _ = (set.id(), set.control_number(), set.version());
                for segment in set.segments() {
                    for element in segment.elements() {
                        let _ = element.text();
                        for repetition in element.repetitions() {
                            for component in repetition.components() {
                                let _ = component.text();
                            }
                        }
                    }
                }
                for error in set.errors() {
                    let _ = error.to_string();
                }
            }
            Event::Error(error) => {
                let _ = error.to_string();
            }
            _ => {}
        }
    }
});
