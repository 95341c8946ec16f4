//! Configuration of each side of the handshake.

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;
use core::time::Duration;

use crate::identity::{Identity, UserDirectory, Username};
use crate::pki::{ServerCertVerifier, ServerCredentials};

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
    pub(crate) identity: Identity,
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
            identity,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
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
        }
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
            .finish_non_exhaustive()
    }
}
