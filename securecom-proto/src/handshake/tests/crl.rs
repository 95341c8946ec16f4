//! The CRL in the server's flight (issue 13 item 3): a client adopts its anchor's newer
//! CRL from one server and then refuses another server that CRL revokes; stale CRLs are
//! ignored, foreign ones fail the handshake, and the CRL is bound to the transcript.

use alloc::string::ToString;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::pki::{
    CertificateError, FlightCrlError, FlightCrlSource, NewerCrl, RevocationPolicy, ServedCrl,
    ServerCertVerifier, certificates_from_pem, crls_from_pem,
};

fn crl_der(pem: &str) -> Vec<u8> {
    crls_from_pem(pem).unwrap().remove(0)
}

/// A client of alice's holding `crl_pem` as its CA's CRL.
fn client_holding(crl_pem: &str) -> Arc<ClientConfig> {
    client_config_with(
        ServerCertVerifier::from_pem(CA, Some(crl_pem)).unwrap(),
        SERVER_NAME,
        "alice",
    )
}

/// A server presenting `chain`/`key` that carries `crl` (PEM) in its flight, checked as a
/// real server would check it.
fn server_carrying(chain: &str, key: &str, crl: Option<&str>) -> Arc<ServerConfig> {
    let certs = certificates_from_pem(chain).unwrap();
    let credentials = crate::pki::ServerCredentials::new(certs, identity(key)).unwrap();
    let config = ServerConfig::new(credentials, Arc::new(directory()));
    Arc::new(match crl {
        Some(pem) => config.with_crl_in_flight(crl_der(pem)).unwrap(),
        None => config,
    })
}

/// The fixture server carrying `der` unchecked: what a misconfigured or hostile server
/// could send.
fn server_carrying_unchecked(der: Vec<u8>) -> Arc<ServerConfig> {
    let certs = certificates_from_pem(SERVER_CHAIN).unwrap();
    let credentials = crate::pki::ServerCredentials::new(certs, identity(SERVER_KEY)).unwrap();
    let source: Arc<dyn FlightCrlSource + Send + Sync> =
        Arc::new(Arc::new(ServedCrl::unchecked_for_testing(der)));
    Arc::new(ServerConfig::new(credentials, Arc::new(directory())).with_crl_source(source))
}

fn run(client: Arc<ClientConfig>, server: Arc<ServerConfig>) -> Run {
    Run {
        client: ClientHandshake::start(client, &mut TestRng::new(1), T0, VALID_TIME),
        server: ServerHandshake::new(server, &mut TestRng::new(2), T0),
    }
}

/// Drives a handshake to the end and returns the client's outcome: the newer CRL it
/// reports, or its error.
fn login(
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
) -> Result<Option<NewerCrl>, HandshakeError> {
    let Run { mut client, server } = run(client, server);
    let hello = client.output().to_vec();
    client.consume_output(hello.len());
    let mut server = match server.handle_input(T0, &hello) {
        Ok(ServerProgress::Continue(s)) => s,
        other => panic!("{other:?}"),
    };
    let flight = server.output().to_vec();
    server.consume_output(flight.len());
    let mut client = match client.handle_input(T0, &flight)? {
        ClientProgress::Continue(c) => c,
        other => panic!("{other:?}"),
    };
    let reply = client.output().to_vec();
    client.consume_output(reply.len());
    let mut session = match server.handle_input(T0, &reply) {
        Ok(ServerProgress::Authenticated { client, .. }) => client.accept(7),
        other => panic!("{other:?}"),
    };
    let welcome = session.output().to_vec();
    session.consume_output(welcome.len());
    match client.handle_input(T0, &welcome)? {
        ClientProgress::Established { newer_crl, .. } => Ok(newer_crl),
        other => panic!("{other:?}"),
    }
}

fn revoked() -> HandshakeError {
    HandshakeError::Certificate(CertificateError::Revoked)
}

