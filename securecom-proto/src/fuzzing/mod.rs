//! Bodies of the fuzz targets in `fuzz/fuzz_targets/`, and their seed corpora.
//!
//! Hidden, and compiled only with the `fuzzing` feature, which no normal build enables: the
//! `fuzz/` crate turns it on, and so does the facade crate's dev-dependency, so that plain
//! `cargo test --workspace` replays every corpus (`tests/fuzz_corpus.rs` in the facade).
//!
//! Nothing here changes how the protocol behaves. To get past signatures, MACs and AEAD
//! tags, the handshake targets play the *peer* honestly with a deterministic RNG and the
//! fixture PKI ([`TestRng`], seeds 1 for the client and 2 for the server): the fuzz input
//! only chooses how that genuine peer's messages are edited, dropped, duplicated,
//! reordered or replaced, and the emulated peer then signs, MACs and seals whatever it
//! ended up sending. So the machine under test sees validly encrypted but arbitrary
//! messages and can be driven into every state.
//!
//! Every target must never panic; the `assert!`s are the invariants a target checks (a
//! failed one is how it reports a bug to the fuzzer).

// The assertions below are the targets' bug reports, not error handling.
#![allow(
    clippy::panic,
    reason = "a fuzz target reports a broken invariant by panicking"
)]

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use std::sync::OnceLock;

use rand_core::Rng;

use crate::codec::{
    Codec, ContentType, Deframer, FRAME_HEADER_LEN, MAX_FRAME_LEN, encode_frame_header,
};
use crate::crypto::{EphemeralKeyPair, Secret, Transcript, extract, finished_mac};
use crate::handshake::messages::{
    ClientFinished, ClientHello, ClientIdentity, ClientVerify, Finished, HandshakeType, Hello,
    ServerCertificate, ServerFinished, ServerHello, ServerVerify, Verify, Welcome,
};
use crate::handshake::{
    CLIENT_SIGNATURE_CONTEXT, ClientConfig, ClientHandshake, ClientProgress, HandshakeError,
    HandshakeKeys, PROTOCOL_VERSION, SERVER_SIGNATURE_CONTEXT, ServerConfig, ServerHandshake,
    ServerProgress, signed_content,
};
use crate::identity::{Identity, MemoryDirectory, PublicKey, Username};
use crate::pki::{
    RevocationPolicy, ServerCertVerifier, ServerCredentials, certificates_from_pem, crls_from_pem,
};
use crate::record::{OpenedRecord, RecordOpener, RecordSealer};
use crate::session::{Channel, CloseReason, Incoming, PeerIdentity, Role, Session, SessionKeys};
use crate::time::{Instant, UnixTime};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/pki/", $name))
    };
}

const CA: &str = fixture!("ca.pem");
const CRL: &str = fixture!("crl.pem");
const SERVER_CHAIN: &str = fixture!("server.pem");
const SERVER_KEY: &str = fixture!("server.key");
const INTERMEDIATE_CHAIN: &str = fixture!("server-via-intermediate-chain.pem");
const CRL_INTERMEDIATE: &str = fixture!("crl-intermediate.pem");
const VIA_INTERMEDIATE_KEY: &str = fixture!("server-via-intermediate.key");
const ALICE_KEY: &str = fixture!("users/alice.key");
const ALICE_PUB: &str = fixture!("users/alice.pub.pem");

/// A time at which every fixture certificate and CRL is valid (2026-01-15).
pub const VALID_TIME: UnixTime = UnixTime::from_secs(1_768_435_200);

/// The handshake clock of every target: the deadline is never reached.
const T0: Instant = Instant::ZERO;

