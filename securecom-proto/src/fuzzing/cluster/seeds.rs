//! The cluster target's seeds.

use alloc::vec;
use alloc::vec::Vec;

use super::cmd::{ACCEPT, DENY, GET_KEY, LEAVE, LIST, REQUEST, SAY, WITHDRAW};
use super::op::{
    CLAIM, DELIVER, DROP, DUPLICATE, FLAGS, FORGE, LINK, LOGIN, NODE, PRESENCE, PUMP, RAW, REORDER,
    REPLAY, TIME, USER,
};

/// Seeds, each from a start state that has done the slow part (logins, a chat across
/// nodes): texts and commands across nodes; hostile bus input in a chat; the bus and
/// nodes failing around a held login; held logins racing for a name.
pub(in crate::fuzzing) fn seeds() -> Vec<Vec<u8>> {
    // User `u` (alice, bob, carol, then released logins) runs command `c` (naming user `t`).
    let user = |u: u8, c: u8, t: u8| vec![USER, u, c, t, PUMP];
    let say = |u: u8| user(u, SAY, 0);
    vec![
        // Three nodes, alice on n1, bob on n2, carol on n3, alice and bob chatting: list,
        // texts both ways, bob leaves; carol asks alice, who denies.
        [
            vec![0x10],
            user(0, LIST, 0),
            say(0),
            say(1),
            say(0),
            user(1, LEAVE, 0),
            user(2, GET_KEY, 0),
            user(2, REQUEST, 0),
            user(0, DENY, 2),
        ]
        .concat(),
        // In a chat across nodes past a ratchet step each way, hostile bus input: forged
        // chat data from alice to bob on n2 (which ends the chat at bob's client), raw
        // garbage, an authenticated header with a garbage body, an arbitrary
        // authenticated message, a forged presence entry for bob on n3, a genuine entry put
        // back into the store, claim results for connections that claimed nothing,
        // replays as is and sealed afresh; then time passes and alice and bob speak on.
        [
            vec![0x90],
            say(0),
            say(1),
            vec![FORGE, 1, 0, 2, 0, 0, 8, 0, 1, 3, 1, 2, 3, 4],
            vec![RAW, 0, 4, 1, 2, 3, 4],
            vec![FORGE, 2, 2, 3, 0, 5, 1, 2, 3, 4, 5],
            vec![FORGE, 0, 3, 3, 9, 9, 9],
            vec![
                PRESENCE, 0, 0x20, 1, 5, 2, 0, 0, 0, 1, PRESENCE, 0, 0x40, 0, PUMP,
            ],
            vec![CLAIM, 1, 0, 0, 7, CLAIM, 0, 1, 0, CLAIM, 2, 2, 0],
            vec![REPLAY, 1, 0, 0, 0, REPLAY, 1, 0, 3, 1],
            vec![TIME, 0x45, PUMP],
            say(0),
            say(1),
        ]
        .concat(),
        // Replace policy, in a chat: alice's text is duplicated, moved and dropped on the
        // bus; n2 loses the bus past the node timeout and comes back; claim results are
        // lost while bob's held login on n3 completes; n3 falls silent and restarts; n1
        // says goodbye.
        [
            vec![0x12],
            vec![USER, 0, SAY, 0],
            vec![DUPLICATE, 0, REORDER, 0, DELIVER, 1, DROP, 0, PUMP],
            vec![LINK, 1, PUMP, TIME, 0x83, LINK, 1, PUMP],
            vec![FLAGS, 2, LOGIN, 1, 2, PUMP, FLAGS, 0],
            vec![NODE, 2, 0, TIME, 0x83, NODE, 2, 1, PUMP],
            vec![NODE, 0, 2, PUMP, TIME, 0x45, PUMP],
        ]
        .concat(),
        // Two nodes, the watch before claim results, carol on n1 with alice: alice asks
        // carol and withdraws, bob asks alice; a store that never answers while carol's
        // held login on n2 goes on, then one whose claims fail while another held login
        // does; bob's socket dies.
        [
            vec![1 | 4 | 8],
            user(0, REQUEST, 2),
            user(0, WITHDRAW, 0),
            user(1, REQUEST, 0),
            user(0, ACCEPT, 1),
            say(1),
            vec![FLAGS, 8, LOGIN, 2, 1, PUMP, TIME, 0x4c, PUMP],
            vec![FLAGS, 4, LOGIN, 0, 1, PUMP, FLAGS, 0],
            vec![LOGIN, 0x81, 0, PUMP, TIME, 0x83, PUMP],
        ]
        .concat(),
        // Two nodes, alice and bob: carol's held logins on n1 and n2 race for her name
        // (refused duplicates: one wins); alice asks carol, whichever login won accepts,
        // and they speak.
        [
            vec![1],
            vec![LOGIN, 2, 0, LOGIN, 2, 1, PUMP],
            user(0, REQUEST, 2),
            user(2, ACCEPT, 0),
            user(3, ACCEPT, 0),
            say(0),
            say(2),
            say(3),
        ]
        .concat(),
    ]
}
