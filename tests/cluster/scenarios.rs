//! Three relay nodes on one real nats-server, real clients on each: the cluster behaves as
//! one relay (lists, requests, answers, chats, busy refusal, expiry, second logins), notices
//! a killed node within its bound, survives NATS restarting, and drops what another bus
//! client injects or replays.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use securecom::host::driver::{ClientOptions, ConnectError};
use securecom::proto::client::{ChatEndReason, ClientEvent, CommandKind};
use securecom::proto::command::{CommandError, GoneReason};
use securecom::proto::handshake::HandshakeError;
use securecom::proto::relay::DuplicateLogin;
use securecom::proto::session::CloseReason;

use super::kit::client::TestClient;
use super::kit::fixtures;
use super::kit::harness::{Driver, Handle};
use super::kit::steps::{ask, chat_ended, expect_message, start_chat, user, users};
use super::kit::tokio_driver::{Tokio, TokioHandle};
use super::nats::NatsServer;
use super::node::{NODE_TIMEOUT, Node, NodeSetup};

type Client = TestClient<TokioHandle>;

/// A nats-server, nodes on it, and the runtime they run on.
struct Cluster {
    driver: Tokio,
    nats: NatsServer,
    nodes: Vec<Node>,
}

impl Cluster {
    /// `nodes` nodes named n1, n2, ... with `setup`; `None` if nats-server is missing.
    fn start(test: &str, nodes: usize, setup: NodeSetup) -> Option<Cluster> {
        let nats = NatsServer::start(test)?;
        let driver = Tokio::new().expect("a runtime");
        let nodes = (1..=nodes)
            .map(|i| Node::start(driver.runtime(), &nats, &format!("n{i}"), setup.clone()))
            .collect();
        Some(Cluster {
            driver,
            nats,
            nodes,
        })
    }

    fn try_login(&self, node: usize, name: &str) -> Result<Client, ConnectError> {
        let (handle, events) = self.driver.connect(
            self.nodes[node].addr,
            fixtures::client_config(name),
            ClientOptions::default(),
        )?;
        Ok(TestClient::new(user(name), handle, events))
    }

    /// Logs `name` in on node `node`, waiting while the node is not yet on the bus (a
    /// login it cannot confirm with the cluster is refused as unavailable).
    fn login(&self, node: usize, name: &str) -> Client {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match self.try_login(node, name) {
                Ok(client) => return client,
                Err(ConnectError::Handshake(HandshakeError::Rejected(
                    CloseReason::UNAVAILABLE,
                ))) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("{name} cannot log in on n{}: {e:?}", node + 1),
            }
        }
    }

    /// Logs in each `(node, user)` and waits until every one of them lists them all: the
    /// cluster has settled.
    fn online<const N: usize>(&self, placement: [(usize, &str); N]) -> [Client; N] {
        let mut names: Vec<&str> = placement.iter().map(|(_, name)| *name).collect();
        names.sort_unstable();
        let mut clients = placement.map(|(node, name)| self.login(node, name));
        for client in &mut clients {
            wait_for_users(client, &names);
        }
        clients
    }
}

