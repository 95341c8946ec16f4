//! A connected test client on either driver: its command handle, and its events awaited
//! with a deadline. Waiting for an event that does not come fails the scenario.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Instant;

use securecom::proto::client::ClientEvent;
use securecom::proto::identity::Username;

use super::harness::{Handle, WAIT};

/// Events shown when a wait fails: the latest ones.
const SHOWN: usize = 12;

/// A logged-in client.
pub(crate) struct TestClient<H> {
    user: Username,
    /// `None` once dropped.
    handle: Option<H>,
    events: Receiver<ClientEvent>,
    /// Events passed over while waiting for others, in order.
    backlog: VecDeque<ClientEvent>,
}

impl<H: Handle> TestClient<H> {
    pub(crate) fn new(user: Username, handle: H, events: Receiver<ClientEvent>) -> Self {
        TestClient {
            user,
            handle: Some(handle),
            events,
            backlog: VecDeque::new(),
        }
    }

    /// Who we are.
    pub(crate) fn user(&self) -> &Username {
        &self.user
    }

    /// The command handle.
    pub(crate) fn h(&self) -> &H {
        self.handle
            .as_ref()
            .unwrap_or_else(|| panic!("{}: the handle was dropped", self.user))
    }

    /// Drops the command handle, keeping the events: with no clone of it left, the
    /// client leaves the server.
    pub(crate) fn drop_handle(&mut self) {
        self.handle = None;
    }

    /// Waits for the first event `wanted` accepts and returns it; events passed over stay
    /// available to later waits, in order. Fails the scenario after [`WAIT`].
    pub(crate) fn expect(
        &mut self,
        what: &str,
        wanted: impl Fn(&ClientEvent) -> bool,
    ) -> ClientEvent {
        if let Some(event) = self
            .backlog
            .iter()
            .position(&wanted)
            .and_then(|i| self.backlog.remove(i))
        {
            return event;
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) if wanted(&event) => return event,
                Ok(event) => self.backlog.push_back(event),
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "{}: {what}: none within {WAIT:?}; {}",
                        self.user,
                        self.shown()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "{}: events ended before {what}; {}",
                        self.user,
                        self.shown()
                    )
                }
            }
        }
    }

    /// Waits for the event stream to end (the connection is gone) and returns every event
    /// not taken yet, in order. Fails the scenario after [`WAIT`].
    pub(crate) fn events_until_closed(&mut self) -> Vec<ClientEvent> {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) => self.backlog.push_back(event),
                Err(RecvTimeoutError::Disconnected) => return self.backlog.drain(..).collect(),
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{}: events did not end within {WAIT:?}; {}",
                    self.user,
                    self.shown()
                ),
            }
        }
    }

    fn shown(&self) -> String {
        let skip = self.backlog.len().saturating_sub(SHOWN);
        let latest: Vec<&ClientEvent> = self.backlog.iter().skip(skip).collect();
        format!(
            "{} other events, the latest: {latest:?}",
            self.backlog.len()
        )
    }
}
