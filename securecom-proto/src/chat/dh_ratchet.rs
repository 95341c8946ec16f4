//! The Diffie-Hellman ratchet: which chain seals or opens the next record, and when a new
//! ratchet key replaces the old one.
//!
//! The Double Ratchet's shape, without header encryption and without skipped-message keys
//! (the relay delivers each direction in order, so any gap is an attack):
//!
//! - Each side has a current ratchet key pair; its records carry the public half.
//! - A side that has received a ratchet key it had not seen makes a fresh key pair when it
//!   next sends a text, and steps the root with X25519(fresh, peer's latest).
//! - A record under a ratchet key the receiver has not seen steps the receiver's root with
//!   X25519(own current, that key); both sides thus take the same root steps in the same
//!   order, because a side makes a new key only after seeing the peer's newest one.
//!
//! After the chat handshake the root and both first chains come from the handshake secret.
//! The responder's first ratchet key is its handshake ephemeral key; the initiator's first
//! records (before any step) carry its handshake key, whose secret it no longer needs, and
//! its first text makes a fresh key at once, since it has already received the
//! responder's. Every step is computed on a copy and committed only once the record
//! authenticated (receiving) or was encoded (sending).

use super::ChatError;
use super::messages::ChatRecordHeader;
use super::ratchet::{Chain, root_step};
use crate::crypto::{EPHEMERAL_KEY_LEN, Secret, X25519KeyPair};

type PublicKey = [u8; EPHEMERAL_KEY_LEN];

/// Our current ratchet key. The initiator's first one is its handshake key, whose secret
/// was consumed by the handshake: it is never needed (see the module docs).
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
enum OurKey {
    HandshakeOnly(PublicKey),
    Pair(X25519KeyPair),
}

impl OurKey {
    fn public(&self) -> &PublicKey {
        match self {
            OurKey::HandshakeOnly(public) => public,
            OurKey::Pair(pair) => pair.public(),
        }
    }
}

/// Both sides' ratchet state.
#[cfg_attr(any(test, feature = "fuzzing"), derive(Clone))]
pub(crate) struct DhRatchet {
    root: Secret,
    ours: OurKey,
    /// The records we sent under our previous key (the header's previous chain length).
    our_previous_len: u64,
    send: Chain,
    theirs: PublicKey,
    /// The previous chain length the peer gave with its current key.
    their_previous_len: u64,
    recv: Chain,
    /// We received a ratchet key since ours was made: our next text makes a new one.
    step_due: bool,
}

/// Where the next message key came from, and what to commit once the record is good.
enum Next {
    /// The same sending chain, moved one on.
    Send(Secret),
    /// The same receiving chain, moved one on.
    Receive(Secret),
    /// A ratchet step: the new root, the new chain, and the new key (ours or theirs).
    Step {
        root: Secret,
        chain: Chain,
        next: Secret,
        key: StepKey,
    },
}

enum StepKey {
    Ours(X25519KeyPair),
    Theirs {
        public: PublicKey,
        previous_len: u64,
    },
}

/// A record's header and key, computed without changing the ratchet.
pub(crate) struct Pending {
    pub(crate) header: ChatRecordHeader,
    pub(crate) message_key: Secret,
    next: Next,
}

impl DhRatchet {
    /// The initiator's state after the handshake: it has received the responder's key, so
    /// its first text steps.
    pub(crate) fn initiator(
        root: Secret,
        send: Chain,
        recv: Chain,
        our_handshake_key: PublicKey,
        responder_key: PublicKey,
    ) -> Self {
        DhRatchet {
            root,
            ours: OurKey::HandshakeOnly(our_handshake_key),
            our_previous_len: 0,
            send,
            theirs: responder_key,
            their_previous_len: 0,
            recv,
            step_due: true,
        }
    }

    /// The responder's state after the handshake: it keeps its handshake key pair for the
    /// initiator's first step.
    pub(crate) fn responder(
        root: Secret,
        send: Chain,
        recv: Chain,
        ours: X25519KeyPair,
        initiator_key: PublicKey,
    ) -> Self {
        DhRatchet {
            root,
            ours: OurKey::Pair(ours),
            our_previous_len: 0,
            send,
            theirs: initiator_key,
            their_previous_len: 0,
            recv,
            step_due: false,
        }
    }

    /// Whether our next text must make a new ratchet key.
    pub(crate) fn step_due(&self) -> bool {
        self.step_due
    }

    /// Records sent and received under the current chains.
    pub(crate) fn counters(&self) -> (u64, u64) {
        (self.send.counter(), self.recv.counter())
    }

    /// The header and key of our next record: under `fresh`, a new ratchet key (when
    /// [`step_due`](Self::step_due) and the record is a text), or else under the current
    /// sending chain.
    pub(crate) fn prepare_send(&self, fresh: Option<X25519KeyPair>) -> Result<Pending, ChatError> {
        let Some(fresh) = fresh else {
            let (message_key, next) = self.send.peek();
            return Ok(Pending {
                header: ChatRecordHeader {
                    ratchet_key: *self.ours.public(),
                    previous_chain_len: self.our_previous_len,
                    counter: self.send.counter(),
                },
                message_key,
                next: Next::Send(next),
            });
        };
        // `theirs` was checked to be contributory when it arrived (or in the handshake).
        let shared = fresh
            .agree(&self.theirs)
            .map_err(|_| ChatError::NonContributoryKeyShare)?;
        let (root, chain) = root_step(&self.root, &shared, fresh.public(), &self.theirs);
        let (message_key, next) = chain.peek();
        Ok(Pending {
            header: ChatRecordHeader {
                ratchet_key: *fresh.public(),
                previous_chain_len: self.send.counter(),
                counter: 0,
            },
            message_key,
            next: Next::Step {
                root,
                chain,
                next,
                key: StepKey::Ours(fresh),
            },
        })
    }

