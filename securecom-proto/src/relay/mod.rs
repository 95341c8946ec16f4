//! The relay: the server's presence and routing, as one sans-IO state machine.
//!
//! A [`Relay`] owns every connection by [`ConnectionId`]: handshakes, sessions, presence,
//! requests and chats. Drivers do not drive it directly: the
//! [`ServerEndpoint`](crate::endpoint::ServerEndpoint) wraps it and adds every decision
//! about sockets and time (what to write when, whom to stop reading, write deadlines,
//! callback connections, shutdown); its type documentation holds the driving contract.
//! The relay's own calls, which the endpoint, the simulations and the fuzz targets use:
//!
//! 1. [`Relay::open_connection`] for each accepted socket (refused when full);
//! 2. [`Relay::handle_input`] with received bytes; [`Relay::wants_input`] is false while
//!    the connection's chat peer is too far behind (backpressure towards fast senders);
//! 3. [`Relay::poll_transmit`] names connections with output; [`Relay::output`] and
//!    [`Relay::consume_output`] hand it out; [`Relay::should_close`] says when a finished
//!    connection's output is flushed;
//! 4. [`Relay::connection_lost`] (or [`Relay::connection_stalled`]) when a socket ends;
//! 5. [`Relay::handle_timeout`] when [`Relay::poll_timeout`] passes;
//! 6. [`Relay::poll_event`] for logs and metrics.
//!
//! A connection's bad input closes that connection only. A user is online only after a
//! complete handshake; chat data is forwarded opaquely between the two members of a chat
//! and nobody else.

mod cluster;
mod commands;
mod config;
mod event;
mod requests;
mod route;
#[cfg(feature = "fuzzing")]
mod snapshot;

pub use config::{DuplicateLogin, RelayConfig};
pub use event::{OfflineReason, RelayEvent, SessionFailure};

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::net::IpAddr;

use rand_core::CryptoRng;

use crate::cluster::{BusBody, NodeId};
use crate::codec::Codec;
use crate::command::{Notice, Request};
use crate::handshake::{AuthenticatedClient, ServerConfig, ServerHandshake, ServerProgress};
use crate::identity::{PublicKey, Username};
use crate::session::{Channel, CloseReason, Incoming, Session};
use crate::time::Instant;
use requests::PendingRequests;
pub(crate) use route::{Deliver, Route};

/// Identifies one connection to the relay. Never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Why the relay refused a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// Too many connections, or too many still in the handshake.
    #[error("connection limit reached")]
    TooManyConnections,
    /// Too many connections still in the handshake from this source address (or, for
    /// IPv6, this /64 network).
    #[error("connection limit for this address reached")]
    TooManyFromSource,
    /// No such connection (closed already, or never opened).
    #[error("unknown connection")]
    UnknownConnection,
    /// The server is shutting down and takes no new connections.
    #[error("shutting down")]
    ShuttingDown,
}

struct Connection {
    state: ConnState,
    /// Last time the peer sent anything (for the idle timeout).
    last_heard: Instant,
    /// When the connection started closing: its last output gets [`CLOSE_LINGER`] to be
    /// written, then it is dropped even if the peer never reads.
    closing_since: Option<Instant>,
    /// Where it came from, as counted against the per-source handshake limit (set while
    /// it is in the handshake).
    source: Option<IpAddr>,
}

/// How long a closing connection's last bytes may wait for a peer that does not read.
pub const CLOSE_LINGER: core::time::Duration = core::time::Duration::from_secs(10);

enum ConnState {
    Handshaking(Option<Box<ServerHandshake>>),
    /// Authenticated; waiting for the cluster's presence store to confirm the login.
    Claiming(Box<cluster::Claiming>),
    Online(Box<Online>),
    /// Finished: only the remaining output is left to write.
    Closing(Vec<u8>),
}

use alloc::boxed::Box;

#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
struct Online {
    session: Session,
    user: Username,
    key: PublicKey,
    /// The user this one is chatting with.
    chat: Option<Username>,
    /// The node of that user, when it is not this one.
    chat_node: Option<NodeId>,
    /// The presence store's revision of this session's entry (clustered relays).
    claim: Option<u64>,
    /// Conflicts in a row while claiming the name again (clustered relays): bounded, so
    /// that a store that keeps contradicting this node's mirror is not argued with forever.
    reclaims: u8,
}

