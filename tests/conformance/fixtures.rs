//! The fixture PKI and users as the core's test kit loads them
//! (`securecom_proto::fuzzing::fixtures`, the one place that reads the fixture files): the
//! server of the fixtures (name `localhost`) knowing alice, bob and carol, and their
//! clients. The suite runs on the real clock, so every client checks the server against
//! the root CA with the CRL valid until 2035 (`real_clock_verifier`).

use std::sync::Arc;
use std::time::Duration;

use securecom::proto::fuzzing::fixtures::{self, SERVER_NAME, USERS};
use securecom::proto::handshake::{ClientConfig, ServerConfig};

/// The names of the fixture users.
pub(crate) fn user_names() -> impl Iterator<Item = &'static str> {
    USERS.iter().map(|(name, _)| *name)
}

/// The server of the fixtures, with every fixture user registered.
pub(crate) fn server_config(handshake_timeout: Duration) -> Arc<ServerConfig> {
    fixtures::server_config_with_handshake_timeout(handshake_timeout)
}

/// A client logging in as `name` to the fixtures' server.
pub(crate) fn client_config(name: &str) -> Arc<ClientConfig> {
    client_config_expecting(name, SERVER_NAME)
}

/// A client logging in as `name` that expects the server to be called `server_name`.
pub(crate) fn client_config_expecting(name: &str, server_name: &str) -> Arc<ClientConfig> {
    fixtures::client_config_with(fixtures::real_clock_verifier(), server_name, name)
}

/// A client logging in as `name` whose handshake, connecting included, must end within
/// `handshake_timeout`.
pub(crate) fn client_config_with_timeout(
    name: &str,
    handshake_timeout: Duration,
) -> Arc<ClientConfig> {
    let (user, identity) = fixtures::user(name);
    Arc::new(
        ClientConfig::new(fixtures::real_clock_verifier(), SERVER_NAME, user, identity)
            .with_handshake_timeout(handshake_timeout),
    )
}
