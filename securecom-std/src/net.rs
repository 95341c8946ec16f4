//! Thread plumbing shared by the server and the client: a stoppable accept loop and a gate
//! that pauses a reader thread.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How long stopping an acceptor may take to open the connection that wakes it.
const WAKE_TIMEOUT: Duration = Duration::from_secs(1);

/// Locks `mutex`, ignoring poisoning: the data guarded here (flags, senders) stays valid
/// even if a thread panicked while holding the lock.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A thread blocked in [`TcpListener::accept`], handing each socket to a callback.
///
/// Stopping sets a flag and opens one connection to the listener, which wakes the thread;
/// it then drops that connection and the listener, so the port is free once
/// [`Acceptor::join`] returns.
#[derive(Debug)]
pub(crate) struct Acceptor {
    stop: Arc<AtomicBool>,
    /// Closed after a failed accept until the endpoint says to accept again.
    gate: Arc<Gate>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Acceptor {
    /// Starts a thread named `name` accepting on `listener` and handing each result to
    /// `on_accept`, which returns false to stop accepting. After a failed accept the thread
    /// waits until [`Acceptor::resume`] (the endpoint decides when).
    pub(crate) fn spawn(
        name: String,
        listener: TcpListener,
        mut on_accept: impl FnMut(io::Result<(TcpStream, SocketAddr)>) -> bool + Send + 'static,
    ) -> io::Result<Acceptor> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let gate = Gate::new();
        let (flag, waiting) = (stop.clone(), gate.clone());
        let thread = thread::Builder::new().name(name).spawn(move || {
            while waiting.wait_open() {
                let accepted = listener.accept();
                if flag.load(Ordering::Acquire) {
                    return;
                }
                match accepted {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        waiting.pause();
                        if !on_accept(Err(e)) {
                            return;
                        }
                    }
                    Ok(accepted) => {
                        if !on_accept(Ok(accepted)) {
                            return;
                        }
                    }
                }
            }
        })?;
        Ok(Acceptor {
            stop,
            gate,
            addr,
            thread: Some(thread),
        })
    }

    /// Lets the thread accept again after a failure.
    pub(crate) fn resume(&self) {
        self.gate.open();
    }

    /// The address accepted on.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Asks the thread to stop, without waiting for it.
    pub(crate) fn stop(&mut self) {
        if self.stop.swap(true, Ordering::AcqRel) {
            return;
        }
        self.gate.close();
        let woke = TcpStream::connect_timeout(&wake_addr(self.addr), WAKE_TIMEOUT).is_ok();
        if !woke
            && let Some(thread) = &self.thread
            && !thread.is_finished()
        {
            // Nothing will wake it: leave it blocked rather than block here.
            tracing::warn!(addr = %self.addr, "could not wake the accept thread");
            self.thread = None;
        }
    }

    /// Stops the thread and waits for it to end (the listener is then closed).
    pub(crate) fn join(mut self) {
        self.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where to connect to reach a listener bound to `addr` (the loopback address of the same
/// family for a wildcard bind).
fn wake_addr(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GateState {
    Open,
    Paused,
    Closed,
}

/// Lets a reader thread run, pauses it before its next read, or tells it to end.
#[derive(Debug)]
pub(crate) struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

impl Gate {
    /// An open gate.
    pub(crate) fn new() -> Arc<Gate> {
        Arc::new(Gate {
            state: Mutex::new(GateState::Open),
            changed: Condvar::new(),
        })
    }

    fn set(&self, state: GateState) {
        let mut current = lock(&self.state);
        if *current != GateState::Closed {
            *current = state;
        }
        self.changed.notify_all();
    }

    /// Lets the reader read.
    pub(crate) fn open(&self) {
        self.set(GateState::Open);
    }

    /// Stops the reader before its next read.
    pub(crate) fn pause(&self) {
        self.set(GateState::Paused);
    }

    /// Ends the reader (for good).
    pub(crate) fn close(&self) {
        self.set(GateState::Closed);
    }

    /// Waits while paused; true when the reader may read, false when it must end.
    pub(crate) fn wait_open(&self) -> bool {
        let mut state = lock(&self.state);
        loop {
            match *state {
                GateState::Open => return true,
                GateState::Closed => return false,
                GateState::Paused => {
                    state = self
                        .changed
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acceptor_stops_and_frees_its_port() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let acceptor = Acceptor::spawn("test-accept".into(), listener, move |accepted| {
            accepted.is_ok_and(|(_, peer)| tx.send(peer).is_ok())
        })
        .unwrap();
        let addr = acceptor.local_addr();
        let _client = TcpStream::connect(addr).unwrap();
        rx.recv_timeout(Duration::from_secs(10)).unwrap();
        acceptor.join();
        // The listener is closed: the port can be bound again.
        TcpListener::bind(addr).unwrap();
    }

    #[test]
    fn gate_pauses_and_closes() {
        let gate = Gate::new();
        assert!(gate.wait_open());
        gate.pause();
        let g = gate.clone();
        let waiter = thread::spawn(move || g.wait_open());
        gate.open();
        assert!(waiter.join().unwrap());
        gate.pause();
        let g = gate.clone();
        let waiter = thread::spawn(move || g.wait_open());
        gate.close();
        assert!(!waiter.join().unwrap());
        gate.open();
        assert!(!gate.wait_open(), "closed is final");
    }
}
