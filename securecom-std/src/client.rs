//! The blocking client: a driver thread that owns the [`ClientEndpoint`] and carries out
//! its actions, fed by threads that only move bytes (a reader and a writer for the server,
//! an acceptor and a reader per connection for the callback daemon).
//!
//! Every limit, deadline and decision is the endpoint's; this file reads, writes, sleeps
//! until the endpoint's deadline, and reports what happened.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::thread;
use std::time::Duration;

pub use securecom_host::driver::{ClientOptions, ConnectError};
use securecom_host::driver::{ClientProgress, SessionEnded};
use securecom_host::time::{StdClock, UnixTimeExt as _};
use securecom_proto::chat::SafetyNumber;
use securecom_proto::client::{ChatClient, ChatStatus, ClientError, ClientEvent, SessionEnd};
use securecom_proto::endpoint::{
    CallbackId, ClientAction, ClientEndpoint, ClientSocket, READ_CHUNK,
};
use securecom_proto::handshake::{ClientConfig, HandshakeError};
use securecom_proto::identity::{PublicKey, Username};
use securecom_proto::pki::NewerCrl;
use securecom_proto::time::UnixTime;

use crate::net::Acceptor;

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
    Written(usize),
    /// The connection to the server ended or failed.
    ServerClosed(Option<io::Error>),
    CallbackAccepted(TcpStream),
    /// The callback daemon failed to accept; its acceptor waits for the endpoint's word.
    CallbackAcceptFailed,
    CallbackData(CallbackId, Vec<u8>),
    CallbackClosed(CallbackId),
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

/// How the handshake ended, for `connect`: the session id and the newer CRL the server
/// delivered, or why it failed.
type Connected = Result<(u64, Option<NewerCrl>), ConnectError>;

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
    ended: SessionEnded,
    newer_crl: Option<NewerCrl>,
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
        let endpoint = ClientEndpoint::connect(
            config.clone(),
            options.known_keys,
            options.limits,
            &mut rng,
            clock.now(),
            UnixTime::now(),
        )
        .with_blocked(options.blocked);
        let deadline = endpoint.poll_timeout().map(|t| clock.to_std(t));
        let stream = connect_by(addr, deadline)?;
        let _ = stream.set_nodelay(true);
        let username = config.username().clone();

        let (tx, rx) = mpsc::channel();
        let (events_tx, events_rx) = mpsc::channel();
        let reader = stream.try_clone()?;
        let to_driver = tx.clone();
        thread::Builder::new()
            .name(format!("securecom-client-read-{username}"))
            .spawn(move || read_server(reader, &to_driver))?;
        let chunks = spawn_writer(&username, &stream, tx.clone());
        let chunks = match chunks {
            Ok(chunks) => chunks,
            Err(e) => {
                let _ = stream.shutdown(Shutdown::Both);
                return Err(e.into());
            }
        };
        let acceptor = match callback_listener {
            Some(listener) => {
                let to_driver = tx.clone();
                let acceptor = Acceptor::spawn(
                    format!("securecom-callback-accept-{username}"),
                    listener,
                    move |result| {
                        let msg = match result {
                            Ok((stream, _)) => Msg::CallbackAccepted(stream),
                            Err(_) => Msg::CallbackAcceptFailed,
                        };
                        to_driver.send(msg).is_ok()
                    },
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
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let progress = ClientProgress::new();
        let ended = progress.session_ended();
        let driver = Driver {
            endpoint,
            clock,
            ctx: Ctx {
                now: clock.now(),
                rng,
            },
            events: events_tx,
            stream,
            chunks: Some(chunks),
            tx: tx.clone(),
            acceptor,
            callbacks: BTreeMap::new(),
            ready: Some(ready_tx),
            progress,
        };
        let spawned = thread::Builder::new()
            .name(format!("securecom-client-{username}"))
            .spawn(move || driver.run(&rx));
        // On failure the driver was dropped: its socket closes and the reader ends.
        spawned?;
        let (session_id, newer_crl) = match ready_rx.recv() {
            Ok(Ok(connected)) => connected,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(ConnectError::Closed),
        };
        Ok((
            ClientHandle {
                tx: tx.clone(),
                username,
                session_id,
                callback_addr,
                ended,
                newer_crl,
                _guard: Arc::new(HandleGuard { tx }),
            },
            events_rx,
        ))
    }
}

/// Opens a connection to the first address of `addr` that answers before `deadline`.
fn connect_by(
    addr: impl ToSocketAddrs,
    deadline: Option<std::time::Instant>,
) -> Result<TcpStream, ConnectError> {
    let mut last = None;
    for addr in addr.to_socket_addrs()? {
        let attempt = match deadline {
            Some(deadline) => TcpStream::connect_timeout(&addr, time_left(deadline)?),
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            ConnectError::Handshake(HandshakeError::Timeout)
        }
        Some(e) => ConnectError::Io(e),
        None => io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to").into(),
    })
}

