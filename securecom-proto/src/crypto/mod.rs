//! Cryptographic building blocks shared by the handshakes and the record layer: the HKDF
//! label scheme, secrets that zeroize themselves, the running transcript hash, Finished MACs
//! and the X25519 exchanges.

mod ed25519;
mod ephemeral;
mod key_pair;
mod secret;
mod transcript;

// The real primitives, or under cargo-fuzz their cheap, insecure stand-ins (never both:
// `--cfg fuzzing` is set only by cargo-fuzz, and the stand-ins also need the `fuzzing`
// feature). See fuzz/README.md.
#[cfg(any(test, all(feature = "fuzzing", fuzzing)))]
pub(crate) mod fuzzing_pattern;
#[cfg(all(feature = "fuzzing", fuzzing))]
#[path = "fuzzing_standin/ed25519.rs"]
mod fuzzing_standin_ed25519;
#[cfg(not(all(feature = "fuzzing", fuzzing)))]
mod x25519;
#[cfg(all(feature = "fuzzing", fuzzing))]
#[path = "fuzzing_standin/x25519.rs"]
mod x25519;

pub(crate) use ed25519::{ed25519_public_key, ed25519_sign, ed25519_verify};
pub(crate) use ephemeral::{EPHEMERAL_KEY_LEN, EphemeralKeyPair};
pub(crate) use key_pair::X25519KeyPair;
pub(crate) use secret::{HASH_LEN, Secret, expand_labels, extract};
pub(crate) use transcript::{Transcript, TranscriptHash, finished_mac, verify_finished};
