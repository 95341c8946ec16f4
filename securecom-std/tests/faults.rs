//! Faults and abuse over real TCP with the blocking driver, bounded in time.

mod support;

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use securecom_std::proto::client::ClientEvent;
use securecom_std::proto::handshake::HandshakeError;
use securecom_std::proto::relay::RelayConfig;
use securecom_std::{Client, ClientOptions, ConnectError, Server, ServerOptions, ShutdownHandle};
use support::{
    TestClient, TestServer, WAIT, client_config, client_config_with_timeout, server_config,
    server_config_with,
};

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

#[test]
fn a_silent_server_fails_the_handshake_at_its_deadline() {
    // Accepts, then never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let timeout = Duration::from_millis(500);
    let started = Instant::now();
    let result = Client::connect(
        addr,
        client_config_with_timeout("alice", timeout),
        ClientOptions::default(),
    );
    let took = started.elapsed();
    assert!(
        matches!(
            result,
            Err(ConnectError::Handshake(HandshakeError::Timeout))
        ),
        "{:?}",
        result.map(|_| ())
    );
    assert!(took >= timeout && took < WAIT, "took {took:?}");
    drop(silent);
}

#[test]
fn a_server_closing_during_the_handshake_is_reported() {
    let closing = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closing.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = closing.accept().unwrap();
        // Read the hello, then hang up.
        let mut buf = [0u8; 256];
        let _ = stream.read(&mut buf);
    });
    let result = Client::connect(addr, client_config("alice"), ClientOptions::default());
    // Once connected, the driver reports any end of the handshake's socket, EOF or error,
    // as `Closed` (`Io` is only for the connect itself).
    assert!(
        matches!(result, Err(ConnectError::Closed)),
        "{:?}",
        result.map(|_| ())
    );
    server.join().unwrap();
}

#[test]
fn a_server_shut_down_before_it_runs_returns_at_once() {
    let server = Server::bind("127.0.0.1:0", server_config(), ServerOptions::default()).unwrap();
    let shutdown = ShutdownHandle::new();
    shutdown.shutdown();
    let started = Instant::now();
    server.run(shutdown).unwrap();
    assert!(started.elapsed() < WAIT);
}
