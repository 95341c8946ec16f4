//! # securecom-std
//!
//! The blocking driver of securecom: it moves bytes and time between `std::net` sockets and the
//! state machines of [`securecom_proto`]. Nothing of the protocol lives here.
//!
//! This crate is a skeleton until the drivers land (see the project's issue tracker).
#![forbid(unsafe_code)]

pub use securecom_proto as proto;
