//! The async client: handshake, then one task that owns the chat logic and the socket.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

pub use securecom_host::driver::{ClientOptions, ConnectError};
use securecom_host::time::{StdClock, UnixTimeExt as _};
use securecom_proto::chat::SafetyNumber;
use securecom_proto::client::{
    CallbackConnection, ChatClient, ChatStatus, ClientError, ClientEvent,
};
use securecom_proto::handshake::{ClientConfig, ClientHandshake, ClientProgress, HandshakeError};
use securecom_proto::identity::{PublicKey, Username};
use securecom_proto::time::UnixTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

const READ_CHUNK: usize = 16 * 1024;

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

/// A connected, authenticated client: every method queues a command and returns once the
/// client logic accepted it; results arrive as events.
#[derive(Clone, Debug)]
pub struct ClientHandle {
    tx: mpsc::Sender<(Command, Reply)>,
    username: Username,
    session_id: u64,
    callback_addr: Option<SocketAddr>,
}

impl Client {
    /// Connects to `addr`, authenticates the server and logs in. Returns a handle for
    /// commands and the stream of events; the connection lives until `exit`, a server
    /// close, or every handle is dropped.
    pub async fn connect(
        addr: impl tokio::net::ToSocketAddrs,
        config: Arc<ClientConfig>,
        options: ClientOptions,
    ) -> Result<(ClientHandle, mpsc::UnboundedReceiver<ClientEvent>), ConnectError> {
        let clock = StdClock::new();
        let mut rng = crate::os_rng();
        let stream = TcpStream::connect(addr).await?;
        let _ = stream.set_nodelay(true);
        let (mut read, mut write) = stream.into_split();
        let mut hs = ClientHandshake::start(config.clone(), &mut rng, clock.now(), UnixTime::now());
        let mut buf = vec![0u8; READ_CHUNK];
        let deadline = tokio::time::Instant::from_std(clock.to_std(hs.poll_timeout()));
        let (session, leftover) = loop {
            write.write_all(hs.output()).await?;
            let n = hs.output().len();
            hs.consume_output(n);
            let n = match tokio::time::timeout_at(deadline, read.read(&mut buf)).await {
                Ok(r) => r?,
                Err(_) => return Err(ConnectError::Handshake(HandshakeError::Timeout)),
            };
            if n == 0 {
                return Err(ConnectError::Closed);
            }
            match hs.handle_input(clock.now(), &buf[..n])? {
                ClientProgress::Continue(next) => hs = next,
                ClientProgress::Established { session, consumed } => {
                    break (session, buf[consumed..n].to_vec());
                }
            }
        };
        let username = config.username().clone();
        let session_id = session.session_id();
        let mut client = ChatClient::new(session, config, options.known_keys, clock.now());
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let _ = client.handle_input(clock.now(), &leftover);
        let (tx, rx) = mpsc::channel(64);
        let listener = match options.callback_listen {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        let callback_addr = match &listener {
            Some(l) => Some(l.local_addr()?),
            None => None,
        };
        let driver = Driver {
            client,
            clock,
            ctx: Ctx {
                now: clock.now(),
                rng,
            },
            events: events_tx,
            write,
        };
        tokio::spawn(driver.run(read, rx, listener));
        Ok((
            ClientHandle {
                tx,
                username,
                session_id,
                callback_addr,
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
            .map_err(|_| ClientError::Session(securecom_proto::session::SessionError::Closed))?;
        answer
            .await
            .map_err(|_| ClientError::Session(securecom_proto::session::SessionError::Closed))?
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
        self.call(move |c, x| c.send_text(x.now, &text)).await
    }

    /// Leaves the chat.
    pub async fn leave_chat(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.leave_chat(x.now)).await
    }

    /// Leaves the server; the event stream ends once the server closed the session.
    pub async fn exit(&self) -> Result<(), ClientError> {
        self.call(|c, x| c.exit(x.now)).await
    }

    /// Trusts `key` for `user` after an out-of-band check.
    pub async fn trust_key(&self, user: Username, key: PublicKey) -> Result<(), ClientError> {
        self.call(move |c, _| {
            c.trust_key(&user, &key);
            Ok(())
        })
        .await
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
        let closed = || ClientError::Session(securecom_proto::session::SessionError::Closed);
        self.tx
            .send((Command::Status(tx), None))
            .await
            .map_err(|_| closed())?;
        rx.await.map_err(|_| closed())
    }
}

struct Driver {
    client: ChatClient,
    clock: StdClock,
    ctx: Ctx,
    events: mpsc::UnboundedSender<ClientEvent>,
    write: OwnedWriteHalf,
}

type CommandRx = mpsc::Receiver<(Command, Reply)>;

impl Driver {
    async fn run(
        mut self,
        mut read: OwnedReadHalf,
        mut commands: CommandRx,
        listener: Option<TcpListener>,
    ) {
        let mut buf = vec![0u8; READ_CHUNK];
        let (cb_tx, mut cb_rx) = mpsc::channel::<(u64, Option<Vec<u8>>)>(64);
        let mut callbacks: std::collections::BTreeMap<
            u64,
            (CallbackConnection, tokio::task::JoinHandle<()>),
        > = std::collections::BTreeMap::new();
        let mut next_cb = 0u64;
        if self.flush().await.is_err() {
            self.client.connection_lost();
            self.forward_events();
            return;
        }
        loop {
            let deadline =
                tokio::time::Instant::from_std(self.clock.to_std(self.client.poll_timeout()));
            tokio::select! {
                read = read.read(&mut buf) => match read {
                    Ok(n) if n > 0 => {
                        let now = self.clock.now();
                        if self.client.handle_input(now, &buf[..n]).is_err() {
                            break;
                        }
                    }
                    _ => break,
                },
                command = commands.recv() => match command {
                    Some((Command::Call(f), reply)) => {
                        self.ctx.now = self.clock.now();
                        let result = f(&mut self.client, &mut self.ctx);
                        if let Some(reply) = reply {
                            let _ = reply.send(result);
                        }
                    }
                    Some((Command::Status(reply), _)) => {
                        let _ = reply.send((self.client.status(), self.client.safety_number()));
                    }
                    None => {
                        let _ = self.client.exit(self.clock.now());
                    }
                },
                () = tokio::time::sleep_until(deadline) => {
                    let _ = self.client.handle_timeout(self.clock.now());
                }
                accepted = accept(listener.as_ref()) => {
                    if let Ok((stream, _)) = accepted {
                        next_cb += 1;
                        let task = tokio::spawn(callback_reader(next_cb, stream, cb_tx.clone()));
                        callbacks.insert(next_cb, (CallbackConnection::new(), task));
                    }
                }
                Some((id, data)) = cb_rx.recv() => {
                    let now = self.clock.now();
                    let refused = match (callbacks.get_mut(&id), data) {
                        (Some((conn, _)), Some(bytes)) => {
                            self.client.handle_callback_input(now, conn, &bytes).is_err()
                        }
                        _ => true,
                    };
                    if refused && let Some((_, task)) = callbacks.remove(&id) {
                        task.abort();
                    }
                }
            }
            if self.flush().await.is_err() {
                break;
            }
            if self.client.is_closed() && self.client.output().is_empty() {
                break;
            }
        }
        for (_, (_, task)) in callbacks {
            task.abort();
        }
        self.client.connection_lost();
        self.forward_events();
        let _ = self.write.shutdown().await;
    }

    /// Writes pending output and forwards events.
    async fn flush(&mut self) -> io::Result<()> {
        self.forward_events();
        let out = self.client.output();
        if !out.is_empty() {
            self.write.write_all(out).await?;
            let n = out.len();
            self.client.consume_output(n);
        }
        Ok(())
    }

    fn forward_events(&mut self) {
        while let Some(event) = self.client.poll_event() {
            let _ = self.events.send(event);
        }
    }
}

async fn accept(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

async fn callback_reader(id: u64, mut stream: TcpStream, tx: mpsc::Sender<(u64, Option<Vec<u8>>)>) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match stream.read(&mut buf).await {
            Ok(n) if n > 0 => {
                if tx.send((id, Some(buf[..n].to_vec()))).await.is_err() {
                    return;
                }
            }
            _ => {
                let _ = tx.send((id, None)).await;
                return;
            }
        }
    }
}
