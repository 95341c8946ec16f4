//! Limits and policies of the relay.

use core::time::Duration;

/// What happens when a user logs in while already online.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DuplicateLogin {
    /// Refuse the new session ([`crate::session::CloseReason::ALREADY_LOGGED_IN`]); the
    /// existing one is untouched. The default: a stolen key cannot kick the owner out.
    #[default]
    RejectNew,
    /// Close the existing session ([`crate::session::CloseReason::REPLACED`]) and keep the
    /// new one, for users who move between devices.
    ReplaceExisting,
}

/// The relay's bounds, all configurable, with defaults sized for a small server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayConfig {
    /// Connections of any kind held at once.
    pub max_connections: usize,
    /// Connections still in the handshake (not yet authenticated) held at once.
    pub max_handshaking: usize,
    /// Connections still in the handshake from one source address (an IPv6 /64 counts as
    /// one) held at once, so that one host cannot take every handshake place.
    pub max_handshaking_per_source: usize,
    /// The lowest port a client may ask the server to open its callback connection to;
    /// below it (the privileged ports) RegisterCallback is refused.
    pub min_callback_port: u16,
    /// Users online at once.
    pub max_users: usize,
    /// Chat requests waiting for one user's answer.
    pub max_pending_requests_per_user: usize,
    /// How long a chat request waits for an answer (the original used 30 s).
    pub request_timeout: Duration,
    /// A session silent for longer is closed (clients ping well within it).
    pub idle_timeout: Duration,
    /// Output buffered for a connection above which the relay stops reading from whoever
    /// is sending to it (backpressure).
    pub output_high_water: usize,
    /// Output buffered for a connection above which that connection is dropped as too
    /// slow to keep up.
    pub output_hard_limit: usize,
    /// The second-login policy.
    pub duplicate_login: DuplicateLogin,
    /// Whether clients may ask for the callback request channel (seed section 2.2).
    pub allow_callback: bool,
    /// A connection whose socket takes none of the bytes handed to it for this long is
    /// dropped (a peer that stops reading). Chat partners are told why.
    pub write_timeout: Duration,
    /// How long a callback connection to a client's daemon may take to open.
    pub callback_connect_timeout: Duration,
    /// How long a shutdown waits for the goodbyes to be written before closing every
    /// socket regardless.
    pub shutdown_grace: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            max_connections: 10_000,
            max_handshaking: 1_024,
            max_handshaking_per_source: 64,
            min_callback_port: 1024,
            max_users: 10_000,
            max_pending_requests_per_user: 8,
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(120),
            output_high_water: 256 * 1024,
            output_hard_limit: 1024 * 1024,
            duplicate_login: DuplicateLogin::RejectNew,
            allow_callback: true,
            write_timeout: Duration::from_secs(30),
            callback_connect_timeout: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(2),
        }
    }
}
