//! A relay node of a test cluster: a tokio `Server` bound on loopback, joined to the
//! cluster through `securecom-nats`, on the conformance driver's runtime.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use securecom::proto::cluster::{ClusterConfig, ClusterKey, NodeId};
use securecom::proto::relay::{DuplicateLogin, RelayConfig};
use securecom::tokio::{Server, ServerOptions};
use securecom_nats::{NatsCredentials, NatsOptions};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::kit::fixtures;
use super::nats::NatsServer;

/// How fast the test cluster notices a dead node.
pub(crate) const NODE_TIMEOUT: Duration = Duration::from_secs(2);

/// The key the test cluster's nodes share.
pub(crate) fn cluster_key() -> ClusterKey {
    ClusterKey::from_bytes([7u8; 32])
}

/// How a node is set up.
#[derive(Clone)]
pub(crate) struct NodeSetup {
    pub(crate) relay: RelayConfig,
    pub(crate) key: ClusterKey,
}

impl Default for NodeSetup {
    fn default() -> Self {
        NodeSetup {
            relay: RelayConfig::default(),
            key: cluster_key(),
        }
    }
}

impl NodeSetup {
    /// With the second-login policy `policy`.
    pub(crate) fn with_policy(policy: DuplicateLogin) -> Self {
        let mut setup = NodeSetup::default();
        setup.relay.duplicate_login = policy;
        setup
    }
}

/// One running node.
pub(crate) struct Node {
    pub(crate) id: NodeId,
    pub(crate) addr: SocketAddr,
    runtime: Arc<Runtime>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    bus: Option<JoinHandle<()>>,
}

impl Node {
    /// Starts node `id` on `nats`.
    pub(crate) fn start(
        runtime: &Arc<Runtime>,
        nats: &NatsServer,
        id: &str,
        setup: NodeSetup,
    ) -> Node {
        let id = NodeId::new(id).expect("a valid node id");
        let mut cluster = ClusterConfig::new(id.clone(), setup.key);
        cluster.node_timeout = NODE_TIMEOUT;
        cluster.heartbeat_interval = Duration::from_millis(250);
        let credentials = NatsCredentials::UserPassword {
            user: nats.credentials().user.clone(),
            password: nats.credentials().password.clone().into(),
        };
        let options = NatsOptions::new(nats.url(), credentials);
        let config = fixtures::server_config(Duration::from_secs(10));
        let (server, bus) = runtime.block_on(async {
            let (link, bus) = securecom_nats::spawn(options, id.clone());
            let server = Server::bind_clustered(
                "127.0.0.1:0",
                config,
                ServerOptions { relay: setup.relay },
                cluster,
                link,
            )
            .await
            .expect("the node binds");
            (server, bus)
        });
        let addr = server.local_addr().expect("the node's address");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = runtime.spawn(server.run(async {
            let _ = stopped.await;
        }));
        Node {
            id,
            addr,
            runtime: runtime.clone(),
            stop: Some(stop),
            server: Some(server),
            bus: Some(bus),
        }
    }

    /// Kills the node: no goodbye, no release; its sockets and NATS connection just end.
    pub(crate) fn kill(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if let Some(bus) = self.bus.take() {
            bus.abort();
        }
        self.stop = None;
    }

    /// Stops the node as Ctrl-C would: goodbyes to clients and to the other nodes.
    pub(crate) fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let (server, bus) = (self.server.take(), self.bus.take());
        self.runtime.block_on(async {
            if let Some(server) = server {
                let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
            }
            if let Some(bus) = bus {
                let _ = tokio::time::timeout(Duration::from_secs(10), bus).await;
            }
        });
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}
