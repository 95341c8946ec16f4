//! The scheduler's seeds.

use alloc::vec;
use alloc::vec::Vec;

/// Seeds: from the idle start (0), an honest chat; one with dropped, duplicated and
/// altered chat data; one with stream faults and a closed connection; one with reflection,
/// injection and misrouting. From the chatting starts (1 and 2), texts under a relay that
/// alters and reorders them, and stream faults before a leave.
pub(in crate::fuzzing) fn seeds() -> Vec<Vec<u8>> {
    const PUMP: u8 = 19;
    const BOB: u8 = 0x80;
    let from_idle = [
        // Honest: request, accept, texts both ways, leave.
        vec![0, 0, PUMP, 1 | BOB, PUMP, 3, 3 | BOB, 3, PUMP, 4, PUMP],
        // The relay drops, duplicates, alters, reflects, injects and reorders chat data.
        [
            vec![12, 0, 0, 0, 0, 1, 2, 5, 3, 1, 6, 7, 1],
            vec![
                0,
                PUMP,
                1 | BOB,
                PUMP,
                3,
                PUMP,
                3,
                PUMP,
                3 | BOB,
                PUMP,
                3,
                PUMP,
                3,
                PUMP,
            ],
        ]
        .concat(),
        // Stream faults: a chunk is held, duplicated, swapped, flipped; time passes;
        // bob's connection is closed.
        vec![
            0,
            0,
            5,
            7,
            6,
            8 | BOB,
            1 | BOB,
            5 | BOB,
            10,
            0,
            7 | BOB,
            6,
            8,
            15,
            1,
            0,
            3,
            8,
            3,
            5,
            7,
            6,
            PUMP,
            17,
            200,
            PUMP,
            16 | BOB,
            PUMP,
        ],
        // Reflection, injection and misrouting.
        vec![
            0,
            0,
            5,
            12,
            0,
            13,
            1,
            3,
            1,
            2,
            3,
            14,
            0,
            5 | BOB,
            14 | BOB,
            0,
            6,
            14,
            1,
            PUMP,
        ],
    ];
    let mut seeds: Vec<Vec<u8>> = from_idle
        .into_iter()
        .map(|s| [vec![0], s].concat())
        .collect();
    // Start 1: the relay forwards, alters, duplicates and reorders; texts both ways.
    seeds.push(vec![
        1,
        6,
        0,
        5,
        2,
        3,
        0,
        0,
        3,
        PUMP,
        3 | BOB,
        PUMP,
        3,
        3,
        PUMP,
        3 | BOB,
        PUMP,
        4,
        PUMP,
    ]);
    // Start 2: a text each way is held, flipped and swapped in the streams; bob leaves.
    seeds.push(vec![
        2,
        0,
        3,
        5,
        3,
        5,
        11,
        0,
        15,
        0,
        0,
        3,
        7,
        7,
        6,
        8 | BOB,
        3 | BOB,
        PUMP,
        4 | BOB,
        PUMP,
    ]);
    seeds
}
