//! The fixture PKI and users of `tests/fixtures/pki/` (made by its `make-fixtures.sh`; dates
//! in its README), loaded once.
//!
//! This is the only place in the crate's sources that includes the fixture files and builds
//! configurations and identities from them: the unit tests, the simulations and the fuzz
//! targets all come here, and so can the facade's tests and benchmarks, through the hidden
//! `fuzzing` module (`securecom_proto::fuzzing::fixtures`).
//!
//! The server knows the three users alice, bob and carol. Everything parsed is parsed once
//! per process; the functions that return owned values ([`user`], [`verifier`],
//! [`directory`]) build them afresh, for the types that are not `Clone`.

#![allow(
    clippy::expect_used,
    reason = "the fixtures are compiled in: failing to parse them, or asking for a user \
              they do not have, is a bug in the harness"
)]

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::time::Duration;
use std::sync::OnceLock;

use crate::handshake::{ClientConfig, ServerConfig};
use crate::identity::{Identity, MemoryDirectory, PublicKey, Username};
use crate::pki::{ServerCertVerifier, ServerCredentials, certificates_from_pem, crls_from_pem};
use crate::time::UnixTime;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/pki/", $name))
    };
}

/// The trusted root CA's certificate.
pub const CA: &str = fixture!("ca.pem");
/// The root CA's key (for a server that wrongly presents the CA as its leaf).
pub const CA_KEY: &str = fixture!("ca.key");
/// The root's current CRL: revokes `revoked-server.pem`.
pub const CRL: &str = fixture!("crl.pem");
/// The root's older CRL, revoking nothing.
pub const CRL_EMPTY: &str = fixture!("crl-empty.pem");
/// The root's CRL with a nextUpdate far ahead: valid on the real clock.
pub const CRL_LONG: &str = fixture!("crl-long.pem");
/// A CRL naming the root but signed by another key.
pub const CRL_OTHER_KEY: &str = fixture!("crl-other-key.pem");
/// The intermediate CA's CRL, revoking nothing.
pub const CRL_INTERMEDIATE: &str = fixture!("crl-intermediate.pem");
/// Another root, trusted by nobody.
pub const OTHER_CA: &str = fixture!("other-ca.pem");
/// The server's chain: its leaf for `localhost`, signed by the root.
pub const SERVER_CHAIN: &str = fixture!("server.pem");
/// The server's key (PKCS#8 PEM).
pub const SERVER_KEY: &str = fixture!("server.key");
/// A server leaf signed by the root and revoked by [`CRL`].
pub const REVOKED_SERVER: &str = fixture!("revoked-server.pem");
/// The key of [`REVOKED_SERVER`].
pub const REVOKED_SERVER_KEY: &str = fixture!("revoked-server.key");
/// What the server behind the intermediate CA sends: its leaf, then the intermediate.
pub const INTERMEDIATE_CHAIN: &str = fixture!("server-via-intermediate-chain.pem");
/// The key of the server behind the intermediate CA.
pub const VIA_INTERMEDIATE_KEY: &str = fixture!("server-via-intermediate.key");
/// A leaf for client authentication only (EKU clientAuth), for TLS comparisons.
pub const CLIENT_AUTH_CERT: &str = fixture!("client-auth-only.pem");
/// The key of [`CLIENT_AUTH_CERT`].
pub const CLIENT_AUTH_KEY: &str = fixture!("client-auth-only.key");
/// Alice's key (PKCS#8 PEM).
pub const ALICE_KEY: &str = fixture!("users/alice.key");
/// Alice's public key (SPKI PEM).
pub const ALICE_PUB: &str = fixture!("users/alice.pub.pem");
/// Bob's key (PKCS#8 PEM).
pub const BOB_KEY: &str = fixture!("users/bob.key");
/// Carol's key (PKCS#8 PEM).
pub const CAROL_KEY: &str = fixture!("users/carol.key");

/// The registered users, in this order: `(name, PKCS#8 PEM key)`.
pub const USERS: [(&str, &str); 3] = [("alice", ALICE_KEY), ("bob", BOB_KEY), ("carol", CAROL_KEY)];

/// A time at which every fixture certificate and CRL is valid (2026-01-15).
pub const VALID_TIME: UnixTime = UnixTime::from_secs(1_768_435_200);

/// The name every fixture server certificate is issued for.
pub const SERVER_NAME: &str = "localhost";

/// A fixture user: name, identity, and a client configuration trusting the fixture root.
pub(crate) struct User {
    pub(crate) name: Username,
    pub(crate) identity: Identity,
    pub(crate) config: Arc<ClientConfig>,
}

impl User {
    /// The name and registered key, as the chat handshake takes them.
    pub(crate) fn me(&self) -> (&Username, PublicKey) {
        (&self.name, self.identity.public_key())
    }
}

