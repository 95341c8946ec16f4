//! The crate's test kit: what the unit tests, the in-memory simulations and the fuzz
//! targets share. Compiled only for tests and under the hidden `fuzzing` feature, so it
//! obeys the crate's panic lints there (a fallible API; the tests' panicking shorthands
//! live with the tests).
//!
//! | module | job |
//! |---|---|
//! | [`fixtures`] | the fixture PKI and users, loaded once |
//! | [`rng`] | [`rng::TestRng`], a deterministic RNG |
//! | [`adversary`] | [`adversary::AdversarialRelay`]: a malicious relay wrapping the real one |
//! | [`pair`] | the genuine client-server handshake, and the session pair it makes |
//! | [`world`] | [`world::World`]: a relay, its clients and a virtual clock, driven in memory |
//! | [`bus`] | [`bus::Bus`]: an in-memory double of the cluster's bus (pub/sub and presence store) |

pub(crate) mod adversary;
#[cfg_attr(
    not(test),
    allow(dead_code, reason = "the cluster fuzz target uses only part of it")
)]
pub(crate) mod bus;
#[cfg_attr(
    not(feature = "fuzzing"),
    allow(unreachable_pub, reason = "public through the fuzzing module")
)]
pub mod fixtures;
pub(crate) mod login_end;
pub(crate) mod pair;
pub(crate) mod rng;
pub(crate) mod world;

pub(crate) use rng::TestRng;

/// Hex of `bytes`, for vectors and messages.
#[cfg(test)]
pub(crate) fn hex(bytes: &[u8]) -> alloc::string::String {
    use core::fmt::Write;
    let mut s = alloc::string::String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests;
