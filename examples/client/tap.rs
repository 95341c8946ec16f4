//! Watching a session's events on their way to the screen, to learn afterwards whether
//! the screen ended because the connection was lost (and how) or because the user quit.

use std::sync::{Arc, Mutex, PoisonError};

use securecom_proto::client::ClientEvent;
use tokio::sync::mpsc::{self, UnboundedReceiver};

use crate::session::Loss;

/// What the tap saw: how the session ended, once it has.
#[derive(Default)]
struct Seen {
    loss: Option<Loss>,
}

/// Forwards a session's events, noting how the session ended.
pub(crate) struct Tap {
    seen: Arc<Mutex<Seen>>,
}

impl Tap {
    /// Forwards `events` to the receiver returned. The chat that was open when the
    /// connection was lost is reported ended by the core itself (`ChatEnded` with
    /// `Disconnected`, before the loss), and the screen keeps that notice across the
    /// reconnection.
    pub(crate) fn new(
        mut events: UnboundedReceiver<ClientEvent>,
    ) -> (Tap, UnboundedReceiver<ClientEvent>) {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (tx, rx) = mpsc::unbounded_channel();
        let noted = seen.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                {
                    // Noted before the screen can see it.
                    let mut seen = noted.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Some(next) = Loss::from_event(&event) {
                        seen.loss = Some(Loss::merge(seen.loss, next));
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
