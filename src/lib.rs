//! # securecom
//!
//! Authenticated, end-to-end encrypted chat through a relay that routes but cannot read.
//! This facade re-exports the crates of the workspace:
//!
//! - [`proto`]: the sans-IO protocol core (handshakes, records, PKI, relay, chat);
//! - [`host`]: what the core leaves to the host: clocks, the OS random generator, key
//!   files, the user directory folder, the known-keys file, loading a verifier from files;
//! - [`tokio`]: the async driver;
//! - [`blocking`]: the blocking `std::net` driver;
//! - [`console`]: the chat client's console language (slash commands, one line per event);
//! - [`admin`]: key management: a CA, server certificates, CRLs, users, the development PKI.
#![forbid(unsafe_code)]

pub mod admin;
pub mod keyfile;

pub use securecom_console as console;
pub use securecom_host as host;
pub use securecom_proto as proto;
pub use securecom_std as blocking;
pub use securecom_tokio as tokio;

/// The README's examples, compiled as doctests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
