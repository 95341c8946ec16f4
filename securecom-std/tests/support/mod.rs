//! Shared pieces of the end-to-end tests: the fixture PKI, a server on a loopback port, a
//! client wrapper that waits for events with a deadline, and a TCP proxy that records the
//! bytes and can cut the connection.

#![allow(
    dead_code,
    reason = "shared by tests/end_to_end.rs and tests/faults.rs; each uses part of it"
)]
#![allow(unreachable_pub, missing_docs, reason = "test support, not an API")]

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use securecom_std::proto::client::ClientEvent;
use securecom_std::proto::handshake::{ClientConfig, ServerConfig};
use securecom_std::proto::identity::{Identity, MemoryDirectory, Username};
use securecom_std::proto::pki::{
    RevocationPolicy, ServerCertVerifier, ServerCredentials, certificates_from_pem, crls_from_pem,
};
use securecom_std::{
    Client, ClientHandle, ClientOptions, ConnectError, Server, ServerOptions, ShutdownHandle,
};

/// The longest any single wait may take: generous for a loaded two-core machine, and only
/// ever reached when a test fails.
pub const WAIT: Duration = Duration::from_secs(30);

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../securecom-proto/tests/fixtures/pki/",
            $name
        ))
    };
}

const CA: &str = fixture!("ca.pem");
const CRL_LONG: &str = fixture!("crl-long.pem");
const SERVER_CHAIN: &str = fixture!("server.pem");
const SERVER_KEY: &str = fixture!("server.key");
const USERS: [(&str, &str); 3] = [
    ("alice", fixture!("users/alice.key")),
    ("bob", fixture!("users/bob.key")),
    ("carol", fixture!("users/carol.key")),
];

pub fn user(name: &str) -> Username {
    Username::new(name).unwrap()
}

fn identity(name: &str) -> Identity {
    let (_, pem) = USERS.iter().find(|(n, _)| *n == name).unwrap();
    Identity::from_pkcs8_pem(pem).unwrap()
}

/// The server of the fixtures, with alice, bob and carol registered.
pub fn server_config() -> Arc<ServerConfig> {
    server_config_with(securecom_std::proto::handshake::DEFAULT_HANDSHAKE_TIMEOUT)
}

/// [`server_config`] with another handshake timeout.
pub fn server_config_with(handshake_timeout: Duration) -> Arc<ServerConfig> {
    let chain = certificates_from_pem(SERVER_CHAIN).unwrap();
    let key = Identity::from_pkcs8_pem(SERVER_KEY).unwrap();
    let credentials = ServerCredentials::new(chain, key).unwrap();
    let mut directory = MemoryDirectory::new();
    for (name, _) in USERS {
        directory.insert(user(name), identity(name).public_key());
    }
    Arc::new(
        ServerConfig::new(credentials, Arc::new(directory))
            .with_handshake_timeout(handshake_timeout),
    )
}

/// A client of the fixtures logging in as `name`, expecting the server to be
/// `server_name`.
pub fn client_config_for(name: &str, server_name: &str) -> Arc<ClientConfig> {
    Arc::new(client_config_parts(name, server_name))
}

/// A client of the fixtures whose handshake gives up after `timeout`.
pub fn client_config_with_timeout(name: &str, timeout: Duration) -> Arc<ClientConfig> {
    Arc::new(client_config_parts(name, "localhost").with_handshake_timeout(timeout))
}

fn client_config_parts(name: &str, server_name: &str) -> ClientConfig {
    let ca = certificates_from_pem(CA).unwrap().remove(0);
    // crl-long.pem: the fixture CRL valid until 2035, for tests on the real clock.
    let crls = crls_from_pem(CRL_LONG).unwrap();
    let verifier = ServerCertVerifier::new(ca, RevocationPolicy::CheckCrls(crls)).unwrap();
    ClientConfig::new(verifier, server_name, user(name), identity(name))
}

pub fn client_config(name: &str) -> Arc<ClientConfig> {
    client_config_for(name, "localhost")
}