/// Everything parsed from the fixtures, once per process.
pub(crate) struct Fixtures {
    /// The server: fixture chain and key, knowing the three users.
    pub(crate) server: Arc<ServerConfig>,
    pub(crate) server_identity: Identity,
    pub(crate) server_key: PublicKey,
    /// The key of the server whose chain goes through the intermediate CA.
    pub(crate) via_intermediate_key: PublicKey,
    /// [`SERVER_CHAIN`], DER.
    pub(crate) chain: Vec<Vec<u8>>,
    /// [`CA`], DER.
    pub(crate) ca_der: Vec<u8>,
    /// [`CRL`], DER.
    pub(crate) crl_der: Vec<u8>,
    /// The verifier of every client: the root, with its CRL.
    pub(crate) verifier: ServerCertVerifier,
    users: [User; 3],
}

impl Fixtures {
    /// User `i`, modulo three (0 alice, 1 bob, 2 carol).
    pub(crate) fn user(&self, i: usize) -> &User {
        let [alice, bob, carol] = &self.users;
        match i % 3 {
            0 => alice,
            1 => bob,
            _ => carol,
        }
    }

    /// The user called `name`, if the fixtures have one.
    pub(crate) fn named(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name.as_str() == name)
    }
}

/// The fixtures, parsed on first use.
pub(crate) fn get() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(load)
}

fn load() -> Fixtures {
    let chain = certificates_from_pem(SERVER_CHAIN).expect("fixture chain");
    let credentials =
        ServerCredentials::new(chain.clone(), identity(SERVER_KEY)).expect("credentials");
    let users = USERS.map(|(name, pem)| User {
        name: username(name),
        identity: identity(pem),
        config: Arc::new(ClientConfig::new(
            verifier(),
            SERVER_NAME,
            username(name),
            identity(pem),
        )),
    });
    let first = |ders: Vec<Vec<u8>>| ders.into_iter().next().expect("one block");
    // The server carries its CA's CRL in its flight, as a deployed one does; the clients
    // hold the same CRL, so they parse and check it at every login and adopt nothing.
    let server = ServerConfig::new(credentials, Arc::new(directory()))
        .with_crl_in_flight(first(crls_from_pem(CRL).expect("fixture CRL")))
        .expect("the fixture CRL is the chain's CA's");
    Fixtures {
        server: Arc::new(server),
        server_identity: identity(SERVER_KEY),
        server_key: identity(SERVER_KEY).public_key(),
        via_intermediate_key: identity(VIA_INTERMEDIATE_KEY).public_key(),
        chain,
        ca_der: first(certificates_from_pem(CA).expect("fixture CA")),
        crl_der: first(crls_from_pem(CRL).expect("fixture CRL")),
        verifier: verifier(),
        users,
    }
}

/// The identity in a PKCS#8 PEM fixture.
pub fn identity(pem: &str) -> Identity {
    Identity::from_pkcs8_pem(pem).expect("fixture key")
}

/// A fixture username (or any valid name).
pub fn username(name: &str) -> Username {
    Username::new(name).expect("fixture name")
}

/// User `name` of the fixtures: name and a fresh identity.
pub fn user(name: &str) -> (Username, Identity) {
    let (name, pem) = USERS
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a fixture user");
    (username(name), identity(pem))
}

/// The directory of the fixture server: the three users and their keys.
pub fn directory() -> MemoryDirectory {
    let mut dir = MemoryDirectory::new();
    for (name, pem) in USERS {
        dir.insert(username(name), identity(pem).public_key());
    }
    dir
}

/// A client's verifier: the fixture root, with its CRL.
pub fn verifier() -> ServerCertVerifier {
    ServerCertVerifier::from_pem(CA, Some(CRL)).expect("fixture CA")
}

/// A client's verifier for tests on the real clock (over real sockets, where the endpoint
/// checks certificates at the system's time): the fixture root, with [`CRL_LONG`]. The
/// nextUpdate of [`CRL`] is 2026-01-31; [`CRL_LONG`]'s is 2035-12-31.
pub fn real_clock_verifier() -> ServerCertVerifier {
    ServerCertVerifier::from_pem(CA, Some(CRL_LONG)).expect("fixture CA")
}

/// The fixture server's configuration (shared): it carries [`CRL`] in its flight.
pub fn server_config() -> Arc<ServerConfig> {
    Arc::clone(&get().server)
}

/// The client configuration of fixture user `name` (shared): the fixture root trusted for
/// `localhost`.
pub fn client_config(name: &str) -> Arc<ClientConfig> {
    Arc::clone(&get().named(name).expect("a fixture user").config)
}

/// A client configuration for fixture user `user` with another verifier or server name.
pub fn client_config_with(
    verifier: ServerCertVerifier,
    server_name: &str,
    user_name: &str,
) -> Arc<ClientConfig> {
    let (name, identity) = user(user_name);
    Arc::new(ClientConfig::new(verifier, server_name, name, identity))
}

