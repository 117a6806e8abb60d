//! Sources: where messages come in. `http` is the HTTP API (inbound EDI, webhooks, outbound
//! documents, operations); `as2` the AS2 endpoint; `server` the listener it runs on.

pub mod as2;
pub mod http;
pub mod server;
