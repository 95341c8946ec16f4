//! The relay target's seeds.

use alloc::vec;
use alloc::vec::Vec;

/// Seeds: logins, a chat request accepted, chat data, garbage, timeouts.
pub(in crate::fuzzing) fn seeds() -> Vec<Vec<u8>> {
    const FLUSH: u8 = 11;
    let login = |u: u8| vec![0, u];
    let req = |which: u8, body: &[u8]| [&[2, which, 0, 1][..], body, &[0]].concat();
    // Users a and b log in (slots 0 and 1), a asks b, b accepts.
    let chat = |a: u8, b: u8| {
        [
            login(a),
            login(b),
            vec![FLUSH],
            req(0, &[0]),
            req(0, &[2, b]),
            vec![FLUSH],
            req(1, &[3, a, 1]),
            vec![FLUSH],
        ]
        .concat()
    };
    vec![
        // alice and bob log in; alice lists users and asks bob; bob accepts; chat data
        // both ways; leave.
        [
            chat(0, 1),
            req(0, &[5, 3, 1, 2, 3, 4]),
            req(1, &[5, 1, 9, 9]),
            vec![FLUSH],
            req(1, &[6]),
            vec![FLUSH],
        ]
        .concat(),
        // alice logs in, sends a sealed garbage record and raw garbage; a raw connection;
        // time passes beyond every deadline; alice's connection is lost.
        [
            login(0),
            vec![5, 0, 4, 1, 2, 3, 4, 0, 1, 7, 1, 3, 0xff, 0, 1, FLUSH],
            vec![9, 0xff, 0xff, FLUSH, 8, 0, FLUSH],
        ]
        .concat(),
        // bob and carol chat; carol exits; bob is lost mid-request from alice.
        [
            chat(1, 2),
            login(0),
            req(1, &[0]),
            req(1, &[7]),
            vec![FLUSH],
            req(2, &[2, 1]),
            vec![8, 0, FLUSH, 10],
        ]
        .concat(),
        // alice registers a callback, pings, and asks carol, who is not there; requests
        // expire.
        [
            login(0),
            req(
                0,
                &[
                    9, 0x1f, 0x90, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                ],
            ),
            req(0, &[8]),
            req(0, &[2, 2]),
            vec![FLUSH, 9, 0x10, 0, FLUSH],
        ]
        .concat(),
    ]
}
