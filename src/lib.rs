//! # securecom
//!
//! Authenticated, end-to-end encrypted chat through a relay that routes but cannot read.
//! This facade re-exports the crates of the workspace:
//!
//! - [`proto`]: the sans-IO protocol core (handshakes, records, PKI, relay, chat);
//! - [`tokio`]: the async driver;
//! - [`blocking`]: the blocking `std::net` driver.
#![forbid(unsafe_code)]

pub use securecom_proto as proto;
pub use securecom_std as blocking;
pub use securecom_tokio as tokio;

pub mod admin;
