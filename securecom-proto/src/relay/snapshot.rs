//! Fuzzing only: a copy of a relay at rest, so that a fuzz target builds a
//! logged-in world once and starts every execution from a copy of it instead of running
//! the logins again.

use alloc::boxed::Box;

use super::{ConnState, Connection, Relay};

impl Relay {
    /// A copy of this relay, or `None` while a connection is in the middle of the handshake
    /// (one that sent nothing yet is copied, and so is one waiting for the client's final
    /// flight) or waiting for the presence store: a copy is taken at rest.
    pub(crate) fn try_clone(&self) -> Option<Relay> {
        let connections = self
            .connections
            .iter()
            .map(|(id, c)| Some((*id, c.try_clone()?)))
            .collect::<Option<_>>()?;
        Some(Relay {
            server: self.server.clone(),
            config: self.config.clone(),
            next_id: self.next_id,
            connections,
            online: self.online.clone(),
            requests: self.requests.clone(),
            handshaking: self.handshaking,
            handshaking_by_source: self.handshaking_by_source.clone(),
            events: self.events.clone(),
            transmit: self.transmit.clone(),
            inbox: self.inbox.clone(),
            now: self.now,
            next_timeout: self.next_timeout,
            cluster: self.cluster.clone(),
        })
    }
}

impl Connection {
    fn try_clone(&self) -> Option<Connection> {
        let state = match &self.state {
            ConnState::Handshaking(Some(hs)) => {
                ConnState::Handshaking(Some(Box::new(hs.try_clone()?)))
            }
            ConnState::Handshaking(None) | ConnState::Claiming(_) => return None,
            ConnState::Online(online) => ConnState::Online(online.clone()),
            ConnState::Closing(rest) => ConnState::Closing(rest.clone()),
        };
        Some(Connection {
            state,
            last_heard: self.last_heard,
            closing_since: self.closing_since,
            source: self.source,
        })
    }
}