/// The relay. See the [module documentation](self) for the driving contract.
pub struct Relay {
    server: Arc<ServerConfig>,
    config: RelayConfig,
    next_id: u64,
    connections: BTreeMap<ConnectionId, Connection>,
    online: BTreeMap<Username, ConnectionId>,
    requests: PendingRequests,
    handshaking: usize,
    /// Connections in the handshake per source (address, or IPv6 /64).
    handshaking_by_source: BTreeMap<IpAddr, usize>,
    events: VecDeque<RelayEvent>,
    transmit: BTreeSet<ConnectionId>,
    /// Scratch for decrypted commands, reused.
    inbox: Vec<Vec<u8>>,
    /// The latest time any call brought, for deadlines set outside a timed call.
    now: Instant,
    /// A lower bound of every pending deadline: exact after `handle_timeout`, lowered when
    /// a deadline is added. Deadlines only move later otherwise, so the bound stays safe
    /// and `poll_timeout` costs nothing however many connections there are.
    next_timeout: Option<Instant>,
    /// The other nodes, for a clustered relay.
    cluster: Option<Box<cluster::ClusterState>>,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("connections", &self.connections.len())
            .field("online", &self.online.len())
            .field("handshaking", &self.handshaking)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// A relay serving with `server` (credentials and user directory) under `config`.
    pub fn new(server: Arc<ServerConfig>, config: RelayConfig) -> Self {
        Relay {
            server,
            config,
            next_id: 1,
            connections: BTreeMap::new(),
            online: BTreeMap::new(),
            requests: PendingRequests::default(),
            handshaking: 0,
            handshaking_by_source: BTreeMap::new(),
            events: VecDeque::new(),
            transmit: BTreeSet::new(),
            inbox: Vec::new(),
            now: Instant::ZERO,
            next_timeout: None,
            cluster: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RelayConfig {
        &self.config
    }

    /// Users online, in name order.
    pub fn online_users(&self) -> impl Iterator<Item = &Username> {
        self.online.keys()
    }

    /// Connections held (of any kind).
    pub fn connection_count(&self) -> usize {
        self.connections.len()
    }

    /// Connections still in the handshake.
    pub fn handshaking_count(&self) -> usize {
        self.handshaking
    }

    /// The user `user` is chatting with, if any.
    pub fn chat_peer(&self, user: &Username) -> Option<&Username> {
        let id = self.online.get(user)?;
        match &self.connections.get(id)?.state {
            ConnState::Online(o) => o.chat.as_ref(),
            _ => None,
        }
    }

    /// Registers a newly accepted connection of unknown origin (counted against the total
    /// limits only); draws its handshake randomness from `rng`.
    pub fn open_connection<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        rng: &mut R,
    ) -> Result<ConnectionId, RelayError> {
        self.open_connection_from(now, None, rng)
    }

    /// Registers a newly accepted connection from `source`: refused when the total limits
    /// or the limit per source ([`RelayConfig::max_handshaking_per_source`]; IPv6 addresses
    /// count per /64 network) are reached, before any handshake work is done.
    pub fn open_connection_from<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        source: Option<IpAddr>,
        rng: &mut R,
    ) -> Result<ConnectionId, RelayError> {
        self.now = self.now.max(now);
        if self.connections.len() >= self.config.max_connections
            || self.handshaking >= self.config.max_handshaking
        {
            return Err(RelayError::TooManyConnections);
        }
        let source = source.map(source_key);
        if let Some(key) = &source
            && self.handshaking_by_source.get(key).copied().unwrap_or(0)
                >= self.config.max_handshaking_per_source
        {
            return Err(RelayError::TooManyFromSource);
        }
        let id = ConnectionId(self.next_id);
        self.next_id += 1;
        let hs = ServerHandshake::new(self.server.clone(), rng, now);
        if let Some(deadline) = hs.poll_timeout() {
            self.note_deadline(deadline);
        }
        self.connections.insert(
            id,
            Connection {
                state: ConnState::Handshaking(Some(Box::new(hs))),
                last_heard: now,
                closing_since: None,
                source,
            },
        );
        self.handshaking += 1;
        if let Some(key) = source {
            *self.handshaking_by_source.entry(key).or_insert(0) += 1;
        }
        Ok(id)
    }

