//! The client endpoint's bounds on the sockets it owns.

use core::time::Duration;

/// Bounds the client endpoint puts on its sockets: the connection to the server and the
/// callback daemon's inbound connections.
///
/// ```
/// use core::time::Duration;
/// use securecom_proto::endpoint::ClientLimits;
/// let limits = ClientLimits {
///     max_callback_connections: 2,
///     ..ClientLimits::default()
/// };
/// assert_eq!(limits.callback_hello_timeout, Duration::from_secs(10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientLimits {
    /// Callback connections held at once; more are closed as soon as they are accepted.
    pub max_callback_connections: usize,
    /// A callback connection that has not presented the server's hello after this long is
    /// closed, so silent connections cannot hold the daemon's places.
    pub callback_hello_timeout: Duration,
    /// A server socket that takes none of the bytes handed to it for this long is given up.
    pub write_timeout: Duration,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            max_callback_connections: 4,
            callback_hello_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
        }
    }
}
