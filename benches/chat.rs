//! The chat layer: the end-to-end chat handshake (both sides) against its floor, and one
//! chat message from client A through the relay to client B, in memory, with each party's
//! share timed on its own, against the AEAD operations the path must do; then the same
//! message through the endpoints the drivers run (`ServerEndpoint`, `ClientEndpoint`), in
//! the same run, for the cost of the driving layer.
//!
//! Run: `cargo bench --bench chat`. Ratios are in docs/BENCHMARKS.md.

mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use aes_gcm::{AeadInOut, Aes256Gcm, KeyInit};
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signature, Signer, SigningKey};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use x25519_dalek::{EphemeralSecret, PublicKey as XPublic, StaticSecret};

use securecom::host::time::UnixTimeExt;
use securecom::proto::chat::messages::CHAT_RECORD_HEADER_LEN;
use securecom::proto::chat::{ChatInitiator, ChatResponder, ChatSession, MemoryKnownKeys};
use securecom::proto::client::{ChatClient, ClientEvent};
use securecom::proto::endpoint::{
    ClientAction, ClientEndpoint, ClientLimits, ServerAction, ServerEndpoint, ServerSocket,
};
use securecom::proto::handshake::{ClientConfig, ClientHandshake, ClientProgress, ServerConfig};
use securecom::proto::identity::{Identity, MemoryDirectory, Username};
use securecom::proto::pki::{ServerCertVerifier, ServerCredentials, certificates_from_pem};
use securecom::proto::record::RECORD_OVERHEAD;
use securecom::proto::relay::{ConnectionId, Relay, RelayConfig};
use securecom::proto::time::{Instant, UnixTime};

use support::{ALICE_KEY, BOB_KEY, CA, CRL_LONG, SERVER_CHAIN, SERVER_KEY, SysRng, sys_rng};

/// A chat message of a typical length.
const TEXT: &str = "See you at the station at six; I'll bring the tickets and a map.";

// ---------------------------------------------------------------------------------------
// The end-to-end chat handshake
// ---------------------------------------------------------------------------------------

fn chat_handshake(
    alice: &Identity,
    bob: &Identity,
    rng: &mut SysRng,
) -> (ChatSession, ChatSession) {
    let (a, b) = (
        Username::new("alice").unwrap(),
        Username::new("bob").unwrap(),
    );
    let (ak, bk) = (alice.public_key(), bob.public_key());
    let (initiator, hello) = ChatInitiator::start((&a, ak), (&b, bk), rng);
    let responder = ChatResponder::new((&b, bk), (&a, ak), rng);
    let (responder, reply) = responder.handle_hello(bob, &hello).unwrap();
    let (alice_chat, confirm) = initiator.handle_reply(alice, &reply).unwrap();
    let bob_chat = responder.handle_confirm(&confirm).unwrap();
    (alice_chat, bob_chat)
}

fn keygen(rng: &mut SysRng) -> (EphemeralSecret, XPublic) {
    let secret = EphemeralSecret::random_from_rng(rng);
    let public = XPublic::from(&secret);
    (secret, public)
}

/// One side's key schedule: HKDF-Extract of the shared secret, then four 32-byte expands
/// (two Finished keys, two chains), as the chat handshake derives.
fn chat_schedule(shared: &[u8; 32], th: &[u8; 32]) {
    let (_, hkdf) = Hkdf::<Sha256>::extract(Some(b"securecom/1 chat"), shared);
    for label in [
        &b"initiator finished"[..],
        b"responder finished",
        b"initiator chain",
        b"responder chain",
    ] {
        let mut out = [0u8; 32];
        hkdf.expand_multi_info(&[label, th], &mut out).unwrap();
        black_box(out);
    }
}

