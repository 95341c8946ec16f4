//! The blocking client: the handshake on the calling thread, then a driver thread that
//! owns the chat logic and the socket, fed by a reader thread.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::thread;
use std::time::Duration;

pub use securecom_host::driver::{ClientOptions, ConnectError};
use securecom_host::time::{StdClock, UnixTimeExt as _};
use securecom_proto::chat::SafetyNumber;
use securecom_proto::client::{
    CallbackConnection, ChatClient, ChatStatus, ClientError, ClientEvent,
};
use securecom_proto::handshake::{ClientConfig, ClientHandshake, ClientProgress, HandshakeError};
use securecom_proto::identity::{PublicKey, Username};
use securecom_proto::session::SessionError;
use securecom_proto::time::UnixTime;

use crate::net::Acceptor;

/// Bytes read from a socket at once.
const READ_CHUNK: usize = 16 * 1024;
/// A server that accepts no bytes for this long is given up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// Callback connections held at once; more are closed as soon as they are accepted.
const MAX_CALLBACK_CONNECTIONS: usize = 4;
/// A callback connection that has not presented the server's hello after this long is
/// closed, so silent connections cannot hold the daemon's places.
const CALLBACK_HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// When a timer could not be served (for example, no keep-alive can be queued while too
/// many commands wait for their response), the driver retries after this long instead of
/// spinning.
const TIMER_RETRY: Duration = Duration::from_secs(1);

/// Connects clients. See [`Client::connect`].
#[derive(Debug)]
pub struct Client;

/// A command run on the driver thread against the client logic.
type Call = Box<dyn FnOnce(&mut ChatClient, &mut Ctx) -> Result<(), ClientError> + Send>;
/// Where the result of a command goes.
type Reply = SyncSender<Result<(), ClientError>>;

enum Command {
    Call(Call, Reply),
    Status(SyncSender<(ChatStatus, Option<SafetyNumber>)>),
}

/// What the other threads tell the driver thread.
enum Msg {
    Command(Command),
    /// Every [`ClientHandle`] was dropped.
    HandlesDropped,
    ServerData(Vec<u8>),
    /// The connection to the server ended or failed.
    ServerEnded,
    CallbackAccepted(TcpStream),
    CallbackData(u64, Vec<u8>),
    /// The callback connection was silent for [`CALLBACK_HELLO_TIMEOUT`].
    CallbackIdle(u64),
    CallbackEnded(u64),
}

struct Ctx {
    now: securecom_proto::time::Instant,
    rng: rand_core::UnwrapErr<getrandom::SysRng>,
}

/// Tells the driver when the last [`ClientHandle`] is gone.
#[derive(Debug)]
struct HandleGuard {
    tx: Sender<Msg>,
}

impl Drop for HandleGuard {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::HandlesDropped);
    }
}

/// A connected, authenticated client: every method hands a command to the driver thread
/// and returns once the client logic accepted it; results arrive as events.
///
/// Cloning gives another handle on the same connection. When every handle is dropped,
/// the client leaves the server (as [`ClientHandle::exit`] does).
#[derive(Clone, Debug)]
pub struct ClientHandle {
    tx: Sender<Msg>,
    username: Username,
    session_id: u64,
    callback_addr: Option<SocketAddr>,
    _guard: Arc<HandleGuard>,
}

