//! In-memory simulations: one relay, several clients, a virtual clock, no sockets.
//!
//! They run in the test kit's [`World`] (shared with the fuzz targets); this module adds
//! the tests' shorthands, which panic where the world returns an error, and name peers by
//! user.

mod adversary;
mod callback;
mod cluster;
mod proptests;
mod scenarios;
mod tofu;

use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use crate::client::{ChatClient, ClientError, ClientEvent};
use crate::identity::Username;
use crate::relay::{ConnectionId, RelayConfig};
use crate::testkit::TestRng;
use crate::testkit::world::{End, Peer, World};
use crate::time::Instant;

pub(crate) fn name(s: &str) -> Username {
    Username::new(s).unwrap()
}

fn is(peer: &Peer, name: &str) -> bool {
    peer.user.as_ref().is_some_and(|u| u.as_str() == name)
}

/// The tests' shorthands.
impl World {
    /// A world with the default relay and `users` logged in.
    pub(crate) fn with_users(users: &[&str]) -> Self {
        let mut sim = World::new(RelayConfig::default());
        for u in users {
            sim.login(u);
            assert!(sim.is_online(u), "{u} did not come online");
        }
        sim
    }

    /// Logs `user` in (the relay may refuse: see `is_online`), then delivers everything.
    pub(crate) fn login(&mut self, user: &str) {
        let _ = self.connect(user);
        self.pump();
    }

    /// The index of the latest peer logged in as `name`.
    pub(crate) fn index(&self, name: &str) -> Option<usize> {
        self.peers.iter().rposition(|p| is(p, name))
    }

    /// The latest peer logged in as `name`.
    pub(crate) fn peer(&self, name: &str) -> Option<&Peer> {
        self.peers.iter().rev().find(|p| is(p, name))
    }

    /// The latest peer logged in as `name`.
    pub(crate) fn peer_mut(&mut self, name: &str) -> Option<&mut Peer> {
        self.peers.iter_mut().rev().find(|p| is(p, name))
    }

    /// True if `name`'s latest peer is a chat client whose session is open.
    pub(crate) fn is_online(&self, name: &str) -> bool {
        self.peer(name)
            .is_some_and(|p| matches!(&p.end, End::Client(c) if !c.is_closed()))
    }

    /// Takes `name`'s latest peer out of the world (its connection stays, unread).
    pub(crate) fn remove(&mut self, name: &str) -> Option<Peer> {
        let i = self.index(name)?;
        Some(self.peers.remove(i))
    }

    /// Puts a peer (back) into the world.
    pub(crate) fn insert(&mut self, peer: Peer) {
        self.peers.push(peer);
    }

    /// The connection of `user`.
    pub(crate) fn conn(&self, user: &str) -> ConnectionId {
        self.peer(user).unwrap().conn
    }

    pub(crate) fn client(&mut self, user: &str) -> &mut ChatClient {
        self.peer_mut(user).and_then(|p| p.client()).unwrap()
    }

    /// Runs a command on `user`'s client, then delivers everything.
    pub(crate) fn act(
        &mut self,
        user: &str,
        f: impl FnOnce(&mut ChatClient, Instant, &mut TestRng) -> Result<(), ClientError>,
    ) -> Result<(), ClientError> {
        let now = self.now;
        // Distinct for every command, as real randomness is: two ratchet keys drawn at the
        // same instant must differ.
        let mut rng = self.next_rng();
        let r = f(self.client(user), now, &mut rng);
        self.pump();
        r
    }

    /// Takes the events `user` saw since the last call.
    pub(crate) fn events(&mut self, user: &str) -> Vec<ClientEvent> {
        let i = self.index(user).unwrap();
        self.take_events(i)
    }

    /// Moves bytes until nothing moves.
    pub(crate) fn pump(&mut self) {
        if let Err(e) = self.drive() {
            panic!("driving the world failed: {e:?}");
        }
    }

    /// Advances the virtual clock, fires every timer, and delivers everything.
    pub(crate) fn wait(&mut self, d: Duration) {
        self.advance(d);
        self.pump();
    }

    /// The socket of `user` dies without a goodbye.
    pub(crate) fn kill(&mut self, user: &str) {
        let i = self.index(user).unwrap();
        self.close(i);
        self.pump();
    }

    /// Logs `a` and `b` in a chat, `a` asking, and checks it is established.
    pub(crate) fn chat(&mut self, a: &str, b: &str) {
        let (bn, an) = (name(b), name(a));
        self.act(a, |c, now, rng| c.request_chat(now, &bn, rng))
            .unwrap();
        self.act(b, |c, now, rng| c.accept(now, rng)).unwrap();
        let established = |events: &[ClientEvent], peer: &Username| {
            events
                .iter()
                .any(|e| matches!(e, ClientEvent::ChatEstablished { peer: p, .. } if p == peer))
        };
        let ea = self.events(a);
        let eb = self.events(b);
        assert!(established(&ea, &bn), "{a} events: {ea:?}");
        assert!(established(&eb, &an), "{b} events: {eb:?}");
    }

    /// Sends `text` from `from`, and delivers it.
    pub(crate) fn say(&mut self, from: &str, text: &str) {
        let t = String::from(text);
        self.act(from, move |c, now, rng| c.send_text(now, &t, rng))
            .unwrap();
    }

    /// The `(from, text)` of the messages among `events`.
    pub(crate) fn messages(events: &[ClientEvent]) -> Vec<(String, String)> {
        events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Message { from, text } => {
                    Some((String::from(from.as_str()), text.clone()))
                }
                _ => None,
            })
            .collect()
    }
}