/// A server (knowing the fixture users) that presents another chain and key, both PEM.
pub fn server_config_presenting(chain_pem: &str, key_pem: &str) -> Arc<ServerConfig> {
    Arc::new(server_presenting(chain_pem, key_pem))
}

/// The fixture server's configuration with another handshake timeout (built afresh: a
/// `ServerConfig` is not `Clone`).
pub fn server_config_with_handshake_timeout(timeout: Duration) -> Arc<ServerConfig> {
    Arc::new(server_presenting(SERVER_CHAIN, SERVER_KEY).with_handshake_timeout(timeout))
}

/// The fixture server, authenticating users against `directory` (a directory the test
/// changes while the server runs, for example).
pub fn server_config_with_directory(
    directory: Arc<dyn crate::identity::UserDirectory + Send + Sync>,
) -> Arc<ServerConfig> {
    let chain = certificates_from_pem(SERVER_CHAIN).expect("a fixture chain");
    let credentials = ServerCredentials::new(chain, identity(SERVER_KEY)).expect("credentials");
    Arc::new(ServerConfig::new(credentials, directory))
}

fn server_presenting(chain_pem: &str, key_pem: &str) -> ServerConfig {
    let chain = certificates_from_pem(chain_pem).expect("a fixture chain");
    let credentials = ServerCredentials::new(chain, identity(key_pem)).expect("credentials");
    ServerConfig::new(credentials, Arc::new(directory()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every fixture file parses as what its name says.
    #[test]
    fn every_fixture_parses() {
        for chain in [
            CA,
            OTHER_CA,
            SERVER_CHAIN,
            REVOKED_SERVER,
            INTERMEDIATE_CHAIN,
            CLIENT_AUTH_CERT,
        ] {
            assert!(!certificates_from_pem(chain).unwrap().is_empty());
        }
        for crl in [CRL, CRL_EMPTY, CRL_LONG, CRL_OTHER_KEY, CRL_INTERMEDIATE] {
            assert_eq!(crls_from_pem(crl).unwrap().len(), 1);
        }
        for key in [
            CA_KEY,
            SERVER_KEY,
            REVOKED_SERVER_KEY,
            VIA_INTERMEDIATE_KEY,
            CLIENT_AUTH_KEY,
        ] {
            let _ = identity(key);
        }
        assert_eq!(
            PublicKey::from_public_key_pem(ALICE_PUB),
            Ok(user("alice").1.public_key())
        );
    }

    #[test]
    fn the_loaded_fixtures_agree_with_the_files() {
        let f = get();
        assert_eq!(f.server_key, identity(SERVER_KEY).public_key());
        assert_eq!(f.server_identity.public_key(), f.server_key);
        assert_ne!(f.via_intermediate_key, f.server_key);
        assert_eq!(f.chain, certificates_from_pem(SERVER_CHAIN).unwrap());
        assert_eq!(Some(&f.ca_der), certificates_from_pem(CA).unwrap().first());
        assert_eq!(Some(&f.crl_der), crls_from_pem(CRL).unwrap().first());
        assert!(f.verifier.checks_revocation());
        for (i, (name, _)) in USERS.iter().enumerate() {
            let u = f.user(i);
            assert_eq!(u.name.as_str(), *name);
            assert_eq!(u.me().1, user(name).1.public_key());
            assert_eq!(f.named(name).map(|n| n.me().1), Some(u.me().1));
            assert_eq!(u.config.username, u.name);
        }
        assert_eq!(f.user(3).name.as_str(), "alice");
        assert!(f.named("mallory").is_none());
        assert_eq!(directory().len(), 3);
    }

    /// After the nextUpdate of [`CRL`] (2026-03-01 here), only the real-clock verifier
    /// accepts the fixture server; both still check revocation.
    #[test]
    fn the_real_clock_pieces_differ_only_where_they_say() {
        let stale_crl = UnixTime::from_secs(1_772_323_200);
        let f = get();
        let chain: Vec<&[u8]> = f.chain.iter().map(Vec::as_slice).collect();
        let real_clock = real_clock_verifier();
        assert!(real_clock.checks_revocation());
        assert_eq!(
            real_clock.verify_server(&chain, SERVER_NAME, stale_crl),
            Ok(f.server_key)
        );
        assert!(matches!(
            verifier().verify_server(&chain, SERVER_NAME, stale_crl),
            Err(crate::pki::CertificateError::CrlExpired { .. })
        ));
        let timeout = Duration::from_millis(1500);
        assert_eq!(
            server_config_with_handshake_timeout(timeout).handshake_timeout(),
            timeout
        );
        assert_eq!(
            server_config().handshake_timeout(),
            crate::handshake::DEFAULT_HANDSHAKE_TIMEOUT
        );
    }
}
