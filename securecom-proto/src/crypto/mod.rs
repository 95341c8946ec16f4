//! Cryptographic building blocks shared by the handshakes and the record layer: the HKDF
//! label scheme, secrets that zeroize themselves, the running transcript hash, Finished MACs
//! and the ephemeral X25519 exchange.

mod ephemeral;
mod ratchet_key;
mod secret;
mod transcript;

pub(crate) use ephemeral::{EPHEMERAL_KEY_LEN, EphemeralKeyPair};
pub(crate) use ratchet_key::RatchetKeyPair;
pub(crate) use secret::{HASH_LEN, Secret, expand_label, extract};
pub(crate) use transcript::{Transcript, TranscriptHash, finished_mac, verify_finished};
