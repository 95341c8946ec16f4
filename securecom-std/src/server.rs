//! The blocking server: an acceptor thread, reader and writer threads per connection, and
//! one relay thread (the one calling [`Server::run`]) that owns the relay.
//!
//! Each connection has a reader thread (which waits while the relay says not to read, so a
//! fast sender is slowed to its peer's pace) and a writer thread (which writes one chunk of
//! the relay's output at a time and reports back; the bytes of an established session stay
//! in the relay's output until they are written, so the relay's limits count them). Every
//! decision happens in the relay thread, which waits for messages from the other threads
//! until the relay's next deadline.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use securecom_host::time::StdClock;
use securecom_proto::handshake::ServerConfig;
use securecom_proto::relay::{ConnectionId, Relay, RelayConfig, RelayEvent};

use crate::net::{Acceptor, Gate, lock};

/// Bytes read from a socket at once.
const READ_CHUNK: usize = 16 * 1024;
/// Bytes handed to a writer thread at once.
const WRITE_CHUNK: usize = 64 * 1024;
/// Messages the other threads may queue for the relay thread before they wait.
const INBOX_CAPACITY: usize = 1024;
/// How long a callback connection to a client's daemon may take to open.
const CALLBACK_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long shutdown waits for the last goodbyes to be written.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// A socket that accepts no bytes for this long is dropped. The relay closes a session
/// whose output grows too far behind, but only the socket can tell that a peer reads
/// nothing at all (for example after the relay said goodbye).
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// Stack of the threads started per connection: they only copy bytes between a socket and
/// a channel, so a small stack keeps thousands of connections cheap.
const CONNECTION_THREAD_STACK: usize = 256 * 1024;

/// Options of the server beyond the relay's own configuration.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// The relay's limits and policies.
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
    relay: Relay,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

/// What the other threads tell the relay thread.
enum ToRelay {
    Accepted(TcpStream, SocketAddr),
    Data(ConnectionId, Vec<u8>),
    /// The socket ended or failed.
    Eof(ConnectionId),
    /// The writer wrote its chunk of this many bytes.
    Written(ConnectionId, usize),
    /// The callback connection (of this generation) wrote its chunk of this many bytes.
    CallbackWritten(ConnectionId, u64, usize),
    /// The callback connection (of this generation) could not be opened or broke.
    CallbackFailed(ConnectionId, u64),
    Shutdown,
}

/// The chunk a writer thread is writing.
#[derive(Clone, Copy)]
struct InFlight {
    len: usize,
    /// The bytes are still in the relay's output (consume them once written).
    counted: bool,
}

struct Writer {
    tx: Sender<Vec<u8>>,
    in_flight: Option<InFlight>,
}

struct Callback {
    generation: u64,
    writer: Writer,
}

struct Conn {
    peer: SocketAddr,
    /// A handle on the socket, to shut it down (which ends both threads).
    socket: TcpStream,
    gate: Arc<Gate>,
    writer: Writer,
    /// Past the handshake: output is consumed once written, not when handed out (the
    /// handshake's output is replaced when it ends, so it is consumed when handed out).
    online: bool,
    callback: Option<Callback>,
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
            relay: Relay::new(config, options.relay),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves on the calling thread until `shutdown` is shut down, then says goodbye to
    /// every client, waits up to two seconds for the goodbyes to be written, closes every
    /// connection and the listener, and returns.
    ///
    /// Fails only if the accept thread cannot be started.
    pub fn run(self, shutdown: ShutdownHandle) -> io::Result<()> {
        let Server { listener, relay } = self;
        let (to_relay, inbox) = mpsc::sync_channel(INBOX_CAPACITY);
        shutdown.register(to_relay.clone());
        let accepted = to_relay.clone();
        let acceptor =
            Acceptor::spawn("securecom-accept".into(), listener, move |stream, peer| {
                accepted.send(ToRelay::Accepted(stream, peer)).is_ok()
            })?;
        tracing::info!(addr = %acceptor.local_addr(), "serving");
        let mut state = Running {
            relay,
            conns: BTreeMap::new(),
            paused: BTreeSet::new(),
            to_relay,
            clock: StdClock::new(),
            rng: crate::os_rng(),
            accepting: true,
            next_callback: 0,
        };
        state.serve(&inbox, &shutdown, acceptor);
        Ok(())
    }
}