/// A server on an ephemeral loopback port, running on its own thread.
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: ShutdownHandle,
    done: Receiver<io::Result<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_with(ServerOptions::default())
    }

    pub fn start_with(options: ServerOptions) -> TestServer {
        TestServer::start_custom(server_config(), options)
    }

    pub fn start_custom(config: Arc<ServerConfig>, options: ServerOptions) -> TestServer {
        let server = Server::bind("127.0.0.1:0", config, options).unwrap();
        let addr = server.local_addr().unwrap();
        let shutdown = ShutdownHandle::new();
        let stop = shutdown.clone();
        let (tx, done) = mpsc::channel();
        let thread = thread::spawn(move || {
            let _ = tx.send(server.run(stop));
        });
        TestServer {
            addr,
            shutdown,
            done,
            thread: Some(thread),
        }
    }

    /// Shuts the server down and waits (bounded) for `run` to return.
    pub fn stop(mut self) -> Duration {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Duration {
        let started = Instant::now();
        self.shutdown.shutdown();
        let Some(thread) = self.thread.take() else {
            return Duration::ZERO;
        };
        match self.done.recv_timeout(WAIT) {
            Ok(result) => result.unwrap(),
            // Already failing: do not panic again while unwinding.
            Err(_) if thread::panicking() => return started.elapsed(),
            Err(e) => panic!("the server did not stop within {WAIT:?}: {e}"),
        }
        let _ = thread.join();
        started.elapsed()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// A connected client and its events.
pub struct TestClient {
    pub name: String,
    handle: Option<ClientHandle>,
    events: Receiver<ClientEvent>,
    /// Events received while waiting for another one, in order.
    backlog: VecDeque<ClientEvent>,
}

impl TestClient {
    pub fn connect(addr: SocketAddr, name: &str) -> TestClient {
        TestClient::connect_with(addr, name, ClientOptions::default())
    }

    pub fn connect_with(addr: SocketAddr, name: &str, options: ClientOptions) -> TestClient {
        let (handle, events) = Client::connect(addr, client_config(name), options)
            .unwrap_or_else(|e: ConnectError| panic!("{name} could not connect: {e}"));
        TestClient {
            name: name.to_owned(),
            handle: Some(handle),
            events,
            backlog: VecDeque::new(),
        }
    }

    /// The command handle.
    pub fn h(&self) -> &ClientHandle {
        self.handle.as_ref().expect("the handle was dropped")
    }

    /// Drops the command handle, keeping the events.
    pub fn drop_handle(&mut self) {
        self.handle = None;
    }

    /// The username.
    pub fn user(&self) -> Username {
        user(&self.name)
    }

    /// Waits for the first event for which `pick` gives a value; events passed over stay
    /// available to later waits.
    pub fn expect<T>(&mut self, what: &str, mut pick: impl FnMut(&ClientEvent) -> Option<T>) -> T {
        if let Some(i) = self.backlog.iter().position(|e| pick(e).is_some()) {
            let event = self.backlog.remove(i).unwrap();
            return pick(&event).unwrap();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) => match pick(&event) {
                    Some(value) => return value,
                    None => self.backlog.push_back(event),
                },
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{}: no {what} within {WAIT:?}; other events: {:?}",
                    self.name, self.backlog
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "{}: events ended before {what}; other events: {:?}",
                    self.name, self.backlog
                ),
            }
        }
    }

    /// Waits for the event stream to end; returns every event not consumed yet.
    pub fn expect_end(&mut self) -> Vec<ClientEvent> {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) => self.backlog.push_back(event),
                Err(RecvTimeoutError::Disconnected) => return self.backlog.drain(..).collect(),
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{}: events did not end within {WAIT:?}; events: {:?}",
                    self.name, self.backlog
                ),
            }
        }
    }
}

/// A TCP proxy for one connection: it forwards both ways, records every byte, and can cut
/// the connection abruptly.
pub struct Proxy {
    pub addr: SocketAddr,
    /// Everything that went through, both directions.
    pub recorded: Arc<Mutex<Vec<u8>>>,
    sockets: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    pub fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let sockets = Arc::new(Mutex::new(Vec::new()));
        let (rec, socks) = (recorded.clone(), sockets.clone());
        thread::spawn(move || {
            let Ok((client, _)) = listener.accept() else {
                return;
            };
            let Ok(server) = TcpStream::connect(target) else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let pairs = [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server.try_clone().unwrap(), client.try_clone().unwrap()),
            ];
            socks.lock().unwrap().extend([client, server]);
            for (from, to) in pairs {
                let rec = rec.clone();
                thread::spawn(move || pump(from, to, &rec));
            }
        });
        Proxy {
            addr,
            recorded,
            sockets,
        }
    }

    /// Cuts both sides at once, without any goodbye.
    pub fn cut(&self) {
        for socket in self.sockets.lock().unwrap().iter() {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }

    pub fn recorded(&self) -> Vec<u8> {
        self.recorded.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, recorded: &Mutex<Vec<u8>>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                recorded.lock().unwrap().extend_from_slice(&buf[..n]);
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// True when `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
