//! The server-certificate checks against OpenSSL-made fixtures (`tests/fixtures/pki/`, dates
//! in its README.md). One named test per failure, each asserting the exact error.

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use proptest::prelude::*;
use securecom_proto::identity::{Identity, PublicKey};
use securecom_proto::pki::{
    CertificateError, MAX_CERT_LEN, MAX_CHAIN_CERTS, RevocationPolicy, ServerCertVerifier,
    ServerCredentials, certificates_from_pem, crls_from_pem,
};
use securecom_proto::time::UnixTime;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("fixtures/pki/", $name))
    };
}

const CA: &str = fixture!("ca.pem");
const CRL: &str = fixture!("crl.pem");
const CRL_EMPTY: &str = fixture!("crl-empty.pem");
const CRL_INTERMEDIATE: &str = fixture!("crl-intermediate.pem");
const CRL_OTHER_KEY: &str = fixture!("crl-other-key.pem");
const SERVER: &str = fixture!("server.pem");
const SERVER_KEY: &str = fixture!("server.key");
const REVOKED_SERVER: &str = fixture!("revoked-server.pem");
const CLIENT_AUTH_ONLY: &str = fixture!("client-auth-only.pem");
const INTERMEDIATE: &str = fixture!("intermediate.pem");
const VIA_INTERMEDIATE_CHAIN: &str = fixture!("server-via-intermediate-chain.pem");
const VIA_INTERMEDIATE_KEY: &str = fixture!("server-via-intermediate.key");
const OTHER_CA: &str = fixture!("other-ca.pem");
const OTHER_SERVER: &str = fixture!("other-server.pem");
const ALICE_KEY: &str = fixture!("users/alice.key");

/// Certificates and CRLs current.
const VALID: UnixTime = UnixTime::from_secs(1_768_435_200); // 2026-01-15
/// After the CRLs' nextUpdate (2026-01-31), certificates still valid.
const CRL_STALE: UnixTime = UnixTime::from_secs(1_772_323_200); // 2026-03-01
/// After every certificate's notAfter (2036-01-01).
const AFTER_EXPIRY: UnixTime = UnixTime::from_secs(2_095_891_200); // 2036-06-01
/// Before every certificate's notBefore (2026-01-01).
const BEFORE_VALIDITY: UnixTime = UnixTime::from_secs(1_748_736_000); // 2025-06-01
const NOT_BEFORE: UnixTime = UnixTime::from_secs(1_767_225_600);
const NOT_AFTER: UnixTime = UnixTime::from_secs(2_082_758_400);
const CRL_NEXT_UPDATE: UnixTime = UnixTime::from_secs(1_769_817_600);

fn certs(pem: &str) -> Vec<Vec<u8>> {
    let certs = certificates_from_pem(pem).unwrap();
    assert!(!certs.is_empty());
    certs
}

fn one_cert(pem: &str) -> Vec<u8> {
    let mut certs = certs(pem);
    assert_eq!(certs.len(), 1);
    certs.remove(0)
}

fn identity_from_pem(pem: &str) -> Identity {
    let sk = SigningKey::from_pkcs8_pem(pem).unwrap();
    Identity::from_seed(&sk.to_bytes())
}

/// The usual client: trusts ca.pem, checks crl.pem.
fn verifier() -> ServerCertVerifier {
    ServerCertVerifier::from_pem(CA, Some(CRL)).unwrap()
}

fn verify(
    verifier: &ServerCertVerifier,
    chain: &[Vec<u8>],
    name: &str,
    now: UnixTime,
) -> Result<PublicKey, CertificateError> {
    let refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    verifier.verify_server(&refs, name, now)
}

#[test]
fn valid_chain_is_accepted() {
    let key = verify(&verifier(), &certs(SERVER), "localhost", VALID).unwrap();
    assert_eq!(key, identity_from_pem(SERVER_KEY).public_key());
    // The revoked leaf's CRL does not affect another leaf, nor does an empty CRL.
    let with_empty_crl = ServerCertVerifier::from_pem(CA, Some(CRL_EMPTY)).unwrap();
    assert_eq!(
        verify(&with_empty_crl, &certs(SERVER), "localhost", VALID),
        Ok(key)
    );
    // Valid from the first second of notBefore to the last before the CRL's nextUpdate.
    assert!(verify(&verifier(), &certs(SERVER), "localhost", NOT_BEFORE).is_ok());
    let last_second = UnixTime::from_secs(CRL_NEXT_UPDATE.as_secs() - 1);
    assert!(verify(&verifier(), &certs(SERVER), "localhost", last_second).is_ok());
}

