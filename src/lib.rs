//! # securecom
//!
//! Authenticated, end-to-end encrypted chat through a relay that routes but cannot read.
//! This facade re-exports the crates of the workspace and holds nothing of its own:
//!
//! - [`proto`] (`securecom-proto`): the sans-IO protocol core (handshakes, records, PKI,
//!   relay, chat); it does no I/O;
//! - [`host`] (`securecom-host`): what the core leaves to the host: the system clocks, the
//!   OS random generator, key files, the user directory folder, the known-keys file, and
//!   the client's certificate verifier loaded from CA and CRL files;
//! - [`tokio`] (`securecom-tokio`): the async driver;
//! - [`blocking`] (`securecom-std`): the blocking `std::net` driver;
//! - [`admin`] (`securecom-admin`): key management: a CA, server certificates, CRLs, users,
//!   the development PKI, and keytool's command line;
//! - [`console`] (`securecom-console`): the chat client's console language (slash commands,
//!   one line per event).
//!
//! The example programs (`examples/`: server, client, keytool, loadgen) and the benchmarks
//! live in this crate.
#![forbid(unsafe_code)]

pub use securecom_admin as admin;
pub use securecom_console as console;
pub use securecom_host as host;
pub use securecom_proto as proto;
pub use securecom_std as blocking;
pub use securecom_tokio as tokio;

/// The README's examples, compiled as doctests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
