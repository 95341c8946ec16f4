//! One named test per way a handshake must fail.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::*;
use crate::codec::ContentType;
use crate::identity::Username;
use crate::pki::{CertificateError, RevocationPolicy, ServerCertVerifier, certificates_from_pem};
use crate::session::CloseReason;

fn client_at(config: Arc<ClientConfig>, wall_clock: crate::time::UnixTime) -> Run {
    Run {
        client: ClientHandshake::start(config, &mut TestRng::new(1), T0, wall_clock),
        server: ServerHandshake::new(server_config(), &mut TestRng::new(2), T0),
    }
}

fn server_presenting(chain_pem: &str, key_pem: &str) -> ServerHandshake {
    let config = server_config_presenting(chain_pem, key_pem);
    ServerHandshake::new(config, &mut TestRng::new(2), T0)
}

fn client_error(outcome: Outcome) -> HandshakeError {
    match outcome {
        Outcome::ClientFailed(e) => e,
        other => panic!("expected the client to fail, got {other:?}"),
    }
}

fn server_error(outcome: Outcome) -> HandshakeError {
    match outcome {
        Outcome::ServerFailed(e) => e,
        other => panic!("expected the server to fail, got {other:?}"),
    }
}

#[test]
fn wrong_ca_is_rejected() {
    let ca = certificates_from_pem(OTHER_CA).unwrap().remove(0);
    let verifier =
        ServerCertVerifier::new(ca, RevocationPolicy::DangerousNoRevocationCheck).unwrap();
    let run = Run {
        client: ClientHandshake::start(
            client_config_with(verifier, "localhost", "alice"),
            &mut TestRng::new(1),
            T0,
            VALID_TIME,
        ),
        server: ServerHandshake::new(server_config(), &mut TestRng::new(2), T0),
    };
    assert_eq!(
        client_error(run.drive(|_, _| {})),
        HandshakeError::Certificate(CertificateError::UnknownIssuer)
    );
}

#[test]
fn expired_server_certificate_is_rejected() {
    let after_expiry = crate::time::UnixTime::from_secs(2_095_891_200);
    let e = client_error(client_at(client_config("alice"), after_expiry).drive(|_, _| {}));
    assert!(
        matches!(
            e,
            HandshakeError::Certificate(CertificateError::Expired { .. })
        ),
        "{e:?}"
    );
}

#[test]
fn not_yet_valid_server_certificate_is_rejected() {
    let before = crate::time::UnixTime::from_secs(1_748_736_000);
    let e = client_error(client_at(client_config("alice"), before).drive(|_, _| {}));
    assert!(
        matches!(
            e,
            HandshakeError::Certificate(CertificateError::NotYetValid { .. })
        ),
        "{e:?}"
    );
}

#[test]
fn stale_crl_is_rejected() {
    let crl_stale = crate::time::UnixTime::from_secs(1_772_323_200);
    let e = client_error(client_at(client_config("alice"), crl_stale).drive(|_, _| {}));
    assert!(
        matches!(
            e,
            HandshakeError::Certificate(CertificateError::CrlExpired { .. })
        ),
        "{e:?}"
    );
}

#[test]
fn revoked_server_certificate_is_rejected() {
    let run = Run {
        client: ClientHandshake::start(
            client_config("alice"),
            &mut TestRng::new(1),
            T0,
            VALID_TIME,
        ),
        server: server_presenting(REVOKED_SERVER, REVOKED_SERVER_KEY),
    };
    assert_eq!(
        client_error(run.drive(|_, _| {})),
        HandshakeError::Certificate(CertificateError::Revoked)
    );
}

#[test]
fn crl_signed_by_another_key_is_rejected() {
    let verifier = ServerCertVerifier::from_pem(CA, Some(CRL_OTHER_KEY)).unwrap();
    // A server carrying no CRL: one carrying the genuine, newer CRL 2 would replace the
    // forged CRL 1 for the handshake (tests/crl.rs).
    let run = Run {
        client: ClientHandshake::start(
            client_config_with(verifier, "localhost", "alice"),
            &mut TestRng::new(1),
            T0,
            VALID_TIME,
        ),
        server: server_presenting(SERVER_CHAIN, SERVER_KEY),
    };
    assert_eq!(
        client_error(run.drive(|_, _| {})),
        HandshakeError::Certificate(CertificateError::CrlBadSignature)
    );
}

#[test]
fn name_mismatch_is_rejected() {
    let run = client_at(
        client_config_with(verifier(), "chat.example.com", "alice"),
        VALID_TIME,
    );
    assert_eq!(
        client_error(run.drive(|_, _| {})),
        HandshakeError::Certificate(CertificateError::NameMismatch)
    );
}

#[test]
fn ca_certificate_presented_as_leaf_is_rejected() {
    let run = Run {
        client: ClientHandshake::start(
            client_config("alice"),
            &mut TestRng::new(1),
            T0,
            VALID_TIME,
        ),
        server: server_presenting(CA, CA_KEY),
    };
    assert_eq!(
        client_error(run.drive(|_, _| {})),
        HandshakeError::Certificate(CertificateError::CaUsedAsEndEntity)
    );
}

