//! The `server_handshake` target: a [`ServerHandshake`] fed attacker bytes, or an honest
//! emulated client's flights as the input edits them.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use rand_core::Rng;

use super::TestRng;
use super::feed::{
    Reached, ServerFed, check_alert, feed_server, genuine_flights, split_first_frame,
};
use super::input::Input;
use super::peer::{Content, Framing, Msg, PeerKeys, absorb, emit, mutate_flight, mutate_wire};
use crate::codec::{Codec, Deframer};
use crate::crypto::{EphemeralKeyPair, Transcript, TranscriptHash, extract};
use crate::handshake::messages::{
    ClientHello, ClientIdentity, HandshakeType, Hello, ServerHello, Welcome,
};
use crate::handshake::{
    CLIENT_SIGNATURE_CONTEXT, HandshakeKeys, PROTOCOL_VERSION, ServerHandshake,
};
use crate::identity::Username;
use crate::record::OpenedRecord;
use crate::session::{Role, SessionKeys};
use crate::testkit::fixtures;
use crate::testkit::pair::{CLIENT_SEED, SERVER_SEED, SESSION_ID, T0, USER};

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
    let f = fixtures::get();
    let mut input = Input::new(data);
    let mode = input.u8();
    let server = ServerHandshake::new(Arc::clone(&f.server), &mut TestRng::new(SERVER_SEED), T0);
    if mode < 0x80 {
        match feed_server(server, input.rest(), mode) {
            ServerFed::Failed(e) => check_alert(&e),
            ServerFed::Continue(_) => return Reached::Waiting,
            ServerFed::Authenticated(_) => panic!("raw bytes authenticated a client"),
        }
        return Reached::Failed;
    }

    let Keyed {
        server,
        mut transcript,
        mut keys,
        server_share,
        th_hello,
    } = match keyed(server, &mut input) {
        Ok(hello) => hello,
        Err(reached) => return reached,
    };

    // The honest client's second flight.
    let Ok(username) = Username::new(USER) else {
        return Reached::Stopped;
    };
    let mut flight = vec![
        Msg::sealed(super::encoded(&ClientIdentity { username })),
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
        identity: &f.user(0).identity,
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
                .any(|th| welcome_opens(&welcome, &server_share, &th_hello, th));
            assert!(opened, "the Welcome opens under none of the client's keys");
            Reached::Established
        }
    }
}

/// The emulated client (alice) after the server's first flight: the server waiting for
/// her second flight, her transcript and handshake keys, the server's key share and the
/// transcript hash after the ServerHello.
struct Keyed {
    server: ServerHandshake,
    transcript: Transcript,
    keys: HandshakeKeys,
    server_share: [u8; 32],
    th_hello: TranscriptHash,
}

/// The honest client's first flight as `input` edits it, and keying from the server's
/// real reply, as the real client would; `Err` with how far it got if that fails.
fn keyed(server: ServerHandshake, input: &mut Input<'_>) -> Result<Keyed, Reached> {
    let f = fixtures::get();
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
    let mut flight = vec![Msg::plain(super::encoded(&hello))];
    mutate_flight(&mut flight, input);
    let mut transcript = Transcript::default();
    let mut wire = Vec::new();
    let no_finished = extract(b"", b"");
    let alice = PeerKeys {
        identity: &f.user(0).identity,
        finished: &no_finished,
    };
    emit(&flight, &mut transcript, None, &alice, &mut wire);
    let size = mutate_wire(&mut wire, input);
    let mut server = match feed_server(server, &wire, size) {
        ServerFed::Continue(s) => s,
        ServerFed::Failed(e) => {
            check_alert(&e);
            return Err(Reached::Failed);
        }
        ServerFed::Authenticated(_) => panic!("authenticated from a first flight"),
    };

    // Key the client from the server's reply, as the real client would.
    let reply = server.output().to_vec();
    server.consume_output(reply.len());
    let Some((server_hello, sealed)) = split_first_frame(&reply) else {
        return Err(Reached::Stopped);
    };
    let Ok(ServerHello(sh)) = ServerHello::decode(server_hello) else {
        return Err(Reached::Stopped);
    };
    transcript.add(server_hello);
    let th_hello = transcript.current();
    let Ok(mut keys) = HandshakeKeys::derive(Role::Client, ephemeral, &sh.key_share, &th_hello)
    else {
        return Err(Reached::Stopped);
    };
    if !absorb(sealed, Some(&mut keys.rx), &mut transcript) {
        return Err(Reached::Stopped);
    }

    Ok(Keyed {
        server,
        transcript,
        keys,
        server_share: sh.key_share,
        th_hello,
    })
}

