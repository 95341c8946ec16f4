//! The floor's symmetric work: securecom's key schedule redone with the same crates.

use std::hint::black_box;

use aes_gcm::{Aes256Gcm, KeyInit};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Bytes of the handshake messages both transcripts hash (hellos, chain, verify,
/// finished, identity), rounded up.
const TRANSCRIPT_LEN: usize = 900;

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
pub(crate) fn key_schedule(shared: &[u8; 32]) {
    let transcript = [3u8; TRANSCRIPT_LEN];
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