#[test]
fn chain_with_intermediate_is_accepted() {
    let chain = certs(VIA_INTERMEDIATE_CHAIN);
    assert_eq!(chain.len(), 2);
    // Revocation is checked for the whole chain: the root's CRL covers the intermediate,
    // the intermediate's CRL covers the leaf.
    let both_crls = format!("{CRL}{CRL_INTERMEDIATE}");
    let v = ServerCertVerifier::from_pem(CA, Some(&both_crls)).unwrap();
    let key = verify(&v, &chain, "localhost", VALID).unwrap();
    assert_eq!(key, identity_from_pem(VIA_INTERMEDIATE_KEY).public_key());
    assert_eq!(
        verify(&v, &chain, "127.0.0.1", VALID),
        Ok(key),
        "IP SAN through an intermediate"
    );

    // Without the intermediate's CRL, the leaf's status is unknown, and refused.
    assert_eq!(
        verify(&verifier(), &chain, "localhost", VALID),
        Err(CertificateError::UnknownRevocationStatus)
    );
    // Without the intermediate, there is no path to the root.
    assert_eq!(
        verify(&v, &chain[..1], "localhost", VALID),
        Err(CertificateError::UnknownIssuer)
    );
}

#[test]
fn wrong_ca_is_rejected() {
    assert_eq!(
        verify(&verifier(), &certs(OTHER_SERVER), "localhost", VALID),
        Err(CertificateError::UnknownIssuer)
    );
    // And the other way round: our server under a client that trusts another root.
    let trusts_other = ServerCertVerifier::new(
        one_cert(OTHER_CA),
        RevocationPolicy::DangerousNoRevocationCheck,
    )
    .unwrap();
    assert_eq!(
        verify(&trusts_other, &certs(SERVER), "localhost", VALID),
        Err(CertificateError::UnknownIssuer)
    );
}

#[test]
fn expired_server_certificate_is_rejected() {
    assert_eq!(
        verify(&verifier(), &certs(SERVER), "localhost", AFTER_EXPIRY),
        Err(CertificateError::Expired {
            now: AFTER_EXPIRY,
            not_after: NOT_AFTER
        })
    );
}

#[test]
fn not_yet_valid_server_certificate_is_rejected() {
    assert_eq!(
        verify(&verifier(), &certs(SERVER), "localhost", BEFORE_VALIDITY),
        Err(CertificateError::NotYetValid {
            now: BEFORE_VALIDITY,
            not_before: NOT_BEFORE
        })
    );
}

#[test]
fn revoked_server_certificate_is_rejected() {
    let revoked = certs(REVOKED_SERVER);
    assert_eq!(
        verify(&verifier(), &revoked, "localhost", VALID),
        Err(CertificateError::Revoked)
    );
    // The same certificate passes under the CRL that does not list it: the CRL decides.
    let with_empty_crl = ServerCertVerifier::from_pem(CA, Some(CRL_EMPTY)).unwrap();
    assert!(verify(&with_empty_crl, &revoked, "localhost", VALID).is_ok());
}

#[test]
fn stale_crl_is_rejected() {
    assert_eq!(
        verify(&verifier(), &certs(SERVER), "localhost", CRL_STALE),
        Err(CertificateError::CrlExpired {
            now: CRL_STALE,
            next_update: CRL_NEXT_UPDATE
        })
    );
    // nextUpdate itself is already stale.
    assert_eq!(
        verify(&verifier(), &certs(SERVER), "localhost", CRL_NEXT_UPDATE),
        Err(CertificateError::CrlExpired {
            now: CRL_NEXT_UPDATE,
            next_update: CRL_NEXT_UPDATE
        })
    );
}

#[test]
fn crl_signed_by_another_key_is_rejected() {
    let v = ServerCertVerifier::from_pem(CA, Some(CRL_OTHER_KEY)).unwrap();
    assert_eq!(
        verify(&v, &certs(SERVER), "localhost", VALID),
        Err(CertificateError::CrlBadSignature)
    );
}