/// The time until the endpoint's handshake `deadline`, or its timeout error once passed.
fn time_left(deadline: std::time::Instant) -> Result<Duration, ConnectError> {
    let left = deadline.saturating_duration_since(std::time::Instant::now());
    if left.is_zero() {
        return Err(ConnectError::Handshake(HandshakeError::Timeout));
    }
    Ok(left)
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

    /// The CRL of the trust anchor, newer than the one the configuration's verifier held,
    /// that the server delivered in the handshake (and this login was already checked
    /// against), if any: store it, and connect next time with a configuration built on
    /// [`ServerCertVerifier::with_newer_crl`](securecom_proto::pki::ServerCertVerifier::with_newer_crl).
    pub fn newer_crl(&self) -> Option<&NewerCrl> {
        self.newer_crl.as_ref()
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
            .map_err(|_| self.ended.error())?;
        answer.recv().map_err(|_| self.ended.error())?
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
        self.call(move |c, x| c.send_text(x.now, &text, &mut x.rng))
    }

    /// Leaves the chat.
    pub fn leave_chat(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.leave_chat(x.now))
    }

    /// Leaves the server; the event receiver ends once the server closed the session.
    pub fn exit(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.exit(x.now))
    }

    /// Accepts `key` for `user`, unverified, after a key change and an out-of-band check
    /// ([`ChatClient::trust_key`](securecom_proto::client::ChatClient::trust_key)).
    pub fn trust_key(&self, user: Username, key: PublicKey) -> Result<(), ClientError> {
        self.call(move |c, _| c.trust_key(&user, &key))
    }

    /// Refuses every chat request from `user` at once
    /// ([`ChatClient::block`](securecom_proto::client::ChatClient::block)).
    pub fn block(&self, user: Username) -> Result<(), ClientError> {
        self.call(move |c, x| c.block(x.now, &user))
    }

    /// Asks again about `user`'s requests (nothing if `user` was not blocked)
    /// ([`ChatClient::unblock`](securecom_proto::client::ChatClient::unblock)).
    pub fn unblock(&self, user: Username) -> Result<(), ClientError> {
        self.call(move |c, _| {
            c.unblock(&user);
            Ok(())
        })
    }

    /// Marks the chat peer's key as verified once the safety numbers were compared
    /// ([`ChatClient::verify_peer`](securecom_proto::client::ChatClient::verify_peer);
    /// [`ClientEvent::KeyVerified`] follows).
    pub fn verify_peer(&self) -> Result<(), ClientError> {
        self.call(|c, _| c.verify_peer())
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
            .map_err(|_| self.ended.error())?;
        answer.recv().map_err(|_| self.ended.error())
    }
}

struct Driver {
    endpoint: ClientEndpoint,
    clock: StdClock,
    ctx: Ctx,
    events: Sender<ClientEvent>,
    /// The connection to the server (the reader and writer threads hold clones).
    stream: TcpStream,
    /// The writer thread's queue; `None` once the server socket is closed.
    chunks: Option<Sender<Vec<u8>>>,
    /// For the callback readers.
    tx: Sender<Msg>,
    acceptor: Option<Acceptor>,
    callbacks: BTreeMap<CallbackId, TcpStream>,
    /// Tells [`Client::connect`] how the handshake ended.
    ready: Option<SyncSender<Connected>>,
    /// The socket's error, the answer to `connect`, why the session ended.
    progress: ClientProgress,
}

