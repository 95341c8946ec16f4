//! End-to-end encrypted chat between two clients, relayed opaquely by the server.
//!
//! When B accepts A's request, the relay hands each side the other's registered public key.
//! The two clients then run a SIGMA-style handshake of their own, inside the chat data the
//! relay forwards:
//!
//! ```text
//! A (initiator)                                  B (responder)
//! ChatHello {version, random_a, e_a}     ───▶
//!                                        ◀───    ChatReply {random_b, e_b, Sig_B(th), MAC_B}
//! ChatConfirm {Sig_A(th), MAC_A}         ───▶
//! ```
//!
//! The transcript starts with both usernames and both identity keys, so each signature binds
//! who is talking to whom and both ephemeral keys. Messages then use the Double Ratchet
//! (without header encryption or skipped keys): every message has its own AES-256-GCM key
//! from a chain that moves forward and forgets the past, and each change of speaker starts
//! new chains from a fresh X25519 exchange, so a stolen state stops working after one
//! round trip (see `dh_ratchet.rs` and `ratchet.rs`). The ratchet key, the previous chain's
//! length and the counter in each record make drops, reordering, replays and reflections
//! fail; a close record makes truncation visible.
//!
//! The relay could still hand out wrong public keys. [`SafetyNumber`] lets the two users
//! compare, out of band, a number computed from both identity keys, and [`KnownKeys`]
//! remembers the key each user proved it holds in a completed chat handshake (trust on
//! first use, after proof), marks the keys whose safety number the user verified, and
//! reports a change.

mod dh_ratchet;
mod error;
mod handshake;
mod known_keys;
pub mod messages;
mod ratchet;
mod safety;
mod session;

pub use error::ChatError;
pub use handshake::{
    ChatInitiator, ChatResponder, InitiatorAwaitingReply, PreparedInitiator,
    ResponderAwaitingConfirm,
};
pub use known_keys::{KeyStatus, KnownKeys, KnownKeysError, MemoryKnownKeys};
pub use safety::SafetyNumber;
pub use session::{ChatSession, OpenedChat};

/// The chat protocol version, in the ChatHello and the transcript.
pub const CHAT_VERSION: u16 = 2;

/// The longest chat message text, in bytes (UTF-8).
pub const MAX_TEXT_LEN: usize = 4096;

/// Chat plaintexts are padded with zeros to a multiple of this many bytes, so the relay,
/// which forwards every chat record, learns a text's length only to within 64 bytes: a
/// "y" and a 61-byte sentence look the same on the wire.
pub const CHAT_PADDING_BLOCK: usize = 64;

#[cfg(test)]
mod compromise_tests;
#[cfg(test)]
mod ratchet_proptests;
#[cfg(test)]
mod tests;
