//! # securecom-nats
//!
//! The bus of a securecom relay cluster, on [NATS](https://nats.io): it carries out the
//! [`ClusterAction`](securecom_proto::cluster::ClusterAction)s of a clustered relay and
//! reports [`ClusterInput`](securecom_proto::cluster::ClusterInput)s back, through the
//! [`ClusterLink`](securecom_tokio::ClusterLink) of a
//! [`securecom_tokio::Server`]. Nothing of the protocol lives here: which message goes
//! where, what a claim expects and what a presence entry means is the core's.
//!
//! - Bus messages go to the subject `<prefix>.node.<node id>` of the node holding the
//!   user, or `<prefix>.all` for heartbeats and goodbyes; each node subscribes to both.
//! - Presence is a JetStream key-value bucket (`<prefix>-presence`, one entry per user
//!   online, history 1): claims are create-if-absent or compare-and-set on the revision,
//!   releases delete only the revision this node wrote, and a watch delivers every change
//!   to every node.
//! - The connection is authenticated ([`NatsCredentials`], from a file or the
//!   environment, never the command line); every message and entry is also authenticated
//!   by the core with the cluster key ([`read_cluster_key`]).
//! - When NATS goes away the core is told ([`ClusterInput::Disconnected`]) and the client
//!   reconnects with backoff; once it is back the watch restarts and the core restores its
//!   presence entries.
//!
//! ```no_run
//! # async fn demo(
//! #     config: std::sync::Arc<securecom_proto::handshake::ServerConfig>,
//! #     cluster: securecom_proto::cluster::ClusterConfig,
//! # ) -> Result<(), Box<dyn std::error::Error>> {
//! use securecom_nats::{NatsCredentials, NatsOptions};
//! let credentials = NatsCredentials::from_file("nats.credentials".as_ref())?;
//! let options = NatsOptions::new("nats://127.0.0.1:4222", credentials);
//! let (link, bus) = securecom_nats::spawn(options, cluster.node.clone());
//! let server = securecom_tokio::Server::bind_clustered(
//!     "0.0.0.0:4433", config, Default::default(), cluster, link,
//! ).await?;
//! server.run(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! bus.await?; // the goodbye and the releases are on the bus
//! # Ok(()) }
//! ```
//!
//! [`ClusterInput::Disconnected`]: securecom_proto::cluster::ClusterInput::Disconnected
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod bus;
mod credentials;
mod presence;

pub use bus::{NatsOptions, spawn};
pub use credentials::{CredentialsError, NatsCredentials, read_cluster_key};
