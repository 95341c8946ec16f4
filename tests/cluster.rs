//! The relay cluster on NATS (issue 10), tested against a real `nats-server`: three relay
//! nodes over real TCP, real clients, the real NATS client. Each test starts its own
//! nats-server on a free loopback port with a temporary store and stops it. Without the
//! binary the tests print how to install it and pass, unless `SECURECOM_REQUIRE_NATS=1`
//! (set by `.ci/run`) makes that a failure.

// A crate root finds its modules beside it (tests/), not in tests/cluster/: hence the paths.
#[path = "cluster/nats.rs"]
mod nats;

#[path = "cluster/node.rs"]
mod node;

#[path = "cluster/scenarios.rs"]
mod scenarios;

#[path = "cluster/stalled_bus.rs"]
mod stalled_bus;

/// The conformance suite's client side, reused: blocking handles over the tokio driver,
/// event waits with deadlines, the fixture users.
#[path = "conformance"]
#[allow(
    dead_code,
    reason = "the cluster tests use part of the conformance kit"
)]
mod kit {
    pub(crate) mod client;
    pub(crate) mod fixtures;
    pub(crate) mod harness;
    pub(crate) mod steps;
    pub(crate) mod tokio_driver;
}
