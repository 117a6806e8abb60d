//! `crossdock partners check [DIR|FILE]`: validates partner profiles; each problem is printed
//! as `file:line: message`.

use std::path::PathBuf;

use super::{EXIT_INVALID, EXIT_OK};
use crate::config::partner::{load_dir, load_file};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate profiles.
    Check {
        /// A directory of profiles or one profile file.
        #[arg(default_value = "partners")]
        path: PathBuf,
    },
}

pub fn run(command: Command) -> u8 {
    let Command::Check { path } = command;
    let (count, problems) = if path.is_dir() {
        let (partners, problems) = load_dir(&path);
        (partners.len(), problems)
    } else {
        match load_file(&path) {
            Ok(_) => (1, Vec::new()),
            Err(problems) => (0, problems),
        }
    };
    for problem in &problems {
        println!("{problem}");
    }
    if problems.is_empty() {
        eprintln!("{count} profile(s) OK");
        EXIT_OK
    } else {
        EXIT_INVALID
    }
}