    /// Processes bytes received on `id`. Every byte is consumed; a protocol error closes
    /// this connection only.
    pub fn handle_input(
        &mut self,
        id: ConnectionId,
        now: Instant,
        data: &[u8],
    ) -> Result<(), RelayError> {
        self.handle_input_routed(id, now, data, &mut route::Honest)
    }

    /// [`Relay::handle_input`], with the commands in `data` routed by `route`.
    pub(crate) fn handle_input_routed<R: Route + ?Sized>(
        &mut self,
        id: ConnectionId,
        now: Instant,
        data: &[u8],
        route: &mut R,
    ) -> Result<(), RelayError> {
        self.now = self.now.max(now);
        let conn = self
            .connections
            .get_mut(&id)
            .ok_or(RelayError::UnknownConnection)?;
        conn.last_heard = now;
        let rest = match &mut conn.state {
            ConnState::Handshaking(_) => match self.advance_handshake(id, now, data) {
                Some(consumed) => data.get(consumed..).unwrap_or(&[]),
                None => return Ok(()),
            },
            ConnState::Online(_) => data,
            ConnState::Claiming(claiming) => {
                // Early session input waits (bounded) for the claim.
                if claiming.input.len() + data.len() > cluster::MAX_CLAIM_INPUT {
                    self.set_closing(id, Vec::new());
                } else {
                    claiming.input.extend_from_slice(data);
                }
                return Ok(());
            }
            // Nothing a closing connection sends matters any more.
            ConnState::Closing(_) => return Ok(()),
        };
        self.session_input(id, now, rest, route);
        Ok(())
    }

    /// Runs the handshake of `id` on `data`. Returns how much was consumed if the
    /// connection came online (the rest is session input), `None` otherwise.
    fn advance_handshake(&mut self, id: ConnectionId, now: Instant, data: &[u8]) -> Option<usize> {
        let hs = match self.connections.get_mut(&id).map(|c| &mut c.state) {
            Some(ConnState::Handshaking(hs)) => hs.take()?,
            _ => return None,
        };
        match (*hs).handle_input(now, data) {
            Ok(ServerProgress::Continue(hs)) => {
                let has_output = !hs.output().is_empty();
                if let Some(conn) = self.connections.get_mut(&id) {
                    conn.state = ConnState::Handshaking(Some(Box::new(hs)));
                }
                if has_output {
                    self.transmit.insert(id);
                }
                None
            }
            Ok(ServerProgress::Authenticated { client, consumed }) => {
                self.handshake_done(id);
                let user = client.username().clone();
                let key = *client.public_key();
                // A session whose key is no longer registered (the directory changed since
                // it logged in) gives its name to the registered key, whatever the policy:
                // the owner of a stolen key takes the name back.
                if let Some(existing) = self.online.get(&user).copied()
                    && self.online_by_id(existing).is_some_and(|o| o.key != key)
                    && self.server.directory.lookup(&user) == Some(key)
                {
                    self.close_online(existing, CloseReason::REVOKED, OfflineReason::Revoked);
                }
                if let Some(existing) = self.online.get(&user).copied() {
                    match self.config.duplicate_login {
                        // Clustered, the local session gives way once the claim succeeds.
                        DuplicateLogin::ReplaceExisting if self.cluster.is_some() => {}
                        DuplicateLogin::RejectNew => {
                            let out = client.reject(CloseReason::ALREADY_LOGGED_IN);
                            self.set_closing(id, out);
                            self.events.push_back(RelayEvent::LoginRefused {
                                connection: id,
                                user,
                            });
                            return None;
                        }
                        DuplicateLogin::ReplaceExisting => {
                            self.close_online(
                                existing,
                                CloseReason::REPLACED,
                                OfflineReason::Replaced,
                            );
                        }
                    }
                }
                if self.online.len() >= self.config.max_users {
                    let out = client.reject(CloseReason::SERVER_FULL);
                    self.set_closing(id, out);
                    self.events.push_back(RelayEvent::LoginRefused {
                        connection: id,
                        user,
                    });
                    return None;
                }
                if self.cluster.is_some() {
                    // The name is claimed cluster-wide first; the session starts when the
                    // presence store confirms it.
                    let rest = data.get(consumed..).unwrap_or(&[]).to_vec();
                    self.begin_claim(id, client, rest);
                    return None;
                }
                self.go_online(id, now, client, None);
                Some(consumed)
            }
            Err(error) => {
                self.handshake_done(id);
                let out = error.wire_alert().map(<[u8]>::to_vec).unwrap_or_default();
                self.set_closing(id, out);
                self.events.push_back(RelayEvent::HandshakeFailed {
                    connection: id,
                    error,
                });
                None
            }
        }
    }

