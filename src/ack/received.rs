//! Acknowledgments partners send us (997, 999, CONTRL, TA1), read into what they say about the
//! interchange or functional group we sent, so the outbound message can show it.

use crossdock_parsers::TransactionSet;
use serde::Serialize;

/// What one acknowledgment says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReceivedAck {
    /// `997`, `999`, `CONTRL` or `TA1`.
    pub kind: String,
    /// The functional group acknowledged (AK1-02), for 997/999.
    pub group_control_number: Option<String>,
    /// The interchange acknowledged (TA1-01, UCI 0020), for TA1/CONTRL.
    pub interchange_control_number: Option<String>,
    /// `accepted`, `partially_accepted` or `rejected`.
    pub result: &'static str,
    /// In words: the codes and the sets or messages refused.
    pub detail: String,
}

/// Whether a transaction set / message is an acknowledgment we read rather than translate.
pub fn is_acknowledgment(id: &str) -> bool {
    matches!(id, "997" | "999" | "CONTRL")
}

/// Reads a 997/999 transaction set or a CONTRL message.
pub fn read_set(set: &TransactionSet<'_>) -> Option<ReceivedAck> {
    let id = set.id();
    let mut group = None;
    let mut group_code = None;
    let mut interchange = None;
    let mut interchange_action = None;
    let mut refused: Vec<String> = Vec::new();
    let mut current_set = None;
    for segment in set.body() {
        let tag = segment.tag();
        match tag.as_str() {
            "AK1" => group = Some(segment.text(2).into_owned()),
            "AK2" => current_set = Some(format!("{} {}", segment.text(1), segment.text(2))),
            // AK5 (997) / IK5 (999): the set's code; anything but A (and E) is a refusal.
            "AK5" | "IK5" => {
                let code = segment.text(1);
                if code != "A" && code != "E" {
                    refused.push(format!("{} ({code})", current_set.clone().unwrap_or_default()));
                }
            }
            "AK9" => group_code = Some(segment.text(1).into_owned()),
            // CONTRL: UCI action 4 rejected, 7 accepted, 8 received; UCM per message likewise.
            "UCI" => {
                interchange = Some(segment.text(1).into_owned());
                interchange_action = Some(segment.text(4).into_owned());
            }
            "UCM" => {
                let action = segment.text(3);
                if action == "4" {
                    refused.push(format!("message {}", segment.text(1)));
                }
            }
            _ => {}
        }
    }
    let (result, code) = match id.as_ref() {
        "997" | "999" => {
            let code = group_code?;
            let result = match code.as_str() {
                "A" | "E" if refused.is_empty() => "accepted",
                "R" => "rejected",
                _ => "partially_accepted",
            };
            (result, format!("AK9 {code}"))
        }
        "CONTRL" => {
            let action = interchange_action?;
            let result = match action.as_str() {
                "4" => "rejected",
                _ if !refused.is_empty() => "partially_accepted",
                _ => "accepted",
            };
            (result, format!("UCI action {action}"))
        }
        _ => return None,
    };
    let detail = if refused.is_empty() { code } else { format!("{code}; refused: {}", refused.join(", ")) };
    Some(ReceivedAck {
        kind: id.into_owned(),
        group_control_number: group,
        interchange_control_number: interchange,
        result,
        detail,
    })
}

/// Reads a TA1 segment's elements (TA1-01 control number, TA1-04 A/E/R, TA1-05 note code).
pub fn read_ta1(elements: &[String]) -> Option<ReceivedAck> {
    let control = elements.first()?.clone();
    let code = elements.get(3)?.clone();
    let result = match code.as_str() {
        "A" | "E" => "accepted",
        _ => "rejected",
    };
    let note = elements.get(4).filter(|n| !n.is_empty()).map(|n| format!(", note {n}")).unwrap_or_default();
    Some(ReceivedAck {
        kind: "TA1".into(),
        group_control_number: None,
        interchange_control_number: Some(control),
        result,
        detail: format!("TA1 {code}{note}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossdock_parsers::{Event, ParseOptions, Reader};

    fn first_set(input: &[u8]) -> Option<ReceivedAck> {
        let mut reader = Reader::new(input, ParseOptions::default());
        while let Some(event) = reader.next() {
            if let Event::TransactionSet(set) = event {
                return read_set(&set);
            }
        }
        None
    }

    #[test]
    fn contrl_and_997_say_what_they_refused() {
        let contrl = b"UNB+UNOC:3+5412345000013:14+5400000000001:14+260105:0900+77'UNH+1+CONTRL:D:3:UN'\
UCI+000000042+5400000000001:14+5412345000013:14+7'UCM+1+ORDRSP:D:96A:UN:EAN005+7'UCM+2+ORDRSP:D:96A:UN:EAN005+4'UNT+5+1'UNZ+1+77'";
        let ack = first_set(contrl).expect("a CONTRL is read");
        assert_eq!(ack.kind, "CONTRL");
        assert_eq!(ack.interchange_control_number.as_deref(), Some("000000042"));
        assert_eq!(ack.result, "partially_accepted");
        assert!(ack.detail.contains("message 2"), "{}", ack.detail);

        let x997 = b"ISA*00*          *00*          *ZZ*ACKER          *ZZ*CROSSDOCK      *260105*0900*U*00401*000000601*0*P*>~\
GS*FA*ACKER*CROSSDOCK*20260105*0900*601*X*004010~ST*997*0001~AK1*PR*17~AK2*855*0001~AK5*R*5~AK9*R*1*1*0~SE*6*0001~\
GE*1*601~IEA*1*000000601~";
        let ack = first_set(x997).expect("a 997 is read");
        assert_eq!(
            (ack.kind.as_str(), ack.group_control_number.as_deref(), ack.result),
            ("997", Some("17"), "rejected")
        );

        let ta1 = read_ta1(&["000000042".into(), "260105".into(), "0900".into(), "R".into(), "022".into()]).unwrap();
        assert_eq!((ta1.result, ta1.detail.as_str()), ("rejected", "TA1 R, note 022"));
    }
}