/// Waits until `client` lists exactly `expected` (presence and heartbeats propagate).
fn wait_for_users(client: &mut Client, expected: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listed = users(client);
        if listed == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{}: lists {listed:?}, not {expected:?}",
            client.user()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn command_failed(client: &mut Client, command: CommandKind) -> CommandError {
    match client.expect("a command refused", |e| {
        matches!(e, ClientEvent::CommandFailed { .. })
    }) {
        ClientEvent::CommandFailed { command: c, error } if c == command => error,
        other => panic!("{}: {other:?}", client.user()),
    }
}

#[test]
fn lists_requests_and_chats_across_three_nodes() {
    let Some(cluster) = Cluster::start(
        "lists_requests_and_chats_across_three_nodes",
        3,
        NodeSetup::default(),
    ) else {
        return;
    };
    let [mut alice, mut bob, mut carol] = cluster.online([(0, "alice"), (1, "bob"), (2, "carol")]);

    // A request denied, then one withdrawn, across nodes.
    ask(&mut alice, &mut bob);
    bob.h().deny().unwrap();
    alice.expect(
        "the denial",
        |e| matches!(e, ClientEvent::RequestDenied { peer } if *peer == user("bob")),
    );
    ask(&mut carol, &mut bob);
    carol.h().withdraw_request().unwrap();
    bob.expect(
        "the withdrawal",
        |e| matches!(e, ClientEvent::RequestWithdrawn { from } if *from == user("carol")),
    );

    // A chat across nodes, both ways, end to end.
    let safety = start_chat(&mut alice, &mut bob);
    assert_eq!(safety, safety);
    alice.h().send_text("hello from n1").unwrap();
    expect_message(&mut bob, "alice", "hello from n1");
    bob.h().send_text("hello from n2").unwrap();
    expect_message(&mut alice, "bob", "hello from n2");
    for i in 0..50 {
        alice.h().send_text(format!("in order {i}")).unwrap();
    }
    for i in 0..50 {
        expect_message(&mut bob, "alice", &format!("in order {i}"));
    }

    // Carol, on a third node, asks busy bob: refused as on one node.
    carol.h().request_chat(user("bob")).unwrap();
    assert_eq!(
        command_failed(&mut carol, CommandKind::RequestChat),
        CommandError::BUSY
    );

    // Leaving ends the chat on both sides; the users stay online.
    bob.h().leave_chat().unwrap();
    // Bob's end-to-end close arrives first, as on one node.
    assert_eq!(chat_ended(&mut alice, "bob"), ChatEndReason::PeerClosed);
    assert_eq!(chat_ended(&mut bob, "alice"), ChatEndReason::WeLeft);
    start_chat(&mut carol, &mut alice);
    carol.h().send_text("n3 to n1").unwrap();
    expect_message(&mut alice, "carol", "n3 to n1");
    wait_for_users(&mut bob, &["alice", "bob", "carol"]);
}

#[test]
fn request_expires_across_nodes() {
    let mut setup = NodeSetup::default();
    setup.relay.request_timeout = Duration::from_secs(1);
    let Some(cluster) = Cluster::start("request_expires_across_nodes", 2, setup) else {
        return;
    };
    let [mut alice, mut bob] = cluster.online([(0, "alice"), (1, "bob")]);
    ask(&mut alice, &mut bob);
    alice.expect(
        "the expiry",
        |e| matches!(e, ClientEvent::RequestExpired { peer } if *peer == user("bob")),
    );
    bob.expect(
        "the expiry",
        |e| matches!(e, ClientEvent::RequestExpired { peer } if *peer == user("alice")),
    );
    // Both are free again.
    start_chat(&mut bob, &mut alice);
}

#[test]
fn second_login_on_another_node_is_refused_under_reject() {
    let setup = NodeSetup::with_policy(DuplicateLogin::RejectNew);
    let Some(cluster) = Cluster::start(
        "second_login_on_another_node_is_refused_under_reject",
        2,
        setup,
    ) else {
        return;
    };
    let [mut alice, mut bob] = cluster.online([(0, "alice"), (1, "bob")]);
    match cluster.try_login(1, "alice") {
        Err(ConnectError::Handshake(HandshakeError::Rejected(CloseReason::ALREADY_LOGGED_IN))) => {}
        Err(other) => panic!("the second login failed otherwise: {other:?}"),
        Ok(_) => panic!("the second login was let in on another node"),
    }
    start_chat(&mut alice, &mut bob);
    alice.h().send_text("still me").unwrap();
    expect_message(&mut bob, "alice", "still me");
}

#[test]
fn second_login_on_another_node_replaces_under_replace() {
    let setup = NodeSetup::with_policy(DuplicateLogin::ReplaceExisting);
    let Some(cluster) = Cluster::start(
        "second_login_on_another_node_replaces_under_replace",
        3,
        setup,
    ) else {
        return;
    };
    let [mut first, mut bob] = cluster.online([(0, "alice"), (1, "bob")]);
    start_chat(&mut first, &mut bob);
    let mut second = cluster.login(2, "alice");
    first.expect(
        "the replacement",
        |e| matches!(e, ClientEvent::Closed { reason } if *reason == CloseReason::REPLACED),
    );
    assert_eq!(
        chat_ended(&mut bob, "alice"),
        ChatEndReason::PeerGone(GoneReason::REPLACED)
    );
    wait_for_users(&mut bob, &["alice", "bob"]);
    wait_for_users(&mut second, &["alice", "bob"]);
    start_chat(&mut second, &mut bob);
    second.h().send_text("new device on n3").unwrap();
    expect_message(&mut bob, "alice", "new device on n3");
}

#[test]
fn killed_node_is_noticed_within_the_bound() {
    let Some(mut cluster) = Cluster::start(
        "killed_node_is_noticed_within_the_bound",
        3,
        NodeSetup::default(),
    ) else {
        return;
    };
    let [mut alice, mut bob] = cluster.online([(0, "alice"), (1, "bob")]);
    start_chat(&mut alice, &mut bob);

    let killed = Instant::now();
    cluster.nodes[1].kill();
    assert_eq!(
        chat_ended(&mut alice, "bob"),
        ChatEndReason::PeerGone(GoneReason::DISCONNECTED)
    );
    let noticed = killed.elapsed();
    assert!(
        noticed <= NODE_TIMEOUT + Duration::from_secs(2),
        "noticed after {noticed:?}, bound {NODE_TIMEOUT:?}"
    );
    wait_for_users(&mut alice, &["alice"]);
    // Bob's name is free again: he logs in on the third node.
    let mut bob = cluster.login(2, "bob");
    wait_for_users(&mut alice, &["alice", "bob"]);
    start_chat(&mut bob, &mut alice);

    // The killed node restarts (a new incarnation) and rejoins.
    let runtime = cluster.driver.runtime().clone();
    cluster.nodes[1] = Node::start(&runtime, &cluster.nats, "n2", NodeSetup::default());
    let mut carol = cluster.login(1, "carol");
    wait_for_users(&mut carol, &["alice", "bob", "carol"]);
}

#[test]
fn nats_restart_mid_session() {
    let Some(mut cluster) = Cluster::start("nats_restart_mid_session", 2, NodeSetup::default())
    else {
        return;
    };
    let [mut alice, mut bob, mut carol] = cluster.online([(0, "alice"), (1, "bob"), (0, "carol")]);
    start_chat(&mut alice, &mut bob);

    cluster.nats.stop();
    assert_eq!(
        chat_ended(&mut alice, "bob"),
        ChatEndReason::PeerGone(GoneReason::UNREACHABLE)
    );
    assert_eq!(
        chat_ended(&mut bob, "alice"),
        ChatEndReason::PeerGone(GoneReason::UNREACHABLE)
    );
    // Local users keep chatting; remote ones are unreachable.
    wait_for_users(&mut alice, &["alice", "carol"]);
    start_chat(&mut carol, &mut alice);
    carol.h().send_text("still here").unwrap();
    expect_message(&mut alice, "carol", "still here");
    carol.h().leave_chat().unwrap();
    chat_ended(&mut alice, "carol");

    cluster.nats.restart();
    // The nodes reconnect and restore their presence.
    wait_for_users(&mut alice, &["alice", "bob", "carol"]);
    wait_for_users(&mut bob, &["alice", "bob", "carol"]);
    start_chat(&mut bob, &mut alice);
    bob.h().send_text("after the restart").unwrap();
    expect_message(&mut alice, "bob", "after the restart");
}

#[test]
fn forged_and_replayed_bus_messages_are_dropped() {
    let Some(cluster) = Cluster::start(
        "forged_and_replayed_bus_messages_are_dropped",
        2,
        NodeSetup::default(),
    ) else {
        return;
    };
    let [mut alice, mut bob] = cluster.online([(0, "alice"), (1, "bob")]);
    start_chat(&mut alice, &mut bob);

    // Another client of the bus, with the NATS credentials but not the cluster key.
    let runtime = cluster.driver.runtime().clone();
    let creds = cluster.nats.credentials().clone();
    let url = cluster.nats.url();
    let (spy, mut heard) = runtime.block_on(async {
        let spy = async_nats::ConnectOptions::with_user_and_password(creds.user, creds.password)
            .connect(url)
            .await
            .expect("a credentialed bus client connects");
        let heard = spy.subscribe("securecom.node.n2").await.expect("subscribe");
        spy.flush().await.expect("flush");
        (spy, heard)
    });
    alice.h().send_text("once").unwrap();
    expect_message(&mut bob, "alice", "once");
    let captured = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(10), heard.next())
            .await
            .expect("the spy hears the chat data")
            .expect("a message")
    });
    runtime.block_on(async {
        // The exact bytes again (a replay), an altered copy, and garbage.
        spy.publish("securecom.node.n2", captured.payload.clone())
            .await
            .unwrap();
        let mut altered = captured.payload.to_vec();
        if let Some(b) = altered.get_mut(20) {
            *b ^= 1;
        }
        spy.publish("securecom.node.n2", altered.into())
            .await
            .unwrap();
        spy.publish("securecom.node.n2", vec![1u8; 80].into())
            .await
            .unwrap();
        spy.publish("securecom.all", vec![0u8; 3].into())
            .await
            .unwrap();
        spy.flush().await.unwrap();
    });
    // Nothing was delivered twice, and the chat goes on.
    alice.h().send_text("twice?").unwrap();
    expect_message(&mut bob, "alice", "twice?");
    bob.h().send_text("all fine").unwrap();
    expect_message(&mut alice, "bob", "all fine");
    drop(Arc::new(spy));
}

