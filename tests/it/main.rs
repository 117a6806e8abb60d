//! Black-box tests of the `crossdock` binary: its command line and its HTTP API.
//! One integration binary, one module per area.

mod harness;
mod support;

mod ack;
mod as2;
mod gateway;
mod parse;
mod partners;
mod properties;
mod sftp;
mod translate;
