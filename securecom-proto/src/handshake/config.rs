//! Configuration of each side of the handshake.

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;
use core::time::Duration;

use crate::identity::{Identity, UserDirectory, Username};
use crate::pki::{
    FlightCrlError, FlightCrlSource, NewerCrl, ServedCrl, ServerCertVerifier, ServerCredentials,
};

/// How long a handshake may take before it is abandoned (10 seconds).
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a server waits for a new connection's ClientHello (2 seconds): a connection
/// that says nothing gives its handshake place back quickly, so idle connects cannot hold
/// the places for the whole handshake timeout.
pub const DEFAULT_HELLO_TIMEOUT: Duration = Duration::from_secs(2);

/// What a client needs to connect: whom it trusts, whom it expects, and who it is.
pub struct ClientConfig {
    pub(crate) verifier: ServerCertVerifier,
    pub(crate) server_name: String,
    pub(crate) username: Username,
    /// Shared with the configurations made from this one ([`ClientConfig::with_newer_crl`]).
    pub(crate) identity: Arc<Identity>,
    pub(crate) handshake_timeout: Duration,
}

impl ClientConfig {
    /// A client that trusts `verifier`'s CA, expects the server to be `server_name` (a DNS
    /// name or an IP address in its certificate), and logs in as `username` with `identity`.
    pub fn new(
        verifier: ServerCertVerifier,
        server_name: &str,
        username: Username,
        identity: Identity,
    ) -> Self {
        ClientConfig {
            verifier,
            server_name: String::from(server_name),
            username,
            identity: Arc::new(identity),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// The same configuration, with a verifier holding `crl` (a newer CRL a server
    /// delivered, [`ClientProgress::Established`](super::ClientProgress::Established)) in
    /// place of the anchor's CRL: what the next connection should use. See
    /// [`ServerCertVerifier::with_newer_crl`] for the checks and errors.
    pub fn with_newer_crl(&self, crl: &NewerCrl) -> Result<ClientConfig, FlightCrlError> {
        Ok(ClientConfig {
            verifier: self.verifier.with_newer_crl(crl)?,
            server_name: self.server_name.clone(),
            username: self.username.clone(),
            identity: Arc::clone(&self.identity),
            handshake_timeout: self.handshake_timeout,
        })
    }

    /// The verifier the server's certificate chain is checked with.
    pub fn verifier(&self) -> &ServerCertVerifier {
        &self.verifier
    }

    /// Replaces the handshake timeout.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The username this client logs in with.
    pub fn username(&self) -> &Username {
        &self.username
    }

    /// The server name the certificate must match.
    pub fn server_name(&self) -> &str {
        &self.server_name
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("server_name", &self.server_name)
            .field("username", &self.username)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

/// What the server needs: its certificate chain and key, and the registered users.
pub struct ServerConfig {
    pub(crate) credentials: ServerCredentials,
    pub(crate) directory: Arc<dyn UserDirectory + Send + Sync>,
    pub(crate) handshake_timeout: Duration,
    pub(crate) hello_timeout: Duration,
    /// A key no one holds, to verify against when the username is unknown.
    pub(crate) unknown_user_key: crate::identity::PublicKey,
    /// The CRL carried in every flight, if any.
    pub(crate) flight_crl: Option<Arc<dyn FlightCrlSource + Send + Sync>>,
}

impl ServerConfig {
    /// A server presenting `credentials` and authenticating users against `directory`.
    pub fn new(
        credentials: ServerCredentials,
        directory: Arc<dyn UserDirectory + Send + Sync>,
    ) -> Self {
        ServerConfig {
            credentials,
            directory,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            hello_timeout: DEFAULT_HELLO_TIMEOUT,
            unknown_user_key: Identity::from_seed(&[0x5a; 32]).public_key(),
            flight_crl: None,
        }
    }

    /// Carries `crl_der`, the current CRL of the CA that issued this server's chain, in
    /// every handshake's flight (the ServerCrl message), so that clients holding an older
    /// CRL learn of the newer revocations from this server. The CRL is checked now
    /// ([`ServedCrl::new`]: size, a CRL webpki supports, Ed25519, a crlNumber, a full CRL,
    /// issued by the CA above the chain). It is served as it is until replaced: renew it
    /// before its nextUpdate (clients ignore an expired one), or give a source that
    /// reloads ([`ServerConfig::with_crl_source`]).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use securecom_proto::handshake::ServerConfig;
    /// use securecom_proto::identity::{Identity, MemoryDirectory};
    /// use securecom_proto::pki::{ServerCredentials, certificates_from_pem, crls_from_pem};
    /// macro_rules! fixture {
    ///     ($name:literal) => {
    ///         include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pki/", $name))
    ///     };
    /// }
    /// let chain = certificates_from_pem(fixture!("server.pem"))?;
    /// let key = Identity::from_pkcs8_pem(fixture!("server.key"))?;
    /// let credentials = ServerCredentials::new(chain, key)?;
    /// let crl = crls_from_pem(fixture!("crl.pem"))?.remove(0);
    /// let config = ServerConfig::new(credentials, Arc::new(MemoryDirectory::new()))
    ///     .with_crl_in_flight(crl)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_crl_in_flight(
        mut self,
        crl_der: alloc::vec::Vec<u8>,
    ) -> Result<Self, FlightCrlError> {
        let served = ServedCrl::new(crl_der, self.credentials.chain())?;
        self.flight_crl = Some(Arc::new(Arc::new(served)));
        Ok(self)
    }

    /// Carries in every handshake's flight the CRL `source` holds at that moment: a
    /// source replaced in place (a file reloaded on a signal) serves a renewed CRL from
    /// the next connection on. The source checks what it holds ([`ServedCrl::new`]).
    pub fn with_crl_source(mut self, source: Arc<dyn FlightCrlSource + Send + Sync>) -> Self {
        self.flight_crl = Some(source);
        self
    }

    /// The CRL carried in the flight now, if any.
    pub fn flight_crl(&self) -> Option<Arc<ServedCrl>> {
        self.flight_crl
            .as_ref()
            .and_then(|source| source.flight_crl())
    }

    /// Replaces the handshake timeout.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The handshake timeout.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// Replaces how long a new connection may take to send its ClientHello (at most the
    /// handshake timeout counts).
    pub fn with_hello_timeout(mut self, timeout: Duration) -> Self {
        self.hello_timeout = timeout;
        self
    }

    /// How long a new connection may take to send its ClientHello.
    pub fn hello_timeout(&self) -> Duration {
        self.hello_timeout.min(self.handshake_timeout)
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("handshake_timeout", &self.handshake_timeout)
            .field("hello_timeout", &self.hello_timeout)
            .field("flight_crl", &self.flight_crl())
            .finish_non_exhaustive()
    }
}
