//! The client target's seeds.

use alloc::vec;
use alloc::vec::Vec;

/// Seeds: alice asks bob and chats; bob asks alice and chats; responses of every kind.
pub(in crate::fuzzing) fn seeds() -> Vec<Vec<u8>> {
    const DELIVER: [u8; 2] = [20, 0];
    let d = |n: usize| DELIVER.repeat(n);
    vec![
        // alice requests; RequestSent; bob accepted; the handshake runs; texts both ways;
        // bob closes.
        [
            vec![2, 12, 1, 2],
            d(1),
            vec![17],
            d(3),
            vec![6, 19, 0, 0, 19, 0, 0, 6],
            d(3),
            vec![19 | 0x80, 0, 0],
            d(2),
        ]
        .concat(),
        // bob asks; alice accepts; bob's hello; texts; alice leaves.
        [
            vec![17 | 0x80],
            d(1),
            vec![4, 18],
            d(3),
            vec![19, 0, 0, 6],
            d(2),
            vec![7, 12, 2, 5],
            d(1),
        ]
        .concat(),
        // Responses and notices of every kind, an arbitrary payload, a flipped record.
        [
            vec![0, 12, 1, 0, 2, 0, 0, 1, 1, 0, 1, 1, 1, 12, 2, 9, 4],
            vec![14, 0, 2, 2, 14, 5, 3, 1, 2, 3, 14, 6, 1, 16, 3, 1, 2, 3],
            d(6),
            vec![1, 1, 9, 2, 2, 10, 40],
            d(1),
            vec![22, 0, 3],
            d(1),
        ]
        .concat(),
        // A chat, then a flipped text from bob; then the server closes.
        [
            vec![2, 17],
            d(3),
            vec![19, 0x80, 0x05],
            d(1),
            vec![23, 0],
            d(1),
            vec![11 | 0x80],
        ]
        .concat(),
    ]
}