/// Seed of the client's [`TestRng`] in every handshake the targets run.
const CLIENT_SEED: u64 = 1;
/// Seed of the server's [`TestRng`].
const SERVER_SEED: u64 = 2;
/// The session id the emulated and the real server assign.
const SESSION_ID: u64 = 7;
/// The user every emulated client logs in as.
const USER: &str = "alice";

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz/fuzz_targets/*.rs` file and `fuzz/corpus/` folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("deframer", deframer),
    ("handshake_messages", handshake_messages),
    ("server_handshake", server_handshake),
    ("client_handshake", client_handshake),
    ("record", record),
    ("pki", pki),
    ("pem_keys", pem_keys),
    ("relay", relay::relay),
    ("client", client::client),
    ("chat", chat::chat),
    ("scheduler", scheduler::scheduler),
];

mod chat;
mod client;
mod relay;
mod scheduler;
mod world;

pub use chat::chat;
pub use client::{client, client_messages_shown};
pub use relay::{relay, relay_reaches_chat};
pub use scheduler::{scheduler, scheduler_final_chat};

// ---------------------------------------------------------------------------------------
// Deterministic randomness and the fixtures
// ---------------------------------------------------------------------------------------

pub use crate::test_rng::TestRng;

/// The fixture PKI, parsed once per process.
struct Fixtures {
    server_config: Arc<ServerConfig>,
    client_config: Arc<ClientConfig>,
    server_identity: Identity,
    server_key: PublicKey,
    /// The key of the fixture server whose chain goes through the intermediate CA.
    via_intermediate_key: PublicKey,
    alice: Identity,
    chain: Vec<Vec<u8>>,
    ca_der: Vec<u8>,
    crl_der: Vec<u8>,
    verifier: ServerCertVerifier,
}

#[allow(
    clippy::expect_used,
    reason = "the fixtures are compiled in; failing to parse them is a harness bug"
)]
fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let identity = |pem| Identity::from_pkcs8_pem(pem).expect("fixture key");
        let chain = certificates_from_pem(SERVER_CHAIN).expect("fixture chain");
        let alice = identity(ALICE_KEY);
        let username = Username::new(USER).expect("fixture user");
        let mut directory = MemoryDirectory::new();
        directory.insert(username.clone(), alice.public_key());
        let credentials =
            ServerCredentials::new(chain.clone(), identity(SERVER_KEY)).expect("credentials");
        let verifier = || ServerCertVerifier::from_pem(CA, Some(CRL)).expect("fixture CA");
        Fixtures {
            server_config: Arc::new(ServerConfig::new(credentials, Arc::new(directory))),
            client_config: Arc::new(ClientConfig::new(
                verifier(),
                "localhost",
                username,
                identity(ALICE_KEY),
            )),
            server_identity: identity(SERVER_KEY),
            server_key: identity(SERVER_KEY).public_key(),
            via_intermediate_key: identity(VIA_INTERMEDIATE_KEY).public_key(),
            alice,
            chain,
            ca_der: certificates_from_pem(CA)
                .expect("fixture CA")
                .into_iter()
                .next()
                .expect("one CA"),
            crl_der: crls_from_pem(CRL)
                .expect("fixture CRL")
                .into_iter()
                .next()
                .expect("one CRL"),
            verifier: verifier(),
        }
    })
}

// ---------------------------------------------------------------------------------------
// Reading the fuzz input
// ---------------------------------------------------------------------------------------

/// A cursor over the fuzz input that never fails: past the end it reads zeros.
struct Input<'a> {
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    fn new(data: &'a [u8]) -> Self {
        Input { rest: data }
    }

    fn u8(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((b, rest)) => {
                self.rest = rest;
                *b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.rest.split_at(n.min(self.rest.len()));
        self.rest = rest;
        head
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn rest(self) -> &'a [u8] {
        self.rest
    }
}

/// Chunk size for feeding a byte stream: 0 means all at once.
fn chunks(wire: &[u8], size: u8) -> impl Iterator<Item = &[u8]> {
    let size = if size == 0 {
        wire.len().max(1)
    } else {
        usize::from(size)
    };
    wire.chunks(size)
}

// ---------------------------------------------------------------------------------------
// deframer
// ---------------------------------------------------------------------------------------

/// Arbitrary bytes, in chunks the first byte chooses, through a [`Deframer`].
///
/// Checks: the buffer stays within one maximal frame; every frame returned re-encodes to
/// exactly the bytes it came from, in order; pushing makes progress unless a complete frame
/// waits; after the stream, what is buffered is exactly what was not returned.
pub fn deframer(data: &[u8]) {
    let mut input = Input::new(data);
    let size = input.u8();
    let stream = input.rest();
    let mut d = Deframer::new();
    let mut framed = Vec::new();
    let mut taken = 0usize;
    let mut failed = false;
    'feed: for chunk in chunks(stream, size) {
        let mut rest = chunk;
        loop {
            let took = d.push(rest);
            assert!(took <= rest.len());
            taken += took;
            rest = rest.get(took..).unwrap_or(&[]);
            assert!(d.buffered() <= FRAME_HEADER_LEN + MAX_FRAME_LEN);
            let mut got_frame = false;
            loop {
                match d.next_frame() {
                    Ok(Some(frame)) => {
                        assert!(frame.payload.len() <= MAX_FRAME_LEN);
                        assert_eq!(frame.header.first(), Some(&frame.content_type.0));
                        let header = encode_frame_header(frame.content_type, frame.payload.len());
                        assert_eq!(header, Ok(frame.header));
                        framed.extend_from_slice(&frame.header);
                        framed.extend_from_slice(frame.payload);
                        got_frame = true;
                    }
                    Ok(None) => break,
                    Err(_) => {
                        failed = true;
                        break 'feed;
                    }
                }
            }
            if rest.is_empty() {
                break;
            }
            // Taking nothing is only allowed while a complete frame waits to be drained.
            assert!(took > 0 || got_frame, "deframer stalled");
        }
    }
    assert_eq!(framed.as_slice(), stream.get(..framed.len()).unwrap_or(&[]));
    if !failed {
        assert_eq!(taken, stream.len());
        assert_eq!(d.buffered(), stream.len() - framed.len());
    }
}

// ---------------------------------------------------------------------------------------
// handshake_messages
// ---------------------------------------------------------------------------------------

/// The encoding of a message the honest peer builds: refusing one is a bug.
fn encoded(msg: &impl Codec) -> Vec<u8> {
    msg.to_bytes()
        .unwrap_or_else(|e| panic!("an honest message does not encode: {e}"))
}

fn round_trip<T: Codec>(data: &[u8]) {
    if let Ok(value) = T::decode(data) {
        assert_eq!(
            value.to_bytes().as_deref(),
            Ok(data),
            "decode then encode changed the bytes"
        );
    }
}

/// The input through every handshake message decoder; whatever decodes must encode back
/// to exactly the input (one canonical encoding, no trailing bytes).
pub fn handshake_messages(data: &[u8]) {
    round_trip::<ClientHello>(data);
    round_trip::<ServerHello>(data);
    round_trip::<ServerCertificate>(data);
    round_trip::<ServerVerify>(data);
    round_trip::<ServerFinished>(data);
    round_trip::<ClientIdentity>(data);
    round_trip::<ClientVerify>(data);
    round_trip::<ClientFinished>(data);
    round_trip::<Welcome>(data);
}

// ---------------------------------------------------------------------------------------
// The emulated peer: genuine messages, edited as the input says, then signed and sealed
// ---------------------------------------------------------------------------------------

/// What a message of the emulated peer contains.
#[derive(Clone, Debug)]
enum Content {
    /// Fixed bytes (type byte and body).
    Literal(Vec<u8>),
    /// A Verify message of this type, signed by the peer over the transcript so far.
    Signature(HandshakeType, &'static [u8]),
    /// A Finished message of this type, MACed over the transcript so far.
    Mac(HandshakeType),
}

/// How a message goes on the wire.
#[derive(Clone, Copy, Debug)]
enum Framing {
    /// In a plaintext frame of this content type.
    Plain(u8),
    /// In a data record under the peer's current keys.
    Sealed,
    /// In a close record under the peer's current keys.
    Close,
}

/// A byte-level edit of one message, applied after it is computed.
#[derive(Clone, Debug)]
enum Edit {
    Flip(u16, u8),
    Set(u16, u8),
    Truncate(u16),
    Append(Vec<u8>),
}

#[derive(Clone, Debug)]
struct Msg {
    framing: Framing,
    content: Content,
    edits: Vec<Edit>,
}

impl Msg {
    fn new(framing: Framing, content: Content) -> Self {
        Msg {
            framing,
            content,
            edits: Vec::new(),
        }
    }

    fn sealed(bytes: Vec<u8>) -> Self {
        Msg::new(Framing::Sealed, Content::Literal(bytes))
    }

    fn plain(bytes: Vec<u8>) -> Self {
        Msg::new(
            Framing::Plain(ContentType::HANDSHAKE.0),
            Content::Literal(bytes),
        )
    }
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    let at = |pos: u16, len: usize| usize::from(pos) % len.max(1);
    match edit {
        Edit::Flip(pos, bit) => {
            let i = at(*pos, bytes.len());
            if let Some(b) = bytes.get_mut(i) {
                *b ^= 1 << (bit % 8);
            }
        }
        Edit::Set(pos, value) => {
            let i = at(*pos, bytes.len());
            if let Some(b) = bytes.get_mut(i) {
                *b = *value;
            }
        }
        Edit::Truncate(pos) => bytes.truncate(at(*pos, bytes.len() + 1)),
        Edit::Append(more) => bytes.extend_from_slice(more),
    }
}

/// Reads up to seven edits of a flight from the input: byte edits of one message,
/// dropping, duplicating, swapping, re-framing, or inserting arbitrary messages.
fn mutate_flight(flight: &mut Vec<Msg>, input: &mut Input<'_>) {
    let ops = input.u8() % 8;
    for _ in 0..ops {
        let op = input.u8();
        let i = usize::from(input.u8()) % flight.len().max(1);
        match op % 9 {
            0 => push_edit(flight, i, Edit::Flip(input.u16(), input.u8())),
            1 => push_edit(flight, i, Edit::Set(input.u16(), input.u8())),
            2 => push_edit(flight, i, Edit::Truncate(input.u16())),
            3 => {
                let len = usize::from(input.u8());
                push_edit(flight, i, Edit::Append(input.bytes(len).to_vec()));
            }
            4 => {
                if i < flight.len() {
                    flight.remove(i);
                }
            }
            5 => {
                if let Some(m) = flight.get(i).cloned() {
                    flight.insert(i, m);
                }
            }
            6 => {
                let j = usize::from(input.u8()) % flight.len().max(1);
                if i < flight.len() && j < flight.len() {
                    flight.swap(i, j);
                }
            }
            7 => {
                let framing = framing(input.u8());
                if let Some(m) = flight.get_mut(i) {
                    m.framing = framing;
                }
            }
            _ => {
                let framing = framing(input.u8());
                let len = usize::from(input.u16() % 2048);
                let bytes = input.bytes(len).to_vec();
                let at = i.min(flight.len());
                flight.insert(at, Msg::new(framing, Content::Literal(bytes)));
            }
        }
    }
}

fn push_edit(flight: &mut [Msg], i: usize, edit: Edit) {
    if let Some(m) = flight.get_mut(i) {
        m.edits.push(edit);
    }
}

fn framing(b: u8) -> Framing {
    match b % 4 {
        0 | 1 => Framing::Sealed,
        2 => Framing::Close,
        _ => Framing::Plain(b >> 2),
    }
}

/// How far a handshake target drove the machine under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reached {
    /// The emulated peer could not go on (its peer's reply was not what it expected).
    Stopped,
    /// The machine failed the handshake.
    Failed,
    /// The machine waits for more input.
    Waiting,
    /// The handshake completed.
    Established,
}

/// What the emulated peer signs and MACs with.
struct PeerKeys<'a> {
    identity: &'a Identity,
    finished: &'a Secret,
}

/// Computes, edits, adds to the transcript and frames every message of `flight`.
fn emit(
    flight: &[Msg],
    transcript: &mut Transcript,
    sealer: Option<&mut RecordSealer>,
    keys: &PeerKeys<'_>,
    wire: &mut Vec<u8>,
) -> Vec<crate::crypto::TranscriptHash> {
    let mut sealer = sealer;
    let mut snapshots = Vec::with_capacity(flight.len());
    for msg in flight {
        let mut bytes = match &msg.content {
            Content::Literal(b) => b.clone(),
            Content::Signature(ty, context) => {
                let signature = keys
                    .identity
                    .sign(&signed_content(context, &transcript.current()));
                let mut b = vec![ty.0];
                b.extend_from_slice(&signature);
                b
            }
            Content::Mac(ty) => {
                let mut b = vec![ty.0];
                b.extend_from_slice(&finished_mac(keys.finished, &transcript.current()));
                b
            }
        };
        for edit in &msg.edits {
            apply(&mut bytes, edit);
        }
        transcript.add(&bytes);
        snapshots.push(transcript.current());
        match (msg.framing, sealer.as_deref_mut()) {
            (Framing::Sealed, Some(s)) => {
                let _ = s.seal_data(&bytes, wire);
            }
            (Framing::Close, Some(s)) => {
                let _ = s.seal_close(&bytes, wire);
            }
            (Framing::Plain(ct), _) => plain_frame(ContentType(ct), &bytes, wire),
            // No keys yet: what would be sealed goes out as an unreadable sealed frame.
            (_, None) => plain_frame(ContentType::ENCRYPTED_HANDSHAKE, &bytes, wire),
        }
    }
    snapshots
}

fn plain_frame(content_type: ContentType, bytes: &[u8], wire: &mut Vec<u8>) {
    if let Ok(header) = encode_frame_header(content_type, bytes.len()) {
        wire.extend_from_slice(&header);
        wire.extend_from_slice(bytes);
    }
}

/// Up to three byte edits of the framed wire bytes (so frame headers and tags get fuzzed
/// too), then the chunk size to deliver them in.
fn mutate_wire(wire: &mut Vec<u8>, input: &mut Input<'_>) -> u8 {
    let ops = input.u8() % 4;
    for _ in 0..ops {
        let edit = match input.u8() % 4 {
            0 => Edit::Flip(input.u16(), input.u8()),
            1 => Edit::Set(input.u16(), input.u8()),
            2 => Edit::Truncate(input.u16()),
            _ => {
                let len = usize::from(input.u8());
                Edit::Append(input.bytes(len).to_vec())
            }
        };
        apply(wire, &edit);
    }
    input.u8()
}

/// Opens the sealed frames of `wire` with `opener`, adding each handshake message to the
/// transcript, as the real peer would. Plaintext handshake frames are added as they are.
/// Stops at the first frame that does not open.
fn absorb(wire: &[u8], opener: Option<&mut RecordOpener>, transcript: &mut Transcript) -> bool {
    let mut d = Deframer::new();
    let mut opener = opener;
    if d.push(wire) != wire.len() {
        return false;
    }
    loop {
        let frame = match d.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => return d.is_empty(),
            Err(_) => return false,
        };
        if frame.content_type == ContentType::HANDSHAKE {
            transcript.add(frame.payload);
            continue;
        }
        let Some(o) = opener.as_deref_mut() else {
            return false;
        };
        match o.open(&frame.header, frame.payload) {
            Ok(OpenedRecord::Data(msg)) => transcript.add(msg),
            _ => return false,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Feeding the machines
// ---------------------------------------------------------------------------------------

/// Drains every record of `session`, checking nothing but that it does not panic.
fn drain(session: &mut Session, bytes: &[u8]) {
    let mut rest = bytes;
    for _ in 0..=bytes.len() {
        let took = session.push_input(rest);
        rest = rest.get(took..).unwrap_or(&[]);
        while let Ok(Some(_)) = session.next_record() {}
        if rest.is_empty() {
            break;
        }
    }
}

/// A client handshake after a wire of input.
#[allow(clippy::large_enum_variant, reason = "moved once per input")]
enum ClientFed {
    Continue(ClientHandshake),
    Established(Session),
    Failed(HandshakeError),
}

fn feed_client(mut hs: ClientHandshake, wire: &[u8], size: u8) -> ClientFed {
    let mut pieces = chunks(wire, size);
    while let Some(piece) = pieces.next() {
        match hs.handle_input(T0, piece) {
            Ok(ClientProgress::Continue(next)) => hs = next,
            Ok(ClientProgress::Established {
                mut session,
                consumed,
            }) => {
                assert!(consumed <= piece.len());
                drain(&mut session, piece.get(consumed..).unwrap_or(&[]));
                for piece in pieces {
                    drain(&mut session, piece);
                }
                return ClientFed::Established(session);
            }
            Err(e) => return ClientFed::Failed(e),
        }
    }
    ClientFed::Continue(hs)
}

/// A server handshake after a wire of input.
#[allow(clippy::large_enum_variant, reason = "moved once per input")]
enum ServerFed {
    Continue(ServerHandshake),
    Authenticated(Session),
    Failed(HandshakeError),
}

fn feed_server(mut hs: ServerHandshake, wire: &[u8], size: u8) -> ServerFed {
    let mut pieces = chunks(wire, size);
    while let Some(piece) = pieces.next() {
        match hs.handle_input(T0, piece) {
            Ok(ServerProgress::Continue(next)) => hs = next,
            Ok(ServerProgress::Authenticated { client, consumed }) => {
                assert!(consumed <= piece.len());
                assert_eq!(client.username().as_str(), USER);
                assert_eq!(client.public_key(), &fixtures().alice.public_key());
                let mut session = client.accept(SESSION_ID);
                drain(&mut session, piece.get(consumed..).unwrap_or(&[]));
                for piece in pieces {
                    drain(&mut session, piece);
                }
                return ServerFed::Authenticated(session);
            }
            Err(e) => return ServerFed::Failed(e),
        }
    }
    ServerFed::Continue(hs)
}

/// The wire alert of a handshake error is the one generic alert, except when the peer
/// itself ended the handshake.
fn check_alert(e: &HandshakeError) {
    match e {
        HandshakeError::PeerAlert(_) | HandshakeError::Rejected(_) => {
            assert!(e.wire_alert().is_none());
        }
        _ => assert!(e.wire_alert().is_some()),
    }
}

// ---------------------------------------------------------------------------------------
// server_handshake
// ---------------------------------------------------------------------------------------

/// A [`ServerHandshake`] fed attacker bytes.
///
/// First byte below 0x80: the rest is fed as it is, in chunks of `first byte` (0: whole).
/// Otherwise the input edits an honest client (alice, [`TestRng`] seed 1): first its
/// ClientHello flight, then, keyed from the server's real reply, its encrypted
/// ClientIdentity / ClientVerify / ClientFinished flight (signed and MACed over the
/// transcript as edited), then raw bytes for the session. The server must fail cleanly or
/// authenticate exactly alice.
pub fn server_handshake(data: &[u8]) {
    let _ = server_handshake_reached(data);
}

/// [`server_handshake`], saying how far the machine under test got.
pub fn server_handshake_reached(data: &[u8]) -> Reached {
    let f = fixtures();
    let mut input = Input::new(data);
    let mode = input.u8();
    let server = ServerHandshake::new(
        Arc::clone(&f.server_config),
        &mut TestRng::new(SERVER_SEED),
        T0,
    );
    if mode < 0x80 {
        match feed_server(server, input.rest(), mode) {
            ServerFed::Failed(e) => check_alert(&e),
            ServerFed::Continue(_) => return Reached::Waiting,
            ServerFed::Authenticated(_) => panic!("raw bytes authenticated a client"),
        }
        return Reached::Failed;
    }

    // The honest client's first flight.
    let mut rng = TestRng::new(CLIENT_SEED);
    let mut random = [0u8; 32];
    rng.fill_bytes(&mut random);
    let ephemeral = EphemeralKeyPair::generate(&mut rng);
    let hello = ClientHello(Hello {
        version: PROTOCOL_VERSION,
        random,
        key_share: *ephemeral.public(),
    });
    let mut flight = vec![Msg::plain(encoded(&hello))];
    mutate_flight(&mut flight, &mut input);
    let mut transcript = Transcript::default();
    let mut wire = Vec::new();
    let no_finished = extract(b"", b"");
    let alice = PeerKeys {
        identity: &f.alice,
        finished: &no_finished,
    };
    emit(&flight, &mut transcript, None, &alice, &mut wire);
    let size = mutate_wire(&mut wire, &mut input);
    let mut server = match feed_server(server, &wire, size) {
        ServerFed::Continue(s) => s,
        ServerFed::Failed(e) => {
            check_alert(&e);
            return Reached::Failed;
        }
        ServerFed::Authenticated(_) => panic!("authenticated from a first flight"),
    };

    // Key the client from the server's reply, as the real client would.
    let reply = server.output().to_vec();
    server.consume_output(reply.len());
    let Some((server_hello, sealed)) = split_first_frame(&reply) else {
        return Reached::Stopped;
    };
    let Ok(ServerHello(sh)) = ServerHello::decode(server_hello) else {
        return Reached::Stopped;
    };
    transcript.add(server_hello);
    let th_hello = transcript.current();
    let Ok(mut keys) = HandshakeKeys::derive(Role::Client, ephemeral, &sh.key_share, &th_hello)
    else {
        return Reached::Stopped;
    };
    if !absorb(sealed, Some(&mut keys.rx), &mut transcript) {
        return Reached::Stopped;
    }

    // The honest client's second flight.
    let Ok(username) = Username::new(USER) else {
        return Reached::Stopped;
    };
    let mut flight = vec![
        Msg::sealed(encoded(&ClientIdentity { username })),
        Msg::new(
            Framing::Sealed,
            Content::Signature(HandshakeType::CLIENT_VERIFY, CLIENT_SIGNATURE_CONTEXT),
        ),
        Msg::new(
            Framing::Sealed,
            Content::Mac(HandshakeType::CLIENT_FINISHED),
        ),
    ];
    mutate_flight(&mut flight, &mut input);
    let mut wire = Vec::new();
    let finished = keys.client_finished.clone();
    let alice = PeerKeys {
        identity: &f.alice,
        finished: &finished,
    };
    let snapshots = emit(
        &flight,
        &mut transcript,
        Some(&mut keys.tx),
        &alice,
        &mut wire,
    );
    let size = mutate_wire(&mut wire, &mut input);
    wire.extend_from_slice(input.rest());
    match feed_server(server, &wire, size) {
        ServerFed::Failed(e) => {
            check_alert(&e);
            Reached::Failed
        }
        ServerFed::Continue(_) => Reached::Waiting,
        ServerFed::Authenticated(mut session) => {
            // The server checked a Finished over its transcript, which is therefore the
            // emulated client's after one of the messages it sent: under the session keys
            // of that point the Welcome must open.
            let welcome = session.output().to_vec();
            session.consume_output(welcome.len());
            let opened = snapshots
                .iter()
                .any(|th| welcome_opens(&welcome, &sh.key_share, &th_hello, th));
            assert!(opened, "the Welcome opens under none of the client's keys");
            Reached::Established
        }
    }
}

/// Whether `welcome` opens, as a Welcome for our session id, under the client's session
/// keys for the transcript `th_full` (the honest client's key share is regenerated from
/// its seed, as the key exchange consumes it).
fn welcome_opens(
    welcome: &[u8],
    server_share: &[u8; 32],
    th_hello: &crate::crypto::TranscriptHash,
    th_full: &crate::crypto::TranscriptHash,
) -> bool {
    let mut rng = TestRng::new(CLIENT_SEED);
    rng.fill_bytes(&mut [0u8; 32]);
    let ephemeral = EphemeralKeyPair::generate(&mut rng);
    let Ok(keys) = HandshakeKeys::derive(Role::Client, ephemeral, server_share, th_hello) else {
        return false;
    };
    let mut keys = SessionKeys::new(Role::Client, keys.into_session_secrets(th_full));
    let mut d = Deframer::new();
    d.push(welcome);
    let Ok(Some(frame)) = d.next_frame() else {
        return false;
    };
    match keys.rx_standard.open(&frame.header, frame.payload) {
        Ok(OpenedRecord::Data(msg)) => matches!(
            Welcome::decode(msg),
            Ok(Welcome {
                session_id: SESSION_ID,
                ..
            })
        ),
        _ => false,
    }
}

/// The first frame's payload (if it is a plaintext handshake frame) and everything after.
fn split_first_frame(wire: &[u8]) -> Option<(&[u8], &[u8])> {
    let header = wire.get(..FRAME_HEADER_LEN)?;
    if header.first() != Some(&ContentType::HANDSHAKE.0) {
        return None;
    }
    let len = u32::from_be_bytes(header.get(1..5)?.try_into().ok()?);
    let end = FRAME_HEADER_LEN.checked_add(usize::try_from(len).ok()?)?;
    Some((wire.get(FRAME_HEADER_LEN..end)?, wire.get(end..)?))
}

fn server_identity() -> Identity {
    Identity::from_pkcs8_pem(SERVER_KEY).unwrap_or_else(|_| Identity::from_seed(&[0; 32]))
}

// ---------------------------------------------------------------------------------------
// client_handshake
// ---------------------------------------------------------------------------------------

/// A [`ClientHandshake`] (alice, [`TestRng`] seed 1) against an honest server emulated with
/// the fixture chain and key ([`TestRng`] seed 2), whose every flight the input edits: the
/// ServerHello, the encrypted certificate / verify / finished flight (signed and MACed
/// over the transcript as edited), the Welcome (or a close) under the session keys, then
/// raw bytes for the session. The client must fail cleanly, or be established with the
/// server it expects.
pub fn client_handshake(data: &[u8]) {
    let _ = client_handshake_reached(data);
}

/// [`client_handshake`], saying how far the machine under test got.
pub fn client_handshake_reached(data: &[u8]) -> Reached {
    let f = fixtures();
    let mut input = Input::new(data);
    let mut client = ClientHandshake::start(
        Arc::clone(&f.client_config),
        &mut TestRng::new(CLIENT_SEED),
        T0,
        VALID_TIME,
    );
    let hello_wire = client.output().to_vec();
    client.consume_output(hello_wire.len());
    let Some((client_hello, _)) = split_first_frame(&hello_wire) else {
        return Reached::Stopped;
    };
    let Ok(ClientHello(ch)) = ClientHello::decode(client_hello) else {
        return Reached::Stopped;
    };

    // The server's hello.
    let mut rng = TestRng::new(SERVER_SEED);
    let mut random = [0u8; 32];
    rng.fill_bytes(&mut random);
    let ephemeral = EphemeralKeyPair::generate(&mut rng);
    let hello = ServerHello(Hello {
        version: PROTOCOL_VERSION,
        random,
        key_share: *ephemeral.public(),
    });
    let mut transcript = Transcript::default();
    transcript.add(client_hello);
    let mut wire = Vec::new();
    let mut flight = vec![Msg::plain(encoded(&hello))];
    mutate_flight(&mut flight, &mut input);
    let no_finished = extract(b"", b"");
    let server_id = PeerKeys {
        identity: &f.server_identity,
        finished: &no_finished,
    };
    emit(&flight, &mut transcript, None, &server_id, &mut wire);

    // The server's encrypted flight.
    let Ok(mut keys) = HandshakeKeys::derive(
        Role::Server,
        ephemeral,
        &ch.key_share,
        &transcript.current(),
    ) else {
        return Reached::Stopped;
    };
    let mut flight = vec![
        Msg::sealed(encoded(&ServerCertificate {
            chain: f.chain.clone(),
        })),
        Msg::new(
            Framing::Sealed,
            Content::Signature(HandshakeType::SERVER_VERIFY, SERVER_SIGNATURE_CONTEXT),
        ),
        Msg::new(
            Framing::Sealed,
            Content::Mac(HandshakeType::SERVER_FINISHED),
        ),
    ];
    mutate_flight(&mut flight, &mut input);
    let finished = keys.server_finished.clone();
    let server_id = PeerKeys {
        identity: &f.server_identity,
        finished: &finished,
    };
    emit(
        &flight,
        &mut transcript,
        Some(&mut keys.tx),
        &server_id,
        &mut wire,
    );
    let size = mutate_wire(&mut wire, &mut input);
    let mut client = match feed_client(client, &wire, size) {
        ClientFed::Continue(c) => c,
        ClientFed::Failed(e) => {
            check_alert(&e);
            return Reached::Failed;
        }
        ClientFed::Established(_) => panic!("established without a Welcome"),
    };

    // The client's flight, read by the emulated server.
    let reply = client.output().to_vec();
    client.consume_output(reply.len());
    if reply.is_empty() || !absorb(&reply, Some(&mut keys.rx), &mut transcript) {
        return Reached::Stopped;
    }
    let session_keys = SessionKeys::new(
        Role::Server,
        keys.into_session_secrets(&transcript.current()),
    );
    let mut server = session_keys;

    // The Welcome.
    let Ok(username) = Username::new(USER) else {
        return Reached::Stopped;
    };
    let welcome = Welcome {
        session_id: SESSION_ID,
        username,
    };
    let mut flight = vec![Msg::sealed(encoded(&welcome))];
    mutate_flight(&mut flight, &mut input);
    let mut wire = Vec::new();
    emit(
        &flight,
        &mut transcript,
        Some(&mut server.tx_standard),
        &server_id,
        &mut wire,
    );
    let size = mutate_wire(&mut wire, &mut input);
    wire.extend_from_slice(input.rest());
    match feed_client(client, &wire, size) {
        ClientFed::Failed(e) => {
            check_alert(&e);
            Reached::Failed
        }
        ClientFed::Continue(_) => Reached::Waiting,
        ClientFed::Established(mut session) => {
            assert_eq!(
                session.peer(),
                &PeerIdentity::Server {
                    name: String::from("localhost"),
                    key: f.server_key,
                }
            );
            // The client opened the Welcome, so it holds the emulated server's session
            // keys: its first record must open there.
            if session.send(Channel::Standard, b"ping").is_ok() {
                let mut d = Deframer::new();
                d.push(session.output());
                let Ok(Some(frame)) = d.next_frame() else {
                    panic!("no record after send");
                };
                let opened = server.rx_standard.open(&frame.header, frame.payload);
                assert_eq!(opened, Ok(OpenedRecord::Data(b"ping")));
            }
            Reached::Established
        }
    }
}

// ---------------------------------------------------------------------------------------
// record
// ---------------------------------------------------------------------------------------

/// A record one side sent, for checking what the other side accepts.
#[derive(Debug, PartialEq, Eq)]
enum Sent {
    Data(Channel, Vec<u8>),
    Close(u8),
}

impl Sent {
    /// The channel's queue it belongs to (a close travels on the standard channel).
    fn lane(&self) -> usize {
        match self {
            Sent::Data(Channel::Request, _) => 1,
            _ => 0,
        }
    }
}

/// One direction of the record target.
#[derive(Default)]
struct Direction {
    /// Records transmitted and not yet received, per channel (standard, request): each
    /// channel has its own keys and counter, so each is its own ordered stream.
    sent: [VecDeque<Sent>; 2],
    /// Records sealed into the sender's output but not transmitted yet.
    queued: Vec<Sent>,
    /// Bytes on the wire, not yet delivered.
    wire: Vec<u8>,
}

/// A genuine client-server session pair: the full handshake with the fixture PKI, the
/// [`TestRng`] seeds 1 and 2, alice as the user and session id 7.
///
/// Returns `None` only if the handshake fails, which is a bug the replay tests catch.
pub fn session_pair() -> Option<(Session, Session)> {
    let f = fixtures();
    let mut client = ClientHandshake::start(
        Arc::clone(&f.client_config),
        &mut TestRng::new(CLIENT_SEED),
        T0,
        VALID_TIME,
    );
    let server = ServerHandshake::new(
        Arc::clone(&f.server_config),
        &mut TestRng::new(SERVER_SEED),
        T0,
    );
    let hello = client.output().to_vec();
    client.consume_output(hello.len());
    let ServerProgress::Continue(mut server) = server.handle_input(T0, &hello).ok()? else {
        return None;
    };
    let flight = server.output().to_vec();
    server.consume_output(flight.len());
    let ClientProgress::Continue(mut client) = client.handle_input(T0, &flight).ok()? else {
        return None;
    };
    let flight = client.output().to_vec();
    client.consume_output(flight.len());
    let ServerProgress::Authenticated { client: auth, .. } =
        server.handle_input(T0, &flight).ok()?
    else {
        return None;
    };
    let mut server = auth.accept(SESSION_ID);
    let welcome = server.output().to_vec();
    server.consume_output(welcome.len());
    let ClientProgress::Established {
        session: client, ..
    } = client.handle_input(T0, &welcome).ok()?
    else {
        return None;
    };
    Some((client, server))
}

/// A genuine session pair, then up to 64 operations the input chooses, in either
/// direction: send data on either channel, close, transmit, flip / insert / delete wire
/// bytes, drop unsent output, reflect the wire back to its sender, and deliver in chunks.
///
/// Checks the record layer's promise: whatever a side accepts is exactly the sequence its
/// peer sent, in order, on the right channel: tampering, replay, reordering or reflection
/// may only end the session, never deliver other bytes.
pub fn record(data: &[u8]) {
    let Some((client, server)) = session_pair() else {
        panic!("the genuine handshake failed");
    };
    let mut sides = [client, server];
    let mut dirs = [Direction::default(), Direction::default()];
    let mut input = Input::new(data);
    for _ in 0..64 {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        let from = usize::from(op & 1);
        let (Some(sender), Some(dir)) = (sides.get_mut(from), dirs.get_mut(from)) else {
            return;
        };
        match (op >> 1) % 9 {
            0 => {
                let channel = if op & 0x80 == 0 {
                    Channel::Standard
                } else {
                    Channel::Request
                };
                let len = usize::from(input.u16()) % 17_000;
                let mut payload = input.bytes(len).to_vec();
                // Long payloads would exhaust the input: pad with a pattern.
                payload.resize(len, 0xa5);
                if sender.send(channel, &payload).is_ok() {
                    dir.queued.push(Sent::Data(channel, payload));
                }
            }
            1 => {
                // `is_closed` is also true once the peer closed, and a side may still
                // answer with its own close: whether one was sent shows in the output.
                let reason = input.u8();
                let before = sender.output().len();
                if sender.close(CloseReason(reason)).is_ok() && sender.output().len() > before {
                    dir.queued.push(Sent::Close(reason));
                }
            }
            2 => transmit(sender, dir),
            3 => apply(&mut dir.wire, &Edit::Flip(input.u16(), input.u8())),
            4 => {
                let len = usize::from(input.u8());
                let bytes = input.bytes(len);
                let at = usize::from(input.u16()) % (dir.wire.len() + 1);
                dir.wire.splice(at..at, bytes.iter().copied());
            }
            5 => {
                let start = usize::from(input.u16()) % (dir.wire.len() + 1);
                let end = start
                    .saturating_add(usize::from(input.u8()))
                    .min(dir.wire.len());
                dir.wire.drain(start..end);
            }
            // Lose unsent output: those records never reach the peer, and the records
            // after them on the same channel must then be refused.
            6 => sender.consume_output(usize::from(input.u16())),
            7 => {
                // Reflect: the wire goes back to its own sender, whose keys differ.
                let wire = core::mem::take(&mut dir.wire);
                feed_records(sender, &wire, input.u8(), |r| {
                    panic!("a reflected record was accepted: {r:?}")
                });
            }
            _ => {
                let size = input.u8();
                deliver(&mut sides, &mut dirs, from, size);
            }
        }
    }
    // Then whatever is queued is delivered as it is, in both directions.
    for from in [0, 1] {
        if let (Some(s), Some(d)) = (sides.get_mut(from), dirs.get_mut(from)) {
            transmit(s, d);
        }
        deliver(&mut sides, &mut dirs, from, 0);
    }
}

fn transmit(sender: &mut Session, dir: &mut Direction) {
    dir.wire.extend_from_slice(sender.output());
    sender.consume_output(sender.output().len());
    for sent in dir.queued.drain(..) {
        if let Some(lane) = dir.sent.get_mut(sent.lane()) {
            lane.push_back(sent);
        }
    }
}

/// Delivers the wire of direction `from` to the other side: every record accepted must be
/// the next one sent on its channel.
fn deliver(sides: &mut [Session; 2], dirs: &mut [Direction; 2], from: usize, size: u8) {
    let (Some(receiver), Some(dir)) = (sides.get_mut(1 - from), dirs.get_mut(from)) else {
        return;
    };
    let wire = core::mem::take(&mut dir.wire);
    let sent = &mut dir.sent;
    feed_records(receiver, &wire, size, |received| {
        let expected = sent.get_mut(received.lane()).and_then(VecDeque::pop_front);
        assert_eq!(
            Some(&received),
            expected.as_ref(),
            "accepted a record its peer did not send in this order"
        );
    });
}

/// Feeds `wire` to `receiver` in chunks of `size`, handing every record it accepts to
/// `accepted`.
fn feed_records(receiver: &mut Session, wire: &[u8], size: u8, mut accepted: impl FnMut(Sent)) {
    for piece in chunks(wire, size) {
        let mut rest = piece;
        loop {
            let took = receiver.push_input(rest);
            rest = rest.get(took..).unwrap_or(&[]);
            let mut progressed = took > 0;
            loop {
                let record = match receiver.next_record() {
                    Ok(Some(Incoming::Data { channel, payload })) => {
                        Sent::Data(channel, payload.to_vec())
                    }
                    Ok(Some(Incoming::Closed(reason))) => Sent::Close(reason.0),
                    Ok(None) => break,
                    Err(_) => {
                        // Fatal and sticky: from now on all input is swallowed.
                        progressed = true;
                        break;
                    }
                };
                progressed = true;
                accepted(record);
            }
            if rest.is_empty() {
                break;
            }
            assert!(progressed, "session input stalled");
        }
    }
}

// ---------------------------------------------------------------------------------------
// pki
// ---------------------------------------------------------------------------------------

/// Certificate chains and CRLs from the input.
///
/// The input is split into length-prefixed pieces (two-byte big-endian lengths): the first
/// byte says how many pieces are the chain (1 to 5, the leaf first) and whether one more
/// piece is a CRL. The chain is verified for `localhost` at the fixtures' valid time with
/// the fixture CA and CRL; a CRL from the input is used for a second verifier; the pieces
/// also go to [`ServerCredentials::new`]. The whole input, as text, goes to
/// [`certificates_from_pem`] and [`crls_from_pem`], and every block they find is verified
/// the same way.
pub fn pki(data: &[u8]) {
    let f = fixtures();
    let mut input = Input::new(data);
    let selector = input.u8();
    let certs = usize::from(selector % 5) + 1;
    let mut chain: Vec<&[u8]> = Vec::with_capacity(certs);
    for _ in 0..certs {
        let len = usize::from(input.u16());
        chain.push(input.bytes(len));
    }
    verify_chain(&f.verifier, &chain);
    if selector & 0x80 != 0 {
        let len = usize::from(input.u16());
        let crl = input.bytes(len).to_vec();
        let policy = RevocationPolicy::CheckCrls(vec![f.crl_der.clone(), crl]);
        if let Ok(v) = ServerCertVerifier::new(f.ca_der.clone(), policy) {
            verify_chain(&v, &chain);
        }
    }
    if selector & 0x40 != 0 {
        let owned: Vec<Vec<u8>> = chain.iter().map(|c| c.to_vec()).collect();
        if let Ok(c) = ServerCredentials::new(owned, server_identity()) {
            // Credentials check that the chain parses and that the leaf carries the key,
            // not the signatures (the client does): the leaf must hold the server's key.
            let leaf = c.chain().first().map(Vec::as_slice).unwrap_or(&[]);
            let key = f.server_key.as_bytes().as_slice();
            assert!(
                leaf.windows(key.len()).any(|w| w == key),
                "credentials accepted a leaf without the server's key"
            );
        }
    }

    let text = String::from_utf8_lossy(data);
    if let Ok(certs) = certificates_from_pem(&text) {
        let refs: Vec<&[u8]> = certs.iter().map(Vec::as_slice).collect();
        if !refs.is_empty() {
            verify_chain(&f.verifier, &refs);
        }
    }
    if let Ok(crls) = crls_from_pem(&text)
        && !crls.is_empty()
        && let Ok(v) = ServerCertVerifier::new(f.ca_der.clone(), RevocationPolicy::CheckCrls(crls))
    {
        let fixture: Vec<&[u8]> = f.chain.iter().map(Vec::as_slice).collect();
        verify_chain(&v, &fixture);
    }
}

fn verify_chain(verifier: &ServerCertVerifier, chain: &[&[u8]]) {
    if let Ok(key) = verifier.verify_server(chain, "localhost", VALID_TIME) {
        // Only an unrevoked chain to the fixture CA naming localhost gets through: the
        // fixture server's, or (given the intermediate's CRL) the one behind the
        // intermediate. The revoked fixture server never does, as long as the fixture
        // CRL is the CA's first (see the `findings` tests of tests/fuzz_corpus.rs).
        let f = fixtures();
        assert!(
            key == f.server_key || key == f.via_intermediate_key,
            "an unexpected chain verified"
        );
    }
}

// ---------------------------------------------------------------------------------------
// pem_keys
// ---------------------------------------------------------------------------------------

/// The input as PEM text and as DER to every key reader, and as a username. Whatever
/// parses must write back to something that parses to the same key or name.
pub fn pem_keys(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = Identity::from_pkcs8_pem(&text) {
        check_identity(&id);
    }
    if let Ok(id) = Identity::from_pkcs8_der(data) {
        check_identity(&id);
    }
    if let Ok(key) = PublicKey::from_public_key_pem(&text) {
        check_public_key(&key);
    }
    if let Ok(key) = PublicKey::from_public_key_der(data) {
        check_public_key(&key);
    }
    if let Ok(name) = Username::new(&text) {
        assert_eq!(name.as_str(), text);
    }
    match Username::from_bytes(data) {
        Ok(name) => assert_eq!(name.as_str().as_bytes(), data),
        Err(_) => assert!(Username::new(&text).is_err() || text.as_bytes() != data),
    }
}

fn check_identity(id: &Identity) {
    let pem = id.to_pkcs8_pem();
    let der = id.to_pkcs8_der();
    assert!(pem.is_ok() && der.is_ok(), "a parsed key does not encode");
    if let (Ok(pem), Ok(der)) = (pem, der) {
        let back = Identity::from_pkcs8_pem(&pem).map(|i| i.public_key());
        assert_eq!(back, Ok(id.public_key()));
        let back = Identity::from_pkcs8_der(&der).map(|i| i.public_key());
        assert_eq!(back, Ok(id.public_key()));
    }
}

fn check_public_key(key: &PublicKey) {
    let pem = key.to_public_key_pem();
    let der = key.to_public_key_der();
    assert!(pem.is_ok() && der.is_ok(), "a parsed key does not encode");
    if let (Ok(pem), Ok(der)) = (pem, der) {
        assert_eq!(PublicKey::from_public_key_pem(&pem).as_ref(), Ok(key));
        assert_eq!(PublicKey::from_public_key_der(&der).as_ref(), Ok(key));
    }
}

// ---------------------------------------------------------------------------------------
// Seed corpora
// ---------------------------------------------------------------------------------------

/// A handful of small genuine inputs for `target`, written to `fuzz/corpus/<target>/` by
/// the facade's `tests/fuzz_corpus.rs` when `SECURECOM_WRITE_CORPUS` is set.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let f = fixtures();
    let flights = genuine_flights();
    match target {
        "deframer" => {
            let mut seeds: Vec<Vec<u8>> =
                flights.iter().map(|w| [&[0u8][..], w].concat()).collect();
            seeds.push([&[3u8][..], &flights.concat()].concat());
            seeds.push(vec![1, 0x04, 0, 0, 0, 2, 0xaa, 0xbb, 0x02, 0, 0, 0, 0]);
            seeds.push(vec![0, 0x04, 0, 1, 0, 1]);
            seeds
        }
        "handshake_messages" => {
            // The plaintext hellos as sent, then every encrypted message as encoded.
            let mut seeds: Vec<Vec<u8>> = flights
                .iter()
                .take(2)
                .filter_map(|w| split_first_frame(w).map(|(msg, _)| msg.to_vec()))
                .collect();
            seeds.push(encoded(&ServerCertificate {
                chain: f.chain.clone(),
            }));
            seeds.push(encoded(&ServerVerify(Verify { signature: [9; 64] })));
            seeds.push(encoded(&ServerFinished(Finished { mac: [10; 32] })));
            seeds.push(encoded(&ClientVerify(Verify { signature: [7; 64] })));
            seeds.push(encoded(&ClientFinished(Finished { mac: [8; 32] })));
            if let Ok(username) = Username::new(USER) {
                seeds.push(encoded(&ClientIdentity {
                    username: username.clone(),
                }));
                seeds.push(encoded(&Welcome {
                    session_id: SESSION_ID,
                    username,
                }));
            }
            seeds
        }
        "server_handshake" => {
            let mut seeds = vec![
                // Raw: the genuine ClientHello, whole and byte by byte.
                [&[0u8][..], flights.first().map_or(&[][..], Vec::as_slice)].concat(),
                [&[1u8][..], flights.first().map_or(&[][..], Vec::as_slice)].concat(),
                // Emulated, no edits: a complete genuine login.
                vec![0x80, 0, 0, 0, 0, 0, 0],
                // Emulated, second flight delivered in 7-byte chunks.
                vec![0x80, 0, 0, 0, 0, 0, 7],
                // Emulated, ClientVerify dropped.
                vec![0x80, 0, 0, 0, 1, 4, 1, 0, 0],
                // Emulated, ClientIdentity flipped.
                vec![0x80, 0, 0, 0, 1, 0, 0, 0, 3, 1, 0, 0],
            ];
            // Emulated, an inserted sealed message of every kind the server knows.
            for ty in [0x10u8, 0x11, 0x15] {
                seeds.push(vec![0x80, 0, 0, 0, 1, 8, 0, 0, 0, 2, ty, 0, 0, 0]);
            }
            seeds
        }
        "client_handshake" => vec![
            // No edits: a complete genuine login.
            vec![0, 0, 0, 0, 0, 0],
            // The server flight in 3-byte chunks.
            vec![0, 0, 0, 3, 0, 0],
            // The certificate flipped at byte 40.
            vec![0, 1, 0, 0, 0, 40, 5, 0, 0, 0, 0],
            // ServerVerify and ServerFinished swapped.
            vec![0, 1, 6, 1, 2, 0, 0, 0, 0],
            // A close instead of the Welcome.
            vec![0, 0, 0, 0, 1, 7, 0, 2, 0, 0],
            // Trailing records after the Welcome.
            [&[0u8, 0, 0, 0, 0, 0][..], &flights.concat()].concat(),
        ],
        "record" => vec![
            // Client sends "hello" on the standard channel, transmit, deliver.
            [&[0u8, 0, 5][..], b"hello", &[4, 16]].concat(),
            // Server sends on the request channel in 1-byte chunks.
            [&[0x81u8, 0, 3][..], b"abc", &[5, 17, 1]].concat(),
            // Send, transmit, flip a bit, deliver.
            [&[0u8, 0, 4][..], b"ping", &[4, 6, 0, 9, 3, 16, 0]].concat(),
            // Close and deliver; reflect.
            vec![2, 0, 4, 16, 0, 0, 2, b'x', 4, 14, 0],
        ],
        "pki" => {
            let len = |b: &[u8]| u16::try_from(b.len()).unwrap_or(u16::MAX).to_be_bytes();
            let leaf = f.chain.first().cloned().unwrap_or_default();
            let via = certificates_from_pem(INTERMEDIATE_CHAIN).unwrap_or_default();
            let crl_i = crls_from_pem(CRL_INTERMEDIATE).unwrap_or_default();
            // Two certificates (0x83 % 5 + 1) and a CRL (0x80).
            let mut two = vec![0x83u8];
            for c in &via {
                two.extend_from_slice(&len(c));
                two.extend_from_slice(c);
            }
            if let Some(c) = crl_i.first() {
                two.extend_from_slice(&len(c));
                two.extend_from_slice(c);
            }
            vec![
                [&[0x40u8][..], &len(&leaf), &leaf].concat(),
                [
                    &[0x80u8][..],
                    &len(&leaf),
                    &leaf,
                    &len(&f.crl_der),
                    &f.crl_der,
                ]
                .concat(),
                two,
                [SERVER_CHAIN, CRL].concat().into_bytes(),
                INTERMEDIATE_CHAIN.as_bytes().to_vec(),
            ]
        }
        "pem_keys" => {
            let alice = &f.alice;
            let mut seeds = vec![
                ALICE_KEY.as_bytes().to_vec(),
                ALICE_PUB.as_bytes().to_vec(),
                b"alice".to_vec(),
                b"bob.smith-2".to_vec(),
            ];
            if let Ok(der) = alice.to_pkcs8_der() {
                seeds.push(der.to_vec());
            }
            if let Ok(der) = alice.public_key().to_public_key_der() {
                seeds.push(der);
            }
            seeds
        }
        "relay" => relay::seeds(),
        "client" => client::seeds(),
        "chat" => chat::seeds(),
        "scheduler" => scheduler::seeds(),
        _ => Vec::new(),
    }
}

/// The four flights of the genuine handshake of [`session_pair`], as on the wire:
/// ClientHello, the server's flight, the client's flight, the Welcome.
fn genuine_flights() -> Vec<Vec<u8>> {
    let f = fixtures();
    let mut flights = Vec::new();
    let mut client = ClientHandshake::start(
        Arc::clone(&f.client_config),
        &mut TestRng::new(CLIENT_SEED),
        T0,
        VALID_TIME,
    );
    let server = ServerHandshake::new(
        Arc::clone(&f.server_config),
        &mut TestRng::new(SERVER_SEED),
        T0,
    );
    flights.push(client.output().to_vec());
    client.consume_output(client.output().len());
    let Ok(ServerProgress::Continue(mut server)) = server.handle_input(T0, &flights.concat())
    else {
        return flights;
    };
    flights.push(server.output().to_vec());
    server.consume_output(server.output().len());
    let Ok(ClientProgress::Continue(mut client)) =
        client.handle_input(T0, &flights.get(1).cloned().unwrap_or_default())
    else {
        return flights;
    };
    flights.push(client.output().to_vec());
    client.consume_output(client.output().len());
    let Ok(ServerProgress::Authenticated { client: auth, .. }) =
        server.handle_input(T0, &flights.get(2).cloned().unwrap_or_default())
    else {
        return flights;
    };
    let session = auth.accept(SESSION_ID);
    flights.push(session.output().to_vec());
    flights
}
