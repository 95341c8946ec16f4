//! Logging peers in: a genuine handshake through the relay, on one connection.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{End, Peer, World, drain_session};
use crate::chat::MemoryKnownKeys;
use crate::client::ChatClient;
use crate::handshake::{ClientConfig, ClientHandshake, ClientProgress, HandshakeError};
use crate::identity::Username;
use crate::relay::{ConnectionId, RelayError};
use crate::session::Session;
use crate::testkit::TestRng;
use crate::testkit::fixtures::{self, VALID_TIME};

/// Exchanges of a login handshake after which it counts as stalled.
const MAX_LOGIN_EXCHANGES: usize = 8;

/// Why a login failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LoginError {
    /// The fixtures have no such user.
    UnknownUser,
    /// The relay refused the connection, or lost it.
    Relay(RelayError),
    /// The handshake failed at the client (the relay's refusal arrives this way too).
    Handshake(HandshakeError),
    /// The handshake did not finish in a bounded number of exchanges.
    Stalled,
}

/// A completed login handshake.
struct Login {
    conn: ConnectionId,
    name: Username,
    config: Arc<ClientConfig>,
    /// The client's established session.
    session: Session,
    /// What the relay sent after the Welcome.
    rest: Vec<u8>,
}

impl World {
    /// Logs `user` in with a chat client: a genuine handshake through the relay on a new
    /// connection (only this connection's bytes move). Returns the peer's index.
    pub(crate) fn connect(&mut self, user: &str) -> Result<usize, LoginError> {
        let u = fixtures::get().named(user).ok_or(LoginError::UnknownUser)?;
        self.connect_with(Arc::clone(&u.config))
    }

    /// Logs `user` in genuinely, keeping the bare session: the test writes the records.
    pub(crate) fn connect_session(&mut self, user: &str) -> Result<usize, LoginError> {
        let mut login = self.handshake(user)?;
        drain_session(&mut login.session, &login.rest);
        let end = End::Session(Box::new(login.session));
        Ok(self.push(Peer::new(Some(login.name), login.conn, end)))
    }

    /// Opens a connection that never logs in.
    pub(crate) fn connect_raw(&mut self) -> Result<usize, RelayError> {
        let mut rng = self.next_rng();
        let conn = self.relay.open_connection(self.now, &mut rng)?;
        Ok(self.push(Peer::new(None, conn, End::Raw)))
    }

    /// Fresh, distinct randomness: for the next connection (its relay side and its
    /// client), or a client's next command.
    pub(crate) fn next_rng(&mut self) -> TestRng {
        self.next_seed += 1;
        TestRng::new(self.next_seed)
    }

    fn push(&mut self, peer: Peer) -> usize {
        self.peers.push(peer);
        self.peers.len() - 1
    }

    /// The handshake of `user` on a new connection.
    fn handshake(&mut self, user: &str) -> Result<Login, LoginError> {
        let u = fixtures::get().named(user).ok_or(LoginError::UnknownUser)?;
        self.handshake_with(Arc::clone(&u.config))
    }

    /// Logs in with `config` (any identity, registered or not) and a chat client.
    pub(crate) fn connect_with(
        &mut self,
        config: Arc<crate::handshake::ClientConfig>,
    ) -> Result<usize, LoginError> {
        let login = self.handshake_with(config)?;
        let mut client = ChatClient::new(
            login.session,
            login.config,
            Box::new(MemoryKnownKeys::default()),
            self.now,
        );
        let failed = client.handle_input(self.now, &login.rest).is_err();
        let end = End::Client(Box::new(client));
        let i = self.push(Peer::new(Some(login.name), login.conn, end));
        if failed {
            self.close(i);
        }
        Ok(i)
    }

    fn handshake_with(
        &mut self,
        config: Arc<crate::handshake::ClientConfig>,
    ) -> Result<Login, LoginError> {
        let now = self.now;
        let mut rng = self.next_rng();
        let conn = self
            .relay
            .open_connection(now, &mut rng)
            .map_err(LoginError::Relay)?;
        let mut hs = ClientHandshake::start(Arc::clone(&config), &mut rng, now, VALID_TIME);
        for _ in 0..MAX_LOGIN_EXCHANGES {
            let out = hs.output().to_vec();
            hs.consume_output(out.len());
            if !out.is_empty() {
                self.relay
                    .handle_input(conn, now, &out)
                    .map_err(LoginError::Relay)?;
            }
            let back = self.relay.output(conn).to_vec();
            self.relay.consume_output(conn, back.len());
            match hs.handle_input(now, &back) {
                Ok(ClientProgress::Continue(next)) => hs = next,
                Ok(ClientProgress::Established {
                    session, consumed, ..
                }) => {
                    return Ok(Login {
                        conn,
                        name: config.username().clone(),
                        config: Arc::clone(&config),
                        session,
                        rest: back.get(consumed..).unwrap_or(&[]).to_vec(),
                    });
                }
                Err(e) => return Err(LoginError::Handshake(e)),
            }
        }
        Err(LoginError::Stalled)
    }
}
