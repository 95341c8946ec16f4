//! End to end over real TCP on loopback with the async driver: a server and three clients.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use securecom_proto::client::{AutoRefusal, ChatEndReason, ChatStatus, ClientEvent, CommandKind};
use securecom_proto::command::CommandError;
use securecom_proto::handshake::{ClientConfig, ServerConfig};
use securecom_proto::identity::{Identity, MemoryDirectory, Username};
use securecom_proto::pki::{
    RevocationPolicy, ServerCertVerifier, ServerCredentials, certificates_from_pem, crls_from_pem,
};
use securecom_tokio::{Client, ClientHandle, ClientOptions, Server, ServerOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::UnboundedReceiver;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../securecom-proto/tests/fixtures/pki"
);
const WAIT: Duration = Duration::from_secs(20);

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

fn user_identity(name: &str) -> Identity {
    Identity::from_pkcs8_pem(&fixture(&format!("users/{name}.key"))).unwrap()
}

fn server_config() -> Arc<ServerConfig> {
    let chain = certificates_from_pem(&fixture("server.pem")).unwrap();
    let key = Identity::from_pkcs8_pem(&fixture("server.key")).unwrap();
    let mut dir = MemoryDirectory::new();
    for u in ["alice", "bob", "carol"] {
        dir.insert(Username::new(u).unwrap(), user_identity(u).public_key());
    }
    Arc::new(ServerConfig::new(
        ServerCredentials::new(chain, key).unwrap(),
        Arc::new(dir),
    ))
}

fn client_config(name: &str) -> Arc<ClientConfig> {
    let ca = certificates_from_pem(&fixture("ca.pem")).unwrap().remove(0);
    let crls = crls_from_pem(&fixture("crl-long.pem")).unwrap();
    let verifier = ServerCertVerifier::new(ca, RevocationPolicy::CheckCrls(crls)).unwrap();
    Arc::new(ClientConfig::new(
        verifier,
        "localhost",
        Username::new(name).unwrap(),
        user_identity(name),
    ))
}

async fn start_server() -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let server = Server::bind("127.0.0.1:0", server_config(), ServerOptions::default())
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        server
            .run(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (addr, stop, task)
}

struct User {
    handle: ClientHandle,
    events: UnboundedReceiver<ClientEvent>,
}

async fn login(addr: SocketAddr, name: &str) -> User {
    let (handle, events) = Client::connect(addr, client_config(name), ClientOptions::default())
        .await
        .unwrap();
    User { handle, events }
}

impl User {
    /// Waits for the first event matching `f`, failing after a deadline.
    async fn expect(&mut self, what: &str, f: impl Fn(&ClientEvent) -> bool) -> ClientEvent {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(e)) if f(&e) => return e,
                Ok(Some(_)) => continue,
                Ok(None) => panic!("event stream ended while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}"),
            }
        }
    }
}

fn name(s: &str) -> Username {
    Username::new(s).unwrap()
}

async fn chat(a: &mut User, b: &mut User) {
    a.handle
        .request_chat(b.handle.username().clone())
        .await
        .unwrap();
    b.expect("incoming request", |e| {
        matches!(e, ClientEvent::IncomingRequest { .. })
    })
    .await;
    b.handle.accept().await.unwrap();
    a.expect("chat established", |e| {
        matches!(e, ClientEvent::ChatEstablished { .. })
    })
    .await;
    b.expect("chat established", |e| {
        matches!(e, ClientEvent::ChatEstablished { .. })
    })
    .await;
}

