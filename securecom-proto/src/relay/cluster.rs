//! The relay's cluster side: logins claimed in the presence store, requests, answers and
//! chat data for users of other nodes, and what happens when a node or the bus goes away.
//!
//! Each user's state lives on the node holding the user's connection: that node decides
//! about requests to its users (busy, offline, limits), expires them, and checks chat data
//! against its users' chats. The other nodes only ask and are told, over the bus.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use super::{ConnState, ConnectionId, Relay, RelayEvent};
use crate::cluster::{Admitted, Applied, Keys, user_of_key};
use crate::cluster::{
    BusBody, BusError, ClaimId, ClusterAction, ClusterConfig, ClusterInput, Destination, Envelope,
    Expect, NodeId, Nodes, PresenceMirror, PresenceRecord, RemoteUser, presence_key,
};
use crate::command::{CommandError, GoneReason, Notice, RequestId, ResponseBody};
use crate::handshake::AuthenticatedClient;
use crate::identity::{PublicKey, Username};
use crate::session::CloseReason;
use crate::time::Instant;

/// Bytes a client may send between its last handshake message and the end of the claim.
pub(super) const MAX_CLAIM_INPUT: usize = 64 * 1024;
/// Conflicting claims before a login is refused (each conflict means the store changed
/// under it: another login of the same user is racing this one).
const MAX_CLAIM_ATTEMPTS: u8 = 3;

/// A login authenticated and waiting for the presence store.
pub(super) struct Claiming {
    pub(super) client: AuthenticatedClient,
    /// Input that arrived after the handshake, for the session once it starts.
    pub(super) input: Vec<u8>,
    pub(super) deadline: Instant,
    pub(super) attempts: u8,
}

/// A request from a local user to a user of another node.
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(super) struct RemoteOutgoing {
    pub(super) to: Username,
    pub(super) node: NodeId,
    /// The RequestChat still to be answered, until the target's node gives its verdict.
    pub(super) awaiting: Option<(ConnectionId, RequestId)>,
    /// When it is given up: no verdict in time, or never expired by the target's node.
    pub(super) deadline: Instant,
}

/// Everything a clustered relay knows about the other nodes.
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(super) struct ClusterState {
    pub(super) config: ClusterConfig,
    keys: Keys,
    pub(super) nodes: Nodes,
    pub(super) presence: PresenceMirror,
    actions: VecDeque<ClusterAction>,
    pub(super) connected: bool,
    start: Instant,
    start_unix_ms: u64,
    next_heartbeat: Option<Instant>,
    pub(super) remote_out: BTreeMap<Username, RemoteOutgoing>,
    /// What the other nodes would have been told of the chats and requests with their
    /// users that ended when the bus went down, for when it is back: a node that never
    /// declared this one dead (a short outage) still holds them, and a chat would stay open
    /// there for good (also one accepted while this node could not hear it).
    untold: Vec<(NodeId, BusBody)>,
    /// Online sessions whose claim (made again after an outage, or after their entry
    /// vanished) failed: claimed again at the next heartbeat if the name is still free.
    unclaimed: Vec<ConnectionId>,
}

impl ClusterState {
    pub(super) fn new(config: ClusterConfig, now: Instant, unix_ms: u64) -> Self {
        ClusterState {
            keys: Keys::new(&config.key),
            nodes: Nodes::new(config.node.clone(), unix_ms),
            config,
            presence: PresenceMirror::default(),
            actions: VecDeque::new(),
            connected: false,
            start: now,
            start_unix_ms: unix_ms,
            next_heartbeat: None,
            remote_out: BTreeMap::new(),
            untold: Vec::new(),
            unclaimed: Vec::new(),
        }
    }

    fn wall_ms(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.start).as_millis();
        self.start_unix_ms
            .saturating_add(u64::try_from(since).unwrap_or(u64::MAX))
    }

    /// Queues `body` for `to` (`None`: every node). Nothing is queued while the bus is down:
    /// the users concerned were told their peers are unreachable.
    fn publish(&mut self, now: Instant, to: Option<&NodeId>, body: BusBody) {
        if !self.connected {
            return;
        }
        let env = Envelope {
            from: self.nodes.me().clone(),
            to: to.cloned(),
            to_incarnation: to.map_or(0, |n| self.nodes.incarnation_of(n)),
            incarnation: self.nodes.incarnation(),
            seq: self.nodes.next_seq(to),
            unix_ms: self.wall_ms(now),
            body,
        };
        // Names and payloads were decoded or authenticated within the encoder's bounds.
        if let Ok(bytes) = env.seal(&self.keys) {
            self.actions.push_back(ClusterAction::Publish {
                to: to.map_or(Destination::All, |n| Destination::Node(n.clone())),
                bytes,
            });
        }
    }

    /// The live entry of a user of another node.
    pub(super) fn remote(&self, user: &Username) -> Option<&RemoteUser> {
        self.presence
            .get(user)
            .filter(|r| r.node != *self.nodes.me() && self.nodes.is_live(&r.node, r.incarnation))
    }

    fn record(&self, session: ConnectionId, key: PublicKey, replaces: u64) -> PresenceRecord {
        PresenceRecord {
            node: self.nodes.me().clone(),
            incarnation: self.nodes.incarnation(),
            session: session.0,
            replaces,
            key,
        }
    }

    fn claim(&mut self, id: ConnectionId, user: &Username, key: PublicKey, expect: Expect) {
        let store_key = presence_key(user);
        let replaces = match expect {
            Expect::Absent => 0,
            Expect::Revision(revision) => revision,
        };
        if let Ok(value) = self.record(id, key, replaces).seal(&self.keys, &store_key) {
            self.actions.push_back(ClusterAction::Claim {
                claim: ClaimId(id.0),
                key: store_key,
                value,
                expect,
            });
        }
    }

    fn release(&mut self, user: &Username, revision: u64) {
        self.actions.push_back(ClusterAction::Release {
            key: presence_key(user),
            revision,
        });
    }

    pub(super) fn next_deadline(&self, claims: impl Iterator<Item = Instant>) -> Option<Instant> {
        let nodes = self.nodes.next_expiry(self.config.node_timeout);
        let requests = self.remote_out.values().map(|r| r.deadline).min();
        [self.next_heartbeat, nodes, requests]
            .into_iter()
            .flatten()
            .chain(claims)
            .min()
    }
}

