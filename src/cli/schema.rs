//! `crossdock schema TYPE`: the JSON Schema (draft 2020-12) of a canonical document type.

use super::{EXIT_OK, EXIT_USAGE};
use crate::canonical::{schema, DocumentKind};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// purchase_order, purchase_order_ack or ship_notice.
    r#type: String,
}

pub fn run(args: Args) -> u8 {
    let Some(kind) = DocumentKind::parse(&args.r#type) else {
        eprintln!(
            "crossdock: unknown document type {:?}: use purchase_order, purchase_order_ack or ship_notice",
            args.r#type
        );
        return EXIT_USAGE;
    };
    match serde_json::to_string_pretty(&schema::schema(kind)) {
        Ok(text) => {
            println!("{text}");
            EXIT_OK
        }
        Err(err) => {
            eprintln!("crossdock: {err}");
            EXIT_USAGE
        }
    }
}
