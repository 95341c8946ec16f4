//! The blocking server: an acceptor thread, a reader and a writer thread per socket, and
//! one endpoint thread (the one calling [`Server::run`]) that owns the
//! [`ServerEndpoint`] and carries out its actions.
//!
//! Every limit, deadline and decision is the endpoint's; the other threads only move bytes
//! and report what happened, and the endpoint thread sleeps until the endpoint's deadline.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;

use securecom_host::time::StdClock;
use securecom_proto::endpoint::{READ_CHUNK, ServerAction, ServerEndpoint, ServerSocket};
use securecom_proto::handshake::ServerConfig;
use securecom_proto::identity::Username;
use securecom_proto::relay::{ConnectionId, RelayConfig, RelayEvent};

use crate::net::{Acceptor, Gate, lock};

/// Messages the other threads may queue for the endpoint thread before they wait.
const INBOX_CAPACITY: usize = 1024;

/// Stack of the threads started per socket: they only copy bytes between a socket and a
/// channel, so a small stack keeps thousands of connections cheap.
const SOCKET_THREAD_STACK: usize = 256 * 1024;

/// Options of the server beyond the relay's own configuration.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// The relay's limits and policies, the write, callback and shutdown deadlines among
    /// them.
    pub relay: RelayConfig,
}

/// Stops a running [`Server`] from any thread.
///
/// Create one, keep a clone, and pass it to [`Server::run`]; [`ShutdownHandle::shutdown`]
/// then makes `run` say goodbye to every client and return. One handle may stop several
/// servers, and a handle already shut down makes `run` return at once.
///
/// ```
/// use securecom_std::ShutdownHandle;
/// let shutdown = ShutdownHandle::new();
/// let for_ctrl_c = shutdown.clone();
/// assert!(!shutdown.is_shutdown());
/// for_ctrl_c.shutdown();
/// assert!(shutdown.is_shutdown());
/// ```
#[derive(Clone, Default)]
pub struct ShutdownHandle {
    inner: Arc<ShutdownInner>,
}

#[derive(Default)]
struct ShutdownInner {
    requested: AtomicBool,
    /// The inboxes of the servers running with this handle.
    wakers: Mutex<Vec<SyncSender<ToRelay>>>,
}

impl std::fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShutdownHandle")
            .field("shutdown", &self.is_shutdown())
            .finish_non_exhaustive()
    }
}

impl ShutdownHandle {
    /// A handle not yet shut down.
    pub fn new() -> Self {
        ShutdownHandle::default()
    }

    /// Asks every server running with this handle to shut down gracefully. Returns at
    /// once; [`Server::run`] returns when the shutdown is done.
    pub fn shutdown(&self) {
        self.inner.requested.store(true, Ordering::Release);
        for waker in lock(&self.inner.wakers).iter() {
            // A full inbox wakes the relay thread anyway, and it checks the flag.
            let _ = waker.try_send(ToRelay::Shutdown);
        }
    }

    /// True once [`ShutdownHandle::shutdown`] was called.
    pub fn is_shutdown(&self) -> bool {
        self.inner.requested.load(Ordering::Acquire)
    }

    fn register(&self, waker: SyncSender<ToRelay>) {
        lock(&self.inner.wakers).push(waker);
    }
}

