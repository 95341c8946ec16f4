//! Fixtures and helpers for the crate's own tests: the OpenSSL-made PKI in
//! `tests/fixtures/pki/`, a deterministic RNG, and a fixed clock.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use sha2::{Digest, Sha256};

use crate::handshake::{ClientConfig, ServerConfig};
use crate::identity::{Identity, MemoryDirectory, Username};
use crate::pki::{ServerCertVerifier, ServerCredentials, certificates_from_pem};
use crate::time::UnixTime;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../tests/fixtures/pki/", $name))
    };
}

pub(crate) const CA: &str = fixture!("ca.pem");
pub(crate) const CRL: &str = fixture!("crl.pem");
pub(crate) const SERVER_CHAIN: &str = fixture!("server.pem");
pub(crate) const SERVER_KEY: &str = fixture!("server.key");
pub(crate) const OTHER_CA: &str = fixture!("other-ca.pem");

/// A time at which every fixture certificate and CRL is valid (2026-01-15).
pub(crate) const VALID_TIME: UnixTime = UnixTime::from_secs(1_768_435_200);

/// The registered users of the fixtures: `(name, PKCS#8 PEM)`.
pub(crate) const USERS: [(&str, &str); 3] = [
    ("alice", fixture!("users/alice.key")),
    ("bob", fixture!("users/bob.key")),
    ("carol", fixture!("users/carol.key")),
];

/// A deterministic RNG for tests: SHA-256 in counter mode over a seed. Never for real keys.
pub(crate) struct TestRng {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl TestRng {
    pub(crate) fn new(seed: u64) -> Self {
        let seed: [u8; 32] = Sha256::digest(seed.to_be_bytes()).into();
        TestRng {
            seed,
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }
}

impl TryRng for TestRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for byte in dst {
            if self.used == 32 {
                self.block = Sha256::new()
                    .chain_update(self.seed)
                    .chain_update(self.counter.to_be_bytes())
                    .finalize()
                    .into();
                self.counter += 1;
                self.used = 0;
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
        Ok(())
    }
}

impl TryCryptoRng for TestRng {}

pub(crate) fn identity_from_pem(pem: &str) -> Identity {
    Identity::from_pkcs8_pem(pem).unwrap()
}

pub(crate) fn user(name: &str) -> (Username, Identity) {
    let (_, pem) = USERS.iter().find(|(n, _)| *n == name).unwrap();
    (Username::new(name).unwrap(), identity_from_pem(pem))
}

pub(crate) fn directory() -> MemoryDirectory {
    let mut dir = MemoryDirectory::new();
    for (name, pem) in USERS {
        dir.insert(
            Username::new(name).unwrap(),
            identity_from_pem(pem).public_key(),
        );
    }
    dir
}

pub(crate) fn verifier() -> ServerCertVerifier {
    ServerCertVerifier::from_pem(CA, Some(CRL)).unwrap()
}

pub(crate) fn server_config() -> Arc<ServerConfig> {
    let chain: Vec<Vec<u8>> = certificates_from_pem(SERVER_CHAIN).unwrap();
    let credentials = ServerCredentials::new(chain, identity_from_pem(SERVER_KEY)).unwrap();
    Arc::new(ServerConfig::new(credentials, Arc::new(directory())))
}

pub(crate) fn client_config(name: &str) -> Arc<ClientConfig> {
    let (username, identity) = user(name);
    Arc::new(ClientConfig::new(
        verifier(),
        "localhost",
        username,
        identity,
    ))
}

/// Hex of `bytes`, for vectors and messages.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
