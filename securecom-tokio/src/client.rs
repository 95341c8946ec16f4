//! The async client: one task that owns the [`ClientEndpoint`] and carries out its
//! actions, plus tasks that only move bytes (a writer to the server, a reader per callback
//! connection).
//!
//! Every limit, deadline and decision is the endpoint's; this file reads, writes, sleeps
//! until the endpoint's deadline, and reports what happened.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

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
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Connects clients. See [`Client::connect`].
#[derive(Debug)]
pub struct Client;

/// A command run on the driver task against the client logic.
type Call = Box<dyn FnOnce(&mut ChatClient, &mut Ctx) -> Result<(), ClientError> + Send>;
/// Where the result of a command goes.
type Reply = Option<oneshot::Sender<Result<(), ClientError>>>;

enum Command {
    Call(Call),
    Status(oneshot::Sender<(ChatStatus, Option<SafetyNumber>)>),
}

struct Ctx {
    now: securecom_proto::time::Instant,
    rng: rand_core::UnwrapErr<getrandom::SysRng>,
}

/// What the socket tasks report.
enum Report {
    Written(usize),
    /// The connection to the server ended (with the error, if it failed).
    ServerClosed(Option<io::Error>),
    CallbackData(CallbackId, Vec<u8>),
    CallbackClosed(CallbackId),
}

/// How the handshake ended, for `connect`: the session id and the newer CRL the server
/// delivered, or why it failed.
type Connected = Result<(u64, Option<NewerCrl>), ConnectError>;

/// A connected, authenticated client: every method queues a command and returns once the
/// client logic accepted it; results arrive as events.
#[derive(Clone, Debug)]
pub struct ClientHandle {
    tx: mpsc::Sender<(Command, Reply)>,
    username: Username,
    session_id: u64,
    callback_addr: Option<SocketAddr>,
    ended: SessionEnded,
    newer_crl: Option<NewerCrl>,
}

