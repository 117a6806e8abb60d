//! Sinks: where processed documents go. `erp` delivers canonical JSON to the ERP (or the
//! embedded outbox).

pub mod erp;
