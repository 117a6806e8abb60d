//! Envelope rules and limits, one scenario per test, each on a small hand-written input.

use crossdock_parsers::{Event, Limits, ParseOptions, Reader, Standard, StreamReader};

const ISA: &str =
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*^*00501*000000001*0*P*>~";

/// Errors of a parse as `kind@offset:tag:element`, and the transaction set ids.
fn run(input: &[u8], options: ParseOptions) -> (Vec<String>, Vec<String>) {
    let mut errors = Vec::new();
    let mut sets = Vec::new();
    let mut reader = Reader::new(input, options);
    let mut push = |list: &[crossdock_parsers::Error]| {
        for e in list {
            let tag = e.location.segment_tag.map(|t| t.to_string()).unwrap_or_default();
            let element = e.location.element.map(|e| e.to_string()).unwrap_or_default();
            errors.push(format!("{}@{}:{}:{}", e.code(), e.location.offset, tag, element));
        }
    };
    while let Some(event) = reader.next() {
        match event {
            Event::TransactionSet(set) => {
                push(set.errors());
                sets.push(format!("{}/{}", set.id(), set.control_number()));
            }
            Event::GroupEnd(end) => push(end.errors),
            Event::InterchangeEnd(end) => push(end.errors),
            Event::Error(error) => push(std::slice::from_ref(error)),
            _ => {}
        }
    }
    (errors, sets)
}

fn x12(body: &str) -> String {
    format!("{ISA}GS*PO*S*R*20260101*1200*1*X*005010~{body}")
}

#[test]
fn clean_x12_interchange() {
    let input = x12("ST*850*0001~BEG*00*SA*1**20260101~SE*3*0001~GE*1*1~IEA*1*000000001~");
    assert_eq!(run(input.as_bytes(), ParseOptions::default()), (vec![], vec!["850/0001".to_owned()]));
}

#[test]
fn missing_se_is_reported_when_the_next_st_arrives() {
    let input = x12("ST*850*0001~BEG*00~ST*850*0002~SE*2*0002~GE*2*1~IEA*1*000000001~");
    let (errors, sets) = run(input.as_bytes(), ParseOptions::default());
    assert_eq!(sets, ["850/0001", "850/0002"]);
    assert_eq!(errors, ["missing_trailer@160:ST:"]);
}

#[test]
fn missing_ge_and_iea_at_end_of_input() {
    let input = x12("ST*850*0001~SE*2*0001~");
    let (errors, _) = run(input.as_bytes(), ParseOptions::default());
    assert_eq!(errors, ["missing_trailer@163::", "missing_trailer@163::"]);
}

#[test]
fn segments_outside_envelopes() {
    let input = x12("BEG*00~ST*850*0001~SE*2*0001~GE*1*1~REF*DP*1~IEA*1*000000001~");
    let (errors, sets) = run(input.as_bytes(), ParseOptions::default());
    assert_eq!(sets, ["850/0001"]);
    assert_eq!(errors, ["unexpected_segment@141:BEG:", "unexpected_segment@177:REF:"]);
}

#[test]
fn transaction_set_outside_a_group_is_kept_and_flagged() {
    let input = format!("{ISA}ST*850*0001~SE*2*0001~IEA*0*000000001~");
    let (errors, sets) = run(input.as_bytes(), ParseOptions::default());
    assert_eq!(sets, ["850/0001"]);
    assert_eq!(errors, ["unexpected_segment@106:ST:"]);
}

#[test]
fn several_interchanges_with_their_own_delimiters() {
    let first = x12("ST*850*0001~SE*2*0001~GE*1*1~IEA*1*000000001~\r\n");
    let second = "ISA|00|          |00|          |ZZ|SENDER         |ZZ|RECEIVER       |260101|1200|!|00501|000000002|0|P|:\n\
                  GS|PO|S|R|20260101|1200|9|X|005010\nST|855|0007\nBAK|00|AD|PO:1\nSE|3|0007\nGE|1|9\nIEA|1|000000002\n";
    let edifact = "UNA:+.? 'UNB+UNOC:3+S:14+R:14+260101:1200+REF1'UNH+1+ORDERS:D:96A:UN'UNT+2+1'UNZ+1+REF1'";
    let input = format!("{first}{second}{edifact}");
    let mut reader = Reader::new(input.as_bytes(), ParseOptions::default());
    let mut seen = Vec::new();
    while let Some(event) = reader.next() {
        if let Event::TransactionSet(set) = event {
            assert!(set.is_valid(), "{:?}", set.errors());
            let d = set.interchange().delimiters();
            seen.push((set.interchange().standard(), set.id().into_owned(), d.element, d.segment));
        }
    }
    assert_eq!(
        seen,
        [
            (Standard::X12, "850".to_owned(), b'*', b'~'),
            (Standard::X12, "855".to_owned(), b'|', b'\n'),
            (Standard::Edifact, "ORDERS".to_owned(), b'+', b'\''),
        ]
    );
}

