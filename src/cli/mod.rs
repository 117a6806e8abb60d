//! The `crossdock` command line: one module per command, all returning an exit code.
//!
//! Exit codes are the contract of DESIGN.md: 0 all good, 1 any document invalid, 2 usage or
//! I/O error.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod ack;
mod certs;
mod messages;
mod parse;
mod partners;
mod pool;
mod render;
mod schema;
mod serve;
mod translate;

/// Exit code: every document was good.
pub const EXIT_OK: u8 = 0;
/// Exit code: some document was invalid.
pub const EXIT_INVALID: u8 = 1;
/// Exit code: bad usage, or input that could not be read.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(name = "crossdock", version, about = "EDI gateway: X12 and EDIFACT in, canonical JSON out")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the syntax tree as JSON Lines, one object per transaction set / message.
    Parse(parse::Args),
    /// Translate EDI to canonical JSON (JSON Lines).
    Translate(translate::Args),
    /// Render canonical JSON as a partner's EDI.
    Render(render::Args),
    /// Print the functional acknowledgments (997, 999, TA1, CONTRL) for an input.
    Ack(ack::Args),
    /// Print the JSON Schema of a canonical document type.
    Schema(schema::Args),
    /// Work with partner profiles.
    #[command(subcommand)]
    Partners(partners::Command),
    /// Run the gateway.
    Serve(serve::Args),
    /// Inspect the store and re-queue messages.
    #[command(subcommand)]
    Messages(messages::Command),
    /// Make AS2 certificates.
    #[command(subcommand)]
    Certs(certs::Command),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Parse(args) => parse::run(args),
        Command::Translate(args) => translate::run(args),
        Command::Render(args) => render::run(args),
        Command::Ack(args) => ack::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Partners(command) => partners::run(command),
        Command::Serve(args) => serve::run(args),
        Command::Messages(command) => messages::run(command),
        Command::Certs(command) => certs::run(command),
    };
    ExitCode::from(code)
}

/// Loads the partner profiles of `dir` for a command. Problems are printed as warnings (the
/// good profiles are used); a directory that is given but missing is a usage error, the default
/// one missing just means no profiles.
pub fn load_partners(dir: &Path) -> Option<crate::config::Partners> {
    if !dir.exists() {
        if dir == Path::new("partners") {
            return Some(crate::config::Partners::default());
        }
        eprintln!("crossdock: partner directory {} does not exist", dir.display());
        return None;
    }
    let (partners, problems) = crate::config::partner::load_dir(dir);
    for problem in problems {
        eprintln!("warning: {problem}");
    }
    Some(crate::config::Partners::new(partners))
}

/// An input named on the command line: a file, or `-` for standard input.
#[derive(Clone, Debug)]
pub struct Input {
    path: PathBuf,
}

impl Input {
    pub fn new(path: PathBuf) -> Self {
        Input { path }
    }

    pub fn is_stdin(&self) -> bool {
        self.path.as_os_str() == "-"
    }

    /// How errors name this input.
    pub fn name(&self) -> String {
        if self.is_stdin() {
            "<stdin>".to_owned()
        } else {
            self.path.display().to_string()
        }
    }

    /// Opens the input for streaming.
    pub fn open(&self) -> io::Result<Box<dyn Read>> {
        if self.is_stdin() {
            Ok(Box::new(io::stdin().lock()))
        } else {
            Ok(Box::new(std::fs::File::open(&self.path)?))
        }
    }
}
