//! The relay target's start states (as the step programs that build them) and seeds.

use alloc::vec;
use alloc::vec::Vec;

const FLUSH: u8 = 11;

/// Logs user `u` in (the next slot).
fn login(u: u8) -> Vec<u8> {
    vec![0, u]
}

/// A request from slot `which` (id 1) with `body`, written in one piece.
fn req(which: u8, body: &[u8]) -> Vec<u8> {
    [&[2, which, 0, 1][..], body, &[0]].concat()
}

/// The user in slot `slot` asks user `user`.
fn ask(slot: u8, user: u8) -> Vec<u8> {
    [req(slot, &[2, user]), vec![FLUSH]].concat()
}

/// Users a and b log in (slots 0 and 1), a lists the users and asks b, b accepts.
fn chat(a: u8, b: u8) -> Vec<u8> {
    [
        login(a),
        login(b),
        vec![FLUSH],
        req(0, &[0]),
        ask(0, b),
        req(1, &[3, a, 1]),
        vec![FLUSH],
    ]
    .concat()
}

/// The steps that build start state `number` (1 to 9) from the empty relay; slots are in
/// login order.
pub(super) fn start_program(number: u8) -> Vec<u8> {
    match number {
        // alice, bob and carol logged in.
        1 => [login(0), login(1), login(2), vec![FLUSH]].concat(),
        // alice and bob chatting; carol logged in.
        2 => [chat(0, 1), login(2), vec![FLUSH]].concat(),
        // alice asked bob, who has not answered; carol logged in.
        3 => [login(0), login(1), login(2), vec![FLUSH], ask(0, 1)].concat(),
        // alice, a connection that never logged in, bob.
        4 => [login(0), vec![1], login(1), vec![FLUSH]].concat(),
        // alice and bob chatting; carol asked alice.
        5 => [chat(0, 1), login(2), vec![FLUSH], ask(2, 0)].concat(),
        // bob and carol chatting (slots 0 and 1); alice logged in.
        6 => [chat(1, 2), login(0), vec![FLUSH]].concat(),
        // alice logged in twice (the duplicate-login policy at work), then bob.
        7 => [
            login(0),
            vec![FLUSH],
            login(0),
            vec![FLUSH],
            login(1),
            vec![FLUSH],
        ]
        .concat(),
        // alice and bob chatting, then alice logs in again mid-chat; carol.
        8 => [chat(0, 1), login(0), vec![FLUSH], login(2), vec![FLUSH]].concat(),
        // alice, bob and carol logged in; bob and carol both asked alice (her limit).
        _ => [
            login(0),
            login(1),
            login(2),
            vec![FLUSH],
            ask(1, 0),
            ask(2, 0),
        ]
        .concat(),
    }
}

/// Seeds: from each start state, a few commands, garbage or timeouts.
pub(in crate::fuzzing) fn seeds() -> Vec<Vec<u8>> {
    vec![
        // Start 0 (empty): two raw connections, garbage, time beyond every deadline.
        [
            vec![0, 1, 1, 7, 0, 3, 0xff, 0, 1, 7, 1, 4, 0, 0, 0, 9],
            vec![FLUSH, 9, 0xff, 0xff, FLUSH, 8, 0, FLUSH],
        ]
        .concat(),
        // Start 1: alice lists users and asks bob; bob accepts; chat data both ways; bob
        // leaves.
        [
            vec![1],
            req(0, &[0]),
            ask(0, 1),
            req(1, &[3, 0, 1]),
            vec![FLUSH],
            req(0, &[5, 3, 1, 2, 3, 4]),
            req(1, &[5, 1, 9, 9]),
            vec![FLUSH],
            req(1, &[6]),
            vec![FLUSH],
        ]
        .concat(),
        // Start 2: chat data both ways, then carol asks alice and bob leaves.
        [
            vec![2],
            req(0, &[5, 1, 1]),
            req(1, &[5, 1, 2]),
            vec![FLUSH],
            ask(2, 0),
            req(1, &[6]),
            vec![FLUSH],
        ]
        .concat(),
        // Start 3: alice withdraws; bob's connection is lost; time passes.
        [
            vec![3],
            req(0, &[4]),
            vec![FLUSH, 8, 1, FLUSH, 9, 0x10, 0, FLUSH],
        ]
        .concat(),
        // Start 4: raw garbage on the raw connection; alice asks bob, who refuses.
        [
            vec![4],
            vec![7, 1, 3, 0xff, 0, 1],
            ask(0, 1),
            req(2, &[3, 0, 0]),
            vec![FLUSH],
        ]
        .concat(),
        // Start 5: alice, in a chat, accepts carol (refused: busy); carol gets alice's key;
        // alice sends a sealed garbage record and raw garbage.
        [
            vec![5],
            req(0, &[3, 2, 1]),
            req(2, &[1, 0]),
            vec![FLUSH],
            vec![5, 0, 4, 1, 2, 3, 4, 0, 1, 7, 0, 3, 0xff, 0, 1, FLUSH],
        ]
        .concat(),
        // Start 6: bob exits mid-chat; alice asks carol, who is lost; requests expire.
        [
            vec![6],
            req(0, &[7]),
            vec![FLUSH],
            ask(2, 2),
            vec![8, 1, FLUSH, 10, 9, 0x10, 0, FLUSH],
        ]
        .concat(),
        // Start 7: both alice connections send; the first is lost.
        [
            vec![7],
            req(0, &[0]),
            req(1, &[0]),
            vec![FLUSH, 8, 0, FLUSH],
        ]
        .concat(),
        // Start 8: the new alice asks carol and registers a callback; she pings.
        [
            vec![8],
            ask(2, 2),
            req(
                2,
                &[
                    9, 0x1f, 0x90, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                ],
            ),
            req(2, &[8]),
            vec![FLUSH],
        ]
        .concat(),
        // Start 9: alice accepts bob and denies carol; a third asker is refused.
        [
            vec![9],
            req(0, &[3, 1, 1]),
            req(0, &[3, 2, 0]),
            vec![FLUSH],
            req(1, &[5, 2, 4, 4]),
            vec![FLUSH],
        ]
        .concat(),
    ]
}
