//! The end-to-end chat handshake (see the [module documentation](super)).

use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;

use super::dh_ratchet::DhRatchet;
use super::messages::{CHAT_CONFIRM, CHAT_HELLO, CHAT_REPLY, ChatConfirm, ChatHello, ChatReply};
use super::ratchet::Chain;
use super::{CHAT_VERSION, ChatError, ChatSession, SafetyNumber};
use crate::codec::Codec;
use crate::crypto::{
    EphemeralKeyPair, Secret, Transcript, X25519KeyPair, extract, finished_mac, verify_finished,
};
use crate::identity::{Identity, PublicKey, Username};

const CHAT_SALT: &[u8] = b"securecom/1 chat";
const RESPONDER_CONTEXT: &[u8] = b"securecom/1 chat responder signature\0";
const INITIATOR_CONTEXT: &[u8] = b"securecom/1 chat initiator signature\0";

/// Who is talking to whom: the first thing in the transcript.
struct Parties {
    initiator: (Username, PublicKey),
    responder: (Username, PublicKey),
}

impl Parties {
    fn transcript(&self) -> Transcript {
        let mut t = Transcript::default();
        t.add(CHAT_SALT);
        for (name, _) in [&self.initiator, &self.responder] {
            t.add(&[u8::try_from(name.as_str().len()).unwrap_or(u8::MAX)]);
            t.add(name.as_str().as_bytes());
        }
        t.add(self.initiator.1.as_bytes());
        t.add(self.responder.1.as_bytes());
        t
    }

    fn safety_number(&self) -> SafetyNumber {
        SafetyNumber::new(
            (&self.initiator.0, &self.initiator.1),
            (&self.responder.0, &self.responder.1),
        )
    }
}

fn signed(context: &[u8], th: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(context.len() + 32);
    m.extend_from_slice(context);
    m.extend_from_slice(th);
    m
}

fn message_type(msg: &[u8]) -> u8 {
    msg.first().copied().unwrap_or(0)
}

fn expect(msg: &[u8], ty: u8) -> Result<(), ChatError> {
    match message_type(msg) {
        t if t == ty => Ok(()),
        other => Err(ChatError::UnexpectedMessage(other)),
    }
}

/// Keys both sides derive from the DH result and the transcript after the reply's core.
struct Confirmation {
    secret: Secret,
    initiator_finished: Secret,
    responder_finished: Secret,
}

impl Confirmation {
    fn derive(secret: Secret, th1: &[u8; 32]) -> Self {
        Confirmation {
            initiator_finished: secret.derive(b"initiator finished", th1),
            responder_finished: secret.derive(b"responder finished", th1),
            secret,
        }
    }

    /// The ratchet's first root key and the two first chains (initiator's, responder's).
    fn into_ratchet_keys(self, th_final: &[u8; 32]) -> (Secret, Chain, Chain) {
        (
            self.secret.derive(b"root", th_final),
            Chain::new(self.secret.derive(b"initiator chain", th_final)),
            Chain::new(self.secret.derive(b"responder chain", th_final)),
        )
    }
}

/// The requester's randomness, drawn when the user asks for a chat, before the peer's key
/// is known (the relay sends it with the acceptance).
pub struct PreparedInitiator {
    ephemeral: EphemeralKeyPair,
    random: [u8; 32],
}

impl fmt::Debug for PreparedInitiator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PreparedInitiator(..)")
    }
}

impl PreparedInitiator {
    /// Draws the random and the ephemeral key.
    pub fn new<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut random = [0u8; 32];
        rng.fill_bytes(&mut random);
        PreparedInitiator {
            ephemeral: EphemeralKeyPair::generate(rng),
            random,
        }
    }

    /// Starts the handshake from `me` to `peer`; returns the state and the ChatHello.
    pub fn start(
        self,
        me: (&Username, PublicKey),
        peer: (&Username, PublicKey),
    ) -> (ChatInitiator, Vec<u8>) {
        let parties = Parties {
            initiator: (me.0.clone(), me.1),
            responder: (peer.0.clone(), peer.1),
        };
        let mut hello = Vec::new();
        ChatHello {
            version: CHAT_VERSION,
            random: self.random,
            key_share: *self.ephemeral.public(),
        }
        .encode_fixed(&mut hello);
        let mut transcript = parties.transcript();
        transcript.add(&hello);
        (
            ChatInitiator {
                parties,
                ephemeral: self.ephemeral,
                transcript,
            },
            hello,
        )
    }
}