#[test]
fn name_mismatch_is_rejected() {
    let v = verifier();
    for name in ["example.com", "localhost.example", "127.0.0.2", "::1"] {
        assert_eq!(
            verify(&v, &certs(SERVER), name, VALID),
            Err(CertificateError::NameMismatch),
            "{name}"
        );
    }
    for name in ["", "local host", "localhost/"] {
        assert_eq!(
            verify(&v, &certs(SERVER), name, VALID),
            Err(CertificateError::InvalidServerName),
            "{name:?}"
        );
    }
}

#[test]
fn ip_san_is_accepted() {
    let key = verify(&verifier(), &certs(SERVER), "127.0.0.1", VALID).unwrap();
    assert_eq!(key, identity_from_pem(SERVER_KEY).public_key());
}

#[test]
fn ca_certificate_as_leaf_is_rejected() {
    let both_crls = format!("{CRL}{CRL_INTERMEDIATE}");
    let v = ServerCertVerifier::from_pem(CA, Some(&both_crls)).unwrap();
    for ca_pem in [CA, INTERMEDIATE] {
        assert_eq!(
            verify(&v, &certs(ca_pem), "localhost", VALID),
            Err(CertificateError::CaUsedAsEndEntity)
        );
    }
}

#[test]
fn client_only_certificate_is_not_valid_for_server_auth() {
    assert_eq!(
        verify(&verifier(), &certs(CLIENT_AUTH_ONLY), "localhost", VALID),
        Err(CertificateError::NotValidForServerAuth)
    );
}

#[test]
fn missing_crl_requires_explicit_opt_out() {
    assert_eq!(
        ServerCertVerifier::from_pem(CA, None).unwrap_err(),
        CertificateError::MissingCrl
    );
    assert_eq!(
        ServerCertVerifier::from_pem(CA, Some("no CRL in this text")).unwrap_err(),
        CertificateError::MissingCrl
    );
    assert_eq!(
        ServerCertVerifier::new(one_cert(CA), RevocationPolicy::CheckCrls(Vec::new())).unwrap_err(),
        CertificateError::MissingCrl
    );
    // A CRL that is not from the leaf's issuer leaves its status unknown: refused.
    let wrong_issuer_crl = ServerCertVerifier::new(
        one_cert(CA),
        RevocationPolicy::CheckCrls(crls_from_pem(CRL_INTERMEDIATE).unwrap()),
    )
    .unwrap();
    assert_eq!(
        verify(&wrong_issuer_crl, &certs(SERVER), "localhost", VALID),
        Err(CertificateError::UnknownRevocationStatus)
    );

    // The explicit opt-out: no revocation check at all, so even the revoked leaf passes.
    let unchecked =
        ServerCertVerifier::new(one_cert(CA), RevocationPolicy::DangerousNoRevocationCheck)
            .unwrap();
    assert!(!unchecked.checks_revocation());
    assert!(verify(&unchecked, &certs(SERVER), "localhost", VALID).is_ok());
    assert!(verify(&unchecked, &certs(REVOKED_SERVER), "localhost", VALID).is_ok());
    assert!(verify(&unchecked, &certs(SERVER), "localhost", CRL_STALE).is_ok());
}

#[test]
fn too_many_certificates_rejected() {
    let both_crls = format!("{CRL}{CRL_INTERMEDIATE}");
    let v = ServerCertVerifier::from_pem(CA, Some(&both_crls)).unwrap();
    let chain = certs(VIA_INTERMEDIATE_CHAIN);
    let (leaf, intermediate) = (&chain[0], &chain[1]);

    // Leaf and four intermediates: the most allowed.
    let mut longest = vec![leaf.clone()];
    longest.extend(std::iter::repeat_n(
        intermediate.clone(),
        MAX_CHAIN_CERTS - 1,
    ));
    assert!(verify(&v, &longest, "localhost", VALID).is_ok());

    let mut too_long = longest.clone();
    too_long.push(intermediate.clone());
    assert_eq!(
        verify(&v, &too_long, "localhost", VALID),
        Err(CertificateError::ChainTooLong {
            max: MAX_CHAIN_CERTS,
            got: MAX_CHAIN_CERTS + 1
        })
    );
    assert_eq!(
        verify(&v, &[], "localhost", VALID),
        Err(CertificateError::EmptyChain)
    );
}