async fn say(from: &User, to: &mut User, text: &str) {
    from.handle.send_text(text).await.unwrap();
    let t = text.to_owned();
    to.expect(
        "message",
        move |e| matches!(e, ClientEvent::Message { text, .. } if *text == t),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_clients_login_list_chat_busy_leave_exit() {
    let (addr, stop, server) = start_server().await;
    let mut alice = login(addr, "alice").await;
    let mut bob = login(addr, "bob").await;
    let mut carol = login(addr, "carol").await;

    alice.handle.list_users().await.unwrap();
    let ClientEvent::Users { users, .. } = alice
        .expect("users", |e| matches!(e, ClientEvent::Users { .. }))
        .await
    else {
        unreachable!()
    };
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);

    chat(&mut alice, &mut bob).await;
    say(&alice, &mut bob, "hello bob").await;
    say(&bob, &mut alice, "hello alice").await;
    let (sa, sna) = alice.handle.status().await.unwrap();
    let (_, snb) = bob.handle.status().await.unwrap();
    assert_eq!(sa, ChatStatus::Chatting(name("bob")));
    assert_eq!(sna, snb, "safety numbers agree");

    // Busy: carol's request to bob is refused by the relay at once.
    carol.handle.request_chat(name("bob")).await.unwrap();
    let failed = carol
        .expect("busy", |e| matches!(e, ClientEvent::CommandFailed { .. }))
        .await;
    assert_eq!(
        failed,
        ClientEvent::CommandFailed {
            command: CommandKind::RequestChat,
            error: CommandError::BUSY,
        }
    );
    // While negotiating, a client refuses on its own: carol asks alice while alice
    // is busy with bob at the relay... alice is chatting, so the relay answers; instead
    // make carol the target of two requests.
    alice.handle.leave_chat().await.unwrap();
    bob.expect("peer closed", |e| {
        matches!(
            e,
            ClientEvent::ChatEnded {
                reason: ChatEndReason::PeerClosed,
                ..
            }
        )
    })
    .await;
    alice.handle.request_chat(name("carol")).await.unwrap();
    carol
        .expect("request", |e| {
            matches!(e, ClientEvent::IncomingRequest { .. })
        })
        .await;
    bob.handle.request_chat(name("alice")).await.unwrap();
    alice
        .expect("auto refusal", |e| {
            matches!(
                e,
                ClientEvent::AutoRefused {
                    reason: AutoRefusal::Busy,
                    ..
                }
            )
        })
        .await;
    bob.expect("denied", |e| matches!(e, ClientEvent::RequestDenied { .. }))
        .await;
    carol.handle.deny().await.unwrap();
    alice
        .expect("denied", |e| matches!(e, ClientEvent::RequestDenied { .. }))
        .await;

    alice.handle.exit().await.unwrap();
    alice
        .expect("closed", |e| {
            matches!(e, ClientEvent::ConnectionLost { clean: true })
        })
        .await;
    bob.handle.list_users().await.unwrap();
    let ClientEvent::Users { users, .. } = bob
        .expect("users", |e| matches!(e, ClientEvent::Users { .. }))
        .await
    else {
        unreachable!()
    };
    assert_eq!(users.len(), 2);

    let _ = stop.send(());
    tokio::time::timeout(WAIT, server).await.unwrap().unwrap();
    bob.expect("server shutdown", |e| {
        matches!(e, ClientEvent::Closed { .. })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abrupt_disconnect_ends_the_peers_chat() {
    let (addr, _stop, _server) = start_server().await;
    let mut alice = login(addr, "alice").await;
    let mut bob = login(addr, "bob").await;
    chat(&mut alice, &mut bob).await;
    // Bob's process dies: its handle and task go away without an exit.
    let User { handle, events } = bob;
    drop(events);
    drop(handle);
    alice
        .expect("peer gone", |e| matches!(e, ClientEvent::ChatEnded { .. }))
        .await;
    // Alice can chat again with someone else.
    let mut carol = login(addr, "carol").await;
    chat(&mut alice, &mut carol).await;
    say(&carol, &mut alice, "hi").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_request_channel_over_loopback() {
    let (addr, _stop, _server) = start_server().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (handle, events) = Client::connect(
        addr,
        client_config("alice"),
        ClientOptions {
            callback_listen: Some(SocketAddr::from(([127, 0, 0, 1], port))),
            ..ClientOptions::default()
        },
    )
    .await
    .unwrap();
    let mut alice = User { handle, events };
    alice.handle.register_callback(port).await.unwrap();
    alice
        .expect("callback attached", |e| {
            matches!(e, ClientEvent::CallbackAttached)
        })
        .await;
    let mut bob = login(addr, "bob").await;
    chat(&mut bob, &mut alice).await;
    say(&bob, &mut alice, "over the daemon").await;
    say(&alice, &mut bob, "and back").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_frame_and_garbage_close_only_that_connection() {
    let (addr, _stop, _server) = start_server().await;
    let mut alice = login(addr, "alice").await;
    let mut bob = login(addr, "bob").await;
    chat(&mut alice, &mut bob).await;
    let mut raw = TcpStream::connect(addr).await.unwrap();
    raw.write_all(&[0x01, 0xff, 0xff, 0xff, 0xff])
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(WAIT, raw.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    // The generic alert, then the server closes.
    assert_eq!(&buf[..n], &[0x02, 0, 0, 0, 1, 0x28]);
    let n = tokio::time::timeout(WAIT, raw.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 0);
    say(&alice, &mut bob, "unaffected").await;
}

/// Forwards bytes between a client and the server, recording both directions.
async fn recording_proxy(server: SocketAddr) -> (SocketAddr, Arc<std::sync::Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let record = Arc::new(std::sync::Mutex::new(Vec::new()));
    let rec = record.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = TcpStream::connect(server).await.unwrap();
            let (mut cr, mut cw) = client.into_split();
            let (mut ur, mut uw) = upstream.into_split();
            let (r1, r2) = (rec.clone(), rec.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                while let Ok(n) = cr.read(&mut buf).await {
                    if n == 0 || uw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    r1.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                while let Ok(n) = ur.read(&mut buf).await {
                    if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    r2.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
    });
    (addr, record)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_never_shows_plaintext_or_usernames() {
    let (addr, _stop, _server) = start_server().await;
    let (proxy, record) = recording_proxy(addr).await;
    let mut alice = login(proxy, "alice").await;
    let mut bob = login(proxy, "bob").await;
    alice.handle.list_users().await.unwrap();
    alice
        .expect("users", |e| matches!(e, ClientEvent::Users { .. }))
        .await;
    chat(&mut alice, &mut bob).await;
    let secret = "the eagle lands at midnight";
    say(&alice, &mut bob, secret).await;
    say(&bob, &mut alice, "copy that, over").await;
    let wire = record.lock().unwrap().clone();
    assert!(wire.len() > 1000, "the proxy saw the traffic");
    for needle in [secret.as_bytes(), b"copy that", b"alice", b"bob"] {
        assert!(
            !wire.windows(needle.len()).any(|w| w == needle),
            "{:?} appears on the wire",
            String::from_utf8_lossy(needle)
        );
    }
}