/// How a claim should go, given what the mirror holds.
enum ClaimPlan {
    Refuse,
    Claim(Expect),
}

impl Relay {
    /// A relay that is node `cluster.node` of a cluster. `now` and `unix_ms` are the same
    /// moment on the driver's monotonic and wall clocks: bus messages are stamped with
    /// wall-clock time derived from them, and `unix_ms` is this run's incarnation (a
    /// restarted node must start with a later one).
    pub fn new_clustered(
        server: alloc::sync::Arc<crate::handshake::ServerConfig>,
        config: super::RelayConfig,
        cluster: ClusterConfig,
        now: Instant,
        unix_ms: u64,
    ) -> Self {
        let mut relay = Relay::new(server, config);
        relay.now = now;
        relay.cluster = Some(alloc::boxed::Box::new(ClusterState::new(
            cluster, now, unix_ms,
        )));
        relay
    }

    /// True for a relay built with [`Relay::new_clustered`].
    pub fn is_clustered(&self) -> bool {
        self.cluster.is_some()
    }

    /// The other nodes this one hears from, in id order (empty when not clustered).
    pub fn live_nodes(&self) -> Vec<NodeId> {
        self.cluster
            .as_ref()
            .map(|c| c.nodes.alive().cloned().collect())
            .unwrap_or_default()
    }

    /// The live node of `user`, a user of another node (for the tests' checks).
    #[cfg(all(test, feature = "fuzzing"))]
    pub(crate) fn remote_node_of(&self, user: &Username) -> Option<&NodeId> {
        self.cluster.as_ref()?.remote(user).map(|r| &r.node)
    }

    /// The next thing the bus driver must do.
    #[must_use]
    pub fn poll_cluster_action(&mut self) -> Option<ClusterAction> {
        self.cluster.as_mut()?.actions.pop_front()
    }

    /// What the bus driver reports.
    pub fn handle_cluster_input(&mut self, now: Instant, input: ClusterInput) {
        self.now = self.now.max(now);
        if self.cluster.is_none() {
            return;
        }
        match input {
            ClusterInput::Connected => self.bus_connected(now),
            ClusterInput::Disconnected => self.bus_disconnected(),
            ClusterInput::Message(bytes) => self.bus_message(now, &bytes),
            ClusterInput::Presence {
                key,
                revision,
                value,
            } => self.presence_changed(&key, revision, value.as_deref()),
            ClusterInput::Claimed { claim, revision } => self.claimed(now, claim, revision),
            ClusterInput::ClaimConflict { claim } => self.claim_conflict(claim),
            ClusterInput::ClaimFailed { claim } => {
                let id = ConnectionId(claim.0);
                match self.state(id) {
                    Some(ConnState::Claiming(_)) => {
                        self.refuse_claim(id, CloseReason::UNAVAILABLE);
                    }
                    Some(ConnState::Online(_)) => {
                        if let Some(c) = self.cluster.as_deref_mut()
                            && !c.unclaimed.contains(&id)
                        {
                            c.unclaimed.push(id);
                        }
                    }
                    _ => {}
                }
            }
        }
        self.next_timeout = self.earliest_deadline();
    }

    fn state(&self, id: ConnectionId) -> Option<&ConnState> {
        self.connections.get(&id).map(|c| &c.state)
    }

    fn cluster_mut(&mut self) -> Option<&mut ClusterState> {
        self.cluster.as_deref_mut()
    }

    /// Publishes `body` to node `to`.
    pub(super) fn publish(&mut self, to: &NodeId, body: BusBody) {
        let now = self.now;
        if let Some(c) = self.cluster_mut() {
            c.publish(now, Some(to), body);
        }
    }

    /// The node of `user` if it is a live user of another node (and not also local).
    pub(super) fn remote_node(&self, user: &Username) -> Option<NodeId> {
        if self.online.contains_key(user) {
            return None;
        }
        Some(self.cluster.as_ref()?.remote(user)?.node.clone())
    }

