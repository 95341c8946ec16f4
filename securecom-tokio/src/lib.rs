//! # securecom-tokio
//!
//! The async driver of securecom: it moves bytes and time between tokio sockets and the
//! state machines of [`securecom_proto`]. Nothing of the protocol lives here.
//!
//! - [`Server`]: accepts connections and drives one [`securecom_proto::relay::Relay`];
//!   handshake deadlines, connection limits, backpressure and the callback request channel
//!   come from the relay's configuration; [`Server::run`] ends gracefully when its shutdown
//!   future completes (for example on Ctrl-C).
//! - [`Client`]: connects, runs the handshake, then hands out a [`ClientHandle`] with a
//!   method per command and a stream of [`securecom_proto::client::ClientEvent`]s.
//!
//! ```no_run
//! # async fn demo(config: std::sync::Arc<securecom_proto::handshake::ClientConfig>) -> Result<(), Box<dyn std::error::Error>> {
//! use securecom_tokio::{Client, ClientOptions};
//! let (client, mut events) = Client::connect("127.0.0.1:4433", config, ClientOptions::default()).await?;
//! client.list_users().await?;
//! while let Some(event) = events.recv().await {
//!     println!("{event:?}");
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod client;
mod server;

pub use client::{Client, ClientHandle, ClientOptions, ConnectError};
pub use securecom_proto as proto;
pub use server::{Server, ServerOptions};

/// The operating system's random number generator, as the core expects it.
pub(crate) use securecom_host::os_rng;