/// The scenario. Server A's key was stolen and its certificate revoked in CRL 2;
/// the client still holds CRL 1, under which A is fine. Honest server B delivers CRL 2;
/// the client adopts it, and from then on refuses A, whatever A carries.
#[test]
fn a_newer_crl_from_one_server_makes_the_client_refuse_another_it_revokes() {
    let old = client_holding(CRL_EMPTY);
    let server_a = server_carrying(REVOKED_SERVER, REVOKED_SERVER_KEY, None);
    let server_a_with_old = server_carrying(REVOKED_SERVER, REVOKED_SERVER_KEY, Some(CRL_EMPTY));
    // Before: the old CRL lets the thief through (what this defence is about).
    assert_eq!(login(Arc::clone(&old), Arc::clone(&server_a)), Ok(None));

    // Server B carries CRL 2; the client logs in and is handed it, once complete.
    let server_b = server_carrying(SERVER_CHAIN, SERVER_KEY, Some(CRL));
    let newer = login(Arc::clone(&old), server_b)
        .unwrap()
        .expect("the newer CRL is reported");
    assert_eq!(newer.number().to_string(), "2");
    assert_eq!(newer.der(), crl_der(CRL).as_slice());
    assert_eq!(
        newer.next_update(),
        crate::time::UnixTime::from_secs(1_769_817_600)
    );

    // The client stores it: its next verifier holds CRL 2.
    let updated = old.verifier.with_newer_crl(&newer).unwrap();
    assert_eq!(updated.anchor_crl_number(), newer.number().into());
    let updated = client_config_with(updated, SERVER_NAME, "alice");

    // Server A, carrying no CRL or the old one, is now refused as revoked.
    assert_eq!(login(Arc::clone(&updated), server_a), Err(revoked()));
    assert_eq!(
        login(Arc::clone(&updated), server_a_with_old),
        Err(revoked())
    );
    // Server B still works, and delivers nothing newer.
    let server_b = server_carrying(SERVER_CHAIN, SERVER_KEY, Some(CRL));
    assert_eq!(login(updated, server_b), Ok(None));
}

/// A server carrying the CRL that revokes it is refused by that very handshake.
#[test]
fn a_flight_crl_that_revokes_the_sending_server_is_used_against_it() {
    let server_a = server_carrying(REVOKED_SERVER, REVOKED_SERVER_KEY, Some(CRL));
    assert_eq!(login(client_holding(CRL_EMPTY), server_a), Err(revoked()));
}

/// A CRL not newer than the held one is ignored, not an error: nothing is reported and
/// the held CRL decides.
#[test]
fn a_stale_or_equal_flight_crl_is_ignored() {
    let server_old = server_carrying(SERVER_CHAIN, SERVER_KEY, Some(CRL_EMPTY));
    assert_eq!(
        login(client_holding(CRL), Arc::clone(&server_old)),
        Ok(None)
    );
    let server_same = server_carrying(SERVER_CHAIN, SERVER_KEY, Some(CRL));
    assert_eq!(login(client_holding(CRL), server_same), Ok(None));
    // The held CRL 2 still revokes A, even when A carries the older CRL 1.
    let server_a_old = server_carrying(REVOKED_SERVER, REVOKED_SERVER_KEY, Some(CRL_EMPTY));
    assert_eq!(login(client_holding(CRL), server_a_old), Err(revoked()));
}

/// A CRL the anchor did not sign, another CA's, or bytes that are no CRL fail the
/// handshake with a typed error, reported once the server proved itself.
#[test]
fn a_foreign_or_malformed_flight_crl_fails_the_handshake() {
    let cases = [
        (crl_der(CRL_OTHER_KEY), FlightCrlError::BadSignature),
        (crl_der(CRL_INTERMEDIATE), FlightCrlError::NotFromAnchor),
        (
            vec![0x30, 0x03, 0x02, 0x01, 0x01],
            FlightCrlError::Malformed,
        ),
        // A certificate is no CRL.
        (
            certificates_from_pem(CA).unwrap().remove(0),
            FlightCrlError::Malformed,
        ),
    ];
    for (der, why) in cases {
        let e = login(client_holding(CRL_EMPTY), server_carrying_unchecked(der)).unwrap_err();
        assert_eq!(e, HandshakeError::FlightCrl(why.clone()));
        assert!(e.wire_alert().is_some());
        assert!(e.to_string().contains("misconfigured or hostile"), "{e}");
    }
}