/// The requester's side, after sending its ChatHello and waiting for the ChatReply.
pub struct ChatInitiator {
    parties: Parties,
    ephemeral: EphemeralKeyPair,
    transcript: Transcript,
}

impl fmt::Debug for ChatInitiator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatInitiator")
            .field("me", &self.parties.initiator.0)
            .field("peer", &self.parties.responder.0)
            .finish_non_exhaustive()
    }
}

/// Alias kept for readers of the handshake diagram: the initiator waits for the reply.
pub type InitiatorAwaitingReply = ChatInitiator;

impl ChatInitiator {
    /// Starts a chat handshake from `me` to `peer`, whose key the relay gave us. Returns the
    /// state and the ChatHello to send.
    pub fn start<R: CryptoRng + ?Sized>(
        me: (&Username, PublicKey),
        peer: (&Username, PublicKey),
        rng: &mut R,
    ) -> (Self, Vec<u8>) {
        PreparedInitiator::new(rng).start(me, peer)
    }

    /// The peer this handshake is with.
    pub fn peer(&self) -> &Username {
        &self.parties.responder.0
    }

    /// Checks the responder's reply; on success returns the chat session and the
    /// ChatConfirm to send.
    pub fn handle_reply(
        self,
        identity: &Identity,
        msg: &[u8],
    ) -> Result<(ChatSession, Vec<u8>), ChatError> {
        expect(msg, CHAT_REPLY)?;
        let reply = ChatReply::decode(msg)?;
        let ChatInitiator {
            parties,
            ephemeral,
            mut transcript,
        } = self;
        let mut core = Vec::new();
        reply.encode_core(&mut core);
        transcript.add(&core);
        let th1 = transcript.current();
        let our_key = *ephemeral.public();
        let secret = ephemeral
            .agree(&reply.key_share, CHAT_SALT)
            .map_err(|_| ChatError::NonContributoryKeyShare)?;
        let keys = Confirmation::derive(secret, &th1);
        parties
            .responder
            .1
            .verify(&signed(RESPONDER_CONTEXT, &th1), &reply.signature)
            .map_err(|_| ChatError::BadSignature)?;
        transcript.add(&reply.signature);
        if !verify_finished(&keys.responder_finished, &transcript.current(), &reply.mac) {
            return Err(ChatError::BadFinished);
        }
        transcript.add(&reply.mac);

        let signature = identity.sign(&signed(INITIATOR_CONTEXT, &transcript.current()));
        transcript.add(&signature);
        let mac = finished_mac(&keys.initiator_finished, &transcript.current());
        transcript.add(&mac);
        let confirm = ChatConfirm { signature, mac }.to_bytes()?;

        let safety = parties.safety_number();
        let (root, send, recv) = keys.into_ratchet_keys(&transcript.current());
        let ratchet = DhRatchet::initiator(root, send, recv, our_key, reply.key_share);
        let Parties { responder, .. } = parties;
        Ok((ChatSession::new(responder, safety, ratchet), confirm))
    }
}

/// The accepting side, prepared when the user accepts and waiting for the ChatHello.
pub struct ChatResponder {
    parties: Parties,
    /// The handshake key, kept as the first ratchet key.
    ephemeral: X25519KeyPair,
    random: [u8; 32],
}

impl fmt::Debug for ChatResponder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatResponder")
            .field("me", &self.parties.responder.0)
            .field("peer", &self.parties.initiator.0)
            .finish_non_exhaustive()
    }
}

/// The responder after its reply, waiting for the initiator's confirmation.
pub struct ResponderAwaitingConfirm {
    parties: Parties,
    keys: Confirmation,
    transcript: Transcript,
    ratchet_key: X25519KeyPair,
    initiator_key: [u8; 32],
}