fn bench_chat_handshake(c: &mut Criterion) {
    let alice = Identity::from_pkcs8_pem(ALICE_KEY).unwrap();
    let bob = Identity::from_pkcs8_pem(BOB_KEY).unwrap();
    let mut rng = sys_rng();

    let sk_a = SigningKey::from_bytes(&[1; 32]);
    let sk_b = SigningKey::from_bytes(&[2; 32]);
    let (pk_a, pk_b) = (sk_a.verifying_key(), sk_b.verifying_key());
    // What a side signs: a 37-byte context and the 32-byte transcript hash, fresh for every
    // chat (a handshake never signs or verifies the same transcript twice, and Ed25519
    // verification is variable-time), cycled through from a pool made here.
    let fresh: Vec<([u8; 37 + 32], Signature, Signature)> = (0..64u64)
        .map(|i| {
            let mut signed = [0x5a_u8; 37 + 32];
            signed[37..].copy_from_slice(&Sha256::digest(i.to_be_bytes()));
            (signed, sk_a.sign(&signed), sk_b.sign(&signed))
        })
        .collect();
    let mut turn = 0;
    let th = [7u8; 32];

    let mut group = c.benchmark_group("chat_handshake");
    group.sample_size(60);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("securecom", |b| {
        b.iter(|| black_box(chat_handshake(&alice, &bob, &mut rng)))
    });
    group.bench_function("floor", |b| {
        b.iter(|| {
            turn = (turn + 1) % fresh.len();
            let (signed, sig_a, sig_b) = &fresh[turn];
            let (ea, pa) = keygen(&mut rng);
            let (eb, pb) = keygen(&mut rng);
            let sa = ea.diffie_hellman(&pb);
            let sb = eb.diffie_hellman(&pa);
            black_box(sk_b.sign(black_box(signed)));
            black_box(sk_a.sign(black_box(signed)));
            pk_b.verify_strict(black_box(signed), sig_b).unwrap();
            pk_a.verify_strict(black_box(signed), sig_a).unwrap();
            chat_schedule(sa.as_bytes(), &th);
            chat_schedule(sb.as_bytes(), &th);
        })
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------
// One chat message through the relay
// ---------------------------------------------------------------------------------------

/// A relay and two logged-in clients in a chat, wired in memory (the test simulation's
/// approach, with public APIs only). Nothing here is timed.
struct Net {
    now: Instant,
    relay: Relay,
    clients: Vec<(ConnectionId, ChatClient)>,
}

fn server_config() -> Arc<ServerConfig> {
    let chain = certificates_from_pem(SERVER_CHAIN).unwrap();
    let key = Identity::from_pkcs8_pem(SERVER_KEY).unwrap();
    let mut directory = MemoryDirectory::new();
    for (name, pem) in [("alice", ALICE_KEY), ("bob", BOB_KEY)] {
        let id = Identity::from_pkcs8_pem(pem).unwrap();
        directory.insert(Username::new(name).unwrap(), id.public_key());
    }
    let credentials = ServerCredentials::new(chain, key).unwrap();
    Arc::new(ServerConfig::new(credentials, Arc::new(directory)))
}

fn client_config(name: &str, pem: &str) -> Arc<ClientConfig> {
    let verifier = ServerCertVerifier::from_pem(CA, Some(CRL_LONG)).unwrap();
    let identity = Identity::from_pkcs8_pem(pem).unwrap();
    Arc::new(ClientConfig::new(
        verifier,
        "localhost",
        Username::new(name).unwrap(),
        identity,
    ))
}

impl Net {
    fn new(rng: &mut SysRng) -> Self {
        let now = Instant::ZERO;
        let mut relay = Relay::new(server_config(), RelayConfig::default());
        let mut clients = Vec::new();
        for (name, pem) in [("alice", ALICE_KEY), ("bob", BOB_KEY)] {
            let conn = relay.open_connection(now, rng).unwrap();
            let config = client_config(name, pem);
            let mut hs = ClientHandshake::start(config.clone(), rng, now, UnixTime::now());
            let client = loop {
                relay.handle_input(conn, now, hs.output()).unwrap();
                hs.consume_output(usize::MAX);
                let out = relay.output(conn).to_vec();
                relay.consume_output(conn, out.len());
                match hs.handle_input(now, &out).unwrap() {
                    ClientProgress::Continue(next) => hs = next,
                    ClientProgress::Established {
                        session, consumed, ..
                    } => {
                        let mut client = ChatClient::new(
                            session,
                            config,
                            Box::new(MemoryKnownKeys::default()),
                            now,
                        );
                        client.handle_input(now, &out[consumed..]).unwrap();
                        break client;
                    }
                }
            };
            clients.push((conn, client));
        }
        let mut net = Net {
            now,
            relay,
            clients,
        };
        net.pump();
        let bob = Username::new("bob").unwrap();
        net.clients[0].1.request_chat(now, &bob, rng).unwrap();
        net.pump();
        net.clients[1].1.accept(now, rng).unwrap();
        net.pump();
        for (_, client) in &mut net.clients {
            let mut established = false;
            while let Some(e) = client.poll_event() {
                established |= matches!(e, ClientEvent::ChatEstablished { .. });
            }
            assert!(established, "the chat was not established");
        }
        net
    }

    /// Moves bytes until nothing moves.
    fn pump(&mut self) {
        let now = self.now;
        loop {
            let mut moved = false;
            for (conn, client) in &mut self.clients {
                if !client.output().is_empty() {
                    moved = true;
                    self.relay
                        .handle_input(*conn, now, client.output())
                        .unwrap();
                    client.consume_output(usize::MAX);
                }
            }
            while let Some(conn) = self.relay.poll_transmit() {
                let out = self.relay.output(conn).to_vec();
                self.relay.consume_output(conn, out.len());
                if let Some((_, client)) = self.clients.iter_mut().find(|(c, _)| *c == conn)
                    && !out.is_empty()
                {
                    moved = true;
                    client.handle_input(now, &out).unwrap();
                }
            }
            while self.relay.poll_event().is_some() {}
            if !moved {
                return;
            }
        }
    }

    /// One message from alice to bob; returns the time of alice's send, the relay's share
    /// and bob's receipt, and the bytes on each leg.
    fn message(&mut self, wire_a: &mut Vec<u8>, wire_b: &mut Vec<u8>) -> [Duration; 3] {
        let now = self.now;
        let (conn_a, conn_b) = (self.clients[0].0, self.clients[1].0);

        let t0 = std::time::Instant::now();
        let alice = &mut self.clients[0].1;
        alice
            .send_text(now, black_box(TEXT), &mut sys_rng())
            .unwrap();
        wire_a.clear();
        wire_a.extend_from_slice(alice.output());
        alice.consume_output(usize::MAX);

        let t1 = std::time::Instant::now();
        self.relay.handle_input(conn_a, now, wire_a).unwrap();
        wire_b.clear();
        while let Some(conn) = self.relay.poll_transmit() {
            debug_assert_eq!(conn, conn_b);
            wire_b.extend_from_slice(self.relay.output(conn));
            self.relay.consume_output(conn, usize::MAX);
        }

        let t2 = std::time::Instant::now();
        let bob = &mut self.clients[1].1;
        bob.handle_input(now, wire_b).unwrap();
        let received = matches!(bob.poll_event(), Some(ClientEvent::Message { .. }));

        let t3 = std::time::Instant::now();
        assert!(received, "bob did not receive the message");
        // Anything else (none is expected) is delivered untimed.
        while self.relay.poll_event().is_some() {}
        self.pump();
        [t1 - t0, t2 - t1, t3 - t2]
    }
}

// ---------------------------------------------------------------------------------------
// The same message through the endpoints (what the drivers run)
// ---------------------------------------------------------------------------------------

/// A server endpoint and two client endpoints in a chat, wired in memory: every byte goes
/// through `poll_action` and is acknowledged with `handle_written`, as a driver does.
struct EndpointNet {
    now: Instant,
    server: ServerEndpoint,
    clients: Vec<(ConnectionId, ClientEndpoint)>,
}

impl EndpointNet {
    fn new(rng: &mut SysRng) -> Self {
        let now = Instant::ZERO;
        let mut server = ServerEndpoint::new(server_config(), RelayConfig::default());
        let mut clients = Vec::new();
        for (name, pem) in [("alice", ALICE_KEY), ("bob", BOB_KEY)] {
            let conn = server.accept(now, rng).unwrap();
            let client = ClientEndpoint::connect(
                client_config(name, pem),
                Box::new(MemoryKnownKeys::default()),
                ClientLimits::default(),
                rng,
                now,
                UnixTime::now(),
            );
            clients.push((conn, client));
        }
        let mut net = EndpointNet {
            now,
            server,
            clients,
        };
        net.pump();
        let bob = Username::new("bob").unwrap();
        net.clients[0]
            .1
            .chat()
            .unwrap()
            .request_chat(now, &bob, rng)
            .unwrap();
        net.pump();
        net.clients[1].1.chat().unwrap().accept(now, rng).unwrap();
        net.pump();
        for (_, client) in &mut net.clients {
            let mut established = false;
            while let Some(e) = client.poll_event() {
                established |= matches!(e, ClientEvent::ChatEstablished { .. });
            }
            assert!(established, "the chat was not established");
        }
        net
    }

    /// Moves bytes until nothing moves.
    fn pump(&mut self) {
        let now = self.now;
        loop {
            let mut moved = false;
            for (conn, client) in &mut self.clients {
                while let Some(action) = client.poll_action() {
                    if let ClientAction::Transmit { bytes } = action {
                        moved = true;
                        self.server.handle_input(*conn, now, &bytes);
                        client.handle_written(now, bytes.len());
                    }
                }
            }
            while let Some(action) = self.server.poll_action() {
                if let ServerAction::Transmit { socket, bytes } = action
                    && let Some((_, client)) = self
                        .clients
                        .iter_mut()
                        .find(|(c, _)| *c == socket.connection())
                {
                    moved = true;
                    client.handle_input(now, &bytes);
                    self.server.handle_written(socket, now, bytes.len());
                }
            }
            while self.server.poll_event().is_some() {}
            if !moved {
                return;
            }
        }
    }

    /// One message from alice to bob through the three endpoints; returns the time of
    /// alice's send, the server endpoint's share and bob's receipt.
    fn message(&mut self, wire_a: &mut Vec<u8>, wire_b: &mut Vec<u8>) -> [Duration; 3] {
        let now = self.now;
        let conn_a = self.clients[0].0;

        let t0 = std::time::Instant::now();
        let alice = &mut self.clients[0].1;
        alice
            .chat()
            .unwrap()
            .send_text(now, black_box(TEXT), &mut sys_rng())
            .unwrap();
        wire_a.clear();
        while let Some(action) = alice.poll_action() {
            if let ClientAction::Transmit { bytes } = action {
                alice.handle_written(now, bytes.len());
                wire_a.extend_from_slice(&bytes);
            }
        }

        let t1 = std::time::Instant::now();
        self.server.handle_input(conn_a, now, wire_a);
        wire_b.clear();
        while let Some(action) = self.server.poll_action() {
            if let ServerAction::Transmit { socket, bytes } = action {
                debug_assert_eq!(socket, ServerSocket::Main(self.clients[1].0));
                self.server.handle_written(socket, now, bytes.len());
                wire_b.extend_from_slice(&bytes);
            }
        }

        let t2 = std::time::Instant::now();
        let bob = &mut self.clients[1].1;
        bob.handle_input(now, wire_b);
        let received = matches!(bob.poll_event(), Some(ClientEvent::Message { .. }));

        let t3 = std::time::Instant::now();
        assert!(received, "bob did not receive the message");
        while self.server.poll_event().is_some() {}
        self.pump();
        [t1 - t0, t2 - t1, t3 - t2]
    }
}

/// Seal + open in place with raw aes-gcm 0.11, of `len` bytes (the AEAD input, as the
/// record or the end-to-end message has it).
struct RawAead {
    aead: Aes256Gcm,
    buf: Vec<u8>,
    counter: u64,
}

impl RawAead {
    fn new(len: usize) -> Self {
        RawAead {
            aead: Aes256Gcm::new(&[0x42; 32].into()),
            buf: vec![0x5a; len],
            counter: 0,
        }
    }

    fn seal_open(&mut self, aad: &[u8]) {
        self.counter += 1;
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&self.counter.to_be_bytes());
        let tag = self
            .aead
            .encrypt_inout_detached(&nonce.into(), aad, self.buf.as_mut_slice().into())
            .unwrap();
        self.aead
            .decrypt_inout_detached(&nonce.into(), aad, self.buf.as_mut_slice().into(), &tag)
            .unwrap();
        black_box(&self.buf);
    }
}

/// Times each share of one message (`send`, the server's, `receive`) and their total, as
/// benchmarks named `PREFIX` + `a_send`, `relay`, `b_receive`, `total`.
fn time_message_parts(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    prefix: &str,
    mut message: impl FnMut(&mut Vec<u8>, &mut Vec<u8>) -> [Duration; 3],
    wire_a: &mut Vec<u8>,
    wire_b: &mut Vec<u8>,
) {
    let parts = [Some(0), Some(1), Some(2), None];
    for (part, name) in parts
        .into_iter()
        .zip(["a_send", "relay", "b_receive", "total"])
    {
        group.bench_function(format!("{prefix}{name}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let shares = message(wire_a, wire_b);
                    total += match part {
                        Some(i) => shares[i],
                        None => shares.iter().sum(),
                    };
                }
                total
            })
        });
    }
}

