//! The blocking driver (`securecom::blocking`) behind the harness: the server's `run` on a
//! thread of its own, stopped with its `ShutdownHandle`; clients as the driver gives them.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::thread::{self, JoinHandle};

use securecom::blocking::{Client, ClientHandle, Server, ServerOptions, ShutdownHandle};
use securecom::host::driver::{ClientOptions, ConnectError};
use securecom::proto::chat::SafetyNumber;
use securecom::proto::client::{ChatStatus, ClientError, ClientEvent};
use securecom::proto::handshake::{ClientConfig, ServerConfig};
use securecom::proto::identity::Username;
use securecom::proto::relay::RelayConfig;

use super::harness::{Driver, Handle, RunningServer, WAIT};

/// The blocking driver: nothing to set up.
pub(crate) struct Std;

/// A server running on its own thread.
pub(crate) struct StdServer {
    addr: SocketAddr,
    shutdown: ShutdownHandle,
    /// What `run` returned.
    done: Receiver<io::Result<()>>,
    /// `None` once stopped.
    thread: Option<JoinHandle<()>>,
}

impl Driver for Std {
    type Server = StdServer;
    type Handle = ClientHandle;

    fn new() -> io::Result<Self> {
        Ok(Std)
    }

    fn start_server(&self, config: Arc<ServerConfig>, relay: RelayConfig) -> io::Result<StdServer> {
        let server = Server::bind("127.0.0.1:0", config, ServerOptions { relay })?;
        let addr = server.local_addr()?;
        let shutdown = ShutdownHandle::new();
        let stop = shutdown.clone();
        let (returned, done) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("conformance-std-server".into())
            .spawn(move || {
                let _ = returned.send(server.run(stop));
            })?;
        Ok(StdServer {
            addr,
            shutdown,
            done,
            thread: Some(thread),
        })
    }

    fn run_shut_down(
        &self,
        config: Arc<ServerConfig>,
        relay: RelayConfig,
    ) -> io::Result<SocketAddr> {
        let server = Server::bind("127.0.0.1:0", config, ServerOptions { relay })?;
        let addr = server.local_addr()?;
        let shutdown = ShutdownHandle::new();
        shutdown.shutdown();
        let (returned, done) = mpsc::channel();
        thread::Builder::new()
            .name("conformance-std-server-shut-down".into())
            .spawn(move || {
                let _ = returned.send(server.run(shutdown));
            })?;
        done.recv_timeout(WAIT).map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the server did not return within {WAIT:?}"),
            )
        })??;
        Ok(addr)
    }

    fn connect(
        &self,
        addr: SocketAddr,
        config: Arc<ClientConfig>,
        options: ClientOptions,
    ) -> Result<(ClientHandle, Receiver<ClientEvent>), ConnectError> {
        Client::connect(addr, config, options)
    }
}

impl StdServer {
    fn stop_now(&mut self) -> io::Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        self.shutdown.shutdown();
        let returned = self.done.recv_timeout(WAIT).map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the server did not stop within {WAIT:?}"),
            )
        })?;
        // It returned: the thread is ending.
        let _ = thread.join();
        returned
    }
}

impl RunningServer for StdServer {
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn stop(mut self) -> io::Result<()> {
        self.stop_now()
    }
}

impl Drop for StdServer {
    fn drop(&mut self) {
        let _ = self.stop_now();
    }
}

impl Handle for ClientHandle {
    fn username(&self) -> &Username {
        ClientHandle::username(self)
    }

    fn session_id(&self) -> u64 {
        ClientHandle::session_id(self)
    }

    fn list_users(&self) -> Result<(), ClientError> {
        ClientHandle::list_users(self)
    }

    fn request_chat(&self, user: Username) -> Result<(), ClientError> {
        ClientHandle::request_chat(self, user)
    }

    fn accept(&self) -> Result<(), ClientError> {
        ClientHandle::accept(self)
    }

    fn deny(&self) -> Result<(), ClientError> {
        ClientHandle::deny(self)
    }

    fn withdraw_request(&self) -> Result<(), ClientError> {
        ClientHandle::withdraw_request(self)
    }

    fn send_text(&self, text: impl Into<String>) -> Result<(), ClientError> {
        ClientHandle::send_text(self, text)
    }

    fn leave_chat(&self) -> Result<(), ClientError> {
        ClientHandle::leave_chat(self)
    }

    fn exit(&self) -> Result<(), ClientError> {
        ClientHandle::exit(self)
    }

    fn register_callback(&self, port: u16) -> Result<(), ClientError> {
        ClientHandle::register_callback(self, port)
    }

    fn callback_addr(&self) -> Option<SocketAddr> {
        ClientHandle::callback_addr(self)
    }

    fn status(&self) -> Result<(ChatStatus, Option<SafetyNumber>), ClientError> {
        ClientHandle::status(self)
    }
}
