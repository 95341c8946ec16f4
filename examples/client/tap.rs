//! Watching a session's events on their way to the screen, to learn afterwards whether
//! the screen ended because the connection was lost (and how) or because the user quit.

use std::sync::{Arc, Mutex, PoisonError};

use securecom_proto::client::{ChatEndReason, ClientEvent};
use securecom_proto::identity::Username;
use tokio::sync::mpsc::{self, UnboundedReceiver};

use crate::session::Loss;

/// What the tap saw.
#[derive(Default)]
struct Seen {
    loss: Option<Loss>,
    chat_ended: Option<Username>,
}

/// Forwards a session's events, noting how the session ended.
pub(crate) struct Tap {
    seen: Arc<Mutex<Seen>>,
}

impl Tap {
    /// Forwards `events`, after the `first` events, to the receiver returned.
    pub(crate) fn new(
        mut events: UnboundedReceiver<ClientEvent>,
        first: Vec<ClientEvent>,
    ) -> (Tap, UnboundedReceiver<ClientEvent>) {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (tx, rx) = mpsc::unbounded_channel();
        for event in first {
            let _ = tx.send(event);
        }
        let noted = seen.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                {
                    // Noted before the screen can see it.
                    let mut seen = noted.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Some(next) = Loss::from_event(&event) {
                        seen.loss = Some(Loss::merge(seen.loss, next));
                    }
                    if let ClientEvent::ChatEnded {
                        peer,
                        reason: ChatEndReason::Disconnected,
                    } = &event
                    {
                        seen.chat_ended = Some(peer.clone());
                    }
                }
                if tx.send(event).is_err() {
                    return;
                }
            }
            let mut seen = noted.lock().unwrap_or_else(PoisonError::into_inner);
            seen.loss.get_or_insert(Loss::Reset);
        });
        (Tap { seen }, rx)
    }

    /// How the connection was lost, if it was by now.
    pub(crate) fn loss(&self) -> Option<Loss> {
        self.lock().loss
    }

    /// The chat peer whose chat ended with the connection, if any.
    pub(crate) fn chat_ended(&self) -> Option<Username> {
        self.lock().chat_ended.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
