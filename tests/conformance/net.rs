//! A server of the fixtures running on one driver, and logins to it by user name.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use securecom::host::driver::{ClientOptions, ConnectError};
use securecom::proto::handshake::{ClientConfig, DEFAULT_HANDSHAKE_TIMEOUT};
use securecom::proto::relay::RelayConfig;

use super::client::TestClient;
use super::fixtures;
use super::harness::{Driver, RunningServer};

/// A running server and what its clients need to log in.
pub(crate) struct Net<D: Driver> {
    server: D::Server,
    /// Each fixture user's client configuration.
    clients: Vec<Arc<ClientConfig>>,
    driver: D,
}

impl<D: Driver> Net<D> {
    /// A server with the default handshake timeout.
    pub(crate) fn start(relay: RelayConfig) -> io::Result<Self> {
        Net::start_with(DEFAULT_HANDSHAKE_TIMEOUT, relay)
    }

    /// A server whose handshakes must end within `handshake_timeout`.
    pub(crate) fn start_with(handshake_timeout: Duration, relay: RelayConfig) -> io::Result<Self> {
        let clients = fixtures::user_names()
            .map(fixtures::client_config)
            .collect();
        let driver = D::new()?;
        let server = driver.start_server(fixtures::server_config(handshake_timeout), relay)?;
        Ok(Net {
            server,
            clients,
            driver,
        })
    }

    /// Where the server listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// Logs `name` in directly, with the default options.
    pub(crate) fn login(&self, name: &str) -> Result<TestClient<D::Handle>, ConnectError> {
        self.login_with(name, ClientOptions::default())
    }

    /// Logs `name` in directly, with `options`.
    pub(crate) fn login_with(
        &self,
        name: &str,
        options: ClientOptions,
    ) -> Result<TestClient<D::Handle>, ConnectError> {
        self.login_via(self.addr(), name, options)
    }

    /// Logs `name` in through `addr` (a proxy), with `options`.
    pub(crate) fn login_via(
        &self,
        addr: SocketAddr,
        name: &str,
        options: ClientOptions,
    ) -> Result<TestClient<D::Handle>, ConnectError> {
        let config = self
            .clients
            .iter()
            .find(|c| c.username().as_str() == name)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no such fixture user"))?;
        let user = config.username().clone();
        let (handle, events) = self.driver.connect(addr, config.clone(), options)?;
        Ok(TestClient::new(user, handle, events))
    }

    /// Connects directly with `config` (a client the fixtures' server may refuse, or that
    /// may refuse it), with the default options.
    pub(crate) fn connect_with(
        &self,
        config: Arc<ClientConfig>,
    ) -> Result<TestClient<D::Handle>, ConnectError> {
        let user = config.username().clone();
        let (handle, events) =
            self.driver
                .connect(self.addr(), config, ClientOptions::default())?;
        Ok(TestClient::new(user, handle, events))
    }

    /// Stops the server gracefully.
    pub(crate) fn stop(self) -> io::Result<()> {
        self.server.stop()
    }
}
