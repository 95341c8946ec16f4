//! The async server: one task that owns the [`ServerEndpoint`] and carries out its actions,
//! plus a reader and a writer task per socket that only move bytes.
//!
//! Every limit, deadline and decision is the endpoint's; this file reads, writes, sleeps
//! until the endpoint's deadline, and reports what happened.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use securecom_host::time::StdClock;
use securecom_proto::cluster::{ClusterAction, ClusterConfig, ClusterInput};
use securecom_proto::endpoint::{READ_CHUNK, ServerAction, ServerEndpoint, ServerSocket};
use securecom_proto::handshake::ServerConfig;
use securecom_proto::identity::Username;
use securecom_proto::relay::{ConnectionId, RelayConfig, RelayEvent};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::cluster::ClusterLink;

/// Options of the server beyond the relay's own configuration.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// The relay's limits and policies, the write, callback and shutdown deadlines among
    /// them.
    pub relay: RelayConfig,
}

/// An async securecom server. See the [crate documentation](crate).
pub struct Server {
    listener: TcpListener,
    endpoint: ServerEndpoint,
    clock: StdClock,
    cluster: Option<ClusterLink>,
    reloads: Option<mpsc::UnboundedReceiver<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

/// What the socket tasks report.
enum Report {
    Data(ConnectionId, Vec<u8>),
    Written(ServerSocket, usize),
    Closed(ServerSocket),
    CallbackConnected(ConnectionId, TcpStream),
}

/// The I/O half of one socket: a writer task fed one chunk at a time.
struct SocketIo {
    chunks: mpsc::UnboundedSender<Vec<u8>>,
    writer: JoinHandle<()>,
}

struct Conn {
    peer: SocketAddr,
    /// Who logged in on this connection, once the relay said so (for the logs).
    user: Option<Username>,
    io: SocketIo,
    may_read: watch::Sender<bool>,
    reader: JoinHandle<()>,
    callback: Option<CallbackIo>,
}

enum CallbackIo {
    Connecting(JoinHandle<()>),
    Open(SocketIo),
}

impl Server {
    /// Binds the listening socket.
    pub async fn bind(
        addr: impl tokio::net::ToSocketAddrs,
        config: Arc<ServerConfig>,
        options: ServerOptions,
    ) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Server {
            listener,
            endpoint: ServerEndpoint::new(config, options.relay),
            clock: StdClock::new(),
            cluster: None,
            reloads: None,
        })
    }

    /// Binds the listening socket of node `cluster.node` of a cluster, which reaches the
    /// other nodes through `link` (for example `securecom_nats::spawn`). Logins wait for
    /// the bus: until it is connected they are refused as unavailable.
    pub async fn bind_clustered(
        addr: impl tokio::net::ToSocketAddrs,
        config: Arc<ServerConfig>,
        options: ServerOptions,
        cluster: ClusterConfig,
        link: ClusterLink,
    ) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        if link.actions.max_capacity() < options.relay.max_connections {
            // A bus coming back, or a shutdown, emits one action per session at once.
            tracing::warn!(
                queue = link.actions.max_capacity(),
                max_connections = options.relay.max_connections,
                "the cluster action queue is smaller than the connection limit: \
                 a burst of claims or releases may be cut short"
            );
        }
        let clock = StdClock::new();
        let unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let endpoint =
            ServerEndpoint::new_clustered(config, options.relay, cluster, clock.now(), unix_ms);
        Ok(Server {
            listener,
            endpoint,
            clock,
            cluster: Some(link),
            reloads: None,
        })
    }

    /// Tells the server, through `reloads`, that its user directory changed (the sender
    /// reloads the directory first, for example a `securecom_host::identity::LiveDirectory`
    /// on SIGHUP): each message closes the sessions whose key is no longer registered, as
    /// revoked.
    pub fn with_directory_reloads(mut self, reloads: mpsc::UnboundedReceiver<()>) -> Self {
        self.reloads = Some(reloads);
        self
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then says goodbye to every client and returns
    /// once every socket is closed (or the configured shutdown grace has passed).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let Server {
            listener,
            endpoint,
            clock,
            cluster,
            reloads,
        } = self;
        let (reports, inbox) = mpsc::channel(1024);
        let mut running = Running {
            endpoint,
            conns: BTreeMap::new(),
            reports,
            clock,
            rng: crate::os_rng(),
            accepting: true,
            cluster,
            bus_overflows: 0,
            reloads,
        };
        running.serve(listener, inbox, shutdown).await;
        // Dropping the link tells the bus driver that the last action (the goodbye) is in.
        drop(running.cluster.take());
        Ok(())
    }
}

struct Running {
    endpoint: ServerEndpoint,
    conns: BTreeMap<ConnectionId, Conn>,
    reports: mpsc::Sender<Report>,
    clock: StdClock,
    rng: rand_core::UnwrapErr<getrandom::SysRng>,
    /// False after a failed accept, until the endpoint says to accept again.
    accepting: bool,
    /// The bus to the other nodes, when clustered.
    cluster: Option<ClusterLink>,
    /// Cluster actions that did not fit in the bus driver's queue, in all.
    bus_overflows: u64,
    /// Word that the user directory was reloaded.
    reloads: Option<mpsc::UnboundedReceiver<()>>,
}

