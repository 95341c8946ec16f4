//! Endpoint tests: every decision the drivers used to make, made and tested here.

mod client;
mod net;
mod server;
