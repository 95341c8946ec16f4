//! The relay cluster on NATS (issue 10), tested against a real `nats-server`.

// A crate root finds its modules beside it (tests/), not in tests/cluster/: hence the path.
#[path = "cluster/nats.rs"]
mod nats;
