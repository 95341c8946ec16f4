//! Random interleavings of commands from several clients never panic, never deliver a
//! chat message to anyone outside that chat, and keep the relay consistent (checked after
//! every delivery round by `Relay::check_invariants`: a user is in at most one chat, chat
//! membership is symmetric, nothing is left of a user after they leave).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::client::ChatStatus;

const USERS: [&str; 3] = ["alice", "bob", "carol"];

#[derive(Clone, Copy, Debug)]
enum Op {
    List(usize),
    Request(usize, usize),
    Accept(usize),
    Deny(usize),
    Withdraw(usize),
    Say(usize),
    Leave(usize),
    Exit(usize),
    Kill(usize),
    Login(usize),
    Advance(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let u = 0..USERS.len();
    prop_oneof![
        1 => u.clone().prop_map(Op::List),
        3 => (u.clone(), u.clone()).prop_map(|(a, b)| Op::Request(a, b)),
        3 => u.clone().prop_map(Op::Accept),
        1 => u.clone().prop_map(Op::Deny),
        1 => u.clone().prop_map(Op::Withdraw),
        4 => u.clone().prop_map(Op::Say),
        1 => u.clone().prop_map(Op::Leave),
        1 => u.clone().prop_map(Op::Exit),
        1 => u.clone().prop_map(Op::Kill),
        2 => u.clone().prop_map(Op::Login),
        1 => (0u8..40).prop_map(Op::Advance),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_command_interleavings_keep_the_relay_consistent(ops in proptest::collection::vec(op(), 1..40)) {
        let mut sim = World::with_users(&USERS);
        let mut sent: Vec<(String, String, String)> = Vec::new(); // (from, to, text)
        let mut counter = 0u32;
        for op in ops {
            match op {
                Op::Login(i) => {
                    if !sim.is_online(USERS[i]) || !sim.peer(USERS[i]).unwrap().connected {
                        sim.remove(USERS[i]);
                        sim.login(USERS[i]);
                    }
                }
                Op::Advance(s) => sim.wait(Duration::from_secs(u64::from(s))),
                Op::Kill(i) => {
                    if sim.peer(USERS[i]).is_some_and(|c| c.connected) {
                        sim.kill(USERS[i]);
                    }
                }
                other => {
                    let i = match other {
                        Op::List(i) | Op::Request(i, _) | Op::Accept(i) | Op::Deny(i)
                        | Op::Withdraw(i) | Op::Say(i) | Op::Leave(i) | Op::Exit(i) => i,
                        _ => unreachable!(),
                    };
                    let user = USERS[i];
                    if !sim.is_online(user) || !sim.peer(user).unwrap().connected {
                        continue;
                    }
                    let peer = match sim.client(user).status() {
                        ChatStatus::Chatting(p) => Some(String::from(p.as_str())),
                        _ => None,
                    };
                    counter += 1;
                    let text = alloc::format!("{user}>{}#{counter}", peer.clone().unwrap_or_default());
                    let t = text.clone();
                    let _ = sim.act(user, move |c, now, rng| match other {
                        Op::List(_) => c.list_users(now),
                        Op::Request(_, j) => c.request_chat(now, &name(USERS[j]), rng),
                        Op::Accept(_) => c.accept(now, rng),
                        Op::Deny(_) => c.deny(now),
                        Op::Withdraw(_) => c.withdraw_request(now),
                        Op::Say(_) => c.send_text(now, &t, rng),
                        Op::Leave(_) => c.leave_chat(now),
                        Op::Exit(_) => c.exit(now),
                        _ => Ok(()),
                    });
                    if let (Op::Say(_), Some(p)) = (&other, peer) {
                        sent.push((String::from(user), p, text));
                    }
                }
            }
            sim.relay.check_invariants().map_err(TestCaseError::fail)?;
            for user in USERS {
                if sim.peer(user).is_none() {
                    continue;
                }
                for (from, text) in World::messages(&sim.events(user)) {
                    // Every message shown was sent by `from` to exactly this user.
                    prop_assert!(
                        sent.iter().any(|(f, t, x)| *f == from && t == user && *x == text),
                        "{user} was shown {text:?} from {from}"
                    );
                }
            }
            // Chat state agrees between client and relay for settled chats.
            for user in USERS {
                if let Some(peer) = sim.relay.chat_peer(&name(user)) {
                    prop_assert!(sim.relay.chat_peer(peer) == Some(&name(user)));
                }
            }
        }
    }
}