#[test]
fn unknown_username_is_rejected() {
    let mallory = Arc::new(ClientConfig::new(
        verifier(),
        "localhost",
        Username::new("mallory").unwrap(),
        crate::identity::Identity::from_seed(&[66; 32]),
    ));
    let e = server_error(Run::new(mallory, 1, 2).drive(|_, _| {}));
    assert_eq!(
        e,
        HandshakeError::UnknownUser(Username::new("mallory").unwrap())
    );
    // The peer learns only the generic failure.
    assert_eq!(
        e.wire_alert(),
        HandshakeError::BadClientSignature.wire_alert()
    );
}

#[test]
fn client_key_not_matching_directory_is_rejected() {
    let (alice, _) = user("alice");
    let (_, bobs_key) = user("bob");
    let config = Arc::new(ClientConfig::new(verifier(), "localhost", alice, bobs_key));
    assert_eq!(
        server_error(Run::new(config, 1, 2).drive(|_, _| {})),
        HandshakeError::BadClientSignature
    );
}

fn flip_last_byte(msg: &mut [u8]) {
    if let Some(b) = msg.last_mut() {
        *b ^= 0x01;
    }
}

#[test]
fn tampered_server_signature_is_rejected() {
    let mut run = Run::genuine("alice");
    run.server.io.tamper = Some((messages::HandshakeType::SERVER_VERIFY, flip_last_byte));
    assert_eq!(
        client_error(run.drive(|_, _| {})),
        HandshakeError::BadServerSignature
    );
}

#[test]
fn tampered_client_signature_is_rejected() {
    let mut run = Run::genuine("alice");
    run.client.io.tamper = Some((messages::HandshakeType::CLIENT_VERIFY, flip_last_byte));
    assert_eq!(
        server_error(run.drive(|_, _| {})),
        HandshakeError::BadClientSignature
    );
}

#[test]
fn tampered_finished_is_rejected() {
    let mut run = Run::genuine("alice");
    run.server.io.tamper = Some((messages::HandshakeType::SERVER_FINISHED, flip_last_byte));
    assert_eq!(
        client_error(run.drive(|_, _| {})),
        HandshakeError::BadServerFinished
    );

    let mut run = Run::genuine("alice");
    run.client.io.tamper = Some((messages::HandshakeType::CLIENT_FINISHED, flip_last_byte));
    assert_eq!(
        server_error(run.drive(|_, _| {})),
        HandshakeError::BadClientFinished
    );
}

#[test]
fn handshake_message_replayed_from_earlier_session_is_rejected() {
    let mut recorded: Vec<Vec<u8>> = Vec::new();
    let first = Run::new(client_config("alice"), 10, 20).drive(|_, flight| {
        recorded.push(flight.clone());
    });
    assert!(first.is_established());

    // The client's second flight replayed into a new session with the same client hello
    // (same client randomness) but a fresh server.
    let e = server_error(Run::new(client_config("alice"), 10, 21).drive(|i, flight| {
        if i == CLIENT_FLIGHT {
            *flight = recorded[CLIENT_FLIGHT].clone();
        }
    }));
    assert_eq!(
        e,
        HandshakeError::Record(crate::record::RecordError::BadRecordMac)
    );

    // The server's flight replayed to a client with fresh randomness.
    let e = client_error(Run::new(client_config("alice"), 11, 20).drive(|i, flight| {
        if i == SERVER_FLIGHT {
            *flight = recorded[SERVER_FLIGHT].clone();
        }
    }));
    assert_eq!(
        e,
        HandshakeError::Record(crate::record::RecordError::BadRecordMac)
    );

    // The Welcome of the first session does not open in a second one.
    let e = client_error(Run::new(client_config("alice"), 12, 22).drive(|i, flight| {
        if i == WELCOME {
            *flight = recorded[WELCOME].clone();
        }
    }));
    assert_eq!(
        e,
        HandshakeError::Record(crate::record::RecordError::BadRecordMac)
    );
}

