//! Handshakes: a thousand connections that never start theirs, connections beyond the
//! cap, an oversized frame header, a server whose certificate names another server, and
//! servers that stay silent or hang up during the client's handshake.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use securecom::host::driver::{ClientOptions, ConnectError};
use securecom::proto::codec::{ContentType, FRAME_HEADER_LEN, FrameError};
use securecom::proto::handshake::HandshakeError;
use securecom::proto::pki::CertificateError;
use securecom::proto::relay::RelayConfig;

use crate::suite::fixtures;
use crate::suite::harness::{Driver, Handle, PROMPT, WAIT};
use crate::suite::net::Net;
use crate::suite::steps::{expect_message, start_chat, users};
use crate::suite::tcp::{self, Closing};

const STALLED: usize = 1_000;
/// Short, so the scenario does not wait long for the server to close them.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);
/// Open files the scenario needs, for both drivers at once: each stalled connection costs
/// the test one descriptor and the server up to three.
const OPEN_FILES: u64 = 16_384;

/// Scenario 8: while a thousand silent connections hold handshake places (the cap is above
/// them), a genuine client logs in; then the server closes every one at its handshake
/// deadline with the generic alert, and none before.
///
/// Opening them takes seconds when the listen queue overflows (the kernel then retries a
/// connection a second later), so the first ones may reach their deadline before the
/// last ones are open: what must hold when alice has been served is that every stalled
/// connection younger than the handshake timeout is still open, and that there are such.
pub(crate) fn a_thousand_stalled_handshakes_do_not_keep_a_client_out<D: Driver>() {
    rlimit::increase_nofile_limit(OPEN_FILES).unwrap();
    // From one address: the per-source limit is raised with the total one, so that the
    // scenario measures the total's defence (the per-source one has its own tests).
    let relay = RelayConfig {
        max_handshaking: STALLED + 100,
        max_handshaking_per_source: STALLED + 100,
        ..RelayConfig::default()
    };
    let net = Net::<D>::start_with(HANDSHAKE_TIMEOUT, relay).unwrap();
    // Each with the time before it was opened: its deadline cannot come earlier than that
    // plus the handshake timeout.
    let mut stalled: Vec<(Instant, TcpStream)> = (0..STALLED)
        .map(|_| {
            let opened = Instant::now();
            TcpStream::connect(net.addr()).map(|s| (opened, s))
        })
        .collect::<Result<_, _>>()
        .unwrap();

    let mut alice = net.login("alice").unwrap();
    assert_eq!(users(&mut alice), ["alice"]);
    let quiet: Vec<bool> = stalled
        .iter()
        .map(|(_, s)| tcp::is_quiet(s).unwrap())
        .collect();
    let checked = Instant::now();
    let young = |opened: &Instant| checked < *opened + HANDSHAKE_TIMEOUT;
    let held = stalled.iter().filter(|(opened, _)| young(opened)).count();
    assert!(
        held > 0,
        "alice was served {:?} after the last stalled connection opened: not while they were held",
        checked - stalled.last().map_or(checked, |(opened, _)| *opened)
    );
    for (i, ((opened, _), quiet)) in stalled.iter().zip(quiet).enumerate() {
        assert!(
            quiet || !young(opened),
            "stalled connection {i} was closed before its deadline"
        );
    }

    let alert = HandshakeError::Timeout.wire_alert().unwrap().to_vec();
    let deadline = Instant::now() + WAIT;
    for (i, (_, stream)) in stalled.iter_mut().enumerate() {
        let outcome = tcp::wait_closed(stream, deadline).unwrap();
        assert_eq!(
            outcome,
            Closing::Closed {
                received: alert.clone(),
                reset: false,
            },
            "stalled connection {i}"
        );
    }
}

/// The handshakes the server holds at once in
/// [`connections_beyond_the_handshake_cap_are_refused_at_once`].
const CAP: usize = 10;

/// With `max_handshaking` silent connections held (well within their handshake deadline),
/// the next one is closed at once without a byte, and the held ones stay open.
pub(crate) fn connections_beyond_the_handshake_cap_are_refused_at_once<D: Driver>() {
    let relay = RelayConfig {
        max_handshaking: CAP,
        ..RelayConfig::default()
    };
    let net = Net::<D>::start(relay).unwrap();
    // Accepted in the order they were opened: these take every place.
    let held = tcp::connect_silent(net.addr(), CAP).unwrap();
    let opened = Instant::now();
    let mut extra = TcpStream::connect(net.addr()).unwrap();
    let outcome = tcp::wait_closed(&mut extra, opened + PROMPT).unwrap();
    assert_eq!(
        outcome,
        Closing::Closed {
            received: Vec::new(),
            reset: false,
        },
        "the connection beyond the cap, after {:?}: it should be closed at once",
        opened.elapsed()
    );
    for (i, stream) in held.iter().enumerate() {
        assert!(
            tcp::is_quiet(stream).unwrap(),
            "connection {i}, within the cap, was closed"
        );
    }
}

