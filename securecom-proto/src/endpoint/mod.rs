//! Endpoints: the sans-IO owners of every socket-level decision.
//!
//! Work in progress: the limits are defined here first.

mod limits;

pub use limits::ClientLimits;