#[test]
fn a_node_with_another_cluster_key_is_not_heard() {
    let Some(cluster) = Cluster::start(
        "a_node_with_another_cluster_key_is_not_heard",
        1,
        NodeSetup::default(),
    ) else {
        return;
    };
    let runtime = cluster.driver.runtime().clone();
    let stranger_setup = NodeSetup {
        key: securecom::proto::cluster::ClusterKey::from_bytes([9u8; 32]),
        ..NodeSetup::default()
    };
    let stranger = Node::start(&runtime, &cluster.nats, "n9", stranger_setup);
    let mut alice = cluster.login(0, "alice");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut mallory = loop {
        match Cluster::try_login_at(&cluster, stranger.addr, "bob") {
            Ok(client) => break client,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("bob cannot log in on the stranger node: {e:?}"),
        }
    };
    std::thread::sleep(Duration::from_secs(1));
    // Neither side lists the other's users: their entries and heartbeats do not verify.
    wait_for_users(&mut alice, &["alice"]);
    wait_for_users(&mut mallory, &["bob"]);
}

impl Cluster {
    fn try_login_at(&self, addr: std::net::SocketAddr, name: &str) -> Result<Client, ConnectError> {
        let (handle, events) = self.driver.connect(
            addr,
            fixtures::client_config(name),
            ClientOptions::default(),
        )?;
        Ok(TestClient::new(user(name), handle, events))
    }
}

