//! Endpoint tests: every decision the drivers used to make, made and tested here.

mod client;
mod contract;
mod net;
mod server;
