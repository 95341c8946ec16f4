//! # securecom-proto
//!
//! The sans-IO core of securecom: authenticated relay chat with end-to-end encryption.
//!
//! Nothing in this crate touches a socket, a file, a clock or the operating system's random
//! number generator. Every state machine consumes bytes and time *values* and emits bytes
//! and events; randomness is passed in as a [`rand_core::CryptoRng`]; keys, certificates
//! and CRLs are read from text and bytes, and stores (the user directory, the known keys)
//! are traits the application implements. `securecom-host` has the system clocks, the OS
//! random generator and the file-backed stores; the drivers (`securecom-tokio`,
//! `securecom-std`) only move bytes between sockets and these machines.
//!
//! ## Map of the crate
//!
//! | module | job |
//! |---|---|
//! | [`command`] | the commands, responses and notices exchanged inside a session |
//! | [`client`] | the client's chat logic: [`client::ChatClient`] |
//! | [`cluster`] | the relay's cluster side: bus messages, presence entries, the cluster key |
//! | [`chat`] | the end-to-end chat: its handshake, ratchet, safety numbers and known keys |
//! | [`codec`] | the checked [`codec::Reader`], the stream [`codec::Deframer`] and frame limits |
//! | [`identity`] | Ed25519 identities, PEM files, fingerprints, usernames, the user directory |
//! | [`pki`] | X.509 chain and CRL validation of the server's certificate |
//! | [`handshake`] | the client-server handshake: [`handshake::ClientHandshake`], [`handshake::ServerHandshake`] |
//! | [`relay`] | the server's presence and routing: [`relay::Relay`] |
//! | [`record`] | the AES-256-GCM record layer with implicit sequence numbers and key update |
//! | [`session`] | an established, mutually authenticated connection |
//! | [`time`] | the time values the machines take: [`time::Instant`] and [`time::UnixTime`] |
//!
//! The wire format and the reasons behind it are in `docs/PROTOCOL.md`; the threat model in
//! `docs/SECURITY.md`.
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod chat;
pub mod client;
pub mod cluster;
pub mod codec;
pub mod command;
pub mod endpoint;
pub mod handshake;
pub mod identity;
pub mod pki;
pub mod record;
pub mod relay;
pub mod session;
pub mod time;

mod crypto;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(test)]
mod simulation;
#[cfg(any(test, feature = "fuzzing"))]
mod testkit;

pub use rand_core::CryptoRng;
