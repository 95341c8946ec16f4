//! Client-server handshake, both sides, in memory: securecom against rustls (TLS 1.3,
//! client certificates, Ed25519, X25519, ring), snow (`Noise_XX_25519_AESGCM_SHA256`), and
//! the floor: the primitive operations a mutually authenticated handshake with a
//! certificate-checked server cannot avoid, measured in the same run.
//!
//! Run: `cargo bench --bench handshake`. Ratios are in docs/BENCHMARKS.md.

mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use x25519_dalek::{EphemeralSecret, PublicKey};

use support::{Rustls, Securecom, Snow, sys_rng};

/// What a side signs: a 29-byte context and the 32-byte transcript hash.
const SIGNED_LEN: usize = 29 + 32;
/// One X25519 ephemeral: a secret from the OS RNG and its public key.
fn keygen(rng: &mut support::SysRng) -> (EphemeralSecret, PublicKey) {
    let secret = EphemeralSecret::random_from_rng(rng);
    let public = PublicKey::from(&secret);
    (secret, public)
}

/// The floor's key exchange and symmetric work, both sides: two ephemeral keys, the two
/// DH, and each side's key schedule.
fn exchange_and_key_schedules(rng: &mut support::SysRng) {
    let (client_secret, client_public) = keygen(rng);
    let (server_secret, server_public) = keygen(rng);
    let shared_s = server_secret.diffie_hellman(&client_public);
    let shared_c = client_secret.diffie_hellman(&server_public);
    support::floor::key_schedule(shared_s.as_bytes());
    support::floor::key_schedule(shared_c.as_bytes());
}

/// Distinct transcripts the floor cycles through: a real handshake signs and verifies a
/// fresh transcript hash every time, and Ed25519 verification is variable-time (its
/// branches follow the signature), so one signature verified over and over would be
/// cheaper than any real handshake's.
const FRESH: usize = 64;

struct FreshTranscripts {
    signed: Vec<[u8; SIGNED_LEN]>,
    server_sigs: Vec<Signature>,
    client_sigs: Vec<Signature>,
}

impl FreshTranscripts {
    fn new(server_key: &SigningKey, client_key: &SigningKey) -> Self {
        let signed: Vec<[u8; SIGNED_LEN]> = (0..FRESH)
            .map(|i| {
                let hash = Sha256::digest((i as u64).to_be_bytes());
                let mut m = [7u8; SIGNED_LEN];
                m[SIGNED_LEN - 32..].copy_from_slice(&hash);
                m
            })
            .collect();
        FreshTranscripts {
            server_sigs: signed.iter().map(|m| server_key.sign(m)).collect(),
            client_sigs: signed.iter().map(|m| client_key.sign(m)).collect(),
            signed,
        }
    }
}