    // ----- logins -----

    /// Starts the claim of an authenticated login (clustered relays only).
    pub(super) fn begin_claim(
        &mut self,
        id: ConnectionId,
        client: AuthenticatedClient,
        input: Vec<u8>,
    ) {
        let Some(c) = self.cluster.as_deref() else {
            return;
        };
        let deadline = self.now + c.config.claim_timeout;
        let user = client.username().clone();
        let key = *client.public_key();
        if let Some(conn) = self.connections.get_mut(&id) {
            conn.state = ConnState::Claiming(alloc::boxed::Box::new(Claiming {
                client,
                input,
                deadline,
                attempts: 0,
            }));
        }
        self.note_deadline(deadline);
        self.plan_claim(id, &user, key);
    }

    fn plan_claim(&mut self, id: ConnectionId, user: &Username, key: PublicKey) {
        let policy = self.config.duplicate_login;
        let Some(c) = self.cluster.as_deref_mut() else {
            return;
        };
        let plan = match c.presence.get(user) {
            None => ClaimPlan::Claim(Expect::Absent),
            Some(entry) => {
                let live_elsewhere =
                    entry.node != *c.nodes.me() && c.nodes.is_live(&entry.node, entry.incarnation);
                match (live_elsewhere, policy) {
                    (true, super::DuplicateLogin::RejectNew) => ClaimPlan::Refuse,
                    _ => ClaimPlan::Claim(Expect::Revision(entry.revision)),
                }
            }
        };
        match plan {
            ClaimPlan::Claim(expect) => c.claim(id, user, key, expect),
            ClaimPlan::Refuse => self.refuse_claim(id, CloseReason::ALREADY_LOGGED_IN),
        }
    }

    pub(super) fn refuse_claim(&mut self, id: ConnectionId, reason: CloseReason) {
        // Only a login still waiting for its claim: any other state stays as it is.
        let Some(conn) = self
            .connections
            .get_mut(&id)
            .filter(|c| matches!(c.state, ConnState::Claiming(_)))
        else {
            return;
        };
        let ConnState::Claiming(claiming) =
            core::mem::replace(&mut conn.state, ConnState::Closing(Vec::new()))
        else {
            return;
        };
        let user = claiming.client.username().clone();
        let out = claiming.client.reject(reason);
        self.set_closing(id, out);
        // A claim that took effect although its result was lost (the watch showed it
        // first): give the name back.
        if let Some(c) = self.cluster.as_deref_mut() {
            let (me, mine) = (c.nodes.me(), c.nodes.incarnation());
            let taken = c
                .presence
                .get(&user)
                .filter(|e| e.node == *me && e.incarnation == mine && e.session == id.0)
                .map(|e| e.revision);
            if let Some(revision) = taken {
                c.release(&user, revision);
            }
        }
        self.events.push_back(RelayEvent::LoginRefused {
            connection: id,
            user,
        });
    }

    fn claimed(&mut self, now: Instant, claim: ClaimId, revision: u64) {
        let id = ConnectionId(claim.0);
        match self.state(id) {
            Some(ConnState::Claiming(_)) => {
                let Some(conn) = self.connections.get_mut(&id) else {
                    return;
                };
                let ConnState::Claiming(claiming) =
                    core::mem::replace(&mut conn.state, ConnState::Closing(Vec::new()))
                else {
                    return;
                };
                let Claiming { client, input, .. } = *claiming;
                let user = client.username().clone();
                let key = *client.public_key();
                self.mirror_own(&user, id, key, revision);
                // A local session of the same user (replace policy) gives way now.
                if let Some(existing) = self.online.get(&user).copied() {
                    self.take_claim(existing);
                    self.close_online(
                        existing,
                        CloseReason::REPLACED,
                        super::OfflineReason::Replaced,
                    );
                }
                self.go_online(id, now, client, Some(revision));
                if !input.is_empty() {
                    self.session_input(id, now, &input, &mut super::route::Honest);
                }
            }
            Some(ConnState::Online(online)) => {
                // A claim made again for a session already online (after the bus came back).
                let (user, key) = (online.user.clone(), online.key);
                self.mirror_own(&user, id, key, revision);
                if let Some(ConnState::Online(online)) =
                    self.connections.get_mut(&id).map(|c| &mut c.state)
                {
                    online.claim = Some(revision);
                    online.reclaims = 0;
                }
            }
            // The login ended while its claim was in flight: give the name back.
            _ => {
                if let Some(c) = self.cluster_mut() {
                    let user = c.presence.iter().find_map(|(u, e)| {
                        (e.revision == revision && e.session == id.0).then(|| u.clone())
                    });
                    if let Some(user) = user {
                        c.release(&user, revision);
                    }
                }
            }
        }
    }

    /// Records this node's own entry in the mirror as soon as the store confirms it.
    fn mirror_own(&mut self, user: &Username, id: ConnectionId, key: PublicKey, revision: u64) {
        if let Some(c) = self.cluster_mut() {
            let record = c.record(id, key, 0);
            let max = c.config.max_remote_users;
            let _ = c.presence.apply(user, revision, Some(record), max);
        }
    }

