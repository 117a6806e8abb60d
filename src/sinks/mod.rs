//! Sinks: where processed documents go. `erp` delivers canonical JSON to the ERP (or the
//! embedded outbox); `transport` sends rendered EDI and acknowledgments to partners.

pub mod erp;
pub mod transport;