fn bench_handshakes(c: &mut Criterion) {
    let securecom = Securecom::new();
    let rustls = Rustls::new();
    let snow = Snow::new();
    let mut rng = sys_rng();

    // The floor's inputs: two signing keys, fresh transcripts to sign and verify, and the
    // server leaf (its signature is verified over about its size of data).
    let server_key = SigningKey::from_bytes(&[1; 32]);
    let client_key = SigningKey::from_bytes(&[2; 32]);
    let transcripts = FreshTranscripts::new(&server_key, &client_key);
    let signed = transcripts.signed[0];
    let server_sig = transcripts.server_sigs[0];
    let leaf_len =
        securecom::proto::pki::certificates_from_pem(support::SERVER_CHAIN).unwrap()[0].len();
    let tbs = vec![9u8; leaf_len];
    let chain_sig = server_key.sign(&tbs);
    let server_pub = server_key.verifying_key();
    let server_pub_bytes = server_pub.to_bytes();
    let client_pub = client_key.verifying_key();

    let mut group = c.benchmark_group("handshake");
    group.sample_size(60);
    group.measurement_time(Duration::from_secs(6));
    group.bench_function("securecom", |b| {
        b.iter(|| black_box(securecom.handshake(&mut rng)))
    });
    group.bench_function("rustls", |b| b.iter(|| black_box(rustls.handshake())));
    group.bench_function("snow", |b| b.iter(|| black_box(snow.handshake())));
    let mut turn = 0;
    group.bench_function("floor", |b| {
        b.iter(|| {
            turn = (turn + 1) % FRESH;
            exchange_and_key_schedules(&mut rng);
            let signed = &transcripts.signed[turn];
            black_box(server_key.sign(black_box(signed)));
            black_box(client_key.sign(black_box(signed)));
            // The client learns the server's key from its certificate: it decodes it
            // (RFC 8032 verification, step 1). The anchor's key and the registered client
            // keys are decoded once, before any handshake.
            let server_pub = VerifyingKey::from_bytes(black_box(&server_pub_bytes)).unwrap();
            server_pub.verify_strict(&tbs, &chain_sig).unwrap();
            server_pub
                .verify_strict(signed, &transcripts.server_sigs[turn])
                .unwrap();
            client_pub
                .verify_strict(signed, &transcripts.client_sigs[turn])
                .unwrap();
        })
    });
    // The floor as first defined, for reference: one transcript signed and verified over
    // and over, every key decoded in advance.
    group.bench_function("floor_repeated_inputs", |b| {
        let client_sig = transcripts.client_sigs[0];
        b.iter(|| {
            exchange_and_key_schedules(&mut rng);
            black_box(server_key.sign(black_box(&signed)));
            black_box(client_key.sign(black_box(&signed)));
            server_pub.verify_strict(&tbs, &chain_sig).unwrap();
            server_pub.verify_strict(&signed, &server_sig).unwrap();
            client_pub.verify_strict(&signed, &client_sig).unwrap();
        })
    });
    group.finish();

    // The floor's parts, for the table.
    let mut group = c.benchmark_group("floor_parts");
    group.sample_size(60);
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("x25519_keygen", |b| b.iter(|| black_box(keygen(&mut rng))));
    let peer = keygen(&mut rng).1;
    group.bench_function("x25519_keygen_and_dh", |b| {
        b.iter(|| black_box(keygen(&mut rng).0.diffie_hellman(&peer)))
    });
    group.bench_function("ed25519_sign", |b| {
        b.iter(|| black_box(server_key.sign(black_box(&signed))))
    });
    group.bench_function("ed25519_verify_strict", |b| {
        b.iter(|| server_pub.verify_strict(black_box(&signed), &server_sig))
    });
    group.bench_function("ed25519_verify_strict_cert", |b| {
        b.iter(|| server_pub.verify_strict(black_box(&tbs), &chain_sig))
    });
    group.bench_function("key_schedule_one_side", |b| {
        b.iter(|| support::floor::key_schedule(black_box(&[5; 32])))
    });
    group.finish();

    // Where securecom's time above the floor goes, and rustls without CRLs (rustls checks
    // a CRL for both certificates; securecom only for the server's, the client being
    // authenticated by its registered key).
    let mut group = c.benchmark_group("diagnosis");
    group.sample_size(60);
    group.measurement_time(Duration::from_secs(3));
    let verifier =
        securecom::proto::pki::ServerCertVerifier::from_pem(support::CA, Some(support::CRL))
            .unwrap();
    let chain = securecom::proto::pki::certificates_from_pem(support::SERVER_CHAIN).unwrap();
    let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    group.bench_function("verify_server_chain_with_crl", |b| {
        b.iter(|| {
            verifier
                .verify_server(black_box(&chain), "localhost", support::VALID_TIME)
                .unwrap()
        })
    });
    let no_crl = securecom::proto::pki::ServerCertVerifier::new(
        securecom::proto::pki::certificates_from_pem(support::CA).unwrap()[0].clone(),
        securecom::proto::pki::RevocationPolicy::DangerousNoRevocationCheck,
    )
    .unwrap();
    group.bench_function("verify_server_chain_without_crl", |b| {
        b.iter(|| {
            no_crl
                .verify_server(black_box(&chain), "localhost", support::VALID_TIME)
                .unwrap()
        })
    });
    let key_bytes = server_pub.to_bytes();
    group.bench_function("ed25519_key_decompress", |b| {
        b.iter(|| ed25519_dalek::VerifyingKey::from_bytes(black_box(&key_bytes)).unwrap())
    });
    let rustls_no_crl = Rustls::without_crls();
    group.bench_function("rustls_handshake_without_crls", |b| {
        b.iter(|| black_box(rustls_no_crl.handshake()))
    });
    group.finish();
}

criterion_group!(benches, bench_handshakes);
criterion_main!(benches);
