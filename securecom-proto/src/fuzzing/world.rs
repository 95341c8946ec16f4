//! What the relay, client and scheduler targets share: the fixture users (alice, bob and
//! carol, all registered with the fixture server) and a genuine login through a relay.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{Input, TestRng, VALID_TIME};
use crate::chat::MemoryKnownKeys;
use crate::client::{ChatClient, ClientEvent};
use crate::handshake::{ClientConfig, ClientHandshake, ClientProgress};
use crate::identity::{Identity, PublicKey, Username};
use crate::relay::{ConnectionId, Relay};
use crate::session::Session;
use crate::testkit::fixtures::{self, Fixtures};
use crate::time::Instant;

/// The fixture users (alice, bob and carol), by index modulo three.
pub(super) struct Users(&'static Fixtures);

impl Users {
    /// User `i` (modulo three): name, identity, client configuration.
    pub(super) fn user(
        &self,
        i: usize,
    ) -> (
        &'static Username,
        &'static Identity,
        &'static Arc<ClientConfig>,
    ) {
        let u = self.0.user(i);
        (&u.name, &u.identity, &u.config)
    }

    /// The name and registered key of user `i`.
    pub(super) fn me(&self, i: usize) -> (&'static Username, PublicKey) {
        self.0.user(i).me()
    }
}

pub(super) fn users() -> Users {
    Users(fixtures::get())
}

/// A username the input chooses: one of the three users, or (rarely) arbitrary bytes that
/// happen to be a valid name.
pub(super) fn username(input: &mut Input<'_>) -> Username {
    let b = input.u8();
    if b >= 0xf0 {
        let len = usize::from(b & 0x0f) + 1;
        if let Ok(name) = Username::from_bytes(input.bytes(len)) {
            return name;
        }
    }
    users().user(usize::from(b)).0.clone()
}

/// A genuine login of user `u` on a new connection of `relay` (the client's randomness
/// from `seed`): the established client session and the bytes the relay sent after the
/// Welcome, or `None` if the relay refused or the handshake failed.
pub(super) fn login(
    relay: &mut Relay,
    now: Instant,
    u: usize,
    seed: u64,
) -> Option<(ConnectionId, Session, Vec<u8>)> {
    let mut rng = TestRng::new(seed);
    let conn = relay.open_connection(now, &mut rng).ok()?;
    let config = Arc::clone(users().user(u).2);
    let mut hs = ClientHandshake::start(config, &mut rng, now, VALID_TIME);
    for _ in 0..8 {
        let out = hs.output().to_vec();
        hs.consume_output(out.len());
        if !out.is_empty() {
            relay.handle_input(conn, now, &out).ok()?;
        }
        let back = relay.output(conn).to_vec();
        relay.consume_output(conn, back.len());
        match hs.handle_input(now, &back) {
            Ok(ClientProgress::Continue(next)) => hs = next,
            Ok(ClientProgress::Established { session, consumed }) => {
                let rest = back.get(consumed..).unwrap_or(&[]).to_vec();
                return Some((conn, session, rest));
            }
            Err(_) => return None,
        }
    }
    None
}

/// [`login`], wrapped in a [`ChatClient`] that has read what came after the Welcome.
pub(super) fn login_client(
    relay: &mut Relay,
    now: Instant,
    u: usize,
    seed: u64,
) -> Option<(ConnectionId, ChatClient)> {
    let (conn, session, rest) = login(relay, now, u, seed)?;
    let config = Arc::clone(users().user(u).2);
    let mut client = ChatClient::new(session, config, Box::new(MemoryKnownKeys::default()), now);
    let _ = client.handle_input(now, &rest);
    Some((conn, client))
}

/// The texts of the `Message` events among `events`, with their sender.
pub(super) fn messages(events: &[ClientEvent]) -> impl Iterator<Item = (&Username, &str)> {
    events.iter().filter_map(|e| match e {
        ClientEvent::Message { from, text } => Some((from, text.as_str())),
        _ => None,
    })
}

/// Checks that `received` texts, in order, are a subsequence of `sent` (each at most once),
/// starting at `*cursor`; advances the cursor. Every text a target sends is unique.
pub(super) fn assert_subsequence(sent: &[alloc::string::String], cursor: &mut usize, text: &str) {
    let rest = sent.get(*cursor..).unwrap_or(&[]);
    match rest.iter().position(|s| s == text) {
        Some(i) => *cursor += i + 1,
        None => panic!(
            "a text was shown that the peer did not send, or out of order, or twice: {text:?}"
        ),
    }
}