fn bench_message(c: &mut Criterion) {
    let mut rng = sys_rng();
    let mut net = Net::new(&mut rng);
    let (mut wire_a, mut wire_b) = (Vec::with_capacity(1024), Vec::with_capacity(1024));
    net.message(&mut wire_a, &mut wire_b);
    // The AEAD inputs of the path: the end-to-end message (its sealed length less the tag
    // and the clear header, found with a chat session of its own), and the two records
    // (the relay command around it; the record's kind is associated data, not encrypted).
    let alice = Identity::from_pkcs8_pem(ALICE_KEY).unwrap();
    let bob = Identity::from_pkcs8_pem(BOB_KEY).unwrap();
    let (mut e2e, _) = chat_handshake(&alice, &bob, &mut rng);
    let e2e_sealed = e2e.seal_text(TEXT, &mut rng).unwrap().len();
    // The padded plaintext: the sealed message less its clear header and 16-byte tag.
    let e2e_len = e2e_sealed - CHAT_RECORD_HEADER_LEN - 16;
    let record_a = wire_a.len() - RECORD_OVERHEAD;
    let record_b = wire_b.len() - RECORD_OVERHEAD;
    eprintln!(
        "message of {} B: end-to-end message {e2e_sealed} B sealed (AEAD input {e2e_len} B, padded), \
         record A->relay {} B on the wire (AEAD input {record_a} B), relay->B {} B (AEAD input {record_b} B)",
        TEXT.len(),
        wire_a.len(),
        wire_b.len()
    );

    let mut group = c.benchmark_group("message");
    group.sample_size(60);
    group.measurement_time(Duration::from_secs(4));
    time_message_parts(
        &mut group,
        "",
        |wa, wb| net.message(wa, wb),
        &mut wire_a,
        &mut wire_b,
    );

    // The same message through the endpoints, in the same run: the driving layer's cost.
    let mut endpoints = EndpointNet::new(&mut rng);
    endpoints.message(&mut wire_a, &mut wire_b);
    time_message_parts(
        &mut group,
        "endpoint_",
        |wa, wb| endpoints.message(wa, wb),
        &mut wire_a,
        &mut wire_b,
    );

    // The AEAD floor of the path: one end-to-end seal+open, and one record seal+open on
    // each leg (the relay's own share of it: the open of A's record and the seal of B's).
    let mut raw_e2e = RawAead::new(e2e_len);
    let mut raw_a = RawAead::new(record_a);
    let mut raw_b = RawAead::new(record_b);
    group.bench_function("aead_e2e_seal_open", |b| {
        b.iter(|| raw_e2e.seal_open(&[0; 9]))
    });
    group.bench_function("aead_record_a_seal_open", |b| {
        b.iter(|| raw_a.seal_open(&[0; 6]))
    });
    group.bench_function("aead_record_b_seal_open", |b| {
        b.iter(|| raw_b.seal_open(&[0; 6]))
    });
    group.bench_function("aead_floor", |b| {
        b.iter(|| {
            raw_e2e.seal_open(&[0; 9]);
            raw_a.seal_open(&[0; 6]);
            raw_b.seal_open(&[0; 6]);
        })
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------
// The Diffie-Hellman ratchet
// ---------------------------------------------------------------------------------------

/// One text sealed by one side and opened by the other, at the session level: always the
/// same speaker (one chain, no ratchet step), or a change of speaker every message (each
/// makes a ratchet key: one key generation and two X25519 agreements), against the floor
/// of that step.
fn bench_ratchet(c: &mut Criterion) {
    let mut rng = sys_rng();
    let alice = Identity::from_pkcs8_pem(ALICE_KEY).unwrap();
    let bob = Identity::from_pkcs8_pem(BOB_KEY).unwrap();
    let mut group = c.benchmark_group("ratchet");
    group.sample_size(60);
    group.measurement_time(Duration::from_secs(4));

    let (mut a, mut b) = chat_handshake(&alice, &bob, &mut rng);
    group.bench_function("same_speaker_seal_open", |bench| {
        bench.iter(|| {
            let record = a.seal_text(black_box(TEXT), &mut rng).unwrap();
            black_box(b.open(&record).unwrap());
        })
    });

    let (a, b) = chat_handshake(&alice, &bob, &mut rng);
    let mut sides = [a, b];
    group.bench_function("change_of_speaker_seal_open", |bench| {
        bench.iter(|| {
            let record = sides[0].seal_text(black_box(TEXT), &mut rng).unwrap();
            black_box(sides[1].open(&record).unwrap());
            sides.swap(0, 1);
        })
    });

    let peer_secret = StaticSecret::random_from_rng(&mut rng);
    let peer = XPublic::from(&peer_secret);
    group.bench_function("x25519_keygen_and_two_dh", |bench| {
        bench.iter(|| {
            let secret = StaticSecret::random_from_rng(&mut rng);
            let public = XPublic::from(&secret);
            black_box(secret.diffie_hellman(black_box(&peer)));
            black_box(peer_secret.diffie_hellman(&public));
        })
    });
    group.finish();
}

criterion_group!(benches, bench_chat_handshake, bench_message, bench_ratchet);
criterion_main!(benches);
