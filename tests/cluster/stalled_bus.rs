//! A bus driver that stops taking the server's actions (a stalled or far too slow bus)
//! holds the server to its bounded queue: a login's claim that does not fit fails at once,
//! refused as unavailable, instead of waiting in a queue that grows; once the bus takes
//! actions again, logins succeed. No NATS here: the test holds the bus driver's ends
//! (`BusEnds`), as a bus of your own would.

use std::sync::Arc;
use std::time::Duration;

use securecom::host::driver::{ClientOptions, ConnectError};
use securecom::proto::cluster::{ClusterAction, ClusterConfig, ClusterInput, NodeId};
use securecom::proto::handshake::HandshakeError;
use securecom::proto::relay::RelayConfig;
use securecom::proto::session::CloseReason;
use securecom::tokio::{ClusterLink, Server, ServerOptions};
use tokio::sync::oneshot;

use super::kit::fixtures;
use super::kit::harness::Driver;
use super::kit::tokio_driver::Tokio;
use super::node::cluster_key;

/// Room for this many actions between the server and the bus driver.
const QUEUE: usize = 8;

#[test]
fn a_stalled_bus_fails_claims_at_once_and_logins_resume_when_it_moves() {
    let driver = Tokio::new().expect("a runtime");
    let runtime = Arc::clone(driver.runtime());
    let mut cluster = ClusterConfig::new(NodeId::new("n1").unwrap(), cluster_key());
    // Heartbeats fill the queue quickly; a claim that got into the queue would keep its
    // login waiting far longer than the client's handshake timeout.
    cluster.heartbeat_interval = Duration::from_millis(20);
    cluster.claim_timeout = Duration::from_secs(120);
    let (link, mut bus) = ClusterLink::with_capacity(QUEUE);
    let (stop, stopped) = oneshot::channel::<()>();
    let (addr, server) = runtime.block_on(async {
        let server = Server::bind_clustered(
            "127.0.0.1:0",
            fixtures::server_config(Duration::from_secs(10)),
            ServerOptions {
                relay: RelayConfig::default(),
            },
            cluster,
            link,
        )
        .await
        .expect("the node binds");
        let addr = server.local_addr().expect("its address");
        let server = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        bus.inputs
            .send(ClusterInput::Connected)
            .await
            .expect("the server listens to its bus");
        (addr, server)
    });

    // The bus takes nothing: the heartbeats fill the queue.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while bus.actions.len() < QUEUE {
        assert!(
            std::time::Instant::now() < deadline,
            "the queue never filled"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    for name in ["alice", "bob", "alice"] {
        let login = driver.connect(
            addr,
            fixtures::client_config(name),
            ClientOptions::default(),
        );
        match login {
            Err(ConnectError::Handshake(HandshakeError::Rejected(CloseReason::UNAVAILABLE))) => {}
            Err(e) => panic!("{name}: {e:?}, not refused as unavailable"),
            Ok(_) => panic!("{name} logged in without a claim"),
        }
        assert_eq!(bus.actions.len(), QUEUE, "the queue stays at its bound");
    }

    // The bus moves again: it takes every action and grants every claim.
    let inputs = bus.inputs.clone();
    runtime.spawn(async move {
        let mut revision = 0;
        while let Some(action) = bus.actions.recv().await {
            if let ClusterAction::Claim { claim, .. } = action {
                revision += 1;
                let _ = inputs.send(ClusterInput::Claimed { claim, revision }).await;
            }
        }
    });
    let alice = driver
        .connect(
            addr,
            fixtures::client_config("alice"),
            ClientOptions::default(),
        )
        .expect("alice logs in once the bus takes actions again");
    drop(alice);

    let _ = stop.send(());
    runtime.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    });
}
