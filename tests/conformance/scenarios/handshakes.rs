//! Scenario 8: a thousand connections that never start their handshake.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use securecom::proto::handshake::HandshakeError;
use securecom::proto::relay::RelayConfig;

use crate::suite::harness::{Driver, WAIT};
use crate::suite::net::Net;
use crate::suite::steps::users;
use crate::suite::tcp::{self, Closing};

const STALLED: usize = 1_000;
/// Short, so the scenario does not wait long for the server to close them.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);
/// Open files the scenario needs, for both drivers at once: each stalled connection costs
/// the test one descriptor and the server up to three.
const OPEN_FILES: u64 = 16_384;

/// While a thousand silent connections hold handshake places (the cap is above them), a
/// genuine client logs in; then the server closes every one at its handshake deadline
/// with the generic alert, and none before.
///
/// Opening them takes seconds when the listen queue overflows (the kernel then retries a
/// connection a second later), so the first ones may reach their deadline before the
/// last ones are open: what must hold when alice has been served is that every stalled
/// connection younger than the handshake timeout is still open, and that there are such.
pub(crate) fn a_thousand_stalled_handshakes_do_not_keep_a_client_out<D: Driver>() {
    rlimit::increase_nofile_limit(OPEN_FILES).unwrap();
    let relay = RelayConfig {
        max_handshaking: STALLED + 100,
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
