//! The one interface both drivers implement, blocking whatever the driver: start a server,
//! connect a client, call the client's commands. The scenarios are written against it
//! alone.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use securecom::host::driver::{ClientOptions, ConnectError};
use securecom::proto::chat::SafetyNumber;
use securecom::proto::client::{ChatStatus, ClientError, ClientEvent};
use securecom::proto::handshake::{ClientConfig, ServerConfig};
use securecom::proto::identity::Username;
use securecom::proto::relay::RelayConfig;

/// The longest any single wait may take: generous for a loaded two-core machine, and only
/// ever reached when a scenario fails.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// What "at once" means on a loaded two-core machine: an action the code takes without a
/// timer must be seen within this. It is below every default timeout the scenarios must
/// tell apart from it (the callback daemon's hello timeout is 10 s by default).
pub(crate) const PROMPT: Duration = Duration::from_secs(5);

/// A socket driver of securecom, seen through a blocking interface.
pub(crate) trait Driver: Sized {
    /// A server running on it.
    type Server: RunningServer;
    /// A connected client's command handle.
    type Handle: Handle;

    /// The driver's own machinery (for the async driver, its runtime).
    fn new() -> io::Result<Self>;

    /// Starts a server on an ephemeral loopback port. `relay` is all of the drivers'
    /// `ServerOptions` (each driver has its own type of them).
    fn start_server(
        &self,
        config: Arc<ServerConfig>,
        relay: RelayConfig,
    ) -> io::Result<Self::Server>;

    /// Binds a server on an ephemeral loopback port and runs it with its shutdown already
    /// requested. Returns where it listened once `run` returned `Ok`; fails if binding
    /// failed, if `run` failed, or if it did not return within [`WAIT`].
    fn run_shut_down(
        &self,
        config: Arc<ServerConfig>,
        relay: RelayConfig,
    ) -> io::Result<SocketAddr>;

    /// Connects and logs in; the receiver ends when the connection is gone.
    fn connect(
        &self,
        addr: SocketAddr,
        config: Arc<ClientConfig>,
        options: ClientOptions,
    ) -> Result<(Self::Handle, Receiver<ClientEvent>), ConnectError>;
}

/// A running server. Dropping it stops it as [`RunningServer::stop`] does.
pub(crate) trait RunningServer {
    /// Where it listens.
    fn addr(&self) -> SocketAddr;

    /// Shuts down gracefully (every client gets a goodbye) and waits, at most [`WAIT`], for
    /// the server's `run` to return what it returned.
    fn stop(self) -> io::Result<()>;
}

/// A connected client's commands, blocking until the client logic took them; results
/// arrive as events.
pub(crate) trait Handle: Clone + Send + 'static {
    /// The username we logged in with.
    fn username(&self) -> &Username;
    /// The session id the server assigned.
    fn session_id(&self) -> u64;
    /// Asks who is online.
    fn list_users(&self) -> Result<(), ClientError>;
    /// Asks `user` to chat.
    fn request_chat(&self, user: Username) -> Result<(), ClientError>;
    /// Accepts the request we are asked.
    fn accept(&self) -> Result<(), ClientError>;
    /// Refuses the request we are asked.
    fn deny(&self) -> Result<(), ClientError>;
    /// Withdraws our pending chat request.
    #[allow(dead_code, reason = "used by the cluster tests (tests/cluster.rs)")]
    fn withdraw_request(&self) -> Result<(), ClientError>;
    /// Sends a message to the chat peer.
    fn send_text(&self, text: impl Into<String>) -> Result<(), ClientError>;
    /// Leaves the chat.
    fn leave_chat(&self) -> Result<(), ClientError>;
    /// Leaves the server.
    fn exit(&self) -> Result<(), ClientError>;
    /// Asks the server to open the callback connection to `port`.
    fn register_callback(&self, port: u16) -> Result<(), ClientError>;
    /// Where the callback daemon listens, if the options asked for one.
    fn callback_addr(&self) -> Option<SocketAddr>;
    /// Where we stand, and the current chat's safety number.
    fn status(&self) -> Result<(ChatStatus, Option<SafetyNumber>), ClientError>;
}
