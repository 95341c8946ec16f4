//! The genuine client-server handshake between the fixtures, in memory and deterministic:
//! the session pair the `record` and `client` fuzz targets start from, and the flights the
//! handshake targets' seeds are made of.

#![cfg_attr(
    not(feature = "fuzzing"),
    allow(unreachable_pub, reason = "public through the fuzzing module")
)]

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::TestRng;
use super::fixtures::{self, VALID_TIME};
use crate::handshake::{ClientHandshake, ClientProgress, ServerHandshake, ServerProgress};
use crate::session::Session;
use crate::time::Instant;

/// The handshake clock: the deadline is never reached.
pub(crate) const T0: Instant = Instant::ZERO;
/// Seed of the client's [`TestRng`].
pub(crate) const CLIENT_SEED: u64 = 1;
/// Seed of the server's [`TestRng`].
pub(crate) const SERVER_SEED: u64 = 2;
/// The session id the server assigns.
pub(crate) const SESSION_ID: u64 = 7;
/// The user who logs in.
pub(crate) const USER: &str = "alice";

/// A run of the genuine handshake.
pub(crate) struct Genuine {
    /// The flights as on the wire, as far as the handshake got: ClientHello, the server's
    /// flight, the client's flight, the Welcome.
    pub(crate) flights: Vec<Vec<u8>>,
    /// The established sessions (client, server), if it completed.
    pub(crate) sessions: Option<(Session, Session)>,
}

/// The full handshake of [`USER`] with the fixture server, with the [`TestRng`] seeds
/// [`CLIENT_SEED`] and [`SERVER_SEED`] and session id [`SESSION_ID`].
pub(crate) fn genuine() -> Genuine {
    let f = fixtures::get();
    let mut run = Genuine {
        flights: Vec::new(),
        sessions: None,
    };
    let Some(user) = f.named(USER) else {
        return run;
    };
    let mut client = ClientHandshake::start(
        Arc::clone(&user.config),
        &mut TestRng::new(CLIENT_SEED),
        T0,
        VALID_TIME,
    );
    let server = ServerHandshake::new(Arc::clone(&f.server), &mut TestRng::new(SERVER_SEED), T0);
    let hello = take(&mut run, client.output());
    client.consume_output(hello.len());
    let Ok(ServerProgress::Continue(mut server)) = server.handle_input(T0, &hello) else {
        return run;
    };
    let flight = take(&mut run, server.output());
    server.consume_output(flight.len());
    let Ok(ClientProgress::Continue(mut client)) = client.handle_input(T0, &flight) else {
        return run;
    };
    let flight = take(&mut run, client.output());
    client.consume_output(flight.len());
    let Ok(ServerProgress::Authenticated { client: auth, .. }) = server.handle_input(T0, &flight)
    else {
        return run;
    };
    let mut server = auth.accept(SESSION_ID);
    let welcome = take(&mut run, server.output());
    server.consume_output(welcome.len());
    if let Ok(ClientProgress::Established {
        session: client, ..
    }) = client.handle_input(T0, &welcome)
    {
        run.sessions = Some((client, server));
    }
    run
}

/// Records `output` as the next flight and returns a copy.
fn take(run: &mut Genuine, output: &[u8]) -> Vec<u8> {
    run.flights.push(output.to_vec());
    output.to_vec()
}

/// A genuine client-server session pair (client, server): the full handshake of alice with
/// the fixture server, the [`TestRng`] seeds 1 (client) and 2 (server), session id 7.
///
/// The handshake runs once per process; every call returns a copy of its sessions, so that
/// fuzz targets start from the established state at the cost of a copy. Returns `None`
/// only if the handshake fails, which is a bug the replay tests catch.
pub fn session_pair() -> Option<(Session, Session)> {
    static PAIR: std::sync::OnceLock<Option<(Session, Session)>> = std::sync::OnceLock::new();
    PAIR.get_or_init(|| genuine().sessions).clone()
}