impl Client {
    /// Connects to `addr`, authenticates the server and logs in, blocking until done.
    /// Returns a handle for commands and the receiver of events; the connection lives
    /// until `exit`, a server close, or every handle is dropped, and the receiver ends
    /// (after [`ClientEvent::ConnectionLost`]) when it is gone.
    ///
    /// The configured handshake timeout bounds the whole call, connecting included.
    pub fn connect(
        addr: impl ToSocketAddrs,
        config: Arc<ClientConfig>,
        options: ClientOptions,
    ) -> Result<(ClientHandle, Receiver<ClientEvent>), ConnectError> {
        let clock = StdClock::new();
        let mut rng = crate::os_rng();
        let callback_listener = match options.callback_listen {
            Some(addr) => Some(TcpListener::bind(addr)?),
            None => None,
        };
        let mut hs = ClientHandshake::start(config.clone(), &mut rng, clock.now(), UnixTime::now());
        let deadline = clock.to_std(hs.poll_timeout());
        let mut stream = connect_by(addr, deadline)?;
        let _ = stream.set_nodelay(true);
        let mut buf = vec![0u8; READ_CHUNK];
        let (session, leftover) = loop {
            stream.set_write_timeout(Some(time_left(deadline)?))?;
            stream.write_all(hs.output()).map_err(timeout_or_io)?;
            let n = hs.output().len();
            hs.consume_output(n);
            stream.set_read_timeout(Some(time_left(deadline)?))?;
            let n = match stream.read(&mut buf) {
                Ok(0) => return Err(ConnectError::Closed),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(timeout_or_io(e)),
            };
            let received = buf.get(..n).unwrap_or_default();
            match hs.handle_input(clock.now(), received)? {
                ClientProgress::Continue(next) => hs = next,
                ClientProgress::Established { session, consumed } => {
                    break (
                        session,
                        received.get(consumed..).unwrap_or_default().to_vec(),
                    );
                }
            }
        };
        stream.set_read_timeout(None)?;
        stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
        let username = config.username().clone();
        let session_id = session.session_id();
        let client = ChatClient::new(session, config, options.known_keys, clock.now());

        let (tx, rx) = mpsc::channel();
        let (events_tx, events_rx) = mpsc::channel();
        let reader = stream.try_clone()?;
        let to_driver = tx.clone();
        thread::Builder::new()
            .name(format!("securecom-client-read-{username}"))
            .spawn(move || read_server(reader, &to_driver))?;
        let acceptor = match callback_listener {
            Some(listener) => {
                let to_driver = tx.clone();
                let acceptor = Acceptor::spawn(
                    format!("securecom-callback-accept-{username}"),
                    listener,
                    move |stream, _| to_driver.send(Msg::CallbackAccepted(stream)).is_ok(),
                );
                match acceptor {
                    Ok(acceptor) => Some(acceptor),
                    Err(e) => {
                        let _ = stream.shutdown(Shutdown::Both);
                        return Err(e.into());
                    }
                }
            }
            None => None,
        };
        let callback_addr = acceptor.as_ref().map(Acceptor::local_addr);
        let driver = Driver {
            client,
            clock,
            ctx: Ctx {
                now: clock.now(),
                rng,
            },
            events: events_tx,
            stream,
            tx: tx.clone(),
            acceptor,
            callbacks: BTreeMap::new(),
            next_callback: 0,
            timer_retry: None,
        };
        let spawned = thread::Builder::new()
            .name(format!("securecom-client-{username}"))
            .spawn(move || driver.run(&rx, &leftover));
        // On failure the driver was dropped: its socket closes and the reader ends.
        spawned?;
        Ok((
            ClientHandle {
                tx: tx.clone(),
                username,
                session_id,
                callback_addr,
                _guard: Arc::new(HandleGuard { tx }),
            },
            events_rx,
        ))
    }
}

/// Opens a connection to the first address of `addr` that answers before `deadline`.
fn connect_by(
    addr: impl ToSocketAddrs,
    deadline: std::time::Instant,
) -> Result<TcpStream, ConnectError> {
    let mut last = None;
    for addr in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, time_left(deadline)?) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => timeout_or_io(e),
        None => io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to").into(),
    })
}

/// The time until `deadline`, or the handshake's timeout error once it passed.
fn time_left(deadline: std::time::Instant) -> Result<Duration, ConnectError> {
    let left = deadline.saturating_duration_since(std::time::Instant::now());
    if left.is_zero() {
        return Err(ConnectError::Handshake(HandshakeError::Timeout));
    }
    Ok(left)
}

/// A socket timeout during the handshake is the handshake's timeout.
fn timeout_or_io(e: io::Error) -> ConnectError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            ConnectError::Handshake(HandshakeError::Timeout)
        }
        _ => ConnectError::Io(e),
    }
}

fn closed() -> ClientError {
    ClientError::Session(SessionError::Closed)
}

impl ClientHandle {
    /// Our username.
    pub fn username(&self) -> &Username {
        &self.username
    }

    /// The session id the server assigned.
    pub fn session_id(&self) -> u64 {
        self.session_id
    }

    /// The address the callback daemon listens on, if
    /// [`ClientOptions::callback_listen`] was given (with the actual port when port 0 was
    /// asked for): pass its port to [`ClientHandle::register_callback`].
    pub fn callback_addr(&self) -> Option<SocketAddr> {
        self.callback_addr
    }

