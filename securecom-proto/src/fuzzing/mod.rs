//! Bodies of the fuzz targets in `fuzz/fuzz_targets/`, and their seed corpora.
//!
//! Hidden, and compiled only with the `fuzzing` feature, which no normal build enables: the
//! `fuzz/` crate turns it on, and so does the facade crate's dev-dependency, so that plain
//! `cargo test --workspace` replays every corpus (`tests/fuzz_corpus.rs` in the facade).
//!
//! Nothing here changes how the protocol behaves. To get past signatures, MACs and AEAD
//! tags, the handshake targets play the *peer* honestly with a deterministic RNG and the
//! fixture PKI ([`TestRng`], seeds 1 for the client and 2 for the server): the fuzz input
//! only chooses how that genuine peer's messages are edited, dropped, duplicated,
//! reordered or replaced, and the emulated peer then signs, MACs and seals whatever it
//! ended up sending. So the machine under test sees validly encrypted but arbitrary
//! messages and can be driven into every state.
//!
//! Every target must never panic; the `assert!`s are the invariants a target checks (a
//! failed one is how it reports a bug to the fuzzer).

// The assertions below are the targets' bug reports, not error handling.
#![allow(
    clippy::panic,
    reason = "a fuzz target reports a broken invariant by panicking"
)]

use alloc::vec::Vec;

pub use crate::testkit::fixtures::{self, VALID_TIME};
pub use crate::testkit::pair::session_pair;
pub use crate::testkit::rng::TestRng;

mod bus_input;
mod chat;
mod check;
mod client;
mod client_handshake;
mod cluster;
mod deframer;
mod feed;
mod input;
mod messages;
mod node;
mod peer;
mod pem_keys;
mod pki;
mod record;
mod relay;
mod scheduler;
mod server_handshake;
mod start;

pub use chat::chat;
pub use client::{client, client_messages_shown};
pub use client_handshake::{client_handshake, client_handshake_reached};
pub use cluster::{cluster, cluster_messages_shown};
pub use deframer::deframer;
pub use feed::Reached;
pub use messages::handshake_messages;
pub use node::{node, node_reaches_remote_chat};
pub use pem_keys::pem_keys;
pub use pki::pki;
pub use record::record;
pub use relay::{relay, relay_reaches_chat};
pub use scheduler::{scheduler, scheduler_final_chat};
pub use server_handshake::{server_handshake, server_handshake_reached};

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz/fuzz_targets/*.rs` file and `fuzz/corpus/` folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("deframer", deframer),
    ("handshake_messages", handshake_messages),
    ("server_handshake", server_handshake),
    ("client_handshake", client_handshake),
    ("record", record),
    ("pki", pki),
    ("pem_keys", pem_keys),
    ("relay", relay),
    ("client", client),
    ("chat", chat),
    ("scheduler", scheduler),
    ("cluster", cluster),
    ("node", node),
];

/// A handful of small genuine inputs for `target`, written to `fuzz/corpus/<target>/` by
/// the facade's `tests/fuzz_corpus.rs` when `SECURECOM_WRITE_CORPUS` is set.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    match target {
        "deframer" => deframer::seeds(),
        "handshake_messages" => messages::seeds(),
        "server_handshake" => server_handshake::seeds(),
        "client_handshake" => client_handshake::seeds(),
        "record" => record::seeds(),
        "pki" => pki::seeds(),
        "pem_keys" => pem_keys::seeds(),
        "relay" => relay::seeds(),
        "client" => client::seeds(),
        "chat" => chat::seeds(),
        "scheduler" => scheduler::seeds(),
        "cluster" => cluster::seeds(),
        "node" => node::seeds(),
        _ => Vec::new(),
    }
}

/// The encoding of a message an honest peer builds: refusing one is a bug, which the
/// fuzzer reports as a crash.
pub(crate) fn encoded(msg: &impl crate::codec::Codec) -> alloc::vec::Vec<u8> {
    msg.to_bytes()
        .unwrap_or_else(|e| panic!("an honest message does not encode: {e}"))
}
