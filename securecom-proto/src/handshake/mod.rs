//! The client-server handshake: mutually authenticated ephemeral X25519 in the SIGMA /
//! TLS 1.3 family.
//!
//! ```text
//! Client                                              Server
//! ClientHello  {version, random_c, e_c}      ─────▶
//!                                            ◀─────  ServerHello {version, random_s, e_s}
//!                                 [handshake keys from DH(e_c, e_s) and the transcript]
//!                                            ◀─────  {ServerCertificate} chain, leaf first
//!                                            ◀─────  {ServerVerify} Sig_server(transcript)
//!                                            ◀─────  {ServerFinished} MAC(transcript)
//! {ClientIdentity} username                  ─────▶
//! {ClientVerify} Sig_client(transcript)      ─────▶
//! {ClientFinished} MAC(transcript)           ─────▶
//!                                   [session keys from the whole transcript]
//!                                            ◀─────  [Welcome] session id   (standard channel)
//! ```
//!
//! `{…}` is encrypted under the handshake keys, `[…]` under the session keys. The client's
//! username travels only encrypted, after the server has proved its identity. Every failure
//! gives a precise local [`HandshakeError`] and a generic alert on the wire
//! ([`HandshakeError::wire_alert`]). The full byte layouts are in `docs/PROTOCOL.md`.
//!
//! ## Driving a handshake
//!
//! Both sides are consuming state machines: each call takes the handshake by value and
//! returns the next step, so a [`Session`](crate::session::Session) can only come out of a
//! handshake that passed every check.
//!
//! 1. Start with [`ClientHandshake::start`] or [`ServerHandshake::new`].
//! 2. Write [`ClientHandshake::output`] to the socket and call `consume_output`.
//! 3. Feed received bytes to `handle_input`; it returns the handshake to continue with, or
//!    the result, with how many input bytes it consumed (the rest belongs to the session).
//! 4. Call `handle_timeout` when [`ClientHandshake::poll_timeout`] passes.
//!
//! On the server the result is an [`AuthenticatedClient`]: the application applies its
//! policy (second login, capacity) and then [`accept`](AuthenticatedClient::accept)s or
//! [`reject`](AuthenticatedClient::reject)s it.

mod client;
mod config;
mod error;
mod io;
pub mod messages;
mod schedule;
mod server;

pub use client::{ClientHandshake, ClientProgress};
pub use config::{ClientConfig, DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_HELLO_TIMEOUT, ServerConfig};
pub use error::{ALERT_HANDSHAKE_FAILURE, HandshakeError};
pub use server::{AuthenticatedClient, ServerHandshake, ServerProgress};

/// The fuzz targets play the peer's side of the key schedule.
#[cfg(feature = "fuzzing")]
pub(crate) use schedule::HandshakeKeys;

/// The protocol version this implementation speaks. It is sent in both hellos and hashed
/// into the transcript; a mismatch fails the handshake (there is no fallback).
pub const PROTOCOL_VERSION: u16 = 1;

/// Domain separation for the server's transcript signature.
pub(crate) const SERVER_SIGNATURE_CONTEXT: &[u8] = b"securecom/1 server signature\0";
/// Domain separation for the client's transcript signature.
pub(crate) const CLIENT_SIGNATURE_CONTEXT: &[u8] = b"securecom/1 client signature\0";

/// The bytes a side signs: a context string naming its role, then the transcript hash.
pub(crate) fn signed_content(context: &[u8], transcript: &[u8; 32]) -> alloc::vec::Vec<u8> {
    let mut m = alloc::vec::Vec::with_capacity(context.len() + transcript.len());
    m.extend_from_slice(context);
    m.extend_from_slice(transcript);
    m
}

#[cfg(test)]
mod tests;
