//! A TCP proxy for one client connection: it forwards both ways and records every byte it
//! forwards, and on command stops reading from the server (a client that stops reading),
//! reads again, or cuts both sides at once (a client that vanishes).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;

use socket2::{Domain, Socket, Type};

/// The receive buffer asked for the proxy's socket to the server (set before connecting,
/// so the advertised window stays that small): once the proxy stops reading, the server's
/// writes stall after a few kilobytes instead of filling megabytes of kernel buffers.
const SERVER_SIDE_RECEIVE_BUFFER: usize = 4 * 1024;
/// Bytes forwarded at once: after a hold, at most this much more reaches the client.
const CHUNK: usize = 4 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tap {
    Flowing,
    /// Not reading from the server.
    Held,
    Cut,
}

struct Shared {
    tap: Mutex<Tap>,
    changed: Condvar,
    /// Both sockets once connected, to cut them.
    sockets: Mutex<Vec<TcpStream>>,
    /// Every byte forwarded, both ways, each chunk recorded before it is passed on.
    recorded: Mutex<Vec<u8>>,
}

/// A proxy listening on loopback for one client, forwarding to a server.
pub(crate) struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on an ephemeral loopback port; the first client to connect is forwarded to
    /// `server`.
    pub(crate) fn start(server: SocketAddr) -> io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            tap: Mutex::new(Tap::Flowing),
            changed: Condvar::new(),
            sockets: Mutex::new(Vec::new()),
            recorded: Mutex::new(Vec::new()),
        });
        let serving = shared.clone();
        thread::Builder::new()
            .name("conformance-proxy".into())
            .spawn(move || {
                if let Ok((client, _)) = listener.accept() {
                    // A proxy that cannot connect drops the client, which sees it.
                    let _ = serving.forward(client, server);
                }
            })?;
        Ok(Proxy { addr, shared })
    }

    /// Where clients connect.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops reading from the server (one chunk already being read may still pass).
    pub(crate) fn hold(&self) {
        self.shared.set(Tap::Held);
    }

    /// Reads from the server again.
    pub(crate) fn release(&self) {
        self.shared.set(Tap::Flowing);
    }

    /// Every byte forwarded so far, both ways: whatever one side received through the
    /// proxy is in it.
    pub(crate) fn recorded(&self) -> Vec<u8> {
        lock(&self.shared.recorded).clone()
    }

    /// Cuts both sides at once, without any goodbye.
    pub(crate) fn cut(&self) {
        self.shared.set(Tap::Cut);
        for socket in lock(&self.shared.sockets).iter() {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
    }
}

impl Shared {
    fn set(&self, tap: Tap) {
        *lock(&self.tap) = tap;
        self.changed.notify_all();
    }

    /// Waits while held; false once cut.
    fn wait_flowing(&self) -> bool {
        let mut tap = lock(&self.tap);
        while *tap == Tap::Held {
            tap = self
                .changed
                .wait(tap)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *tap == Tap::Flowing
    }

    fn forward(self: Arc<Self>, client: TcpStream, server: SocketAddr) -> io::Result<()> {
        let upstream = connect_small(server)?;
        client.set_nodelay(true)?;
        upstream.set_nodelay(true)?;
        {
            let mut sockets = lock(&self.sockets);
            sockets.extend([client.try_clone()?, upstream.try_clone()?]);
            if *lock(&self.tap) == Tap::Cut {
                for socket in sockets.iter() {
                    let _ = socket.shutdown(Shutdown::Both);
                }
            }
        }
        let (to_server, from_client) = (upstream.try_clone()?, client.try_clone()?);
        let up = self.clone();
        thread::Builder::new()
            .name("conformance-proxy-up".into())
            .spawn(move || pump(from_client, to_server, &up, false))?;
        thread::Builder::new()
            .name("conformance-proxy-down".into())
            .spawn(move || pump(upstream, client, &self, true))?;
        Ok(())
    }
}

/// A connection to `server` whose receive buffer is [`SERVER_SIDE_RECEIVE_BUFFER`].
fn connect_small(server: SocketAddr) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::for_address(server), Type::STREAM, None)?;
    socket.set_recv_buffer_size(SERVER_SIDE_RECEIVE_BUFFER)?;
    socket.connect(&server.into())?;
    Ok(socket.into())
}

/// Copies `from` to `to`, recording each chunk, until either ends (or, when `tapped`, the
/// tap is cut), waiting before each read while a tap is held; then shuts both down.
fn pump(mut from: TcpStream, mut to: TcpStream, shared: &Shared, tapped: bool) {
    let mut buf = [0u8; CHUNK];
    while !tapped || shared.wait_flowing() {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                lock(&shared.recorded).extend_from_slice(&buf[..n]);
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