    fn claim_conflict(&mut self, claim: ClaimId) {
        let id = ConnectionId(claim.0);
        let (user, key) = match self.connections.get_mut(&id).map(|c| &mut c.state) {
            Some(ConnState::Claiming(claiming)) => {
                claiming.attempts += 1;
                if claiming.attempts >= MAX_CLAIM_ATTEMPTS {
                    self.refuse_claim(id, CloseReason::ALREADY_LOGGED_IN);
                    return;
                }
                (
                    claiming.client.username().clone(),
                    *claiming.client.public_key(),
                )
            }
            Some(ConnState::Online(online)) => {
                // Re-asserting after an outage: unless someone else holds the name now
                // (then the presence change has closed this session), claim it afresh, a
                // few times in a row at most. A store whose entry stays older than the
                // mirror's (a forged or replayed revision on the watch) would otherwise
                // answer every claim with a conflict, for good: the session then stays
                // unclaimed, tried again at heartbeats while the name looks free.
                online.reclaims = online.reclaims.saturating_add(1);
                if online.reclaims >= MAX_CLAIM_ATTEMPTS {
                    if let Some(c) = self.cluster.as_deref_mut()
                        && !c.unclaimed.contains(&id)
                    {
                        c.unclaimed.push(id);
                    }
                    return;
                }
                let (user, key) = (online.user.clone(), online.key);
                let held_elsewhere = self.cluster.as_ref().is_some_and(|c| {
                    c.presence
                        .get(&user)
                        .is_some_and(|e| e.node != *c.nodes.me() || e.session != id.0)
                });
                if held_elsewhere {
                    return;
                }
                (user, key)
            }
            _ => return,
        };
        if matches!(self.state(id), Some(ConnState::Claiming(_))) {
            self.plan_claim(id, &user, key);
        } else if let Some(c) = self.cluster_mut() {
            let expect = match c.presence.get(&user) {
                Some(e) => Expect::Revision(e.revision),
                None => Expect::Absent,
            };
            c.claim(id, &user, key, expect);
        }
    }

    /// Takes the claim revision of an online session, so that closing it releases nothing
    /// (the name is being taken over).
    fn take_claim(&mut self, id: ConnectionId) {
        if let Some(ConnState::Online(online)) = self.connections.get_mut(&id).map(|c| &mut c.state)
        {
            online.claim = None;
        }
    }

    /// Gives the name of a session going offline back to the store.
    pub(super) fn release_claim(&mut self, user: &Username, claim: Option<u64>) {
        if let (Some(revision), Some(c)) = (claim, self.cluster_mut()) {
            c.release(user, revision);
        }
    }

    // ----- presence -----

    fn presence_changed(&mut self, key: &str, revision: u64, value: Option<&[u8]>) {
        let Some(user) = user_of_key(key) else {
            return;
        };
        let Some(c) = self.cluster.as_deref_mut() else {
            return;
        };
        let record = match value {
            Some(bytes) => match PresenceRecord::open(&c.keys, key, bytes) {
                Ok(record) => Some(record),
                Err(error) => {
                    self.events
                        .push_back(RelayEvent::BusMessageDropped { error });
                    return;
                }
            },
            None => None,
        };
        let max = c.config.max_remote_users;
        if c.presence.apply(&user, revision, record.clone(), max) == Applied::Ignored {
            return;
        }
        let me = c.nodes.me().clone();
        let mine = c.nodes.incarnation();
        let local = self.online.get(&user).copied();
        match (&record, local) {
            // Someone else holds the name now: this node's session was replaced.
            (Some(r), Some(id)) if r.node != me || r.incarnation != mine || r.session != id.0 => {
                // Unless it is a session of this run that is gone (refused after its claim
                // took effect): then the name is given back, and claimed again for `id`
                // once the deletion is seen.
                let gone = r.node == me
                    && r.incarnation == mine
                    && !matches!(
                        self.state(ConnectionId(r.session)),
                        Some(ConnState::Claiming(_) | ConnState::Online(_))
                    );
                if gone {
                    if let Some(c) = self.cluster_mut() {
                        c.release(&user, revision);
                    }
                    return;
                }
                let ours = self.online_by_id(id).and_then(|o| o.claim);
                match ours {
                    // A claim made over this session's entry (or over a newer one): the
                    // name has moved on.
                    Some(rev) if rev < revision && r.replaces >= rev => {
                        self.take_claim(id);
                        self.close_online(
                            id,
                            CloseReason::REPLACED,
                            super::OfflineReason::Replaced,
                        );
                    }
                    // Written over this session's entry by someone who never saw it: an
                    // old entry put back (a replay through the store). Claim the name back.
                    Some(rev) if rev < revision => {
                        self.events.push_back(RelayEvent::BusMessageDropped {
                            error: BusError::Replayed,
                        });
                        let key_of = self.online_by_id(id).map(|o| o.key);
                        if let (Some(key_of), Some(c)) = (key_of, self.cluster_mut()) {
                            c.claim(id, &user, key_of, Expect::Revision(revision));
                        }
                    }
                    // This session holds no entry (its own was deleted, or its claim
                    // failed): the store gives the name to the other session.
                    None => {
                        self.close_online(
                            id,
                            CloseReason::REPLACED,
                            super::OfflineReason::Replaced,
                        );
                    }
                    Some(_) => {}
                }
            }
            // Our own session's entry, written again (a claim whose result was lost): this
            // revision is the one to release.
            (Some(_), Some(id)) => {
                if let Some(online) = self.online_by_id(id) {
                    online.claim = Some(revision);
                }
            }
            // Our own entry is gone (deleted by hand, or lost): claim the name again.
            (None, Some(id)) => {
                if let Some(online) = self.online_by_id(id) {
                    online.claim = None;
                    let key_of = online.key;
                    if let Some(c) = self.cluster_mut() {
                        c.claim(id, &user, key_of, Expect::Absent);
                    }
                }
            }
            // An entry of this node that no session holds (a previous run, a release
            // that was lost): give it back.
            (Some(r), None) if r.node == me => {
                let claiming = matches!(
                    self.state(ConnectionId(r.session)),
                    Some(ConnState::Claiming(_))
                ) && r.incarnation == mine;
                if !claiming && let Some(c) = self.cluster_mut() {
                    c.release(&user, revision);
                }
            }
            _ => {}
        }
    }

