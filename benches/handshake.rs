//! Client-server handshake, both sides, in memory: securecom against rustls (TLS 1.3,
//! client certificates, Ed25519, X25519, ring), snow (`Noise_XX_25519_AESGCM_SHA256`), and
//! the floor: the primitive operations a mutually authenticated handshake with a
//! certificate-checked server cannot avoid, measured in the same run.
//!
//! Run: `cargo bench --bench handshake`. Ratios are in docs/BENCHMARKS.md.

mod support;

use std::hint::black_box;
use std::time::Duration;

use aes_gcm::{Aes256Gcm, KeyInit};
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use x25519_dalek::{EphemeralSecret, PublicKey};

use support::{Rustls, Securecom, Snow, sys_rng};

/// What a side signs: a 29-byte context and the 32-byte transcript hash.
const SIGNED_LEN: usize = 29 + 32;
/// Bytes of the handshake messages both transcripts hash (hellos, chain, verify,
/// finished, identity), rounded up.
const TRANSCRIPT_LEN: usize = 900;

/// One X25519 ephemeral: a secret from the OS RNG and its public key.
fn keygen(rng: &mut support::SysRng) -> (EphemeralSecret, PublicKey) {
    let secret = EphemeralSecret::random_from_rng(rng);
    let public = PublicKey::from(&secret);
    (secret, public)
}

/// `HKDF-Expand` with a TLS-1.3-style label, as securecom's key schedule does.
fn expand(prk: &[u8; 32], label: &[u8], context: &[u8], out: &mut [u8]) {
    let hkdf = Hkdf::<Sha256>::from_prk(prk).unwrap();
    let len = (out.len() as u16).to_be_bytes();
    let info: [&[u8]; 6] = [
        &len,
        &[(12 + label.len()) as u8],
        b"securecom/1 ",
        label,
        &[context.len() as u8],
        context,
    ];
    hkdf.expand_multi_info(&info, out).unwrap();
}

/// Record keys of one direction: key and IV expanded, AES-256 key schedule.
fn traffic_keys(secret: &[u8; 32]) -> Aes256Gcm {
    let mut key = [0u8; 32];
    let mut iv = [0u8; 12];
    expand(secret, b"key", b"", &mut key);
    expand(secret, b"iv", b"", &mut iv);
    black_box(iv);
    Aes256Gcm::new(&key.into())
}

/// One side's symmetric work: the transcript hash with its snapshots, HKDF-Extract of the
/// shared secret, the 9 labelled secrets, 6 directions of record keys (handshake in and
/// out, and both channels of the session in and out) and the two Finished MACs.
fn key_schedule(shared: &[u8; 32], transcript: &[u8]) {
    let mut hash = Sha256::new();
    let mut snapshots = [[0u8; 32]; 6];
    for (i, part) in transcript.chunks(transcript.len() / 6 + 1).enumerate() {
        hash.update(part);
        snapshots[i].copy_from_slice(&hash.clone().finalize());
    }
    let (prk, _) = Hkdf::<Sha256>::extract(Some(b"securecom/1 handshake"), shared);
    let prk: [u8; 32] = prk.into();
    let mut secrets = [[0u8; 32]; 9];
    let labels: [&[u8]; 9] = [
        b"client handshake",
        b"server handshake",
        b"finished",
        b"finished",
        b"client standard",
        b"server standard",
        b"client request",
        b"server request",
        b"exporter",
    ];
    for (secret, label) in secrets.iter_mut().zip(labels) {
        expand(&prk, label, &snapshots[0], secret);
    }
    for secret in [0, 1, 4, 5, 6, 7] {
        black_box(traffic_keys(&secrets[secret]));
    }
    for key in [2, 3] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&secrets[key]).unwrap();
        mac.update(&snapshots[5]);
        black_box(mac.finalize().into_bytes());
    }
}

fn bench_handshakes(c: &mut Criterion) {
    let securecom = Securecom::new();
    let rustls = Rustls::new();
    let snow = Snow::new();
    let mut rng = sys_rng();

    // The floor's inputs: two signing keys, a message the size of a transcript signature,
    // and the server leaf (its signature is verified over about its size of data).
    let server_key = SigningKey::from_bytes(&[1; 32]);
    let client_key = SigningKey::from_bytes(&[2; 32]);
    let signed = [7u8; SIGNED_LEN];
    let leaf_len =
        securecom::proto::pki::certificates_from_pem(support::SERVER_CHAIN).unwrap()[0].len();
    let tbs = vec![9u8; leaf_len];
    let server_sig = server_key.sign(&signed);
    let client_sig = client_key.sign(&signed);
    let chain_sig = server_key.sign(&tbs);
    let server_pub = server_key.verifying_key();
    let client_pub = client_key.verifying_key();
    let transcript = vec![3u8; TRANSCRIPT_LEN];

    let mut group = c.benchmark_group("handshake");
    group.sample_size(60);
    group.measurement_time(Duration::from_secs(6));
    group.bench_function("securecom", |b| {
        b.iter(|| black_box(securecom.handshake(&mut rng)))
    });
    group.bench_function("rustls", |b| b.iter(|| black_box(rustls.handshake())));
    group.bench_function("snow", |b| b.iter(|| black_box(snow.handshake())));
    group.bench_function("floor", |b| {
        b.iter(|| {
            let (client_secret, client_public) = keygen(&mut rng);
            let (server_secret, server_public) = keygen(&mut rng);
            let shared_s = server_secret.diffie_hellman(&client_public);
            let shared_c = client_secret.diffie_hellman(&server_public);
            key_schedule(shared_s.as_bytes(), &transcript);
            key_schedule(shared_c.as_bytes(), &transcript);
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
        b.iter(|| key_schedule(black_box(&[5; 32]), &transcript))
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
