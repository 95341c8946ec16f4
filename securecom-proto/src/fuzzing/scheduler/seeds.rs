//! The scheduler's seeds.

use alloc::vec;
use alloc::vec::Vec;

/// Seeds: an honest chat; one with dropped, duplicated and altered chat data; one with
/// stream faults and a closed connection.
pub(in crate::fuzzing) fn seeds() -> Vec<Vec<u8>> {
    const PUMP: u8 = 19;
    const BOB: u8 = 0x80;
    vec![
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
    ]
}