impl Client {
    /// Connects to `addr`, authenticates the server and logs in. Returns a handle for
    /// commands and the stream of events; the connection lives until `exit`, a server
    /// close, or every handle is dropped. The configured handshake timeout bounds the
    /// whole call, connecting included.
    pub async fn connect(
        addr: impl tokio::net::ToSocketAddrs,
        config: Arc<ClientConfig>,
        options: ClientOptions,
    ) -> Result<(ClientHandle, mpsc::UnboundedReceiver<ClientEvent>), ConnectError> {
        let clock = StdClock::new();
        let mut rng = crate::os_rng();
        let endpoint = ClientEndpoint::connect(
            config.clone(),
            options.known_keys,
            options.limits,
            &mut rng,
            clock.now(),
            UnixTime::now(),
        )
        .with_blocked(options.blocked);
        let deadline = endpoint
            .poll_timeout()
            .map(|t| tokio::time::Instant::from_std(clock.to_std(t)));
        let connecting = TcpStream::connect(addr);
        let stream = match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, connecting)
                .await
                .map_err(|_| ConnectError::Handshake(HandshakeError::Timeout))??,
            None => connecting.await?,
        };
        let _ = stream.set_nodelay(true);
        let listener = match options.callback_listen {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        let callback_addr = match &listener {
            Some(l) => Some(l.local_addr()?),
            None => None,
        };
        let (read, write) = stream.into_split();
        let (reports, inbox) = mpsc::channel(64);
        let (chunks, chunks_rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_loop(write, chunks_rx, reports.clone()));
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let progress = ClientProgress::new();
        let ended = progress.session_ended();
        let (tx, rx) = mpsc::channel(64);
        let driver = Driver {
            endpoint,
            clock,
            ctx: Ctx {
                now: clock.now(),
                rng,
            },
            events: events_tx,
            chunks,
            writer,
            reports,
            callbacks: BTreeMap::new(),
            ready: Some(ready_tx),
            progress,
            accepting: true,
        };
        tokio::spawn(driver.run(read, inbox, rx, listener));
        let (session_id, newer_crl) = match ready_rx.await {
            Ok(Ok(connected)) => connected,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(ConnectError::Closed),
        };
        Ok((
            ClientHandle {
                tx,
                username: config.username().clone(),
                session_id,
                callback_addr,
                ended,
                newer_crl,
            },
            events_rx,
        ))
    }
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

    /// The address the callback daemon listens on (with its real port when port 0 was
    /// asked), if [`ClientOptions::callback_listen`] was set.
    pub fn callback_addr(&self) -> Option<SocketAddr> {
        self.callback_addr
    }

    async fn call(
        &self,
        f: impl FnOnce(&mut ChatClient, &mut Ctx) -> Result<(), ClientError> + Send + 'static,
    ) -> Result<(), ClientError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((Command::Call(Box::new(f)), Some(reply)))
            .await
            .map_err(|_| self.ended.error())?;
        answer.await.map_err(|_| self.ended.error())?
    }

    /// Asks who is online ([`ClientEvent::Users`]).
    pub async fn list_users(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.list_users(x.now)).await
    }

    /// Asks for a user's registered key ([`ClientEvent::PublicKey`]).
    pub async fn get_public_key(&self, user: Username) -> Result<(), ClientError> {
        self.call(move |c, x| c.get_public_key(x.now, &user)).await
    }

    /// Asks `user` to chat.
    pub async fn request_chat(&self, user: Username) -> Result<(), ClientError> {
        self.call(move |c, x| c.request_chat(x.now, &user, &mut x.rng))
            .await
    }

    /// Withdraws our pending request.
    pub async fn withdraw_request(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.withdraw_request(x.now)).await
    }

    /// Accepts the request we are asked.
    pub async fn accept(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.accept(x.now, &mut x.rng)).await
    }

    /// Refuses the request we are asked.
    pub async fn deny(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.deny(x.now)).await
    }

    /// Sends a message to the chat peer.
    pub async fn send_text(&self, text: impl Into<String>) -> Result<(), ClientError> {
        let text = text.into();
        self.call(move |c, x| c.send_text(x.now, &text, &mut x.rng))
            .await
    }

    /// Leaves the chat.
    pub async fn leave_chat(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.leave_chat(x.now)).await
    }

    /// Leaves the server; the event stream ends once the server closed the session.
    pub async fn exit(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.exit(x.now)).await
    }

    /// Accepts `key` for `user`, unverified, after a key change and an out-of-band check
    /// ([`ChatClient::trust_key`](securecom_proto::client::ChatClient::trust_key)).
    pub async fn trust_key(&self, user: Username, key: PublicKey) -> Result<(), ClientError> {
        self.call(move |c, _| c.trust_key(&user, &key)).await
    }

    /// Refuses every chat request from `user` at once
    /// ([`ChatClient::block`](securecom_proto::client::ChatClient::block)).
    pub async fn block(&self, user: Username) -> Result<(), ClientError> {
        self.call(move |c, x| c.block(x.now, &user)).await
    }

    /// Asks again about `user`'s requests (nothing if `user` was not blocked)
    /// ([`ChatClient::unblock`](securecom_proto::client::ChatClient::unblock)).
    pub async fn unblock(&self, user: Username) -> Result<(), ClientError> {
        self.call(move |c, _| {
            c.unblock(&user);
            Ok(())
        })
        .await
    }

    /// Marks the chat peer's key as verified once the safety numbers were compared
    /// ([`ChatClient::verify_peer`](securecom_proto::client::ChatClient::verify_peer);
    /// [`ClientEvent::KeyVerified`] follows).
    pub async fn verify_peer(&self) -> Result<(), ClientError> {
        self.call(|c, _| c.verify_peer()).await
    }

    /// Asks the server to use the callback connection for its messages (needs
    /// [`ClientOptions::callback_listen`]).
    pub async fn register_callback(&self, port: u16) -> Result<(), ClientError> {
        self.call(move |c, x| c.register_callback(x.now, port, &mut x.rng))
            .await
    }

    /// Where we stand, and the current chat's safety number.
    pub async fn status(&self) -> Result<(ChatStatus, Option<SafetyNumber>), ClientError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send((Command::Status(tx), None))
            .await
            .map_err(|_| self.ended.error())?;
        rx.await.map_err(|_| self.ended.error())
    }
}

struct Driver {
    endpoint: ClientEndpoint,
    clock: StdClock,
    ctx: Ctx,
    events: mpsc::UnboundedSender<ClientEvent>,
    /// Chunks for the writer task.
    chunks: mpsc::UnboundedSender<Vec<u8>>,
    writer: JoinHandle<()>,
    reports: mpsc::Sender<Report>,
    callbacks: BTreeMap<CallbackId, JoinHandle<()>>,
    /// Tells [`Client::connect`] how the handshake ended.
    ready: Option<oneshot::Sender<Connected>>,
    /// The socket's error, the answer to `connect`, why the session ended.
    progress: ClientProgress,
    /// False after the callback daemon failed to accept, until the endpoint says again.
    accepting: bool,
}

