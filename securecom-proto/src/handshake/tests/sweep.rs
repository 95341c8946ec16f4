//! Flipping any single bit of any handshake flight makes the handshake fail cleanly: every
//! bit of every message, not a sample.

use super::*;

#[test]
fn every_bit_flip_of_every_handshake_message_fails_cleanly() {
    // The genuine flights, to know their sizes.
    let mut sizes = [0usize; 4];
    assert!(
        Run::genuine("alice")
            .drive(|i, f| sizes[i] = f.len())
            .is_established()
    );
    let mut runs = 0;
    for (flight, &size) in sizes.iter().enumerate() {
        for bit in 0..size * 8 {
            let outcome = Run::genuine("alice").drive(|i, f| {
                if i == flight {
                    f[bit / 8] ^= 1 << (bit % 8);
                }
            });
            assert!(
                !outcome.is_established(),
                "flight {flight} bit {bit}: handshake succeeded"
            );
            runs += 1;
        }
    }
    assert_eq!(runs, sizes.iter().sum::<usize>() * 8);
}