/// A blocking securecom server. See the [crate documentation](crate).
pub struct Server {
    listener: TcpListener,
    endpoint: ServerEndpoint,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

/// What the other threads tell the endpoint thread.
enum ToRelay {
    Accepted(TcpStream, SocketAddr),
    /// The listener failed to accept; the acceptor waits for the endpoint's word.
    AcceptFailed(io::Error),
    Data(ConnectionId, Vec<u8>),
    Written(ServerSocket, usize),
    /// The socket ended or failed (or, for a callback, could not be opened).
    Closed(ServerSocket),
    CallbackConnected(ConnectionId, TcpStream),
    Shutdown,
}

/// The I/O half of one socket: a handle to shut it down and a writer thread's queue.
struct SocketIo {
    socket: TcpStream,
    chunks: Sender<Vec<u8>>,
}

impl SocketIo {
    /// Ends the blocking read and any blocked write; the threads then end and drop their
    /// handles on the socket.
    fn close(self) {
        let _ = self.socket.shutdown(Shutdown::Both);
    }
}

struct Conn {
    peer: SocketAddr,
    /// Who logged in on this connection, once the relay said so (for the logs).
    user: Option<Username>,
    io: SocketIo,
    gate: Arc<Gate>,
    callback: Option<SocketIo>,
}

impl Server {
    /// Binds the listening socket.
    pub fn bind(
        addr: impl ToSocketAddrs,
        config: Arc<ServerConfig>,
        options: ServerOptions,
    ) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        Ok(Server {
            listener,
            endpoint: ServerEndpoint::new(config, options.relay),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves on the calling thread until `shutdown` is shut down, then says goodbye to
    /// every client, waits for the goodbyes to be written (at most the configured
    /// shutdown grace), closes every connection and the listener, and returns.
    ///
    /// Fails only if the accept thread cannot be started.
    pub fn run(self, shutdown: ShutdownHandle) -> io::Result<()> {
        let Server { listener, endpoint } = self;
        let (to_relay, inbox) = mpsc::sync_channel(INBOX_CAPACITY);
        shutdown.register(to_relay.clone());
        let accepted = to_relay.clone();
        let acceptor = Acceptor::spawn("securecom-accept".into(), listener, move |result| {
            let msg = match result {
                Ok((stream, peer)) => ToRelay::Accepted(stream, peer),
                Err(e) => ToRelay::AcceptFailed(e),
            };
            accepted.send(msg).is_ok()
        })?;
        tracing::info!(addr = %acceptor.local_addr(), "serving");
        let mut running = Running {
            endpoint,
            conns: BTreeMap::new(),
            to_relay,
            clock: StdClock::new(),
            rng: crate::os_rng(),
            acceptor: Some(acceptor),
        };
        running.serve(&inbox, &shutdown);
        Ok(())
    }
}

struct Running {
    endpoint: ServerEndpoint,
    conns: BTreeMap<ConnectionId, Conn>,
    to_relay: SyncSender<ToRelay>,
    clock: StdClock,
    rng: rand_core::UnwrapErr<getrandom::SysRng>,
    /// The accept thread, until the shutdown.
    acceptor: Option<Acceptor>,
}

impl Running {
    fn serve(&mut self, inbox: &Receiver<ToRelay>, shutdown: &ShutdownHandle) {
        while !self.endpoint.is_finished() {
            if shutdown.is_shutdown()
                && let Some(acceptor) = self.acceptor.take()
            {
                tracing::info!("shutting down: closing {} connections", self.conns.len());
                acceptor.join();
                self.endpoint.shutdown(self.clock.now());
                self.carry_out();
                continue;
            }
            let received = match self.endpoint.poll_timeout() {
                Some(deadline) => {
                    let wait = self.clock.to_std(deadline);
                    inbox.recv_timeout(wait.saturating_duration_since(std::time::Instant::now()))
                }
                None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match received {
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            // Also when messages keep coming: a busy server must still fire its timers.
            let now = self.clock.now();
            if self.endpoint.poll_timeout().is_some_and(|t| t <= now) {
                self.endpoint.handle_timeout(now);
            }
            self.carry_out();
        }
        tracing::info!("shut down");
    }

    fn handle(&mut self, msg: ToRelay) {
        let now = self.clock.now();
        match msg {
            ToRelay::Accepted(stream, peer) => self.accept(stream, peer),
            ToRelay::AcceptFailed(e) => {
                tracing::warn!("accept failed: {e}");
                self.endpoint.handle_accept_failed(now);
            }
            ToRelay::Data(id, bytes) => self.endpoint.handle_input(id, now, &bytes),
            ToRelay::Written(socket, n) => self.endpoint.handle_written(socket, now, n),
            ToRelay::Closed(socket) => self.endpoint.handle_closed(socket, now),
            ToRelay::CallbackConnected(id, stream) => self.callback_connected(id, stream),
            // The flag is checked at the top of the loop.
            ToRelay::Shutdown => {}
        }
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
        match self.start_connection(id, stream) {
            Ok((io, gate)) => {
                tracing::debug!(connection = %id, %peer, "accepted");
                self.conns.insert(
                    id,
                    Conn {
                        peer,
                        user: None,
                        io,
                        gate,
                        callback: None,
                    },
                );
            }
            Err(e) => {
                tracing::warn!(connection = %id, %peer, "could not start the connection: {e}");
                self.endpoint
                    .handle_closed(ServerSocket::Main(id), self.clock.now());
            }
        }
    }

    fn start_connection(
        &mut self,
        id: ConnectionId,
        stream: TcpStream,
    ) -> io::Result<(SocketIo, Arc<Gate>)> {
        let _ = stream.set_nodelay(true);
        let reader = stream.try_clone()?;
        let io = spawn_writer(ServerSocket::Main(id), stream, self.to_relay.clone())?;
        let gate = Gate::new();
        let to_relay = self.to_relay.clone();
        let reader_gate = gate.clone();
        let spawned = thread::Builder::new()
            .name(format!("securecom-read-{}", id.0))
            .stack_size(SOCKET_THREAD_STACK)
            .spawn(move || read_loop(id, reader, &reader_gate, &to_relay));
        if let Err(e) = spawned {
            io.close();
            return Err(e);
        }
        Ok((io, gate))
    }

    fn callback_connected(&mut self, id: ConnectionId, stream: TcpStream) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let now = self.clock.now();
        match spawn_writer(ServerSocket::Callback(id), stream, self.to_relay.clone()) {
            Ok(io) => {
                conn.callback = Some(io);
                self.endpoint.handle_callback_connected(id, now);
            }
            Err(_) => self.endpoint.handle_closed(ServerSocket::Callback(id), now),
        }
    }

    /// Carries out every action of the endpoint and logs its events.
    fn carry_out(&mut self) {
        while let Some(action) = self.endpoint.poll_action() {
            match action {
                ServerAction::Transmit { socket, bytes } => self.transmit(socket, bytes),
                ServerAction::PauseReading(id) => {
                    if let Some(conn) = self.conns.get(&id) {
                        conn.gate.pause();
                    }
                }
                ServerAction::ResumeReading(id) => {
                    if let Some(conn) = self.conns.get(&id) {
                        conn.gate.open();
                    }
                }
                ServerAction::OpenCallback { connection, port } => {
                    self.open_callback(connection, port);
                }
                ServerAction::Close(socket) => self.close(socket),
                ServerAction::ResumeAccepting => {
                    if let Some(acceptor) = &self.acceptor {
                        acceptor.resume();
                    }
                }
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
        let conn = self.conns.get(&socket.connection());
        let io = match socket {
            ServerSocket::Main(_) => conn.map(|c| &c.io),
            ServerSocket::Callback(_) => conn.and_then(|c| c.callback.as_ref()),
        };
        if io.is_none_or(|io| io.chunks.send(bytes).is_err()) {
            self.endpoint.handle_closed(socket, self.clock.now());
        }
    }

    fn open_callback(&mut self, id: ConnectionId, port: u16) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let addr = SocketAddr::new(conn.peer.ip(), port);
        let user = conn.user.as_ref().map(tracing::field::display);
        tracing::info!(connection = %id, user, %addr, "opening callback connection");
        let to_relay = self.to_relay.clone();
        let spawned = thread::Builder::new()
            .name(format!("securecom-callback-{}", id.0))
            .stack_size(SOCKET_THREAD_STACK)
            .spawn(move || {
                // The endpoint gives up at its own deadline; a late success is dropped.
                let report = match TcpStream::connect(addr) {
                    Ok(stream) => ToRelay::CallbackConnected(id, stream),
                    Err(_) => ToRelay::Closed(ServerSocket::Callback(id)),
                };
                let _ = to_relay.send(report);
            });
        if spawned.is_err() {
            self.endpoint
                .handle_closed(ServerSocket::Callback(id), self.clock.now());
        }
    }

    fn close(&mut self, socket: ServerSocket) {
        match socket {
            ServerSocket::Main(id) => {
                if let Some(conn) = self.conns.remove(&id) {
                    conn.gate.close();
                    conn.io.close();
                    if let Some(callback) = conn.callback {
                        callback.close();
                    }
                    let user = conn.user.as_ref().map(tracing::field::display);
                    tracing::debug!(connection = %id, user, peer = %conn.peer, "closed");
                }
            }
            ServerSocket::Callback(id) => {
                if let Some(callback) = self.conns.get_mut(&id).and_then(|c| c.callback.take()) {
                    callback.close();
                }
            }
        }
    }
}

fn read_loop(id: ConnectionId, mut read: TcpStream, gate: &Gate, to_relay: &SyncSender<ToRelay>) {
    let mut buf = vec![0u8; READ_CHUNK];
    while gate.wait_open() {
        match read.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let data = buf.get(..n).unwrap_or_default().to_vec();
                if to_relay.send(ToRelay::Data(id, data)).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = to_relay.send(ToRelay::Closed(ServerSocket::Main(id)));
}

/// Starts a thread writing each chunk it is handed to `stream`, reporting each one written
/// (or the socket closed).
fn spawn_writer(
    socket: ServerSocket,
    stream: TcpStream,
    to_relay: SyncSender<ToRelay>,
) -> io::Result<SocketIo> {
    let mut write = stream.try_clone()?;
    let (chunks, rx) = mpsc::channel::<Vec<u8>>();
    thread::Builder::new()
        .name(format!("securecom-write-{}", socket.connection().0))
        .stack_size(SOCKET_THREAD_STACK)
        .spawn(move || {
            for chunk in rx {
                let report = match write.write_all(&chunk) {
                    Ok(()) => ToRelay::Written(socket, chunk.len()),
                    Err(_) => ToRelay::Closed(socket),
                };
                let failed = matches!(report, ToRelay::Closed(_));
                if to_relay.send(report).is_err() || failed {
                    return;
                }
            }
        })?;
    Ok(SocketIo {
        socket: stream,
        chunks,
    })
}
