//! The client end of one connection in the multi-relay simulations and the `cluster` fuzz
//! target: a genuine handshake, then the chat client, or the refusal that ended it.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::chat::MemoryKnownKeys;
use crate::client::ChatClient;
use crate::handshake::{ClientConfig, ClientHandshake, ClientProgress, HandshakeError};
use crate::time::Instant;

/// What is at the client end of a connection.
pub(crate) enum ClientEnd {
    /// Logging in (a clustered login also waits for the presence store).
    Handshake(Option<Box<ClientHandshake>>),
    /// Logged in.
    Client(Box<ChatClient>),
    /// The login failed.
    Refused(
        #[cfg_attr(
            not(test),
            allow(dead_code, reason = "read by the simulations' checks")
        )]
        HandshakeError,
    ),
}

impl ClientEnd {
    /// A copy of a client that is not mid-chat-handshake, a refusal, or a login waiting
    /// for the server's Welcome; `None` earlier in the handshake.
    #[cfg(feature = "fuzzing")]
    pub(crate) fn try_clone(&self) -> Option<ClientEnd> {
        Some(match self {
            ClientEnd::Handshake(Some(hs)) => ClientEnd::Handshake(Some(Box::new(hs.try_clone()?))),
            ClientEnd::Handshake(None) => return None,
            ClientEnd::Client(c) => ClientEnd::Client(Box::new(c.try_clone()?)),
            ClientEnd::Refused(e) => ClientEnd::Refused(e.clone()),
        })
    }

    /// Hands `bytes` from the relay to this end; false if the end failed on them. A
    /// completed handshake becomes a chat client of `config`, which takes the rest.
    pub(crate) fn deliver(
        &mut self,
        config: &Arc<ClientConfig>,
        now: Instant,
        bytes: &[u8],
    ) -> bool {
        match self {
            ClientEnd::Handshake(hs) => {
                let Some(h) = hs.take() else {
                    return false;
                };
                match h.handle_input(now, bytes) {
                    Ok(ClientProgress::Continue(next)) => {
                        *hs = Some(Box::new(next));
                        true
                    }
                    Ok(ClientProgress::Established {
                        session, consumed, ..
                    }) => {
                        let mut client = ChatClient::new(
                            session,
                            Arc::clone(config),
                            Box::new(MemoryKnownKeys::default()),
                            now,
                        );
                        let ok = client
                            .handle_input(now, bytes.get(consumed..).unwrap_or(&[]))
                            .is_ok();
                        *self = ClientEnd::Client(Box::new(client));
                        ok
                    }
                    Err(e) => {
                        *self = ClientEnd::Refused(e);
                        false
                    }
                }
            }
            ClientEnd::Client(c) => c.handle_input(now, bytes).is_ok(),
            ClientEnd::Refused(_) => true,
        }
    }

    /// The socket is gone: a logged-in client learns it.
    pub(crate) fn connection_lost(&mut self) {
        if let ClientEnd::Client(c) = self {
            c.connection_lost();
        }
    }

    /// What this end wrote, taken.
    pub(crate) fn take_output(&mut self) -> Vec<u8> {
        match self {
            ClientEnd::Handshake(Some(hs)) => {
                let out = hs.output().to_vec();
                hs.consume_output(out.len());
                out
            }
            ClientEnd::Client(c) => {
                let out = c.output().to_vec();
                c.consume_output(out.len());
                out
            }
            _ => Vec::new(),
        }
    }
}