    // ----- the bus -----

    fn bus_connected(&mut self, now: Instant) {
        let Some(c) = self.cluster.as_deref_mut() else {
            return;
        };
        c.connected = true;
        c.publish(now, None, BusBody::Heartbeat);
        c.next_heartbeat = Some(now + c.config.heartbeat_interval);
        for (node, body) in core::mem::take(&mut c.untold) {
            c.publish(now, Some(&node), body);
        }
        self.events.push_back(RelayEvent::BusConnected);
        // Restore this node's presence: the store may have lost or replaced entries while
        // the bus was away.
        // Each starts a new round of at most MAX_CLAIM_ATTEMPTS claims in a row.
        let sessions: Vec<(ConnectionId, Username, PublicKey, Option<u64>)> = self
            .connections
            .iter_mut()
            .filter_map(|(id, conn)| match &mut conn.state {
                ConnState::Online(o) => {
                    o.reclaims = 0;
                    Some((*id, o.user.clone(), o.key, o.claim))
                }
                _ => None,
            })
            .collect();
        if let Some(c) = self.cluster_mut() {
            // Entries of this run that no session holds: their release was lost while the
            // bus was away (the watch repeats their revision, which the mirror ignores).
            let (me, mine) = (c.nodes.me(), c.nodes.incarnation());
            let stale: Vec<(Username, u64)> = c
                .presence
                .iter()
                .filter(|(_, e)| e.node == *me && e.incarnation == mine)
                .filter(|(_, e)| !sessions.iter().any(|(id, ..)| id.0 == e.session))
                .map(|(u, e)| (u.clone(), e.revision))
                .collect();
            for (user, revision) in stale {
                c.release(&user, revision);
            }
            for (id, user, key, claim) in sessions {
                let expect = claim.map_or(Expect::Absent, Expect::Revision);
                c.claim(id, &user, key, expect);
            }
        }
    }

    fn bus_disconnected(&mut self) {
        let Some(c) = self.cluster.as_deref_mut() else {
            return;
        };
        if !c.connected {
            return;
        }
        c.connected = false;
        c.next_heartbeat = None;
        let lost = c.nodes.lose_all();
        self.events.push_back(RelayEvent::BusDisconnected);
        for node in lost {
            self.node_gone(&node, GoneReason::UNREACHABLE);
        }
        // Logins cannot be confirmed now.
        let claiming: Vec<ConnectionId> = self
            .connections
            .iter()
            .filter(|(_, c)| matches!(c.state, ConnState::Claiming(_)))
            .map(|(id, _)| *id)
            .collect();
        for id in claiming {
            self.refuse_claim(id, CloseReason::UNAVAILABLE);
        }
    }