#[test]
fn messages_out_of_order_are_rejected() {
    // A ServerHello where a ClientHello belongs.
    let mut server_hello = Vec::new();
    let _ = Run::genuine("alice").drive(|i, flight| {
        if i == SERVER_FLIGHT {
            server_hello = split_frames(flight).remove(0);
        }
    });
    let server = ServerHandshake::new(server_config(), &mut TestRng::new(5), T0);
    assert_eq!(
        server.handle_input(T0, &server_hello).unwrap_err(),
        HandshakeError::UnexpectedMessage {
            expected: messages::HandshakeType::CLIENT_HELLO,
            got: messages::HandshakeType::SERVER_HELLO,
        }
    );

    // The encrypted part of the server's flight before its ServerHello.
    let e = client_error(Run::genuine("alice").drive(|i, flight| {
        if i == SERVER_FLIGHT {
            let mut frames = split_frames(flight);
            frames.rotate_left(1);
            *flight = frames.concat();
        }
    }));
    assert_eq!(
        e,
        HandshakeError::UnexpectedFrame {
            expected: ContentType::HANDSHAKE,
            got: ContentType::ENCRYPTED_HANDSHAKE,
        }
    );

    // ServerVerify before ServerCertificate: the record counter exposes the swap.
    let e = client_error(Run::genuine("alice").drive(|i, flight| {
        if i == SERVER_FLIGHT {
            let mut frames = split_frames(flight);
            frames.swap(1, 2);
            *flight = frames.concat();
        }
    }));
    assert_eq!(
        e,
        HandshakeError::Record(crate::record::RecordError::BadRecordMac)
    );

    // A second ClientHello after the first.
    let e = server_error(Run::genuine("alice").drive(|i, flight| {
        if i == CLIENT_FLIGHT {
            let hello = {
                let c = ClientHandshake::start(
                    client_config("alice"),
                    &mut TestRng::new(9),
                    T0,
                    VALID_TIME,
                );
                c.output().to_vec()
            };
            *flight = hello;
        }
    }));
    assert_eq!(
        e,
        HandshakeError::UnexpectedFrame {
            expected: ContentType::ENCRYPTED_HANDSHAKE,
            got: ContentType::HANDSHAKE,
        }
    );
}

#[test]
fn version_mismatch_has_no_fallback() {
    // Version field: after the 5-byte frame header and the type byte.
    let e = server_error(Run::genuine("alice").drive(|i, flight| {
        if i == CLIENT_HELLO {
            flight[6..8].copy_from_slice(&2u16.to_be_bytes());
        }
    }));
    assert_eq!(e, HandshakeError::UnsupportedVersion { ours: 1, theirs: 2 });

    let e = client_error(Run::genuine("alice").drive(|i, flight| {
        if i == SERVER_FLIGHT {
            flight[6..8].copy_from_slice(&0u16.to_be_bytes());
        }
    }));
    assert_eq!(e, HandshakeError::UnsupportedVersion { ours: 1, theirs: 0 });
}

#[test]
fn non_contributory_key_share_is_rejected() {
    // Key share: header (5), type (1), version (2), random (32).
    for low_order in [[0u8; 32], {
        let mut one = [0u8; 32];
        one[0] = 1;
        one
    }] {
        let e = server_error(Run::genuine("alice").drive(|i, flight| {
            if i == CLIENT_HELLO {
                flight[40..72].copy_from_slice(&low_order);
            }
        }));
        assert_eq!(e, HandshakeError::NonContributoryKeyShare);
    }
}

#[test]
fn username_is_never_sent_in_clear() {
    let mut wire = Vec::new();
    let outcome = Run::genuine("alice").drive(|_, flight| wire.extend_from_slice(flight));
    assert!(outcome.is_established());
    assert!(
        !wire.windows(5).any(|w| w == b"alice"),
        "the username appears in the handshake bytes"
    );
}

#[test]
fn server_policy_can_reject_after_authentication() {
    let Run { mut client, server } = Run::genuine("alice");
    let hello = client.output().to_vec();
    client.consume_output(hello.len());
    let ServerProgress::Continue(mut server) = server.handle_input(T0, &hello).unwrap() else {
        panic!()
    };
    let flight = server.output().to_vec();
    server.consume_output(flight.len());
    let ClientProgress::Continue(client) = client.handle_input(T0, &flight).unwrap() else {
        panic!()
    };
    let flight = client.output().to_vec();
    let ServerProgress::Authenticated {
        client: pending, ..
    } = server.handle_input(T0, &flight).unwrap()
    else {
        panic!()
    };
    let last_words = pending.reject(CloseReason::ALREADY_LOGGED_IN);
    assert_eq!(
        client.handle_input(T0, &last_words).unwrap_err(),
        HandshakeError::Rejected(CloseReason::ALREADY_LOGGED_IN)
    );
}

#[test]
fn oversized_frame_during_handshake_is_rejected_before_allocation() {
    let server = ServerHandshake::new(server_config(), &mut TestRng::new(5), T0);
    assert_eq!(
        server
            .handle_input(T0, &[ContentType::HANDSHAKE.0, 0xff, 0xff, 0xff, 0xff])
            .unwrap_err(),
        HandshakeError::Frame(crate::codec::FrameError::TooLarge {
            announced: u32::MAX
        })
    );
}

#[test]
fn peer_alert_ends_the_handshake_with_no_alert_back() {
    let e = client_error(Run::genuine("alice").drive(|i, flight| {
        if i == SERVER_FLIGHT {
            *flight = HandshakeError::Timeout.wire_alert().unwrap().to_vec();
        }
    }));
    assert_eq!(e, HandshakeError::PeerAlert(ALERT_HANDSHAKE_FAILURE));
    assert_eq!(e.wire_alert(), None);
}