    /// The key that opens a record with `header`, without changing the ratchet. Checks the
    /// sequence first (cheap), then computes the step a new key asks for.
    pub(crate) fn prepare_receive(&self, header: &ChatRecordHeader) -> Result<Pending, ChatError> {
        if header.ratchet_key == self.theirs {
            let expected = self.recv.counter();
            if header.counter != expected {
                return Err(ChatError::OutOfSequence {
                    expected,
                    got: header.counter,
                });
            }
            if header.previous_chain_len != self.their_previous_len {
                return Err(ChatError::BadRecord);
            }
            let (message_key, next) = self.recv.peek();
            return Ok(Pending {
                header: *header,
                message_key,
                next: Next::Receive(next),
            });
        }
        // A new key: it starts a chain, and the peer must have sent nothing under its old
        // key that we did not get.
        if header.counter != 0 {
            return Err(ChatError::OutOfSequence {
                expected: 0,
                got: header.counter,
            });
        }
        if header.previous_chain_len != self.recv.counter() {
            return Err(ChatError::OutOfSequence {
                expected: self.recv.counter(),
                got: header.previous_chain_len,
            });
        }
        let ours = match &self.ours {
            // Our own key coming back is a reflection, not a step.
            OurKey::Pair(pair) if pair.public() != &header.ratchet_key => pair,
            _ => return Err(ChatError::UnexpectedRatchetKey),
        };
        let shared = ours
            .agree(&header.ratchet_key)
            .map_err(|_| ChatError::NonContributoryKeyShare)?;
        let (root, chain) = root_step(&self.root, &shared, &header.ratchet_key, ours.public());
        let (message_key, next) = chain.peek();
        Ok(Pending {
            header: *header,
            message_key,
            next: Next::Step {
                root,
                chain,
                next,
                key: StepKey::Theirs {
                    public: header.ratchet_key,
                    previous_len: header.previous_chain_len,
                },
            },
        })
    }

    /// Commits a record we sealed and encoded, or one that authenticated and parsed: the
    /// replaced key, root and chain are dropped (and so zeroized).
    pub(crate) fn commit(&mut self, pending: Pending) -> Result<(), ChatError> {
        match pending.next {
            Next::Send(next) => self.send.advance(next),
            Next::Receive(next) => self.recv.advance(next),
            Next::Step {
                root,
                mut chain,
                next,
                key,
            } => {
                // A fresh chain at 0 cannot be exhausted; advancing first keeps an error
                // from leaving half a step behind.
                chain.advance(next)?;
                self.root = root;
                match key {
                    StepKey::Ours(fresh) => {
                        self.our_previous_len = self.send.counter();
                        self.send = chain;
                        self.ours = OurKey::Pair(fresh);
                        self.step_due = false;
                    }
                    StepKey::Theirs {
                        public,
                        previous_len,
                    } => {
                        self.recv = chain;
                        self.theirs = public;
                        self.their_previous_len = previous_len;
                        self.step_due = true;
                    }
                }
                Ok(())
            }
        }
    }

    /// The key of a record this side sent, as a thief holding a copy of this state would
    /// get it: only under the sending chain the copy holds (tests only).
    #[cfg(test)]
    pub(crate) fn prepare_own(&self, header: &ChatRecordHeader) -> Result<Pending, ChatError> {
        if header.ratchet_key != *self.ours.public() || header.counter != self.send.counter() {
            return Err(ChatError::UnexpectedRatchetKey);
        }
        self.prepare_send(None)
    }

    /// Our current ratchet public key (tests only).
    #[cfg(test)]
    pub(crate) fn our_public(&self) -> &PublicKey {
        self.ours.public()
    }

    /// The peer's current ratchet public key (tests only).
    #[cfg(test)]
    pub(crate) fn their_public(&self) -> &PublicKey {
        &self.theirs
    }

    /// What a thief of this state holds, for the tests that try every key it gives.
    #[cfg(test)]
    pub(crate) fn stolen_keys(&self) -> StolenKeys {
        StolenKeys {
            root: self.root.clone(),
            ours: match &self.ours {
                OurKey::Pair(pair) => Some(pair.clone()),
                OurKey::HandshakeOnly(_) => None,
            },
            chains: alloc::vec![self.send.clone(), self.recv.clone()],
        }
    }
}

/// Every secret in a stolen ratchet state (tests only).
#[cfg(test)]
pub(crate) struct StolenKeys {
    pub(crate) root: Secret,
    pub(crate) ours: Option<X25519KeyPair>,
    pub(crate) chains: alloc::vec::Vec<Chain>,
}