    fn bus_message(&mut self, now: Instant, bytes: &[u8]) {
        let Some(c) = self.cluster.as_deref_mut() else {
            return;
        };
        let admitted = Envelope::open(&c.keys, bytes).and_then(|env| {
            let wall = c.wall_ms(now);
            let (skew, max_nodes) = (c.config.max_clock_skew, c.config.max_nodes);
            c.nodes
                .admit(&env, now, wall, skew, max_nodes)
                .map(|admitted| (env, admitted))
        });
        let (env, admitted) = match admitted {
            Ok(ok) => ok,
            // Our own broadcasts come back to us: not worth an event.
            Err(BusError::FromSelf) => return,
            Err(error) => {
                self.events
                    .push_back(RelayEvent::BusMessageDropped { error });
                return;
            }
        };
        match admitted {
            Admitted::Known => {}
            Admitted::Joined => {
                // Answer a newcomer at once rather than at the next heartbeat, so that a
                // node that starts knows the others within a round trip.
                if let Some(c) = self.cluster.as_deref_mut() {
                    c.publish(now, None, BusBody::Heartbeat);
                }
                self.events.push_back(RelayEvent::NodeJoined {
                    node: env.from.clone(),
                });
            }
            Admitted::Restarted => {
                // Everything of its previous run is gone; its new run is alive.
                self.node_gone(&env.from, GoneReason::DISCONNECTED);
                self.events.push_back(RelayEvent::NodeJoined {
                    node: env.from.clone(),
                });
            }
        }
        let sender = env.from;
        match env.body {
            BusBody::Heartbeat => {}
            BusBody::Goodbye => {
                if let Some(c) = self.cluster_mut() {
                    c.nodes.depart(&sender);
                }
                self.events.push_back(RelayEvent::NodeLost {
                    node: sender.clone(),
                });
                self.node_gone(&sender, GoneReason::SHUTDOWN);
            }
            BusBody::Request { from, to, key } => self.remote_request(now, &sender, from, &to, key),
            BusBody::RequestResult { from, to, error } => {
                self.remote_verdict(now, &sender, &from, &to, error);
            }
            BusBody::Accepted { from, to, key } => self.remote_accepted(&sender, from, &to, key),
            BusBody::Denied { from, to } => {
                if self.take_remote_out(&to, &from, &sender) {
                    self.notify(&to, &Notice::RequestDenied { peer: from });
                }
            }
            BusBody::Expired { from, to } => {
                if self.take_remote_out(&from, &to, &sender) {
                    self.notify(&from, &Notice::RequestExpired { peer: to });
                }
            }
            BusBody::Withdrawn { from, to } => {
                if self.requests.origin(&to, &from) == Some(&Some(sender)) {
                    self.requests.remove(&to, &from);
                    self.notify(&to, &Notice::RequestWithdrawn { from });
                }
            }
            BusBody::ChatData { from, to, payload } => {
                if self.is_remote_chat(&to, &from, &sender) {
                    self.notify(&to, &Notice::ChatData(payload));
                }
            }
            BusBody::Left { from, to, reason } => {
                if self.is_remote_chat(&to, &from, &sender) {
                    self.end_chat_of(&to);
                    self.notify(
                        &to,
                        &Notice::PeerLeft {
                            peer: from.clone(),
                            reason,
                        },
                    );
                    self.events
                        .push_back(RelayEvent::ChatEnded { a: from, b: to });
                }
            }
        }
    }

    /// True when local `user` is chatting with `peer`, a user of node `node`.
    fn is_remote_chat(&self, user: &Username, peer: &Username, node: &NodeId) -> bool {
        self.online
            .get(user)
            .and_then(|id| match self.state(*id) {
                Some(ConnState::Online(o)) => Some(o),
                _ => None,
            })
            .is_some_and(|o| o.chat.as_ref() == Some(peer) && o.chat_node.as_ref() == Some(node))
    }

    /// Removes local `from`'s request to `to` on `node`; true if it was there.
    fn take_remote_out(&mut self, from: &Username, to: &Username, node: &NodeId) -> bool {
        let Some(c) = self.cluster_mut() else {
            return false;
        };
        let matches = c
            .remote_out
            .get(from)
            .is_some_and(|r| r.to == *to && r.node == *node);
        if !matches {
            return false;
        }
        if let Some(out) = c.remote_out.remove(from)
            && let Some((conn, rid)) = out.awaiting
        {
            // The verdict never came, but the request did arrive.
            self.respond(conn, rid, ResponseBody::RequestSent);
        }
        true
    }

    /// A user of `node` asks local `to` to chat: this node decides, as for a local request.
    fn remote_request(
        &mut self,
        now: Instant,
        node: &NodeId,
        from: Username,
        to: &Username,
        key: PublicKey,
    ) {
        // The key must be the registered one: a node cannot hand out another.
        let verdict = if self.server.directory.lookup(&from) != Some(key) {
            Some(CommandError::UNKNOWN_USER)
        } else if !self.online.contains_key(to) {
            Some(CommandError::OFFLINE)
        } else if self.chat_peer(to).is_some() {
            Some(CommandError::BUSY)
        } else if self.requests.contains(to, &from)
            || self.outgoing_target(to).as_ref() == Some(&from)
        {
            Some(CommandError::REQUEST_PENDING)
        } else if self.requests.incoming_count(to) >= self.config.max_pending_requests_per_user {
            Some(CommandError::LIMIT_REACHED)
        } else {
            None
        };
        if verdict.is_none() {
            let expires = now + self.config.request_timeout;
            self.requests
                .insert_remote(&from, node.clone(), to, expires);
            self.note_deadline(expires);
            self.notify(
                to,
                &Notice::IncomingRequest {
                    from: from.clone(),
                    key,
                },
            );
        }
        self.publish(
            node,
            BusBody::RequestResult {
                from,
                to: to.clone(),
                error: verdict,
            },
        );
    }