#[test]
fn oversized_certificate_rejected() {
    let oversized = vec![0x30; MAX_CERT_LEN + 1];
    assert_eq!(
        verify(
            &verifier(),
            std::slice::from_ref(&oversized),
            "localhost",
            VALID
        ),
        Err(CertificateError::CertificateTooLarge {
            index: 0,
            len: MAX_CERT_LEN + 1,
            max: MAX_CERT_LEN
        })
    );
    let chain = vec![one_cert(SERVER), oversized.clone()];
    assert_eq!(
        verify(&verifier(), &chain, "localhost", VALID),
        Err(CertificateError::CertificateTooLarge {
            index: 1,
            len: MAX_CERT_LEN + 1,
            max: MAX_CERT_LEN
        })
    );
    assert_eq!(
        ServerCredentials::new(vec![oversized], identity_from_pem(SERVER_KEY)).unwrap_err(),
        CertificateError::CertificateTooLarge {
            index: 0,
            len: MAX_CERT_LEN + 1,
            max: MAX_CERT_LEN
        }
    );
}

/// A small deterministic generator, so the test needs no randomness source.
fn pseudo_random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn garbage_der_is_a_typed_error() {
    let v = verifier();
    let server = one_cert(SERVER);

    for seed in 0..64u64 {
        let garbage = pseudo_random_bytes(seed, (seed as usize * 37) % 900);
        assert_eq!(
            verify(&v, std::slice::from_ref(&garbage), "localhost", VALID),
            Err(CertificateError::Malformed)
        );
        // Garbage after a valid leaf is refused too, though no path would need it.
        assert_eq!(
            verify(&v, &[server.clone(), garbage.clone()], "localhost", VALID),
            Err(CertificateError::Malformed)
        );
        assert_eq!(
            ServerCertVerifier::new(one_cert(CA), RevocationPolicy::CheckCrls(vec![garbage]))
                .unwrap_err(),
            CertificateError::MalformedCrl
        );
    }

    // Every truncation of a real certificate and a real CRL.
    for len in 0..server.len() {
        assert_eq!(
            verify(&v, &[server[..len].to_vec()], "localhost", VALID),
            Err(CertificateError::Malformed),
            "certificate cut to {len} bytes"
        );
    }
    let crl = crls_from_pem(CRL).unwrap().remove(0);
    for len in 0..crl.len() {
        assert_eq!(
            ServerCertVerifier::new(
                one_cert(CA),
                RevocationPolicy::CheckCrls(vec![crl[..len].to_vec()])
            )
            .unwrap_err(),
            CertificateError::MalformedCrl,
            "CRL cut to {len} bytes"
        );
    }
    // Trailing bytes after the certificate.
    let mut trailing = server.clone();
    trailing.push(0);
    assert_eq!(
        verify(&v, &[trailing], "localhost", VALID),
        Err(CertificateError::Malformed)
    );
    // A CA file that is not a certificate.
    assert_eq!(
        ServerCertVerifier::new(vec![1, 2, 3], RevocationPolicy::DangerousNoRevocationCheck)
            .unwrap_err(),
        CertificateError::Malformed
    );
}

#[test]
fn tampered_signature_is_rejected() {
    let mut server = one_cert(SERVER);
    let last = server.len() - 1;
    server[last] ^= 0x01;
    assert_eq!(
        verify(&verifier(), &[server], "localhost", VALID),
        Err(CertificateError::BadSignature)
    );
}

