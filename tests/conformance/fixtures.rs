//! The fixture PKI of `securecom-proto/tests/fixtures/pki/`, the one place the suite loads
//! it: the CA with its CRL valid until 2035 (the suite runs on the real clock), the server's
//! chain and key, and the users alice, bob and carol.

use std::sync::Arc;
use std::time::Duration;

use securecom::proto::handshake::{ClientConfig, ServerConfig};
use securecom::proto::identity::{Identity, MemoryDirectory, Username};
use securecom::proto::pki::{
    RevocationPolicy, ServerCertVerifier, ServerCredentials, certificates_from_pem, crls_from_pem,
};

/// Why a fixture could not be loaded.
pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/securecom-proto/tests/fixtures/pki/",
            $name
        ))
    };
}

const CA: &str = fixture!("ca.pem");
const CRL_LONG: &str = fixture!("crl-long.pem");
const SERVER_CHAIN: &str = fixture!("server.pem");
const SERVER_KEY: &str = fixture!("server.key");
const USERS: [(&str, &str); 3] = [
    ("alice", fixture!("users/alice.key")),
    ("bob", fixture!("users/bob.key")),
    ("carol", fixture!("users/carol.key")),
];

/// The names of the fixture users.
pub(crate) fn user_names() -> impl Iterator<Item = &'static str> {
    USERS.iter().map(|(name, _)| *name)
}

fn identity(name: &str) -> Result<Identity, Error> {
    let (_, pem) = USERS
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| format!("no fixture user {name:?}"))?;
    Ok(Identity::from_pkcs8_pem(pem)?)
}

/// The server of the fixtures (name `localhost`), with every fixture user registered.
pub(crate) fn server_config(handshake_timeout: Duration) -> Result<Arc<ServerConfig>, Error> {
    let chain = certificates_from_pem(SERVER_CHAIN)?;
    let credentials = ServerCredentials::new(chain, Identity::from_pkcs8_pem(SERVER_KEY)?)?;
    let mut directory = MemoryDirectory::new();
    for name in user_names() {
        directory.insert(Username::new(name)?, identity(name)?.public_key());
    }
    Ok(Arc::new(
        ServerConfig::new(credentials, Arc::new(directory))
            .with_handshake_timeout(handshake_timeout),
    ))
}

/// A client logging in as `name` to the fixtures' server, checking its certificate against
/// the CA and the CRL.
pub(crate) fn client_config(name: &str) -> Result<Arc<ClientConfig>, Error> {
    let ca = certificates_from_pem(CA)?
        .into_iter()
        .next()
        .ok_or("no certificate in ca.pem")?;
    let verifier =
        ServerCertVerifier::new(ca, RevocationPolicy::CheckCrls(crls_from_pem(CRL_LONG)?))?;
    Ok(Arc::new(ClientConfig::new(
        verifier,
        "localhost",
        Username::new(name)?,
        identity(name)?,
    )))
}
