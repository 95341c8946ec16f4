//! The node target's seeds, and the step program of its chat start state.

use alloc::vec;
use alloc::vec::Vec;

use super::op::{
    CLAIM, EDIT, FORGE, LIFE, LINK, PRESENCE, PUMP, RAW, REMOTE, REPLAY, SAY, TIME, USER,
};

/// `relay` target steps (`USER` then the relay step): session `slot` sends request `body`
/// (id 1) in one piece; the driver writes out.
pub(super) fn request(slot: u8, body: &[u8]) -> Vec<u8> {
    [&[USER, 2, slot, 0, 1][..], body, &[0, USER, 11]].concat()
}

/// Bus bodies (`bus_input::body`): kind, from, to, then the kind's fields. Users by
/// fixture index: 0 alice, 1 bob, 2 carol.
const REQUEST: u8 = 2;
const RESULT: u8 = 3;
const ACCEPTED: u8 = 4;
const DENIED: u8 = 5;
const CHAT_DATA: u8 = 8;
const LEFT: u8 = 9;

/// Played node `p` (0 is `n2`, 1 is `n3`) sends `body` to the node under test, and the
/// bus delivers everything.
fn say(p: u8, body: &[u8]) -> Vec<u8> {
    [&[SAY, p][..], body, &[PUMP]].concat()
}

/// Alice (session 0) asks carol (on `n3`), whose node says the request arrived and that
/// she accepted: the chat of start states 4 to 7.
pub(super) fn chat_with_carol() -> Vec<u8> {
    [
        request(0, &[2, 2]),
        say(1, &[RESULT, 0, 2, 0]),
        say(1, &[ACCEPTED, 2, 0, 2]),
    ]
    .concat()
}

/// Seeds from each kind of start state: requests across nodes answered, denied and
/// accepted, chat data both ways; a chat across nodes broken by the bus, a restart and
/// hostile input; logins racing across nodes.
pub(in crate::fuzzing) fn seeds() -> Vec<Vec<u8>> {
    vec![
        // Alice and bob on the node, carol on n2: alice asks carol, n2 says it arrived,
        // carol accepts; alice sends chat data, carol answers; bob asks carol (busy).
        [
            vec![0],
            request(0, &[0]),
            request(0, &[2, 2]),
            say(0, &[RESULT, 0, 2, 0]),
            say(0, &[ACCEPTED, 2, 0, 2]),
            request(0, &[5, 2, 1, 2, 3]),
            say(0, &[CHAT_DATA, 2, 0, 2, 9, 8, 7]),
            request(1, &[2, 2]),
            say(0, &[RESULT, 1, 2, 4]),
        ]
        .concat(),
        // Carol on n2 asks bob, who accepts; the chat runs both ways; carol leaves.
        [
            vec![1],
            say(0, &[REQUEST, 2, 1, 2]),
            request(1, &[3, 2, 1]),
            request(1, &[5, 1, 4, 5]),
            say(0, &[CHAT_DATA, 2, 1, 1, 6, 6]),
            say(0, &[LEFT, 2, 1, 0]),
            vec![PUMP],
        ]
        .concat(),
        // Alice chatting with carol on n3: n3 restarts mid-chat (the chat ends), bob on n2
        // asks alice, bob logs in again on n2 and on n3, carol's node denies a request
        // that was never made; time passes.
        [
            vec![4],
            request(0, &[5, 1, 1]),
            vec![LIFE, 0x81],
            say(0, &[REQUEST, 1, 0, 1]),
            vec![REMOTE, 0, 1, REMOTE, 1, 1],
            say(1, &[DENIED, 0, 2]),
            vec![TIME, 0x45],
        ]
        .concat(),
        // Alice chatting with carol on n3, hostile bus input: a forged envelope, a forged
        // presence entry, claim results nobody asked for, replays, raw bytes; the node's
        // deliveries edited; its link lost and back.
        [
            vec![5],
            vec![FORGE, 0, 0, 0x01, 2, 0, CHAT_DATA, 2, 0, 2, 1, 1],
            vec![PRESENCE, 0, 0x20, 2, 0, 0, 0, 5, 2],
            vec![CLAIM, 0, 0, 0],
            vec![REPLAY, 0, 0, 0, 1],
            vec![RAW, 3, 1, 2, 3],
            say(1, &[CHAT_DATA, 2, 0, 0, 1]),
            vec![EDIT, 1, 0, EDIT, 2, 0, EDIT, 0, 0],
            vec![LINK, 0, PUMP, LINK, 0, PUMP],
            request(0, &[0]),
        ]
        .concat(),
    ]
}
