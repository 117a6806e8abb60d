//! Black-box tests of the `crossdock` binary: its command line and (later) its HTTP API.
//! One integration binary, one module per area.

mod support;

mod ack;
mod parse;
mod partners;
mod properties;
mod translate;
