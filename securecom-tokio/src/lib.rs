//! # securecom-tokio
//!
//! The async driver of securecom: it moves bytes and time between tokio sockets and the
//! state machines of [`securecom_proto`]. Nothing of the protocol lives here.
//!
//! - [`Server`]: accepts connections and carries out the actions of one
//!   [`securecom_proto::endpoint::ServerEndpoint`], which decides everything: handshake,
//!   write and callback deadlines, connection limits, backpressure, the shutdown grace
//!   (all configured in [`securecom_proto::relay::RelayConfig`]). [`Server::run`] ends
//!   gracefully when its shutdown future completes (for example on Ctrl-C).
//!   [`Server::bind_clustered`] makes it one node of a cluster, over a [`ClusterLink`] to
//!   a bus driver (`securecom-nats`).
//! - [`Client`]: connects, then carries out the actions of a
//!   [`securecom_proto::endpoint::ClientEndpoint`] (the handshake, the chat logic, the
//!   callback daemon's limits, all decided there), and hands out a [`ClientHandle`] with a
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
mod cluster;
mod server;

pub use client::{Client, ClientHandle, ClientOptions, ConnectError};
pub use cluster::{BusEnds, ClusterLink, DEFAULT_ACTION_QUEUE};
pub use securecom_proto as proto;
pub use server::{Server, ServerOptions};

/// The operating system's random number generator, as the core expects it.
pub(crate) use securecom_host::os_rng;