impl Driver {
    fn run(mut self, rx: &Receiver<Msg>) {
        while self.carry_out() {
            let received = match self.endpoint.poll_timeout() {
                Some(deadline) => {
                    let wait = self.clock.to_std(deadline);
                    rx.recv_timeout(wait.saturating_duration_since(std::time::Instant::now()))
                }
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match received {
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            // Also when messages keep coming: timers must still fire.
            let now = self.clock.now();
            if self.endpoint.poll_timeout().is_some_and(|t| t <= now) {
                self.endpoint.handle_timeout(now);
            }
        }
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.join();
        }
        for (_, socket) in std::mem::take(&mut self.callbacks) {
            let _ = socket.shutdown(Shutdown::Both);
        }
        // Ends the reader and writer threads too.
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Carries out every action and forwards every event; false once the endpoint is done.
    fn carry_out(&mut self) -> bool {
        while let Some(action) = self.endpoint.poll_action() {
            match action {
                ClientAction::Transmit { bytes } => {
                    let sent = self.chunks.as_ref().is_some_and(|c| c.send(bytes).is_ok());
                    if !sent {
                        self.endpoint
                            .handle_closed(self.clock.now(), ClientSocket::Server);
                    }
                }
                ClientAction::Close(ClientSocket::Server) => {
                    self.chunks = None;
                    let _ = self.stream.shutdown(Shutdown::Both);
                }
                ClientAction::Close(ClientSocket::Callback(id)) => {
                    if let Some(socket) = self.callbacks.remove(&id) {
                        let _ = socket.shutdown(Shutdown::Both);
                    }
                }
                ClientAction::ResumeAccepting => {
                    if let Some(acceptor) = &self.acceptor {
                        acceptor.resume();
                    }
                }
                other => tracing::warn!(?other, "unknown action"),
            }
        }
        while let Some(event) = self.endpoint.poll_event() {
            let _ = self.events.send(event);
        }
        let step = self.progress.after_actions(&self.endpoint);
        if let Some(connected) = step.connected
            && let Some(ready) = self.ready.take()
        {
            // The newer CRL the handshake reported, moved to the handle as it is.
            let newer_crl = self.endpoint.newer_crl().cloned();
            let _ = ready.send(connected.map(|session_id| (session_id, newer_crl)));
        }
        step.running
    }

    fn handle(&mut self, msg: Msg) {
        let now = self.clock.now();
        match msg {
            Msg::Command(Command::Call(f, reply)) => {
                self.ctx.now = now;
                let result = match self.endpoint.chat() {
                    Some(chat) => f(chat, &mut self.ctx),
                    None => Err(self
                        .endpoint
                        .ended()
                        .unwrap_or(ClientError::Ended(SessionEnd::ConnectionLost))),
                };
                let _ = reply.send(result);
            }
            Msg::Command(Command::Status(reply)) => {
                if let Some(chat) = self.endpoint.chat_ref() {
                    let _ = reply.send((chat.status(), chat.safety_number()));
                }
            }
            Msg::HandlesDropped => {
                if let Some(chat) = self.endpoint.chat() {
                    let _ = chat.exit(now);
                }
            }
            Msg::ServerData(bytes) => self.endpoint.handle_input(now, &bytes),
            Msg::Written(n) => self.endpoint.handle_written(now, n),
            Msg::ServerClosed(error) => {
                self.progress.socket_ended(error);
                self.endpoint.handle_closed(now, ClientSocket::Server);
            }
            Msg::CallbackAccepted(stream) => self.accept_callback(stream),
            Msg::CallbackAcceptFailed => self.endpoint.handle_callback_accept_failed(now),
            Msg::CallbackData(id, bytes) => self.endpoint.handle_callback_input(now, id, &bytes),
            Msg::CallbackClosed(id) => {
                self.callbacks.remove(&id);
                self.endpoint.handle_closed(now, ClientSocket::Callback(id));
            }
        }
    }

    fn accept_callback(&mut self, stream: TcpStream) {
        let Some(id) = self.endpoint.handle_callback_accepted(self.clock.now()) else {
            // The daemon is full.
            let _ = stream.shutdown(Shutdown::Both);
            return;
        };
        let reader = stream.try_clone();
        let tx = self.tx.clone();
        let spawned = reader.and_then(|reader| {
            thread::Builder::new()
                .name(format!("securecom-callback-read-{}", id.0))
                .spawn(move || read_callback(id, reader, &tx))
        });
        if spawned.is_err() {
            let _ = stream.shutdown(Shutdown::Both);
            self.endpoint
                .handle_closed(self.clock.now(), ClientSocket::Callback(id));
            return;
        }
        self.callbacks.insert(id, stream);
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
            Err(e) => {
                let _ = tx.send(Msg::ServerClosed(Some(e)));
                return;
            }
        }
    }
    let _ = tx.send(Msg::ServerClosed(None));
}

/// Starts a thread writing each chunk it is handed to the server, reporting each one.
fn spawn_writer(
    username: &Username,
    stream: &TcpStream,
    tx: Sender<Msg>,
) -> io::Result<Sender<Vec<u8>>> {
    let mut write = stream.try_clone()?;
    let (chunks, rx) = mpsc::channel::<Vec<u8>>();
    thread::Builder::new()
        .name(format!("securecom-client-write-{username}"))
        .spawn(move || {
            for chunk in rx {
                let msg = match write.write_all(&chunk) {
                    Ok(()) => Msg::Written(chunk.len()),
                    Err(e) => Msg::ServerClosed(Some(e)),
                };
                let failed = matches!(msg, Msg::ServerClosed(_));
                if tx.send(msg).is_err() || failed {
                    return;
                }
            }
        })?;
    Ok(chunks)
}

fn read_callback(id: CallbackId, mut stream: TcpStream, tx: &Sender<Msg>) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let data = buf.get(..n).unwrap_or_default().to_vec();
                if tx.send(Msg::CallbackData(id, data)).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = tx.send(Msg::CallbackClosed(id));
}
