//! Raw TCP from the test's side: silent connections, and what the other end did with them,
//! seen with a deadline or at a glance.

use std::io::{self, ErrorKind, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::Instant;

/// What became of a connection the test reads from.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Closing {
    /// The other end closed it after sending `received`: with an end of stream, or a
    /// reset when `reset`.
    Closed {
        /// Every byte that came first.
        received: Vec<u8>,
        /// Ended by a reset rather than an end of stream.
        reset: bool,
    },
    /// Still open at the deadline, after sending `received`.
    Open {
        /// Every byte that came.
        received: Vec<u8>,
    },
}

/// Opens `count` connections to `addr` that will never send a byte.
pub(crate) fn connect_silent(addr: SocketAddr, count: usize) -> io::Result<Vec<TcpStream>> {
    (0..count).map(|_| TcpStream::connect(addr)).collect()
}

/// Reads until the other end closes the connection or `deadline` passes.
pub(crate) fn wait_closed(stream: &mut TcpStream, deadline: Instant) -> io::Result<Closing> {
    let mut received = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Closing::Open { received });
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut buf) {
            Ok(0) => {
                return Ok(Closing::Closed {
                    received,
                    reset: false,
                });
            }
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) => match e.kind() {
                ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
                    return Ok(Closing::Closed {
                        received,
                        reset: true,
                    });
                }
                ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted => {}
                _ => return Err(e),
            },
        }
    }
}

/// True while the connection is open and nothing came on it (the other end neither wrote
/// nor closed), looked at without waiting.
pub(crate) fn is_quiet(stream: &TcpStream) -> io::Result<bool> {
    stream.set_nonblocking(true)?;
    let mut byte = [0u8; 1];
    let peeked = stream.peek(&mut byte);
    stream.set_nonblocking(false)?;
    match peeked {
        Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(true),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
        Ok(_) => Ok(false),
    }
}