    /// The target's node gave its verdict on local `from`'s request.
    fn remote_verdict(
        &mut self,
        now: Instant,
        node: &NodeId,
        from: &Username,
        to: &Username,
        error: Option<CommandError>,
    ) {
        let request_timeout = self.config.request_timeout;
        let Some(c) = self.cluster_mut() else {
            return;
        };
        let reply_timeout = c.config.remote_reply_timeout;
        let Some(out) = c.remote_out.get_mut(from) else {
            return;
        };
        if out.to != *to || out.node != *node {
            return;
        }
        let Some((conn, rid)) = out.awaiting.take() else {
            return;
        };
        let body = match error {
            None => {
                // The target's node expires it; this deadline is the fallback if it never says.
                out.deadline = now + request_timeout + reply_timeout;
                let deadline = out.deadline;
                self.note_deadline(deadline);
                ResponseBody::RequestSent
            }
            Some(error) => {
                c.remote_out.remove(from);
                ResponseBody::Error(error)
            }
        };
        self.respond(conn, rid, body);
    }

    /// Remote `from` accepted local `to`'s request.
    fn remote_accepted(&mut self, node: &NodeId, from: Username, to: &Username, key: PublicKey) {
        let wanted = self
            .cluster
            .as_ref()
            .and_then(|c| c.remote_out.get(to))
            .is_some_and(|r| r.to == from && r.node == *node);
        let genuine = self.server.directory.lookup(&from) == Some(key);
        if !wanted || !genuine || self.chat_peer(to).is_some() || !self.online.contains_key(to) {
            // Withdrawn meanwhile (or not ours): the other side must not think it is in a chat.
            if wanted {
                self.take_remote_out(to, &from, node);
            }
            self.publish(
                node,
                BusBody::Left {
                    from: to.clone(),
                    to: from,
                    reason: GoneReason::LEFT,
                },
            );
            return;
        }
        self.take_remote_out(to, &from, node);
        self.settle_requests_of(to);
        if let Some(o) = self.online_mut(to) {
            o.chat = Some(from.clone());
            o.chat_node = Some(node.clone());
        }
        self.notify(
            to,
            &Notice::RequestAccepted {
                peer: from.clone(),
                key,
            },
        );
        self.events.push_back(RelayEvent::ChatStarted {
            initiator: to.clone(),
            responder: from,
        });
    }

    /// Every user of `node` is gone: chats with them end, requests with them are settled.
    fn node_gone(&mut self, node: &NodeId, reason: GoneReason) {
        let chats: Vec<(Username, Username)> = self
            .connections
            .values()
            .filter_map(|c| match &c.state {
                ConnState::Online(o) if o.chat_node.as_ref() == Some(node) => {
                    o.chat.clone().map(|peer| (o.user.clone(), peer))
                }
                _ => None,
            })
            .collect();
        for (user, peer) in &chats {
            let (from, to) = (user.clone(), peer.clone());
            self.untold(node, BusBody::Left { from, to, reason });
        }
        for (user, peer) in chats {
            self.end_chat_of(&user);
            self.notify(
                &user,
                &Notice::PeerLeft {
                    peer: peer.clone(),
                    reason,
                },
            );
            self.events
                .push_back(RelayEvent::ChatEnded { a: user, b: peer });
        }
        let outgoing: Vec<(Username, RemoteOutgoing)> = match self.cluster_mut() {
            Some(c) => {
                let users: Vec<Username> = c
                    .remote_out
                    .iter()
                    .filter(|(_, r)| r.node == *node)
                    .map(|(u, _)| u.clone())
                    .collect();
                users
                    .into_iter()
                    .filter_map(|u| c.remote_out.remove(&u).map(|r| (u, r)))
                    .collect()
            }
            None => Vec::new(),
        };
        for (user, out) in outgoing {
            // Withdrawn if still pending there; ended if accepted meanwhile.
            let (from, to) = (user.clone(), out.to.clone());
            self.untold(node, BusBody::Withdrawn { from, to });
            let (from, to) = (user.clone(), out.to.clone());
            self.untold(node, BusBody::Left { from, to, reason });
            match out.awaiting {
                Some((conn, rid)) => {
                    self.respond(conn, rid, ResponseBody::Error(CommandError::UNREACHABLE));
                }
                None => self.notify(&user, &Notice::RequestDenied { peer: out.to }),
            }
        }
        for (from, to) in self.requests.remove_from_node(node) {
            let denied = BusBody::Denied {
                from: to.clone(),
                to: from.clone(),
            };
            self.untold(node, denied);
            self.notify(&to, &Notice::RequestWithdrawn { from });
        }
    }

    /// Keeps `body` for `node` until the bus is back, if it is down now.
    fn untold(&mut self, node: &NodeId, body: BusBody) {
        if let Some(c) = self.cluster_mut()
            && !c.connected
        {
            c.untold.push((node.clone(), body));
        }
    }

