//! Random schedules of genuine, corrupted, duplicated, dropped and reordered messages never
//! panic and never establish a session unless the genuine exchange happened.

use alloc::vec::Vec;

use proptest::prelude::*;

use super::*;

/// What happens to one flight on the wire, frame by frame.
#[derive(Clone, Debug)]
enum Mutation {
    Deliver,
    Drop(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Corrupt { frame: usize, byte: usize, mask: u8 },
    Truncate(usize),
    Inject(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => Just(Mutation::Deliver),
        1 => any::<usize>().prop_map(Mutation::Drop),
        1 => any::<usize>().prop_map(Mutation::Duplicate),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        2 => (any::<usize>(), any::<usize>(), 1u8..=255)
            .prop_map(|(frame, byte, mask)| Mutation::Corrupt { frame, byte, mask }),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => proptest::collection::vec(any::<u8>(), 0..80).prop_map(Mutation::Inject),
    ]
}

/// Applies `m` to `flight`; returns whether the bytes still equal the genuine ones.
fn apply(m: &Mutation, flight: &mut Vec<u8>) -> bool {
    let original = flight.clone();
    let mut frames = split_frames(flight);
    let n = frames.len();
    if n == 0 {
        return matches!(m, Mutation::Deliver);
    }
    match m {
        Mutation::Deliver => {}
        Mutation::Drop(i) => {
            frames.remove(i % n);
        }
        Mutation::Duplicate(i) => {
            let f = frames[i % n].clone();
            frames.insert(i % n, f);
        }
        Mutation::Swap(a, b) => frames.swap(a % n, b % n),
        Mutation::Corrupt { frame, byte, mask } => {
            let f = &mut frames[frame % n];
            let len = f.len();
            f[byte % len] ^= mask;
        }
        Mutation::Truncate(cut) => {
            let all = frames.concat();
            frames = alloc::vec![all[..cut % all.len()].to_vec()];
        }
        Mutation::Inject(bytes) => frames.insert(bytes.len() % (n + 1), bytes.clone()),
    }
    *flight = frames.concat();
    *flight == original
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_message_schedules_never_establish_unless_genuine(
        mutations in proptest::collection::vec(mutation(), 4),
        client_seed in 0u64..4,
        server_seed in 0u64..4,
    ) {
        let mut genuine = true;
        let outcome = Run::new(client_config("bob"), client_seed, server_seed).drive(|i, flight| {
            genuine &= apply(&mutations[i], flight);
        });
        if genuine {
            prop_assert!(outcome.is_established(), "genuine exchange failed: {:?}", outcome);
        } else {
            prop_assert!(!outcome.is_established(), "altered exchange established: {:?}", mutations);
        }
    }
}