/// Whether `welcome` opens, as a Welcome for our session id, under the client's session
/// keys for the transcript `th_full` (the honest client's key share is regenerated from
/// its seed, as the key exchange consumes it).
fn welcome_opens(
    welcome: &[u8],
    server_share: &[u8; 32],
    th_hello: &TranscriptHash,
    th_full: &TranscriptHash,
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

/// Seeds: the raw ClientHello whole and byte by byte; emulated logins unedited, chunked,
/// with a message dropped or flipped, or with a sealed message of every kind inserted.
pub(super) fn seeds() -> Vec<Vec<u8>> {
    let flights = genuine_flights();
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

#[cfg(test)]
mod tests {
    use alloc::sync::Arc;

    use super::*;
    use crate::handshake::{HandshakeError, ServerConfig, signed_content};
    use crate::testkit::fixtures::{INTERMEDIATE_CHAIN, VIA_INTERMEDIATE_KEY};

    fn server(config: Arc<ServerConfig>) -> ServerHandshake {
        ServerHandshake::new(config, &mut TestRng::new(SERVER_SEED), T0)
    }

    /// Alice's login to `server`, up to the server's first flight, unedited.
    fn keyed_to(config: Arc<ServerConfig>) -> Keyed {
        keyed(server(config), &mut Input::new(&[]))
            .unwrap_or_else(|r| panic!("the first flight failed: {r:?}"))
    }

    fn alice() -> Username {
        Username::new(USER).unwrap()
    }

    /// Alice's second flight after `k` with `verify` as its ClientVerify (the identity
    /// and the Finished genuine, under that handshake's keys); what the server made of it.
    fn second_flight(k: Keyed, verify: Content) -> ServerFed {
        let Keyed {
            server,
            mut transcript,
            mut keys,
            ..
        } = k;
        let flight = [
            Msg::sealed(super::super::encoded(&ClientIdentity { username: alice() })),
            Msg::new(Framing::Sealed, verify),
            Msg::new(
                Framing::Sealed,
                Content::Mac(HandshakeType::CLIENT_FINISHED),
            ),
        ];
        let finished = keys.client_finished.clone();
        let peer = PeerKeys {
            identity: &fixtures::get().user(0).identity,
            finished: &finished,
        };
        let mut wire = Vec::new();
        emit(
            &flight,
            &mut transcript,
            Some(&mut keys.tx),
            &peer,
            &mut wire,
        );
        feed_server(server, &wire, 0)
    }

    /// Identity misbinding: mallory runs a server alice trusts too (its chain ends at the
    /// same CA) and that knows alice's key, so alice logs in to it; mallory relays alice's
    /// proof of identity to the genuine server in a handshake of her own. The proof signs
    /// the transcript, which holds the server's certificate chain: it proves nothing to
    /// any other server, even when every other message is the same (both handshakes here
    /// use the same randomness, so they differ in the chain alone and share their keys).
    #[test]
    fn a_client_signature_made_for_another_server_does_not_log_in() {
        let mallory = fixtures::server_config_presenting(INTERMEDIATE_CHAIN, VIA_INTERMEDIATE_KEY);
        let k = keyed_to(Arc::clone(&mallory));
        let mut signed = k.transcript.clone();
        signed.add(&super::super::encoded(&ClientIdentity {
            username: alice(),
        }));
        let signature = fixtures::get()
            .user(0)
            .identity
            .sign(&signed_content(CLIENT_SIGNATURE_CONTEXT, &signed.current()));
        let stolen = [&[HandshakeType::CLIENT_VERIFY.0][..], &signature].concat();
        // Alice's genuine proof, to mallory's server.
        assert!(matches!(
            second_flight(k, Content::Literal(stolen.clone())),
            ServerFed::Authenticated(_)
        ));
        // Relayed to the genuine server: refused.
        match second_flight(
            keyed_to(fixtures::server_config()),
            Content::Literal(stolen),
        ) {
            ServerFed::Failed(e) => assert_eq!(e, HandshakeError::BadClientSignature),
            _ => panic!("a proof made for mallory's server logged alice in elsewhere"),
        }
        // Only the signature was wrong: alice's proof for this handshake logs her in.
        assert!(matches!(
            second_flight(
                keyed_to(fixtures::server_config()),
                Content::Signature(HandshakeType::CLIENT_VERIFY, CLIENT_SIGNATURE_CONTEXT),
            ),
            ServerFed::Authenticated(_)
        ));
    }
}