impl Driver {
    async fn run(
        mut self,
        mut read: OwnedReadHalf,
        mut inbox: mpsc::Receiver<Report>,
        mut commands: mpsc::Receiver<(Command, Reply)>,
        listener: Option<TcpListener>,
    ) {
        let mut buf = vec![0u8; READ_CHUNK];
        let mut reading = true;
        let mut handles_gone = false;
        loop {
            if !self.carry_out() {
                break;
            }
            let deadline = self
                .endpoint
                .poll_timeout()
                .map(|t| tokio::time::Instant::from_std(self.clock.to_std(t)));
            tokio::select! {
                read = read.read(&mut buf), if reading => {
                    let now = self.clock.now();
                    match read {
                        Ok(n) if n > 0 => {
                            self.endpoint.handle_input(now, buf.get(..n).unwrap_or_default());
                        }
                        result => {
                            reading = false;
                            self.progress.socket_ended(result.err());
                            self.endpoint.handle_closed(now, ClientSocket::Server);
                        }
                    }
                }
                Some(report) = inbox.recv() => self.handle(report),
                command = commands.recv(), if !handles_gone => match command {
                    Some((command, reply)) => self.command(command, reply),
                    None => {
                        handles_gone = true;
                        let now = self.clock.now();
                        if let Some(chat) = self.endpoint.chat() {
                            let _ = chat.exit(now);
                        }
                    }
                },
                () = sleep_until(deadline) => self.endpoint.handle_timeout(self.clock.now()),
                accepted = accept(listener.as_ref().filter(|_| self.accepting)) => match accepted {
                    Ok((stream, _)) => self.accept_callback(stream),
                    Err(_) => {
                        self.accepting = false;
                        self.endpoint.handle_callback_accept_failed(self.clock.now());
                    }
                },
            }
        }
        self.writer.abort();
        for (_, task) in std::mem::take(&mut self.callbacks) {
            task.abort();
        }
    }

    /// Carries out every action and forwards every event; false once the endpoint is done.
    fn carry_out(&mut self) -> bool {
        while let Some(action) = self.endpoint.poll_action() {
            match action {
                ClientAction::Transmit { bytes } => {
                    if self.chunks.send(bytes).is_err() {
                        self.endpoint
                            .handle_closed(self.clock.now(), ClientSocket::Server);
                    }
                }
                ClientAction::Close(ClientSocket::Server) => {
                    // Dropping the queue ends the writer once it wrote what it holds.
                    let (closed, _) = mpsc::unbounded_channel();
                    self.chunks = closed;
                }
                ClientAction::Close(ClientSocket::Callback(id)) => {
                    if let Some(task) = self.callbacks.remove(&id) {
                        task.abort();
                    }
                }
                ClientAction::ResumeAccepting => self.accepting = true,
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

    fn handle(&mut self, report: Report) {
        let now = self.clock.now();
        match report {
            Report::Written(n) => self.endpoint.handle_written(now, n),
            Report::ServerClosed(error) => {
                self.progress.socket_ended(error);
                self.endpoint.handle_closed(now, ClientSocket::Server);
            }
            Report::CallbackData(id, bytes) => self.endpoint.handle_callback_input(now, id, &bytes),
            Report::CallbackClosed(id) => {
                self.callbacks.remove(&id);
                self.endpoint.handle_closed(now, ClientSocket::Callback(id));
            }
        }
    }

    fn command(&mut self, command: Command, reply: Reply) {
        self.ctx.now = self.clock.now();
        match command {
            Command::Call(f) => {
                let result = match self.endpoint.chat() {
                    Some(chat) => f(chat, &mut self.ctx),
                    None => Err(self
                        .endpoint
                        .ended()
                        .unwrap_or(ClientError::Ended(SessionEnd::ConnectionLost))),
                };
                if let Some(reply) = reply {
                    let _ = reply.send(result);
                }
            }
            Command::Status(reply) => {
                if let Some(chat) = self.endpoint.chat_ref() {
                    let _ = reply.send((chat.status(), chat.safety_number()));
                }
            }
        }
    }

    fn accept_callback(&mut self, stream: TcpStream) {
        // `None`: the daemon is full; dropping the stream closes it.
        if let Some(id) = self.endpoint.handle_callback_accepted(self.clock.now()) {
            let task = tokio::spawn(callback_reader(id, stream, self.reports.clone()));
            self.callbacks.insert(id, task);
        }
    }
}

async fn accept(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

async fn write_loop(
    mut write: tokio::net::tcp::OwnedWriteHalf,
    mut chunks: mpsc::UnboundedReceiver<Vec<u8>>,
    reports: mpsc::Sender<Report>,
) {
    while let Some(chunk) = chunks.recv().await {
        let report = match write.write_all(&chunk).await {
            Ok(()) => Report::Written(chunk.len()),
            Err(e) => Report::ServerClosed(Some(e)),
        };
        let failed = matches!(report, Report::ServerClosed(_));
        if reports.send(report).await.is_err() || failed {
            return;
        }
    }
    let _ = write.shutdown().await;
}

async fn callback_reader(id: CallbackId, mut stream: TcpStream, reports: mpsc::Sender<Report>) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let report = match stream.read(&mut buf).await {
            Ok(n) if n > 0 => Report::CallbackData(id, buf.get(..n).unwrap_or_default().to_vec()),
            _ => Report::CallbackClosed(id),
        };
        let ended = matches!(report, Report::CallbackClosed(_));
        if reports.send(report).await.is_err() || ended {
            return;
        }
    }
}
