//! Configuration: partner profiles (`partner`) and secret references (`secret`). The
//! gateway's own settings join them in `gateway`.

pub mod gateway;
pub mod partner;
pub mod secret;

pub use partner::{Partner, Partners, Problem};
pub use secret::Secret;