    /// Starts the session of an authenticated (and, clustered, claimed) login.
    fn go_online(
        &mut self,
        id: ConnectionId,
        now: Instant,
        client: AuthenticatedClient,
        claim: Option<u64>,
    ) {
        let user = client.username().clone();
        let key = *client.public_key();
        let session = client.accept(id.0);
        if let Some(conn) = self.connections.get_mut(&id) {
            conn.state = ConnState::Online(Box::new(Online {
                session,
                user: user.clone(),
                key,
                chat: None,
                chat_node: None,
                claim,
                reclaims: 0,
            }));
        }
        self.online.insert(user.clone(), id);
        self.transmit.insert(id);
        self.note_deadline(now + self.config.idle_timeout);
        self.events.push_back(RelayEvent::UserOnline {
            connection: id,
            user,
        });
    }

    /// Feeds session bytes of an online connection and executes the commands in them.
    fn session_input<R: Route + ?Sized>(
        &mut self,
        id: ConnectionId,
        now: Instant,
        mut data: &[u8],
        route: &mut R,
    ) {
        loop {
            let mut inbox = core::mem::take(&mut self.inbox);
            let outcome = match self.connections.get_mut(&id).map(|c| &mut c.state) {
                Some(ConnState::Online(online)) => {
                    let taken = online.session.push_input(data);
                    data = data.get(taken..).unwrap_or(&[]);
                    drain_records(&mut online.session, &mut inbox)
                }
                _ => {
                    self.inbox = inbox;
                    return;
                }
            };
            for command in inbox.drain(..) {
                match Request::decode(&command) {
                    Ok(request) => self.execute(id, now, request, route),
                    Err(_) => {
                        self.fail_session(id, SessionFailure::MalformedCommand);
                        break;
                    }
                }
            }
            self.inbox = inbox;
            match outcome {
                Drained::More => {}
                Drained::PeerClosed => {
                    self.close_online(id, CloseReason::NORMAL, OfflineReason::Disconnected);
                    return;
                }
                Drained::Failed(failure) => {
                    self.fail_session(id, failure);
                    return;
                }
            }
            if data.is_empty() {
                return;
            }
        }
    }

    /// Bytes waiting to be written to `id`.
    pub fn output(&self, id: ConnectionId) -> &[u8] {
        match self.connections.get(&id).map(|c| &c.state) {
            Some(ConnState::Handshaking(Some(hs))) => hs.output(),
            Some(ConnState::Online(o)) => o.session.output(),
            Some(ConnState::Closing(out)) => out,
            _ => &[],
        }
    }

    /// Marks the first `n` bytes of [`Relay::output`] for `id` as written.
    pub fn consume_output(&mut self, id: ConnectionId, n: usize) {
        match self.connections.get_mut(&id).map(|c| &mut c.state) {
            Some(ConnState::Handshaking(Some(hs))) => hs.consume_output(n),
            Some(ConnState::Online(o)) => o.session.consume_output(n),
            Some(ConnState::Closing(out)) => crate::codec::discard_written(out, n),
            _ => {}
        }
    }

    /// Bytes waiting for the callback connection of `id` (see [`RelayEvent::CallbackRequested`]).
    pub fn callback_output(&self, id: ConnectionId) -> &[u8] {
        match self.connections.get(&id).map(|c| &c.state) {
            Some(ConnState::Online(o)) => o.session.callback_output(),
            _ => &[],
        }
    }

    /// Marks the first `n` bytes of [`Relay::callback_output`] as written.
    pub fn consume_callback_output(&mut self, id: ConnectionId, n: usize) {
        if let Some(o) = self.online_by_id(id) {
            o.session.consume_callback_output(n);
        }
    }

