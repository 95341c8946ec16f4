//! Faults and abuse over real TCP with the blocking driver, bounded in time.

mod support;

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use securecom_std::ServerOptions;
use securecom_std::proto::client::ClientEvent;
use securecom_std::proto::relay::RelayConfig;
use support::{TestClient, TestServer, WAIT, server_config_with};

/// Reads until the server closes the connection; fails if it stays open for [`WAIT`].
fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut total = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return total,
            Ok(n) => total.extend_from_slice(&buf[..n]),
            Err(e) => {
                assert!(
                    !matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ),
                    "the server kept the connection open"
                );
                return total;
            }
        }
    }
}

#[test]
fn a_thousand_stalled_handshakes_are_dropped_at_the_deadline_while_a_client_logs_in() {
    let _ = rlimit::increase_nofile_limit(8192);
    let deadline = Duration::from_secs(3);
    let server = TestServer::start_custom(
        server_config_with(deadline),
        ServerOptions {
            relay: RelayConfig {
                max_handshaking: 1_100,
                ..RelayConfig::default()
            },
        },
    );
    let started = Instant::now();
    let mut stalled: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();

    // A genuine client still gets in promptly.
    let before = Instant::now();
    let mut alice = TestClient::connect(server.addr, "alice");
    let login_time = before.elapsed();
    assert!(login_time < deadline, "login took {login_time:?}");
    alice.h().list_users().unwrap();
    alice.expect("the user list", |e| {
        matches!(e, ClientEvent::Users { .. }).then_some(())
    });

    // Every stalled connection is closed by the server at its deadline: the generic
    // alert, then the end of the stream.
    for s in &mut stalled {
        assert_eq!(read_until_closed(s), [0x02, 0, 0, 0, 1, 0x28]);
    }
    assert!(started.elapsed() >= deadline);
}

#[test]
fn connections_beyond_the_handshake_cap_are_refused_at_once() {
    let server = TestServer::start_custom(
        server_config_with(Duration::from_secs(30)),
        ServerOptions {
            relay: RelayConfig {
                max_handshaking: 10,
                ..RelayConfig::default()
            },
        },
    );
    let held: Vec<TcpStream> = (0..10)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    // The eleventh is accepted by the kernel and closed by the server straight away.
    let mut extra = TcpStream::connect(server.addr).unwrap();
    assert_eq!(read_until_closed(&mut extra), b"");
    drop(held);
}