    fn call(
        &self,
        f: impl FnOnce(&mut ChatClient, &mut Ctx) -> Result<(), ClientError> + Send + 'static,
    ) -> Result<(), ClientError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.tx
            .send(Msg::Command(Command::Call(Box::new(f), reply)))
            .map_err(|_| closed())?;
        answer.recv().map_err(|_| closed())?
    }

    /// Asks who is online ([`ClientEvent::Users`]).
    pub fn list_users(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.list_users(x.now))
    }

    /// Asks for a user's registered key ([`ClientEvent::PublicKey`]).
    pub fn get_public_key(&self, user: Username) -> Result<(), ClientError> {
        self.call(move |c, x| c.get_public_key(x.now, &user))
    }

    /// Asks `user` to chat.
    pub fn request_chat(&self, user: Username) -> Result<(), ClientError> {
        self.call(move |c, x| c.request_chat(x.now, &user, &mut x.rng))
    }

    /// Withdraws our pending request.
    pub fn withdraw_request(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.withdraw_request(x.now))
    }

    /// Accepts the request we are asked.
    pub fn accept(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.accept(x.now, &mut x.rng))
    }

    /// Refuses the request we are asked.
    pub fn deny(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.deny(x.now))
    }

    /// Sends a message to the chat peer.
    pub fn send_text(&self, text: impl Into<String>) -> Result<(), ClientError> {
        let text = text.into();
        self.call(move |c, x| c.send_text(x.now, &text))
    }

    /// Leaves the chat.
    pub fn leave_chat(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.leave_chat(x.now))
    }

    /// Leaves the server; the event receiver ends once the server closed the session.
    pub fn exit(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.exit(x.now))
    }

    /// Trusts `key` for `user` after an out-of-band check.
    pub fn trust_key(&self, user: Username, key: PublicKey) -> Result<(), ClientError> {
        self.call(move |c, _| {
            c.trust_key(&user, &key);
            Ok(())
        })
    }

    /// Asks the server to use the callback connection for its messages (needs
    /// [`ClientOptions::callback_listen`]; see [`ClientHandle::callback_addr`]).
    pub fn register_callback(&self, port: u16) -> Result<(), ClientError> {
        self.call(move |c, x| c.register_callback(x.now, port, &mut x.rng))
    }

    /// Where we stand, and the current chat's safety number.
    pub fn status(&self) -> Result<(ChatStatus, Option<SafetyNumber>), ClientError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.tx
            .send(Msg::Command(Command::Status(reply)))
            .map_err(|_| closed())?;
        answer.recv().map_err(|_| closed())
    }
}

/// One accepted connection to the callback daemon.
struct CallbackSocket {
    connection: CallbackConnection,
    socket: TcpStream,
}

struct Driver {
    client: ChatClient,
    clock: StdClock,
    ctx: Ctx,
    events: Sender<ClientEvent>,
    /// The connection to the server (the reader thread holds a clone).
    stream: TcpStream,
    /// For the callback readers.
    tx: Sender<Msg>,
    acceptor: Option<Acceptor>,
    callbacks: BTreeMap<u64, CallbackSocket>,
    next_callback: u64,
    /// Set when the client's timer could not be served: do not look again before then.
    timer_retry: Option<std::time::Instant>,
}

impl Driver {
    fn run(mut self, rx: &Receiver<Msg>, leftover: &[u8]) {
        let now = self.clock.now();
        let started = leftover.is_empty() || self.client.handle_input(now, leftover).is_ok();
        if started && self.flush().is_ok() {
            self.serve(rx);
        }
        self.finish();
    }