#[test]
fn credentials_reject_mismatched_key() {
    assert_eq!(
        ServerCredentials::new(certs(SERVER), identity_from_pem(ALICE_KEY)).unwrap_err(),
        CertificateError::KeyMismatch
    );
    // The intermediate's chain with the root server's key.
    assert_eq!(
        ServerCredentials::new(certs(VIA_INTERMEDIATE_CHAIN), identity_from_pem(SERVER_KEY))
            .unwrap_err(),
        CertificateError::KeyMismatch
    );

    let creds = ServerCredentials::new(certs(SERVER), identity_from_pem(SERVER_KEY)).unwrap();
    assert_eq!(creds.chain(), certs(SERVER).as_slice());
    // What the server presents is what the client accepts, and yields the server's key.
    let key = verify(&verifier(), creds.chain(), "localhost", VALID).unwrap();
    assert_eq!(key, creds.identity().public_key());

    let via = ServerCredentials::new(
        certs(VIA_INTERMEDIATE_CHAIN),
        identity_from_pem(VIA_INTERMEDIATE_KEY),
    )
    .unwrap();
    assert_eq!(via.chain().len(), 2);
    assert_eq!(
        ServerCredentials::new(Vec::new(), identity_from_pem(SERVER_KEY)).unwrap_err(),
        CertificateError::EmptyChain
    );
    let too_long = vec![one_cert(SERVER); MAX_CHAIN_CERTS + 1];
    assert_eq!(
        ServerCredentials::new(too_long, identity_from_pem(SERVER_KEY)).unwrap_err(),
        CertificateError::ChainTooLong {
            max: MAX_CHAIN_CERTS,
            got: MAX_CHAIN_CERTS + 1
        }
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_chains_never_panic(
        chain in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 0..7),
        name in "[a-z0-9.:-]{0,20}",
        secs in any::<u64>(),
    ) {
        let refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
        let result = verifier().verify_server(&refs, &name, UnixTime::from_secs(secs));
        // The checks run in order: the chain's shape, the name, then parsing (arbitrary
        // bytes are never a certificate).
        let expected = if chain.is_empty() {
            CertificateError::EmptyChain
        } else if chain.len() > MAX_CHAIN_CERTS {
            CertificateError::ChainTooLong { max: MAX_CHAIN_CERTS, got: chain.len() }
        } else if rustls_pki_types::ServerName::try_from(name.as_str()).is_err() {
            CertificateError::InvalidServerName
        } else {
            CertificateError::Malformed
        };
        prop_assert_eq!(result, Err(expected));
    }

    #[test]
    fn mutated_certificates_never_panic(
        index in any::<prop::sample::Index>(),
        xor in 1u8..,
    ) {
        let mut server = one_cert(SERVER);
        let i = index.index(server.len());
        server[i] ^= xor;
        let refs: [&[u8]; 1] = [&server];
        // Any change to the signed bytes or the signature must be caught. Which check
        // catches it depends on the byte (DER structure, validity dates, names, key usage,
        // signature), so no single error can be expected: only that none is `Ok`.
        prop_assert!(verifier().verify_server(&refs, "localhost", VALID).is_err());
    }

    #[test]
    fn arbitrary_crls_never_panic(
        crl in proptest::collection::vec(any::<u8>(), 0..800),
        cut in any::<prop::sample::Index>(),
        real_crl in any::<bool>(),
    ) {
        // Either arbitrary bytes, or a real CRL with its tail replaced by them.
        let bytes = if real_crl {
            let mut real = crls_from_pem(CRL).unwrap().remove(0);
            real.truncate(cut.index(real.len()));
            real.extend_from_slice(&crl);
            real
        } else {
            crl
        };
        if let Ok(v) = ServerCertVerifier::new(one_cert(CA), RevocationPolicy::CheckCrls(vec![bytes])) {
            let server = one_cert(SERVER);
            let _ = v.verify_server(&[&server], "localhost", VALID);
        }
    }
}

#[test]
fn two_crls_from_one_issuer_are_refused() {
    let ca = one_cert(CA);
    for order in [[CRL_EMPTY, CRL], [CRL, CRL_EMPTY]] {
        let crls: Vec<Vec<u8>> = order
            .iter()
            .flat_map(|pem| crls_from_pem(pem).unwrap())
            .collect();
        assert_eq!(
            ServerCertVerifier::new(ca.clone(), RevocationPolicy::CheckCrls(crls)).unwrap_err(),
            CertificateError::DuplicateCrl
        );
    }
    // The root's CRL and the intermediate's CRL are different issuers: both are needed.
    let crls: Vec<Vec<u8>> = [CRL, CRL_INTERMEDIATE]
        .iter()
        .flat_map(|pem| crls_from_pem(pem).unwrap())
        .collect();
    assert!(ServerCertVerifier::new(ca, RevocationPolicy::CheckCrls(crls)).is_ok());
}
