//! A peer of the world: one connection to the relay, what is at its other end, and the two
//! streams between them.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::client::{ChatClient, ClientEvent};
use crate::identity::Username;
use crate::relay::ConnectionId;
use crate::session::Session;

/// What is at the client end of a connection.
pub(crate) enum End {
    /// A user's chat client.
    Client(Box<ChatClient>),
    /// A logged-in session that the test writes records into itself (the `relay` fuzz
    /// target): what arrives is read and dropped.
    Session(Box<Session>),
    /// A connection that never logged in: raw bytes only.
    Raw,
}

/// One connection to the relay and what is at its other end.
pub(crate) struct Peer {
    /// The user logged in on it, if any.
    pub(crate) user: Option<Username>,
    pub(crate) conn: ConnectionId,
    pub(crate) end: End,
    /// Chunks the end wrote, not yet given to the relay.
    pub(crate) up: VecDeque<Vec<u8>>,
    /// Chunks the relay wrote for the end, not yet delivered.
    pub(crate) down: VecDeque<Vec<u8>>,
    /// The client's events, as collected while driving.
    pub(crate) events: Vec<ClientEvent>,
    /// False once the socket is gone (closed, lost, or the test cut it).
    pub(crate) connected: bool,
    /// False while the end does not read: the relay's output for it piles up.
    pub(crate) reading: bool,
}

impl Peer {
    pub(crate) fn new(user: Option<Username>, conn: ConnectionId, end: End) -> Self {
        Peer {
            user,
            conn,
            end,
            up: VecDeque::new(),
            down: VecDeque::new(),
            events: Vec::new(),
            connected: true,
            reading: true,
        }
    }

    /// The chat client at this end, if it is one.
    pub(crate) fn client(&mut self) -> Option<&mut ChatClient> {
        match &mut self.end {
            End::Client(c) => Some(c),
            _ => None,
        }
    }

    /// A copy of this peer, if its end can be copied ([`ChatClient::try_clone`]).
    #[cfg(feature = "fuzzing")]
    pub(crate) fn try_clone(&self) -> Option<Peer> {
        let end = match &self.end {
            End::Client(c) => End::Client(Box::new(c.try_clone()?)),
            End::Session(s) => End::Session(s.clone()),
            End::Raw => End::Raw,
        };
        Some(Peer {
            user: self.user.clone(),
            conn: self.conn,
            end,
            up: self.up.clone(),
            down: self.down.clone(),
            events: self.events.clone(),
            connected: self.connected,
            reading: self.reading,
        })
    }

    /// The bare session at this end, if it is one.
    pub(crate) fn session(&mut self) -> Option<&mut Session> {
        match &mut self.end {
            End::Session(s) => Some(s),
            _ => None,
        }
    }

    pub(super) fn collect_events(&mut self) {
        if let End::Client(c) = &mut self.end {
            while let Some(e) = c.poll_event() {
                self.events.push(e);
            }
        }
    }
}

/// Feeds `bytes` to `session` and reads every record, dropping them (and stopping quietly at
/// a fatal error, which is sticky).
pub(crate) fn drain_session(session: &mut Session, bytes: &[u8]) {
    let mut rest = bytes;
    for _ in 0..=bytes.len() {
        let took = session.push_input(rest);
        rest = rest.get(took..).unwrap_or(&[]);
        while let Ok(Some(_)) = session.next_record() {}
        if rest.is_empty() {
            break;
        }
    }
}