impl Running {
    async fn serve(
        &mut self,
        listener: TcpListener,
        mut inbox: mpsc::Receiver<Report>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut listener = Some(listener);
        while !self.endpoint.is_finished() {
            let deadline = self
                .endpoint
                .poll_timeout()
                .map(|t| tokio::time::Instant::from_std(self.clock.to_std(t)));
            tokio::select! {
                () = &mut shutdown, if listener.is_some() => {
                    tracing::info!("shutting down: closing {} connections", self.conns.len());
                    listener = None;
                    self.endpoint.shutdown(self.clock.now());
                }
                accepted = accept(listener.as_ref().filter(|_| self.accepting)) => match accepted {
                    Ok((stream, peer)) => self.accept(stream, peer),
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        self.accepting = false;
                        self.endpoint.handle_accept_failed(self.clock.now());
                    }
                },
                Some(report) = inbox.recv() => self.handle(report),
                Some(()) = reload(self.reloads.as_mut()) => {
                    let revoked = self.endpoint.directory_changed(self.clock.now());
                    tracing::info!(revoked, "user directory changed");
                }
                Some(input) = cluster_input(self.cluster.as_mut()) => {
                    self.endpoint.handle_cluster_input(self.clock.now(), input);
                }
                () = sleep_until(deadline) => self.endpoint.handle_timeout(self.clock.now()),
            }
            self.carry_out();
        }
        tracing::info!("shut down");
    }

    fn accept(&mut self, stream: TcpStream, peer: SocketAddr) {
        let id = match self
            .endpoint
            .accept_from(self.clock.now(), peer.ip(), &mut self.rng)
        {
            Ok(id) => id,
            Err(e) => {
                tracing::debug!(%peer, "refused: {e}");
                return;
            }
        };
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        let (may_read, may_read_rx) = watch::channel(true);
        let reader = tokio::spawn(read_loop(id, read, may_read_rx, self.reports.clone()));
        let io = spawn_writer(ServerSocket::Main(id), write, self.reports.clone());
        tracing::debug!(connection = %id, %peer, "accepted");
        self.conns.insert(
            id,
            Conn {
                peer,
                user: None,
                io,
                may_read,
                reader,
                callback: None,
            },
        );
    }

    fn handle(&mut self, report: Report) {
        let now = self.clock.now();
        match report {
            Report::Data(id, bytes) => self.endpoint.handle_input(id, now, &bytes),
            Report::Written(socket, n) => self.endpoint.handle_written(socket, now, n),
            Report::Closed(socket) => self.endpoint.handle_closed(socket, now),
            Report::CallbackConnected(id, stream) => {
                let Some(conn) = self.conns.get_mut(&id) else {
                    return;
                };
                let _ = stream.set_nodelay(true);
                let (_, write) = stream.into_split();
                let io = spawn_writer(ServerSocket::Callback(id), write, self.reports.clone());
                conn.callback = Some(CallbackIo::Open(io));
                self.endpoint.handle_callback_connected(id, now);
            }
        }
    }

    /// Hands a cluster action to the bus driver. When the driver is a whole queue behind
    /// (a slow or stalled bus), a claim fails at once, as when the bus is down, and any
    /// other action is dropped: bus messages are best effort, and an entry whose release
    /// is lost is released when its node next meets it ([`ClusterLink`]).
    fn hand_to_bus(&mut self, action: ClusterAction) {
        let Some(link) = &self.cluster else {
            return;
        };
        match link.actions.try_send(action) {
            // A bus driver that has stopped reported Disconnected first.
            Ok(()) | Err(TrySendError::Closed(_)) => {}
            Err(TrySendError::Full(action)) => {
                self.bus_overflows += 1;
                // The first of a burst, then every thousandth: a stalled bus must not
                // flood the log too.
                if self.bus_overflows % 1000 == 1 {
                    tracing::warn!(
                        dropped = self.bus_overflows,
                        "the cluster bus is behind: actions dropped, claims failed"
                    );
                }
                if let ClusterAction::Claim { claim, .. } = action {
                    let failed = ClusterInput::ClaimFailed { claim };
                    self.endpoint.handle_cluster_input(self.clock.now(), failed);
                }
            }
        }
    }

    /// Carries out every action of the endpoint and logs its events.
    fn carry_out(&mut self) {
        while let Some(action) = self.endpoint.poll_action() {
            match action {
                ServerAction::Transmit { socket, bytes } => self.transmit(socket, bytes),
                ServerAction::PauseReading(id) => self.set_reading(id, false),
                ServerAction::ResumeReading(id) => self.set_reading(id, true),
                ServerAction::OpenCallback { connection, port } => {
                    self.open_callback(connection, port);
                }
                ServerAction::Close(socket) => self.close(socket),
                ServerAction::ResumeAccepting => self.accepting = true,
                ServerAction::Cluster(action) => self.hand_to_bus(action),
                other => tracing::warn!(?other, "unknown action"),
            }
        }
        while let Some(event) = self.endpoint.poll_event() {
            if let RelayEvent::UserOnline { connection, user } = &event
                && let Some(conn) = self.conns.get_mut(connection)
            {
                conn.user = Some(user.clone());
            }
            let conns = &self.conns;
            securecom_host::driver::log_relay_event_as(&event, |id| {
                conns.get(&id).and_then(|c| c.user.as_ref())
            });
        }
    }

    fn transmit(&mut self, socket: ServerSocket, bytes: Vec<u8>) {
        let io = match (socket, self.conns.get(&socket.connection())) {
            (ServerSocket::Main(_), Some(conn)) => Some(&conn.io),
            (ServerSocket::Callback(_), Some(conn)) => match &conn.callback {
                Some(CallbackIo::Open(io)) => Some(io),
                _ => None,
            },
            (_, None) => None,
        };
        if io.is_none_or(|io| io.chunks.send(bytes).is_err()) {
            self.endpoint.handle_closed(socket, self.clock.now());
        }
    }

    fn set_reading(&self, id: ConnectionId, may_read: bool) {
        if let Some(conn) = self.conns.get(&id) {
            let _ = conn.may_read.send(may_read);
        }
    }

    fn open_callback(&mut self, id: ConnectionId, port: u16) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let addr = SocketAddr::new(conn.peer.ip(), port);
        let user = conn.user.as_ref().map(tracing::field::display);
        tracing::info!(connection = %id, user, %addr, "opening callback connection");
        let reports = self.reports.clone();
        conn.callback = Some(CallbackIo::Connecting(tokio::spawn(async move {
            let report = match TcpStream::connect(addr).await {
                Ok(stream) => Report::CallbackConnected(id, stream),
                Err(_) => Report::Closed(ServerSocket::Callback(id)),
            };
            let _ = reports.send(report).await;
        })));
    }

    fn close(&mut self, socket: ServerSocket) {
        match socket {
            ServerSocket::Main(id) => {
                if let Some(conn) = self.conns.remove(&id) {
                    conn.reader.abort();
                    conn.io.writer.abort();
                    if let Some(callback) = conn.callback {
                        close_callback(callback);
                    }
                    let user = conn.user.as_ref().map(tracing::field::display);
                    tracing::debug!(connection = %id, user, peer = %conn.peer, "closed");
                }
            }
            ServerSocket::Callback(id) => {
                if let Some(callback) = self.conns.get_mut(&id).and_then(|c| c.callback.take()) {
                    close_callback(callback);
                }
            }
        }
    }
}

