//! # securecom-tokio
//!
//! The async driver of securecom: it moves bytes and time between tokio sockets and the
//! state machines of [`securecom_proto`]. Nothing of the protocol lives here.
//!
//! This crate is a skeleton until the drivers land (see the project's issue tracker).
#![forbid(unsafe_code)]

pub use securecom_proto as proto;
