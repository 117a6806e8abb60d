//! `crossdock certs new --as2-id ID [--out DIR] [--days N]`: a self-signed RSA-2048
//! certificate and private key for an AS2 identity, for onboarding and tests.
//!
//! Writes `DIR/ID.pem` (give it to the partner) and `DIR/ID.key` (mode 0600; reference it from
//! crossdock.toml as `file:DIR/ID.key`). Refuses to overwrite either.

use std::io::Write;
use std::path::PathBuf;

use super::{EXIT_OK, EXIT_USAGE};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Make a self-signed certificate and key for an AS2 id.
    New {
        #[arg(long = "as2-id")]
        as2_id: String,
        /// Where to write ID.pem and ID.key.
        #[arg(long, default_value = "certs")]
        out: PathBuf,
        /// Validity in days.
        #[arg(long, default_value_t = 730)]
        days: u32,
    },
}

pub fn run(command: Command) -> u8 {
    let Command::New { as2_id, out, days } = command;
    // RFC 4130 section 6.2: printable ASCII, spaces allowed (the header quotes them).
    let printable = as2_id.chars().all(|c| c.is_ascii_graphic() || c == ' ');
    if as2_id.is_empty() || as2_id.len() > 128 || !printable || as2_id.trim() != as2_id {
        eprintln!(
            "crossdock: --as2-id must be 1 to 128 printable ASCII characters, without leading or trailing spaces"
        );
        return EXIT_USAGE;
    }
    let stem: String =
        as2_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    let (cert_path, key_path) = (out.join(format!("{stem}.pem")), out.join(format!("{stem}.key")));
    for path in [&cert_path, &key_path] {
        if path.exists() {
            eprintln!("crossdock: {} exists; not overwriting it", path.display());
            return EXIT_USAGE;
        }
    }
    let (cert, key) = match crate::as2::certs::self_signed(&as2_id, days) {
        Ok(pair) => pair,
        Err(err) => {
            eprintln!("crossdock: cannot make a certificate: {err}");
            return EXIT_USAGE;
        }
    };
    let written = std::fs::create_dir_all(&out)
        .and_then(|()| std::fs::write(&cert_path, cert))
        .and_then(|()| write_private(&key_path, key.as_bytes()));
    if let Err(err) = written {
        eprintln!("crossdock: cannot write to {}: {err}", out.display());
        return EXIT_USAGE;
    }
    println!("{}", cert_path.display());
    println!("{}", key_path.display());
    EXIT_OK
}

fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