    /// Heartbeats, dead nodes, claims and remote requests whose time is up.
    pub(super) fn cluster_timeout(&mut self, now: Instant) {
        let Some(c) = self.cluster.as_deref_mut() else {
            return;
        };
        if c.connected && c.next_heartbeat.is_some_and(|t| now >= t) {
            c.publish(now, None, BusBody::Heartbeat);
            c.next_heartbeat = Some(now + c.config.heartbeat_interval);
            // Sessions left without an entry by a failed claim: try again, if still free.
            for id in core::mem::take(&mut c.unclaimed) {
                if let Some(ConnState::Online(o)) = self.connections.get(&id).map(|c| &c.state)
                    && c.presence.get(&o.user).is_none()
                {
                    c.claim(id, &o.user, o.key, Expect::Absent);
                }
            }
        }
        let timeout = c.config.node_timeout;
        let lost = c.nodes.expire(now, timeout);
        let due: Vec<Username> = c
            .remote_out
            .iter()
            .filter(|(_, r)| now >= r.deadline)
            .map(|(u, _)| u.clone())
            .collect();
        let mut expired = Vec::new();
        for user in due {
            if let Some(out) = c.remote_out.remove(&user) {
                expired.push((user, out));
            }
        }
        for node in lost {
            self.events
                .push_back(RelayEvent::NodeLost { node: node.clone() });
            self.node_gone(&node, GoneReason::DISCONNECTED);
        }
        for (user, out) in expired {
            match out.awaiting {
                Some((conn, rid)) => {
                    self.respond(conn, rid, ResponseBody::Error(CommandError::UNREACHABLE));
                }
                None => self.notify(&user, &Notice::RequestExpired { peer: out.to }),
            }
        }
        let claims: Vec<ConnectionId> = self
            .connections
            .iter()
            .filter(|(_, c)| matches!(&c.state, ConnState::Claiming(cl) if now >= cl.deadline))
            .map(|(id, _)| *id)
            .collect();
        for id in claims {
            self.refuse_claim(id, CloseReason::UNAVAILABLE);
        }
    }

    /// Says goodbye to the other nodes (shutdown).
    pub(super) fn cluster_goodbye(&mut self, now: Instant) {
        if let Some(c) = self.cluster_mut() {
            c.publish(now, None, BusBody::Goodbye);
            c.next_heartbeat = None;
        }
    }

    /// The earliest cluster deadline.
    pub(super) fn cluster_deadline(&self) -> Option<Instant> {
        let c = self.cluster.as_deref()?;
        let claims = self.connections.values().filter_map(|c| match &c.state {
            ConnState::Claiming(cl) => Some(cl.deadline),
            _ => None,
        });
        c.next_deadline(claims)
    }

    /// Users of the other nodes, alive, in name order, for the user list.
    pub(super) fn remote_users(&self) -> impl Iterator<Item = (&Username, PublicKey)> + '_ {
        self.cluster.as_deref().into_iter().flat_map(move |c| {
            c.presence
                .iter()
                .filter(move |(u, e)| {
                    e.node != *c.nodes.me()
                        && c.nodes.is_live(&e.node, e.incarnation)
                        && !self.online.contains_key(*u)
                })
                .map(|(u, e)| (u, e.key))
        })
    }

    /// The target of local `user`'s outgoing request, local or remote.
    pub(super) fn outgoing_target(&self, user: &Username) -> Option<Username> {
        if let Some(to) = self.requests.outgoing_of(user) {
            return Some(to.clone());
        }
        Some(self.cluster.as_ref()?.remote_out.get(user)?.to.clone())
    }

    /// Sends local `me`'s request to `to`, a user of `node`; the response to the
    /// RequestChat waits for that node's verdict.
    pub(super) fn send_remote_request(
        &mut self,
        me: &Username,
        my_key: PublicKey,
        to: &Username,
        node: NodeId,
        awaiting: (ConnectionId, RequestId),
    ) {
        let now = self.now;
        let Some(c) = self.cluster_mut() else {
            return;
        };
        let deadline = now + c.config.remote_reply_timeout;
        c.remote_out.insert(
            me.clone(),
            RemoteOutgoing {
                to: to.clone(),
                node: node.clone(),
                awaiting: Some(awaiting),
                deadline,
            },
        );
        self.note_deadline(deadline);
        self.publish(
            &node,
            BusBody::Request {
                from: me.clone(),
                to: to.clone(),
                key: my_key,
            },
        );
    }

    /// Withdraws local `me`'s request to a remote user; its target, if there was one.
    pub(super) fn withdraw_remote(&mut self, me: &Username) -> Option<Username> {
        let out = self.cluster_mut()?.remote_out.remove(me)?;
        if let Some((conn, rid)) = out.awaiting {
            self.respond(conn, rid, ResponseBody::RequestSent);
        }
        self.publish(
            &out.node,
            BusBody::Withdrawn {
                from: me.clone(),
                to: out.to.clone(),
            },
        );
        Some(out.to)
    }

    /// True while the bus is up (or the relay is not clustered).
    pub(super) fn bus_reachable(&self) -> bool {
        self.cluster.as_ref().is_none_or(|c| c.connected)
    }

    /// Checks the cluster state against the rest; for tests and fuzzing.
    pub(super) fn check_cluster(&self) -> Result<(), alloc::string::String> {
        use alloc::format;
        let Some(c) = self.cluster.as_deref() else {
            return Ok(());
        };
        for (from, out) in &c.remote_out {
            if !self.online.contains_key(from) {
                return Err(format!("remote request from offline {from}"));
            }
            if self.requests.outgoing_of(from).is_some() {
                return Err(format!("{from} has a local and a remote request"));
            }
            if out.node == *c.nodes.me() {
                return Err(format!("remote request of {from} to this node"));
            }
        }
        Ok(())
    }
}
