//! The `crossdock` binary: a thin shell over the library, so tests drive the same code.

use std::process::ExitCode;

fn main() -> ExitCode {
    crossdock::cli::main()
}