#[test]
fn unusual_delimiters() {
    // NAK (0x15) as terminator, '|' as element separator, '!' as repetition separator.
    let input = "ISA|00|          |00|          |ZZ|SENDER         |ZZ|RECEIVER       |260101|1200|!|00501|000000003|0|P|^\x15\r\n\
                 GS|PO|S|R|20260101|1200|1|X|005010\x15\r\nST|850|0001\x15\r\nREF|ZZ|A!B^C\x15\r\nSE|3|0001\x15\r\nGE|1|1\x15\r\nIEA|1|000000003\x15";
    let mut reader = Reader::new(input.as_bytes(), ParseOptions::default());
    let mut checked = false;
    while let Some(event) = reader.next() {
        if let Event::TransactionSet(set) = event {
            assert!(set.is_valid(), "{:?}", set.errors());
            let reference = set.body().next().unwrap();
            let element = reference.element(2).unwrap();
            let repetitions: Vec<Vec<String>> =
                element.repetitions().map(|r| r.components().map(|c| c.text().into_owned()).collect()).collect();
            assert_eq!(repetitions, [vec!["A"], vec!["B", "C"]]);
            checked = true;
        }
    }
    assert!(checked);
}

#[test]
fn not_edi_and_empty_input() {
    let (errors, _) = run(b"<?xml version=\"1.0\"?><order/>", ParseOptions::default());
    assert_eq!(errors, ["not_edi@0::"]);
    let (errors, _) = run(b"", ParseOptions::default());
    assert_eq!(errors, ["not_edi@0::"]);
    let (errors, _) = run(b"ISA*00", ParseOptions::default());
    assert_eq!(errors, ["isa_incomplete@0::"]);
}

#[test]
fn trailing_garbage_after_an_interchange() {
    let input = x12("ST*850*0001~SE*2*0001~GE*1*1~IEA*1*000000001~\x00\x00\n") + "\u{1}\u{2}binary junk";
    let (errors, sets) = run(input.as_bytes(), ParseOptions::default());
    assert_eq!(sets.len(), 1);
    assert_eq!(errors, ["trailing_data@189::"]);
}

#[test]
fn byte_order_mark_is_skipped() {
    let input = format!("\u{feff}{}", x12("ST*850*0001~SE*2*0001~GE*1*1~IEA*1*000000001~"));
    assert_eq!(run(input.as_bytes(), ParseOptions::default()).0, Vec::<String>::new());
}

#[test]
fn conflicting_delimiters_stop_the_parse() {
    let input = ISA.replace("*>~", "*~~");
    let (errors, _) = run(input.as_bytes(), ParseOptions::default());
    assert_eq!(errors, ["delimiters@0::"]);
}

#[test]
fn segment_length_limit() {
    let long = "X".repeat(300 * 1024);
    let input = x12(&format!("ST*850*0001~REF*DP*{long}~SE*3*0001~GE*1*1~IEA*1*000000001~"));
    let (errors, sets) = run(input.as_bytes(), ParseOptions::default());
    assert_eq!(sets, ["850/0001"]);
    assert_eq!(errors, ["segment_too_long@153::"]);
}

#[test]
fn element_component_and_repetition_limits() {
    let limits = Limits {
        elements_per_segment_max: 8,
        components_per_element_max: 3,
        repetitions_per_element_max: 2,
        ..Limits::default()
    };
    let options = ParseOptions { limits, ..ParseOptions::default() };
    // Nine elements; four components; three repetitions; then two of each, which is allowed.
    let input =
        x12("ST*850*0001~REF*1*2*3*4*5*6*7*8*9~REF*A>B>C>D~REF*A^B^C~REF*A>B^C>D~SE*6*0001~GE*1*1~IEA*1*000000001~");
    let (errors, _) = run(input.as_bytes(), options);
    assert_eq!(
        errors,
        ["too_many_elements@153:REF:", "too_many_components@175:REF:1", "too_many_repetitions@187:REF:1"]
    );
}

#[test]
fn transaction_set_limits() {
    let limits = Limits { segments_per_transaction_set_max: 5, ..Limits::default() };
    let options = ParseOptions { limits, ..ParseOptions::default() };
    let body = "REF*DP*1~".repeat(10);
    let input = x12(&format!("ST*850*0001~{body}SE*12*0001~GE*1*1~IEA*1*000000001~"));
    let (errors, sets) = run(input.as_bytes(), options);
    assert_eq!(sets.len(), 1);
    assert_eq!(errors, ["transaction_set_too_long@189:REF:"]);
}

