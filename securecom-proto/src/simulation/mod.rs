//! In-memory simulations: one relay, several clients, a virtual clock, no sockets.
//!
//! [`Sim`] moves bytes between the machines until nothing moves (failing on livelock, as
//! quinn-proto's `drive()` does), and records every client event.

mod adversary;
mod callback;
mod proptests;
mod scenarios;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use crate::chat::MemoryKnownKeys;
use crate::client::{ChatClient, ClientEvent};
use crate::handshake::{ClientHandshake, ClientProgress};
use crate::identity::Username;
use crate::relay::{ConnectionId, Relay, RelayConfig, RelayEvent};
use crate::testkit::TestRng;
use crate::testkit::adversary::AdversarialRelay;
use crate::testkit::fixtures::{VALID_TIME, client_config, server_config};
use crate::time::Instant;

/// Rounds of delivery after which `pump` declares a livelock.
const MAX_ROUNDS: usize = 1_000;

pub(crate) struct SimClient {
    pub(crate) conn: ConnectionId,
    pub(crate) client: Option<ChatClient>,
    handshake: Option<ClientHandshake>,
    config: alloc::sync::Arc<crate::handshake::ClientConfig>,
    pub(crate) events: Vec<ClientEvent>,
    /// False once the socket is gone (killed, or closed).
    pub(crate) connected: bool,
    /// False while the client does not read: the relay's output for it piles up.
    pub(crate) reading: bool,
}

pub(crate) struct Sim {
    pub(crate) now: Instant,
    pub(crate) relay: AdversarialRelay,
    pub(crate) clients: BTreeMap<String, SimClient>,
    pub(crate) relay_events: Vec<RelayEvent>,
    pub(crate) rng: TestRng,
    /// Each client's attached callback connection, if any.
    pub(crate) daemon: BTreeMap<String, crate::client::CallbackConnection>,
}

pub(crate) fn name(s: &str) -> Username {
    Username::new(s).unwrap()
}

impl Sim {
    pub(crate) fn new(config: RelayConfig) -> Self {
        Sim {
            now: Instant::ZERO,
            relay: AdversarialRelay::new(Relay::new(server_config(), config)),
            clients: BTreeMap::new(),
            relay_events: Vec::new(),
            rng: TestRng::new(99),
            daemon: BTreeMap::new(),
        }
    }

    pub(crate) fn with_users(users: &[&str]) -> Self {
        let mut sim = Sim::new(RelayConfig::default());
        for u in users {
            sim.login(u);
            assert!(sim.is_online(u), "{u} did not come online");
        }
        sim
    }

    /// Connects `user` and runs the handshake through the relay.
    pub(crate) fn login(&mut self, user: &str) {
        let conn = self.relay.open_connection(self.now, &mut self.rng).unwrap();
        let config = client_config(user);
        let hs = ClientHandshake::start(config.clone(), &mut self.rng, self.now, VALID_TIME);
        self.clients.insert(
            String::from(user),
            SimClient {
                conn,
                client: None,
                handshake: Some(hs),
                config,
                events: Vec::new(),
                connected: true,
                reading: true,
            },
        );
        self.pump();
    }

    pub(crate) fn is_online(&self, user: &str) -> bool {
        self.clients
            .get(user)
            .is_some_and(|c| c.client.as_ref().is_some_and(|c| !c.is_closed()))
    }

    pub(crate) fn client(&mut self, user: &str) -> &mut ChatClient {
        self.clients
            .get_mut(user)
            .and_then(|c| c.client.as_mut())
            .unwrap()
    }

    /// Runs a command on `user`'s client, then delivers everything.
    pub(crate) fn act(
        &mut self,
        user: &str,
        f: impl FnOnce(&mut ChatClient, Instant, &mut TestRng) -> Result<(), crate::client::ClientError>,
    ) -> Result<(), crate::client::ClientError> {
        let now = self.now;
        let mut rng = TestRng::new(self.now.as_duration().as_nanos() as u64 ^ 0x5eed);
        let client = self.client(user);
        let r = f(client, now, &mut rng);
        self.pump();
        r
    }