struct Running {
    relay: Relay,
    conns: BTreeMap<ConnectionId, Conn>,
    paused: BTreeSet<ConnectionId>,
    to_relay: SyncSender<ToRelay>,
    clock: StdClock,
    rng: rand_core::UnwrapErr<getrandom::SysRng>,
    accepting: bool,
    next_callback: u64,
}

impl Running {
    fn serve(
        &mut self,
        inbox: &Receiver<ToRelay>,
        shutdown: &ShutdownHandle,
        mut acceptor: Acceptor,
    ) {
        while !shutdown.is_shutdown() {
            let received = match self.relay.poll_timeout() {
                Some(deadline) => {
                    let deadline = self.clock.to_std(deadline);
                    inbox
                        .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
                }
                None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match received {
                Ok(ToRelay::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Timeout) => {}
            }
            // Also when messages keep coming: a busy server must still fire its timers.
            let now = self.clock.now();
            if self.relay.poll_timeout().is_some_and(|t| now >= t) {
                self.relay.handle_timeout(now);
            }
            self.flush();
        }
        tracing::info!("shutting down: closing {} connections", self.conns.len());
        self.accepting = false;
        acceptor.stop();
        self.relay.shutdown();
        self.flush();
        let grace = std::time::Instant::now() + SHUTDOWN_GRACE;
        while !self.conns.is_empty() {
            let left = grace.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                // Also when a peer keeps sending: the grace period is a bound.
                break;
            }
            match inbox.recv_timeout(left) {
                Ok(msg) => self.handle(msg),
                Err(_) => break,
            }
            self.flush();
        }
        let left: Vec<ConnectionId> = self.conns.keys().copied().collect();
        for id in left {
            self.drop_connection(id);
        }
        acceptor.join();
        tracing::info!("shut down");
    }

    fn accept(&mut self, stream: TcpStream, peer: SocketAddr) {
        if !self.accepting {
            return;
        }
        let now = self.clock.now();
        let id = match self.relay.open_connection(now, &mut self.rng) {
            Ok(id) => id,
            Err(e) => {
                tracing::debug!(%peer, "refused: {e}");
                return;
            }
        };
        match self.start_connection(id, stream, peer) {
            Ok(conn) => {
                tracing::debug!(%peer, connection = %id, "accepted");
                self.conns.insert(id, conn);
            }
            Err(e) => {
                tracing::warn!(%peer, connection = %id, "could not start the connection: {e}");
                self.relay.connection_lost(id);
            }
        }
    }

