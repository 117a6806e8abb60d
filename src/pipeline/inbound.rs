//! One inbound message through the pipeline: parse → identify the partner → validate →
//! translate → acknowledge, with duplicate detection, into what the store records.

use std::time::Instant;

use crossdock_parsers::ParseOptions;

use crate::ack;
use crate::canonical::{CanonicalDocument, Standard};
use crate::config::partner::DuplicatePolicy;
use crate::config::Partners;
use crate::metrics as m;
use crate::process::{process, InterchangeReport, TranslatedDocument};
use crate::store::{
    now_millis, Content, MessageState, NewAcknowledgment, NewDocument, Pending, Processed, SeenInterchange, Store,
};
use crate::translate::render::envelope::Stamp;

const DAY_MILLIS: i64 = 86_400_000;

/// What became of a message, ready for `Store::complete`.
pub fn process_inbound(pending: &Pending, partners: &Partners, store: &dyn Store) -> Processed {
    let mut out = Processed::of(pending, MessageState::Rejected);
    match pending.content {
        Content::Json => canonical_json(pending, partners, &mut out),
        Content::Edi => edi(pending, partners, store, &mut out),
    }
    out
}

/// A partner that posts canonical JSON to its webhook: nothing to parse or acknowledge.
fn canonical_json(pending: &Pending, partners: &Partners, out: &mut Processed) {
    let partner = pending.partner.as_deref().and_then(|id| partners.get(id));
    let documents = serde_json::Deserializer::from_slice(&pending.raw).into_iter::<CanonicalDocument>();
    for (i, document) in documents.enumerate() {
        match document {
            Ok(mut document) => {
                document.partner = partner.map(|p| p.id.clone()).or(document.partner);
                out.document_type.get_or_insert_with(|| document.kind().as_str().to_owned());
                out.documents.push(new_document(&mut TranslatedDocument::new(&document), None, false));
            }
            Err(err) => {
                out.errors.push(format!("document {}: not a canonical document: {err}", i + 1));
                fail(pending, out, "translate", "invalid_json");
                out.documents.clear();
                out.detail = "refused: not canonical JSON".into();
                return;
            }
        }
    }
    let partner_label = pending.partner.clone().unwrap_or_else(|| "unknown".into());
    for document in &out.documents {
        metrics::counter!(m::MESSAGES_RECEIVED, "partner" => partner_label.clone(), "transport" => pending.transport.clone(),
            "standard" => "json", "type" => document.document_type.clone())
        .increment(1);
    }
    out.state = if out.documents.is_empty() { MessageState::Rejected } else { MessageState::Translated };
    out.detail = format!("{} canonical document(s) received", out.documents.len());
}

/// The stored form of a translated document; its JSON moves out of the report rather than
/// being copied (a body of many documents holds them all at once).
fn new_document(document: &mut TranslatedDocument, control_number: Option<&str>, duplicate: bool) -> NewDocument {
    NewDocument {
        document_type: document.kind.as_str().to_owned(),
        reference: Some(document.reference.clone()).filter(|r| !r.is_empty()),
        transaction_control_number: control_number.map(str::to_owned),
        canonical: std::mem::take(&mut document.json),
        duplicate,
    }
}

fn fail(pending: &Pending, out: &Processed, stage: &'static str, reason: &'static str) {
    let partner = out.partner.clone().or_else(|| pending.partner.clone()).unwrap_or_else(|| "unknown".into());
    metrics::counter!(m::MESSAGES_FAILED, "partner" => partner, "stage" => stage, "reason" => reason).increment(1);
}

