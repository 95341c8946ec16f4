//! The `pki` target: certificate chains and CRLs from the input, verified against the
//! fixture CA.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::input::Input;
use crate::pki::{
    RevocationPolicy, ServerCertVerifier, ServerCredentials, certificates_from_pem, crls_from_pem,
};
use crate::testkit::fixtures::{
    self, CRL, CRL_INTERMEDIATE, INTERMEDIATE_CHAIN, SERVER_CHAIN, SERVER_KEY, VALID_TIME,
};

/// Certificate chains and CRLs from the input.
///
/// The input is split into length-prefixed pieces (two-byte big-endian lengths): the first
/// byte says how many pieces are the chain (1 to 5, the leaf first) and whether one more
/// piece is a CRL. The chain is verified for `localhost` at the fixtures' valid time with
/// the fixture CA and CRL; a CRL from the input is offered as a server's flight CRL and
/// used for a second verifier; the pieces
/// also go to [`ServerCredentials::new`]. The whole input, as text, goes to
/// [`certificates_from_pem`] and [`crls_from_pem`], and every block they find is verified
/// the same way.
pub fn pki(data: &[u8]) {
    let f = fixtures::get();
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
        // As a CRL in a server's flight: whatever is adopted makes a verifier, and one
        // the server would serve is refused by the client only for being not newer.
        if let Ok(newer) = f.verifier.check_flight_crl(&crl, VALID_TIME) {
            assert!(
                f.verifier.with_newer_crl(&newer).is_ok(),
                "an adopted CRL does not make a verifier"
            );
        }
        let _ = crate::pki::ServedCrl::new(crl.clone(), &f.chain);
        let policy = RevocationPolicy::CheckCrls(vec![f.crl_der.clone(), crl]);
        if let Ok(v) = ServerCertVerifier::new(f.ca_der.clone(), policy) {
            verify_chain(&v, &chain);
        }
    }
    if selector & 0x40 != 0 {
        let owned: Vec<Vec<u8>> = chain.iter().map(|c| c.to_vec()).collect();
        if let Ok(c) = ServerCredentials::new(owned, fixtures::identity(SERVER_KEY)) {
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
        let f = fixtures::get();
        assert!(
            key == f.server_key || key == f.via_intermediate_key,
            "an unexpected chain verified"
        );
    }
}

/// Seeds: the fixture leaf alone (for the credentials too), with the CRL, the chain through
/// the intermediate with its CRL, and PEM text.
pub(super) fn seeds() -> Vec<Vec<u8>> {
    let f = fixtures::get();
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
