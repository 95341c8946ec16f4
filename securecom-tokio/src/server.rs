//! The async server: an accept loop and one task that owns the relay.
//!
//! Each connection has a reader task (which waits while the relay says not to read, so a
//! fast sender is slowed to its peer's pace) and a writer task (which writes one chunk of
//! the relay's output at a time and reports back, so unsent bytes stay counted in the
//! relay). Everything else, including every decision, happens in the relay task.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use securecom_host::time::StdClock;
use securecom_proto::handshake::ServerConfig;
use securecom_proto::relay::{ConnectionId, Relay, RelayConfig, RelayEvent};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Bytes read from a socket at once.
const READ_CHUNK: usize = 16 * 1024;
/// How long a callback connection to a client's daemon may take to open.
const CALLBACK_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long shutdown waits for the last goodbyes to be written.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Options of the server beyond the relay's own configuration.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// The relay's limits and policies.
    pub relay: RelayConfig,
}

/// An async securecom server. See the [crate documentation](crate).
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

enum ToRelay {
    Data(ConnectionId, Vec<u8>),
    Eof(ConnectionId),
    Written(ConnectionId),
    CallbackWritten(ConnectionId),
    CallbackFailed(ConnectionId),
}

struct Writer {
    tx: mpsc::Sender<Vec<u8>>,
    busy: bool,
}

struct Conn {
    peer: SocketAddr,
    writer: Writer,
    may_read: watch::Sender<bool>,
    reader: JoinHandle<()>,
    callback: Option<Writer>,
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
            relay: Relay::new(config, options.relay),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then says goodbye to every client.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let Server { listener, relay } = self;
        let (to_relay, inbox) = mpsc::channel(1024);
        let mut state = Running {
            relay,
            conns: BTreeMap::new(),
            paused: BTreeSet::new(),
            to_relay,
            clock: StdClock::new(),
            rng: crate::os_rng(),
        };
        state.serve(listener, inbox, shutdown).await
    }
}

struct Running {
    relay: Relay,
    conns: BTreeMap<ConnectionId, Conn>,
    paused: BTreeSet<ConnectionId>,
    to_relay: mpsc::Sender<ToRelay>,
    clock: StdClock,
    rng: rand_core::UnwrapErr<getrandom::SysRng>,
}

