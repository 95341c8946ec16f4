//! The client-server handshake.