fn close_callback(callback: CallbackIo) {
    match callback {
        CallbackIo::Connecting(task) => task.abort(),
        CallbackIo::Open(io) => io.writer.abort(),
    }
}

async fn accept(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

async fn reload(reloads: Option<&mut mpsc::UnboundedReceiver<()>>) -> Option<()> {
    match reloads {
        Some(reloads) => reloads.recv().await,
        None => std::future::pending().await,
    }
}

async fn cluster_input(link: Option<&mut ClusterLink>) -> Option<ClusterInput> {
    match link {
        Some(link) => link.inputs.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

async fn read_loop(
    id: ConnectionId,
    read: OwnedReadHalf,
    mut may_read: watch::Receiver<bool>,
    reports: mpsc::Sender<Report>,
) {
    loop {
        if may_read.wait_for(|ok| *ok).await.is_err() || read.readable().await.is_err() {
            break;
        }
        // The buffer lives only between awaits (its own block), so an idle connection's
        // task holds no read buffer: that is most of the memory of an idle connection.
        let read_result = {
            let mut buf = [0u8; READ_CHUNK];
            read.try_read(&mut buf)
                .map(|n| buf.get(..n).unwrap_or_default().to_vec())
        };
        match read_result {
            Ok(data) if data.is_empty() => break,
            Ok(data) => {
                if reports.send(Report::Data(id, data)).await.is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => break,
        }
    }
    let _ = reports.send(Report::Closed(ServerSocket::Main(id))).await;
}

/// Starts a task writing each chunk it is handed to `write`, reporting each one written.
fn spawn_writer(
    socket: ServerSocket,
    mut write: OwnedWriteHalf,
    reports: mpsc::Sender<Report>,
) -> SocketIo {
    let (chunks, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        while let Some(chunk) = rx.recv().await {
            let report = match write.write_all(&chunk).await {
                Ok(()) => Report::Written(socket, chunk.len()),
                Err(_) => Report::Closed(socket),
            };
            let failed = matches!(report, Report::Closed(_));
            if reports.send(report).await.is_err() || failed {
                return;
            }
        }
        let _ = write.shutdown().await;
    });
    SocketIo { chunks, writer }
}