    /// The callback connection of `id` could not be opened or broke: the request channel
    /// of that session is lost, so the session is closed.
    pub fn callback_failed(&mut self, id: ConnectionId, now: Instant) {
        self.now = self.now.max(now);
        self.close_online(id, CloseReason::PROTOCOL_ERROR, OfflineReason::Disconnected);
    }

    /// The next connection with output to write (or to close), if any. Each connection is
    /// reported once per change; [`Relay::output`] may be read any time.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<ConnectionId> {
        self.transmit.pop_first()
    }

    /// True when `id` is finished and its output flushed: close the socket, then call
    /// [`Relay::connection_lost`].
    pub fn should_close(&self, id: ConnectionId) -> bool {
        matches!(
            self.connections.get(&id).map(|c| &c.state),
            Some(ConnState::Closing(out)) if out.is_empty()
        )
    }

    /// True when `id` completed its handshake and is online.
    pub fn is_online(&self, id: ConnectionId) -> bool {
        matches!(
            self.connections.get(&id).map(|c| &c.state),
            Some(ConnState::Online(_))
        )
    }

    /// True while the relay holds connection `id` (in any state).
    pub fn has_connection(&self, id: ConnectionId) -> bool {
        self.connections.contains_key(&id)
    }

    /// Every connection held, in id order.
    pub fn connection_ids(&self) -> impl Iterator<Item = ConnectionId> + '_ {
        self.connections.keys().copied()
    }

    /// True while `id` is in the handshake (its output is replaced when the handshake ends,
    /// so a driver takes it as it hands it out).
    pub fn is_handshaking(&self, id: ConnectionId) -> bool {
        matches!(
            self.connections.get(&id).map(|c| &c.state),
            Some(ConnState::Handshaking(_))
        )
    }

    /// True when `id` is finished (its socket should be closed once its output is written).
    pub fn is_closing(&self, id: ConnectionId) -> bool {
        matches!(
            self.connections.get(&id).map(|c| &c.state),
            Some(ConnState::Closing(_)) | None
        )
    }

    /// False while the chat peer of `id` has more output buffered than
    /// [`RelayConfig::output_high_water`]: the driver should stop reading from `id` until
    /// it turns true again, so a fast sender is slowed to its peer's pace.
    pub fn wants_input(&self, id: ConnectionId) -> bool {
        let Some(ConnState::Online(online)) = self.connections.get(&id).map(|c| &c.state) else {
            return !self.is_closing(id);
        };
        let Some(peer) = online.chat.as_ref().and_then(|p| self.online.get(p)) else {
            return true;
        };
        self.output(*peer).len() + self.callback_output(*peer).len()
            <= self.config.output_high_water
    }

    /// The socket of `id` ended or failed; forget the connection.
    pub fn connection_lost(&mut self, id: ConnectionId) {
        let Some(conn) = self.connections.get(&id) else {
            return;
        };
        match &conn.state {
            ConnState::Online(_) => {
                self.close_online(id, CloseReason::NORMAL, OfflineReason::Disconnected);
            }
            ConnState::Handshaking(_) => {
                self.handshake_done(id);
            }
            // A claim still in flight is given back when its result arrives.
            ConnState::Closing(_) | ConnState::Claiming(_) => {}
        }
        self.connections.remove(&id);
        self.transmit.remove(&id);
    }

    /// The socket of `id` took none of the bytes handed to it within the write timeout:
    /// the user goes offline as [`OfflineReason::Stalled`] (its chat partner is told so)
    /// and the connection is forgotten.
    pub fn connection_stalled(&mut self, id: ConnectionId, now: Instant) {
        self.now = self.now.max(now);
        self.close_online(id, CloseReason::TOO_SLOW, OfflineReason::Stalled);
        self.connection_lost(id);
    }

    /// The user directory changed (keys added, replaced or removed while the server runs):
    /// every session whose key is no longer the one registered for its user is closed
    /// with [`CloseReason::REVOKED`] (its chat partner told [`GoneReason::REVOKED`]), so
    /// its name is free for the owner of the registered key. Returns how many.
    ///
    /// [`GoneReason::REVOKED`]: crate::command::GoneReason::REVOKED
    pub fn directory_changed(&mut self, now: Instant) -> usize {
        self.now = self.now.max(now);
        let revoked: Vec<ConnectionId> = self
            .connections
            .iter()
            .filter_map(|(id, c)| match &c.state {
                ConnState::Online(o) if self.server.directory.lookup(&o.user) != Some(o.key) => {
                    Some(*id)
                }
                _ => None,
            })
            .collect();
        for id in &revoked {
            self.close_online(*id, CloseReason::REVOKED, OfflineReason::Revoked);
        }
        self.next_timeout = self.earliest_deadline();
        revoked.len()
    }

    /// Closes every connection (server shutdown): online users get an authenticated
    /// close, handshakes are dropped.
    pub fn shutdown(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let ids: Vec<ConnectionId> = self.connections.keys().copied().collect();
        for id in ids {
            match self.connections.get(&id).map(|c| &c.state) {
                Some(ConnState::Online(_)) => {
                    self.close_online(id, CloseReason::SHUTDOWN, OfflineReason::Shutdown);
                }
                Some(ConnState::Handshaking(_)) => {
                    self.handshake_done(id);
                    self.set_closing(id, Vec::new());
                }
                Some(ConnState::Claiming(_)) => self.refuse_claim(id, CloseReason::SHUTDOWN),
                _ => {}
            }
        }
        // After every Left and release: the other nodes forget this one at once.
        self.cluster_goodbye(now);
        self.next_timeout = self.earliest_deadline();
    }

    /// When [`Relay::handle_timeout`] must be called next (possibly a little early: a call
    /// with nothing due is cheap to make and fixes the estimate).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_timeout
    }

    fn note_deadline(&mut self, deadline: Instant) {
        self.next_timeout = Some(match self.next_timeout {
            Some(t) => t.min(deadline),
            None => deadline,
        });
    }

    /// The exact earliest deadline, by a scan of every connection.
    fn earliest_deadline(&self) -> Option<Instant> {
        let conns = self.connections.values().filter_map(|c| match &c.state {
            ConnState::Handshaking(Some(hs)) => hs.poll_timeout(),
            ConnState::Online(_) => Some(c.last_heard + self.config.idle_timeout),
            ConnState::Closing(out) if !out.is_empty() => {
                c.closing_since.map(|since| since + CLOSE_LINGER)
            }
            _ => None,
        });
        conns
            .chain(self.requests.next_expiry())
            .chain(self.cluster_deadline())
            .min()
    }

    /// Fires every deadline that has passed: handshakes that took too long, chat requests
    /// nobody answered, sessions silent for too long.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let mut expired_handshakes = Vec::new();
        let mut idle = Vec::new();
        for (id, conn) in &mut self.connections {
            if let (ConnState::Closing(out), Some(since)) = (&mut conn.state, conn.closing_since)
                && now >= since + CLOSE_LINGER
                && !out.is_empty()
            {
                out.clear();
                self.transmit.insert(*id);
            }
            match &conn.state {
                ConnState::Handshaking(Some(hs)) if hs.poll_timeout().is_some_and(|t| now >= t) => {
                    expired_handshakes.push(*id);
                }
                ConnState::Online(_) if now >= conn.last_heard + self.config.idle_timeout => {
                    idle.push(*id);
                }
                _ => {}
            }
        }
        for id in expired_handshakes {
            self.handshake_done(id);
            let error = crate::handshake::HandshakeError::Timeout;
            let out = error.wire_alert().map(<[u8]>::to_vec).unwrap_or_default();
            self.set_closing(id, out);
            self.events.push_back(RelayEvent::HandshakeFailed {
                connection: id,
                error,
            });
        }
        for id in idle {
            self.close_online(id, CloseReason::IDLE_TIMEOUT, OfflineReason::Idle);
        }
        for (from, to, origin) in self.requests.expire(now) {
            match origin {
                None => self.notify(&from, &Notice::RequestExpired { peer: to.clone() }),
                Some(node) => self.publish(
                    &node,
                    BusBody::Expired {
                        from: from.clone(),
                        to: to.clone(),
                    },
                ),
            }
            self.notify(&to, &Notice::RequestExpired { peer: from });
        }
        self.cluster_timeout(now);
        self.next_timeout = self.earliest_deadline();
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<RelayEvent> {
        self.events.pop_front()
    }

    // ----- internal plumbing -----

    fn online_mut(&mut self, user: &Username) -> Option<&mut Online> {
        let id = self.online.get(user)?;
        match &mut self.connections.get_mut(id)?.state {
            ConnState::Online(o) => Some(o),
            _ => None,
        }
    }

    fn online_by_id(&mut self, id: ConnectionId) -> Option<&mut Online> {
        match &mut self.connections.get_mut(&id)?.state {
            ConnState::Online(o) => Some(o),
            _ => None,
        }
    }

    /// Connection `id` leaves the handshake (done, failed, timed out or gone).
    fn handshake_done(&mut self, id: ConnectionId) {
        self.handshaking = self.handshaking.saturating_sub(1);
        let source = self.connections.get_mut(&id).and_then(|c| c.source.take());
        if let Some(key) = source
            && let Some(count) = self.handshaking_by_source.get_mut(&key)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.handshaking_by_source.remove(&key);
            }
        }
    }

    fn set_closing(&mut self, id: ConnectionId, out: Vec<u8>) {
        if let Some(conn) = self.connections.get_mut(&id) {
            conn.state = ConnState::Closing(out);
            conn.closing_since = Some(self.now);
            self.transmit.insert(id);
            self.note_deadline(self.now + CLOSE_LINGER);
        }
    }

    /// Sends a notice on `user`'s request channel.
    fn notify(&mut self, user: &Username, notice: &Notice) {
        // Every field was decoded, or built, within the bounds the encoder checks: it
        // cannot refuse. Were it to, the notice is not sent.
        if let Some(id) = self.online.get(user).copied()
            && let Ok(bytes) = notice.to_bytes()
        {
            self.send(id, Channel::Request, &bytes);
        }
    }

    /// Sends bytes on a channel of an online connection; a connection that cannot take
    /// them (too far behind, broken) is dropped.
    fn send(&mut self, id: ConnectionId, channel: Channel, payload: &[u8]) {
        let limit = self.config.output_hard_limit;
        let Some(online) = self.online_by_id(id) else {
            return;
        };
        let ok = online.session.send(channel, payload).is_ok();
        let too_slow =
            online.session.output().len() + online.session.callback_output().len() > limit;
        self.transmit.insert(id);
        if !ok {
            self.close_online(
                id,
                CloseReason::PROTOCOL_ERROR,
                OfflineReason::ProtocolError,
            );
        } else if too_slow {
            self.close_online(id, CloseReason::TOO_SLOW, OfflineReason::TooSlow);
        }
    }

    fn fail_session(&mut self, id: ConnectionId, failure: SessionFailure) {
        self.events.push_back(RelayEvent::SessionFailed {
            connection: id,
            error: failure,
        });
        self.close_online(
            id,
            CloseReason::PROTOCOL_ERROR,
            OfflineReason::ProtocolError,
        );
    }

    /// Takes `id` offline: ends its chat, settles its requests, says goodbye if the
    /// session still can, and leaves only the final output.
    fn close_online(&mut self, id: ConnectionId, reason: CloseReason, why: OfflineReason) {
        let Some(conn) = self.connections.get_mut(&id) else {
            return;
        };
        let ConnState::Online(_) = &conn.state else {
            return;
        };
        let ConnState::Online(mut online) =
            core::mem::replace(&mut conn.state, ConnState::Closing(Vec::new()))
        else {
            return;
        };
        let _ = online.session.close(reason);
        let out = online.session.output().to_vec();
        conn.state = ConnState::Closing(out);
        conn.closing_since = Some(self.now);
        self.transmit.insert(id);
        self.note_deadline(self.now + CLOSE_LINGER);
        let user = online.user.clone();
        if self.online.get(&user) == Some(&id) {
            self.online.remove(&user);
        }
        self.release_claim(&user, online.claim);
        if let Some(peer) = online.chat.take() {
            match online.chat_node.take() {
                Some(node) => self.publish(
                    &node,
                    BusBody::Left {
                        from: user.clone(),
                        to: peer.clone(),
                        reason: why.gone_reason(),
                    },
                ),
                None => {
                    self.end_chat_of(&peer);
                    self.notify(
                        &peer,
                        &Notice::PeerLeft {
                            peer: user.clone(),
                            reason: why.gone_reason(),
                        },
                    );
                }
            }
            self.events.push_back(RelayEvent::ChatEnded {
                a: user.clone(),
                b: peer,
            });
        }
        self.settle_requests_of(&user);
        self.events.push_back(RelayEvent::UserOffline {
            connection: id,
            user,
            reason: why,
        });
    }

    fn end_chat_of(&mut self, user: &Username) {
        if let Some(o) = self.online_mut(user) {
            o.chat = None;
            o.chat_node = None;
        }
    }

    /// Withdraws `user`'s outgoing request and refuses the ones waiting for them.
    fn settle_requests_of(&mut self, user: &Username) {
        if let Some(to) = self.requests.remove_outgoing(user) {
            self.notify(&to, &Notice::RequestWithdrawn { from: user.clone() });
        }
        self.withdraw_remote(user);
        for (from, origin) in self.requests.remove_incoming(user) {
            match origin {
                None => self.notify(&from, &Notice::RequestDenied { peer: user.clone() }),
                Some(node) => self.publish(
                    &node,
                    BusBody::Denied {
                        from: user.clone(),
                        to: from,
                    },
                ),
            }
        }
    }

    /// Checks the relay's internal consistency; for tests and fuzzing.
    #[doc(hidden)]
    pub fn check_invariants(&self) -> Result<(), String> {
        use alloc::format;
        for (user, id) in &self.online {
            let Some(ConnState::Online(o)) = self.connections.get(id).map(|c| &c.state) else {
                return Err(format!("{user} online without an online connection"));
            };
            if &o.user != user {
                return Err(format!("{user} maps to a connection of {}", o.user));
            }
            if let Some(peer) = &o.chat {
                if o.chat_node.is_some() {
                    continue;
                }
                let Some(pid) = self.online.get(peer) else {
                    return Err(format!("{user} chats with offline {peer}"));
                };
                let Some(ConnState::Online(p)) = self.connections.get(pid).map(|c| &c.state) else {
                    return Err(format!("{peer} has no online connection"));
                };
                if p.chat.as_ref() != Some(user) {
                    return Err(format!("chat {user}->{peer} is not symmetric"));
                }
                if peer == user {
                    return Err(format!("{user} chats with themselves"));
                }
            }
        }
        // One pass over the connections for the three counts (this runs after every
        // fuzzing step).
        let (mut online_conns, mut handshaking, mut sourced) = (0usize, 0usize, 0usize);
        for c in self.connections.values() {
            match c.state {
                ConnState::Online(_) => online_conns += 1,
                ConnState::Handshaking(_) => handshaking += 1,
                _ => {}
            }
            sourced += usize::from(c.source.is_some());
        }
        if online_conns != self.online.len() {
            return Err(format!(
                "{online_conns} online connections but {} users online",
                self.online.len()
            ));
        }
        if handshaking != self.handshaking {
            return Err(format!(
                "handshake count {} but {handshaking} held",
                self.handshaking
            ));
        }
        let counted: usize = self.handshaking_by_source.values().sum();
        if sourced != counted || self.handshaking_by_source.values().any(|n| *n == 0) {
            return Err(format!(
                "{sourced} handshakes with a source but {counted} counted per source"
            ));
        }
        self.requests.check(|u| self.online.contains_key(u))?;
        self.check_cluster()
    }
}

enum Drained {
    More,
    PeerClosed,
    Failed(SessionFailure),
}

/// Decrypts every complete record of `session` into `inbox` (standard channel only).
fn drain_records(session: &mut Session, inbox: &mut Vec<Vec<u8>>) -> Drained {
    loop {
        match session.next_record() {
            Ok(None) => return Drained::More,
            Ok(Some(Incoming::Data {
                channel: Channel::Standard,
                payload,
            })) => inbox.push(payload.to_vec()),
            Ok(Some(Incoming::Data { .. })) => {
                return Drained::Failed(SessionFailure::WrongChannel);
            }
            Ok(Some(Incoming::Closed(_))) => return Drained::PeerClosed,
            Err(e) => return Drained::Failed(SessionFailure::Session(e)),
        }
    }
}

/// What the per-source limit counts by: an IPv4 address, or an IPv6 address's /64 network
/// (one host commonly holds a whole /64).
fn source_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(core::net::Ipv6Addr::from(bits))
        }
    }
}

#[cfg(test)]
mod tests;
