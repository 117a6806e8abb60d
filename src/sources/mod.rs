//! Sources: where messages come in. `http` is the HTTP API (inbound EDI, webhooks, outbound
//! documents, operations); `as2` the AS2 endpoint; `sftp` the
//! inbox pollers (and the upload the transports use); `server` the listener they run on.

pub mod as2;
pub mod http;
pub mod server;
pub mod sftp;