#[test]
fn isa_width_problems_are_located() {
    let short = "ISA*00*0*00*0*ZZ*SENDER*ZZ*RECEIVER*260101*1200*U*00401*000000001*0*P*>~GS*PO*S*R*20260101*1200*1*X*004010~ST*850*0001~SE*2*0001~GE*1*1~IEA*1*000000001~";
    let (errors, _) = run(short.as_bytes(), ParseOptions::default());
    assert_eq!(
        errors,
        [
            "isa_element_width@0:ISA:2",
            "isa_element_width@0:ISA:4",
            "isa_element_width@0:ISA:6",
            "isa_element_width@0:ISA:8"
        ]
    );
    let (errors, _) = run(short.as_bytes(), ParseOptions { allow_isa_width_variance: true, ..ParseOptions::default() });
    assert!(errors.is_empty());
}

#[test]
fn edifact_release_character_everywhere() {
    let input = "UNB+UNOC:3+S?+1:14+R:14+260101:1200+1'UNH+1+ORDERS:D:96A:UN'FTX+AAI+++It?'s 50?% off?: buy ??now'UNT+3+1'UNZ+1+1'";
    let mut reader = Reader::new(input.as_bytes(), ParseOptions::default());
    let mut text = String::new();
    let mut sender = String::new();
    while let Some(event) = reader.next() {
        match event {
            Event::InterchangeStart(i) => sender = i.sender().unwrap().id.into_owned(),
            Event::TransactionSet(set) => {
                assert!(set.is_valid(), "{:?}", set.errors());
                text = set.body().next().unwrap().text(4).into_owned();
            }
            _ => {}
        }
    }
    assert_eq!(sender, "S+1");
    assert_eq!(text, "It's 50% off: buy ?now");
}

#[test]
fn edifact_syntax_identifier_and_version_are_checked() {
    let input = "UNB+UNOZ:5+S:14+R:14+260101:1200+1'UNH+1+ORDERS:D:96A:UN'UNT+2+1'UNZ+1+1'";
    let (errors, _) = run(input.as_bytes(), ParseOptions::default());
    assert_eq!(errors, ["invalid_syntax_identifier@0:UNB:1"]);
    let input = "UNB+UNOC:7+S:14+R:14+260101:1200+1'UNH+1+ORDERS:D:96A:UN'UNT+2+1'UNZ+1+1'";
    let (errors, _) = run(input.as_bytes(), ParseOptions::default());
    assert_eq!(errors, ["unsupported_syntax_version@0:UNB:1"]);
}

#[test]
fn edifact_groups_are_counted_in_unz() {
    let input = "UNB+UNOC:3+S:14+R:14+260101:1200+1'\
                 UNG+ORDERS+S:14+R:14+260101:1200+7+UN+D:96A'UNH+1+ORDERS:D:96A:UN'UNT+2+1'UNH+2+ORDERS:D:96A:UN'UNT+2+2'UNE+2+7'\
                 UNZ+1+1'";
    assert_eq!(run(input.as_bytes(), ParseOptions::default()).0, Vec::<String>::new());
    let wrong = input.replace("UNE+2+7", "UNE+3+8");
    assert_eq!(
        run(wrong.as_bytes(), ParseOptions::default()).0,
        ["count_mismatch@139:UNE:1", "control_number_mismatch@139:UNE:2"]
    );
}

#[test]
fn streaming_memory_stays_bounded() {
    // 20,000 transaction sets (about 2 MB) read in 4 KiB chunks: the buffer never holds more
    // than a chunk plus one transaction set.
    let set = "ST*850*0001~BEG*00*SA*PO-1**20260101~REF*DP*038~PO1*1*10*EA*9.25**VP*ABC~CTT*1~SE*6*0001~";
    let count = 20_000;
    let input = x12(&format!("{}GE*{count}*1~IEA*1*000000001~", set.repeat(count)));
    let mut reader = StreamReader::new(input.as_bytes(), ParseOptions::default()).chunk_bytes(4096);
    let (mut sets, mut max_buffer) = (0, 0);
    while let Some(event) = reader.next() {
        if let Event::TransactionSet(set) = event.unwrap() {
            assert!(set.is_valid());
            sets += 1;
        }
        max_buffer = max_buffer.max(reader.buffered_bytes());
    }
    assert_eq!(sets, count);
    assert!(max_buffer < 16 * 1024, "buffer grew to {max_buffer} bytes");
}

