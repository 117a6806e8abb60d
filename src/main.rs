//! The `crossdock` binary: a thin shell over the library, so tests drive the same code.

use std::process::ExitCode;

/// mimalloc: translation allocates many small strings and maps; the system allocator spent a
/// third of `crossdock translate`'s time in malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    crossdock::cli::main()
}
