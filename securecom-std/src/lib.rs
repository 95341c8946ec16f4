//! # securecom-std
//!
//! The blocking driver of securecom: it moves bytes and time between `std::net` sockets and
//! the state machines of [`securecom_proto`], with plain threads and no async runtime.
//! Nothing of the protocol lives here. It mirrors `securecom-tokio` name for name, blocking
//! where that one is async; [`Server::run`] takes a [`ShutdownHandle`] where the async one
//! takes a future.
//!
//! - [`Server`]: accepts connections and carries out the actions of one
//!   [`securecom_proto::endpoint::ServerEndpoint`], which decides everything: handshake,
//!   write and callback deadlines, connection limits, backpressure, the shutdown grace
//!   (all configured in [`securecom_proto::relay::RelayConfig`]). [`Server::run`] serves on
//!   the calling thread and ends gracefully when its [`ShutdownHandle`] is shut down (for
//!   example from a Ctrl-C handler).
//!   It is a single node: the relay cluster on NATS (`securecom-nats`) is driven by the
//!   async server only, whose `Server::bind_clustered` takes the bus link.
//! - [`Client`]: connects, then carries out the actions of a
//!   [`securecom_proto::endpoint::ClientEndpoint`] (the handshake, the chat logic, the
//!   callback daemon's limits, all decided there), and hands out a [`ClientHandle`] with a
//!   method per command and a [`std::sync::mpsc::Receiver`] of
//!   [`securecom_proto::client::ClientEvent`]s.
//!
//! ## Threads
//! The server runs one thread that owns the endpoint (the caller of [`Server::run`]), one
//! that accepts, and a reader and a writer per connection; a callback connection adds a
//! writer. A client runs a driver thread that owns its endpoint, a reader and a writer
//! thread, and with a callback daemon an accept thread and a reader per callback
//! connection. The other threads only move bytes and report; all of them end with their
//! connection.
//!
//! ## Example
//! ```no_run
//! use std::sync::Arc;
//! use securecom_std::{Client, ClientOptions, Server, ServerOptions, ShutdownHandle};
//! use securecom_std::proto::handshake::{ClientConfig, ServerConfig};
//!
//! # fn demo(server_config: Arc<ServerConfig>, client_config: Arc<ClientConfig>) -> Result<(), Box<dyn std::error::Error>> {
//! // The server, on its own thread, until `shutdown.shutdown()`.
//! let server = Server::bind("127.0.0.1:4433", server_config, ServerOptions::default())?;
//! let shutdown = ShutdownHandle::new();
//! let stop = shutdown.clone();
//! let serving = std::thread::spawn(move || server.run(stop));
//!
//! // A client.
//! let (client, events) = Client::connect("127.0.0.1:4433", client_config, ClientOptions::default())?;
//! client.list_users()?;
//! for event in events.iter().take(1) {
//!     println!("{event:?}");
//! }
//! client.exit()?;
//!
//! shutdown.shutdown();
//! serving.join().expect("server thread")?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod client;
mod net;
mod server;

pub use client::{Client, ClientHandle, ClientOptions, ConnectError};
pub use securecom_proto as proto;
pub use server::{Server, ServerOptions, ShutdownHandle};

/// The operating system's random number generator, as the core expects it.
pub(crate) use securecom_host::os_rng;
