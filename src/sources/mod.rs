//! Sources: where messages come in. `http` is the HTTP API (inbound EDI, webhooks, outbound
//! documents, operations); `server` the listener it runs on.

pub mod http;
pub mod server;
