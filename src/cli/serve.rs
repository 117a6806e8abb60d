//! `crossdock serve [--config FILE]`: the gateway. With no configuration it listens on
//! 127.0.0.1:8080, stores in `./data/crossdock.db`, loads `./partners`, and delivers to the
//! embedded outbox (`./data/outbox/`).

use std::path::PathBuf;

use tracing_subscriber::EnvFilter;

use super::{EXIT_OK, EXIT_USAGE};
use crate::config::gateway;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The gateway's settings (crossdock.toml); every key is optional.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

pub fn run(args: Args) -> u8 {
    // RUST_LOG overrides the level (`RUST_LOG=crossdock=debug`).
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let installed = if args.log_format == "json" {
        subscriber.json().with_current_span(true).with_span_list(false).try_init()
    } else {
        subscriber.try_init()
    };
    if let Err(err) = installed {
        eprintln!("crossdock: cannot set up logging: {err}");
    }
    let config = match gateway::load(args.config.as_deref()) {
        Ok(config) => config,
        Err(problems) => {
            for problem in problems {
                eprintln!("{problem}");
            }
            return EXIT_USAGE;
        }
    };
    match crate::gateway::serve(config) {
        Ok(()) => EXIT_OK,
        Err(err) => {
            eprintln!("crossdock: {err}");
            EXIT_USAGE
        }
    }
}