    /// Takes the events `user` saw since the last call.
    pub(crate) fn events(&mut self, user: &str) -> Vec<ClientEvent> {
        let c = self.clients.get_mut(user).unwrap();
        if let Some(client) = c.client.as_mut() {
            while let Some(e) = client.poll_event() {
                c.events.push(e);
            }
        }
        core::mem::take(&mut c.events)
    }

    /// Moves bytes until nothing moves.
    pub(crate) fn pump(&mut self) {
        for _ in 0..MAX_ROUNDS {
            if !self.round() {
                return;
            }
        }
        panic!("livelock: bytes still moving after {MAX_ROUNDS} rounds");
    }

    /// One round of delivery in both directions; true if any byte moved.
    fn round(&mut self) -> bool {
        let mut moved = false;
        let now = self.now;
        let names: Vec<String> = self.clients.keys().cloned().collect();
        // Clients to relay.
        for n in &names {
            let c = self.clients.get_mut(n).unwrap();
            if !c.connected {
                continue;
            }
            let out = match (&mut c.handshake, &mut c.client) {
                (Some(hs), _) => {
                    let out = hs.output().to_vec();
                    hs.consume_output(out.len());
                    out
                }
                (None, Some(client)) => {
                    while let Some(e) = client.poll_event() {
                        c.events.push(e);
                    }
                    let out = client.output().to_vec();
                    client.consume_output(out.len());
                    out
                }
                _ => Vec::new(),
            };
            if !out.is_empty() {
                moved = true;
                let _ = self.relay.handle_input(c.conn, now, &out);
            }
        }
        // Relay to clients.
        while let Some(conn) = self.relay.poll_transmit() {
            if self
                .clients
                .values()
                .any(|c| c.conn == conn && c.connected && !c.reading)
            {
                continue;
            }
            let out = self.relay.output(conn).to_vec();
            self.relay.consume_output(conn, out.len());
            let closing = self.relay.should_close(conn);
            let Some((_, c)) = self.clients.iter_mut().find(|(_, c)| c.conn == conn) else {
                continue;
            };
            if !out.is_empty() && c.connected {
                moved = true;
                deliver(c, now, &out);
            }
            if closing {
                self.relay.connection_lost(conn);
                c.connected = false;
            }
        }
        while let Some(e) = self.relay.poll_event() {
            self.relay_events.push(e);
        }
        self.relay.check_invariants().unwrap();
        moved
    }

    /// Advances the virtual clock and fires every timer.
    pub(crate) fn advance(&mut self, d: Duration) {
        self.now = self.now + d;
        let now = self.now;
        self.relay.handle_timeout(now);
        for c in self.clients.values_mut() {
            if let Some(client) = c.client.as_mut() {
                let _ = client.handle_timeout(now);
            }
        }
        self.pump();
    }

    /// The socket of `user` dies without a goodbye.
    pub(crate) fn kill(&mut self, user: &str) {
        let c = self.clients.get_mut(user).unwrap();
        c.connected = false;
        let conn = c.conn;
        self.relay.connection_lost(conn);
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

    /// Sends `text` from `from` and returns what the peer received in the same pump.
    pub(crate) fn say(&mut self, from: &str, text: &str) {
        let t = String::from(text);
        self.act(from, move |c, now, _| c.send_text(now, &t))
            .unwrap();
    }

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

fn deliver(c: &mut SimClient, now: Instant, bytes: &[u8]) {
    if let Some(hs) = c.handshake.take() {
        match hs.handle_input(now, bytes) {
            Ok(ClientProgress::Continue(hs)) => c.handshake = Some(hs),
            Ok(ClientProgress::Established { session, consumed }) => {
                let mut client = ChatClient::new(
                    session,
                    c.config.clone(),
                    Box::new(MemoryKnownKeys::default()),
                    now,
                )
                .with_ping_interval(Duration::from_secs(30));
                let _ = client.handle_input(now, &bytes[consumed..]);
                c.client = Some(client);
            }
            Err(_) => c.connected = false,
        }
        return;
    }
    if let Some(client) = c.client.as_mut()
        && client.handle_input(now, bytes).is_err()
    {
        c.connected = false;
    }
}