    fn serve(&mut self, rx: &Receiver<Msg>) {
        loop {
            let timer = self.clock.to_std(self.client.poll_timeout());
            let timer = self.timer_retry.map_or(timer, |retry| retry.max(timer));
            match rx.recv_timeout(timer.saturating_duration_since(std::time::Instant::now())) {
                Ok(msg) => {
                    if !self.handle(msg) {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            self.serve_timer();
            if self.flush().is_err() {
                return;
            }
            if self.client.is_closed() && self.client.output().is_empty() {
                return;
            }
        }
    }

    /// Calls the client's timer handler when due (also when messages keep coming).
    fn serve_timer(&mut self) {
        let std_now = std::time::Instant::now();
        if self.timer_retry.is_some_and(|retry| std_now < retry) {
            return;
        }
        self.timer_retry = None;
        let now = self.clock.now();
        if now < self.client.poll_timeout() {
            return;
        }
        let _ = self.client.handle_timeout(now);
        if self.client.poll_timeout() <= now {
            // Nothing moved the timer (no keep-alive could be queued): do not spin.
            self.timer_retry = Some(std_now + TIMER_RETRY);
        }
    }

    /// Handles one message; false when the connection to the server is over.
    fn handle(&mut self, msg: Msg) -> bool {
        let now = self.clock.now();
        match msg {
            Msg::Command(Command::Call(f, reply)) => {
                self.ctx.now = now;
                let _ = reply.send(f(&mut self.client, &mut self.ctx));
            }
            Msg::Command(Command::Status(reply)) => {
                let _ = reply.send((self.client.status(), self.client.safety_number()));
            }
            Msg::HandlesDropped => {
                let _ = self.client.exit(now);
            }
            Msg::ServerData(bytes) => {
                if self.client.handle_input(now, &bytes).is_err() {
                    return false;
                }
            }
            Msg::ServerEnded => return false,
            Msg::CallbackAccepted(stream) => self.accept_callback(stream),
            Msg::CallbackData(id, bytes) => {
                let refused = match self.callbacks.get_mut(&id) {
                    Some(cb) => {
                        let attached = cb.connection.is_attached();
                        let result =
                            self.client
                                .handle_callback_input(now, &mut cb.connection, &bytes);
                        if !attached && cb.connection.is_attached() {
                            // Attached: from now on it may stay silent for as long as it likes.
                            let _ = cb.socket.set_read_timeout(None);
                        }
                        result.is_err()
                    }
                    None => false,
                };
                if refused {
                    tracing::debug!(callback = id, "callback connection refused");
                    self.close_callback(id);
                }
            }
            Msg::CallbackIdle(id) => {
                if self
                    .callbacks
                    .get(&id)
                    .is_some_and(|cb| !cb.connection.is_attached())
                {
                    self.close_callback(id);
                }
            }
            Msg::CallbackEnded(id) => self.close_callback(id),
        }
        true
    }

    fn accept_callback(&mut self, stream: TcpStream) {
        if self.callbacks.len() >= MAX_CALLBACK_CONNECTIONS {
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        self.next_callback += 1;
        let id = self.next_callback;
        let reader = stream
            .set_read_timeout(Some(CALLBACK_HELLO_TIMEOUT))
            .and_then(|()| stream.try_clone());
        let reader = match reader {
            Ok(reader) => reader,
            Err(_) => return,
        };
        let tx = self.tx.clone();
        let spawned = thread::Builder::new()
            .name(format!("securecom-callback-read-{id}"))
            .spawn(move || read_callback(id, reader, &tx));
        if spawned.is_err() {
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        self.callbacks.insert(
            id,
            CallbackSocket {
                connection: CallbackConnection::new(),
                socket: stream,
            },
        );
    }

    fn close_callback(&mut self, id: u64) {
        if let Some(cb) = self.callbacks.remove(&id) {
            let _ = cb.socket.shutdown(Shutdown::Both);
        }
    }

    /// Writes pending output and forwards events.
    fn flush(&mut self) -> io::Result<()> {
        self.forward_events();
        while !self.client.output().is_empty() {
            match self.stream.write(self.client.output()) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.client.consume_output(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn forward_events(&mut self) {
        while let Some(event) = self.client.poll_event() {
            let _ = self.events.send(event);
        }
    }

    fn finish(mut self) {
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.join();
        }
        let ids: Vec<u64> = self.callbacks.keys().copied().collect();
        for id in ids {
            self.close_callback(id);
        }
        self.client.connection_lost();
        self.forward_events();
        // Ends the reader thread too.
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

fn read_server(mut stream: TcpStream, tx: &Sender<Msg>) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let data = buf.get(..n).unwrap_or_default().to_vec();
                if tx.send(Msg::ServerData(data)).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = tx.send(Msg::ServerEnded);
}

fn read_callback(id: u64, mut stream: TcpStream, tx: &Sender<Msg>) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let msg = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => Msg::CallbackData(id, buf.get(..n).unwrap_or_default().to_vec()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Msg::CallbackIdle(id)
            }
            Err(_) => break,
        };
        if tx.send(msg).is_err() {
            return;
        }
    }
    let _ = tx.send(Msg::CallbackEnded(id));
}