fn edi(pending: &Pending, partners: &Partners, store: &dyn Store, out: &mut Processed) {
    let started = Instant::now();
    let mut processed = process(&pending.raw, partners, ParseOptions::default());
    metrics::histogram!(m::PROCESSING_SECONDS, "stage" => "translate").record(started.elapsed().as_secs_f64());
    for error in &processed.errors {
        out.errors.push(error.to_string());
    }
    if processed.interchanges.is_empty() {
        fail(pending, out, "parse", "not_edi");
        out.detail = "refused: no interchange could be read".into();
        return;
    }
    let mut duplicates = 0;
    for report in &mut processed.interchanges {
        interchange(pending, partners, store, report, out, &mut duplicates);
    }
    out.state = if !out.documents.is_empty() {
        MessageState::Translated
    } else if !out.received_acks.is_empty() && out.errors.is_empty() {
        // Only acknowledgments of what we sent: read and matched, nothing to deliver.
        MessageState::Delivered
    } else if duplicates > 0 && duplicates == processed.interchanges.len() {
        MessageState::Duplicate
    } else {
        MessageState::Rejected
    };
    let refused = out.errors.len();
    out.detail = match out.state {
        MessageState::Translated if refused > 0 => {
            format!("{} document(s) translated; {refused} problem(s), see errors", out.documents.len())
        }
        MessageState::Translated => format!("{} document(s) translated", out.documents.len()),
        MessageState::Duplicate => "refused: duplicate interchange".into(),
        MessageState::Delivered => format!("{} acknowledgment(s) of what we sent, reconciled", out.received_acks.len()),
        _ => format!("refused: {refused} problem(s), see errors"),
    };
}