/// The refusal comes after the server's signature and Finished: a server that cannot
/// prove itself fails as such, whatever CRL it carried.
#[test]
fn a_foreign_crl_is_blamed_only_on_an_authenticated_server() {
    let mut run = run(
        client_holding(CRL_EMPTY),
        server_carrying_unchecked(crl_der(CRL_OTHER_KEY)),
    );
    run.server.io.tamper = Some((messages::HandshakeType::SERVER_VERIFY, |b| {
        if let Some(last) = b.last_mut() {
            *last ^= 1;
        }
    }));
    assert!(matches!(
        run.drive(|_, _| {}),
        Outcome::ClientFailed(HandshakeError::BadServerSignature)
    ));
}

/// The CRL is in the transcript: swapping it in flight for another genuine, newer CRL of
/// the anchor (same length) breaks the server's signature.
#[test]
fn a_crl_swapped_in_flight_breaks_the_transcript() {
    let long = crl_der(CRL_LONG);
    assert_eq!(long.len(), crl_der(CRL).len(), "the swap keeps the length");
    // Untouched, the client would adopt either.
    let server_b = server_carrying(SERVER_CHAIN, SERVER_KEY, Some(CRL));
    assert!(
        login(client_holding(CRL_EMPTY), Arc::clone(&server_b))
            .unwrap()
            .is_some()
    );
    let mut run = run(client_holding(CRL_EMPTY), server_b);
    run.server.io.tamper = Some((messages::HandshakeType::SERVER_CRL, |b| {
        let long = crls_from_pem(CRL_LONG).unwrap().remove(0);
        let start = b.len() - long.len();
        b[start..].copy_from_slice(&long);
    }));
    assert!(matches!(
        run.drive(|_, _| {}),
        Outcome::ClientFailed(HandshakeError::BadServerSignature)
    ));
    // A flipped byte in the CRL: the same.
    let mut run = run_with_crl_flip();
    run.server.io.tamper = Some((messages::HandshakeType::SERVER_CRL, |b| {
        if let Some(byte) = b.get_mut(40) {
            *byte ^= 0x01;
        }
    }));
    assert!(matches!(
        run.drive(|_, _| {}),
        Outcome::ClientFailed(HandshakeError::BadServerSignature)
    ));
}

fn run_with_crl_flip() -> Run {
    run(
        client_holding(CRL_EMPTY),
        server_carrying(SERVER_CHAIN, SERVER_KEY, Some(CRL)),
    )
}

/// A client that checks no revocation ignores flight CRLs, even foreign ones, and adopts
/// none: it chose to run without revocation, and a CRL it adopted would start failing
/// its logins once expired.
#[test]
fn a_client_without_revocation_checks_ignores_flight_crls() {
    let ca = certificates_from_pem(CA).unwrap().remove(0);
    let dangerous = || {
        client_config_with(
            ServerCertVerifier::new(ca.clone(), RevocationPolicy::DangerousNoRevocationCheck)
                .unwrap(),
            SERVER_NAME,
            "alice",
        )
    };
    let server_a = server_carrying(REVOKED_SERVER, REVOKED_SERVER_KEY, Some(CRL));
    assert_eq!(login(dangerous(), server_a), Ok(None));
    let foreign = server_carrying_unchecked(crl_der(CRL_OTHER_KEY));
    assert_eq!(login(dangerous(), foreign), Ok(None));
}

/// Without a CRL the message is still sent, empty, so every state waits for one message.
#[test]
fn the_crl_message_is_always_in_the_flight() {
    let mut seen = Vec::new();
    let outcome = run(client_config("alice"), server_config()).drive(|flight, bytes| {
        if flight == SERVER_FLIGHT {
            seen = split_frames(bytes);
        }
    });
    assert!(outcome.is_established());
    // ServerHello, then ServerCrl, ServerCertificate, ServerVerify, ServerFinished.
    assert_eq!(seen.len(), 5);
}