/// A fresh connection announcing a handshake frame of 4 GiB - 1 bytes gets the generic
/// alert at once (after its 5 header bytes, nothing allocated) and is closed; the chat
/// going on beside it does not notice.
pub(crate) fn an_oversized_frame_header_closes_only_that_connection<D: Driver>() {
    let net = Net::<D>::start(RelayConfig::default()).unwrap();
    let mut alice = net.login("alice").unwrap();
    let mut bob = net.login("bob").unwrap();
    start_chat(&mut alice, &mut bob);

    let opened = Instant::now();
    let mut raw = TcpStream::connect(net.addr()).unwrap();
    raw.write_all(&[ContentType::HANDSHAKE.0, 0xff, 0xff, 0xff, 0xff])
        .unwrap();
    let outcome = tcp::wait_closed(&mut raw, opened + PROMPT).unwrap();
    let alert = HandshakeError::Frame(FrameError::TooLarge {
        announced: u32::MAX,
    })
    .wire_alert()
    .unwrap()
    .to_vec();
    assert_eq!(
        outcome,
        Closing::Closed {
            received: alert,
            reset: false,
        },
        "after {:?}",
        opened.elapsed()
    );

    alice.h().send_text("unaffected").unwrap();
    expect_message(&mut bob, "alice", "unaffected");
    bob.h().send_text("likewise").unwrap();
    expect_message(&mut alice, "bob", "likewise");
    assert_eq!(users(&mut alice), ["alice", "bob"]);
}

/// A client expecting `example.com` refuses the fixtures' server (its certificate names
/// `localhost`) with the exact certificate error; the server serves the next client.
pub(crate) fn wrong_server_name_fails_the_handshake<D: Driver>() {
    let net = Net::<D>::start(RelayConfig::default()).unwrap();
    match net.connect_with(fixtures::client_config_expecting("alice", "example.com")) {
        Err(ConnectError::Handshake(HandshakeError::Certificate(
            CertificateError::NameMismatch,
        ))) => {}
        Err(other) => panic!("the handshake failed otherwise: {other:?}"),
        Ok(_) => panic!("a server named localhost was taken for example.com"),
    }
    let mut alice = net.login("alice").unwrap();
    assert_eq!(users(&mut alice), ["alice"]);
}

/// A server that accepts (the kernel completes the connection) and then never answers:
/// the client's handshake fails with `Timeout` at its configured deadline, not before and
/// not much after.
pub(crate) fn a_silent_server_fails_the_handshake_at_its_deadline<D: Driver>() {
    let timeout = Duration::from_millis(500);
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let driver = D::new().unwrap();
    let config = fixtures::client_config_with_timeout("alice", timeout);
    // Taken before connecting: the client's deadline cannot start earlier.
    let started = Instant::now();
    let result = driver.connect(
        silent.local_addr().unwrap(),
        config,
        ClientOptions::default(),
    );
    let took = started.elapsed();
    match result {
        Err(ConnectError::Handshake(HandshakeError::Timeout)) => {}
        Err(other) => panic!("the handshake failed otherwise, after {took:?}: {other:?}"),
        Ok(_) => panic!("a silent server let the client in"),
    }
    assert!(
        took >= timeout,
        "gave up after {took:?}, within its handshake timeout of {timeout:?}"
    );
    assert!(
        took < timeout + PROMPT,
        "gave up after {took:?}: its handshake timeout is {timeout:?}"
    );
}

/// Reads one whole frame (its header, then the length it announces).
fn read_frame(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut header = [0u8; FRAME_HEADER_LEN];
    stream.read_exact(&mut header)?;
    let [_, len @ ..] = header;
    let mut frame = header.to_vec();
    frame.resize(FRAME_HEADER_LEN + u32::from_be_bytes(len) as usize, 0);
    stream.read_exact(&mut frame[FRAME_HEADER_LEN..])?;
    Ok(frame)
}

/// A server that reads the client's hello (the whole frame, so that closing sends an end
/// of stream, not a reset) and hangs up: the client reports `Closed`.
pub(crate) fn a_server_closing_during_the_handshake_is_reported<D: Driver>() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hanging_up = thread::spawn(move || -> io::Result<Vec<u8>> {
        let (mut stream, _) = listener.accept()?;
        stream.set_read_timeout(Some(WAIT))?;
        read_frame(&mut stream)
    });
    let driver = D::new().unwrap();
    let result = driver.connect(
        addr,
        fixtures::client_config("alice"),
        ClientOptions::default(),
    );
    match result {
        Err(ConnectError::Closed) => {}
        Err(other) => panic!("the handshake failed otherwise: {other:?}"),
        Ok(_) => panic!("a server that hung up let the client in"),
    }
    let hello = hanging_up.join().unwrap().unwrap();
    assert_eq!(hello.first(), Some(&ContentType::HANDSHAKE.0), "{hello:?}");
}