impl Running {
    async fn serve(
        &mut self,
        listener: TcpListener,
        mut inbox: mpsc::Receiver<ToRelay>,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        tokio::pin!(shutdown);
        loop {
            let deadline = self
                .relay
                .poll_timeout()
                .map(|t| tokio::time::Instant::from_std(self.clock.to_std(t)));
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => self.accept(stream, peer),
                    Err(e) => tracing::warn!("accept failed: {e}"),
                },
                Some(msg) = inbox.recv() => self.handle(msg),
                () = sleep_until(deadline) => self.relay.handle_timeout(self.clock.now()),
            }
            self.flush();
        }
        tracing::info!("shutting down: closing {} connections", self.conns.len());
        self.relay.shutdown();
        self.flush();
        let grace = tokio::time::sleep(SHUTDOWN_GRACE);
        tokio::pin!(grace);
        while !self.conns.is_empty() {
            tokio::select! {
                () = &mut grace => break,
                Some(msg) = inbox.recv() => self.handle(msg),
            }
            self.flush();
        }
        Ok(())
    }

    fn accept(&mut self, stream: TcpStream, peer: SocketAddr) {
        let now = self.clock.now();
        let id = match self.relay.open_connection(now, &mut self.rng) {
            Ok(id) => id,
            Err(e) => {
                tracing::debug!(%peer, "refused: {e}");
                return;
            }
        };
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        let (may_read, may_read_rx) = watch::channel(true);
        let reader = tokio::spawn(read_loop(id, read, may_read_rx, self.to_relay.clone()));
        let writer = spawn_writer(id, write, self.to_relay.clone());
        tracing::debug!(%peer, connection = %id, "accepted");
        self.conns.insert(
            id,
            Conn {
                peer,
                writer,
                may_read,
                reader,
                callback: None,
            },
        );
    }

    fn handle(&mut self, msg: ToRelay) {
        let now = self.clock.now();
        match msg {
            ToRelay::Data(id, bytes) => {
                let _ = self.relay.handle_input(id, now, &bytes);
                if !self.relay.wants_input(id)
                    && let Some(conn) = self.conns.get(&id)
                {
                    let _ = conn.may_read.send(false);
                    self.paused.insert(id);
                }
            }
            ToRelay::Eof(id) => self.drop_connection(id),
            ToRelay::Written(id) => {
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.writer.busy = false;
                }
                self.write(id);
                self.resume_readers();
            }
            ToRelay::CallbackWritten(id) => {
                if let Some(cb) = self.conns.get_mut(&id).and_then(|c| c.callback.as_mut()) {
                    cb.busy = false;
                }
                self.write(id);
                self.resume_readers();
            }
            ToRelay::CallbackFailed(id) => {
                tracing::info!(connection = %id, "callback connection failed");
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.callback = None;
                }
                self.relay.callback_failed(id);
            }
        }
    }

    /// Writes whatever the relay has for each connection it reports, closes finished ones,
    /// and logs events.
    fn flush(&mut self) {
        while let Some(event) = self.relay.poll_event() {
            self.on_event(event);
        }
        while let Some(id) = self.relay.poll_transmit() {
            self.write(id);
        }
        while let Some(event) = self.relay.poll_event() {
            self.on_event(event);
        }
    }

    fn write(&mut self, id: ConnectionId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if !conn.writer.busy {
            let out = self.relay.output(id);
            if !out.is_empty() {
                let chunk = out.to_vec();
                self.relay.consume_output(id, chunk.len());
                conn.writer.busy = conn.writer.tx.try_send(chunk).is_ok();
            }
        }
        if let Some(cb) = conn.callback.as_mut()
            && !cb.busy
        {
            let out = self.relay.callback_output(id);
            if !out.is_empty() {
                let chunk = out.to_vec();
                self.relay.consume_callback_output(id, chunk.len());
                cb.busy = cb.tx.try_send(chunk).is_ok();
            }
        }
        let idle = !conn.writer.busy;
        if idle && self.relay.should_close(id) {
            self.drop_connection(id);
        }
    }

    fn resume_readers(&mut self) {
        let paused: Vec<ConnectionId> = self.paused.iter().copied().collect();
        for id in paused {
            if self.relay.wants_input(id) {
                self.paused.remove(&id);
                if let Some(conn) = self.conns.get(&id) {
                    let _ = conn.may_read.send(true);
                }
            }
        }
    }

    fn drop_connection(&mut self, id: ConnectionId) {
        if let Some(conn) = self.conns.remove(&id) {
            conn.reader.abort();
            tracing::debug!(peer = %conn.peer, connection = %id, "closed");
            // Dropping the writers' channels ends their tasks, which shut the sockets.
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
                let (tx, rx) = mpsc::channel(1);
                conn.callback = Some(Writer { tx, busy: false });
                tokio::spawn(callback_task(
                    connection,
                    addr,
                    hello,
                    rx,
                    self.to_relay.clone(),
                ));
            }
            RelayEvent::UserOnline { connection, user } => {
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

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

async fn read_loop(
    id: ConnectionId,
    read: tokio::net::tcp::OwnedReadHalf,
    mut may_read: watch::Receiver<bool>,
    to_relay: mpsc::Sender<ToRelay>,
) {
    loop {
        if may_read.wait_for(|ok| *ok).await.is_err() {
            break;
        }
        if read.readable().await.is_err() {
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
                if to_relay.send(ToRelay::Data(id, data)).await.is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(_) => break,
        }
    }
    let _ = to_relay.send(ToRelay::Eof(id)).await;
}

fn spawn_writer(
    id: ConnectionId,
    mut write: tokio::net::tcp::OwnedWriteHalf,
    to_relay: mpsc::Sender<ToRelay>,
) -> Writer {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(1);
    tokio::spawn(async move {
        while let Some(chunk) = rx.recv().await {
            if write.write_all(&chunk).await.is_err() {
                let _ = to_relay.send(ToRelay::Eof(id)).await;
                return;
            }
            if to_relay.send(ToRelay::Written(id)).await.is_err() {
                return;
            }
        }
        let _ = write.shutdown().await;
    });
    Writer { tx, busy: false }
}

async fn callback_task(
    id: ConnectionId,
    addr: SocketAddr,
    hello: Vec<u8>,
    mut rx: mpsc::Receiver<Vec<u8>>,
    to_relay: mpsc::Sender<ToRelay>,
) {
    let connected = tokio::time::timeout(CALLBACK_CONNECT_TIMEOUT, TcpStream::connect(addr)).await;
    let mut stream = match connected {
        Ok(Ok(stream)) => stream,
        _ => {
            let _ = to_relay.send(ToRelay::CallbackFailed(id)).await;
            return;
        }
    };
    let _ = stream.set_nodelay(true);
    if stream.write_all(&hello).await.is_err() {
        let _ = to_relay.send(ToRelay::CallbackFailed(id)).await;
        return;
    }
    while let Some(chunk) = rx.recv().await {
        if stream.write_all(&chunk).await.is_err() {
            let _ = to_relay.send(ToRelay::CallbackFailed(id)).await;
            return;
        }
        if to_relay.send(ToRelay::CallbackWritten(id)).await.is_err() {
            return;
        }
    }
    let _ = stream.shutdown().await;
}