impl fmt::Debug for ResponderAwaitingConfirm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponderAwaitingConfirm")
            .field("peer", &self.parties.initiator.0)
            .finish_non_exhaustive()
    }
}

impl ChatResponder {
    /// Prepares to answer `peer`'s handshake (draws our randomness now).
    pub fn new<R: CryptoRng + ?Sized>(
        me: (&Username, PublicKey),
        peer: (&Username, PublicKey),
        rng: &mut R,
    ) -> Self {
        let mut random = [0u8; 32];
        rng.fill_bytes(&mut random);
        ChatResponder {
            parties: Parties {
                initiator: (peer.0.clone(), peer.1),
                responder: (me.0.clone(), me.1),
            },
            ephemeral: X25519KeyPair::generate(rng),
            random,
        }
    }

    /// The peer this handshake is with.
    pub fn peer(&self) -> &Username {
        &self.parties.initiator.0
    }

    /// Answers the ChatHello; returns the next state and the ChatReply to send.
    pub fn handle_hello(
        self,
        identity: &Identity,
        msg: &[u8],
    ) -> Result<(ResponderAwaitingConfirm, Vec<u8>), ChatError> {
        expect(msg, CHAT_HELLO)?;
        let hello = ChatHello::decode(msg)?;
        if hello.version != CHAT_VERSION {
            return Err(ChatError::UnsupportedVersion(hello.version));
        }
        let mut transcript = self.parties.transcript();
        transcript.add(msg);
        let mut reply = ChatReply {
            random: self.random,
            key_share: *self.ephemeral.public(),
            signature: [0; 64],
            mac: [0; 32],
        };
        let mut core = Vec::new();
        reply.encode_core(&mut core);
        transcript.add(&core);
        let th1 = transcript.current();
        let shared = self
            .ephemeral
            .agree(&hello.key_share)
            .map_err(|_| ChatError::NonContributoryKeyShare)?;
        let keys = Confirmation::derive(extract(CHAT_SALT, shared.as_slice()), &th1);
        reply.signature = identity.sign(&signed(RESPONDER_CONTEXT, &th1));
        transcript.add(&reply.signature);
        reply.mac = finished_mac(&keys.responder_finished, &transcript.current());
        transcript.add(&reply.mac);
        let reply = reply.to_bytes()?;
        Ok((
            ResponderAwaitingConfirm {
                parties: self.parties,
                keys,
                transcript,
                ratchet_key: self.ephemeral,
                initiator_key: hello.key_share,
            },
            reply,
        ))
    }
}

impl ResponderAwaitingConfirm {
    /// The peer this handshake is with.
    pub fn peer(&self) -> &Username {
        &self.parties.initiator.0
    }

    /// Checks the initiator's confirmation; on success the chat is established.
    pub fn handle_confirm(self, msg: &[u8]) -> Result<ChatSession, ChatError> {
        expect(msg, CHAT_CONFIRM)?;
        let confirm = ChatConfirm::decode(msg)?;
        let ResponderAwaitingConfirm {
            parties,
            keys,
            mut transcript,
            ratchet_key,
            initiator_key,
        } = self;
        parties
            .initiator
            .1
            .verify(
                &signed(INITIATOR_CONTEXT, &transcript.current()),
                &confirm.signature,
            )
            .map_err(|_| ChatError::BadSignature)?;
        transcript.add(&confirm.signature);
        if !verify_finished(
            &keys.initiator_finished,
            &transcript.current(),
            &confirm.mac,
        ) {
            return Err(ChatError::BadFinished);
        }
        transcript.add(&confirm.mac);
        let safety = parties.safety_number();
        let (root, initiator_chain, responder_chain) =
            keys.into_ratchet_keys(&transcript.current());
        let ratchet = DhRatchet::responder(
            root,
            responder_chain,
            initiator_chain,
            ratchet_key,
            initiator_key,
        );
        let Parties { initiator, .. } = parties;
        Ok(ChatSession::new(initiator, safety, ratchet))
    }
}
