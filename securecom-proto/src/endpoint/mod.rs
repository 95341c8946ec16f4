//! Endpoints: the sans-IO owners of every decision about sockets and time.
//!
//! A driver (`securecom-tokio`, `securecom-std`, or one of your own) reads sockets,
//! writes bytes, sleeps, and reports what happened; an endpoint decides everything else:
//! what to write where, which socket to stop reading, which to close and why, and when to
//! wake up. [`ServerEndpoint`] wraps the [`crate::relay::Relay`]; [`ClientEndpoint`]
//! wraps the client handshake and the [`crate::client::ChatClient`].
//!
//! # One vocabulary
//! Every state machine of this crate is driven the same way (quinn-proto's contract):
//! - **input with `now`**: `handle_input(.., now, bytes)` and the other `handle_*` calls
//!   take the current time as a value; nothing in the crate reads a clock;
//! - **output taken, then acknowledged**: `poll_action` (or `output` on the inner
//!   machines) hands bytes out; `handle_written` (or `consume_output`) says how many were
//!   written; bytes stay counted against the machine's limits until then;
//! - **timers**: `poll_timeout() -> Option<Instant>` names the next deadline; after
//!   `handle_timeout(now)` it is never at or before `now`, so a driver cannot spin;
//! - **events**: `poll_event` yields what happened, for the user interface or the logs.
//!
//! A driver's loop is therefore always: carry out every action, forward every event, wait
//! for a socket or for `poll_timeout`, report, repeat.

mod client;
mod limits;
mod outgoing;
mod server;

pub use client::{CallbackId, ClientAction, ClientEndpoint, ClientSocket, ConnectFailure, Phase};
pub use limits::ClientLimits;
pub use outgoing::WRITE_CHUNK;
pub use server::{ServerAction, ServerEndpoint, ServerSocket};

/// Bytes a driver reads from a socket at once (one full record and then some).
pub const READ_CHUNK: usize = 16 * 1024;

/// How long a listener rests after a failed accept (for example, out of file
/// descriptors) before the endpoint lets the driver accept again, so it does not spin.
pub const ACCEPT_RETRY: core::time::Duration = core::time::Duration::from_millis(100);

#[cfg(test)]
mod tests;