    fn start_connection(
        &mut self,
        id: ConnectionId,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> io::Result<Conn> {
        let _ = stream.set_nodelay(true);
        stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
        let reader = stream.try_clone()?;
        let socket = stream.try_clone()?;
        let gate = Gate::new();
        let writer = spawn_writer(
            format!("securecom-write-{}", id.0),
            stream,
            self.to_relay.clone(),
            move |n| ToRelay::Written(id, n),
            move || ToRelay::Eof(id),
        );
        let writer = match writer {
            Ok(writer) => writer,
            Err(e) => {
                let _ = socket.shutdown(Shutdown::Both);
                return Err(e);
            }
        };
        let to_relay = self.to_relay.clone();
        let reader_gate = gate.clone();
        let spawned = thread::Builder::new()
            .name(format!("securecom-read-{}", id.0))
            .stack_size(CONNECTION_THREAD_STACK)
            .spawn(move || read_loop(id, reader, &reader_gate, &to_relay));
        if let Err(e) = spawned {
            let _ = socket.shutdown(Shutdown::Both);
            return Err(e);
        }
        Ok(Conn {
            peer,
            socket,
            gate,
            writer,
            online: false,
            callback: None,
        })
    }

    fn handle(&mut self, msg: ToRelay) {
        let now = self.clock.now();
        match msg {
            ToRelay::Accepted(stream, peer) => self.accept(stream, peer),
            ToRelay::Data(id, bytes) => {
                let _ = self.relay.handle_input(id, now, &bytes);
                if !self.relay.wants_input(id)
                    && let Some(conn) = self.conns.get(&id)
                {
                    conn.gate.pause();
                    self.paused.insert(id);
                }
            }
            ToRelay::Eof(id) => self.drop_connection(id),
            ToRelay::Written(id, n) => {
                if let Some(conn) = self.conns.get_mut(&id)
                    && let Some(done) = conn.writer.in_flight.take()
                    && done.counted
                {
                    self.relay.consume_output(id, done.len.min(n));
                }
                self.write(id);
            }
            ToRelay::CallbackWritten(id, generation, n) => {
                if let Some(cb) = self.conns.get_mut(&id).and_then(|c| c.callback.as_mut())
                    && cb.generation == generation
                    && let Some(done) = cb.writer.in_flight.take()
                {
                    self.relay.consume_callback_output(id, done.len.min(n));
                }
                self.write(id);
            }
            ToRelay::CallbackFailed(id, generation) => {
                let Some(conn) = self.conns.get_mut(&id) else {
                    return;
                };
                if conn.callback.as_ref().map(|cb| cb.generation) != Some(generation) {
                    return;
                }
                tracing::info!(connection = %id, "callback connection failed");
                conn.callback = None;
                self.relay.callback_failed(id);
            }
            ToRelay::Shutdown => {}
        }
    }

    /// Handles the relay's events, writes whatever it has for each connection it reports,
    /// closes finished ones, and lets paused readers go on when they may.
    fn flush(&mut self) {
        self.drain_events();
        while let Some(id) = self.relay.poll_transmit() {
            self.write(id);
        }
        self.drain_events();
        self.resume_readers();
    }

    fn drain_events(&mut self) {
        while let Some(event) = self.relay.poll_event() {
            self.on_event(event);
        }
    }

    fn write(&mut self, id: ConnectionId) {
        // A connection that just came online must be marked so before its output is read.
        self.drain_events();
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let mut broken = false;
        if conn.writer.in_flight.is_none() {
            let out = self.relay.output(id);
            let len = out.len().min(WRITE_CHUNK);
            if let Some(chunk) = out.get(..len).filter(|c| !c.is_empty()) {
                let chunk = chunk.to_vec();
                let counted = conn.online;
                if !counted {
                    self.relay.consume_output(id, len);
                }
                if conn.writer.tx.send(chunk).is_ok() {
                    conn.writer.in_flight = Some(InFlight { len, counted });
                } else {
                    broken = true;
                }
            }
        }
        if let Some(cb) = conn.callback.as_mut()
            && cb.writer.in_flight.is_none()
        {
            let out = self.relay.callback_output(id);
            let len = out.len().min(WRITE_CHUNK);
            if let Some(chunk) = out.get(..len).filter(|c| !c.is_empty()) {
                // Sent before the thread connected: it waits in the channel.
                if cb.writer.tx.send(chunk.to_vec()).is_ok() {
                    cb.writer.in_flight = Some(InFlight { len, counted: true });
                }
            }
        }
        let idle = conn.writer.in_flight.is_none();
        if broken || (idle && self.relay.should_close(id)) {
            self.drop_connection(id);
        }
    }

    fn resume_readers(&mut self) {
        let paused: Vec<ConnectionId> = self.paused.iter().copied().collect();
        for id in paused {
            if self.relay.wants_input(id) {
                self.paused.remove(&id);
                if let Some(conn) = self.conns.get(&id) {
                    conn.gate.open();
                }
            }
        }
    }

    fn drop_connection(&mut self, id: ConnectionId) {
        if let Some(conn) = self.conns.remove(&id) {
            conn.gate.close();
            // Ends the reader's blocking read and any blocked write; the threads then end
            // and drop their handles on the socket. Dropping the writers' channels ends
            // the writer threads that are idle.
            let _ = conn.socket.shutdown(Shutdown::Both);
            tracing::debug!(peer = %conn.peer, connection = %id, "closed");
        }
        self.paused.remove(&id);
        self.relay.connection_lost(id);
    }

    fn on_event(&mut self, event: RelayEvent) {
        match event {
            RelayEvent::CallbackRequested {
                connection,
                port,
                hello,
            } => {
                let Some(conn) = self.conns.get_mut(&connection) else {
                    return;
                };
                let addr = SocketAddr::new(conn.peer.ip(), port);
                tracing::info!(%connection, %addr, "opening callback connection");
                self.next_callback += 1;
                let generation = self.next_callback;
                let (tx, rx) = mpsc::channel();
                let to_relay = self.to_relay.clone();
                let spawned = thread::Builder::new()
                    .name(format!("securecom-callback-{}", connection.0))
                    .stack_size(CONNECTION_THREAD_STACK)
                    .spawn(move || {
                        callback_loop(connection, generation, addr, &hello, &rx, &to_relay)
                    });
                match spawned {
                    Ok(_) => {
                        conn.callback = Some(Callback {
                            generation,
                            writer: Writer {
                                tx,
                                in_flight: None,
                            },
                        });
                    }
                    Err(e) => {
                        tracing::warn!(%connection, "could not start the callback connection: {e}");
                        conn.callback = None;
                        self.relay.callback_failed(connection);
                    }
                }
            }
            RelayEvent::UserOnline { connection, user } => {
                if let Some(conn) = self.conns.get_mut(&connection) {
                    conn.online = true;
                }
                tracing::info!(%connection, %user, "online");
            }
            RelayEvent::UserOffline {
                connection,
                user,
                reason,
            } => tracing::info!(%connection, %user, ?reason, "offline"),
            RelayEvent::HandshakeFailed { connection, error } => {
                tracing::info!(%connection, %error, "handshake failed");
            }
            other => tracing::debug!(?other, "relay event"),
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
    let _ = to_relay.send(ToRelay::Eof(id));
}

/// Starts a thread writing each chunk it receives to `stream`, reporting each write with
/// `written(len)` and a failure with `failed()`.
fn spawn_writer(
    name: String,
    mut stream: TcpStream,
    to_relay: SyncSender<ToRelay>,
    written: impl Fn(usize) -> ToRelay + Send + 'static,
    failed: impl FnOnce() -> ToRelay + Send + 'static,
) -> io::Result<Writer> {
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    thread::Builder::new()
        .name(name)
        .stack_size(CONNECTION_THREAD_STACK)
        .spawn(move || {
            for chunk in rx {
                if stream.write_all(&chunk).is_err() {
                    let _ = to_relay.send(failed());
                    return;
                }
                if to_relay.send(written(chunk.len())).is_err() {
                    return;
                }
            }
        })?;
    Ok(Writer {
        tx,
        in_flight: None,
    })
}

fn callback_loop(
    id: ConnectionId,
    generation: u64,
    addr: SocketAddr,
    hello: &[u8],
    chunks: &Receiver<Vec<u8>>,
    to_relay: &SyncSender<ToRelay>,
) {
    let failed = || {
        let _ = to_relay.send(ToRelay::CallbackFailed(id, generation));
    };
    let mut stream = match TcpStream::connect_timeout(&addr, CALLBACK_CONNECT_TIMEOUT) {
        Ok(stream) => stream,
        Err(e) => {
            tracing::debug!(connection = %id, %addr, "callback connect failed: {e}");
            return failed();
        }
    };
    let _ = stream.set_nodelay(true);
    if stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_err() || stream.write_all(hello).is_err() {
        return failed();
    }
    for chunk in chunks {
        if stream.write_all(&chunk).is_err() {
            return failed();
        }
        if to_relay
            .send(ToRelay::CallbackWritten(id, generation, chunk.len()))
            .is_err()
        {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}
