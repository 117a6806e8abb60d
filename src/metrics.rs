//! Prometheus metrics: the names of DESIGN.md, described once here so that every series has
//! its help text and histograms have buckets (`promtool check metrics` clean).
//!
//! Labels never carry document values (no PO numbers, no control numbers): partner ids,
//! transports, standards, document types, stages and outcomes are all bounded sets.

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const MESSAGES_RECEIVED: &str = "crossdock_messages_received_total";
pub const MESSAGES_FAILED: &str = "crossdock_messages_failed_total";
pub const ERP_DELIVERY_SECONDS: &str = "crossdock_erp_delivery_seconds";
pub const ERP_DELIVERY: &str = "crossdock_erp_delivery_total";
pub const DEAD_LETTERS: &str = "crossdock_dead_letter_messages";
pub const QUEUE_DEPTH: &str = "crossdock_queue_depth";
pub const DUPLICATES: &str = "crossdock_duplicates_total";
pub const ACKS_SENT: &str = "crossdock_acks_sent_total";
pub const AS2_MDN: &str = "crossdock_as2_mdn_total";
pub const SFTP_POLLS: &str = "crossdock_sftp_polls_total";
pub const PROCESSING_SECONDS: &str = "crossdock_processing_seconds";
pub const PARTNERS_LOADED: &str = "crossdock_partners_loaded";
pub const PARTNER_PROFILE_PROBLEMS: &str = "crossdock_partner_profile_problems";
pub const PARTNER_RELOADS: &str = "crossdock_partner_reloads_total";
pub const HTTP_REQUESTS: &str = "crossdock_http_requests_total";
pub const ACKS_OVERDUE: &str = "crossdock_acknowledgments_overdue";
pub const AS2_MDNS_OWED: &str = "crossdock_as2_mdns_owed";
pub const CERTIFICATE_EXPIRY: &str = "crossdock_certificate_expiry_timestamp_seconds";

/// Buckets for latencies from a millisecond to a minute.
const SECONDS_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// Installs the process-wide recorder and describes every metric.
pub fn install() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
    describe();
    Ok(handle)
}

fn describe() {
    describe_counter!(MESSAGES_RECEIVED, "Transaction sets received, by partner, transport, standard and type");
    describe_counter!(
        MESSAGES_FAILED,
        "Messages or transaction sets that failed, by partner, stage (parse, identify, validate, translate, render, deliver) and reason"
    );
    describe_histogram!(ERP_DELIVERY_SECONDS, Unit::Seconds, "Time of one delivery attempt to the ERP");
    describe_counter!(
        ERP_DELIVERY,
        "Delivery attempts to the ERP, by partner and outcome (delivered, retry, dead_letter)"
    );
    describe_gauge!(DEAD_LETTERS, "Documents dead-lettered and not replayed, by partner");
    describe_gauge!(
        QUEUE_DEPTH,
        "Messages in the store by state, and documents waiting for delivery (state=pending_delivery)"
    );
    describe_counter!(DUPLICATES, "Duplicate interchanges received, by partner");
    describe_counter!(
        ACKS_SENT,
        "Functional acknowledgments made for partners, by kind (997, 999, TA1, CONTRL) and result"
    );
    describe_counter!(AS2_MDN, "AS2 MDNs, by partner, direction and disposition");
    describe_counter!(SFTP_POLLS, "SFTP polls, by partner and outcome");
    describe_histogram!(PROCESSING_SECONDS, Unit::Seconds, "Time spent per pipeline stage");
    describe_gauge!(PARTNERS_LOADED, "Partner profiles in force");
    describe_gauge!(PARTNER_PROFILE_PROBLEMS, "Problems in the partner profile files at the last (re)load");
    describe_counter!(PARTNER_RELOADS, "Partner profile reloads, by outcome (ok, failed)");
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by route and status code");
    describe_gauge!(
        ACKS_OVERDUE,
        "Messages we sent whose functional acknowledgment is past the profile's deadline, by partner"
    );
    describe_gauge!(
        AS2_MDNS_OWED,
        "Asynchronous MDNs we owe partners for messages received in the last day and have not delivered yet, by partner"
    );
    describe_gauge!(
        CERTIFICATE_EXPIRY,
        Unit::Seconds,
        "When each AS2 certificate in use expires (Unix time), by owner (crossdock or the partner) and file"
    );
}
