//! Random schedules of user commands, stalls and time against the driving contract: at
//! most one transmit per socket, nothing sent on a closed socket, nothing closed twice,
//! timers that never stay at or before `now` after `handle_timeout`, and the relay's own
//! invariants; the endpoints never livelock (the network's drive is bounded).

use core::time::Duration;

use proptest::prelude::*;

use super::net::Net;
use crate::endpoint::ClientLimits;
use crate::identity::Username;
use crate::relay::RelayConfig;
use crate::testkit::TestRng;

const NAMES: [&str; 3] = ["alice", "bob", "carol"];

#[derive(Clone, Debug)]
enum Op {
    Advance(u64),
    Request(usize, usize),
    Accept(usize),
    Deny(usize),
    Send(usize, usize),
    Leave(usize),
    List(usize),
    Exit(usize),
    ToggleStall(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let who = 0..NAMES.len();
    prop_oneof![
        (0u64..8_000).prop_map(Op::Advance),
        (who.clone(), who.clone()).prop_map(|(a, b)| Op::Request(a, b)),
        who.clone().prop_map(Op::Accept),
        who.clone().prop_map(Op::Deny),
        (who.clone(), 1usize..3_000).prop_map(|(a, n)| Op::Send(a, n)),
        who.clone().prop_map(Op::Leave),
        who.clone().prop_map(Op::List),
        who.clone().prop_map(Op::Exit),
        who.prop_map(Op::ToggleStall),
    ]
}

fn run(ops: &[Op]) {
    let mut net = Net::new(RelayConfig {
        write_timeout: Duration::from_secs(5),
        output_high_water: 4 * 1024,
        output_hard_limit: 64 * 1024,
        request_timeout: Duration::from_secs(10),
        ..RelayConfig::default()
    });
    for name in NAMES {
        net.connect(name, ClientLimits::default());
    }
    let mut rng = TestRng::new(11);
    for op in ops {
        let now = net.now;
        match *op {
            Op::Advance(ms) => net.advance(Duration::from_millis(ms)),
            Op::ToggleStall(who) => {
                let conn = net.peer(NAMES[who]).conn;
                if !net.stalled.remove(&conn) {
                    net.stalled.insert(conn);
                }
            }
            _ => {
                let who = match *op {
                    Op::Request(a, _)
                    | Op::Accept(a)
                    | Op::Deny(a)
                    | Op::Send(a, _)
                    | Op::Leave(a)
                    | Op::List(a)
                    | Op::Exit(a) => a,
                    Op::Advance(_) | Op::ToggleStall(_) => 0,
                };
                if let Some(client) = net.peer(NAMES[who]).endpoint.chat() {
                    // Refusals are fine here: the schedule is random.
                    let _ = match *op {
                        Op::Request(_, to) => {
                            client.request_chat(now, &Username::new(NAMES[to]).unwrap(), &mut rng)
                        }
                        Op::Accept(_) => client.accept(now, &mut rng),
                        Op::Deny(_) => client.deny(now),
                        Op::Send(_, n) => client.send_text(now, &"m".repeat(n), &mut rng),
                        Op::Leave(_) => client.leave_chat(now),
                        Op::List(_) => client.list_users(now),
                        Op::Exit(_) => client.exit(now),
                        Op::Advance(_) | Op::ToggleStall(_) => Ok(()),
                    };
                }
                net.drive();
            }
        }
        net.server.relay().check_invariants().unwrap();
    }
    // However it went, time alone settles everything: every stalled socket is given up
    // within the write timeout, and every endpoint's timer stays ahead of the clock.
    net.advance(Duration::from_secs(6));
    for (socket, since) in &net.outstanding {
        assert!(
            net.now.saturating_duration_since(*since) < Duration::from_secs(5),
            "{socket:?} kept a transmit past the write timeout"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_schedules_keep_the_driving_contract(ops in proptest::collection::vec(op(), 1..40)) {
        run(&ops);
    }
}

/// Found by the proptest: a stalled socket dropped at its write deadline made the relay
/// schedule the closing connection's linger from the last time it had seen (not `now`),
/// leaving a deadline already due after `handle_timeout`.
#[test]
fn a_socket_dropped_at_its_write_deadline_leaves_no_deadline_in_the_past() {
    run(&[
        Op::Advance(6093),
        Op::Advance(0),
        Op::Advance(0),
        Op::Advance(3907),
        Op::ToggleStall(2),
        Op::List(2),
        Op::Advance(4000),
    ]);
}
