//! Fixtures and helpers for the crate's own tests: the OpenSSL-made PKI in
//! `tests/fixtures/pki/`, a deterministic RNG, and a fixed clock.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

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

pub(crate) use crate::test_rng::TestRng;

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
