//! Diagnosis, not a criterion benchmark: where a handshake's time goes, phase by phase,
//! against the floor's primitives timed **in the same loop**, interleaved with the
//! handshakes, so both run with the same (colder) caches. `benches/handshake.rs` times the
//! floor in a tight loop of its own, where its code and tables stay hot.
//!
//! Run: `cargo bench --bench handshake_phases`. Reading it: docs/BENCHMARKS.md.

mod support;

use std::hint::black_box;
use std::time::{Duration, Instant as Clock};

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use x25519_dalek::{EphemeralSecret, PublicKey};

use support::{Securecom, sys_rng};

const WARM_UP: usize = 300;
const ROUNDS: usize = 3000;

/// Accumulates the time of each named step.
struct Steps<const N: usize> {
    names: [&'static str; N],
    total: [Duration; N],
}

impl<const N: usize> Steps<N> {
    fn new(names: [&'static str; N]) -> Self {
        Steps {
            names,
            total: [Duration::ZERO; N],
        }
    }

    /// Adds the gaps between consecutive marks (N + 1 of them), one per step.
    fn add(&mut self, marks: &[Clock]) {
        assert_eq!(marks.len(), N + 1);
        for (total, pair) in self.total.iter_mut().zip(marks.windows(2)) {
            *total += pair[1] - pair[0];
        }
    }

    fn print(&self, title: &str) -> f64 {
        println!("| {title} | mean µs |\n|---|---|");
        let mut sum = 0.0;
        for (name, total) in self.names.iter().zip(self.total) {
            let us = total.as_secs_f64() * 1e6 / ROUNDS as f64;
            sum += us;
            println!("| {name} | {us:.1} |");
        }
        println!("| total | {sum:.1} |\n");
        sum
    }
}

fn main() {
    let securecom = Securecom::new();
    let mut rng = sys_rng();
    let mut handshake = Steps::new([
        "both start (2 keygens, hellos)",
        "server flight (DH, handshake keys, sign, 3 records)",
        "client flight (DH, chain + CRL, decode, verify, sign, finished)",
        "server: client authenticated, session keys, Welcome",
        "client: Welcome, session",
    ]);
    let mut floor = Steps::new([
        "2 keygens",
        "server: DH, sign",
        "client: DH, verify chain, decode, verify, sign",
        "server: verify",
        "2 key schedules (all secrets and record keys)",
    ]);

    // The floor's inputs, as in benches/handshake.rs.
    let server_key = SigningKey::from_bytes(&[1; 32]);
    let client_key = SigningKey::from_bytes(&[2; 32]);
    let server_pub = server_key.verifying_key().to_bytes();
    let client_pub = client_key.verifying_key();
    let leaf = vec![9u8; 400];
    let leaf_sig = server_key.sign(&leaf);

    for round in 0..WARM_UP + ROUNDS {
        let mut marks = Vec::with_capacity(6);
        let sessions = securecom.handshake_marked(&mut rng, || marks.push(Clock::now()));
        black_box(sessions);

        // The floor's primitives in the handshake's order, on a fresh transcript.
        let transcript = round.to_be_bytes();
        let g = Clock::now();
        let client_secret = EphemeralSecret::random_from_rng(&mut rng);
        let client_public = PublicKey::from(&client_secret);
        let server_secret = EphemeralSecret::random_from_rng(&mut rng);
        let server_public = PublicKey::from(&server_secret);
        let h = Clock::now();
        let shared_s = server_secret.diffie_hellman(&client_public);
        let server_sig = server_key.sign(&transcript);
        let i = Clock::now();
        let shared_c = client_secret.diffie_hellman(&server_public);
        let server_verifying = VerifyingKey::from_bytes(black_box(&server_pub)).unwrap();
        server_verifying.verify_strict(&leaf, &leaf_sig).unwrap();
        server_verifying
            .verify_strict(&transcript, &server_sig)
            .unwrap();
        let client_sig = client_key.sign(&transcript);
        let j = Clock::now();
        client_pub.verify_strict(&transcript, &client_sig).unwrap();
        let k = Clock::now();
        support::floor::key_schedule(shared_s.as_bytes());
        support::floor::key_schedule(shared_c.as_bytes());
        let l = Clock::now();

        if round >= WARM_UP {
            handshake.add(&marks);
            floor.add(&[g, h, i, j, k, l]);
        }
    }
    let ours = handshake.print("securecom handshake, by phase");
    let primitives = floor.print("the floor's primitives, same loop");
    println!(
        "securecom / floor in the same loop: {:.3}",
        ours / primitives
    );
}