#[test]
fn streamed_errors_match_in_memory_errors() {
    // Found by the stream_reader fuzz target: the not-EDI preview (its bytes, and the mark
    // saying more follow) must not depend on the chunk size, nor may the fast path read a UNA
    // as a body segment.
    let mut hex_preview = vec![0x13u8; 59];
    hex_preview.extend_from_slice(b"UN\0\0\x02\0S:0");
    let mut text_preview = b"\0\0".to_vec();
    text_preview.extend_from_slice(&[b'K'; 39]);
    text_preview.extend_from_slice(&[0xD8, 0xEF, 0xBB, 0xBF, 0, 0, 0]);
    let una_in_message = b"\0\0UNH+U+0\xff'UNAL'U\x1d\x0b\0A".to_vec();
    for input in [hex_preview, text_preview, una_in_message] {
        let mut in_memory = Vec::new();
        let mut reader = Reader::new(&input, ParseOptions::default());
        while let Some(event) = reader.next() {
            if let Event::Error(error) = event {
                in_memory.push(error.to_string());
            }
        }
        assert!(!in_memory.is_empty());
        for chunk in 1..=20 {
            let mut streamed = Vec::new();
            let mut reader = StreamReader::new(&input[..], ParseOptions::default()).chunk_bytes(chunk);
            while let Some(event) = reader.next() {
                if let Event::Error(error) = event.unwrap() {
                    streamed.push(error.to_string());
                }
            }
            assert_eq!(streamed, in_memory, "chunks of {chunk} bytes");
        }
    }
}

#[test]
fn owned_sets_read_like_the_borrowed_ones() {
    // A set with an envelope error, then a clean one, streamed in small chunks so the owned
    // copy must not depend on where the reader's buffer starts.
    let input = x12("ST*850*0001~BEG*00*SA*PO1**20260101~SE*9*0001~ST*850*0002~BEG*00*SA*PO2**20260101~SE*3*0002~GE*2*1~IEA*1*000000001~");
    let describe = |set: &crossdock_parsers::TransactionSet<'_>| {
        let segments: Vec<String> = set
            .segments()
            .map(|s| format!("{}@{}#{}", String::from_utf8_lossy(s.raw()), s.offset(), s.number()))
            .collect();
        let errors: Vec<String> = set.errors().iter().map(ToString::to_string).collect();
        let group = set.group().map(|g| g.control_number().into_owned());
        (
            set.id().into_owned(),
            set.header().offset(),
            set.trailer().map(|t| t.number()),
            segments,
            errors,
            group,
            set.segment_count(),
        )
    };
    let mut borrowed = Vec::new();
    let mut owned = Vec::new();
    let mut reader = StreamReader::new(input.as_bytes(), ParseOptions::default()).chunk_bytes(7);
    while let Some(event) = reader.next() {
        if let Event::TransactionSet(set) = event.unwrap() {
            borrowed.push(describe(&set));
            owned.push(set.to_owned_set());
        }
    }
    let owned: Vec<_> = owned.iter().map(|set| describe(&set.view())).collect();
    assert_eq!(borrowed.len(), 2);
    assert_eq!(borrowed[0].4.len(), 1, "{:?}", borrowed[0].4);
    assert_eq!(owned, borrowed);
}

#[test]
fn owned_sets_share_only_the_headers_they_have_in_common() {
    // Two sets in group 1, one in group 2 of the same interchange, then one in a second
    // interchange whose group header is the first's: each copied after the one before.
    let first = x12("ST*850*0001~SE*2*0001~ST*850*0002~SE*2*0002~GE*2*1~GS*PO*S*R*20260101*1200*2*X*005010~\
         ST*850*0003~SE*2*0003~GE*1*2~IEA*2*000000001~");
    let second = x12("ST*850*0004~SE*2*0004~GE*1*1~IEA*1*000000002~").replace("*000000001*", "*000000002*");
    let input = format!("{first}{second}");
    let headers = |set: &crossdock_parsers::TransactionSet<'_>| {
        (
            set.control_number().into_owned(),
            set.interchange().control_number().map(|c| c.into_owned()),
            set.interchange().offset(),
            set.group().map(|g| (g.control_number().into_owned(), g.header().offset())),
        )
    };
    let (mut borrowed, mut owned) = (Vec::new(), Vec::<crossdock_parsers::OwnedTransactionSet>::new());
    let mut reader = StreamReader::new(input.as_bytes(), ParseOptions::default()).chunk_bytes(11);
    while let Some(event) = reader.next() {
        if let Event::TransactionSet(set) = event.unwrap() {
            assert!(set.errors().is_empty(), "{:?}", set.errors());
            borrowed.push(headers(&set));
            let copy = set.to_owned_set_after(owned.last());
            owned.push(copy);
        }
    }
    let views: Vec<_> = owned.iter().map(|set| headers(&set.view())).collect();
    assert_eq!(views, borrowed);
    assert_eq!(borrowed.len(), 4);
    let shared = |a: usize, b: usize| {
        let (a, b) = (owned[a].view(), owned[b].view());
        (std::ptr::eq(a.interchange(), b.interchange()), std::ptr::eq(a.group().unwrap(), b.group().unwrap()))
    };
    assert_eq!(shared(0, 1), (true, true));
    assert_eq!(shared(1, 2), (true, false));
    assert_eq!(shared(2, 3), (false, false));
}
