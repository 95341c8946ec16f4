//! The `client_handshake` target: a [`ClientHandshake`] against an honest emulated server
//! whose flights the input edits.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use rand_core::Rng;

use super::TestRng;
use super::feed::{
    ClientFed, Reached, check_alert, feed_client, genuine_flights, split_first_frame,
};
use super::input::Input;
use super::peer::{Content, Framing, Msg, PeerKeys, absorb, emit, mutate_flight, mutate_wire};
use crate::codec::{Codec, Deframer};
use crate::crypto::{EphemeralKeyPair, Transcript, extract};
use crate::handshake::messages::{
    ClientHello, HandshakeType, Hello, ServerCertificate, ServerCrl, ServerHello, Welcome,
};
use crate::handshake::{
    ClientHandshake, HandshakeKeys, PROTOCOL_VERSION, SERVER_SIGNATURE_CONTEXT,
};
use crate::identity::Username;
use crate::record::OpenedRecord;
use crate::session::{Channel, PeerIdentity, Role, SessionKeys};
use crate::testkit::fixtures::{self, VALID_TIME};
use crate::testkit::pair::{CLIENT_SEED, SERVER_SEED, SESSION_ID, T0, USER};

/// A [`ClientHandshake`] (alice, [`TestRng`] seed 1) against an honest server emulated with
/// the fixture chain and key ([`TestRng`] seed 2), whose every flight the input edits: the
/// ServerHello, the encrypted CRL / certificate / verify / finished flight (signed and MACed
/// over the transcript as edited), the Welcome (or a close) under the session keys, then
/// raw bytes for the session. The client must fail cleanly, or be established with the
/// server it expects.
pub fn client_handshake(data: &[u8]) {
    let _ = client_handshake_reached(data);
}

/// [`client_handshake`], saying how far the machine under test got.
pub fn client_handshake_reached(data: &[u8]) -> Reached {
    let f = fixtures::get();
    let mut input = Input::new(data);
    let mut client = ClientHandshake::start(
        Arc::clone(&f.user(0).config),
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
    let mut flight = vec![Msg::plain(super::encoded(&hello))];
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
        // The CA's CRL, the same the client holds: parsed and checked, then ignored.
        Msg::sealed(super::encoded(&ServerCrl {
            crl: Some(f.crl_der.clone()),
        })),
        Msg::sealed(super::encoded(&ServerCertificate {
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
    let mut flight = vec![Msg::sealed(super::encoded(&welcome))];
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

/// Seeds: a genuine login whole and in 3-byte chunks; a flipped certificate; a flipped
/// CRL; no CRL message; swapped messages; a close instead of the Welcome; trailing
/// records.
pub(super) fn seeds() -> Vec<Vec<u8>> {
    let flights = genuine_flights();
    vec![
        // No edits: a complete genuine login.
        vec![0, 0, 0, 0, 0, 0],
        // The server flight in 3-byte chunks.
        vec![0, 0, 0, 3, 0, 0],
        // The certificate flipped at byte 40.
        vec![0, 1, 0, 1, 0, 40, 5, 0, 0, 0, 0],
        // The CRL flipped at byte 300 (in its signed part).
        vec![0, 1, 0, 0, 1, 44, 5, 0, 0, 0, 0],
        // The CRL message dropped.
        vec![0, 1, 4, 0, 0, 0, 0, 0],
        // ServerVerify and ServerFinished swapped.
        vec![0, 1, 6, 2, 3, 0, 0, 0, 0],
        // A close instead of the Welcome.
        vec![0, 0, 0, 0, 1, 7, 0, 2, 0, 0],
        // Trailing records after the Welcome.
        [&[0u8, 0, 0, 0, 0, 0][..], &flights.concat()].concat(),
    ]
}