#[test]
fn bus_client_without_credentials_is_refused() {
    let Some(nats) = NatsServer::start("bus_client_without_credentials_is_refused") else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let refused = runtime.block_on(async {
        async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .connect(nats.url())
            .await
    });
    assert!(refused.is_err(), "a client without credentials was let in");
}

#[test]
fn stopped_node_says_goodbye_at_once() {
    let Some(mut cluster) =
        Cluster::start("stopped_node_says_goodbye_at_once", 2, NodeSetup::default())
    else {
        return;
    };
    let [mut alice, mut bob] = cluster.online([(0, "alice"), (1, "bob")]);
    start_chat(&mut alice, &mut bob);
    let stopping = Instant::now();
    cluster.nodes[1].stop();
    // Bob's node closes his session; alice hears it before any node timeout.
    let reason = chat_ended(&mut alice, "bob");
    assert!(
        matches!(
            reason,
            ChatEndReason::PeerGone(GoneReason::SHUTDOWN) | ChatEndReason::PeerClosed
        ),
        "{reason:?}"
    );
    assert!(
        stopping.elapsed() < NODE_TIMEOUT,
        "{:?}",
        stopping.elapsed()
    );
    wait_for_users(&mut alice, &["alice"]);
    assert_eq!(cluster.nodes[1].id.as_str(), "n2");
}
