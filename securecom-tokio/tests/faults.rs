//! Faults and abuse over real TCP, bounded in time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use securecom_proto::client::ClientEvent;
use securecom_proto::handshake::{ClientConfig, ServerConfig};
use securecom_proto::identity::{Identity, MemoryDirectory, Username};
use securecom_proto::pki::{
    RevocationPolicy, ServerCertVerifier, ServerCredentials, certificates_from_pem, crls_from_pem,
};
use securecom_proto::relay::RelayConfig;
use securecom_tokio::{Client, ClientOptions, Server, ServerOptions};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../securecom-proto/tests/fixtures/pki"
);

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

fn server_config(handshake_timeout: Duration) -> Arc<ServerConfig> {
    let chain = certificates_from_pem(&fixture("server.pem")).unwrap();
    let key = Identity::from_pkcs8_pem(&fixture("server.key")).unwrap();
    let mut dir = MemoryDirectory::new();
    let alice = Identity::from_pkcs8_pem(&fixture("users/alice.key")).unwrap();
    dir.insert(Username::new("alice").unwrap(), alice.public_key());
    Arc::new(
        ServerConfig::new(ServerCredentials::new(chain, key).unwrap(), Arc::new(dir))
            .with_handshake_timeout(handshake_timeout),
    )
}

fn alice_config() -> Arc<ClientConfig> {
    let ca = certificates_from_pem(&fixture("ca.pem")).unwrap().remove(0);
    // crl-long.pem: the fixture CRL valid until 2035, for tests on the real clock.
    let crls = crls_from_pem(&fixture("crl-long.pem")).unwrap();
    let verifier = ServerCertVerifier::new(ca, RevocationPolicy::CheckCrls(crls)).unwrap();
    Arc::new(ClientConfig::new(
        verifier,
        "localhost",
        Username::new("alice").unwrap(),
        Identity::from_pkcs8_pem(&fixture("users/alice.key")).unwrap(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_stalled_handshakes_are_dropped_at_the_deadline_while_a_client_logs_in() {
    let _ = rlimit::increase_nofile_limit(8192);
    let deadline = Duration::from_secs(3);
    let server = Server::bind(
        "127.0.0.1:0",
        server_config(deadline),
        ServerOptions {
            relay: RelayConfig {
                max_handshaking: 1_100,
                ..RelayConfig::default()
            },
        },
    )
    .await
    .unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run(std::future::pending()));

    let started = Instant::now();
    let mut stalled = Vec::with_capacity(1000);
    for _ in 0..1000 {
        stalled.push(TcpStream::connect(addr).await.unwrap());
    }
    // A genuine client still gets in promptly.
    let before = Instant::now();
    let (alice, mut events) = Client::connect(addr, alice_config(), ClientOptions::default())
        .await
        .unwrap();
    let login_time = before.elapsed();
    assert!(login_time < deadline, "login took {login_time:?}");
    alice.list_users().await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .unwrap();
    assert!(matches!(event, Some(ClientEvent::Users { .. })));

    // Every stalled connection is closed by the server at its deadline (the generic
    // alert, then end of stream).
    let mut closed = 0;
    for mut s in stalled {
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_secs(20), async {
            let mut total = Vec::new();
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return total,
                    Ok(n) => total.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await
        .expect("a stalled connection was never closed");
        assert_eq!(read, [0x02, 0, 0, 0, 1, 0x28]);
        closed += 1;
    }
    assert_eq!(closed, 1000);
    assert!(started.elapsed() >= deadline);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_handshake_cap_are_refused_at_once() {
    let server = Server::bind(
        "127.0.0.1:0",
        server_config(Duration::from_secs(30)),
        ServerOptions {
            relay: RelayConfig {
                max_handshaking: 10,
                ..RelayConfig::default()
            },
        },
    )
    .await
    .unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run(std::future::pending()));
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    // The eleventh is accepted by the kernel and closed by the server straight away.
    let mut extra = TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 8];
    let n = tokio::time::timeout(Duration::from_secs(10), extra.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0);
}