fn interchange(
    pending: &Pending,
    partners: &Partners,
    store: &dyn Store,
    report: &mut InterchangeReport,
    out: &mut Processed,
    duplicates: &mut usize,
) {
    let standard = match report.standard {
        Standard::X12 => "x12",
        Standard::Edifact => "edifact",
    };
    let sender = format!("{}:{}", report.sender.qualifier, report.sender.id);
    out.standard.get_or_insert_with(|| standard.to_owned());
    out.interchange_control_number.get_or_insert_with(|| report.control_number.clone());
    out.sender.get_or_insert_with(|| sender.clone());
    out.receiver.get_or_insert_with(|| format!("{}:{}", report.receiver.qualifier, report.receiver.id));
    let where_ = format!("interchange {} from {sender}", report.control_number);

    // Identify: the envelope names the partner; a source that knows it (a webhook path) must agree.
    let partner_id = report.partner.clone().or_else(|| pending.partner.clone());
    let partner = partner_id.as_deref().and_then(|id| partners.get(id));
    let label = partner.map_or_else(|| "unknown".to_owned(), |p| p.id.clone());
    for set in report.groups.iter().flat_map(|g| &g.sets) {
        metrics::counter!(m::MESSAGES_RECEIVED, "partner" => label.clone(), "transport" => pending.transport.clone(),
            "standard" => standard, "type" => set.id.clone())
        .increment(1);
    }
    let Some(partner) = partner else {
        out.errors.push(format!(
            "{where_}: no partner profile matches sender {sender} ({}); add a profile with interchange_id = \"{}\"",
            if report.standard == Standard::X12 { "ISA05:ISA06" } else { "UNB sender" },
            match report.standard {
                Standard::X12 => sender.clone(),
                Standard::Edifact => format!("{}:{}", report.sender.id, report.sender.qualifier),
            }
        ));
        fail(pending, out, "identify", "unknown_partner");
        return;
    };
    if let (Some(hint), Some(named)) = (pending.partner.as_deref(), report.partner.as_deref()) {
        if hint != named {
            out.errors.push(format!(
                "{where_}: arrived through partner {hint}'s channel but its envelope names partner {named}; refused"
            ));
            fail(pending, out, "identify", "partner_mismatch");
            return;
        }
    }
    out.partner.get_or_insert_with(|| partner.id.clone());

    // Duplicates: the same interchange control number from the same sender within the window.
    let seen = SeenInterchange {
        partner: partner.id.clone(),
        sender: sender.clone(),
        control_number: report.control_number.clone(),
    };
    let policy = partner.duplicates.policy;
    let mut duplicate = false;
    if policy != DuplicatePolicy::Accept && pending.replays == 0 && !report.control_number.is_empty() {
        let since = now_millis() - i64::from(partner.duplicates.window_days) * DAY_MILLIS;
        match store.seen(&seen, since, &pending.id) {
            Ok(Some(first)) => {
                duplicate = true;
                metrics::counter!(m::DUPLICATES, "partner" => partner.id.clone()).increment(1);
                if policy == DuplicatePolicy::Reject {
                    *duplicates += 1;
                    out.errors.push(format!(
                        "{where_}: duplicate of message {first} (same interchange control number within {} days); refused",
                        partner.duplicates.window_days
                    ));
                    return;
                }
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, "duplicate check failed; processing as new"),
        }
    }
    out.seen.push(seen);

    // Envelope and transaction sets.
    for error in &report.errors {
        out.errors.push(format!("{where_}: {error}"));
    }
    let envelope_ok = report.errors.is_empty();
    if !envelope_ok {
        fail(pending, out, "parse", "envelope");
    }
    for group in &mut report.groups {
        for error in &group.errors {
            out.errors.push(format!("{where_}: {error}"));
        }
        for set in &mut group.sets {
            let set_where = format!("{where_}, transaction set {} {}", set.id, set.control_number);
            if set.is_acknowledgment {
                match &set.acknowledgment {
                    Some(ack) => out.received_acks.push(ack.clone()),
                    None => out.errors.push(format!(
                        "{set_where}: an acknowledgment without its result (AK9 or UCI): it cannot be matched"
                    )),
                }
                out.document_type.get_or_insert_with(|| set.id.clone());
                continue;
            }
            if set.unsupported {
                out.errors.push(format!(
                    "{set_where}: not translated: partner {} is not set up to send us {} (documents.receive)",
                    partner.id, set.id
                ));
                fail(pending, out, "translate", "unsupported");
                continue;
            }
            for error in &set.syntax_errors {
                out.errors.push(format!("{set_where}: {error}"));
            }
            for error in &set.data_errors {
                out.errors.push(format!("{set_where}: {error}"));
            }
            match &mut set.document {
                Some(document) if envelope_ok => {
                    out.document_type.get_or_insert_with(|| set.id.clone());
                    out.documents.push(new_document(document, Some(&set.control_number), duplicate));
                }
                Some(_) => {}
                None => fail(pending, out, "validate", "invalid_document"),
            }
        }
    }

    // TA1s the partner sent: its interchange acknowledgments of ours.
    for ta1 in &report.acknowledgments {
        if let Some(ack) = crate::ack::received::read_ta1(ta1) {
            out.received_acks.push(ack);
        }
    }
    // Acknowledgments are not acknowledged (X12 and EDIFACT both say so).
    let only_acknowledgments = report.groups.iter().flat_map(|g| &g.sets).all(|set| set.is_acknowledgment);
    if only_acknowledgments {
        return;
    }
    // The acknowledgment the profile asks for, stored for sending.
    let mut reserve = |to: &str, groups: u64| store.reserve(to, 1, groups, 0).map_err(|e| e.to_string());
    match ack::for_interchange(report, partners, &mut reserve, &Stamp::now()) {
        Ok(Some(acknowledgment)) => {
            metrics::counter!(m::ACKS_SENT, "partner" => partner.id.clone(), "kind" => acknowledgment.kind,
                "result" => acknowledgment.result)
            .increment(1);
            let send = partners.get(&acknowledgment.to).is_some_and(|p| p.documents.send_via.is_some());
            out.acknowledgments.push(NewAcknowledgment {
                send,
                to: acknowledgment.to,
                kind: acknowledgment.kind.to_owned(),
                result: acknowledgment.result.to_owned(),
                payload: acknowledgment.bytes,
            });
        }
        Ok(None) => {}
        Err(err) => out.errors.push(format!("{where_}: the acknowledgment could not be made: {err}")),
    }
}
