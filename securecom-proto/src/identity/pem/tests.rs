use alloc::string::String;

use der::asn1::{AnyRef, ObjectIdentifier};

use super::*;

// RFC 8410 section 10.3 examples.
const RFC_SEED: [u8; 32] = [
    0xd4, 0xee, 0x72, 0xdb, 0xf9, 0x13, 0x58, 0x4a, 0xd5, 0xb6, 0xd8, 0xf1, 0xf7, 0x69, 0xf8, 0xad,
    0x3a, 0xfe, 0x7c, 0x28, 0xcb, 0xf1, 0xd4, 0xfb, 0xe0, 0x97, 0xa8, 0x8f, 0x44, 0x75, 0x58, 0x42,
];
const RFC_V1: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
-----END PRIVATE KEY-----
";
/// v2 with an attribute and the public key.
const RFC_V2: &str = "-----BEGIN PRIVATE KEY-----
MHICAQEwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
oB8wHQYKKoZIhvcNAQkJFDEPDA1DdXJkbGUgQ2hhaXJzgSEAGb9ECWmEzf6FQbrB
Z9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PRIVATE KEY-----
";
const RFC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
";

fn rfc_public() -> PublicKey {
    Identity::from_seed(&RFC_SEED).public_key()
}

/// A PKCS#8 DER document with the given algorithm, wrapped seed and public key.
fn pkcs8(algorithm: AlgorithmIdentifierRef<'_>, private: &[u8], public: Option<&[u8]>) -> Vec<u8> {
    let info = PrivateKeyInfoRef {
        algorithm,
        private_key: OctetStringRef::new(private).unwrap(),
        public_key: public.map(|p| BitStringRef::new(0, p).unwrap()),
    };
    info.to_der().unwrap()
}

fn wrapped_seed(seed: &[u8; 32]) -> Vec<u8> {
    let mut v = vec![0x04, 0x20];
    v.extend_from_slice(seed);
    v
}

fn spki(algorithm: AlgorithmIdentifierRef<'_>, key: &[u8]) -> Vec<u8> {
    SubjectPublicKeyInfoRef {
        algorithm,
        subject_public_key: BitStringRef::new(0, key).unwrap(),
    }
    .to_der()
    .unwrap()
}

const X25519: AlgorithmIdentifierRef<'static> = AlgorithmIdentifierRef {
    oid: ObjectIdentifier::new_unwrap("1.3.101.110"),
    parameters: None,
};

#[test]
fn reads_the_rfc_8410_examples() {
    let v1 = Identity::from_pkcs8_pem(RFC_V1).unwrap();
    assert_eq!(v1.public_key(), rfc_public());
    let v2 = Identity::from_pkcs8_pem(RFC_V2).unwrap();
    assert_eq!(v2.public_key(), rfc_public());
    assert_eq!(
        PublicKey::from_public_key_pem(RFC_PUBLIC).unwrap(),
        rfc_public()
    );
}

#[test]
fn writes_exactly_the_rfc_8410_v1_and_spki_encodings() {
    let id = Identity::from_seed(&RFC_SEED);
    assert_eq!(id.to_pkcs8_pem().unwrap().as_str(), RFC_V1);
    assert_eq!(id.public_key().to_public_key_pem().unwrap(), RFC_PUBLIC);
}

#[test]
fn written_private_key_is_v1_without_public_key() {
    let der = Identity::from_seed(&[9; 32]).to_pkcs8_der().unwrap();
    let info = PrivateKeyInfoRef::from_der(&der).unwrap();
    assert_eq!(info.version(), pkcs8::Version::V1);
    assert!(info.public_key.is_none());
}

#[test]
fn der_round_trips() {
    let id = Identity::from_seed(&[3; 32]);
    let back = Identity::from_pkcs8_der(&id.to_pkcs8_der().unwrap()).unwrap();
    assert_eq!(back.public_key(), id.public_key());
    let key = id.public_key();
    let der = key.to_public_key_der().unwrap();
    assert_eq!(PublicKey::from_public_key_der(&der).unwrap(), key);
}

#[test]
fn v2_public_key_must_match_the_private_key() {
    let other = Identity::from_seed(&[1; 32]).public_key();
    let der = pkcs8(
        ALGORITHM_ID,
        &wrapped_seed(&RFC_SEED),
        Some(other.as_bytes()),
    );
    assert_eq!(
        Identity::from_pkcs8_der(&der).unwrap_err(),
        IdentityError::PublicKeyMismatch
    );
    let der = pkcs8(
        ALGORITHM_ID,
        &wrapped_seed(&RFC_SEED),
        Some(rfc_public().as_bytes()),
    );
    assert!(Identity::from_pkcs8_der(&der).is_ok());
}

#[test]
fn other_algorithms_are_wrong_algorithm() {
    let der = pkcs8(X25519, &wrapped_seed(&RFC_SEED), None);
    assert_eq!(
        Identity::from_pkcs8_der(&der).unwrap_err(),
        IdentityError::WrongAlgorithm
    );
    let der = spki(X25519, rfc_public().as_bytes());
    assert_eq!(
        PublicKey::from_public_key_der(&der).unwrap_err(),
        IdentityError::WrongAlgorithm
    );
    let legacy = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    assert_eq!(
        Identity::from_pkcs8_pem(legacy).unwrap_err(),
        IdentityError::WrongAlgorithm
    );
}

#[test]
fn labels_are_checked() {
    assert_eq!(
        Identity::from_pkcs8_pem(RFC_PUBLIC).unwrap_err(),
        IdentityError::UnexpectedPemLabel {
            expected: "PRIVATE KEY",
            found: String::from("PUBLIC KEY"),
        }
    );
    assert_eq!(
        PublicKey::from_public_key_pem(RFC_V1).unwrap_err(),
        IdentityError::UnexpectedPemLabel {
            expected: "PUBLIC KEY",
            found: String::from("PRIVATE KEY"),
        }
    );
    let encrypted = RFC_V1.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY");
    assert_eq!(
        Identity::from_pkcs8_pem(&encrypted).unwrap_err(),
        IdentityError::EncryptedKeyNeedsPassphrase
    );
}

#[test]
fn algorithm_parameters_are_rejected() {
    let null = AnyRef::new(der::Tag::Null, &[]).unwrap();
    let with_params = AlgorithmIdentifierRef {
        oid: ALGORITHM_OID,
        parameters: Some(null),
    };
    let der = pkcs8(with_params, &wrapped_seed(&RFC_SEED), None);
    assert!(matches!(
        Identity::from_pkcs8_der(&der),
        Err(IdentityError::MalformedKey(_))
    ));
    let der = spki(with_params, rfc_public().as_bytes());
    assert!(matches!(
        PublicKey::from_public_key_der(&der),
        Err(IdentityError::MalformedKey(_))
    ));
}

#[test]
fn bad_seeds_and_points_are_rejected() {
    for private in [
        &[0x04, 0x1f][..],
        &[0u8; 34][..],
        &wrapped_seed(&RFC_SEED)[..33],
    ] {
        let der = pkcs8(ALGORITHM_ID, private, None);
        assert!(matches!(
            Identity::from_pkcs8_der(&der),
            Err(IdentityError::MalformedKey(_))
        ));
    }
    // The identity point is a weak key.
    let mut weak = [0u8; 32];
    weak[0] = 1;
    assert_eq!(
        PublicKey::from_public_key_der(&spki(ALGORITHM_ID, &weak)).unwrap_err(),
        IdentityError::InvalidPublicKey
    );
    assert_eq!(
        PublicKey::from_public_key_der(&spki(ALGORITHM_ID, &[7; 31])).unwrap_err(),
        IdentityError::InvalidPublicKey
    );
}

#[test]
fn garbage_and_trailing_bytes_are_malformed() {
    let mut trailing = Identity::from_seed(&RFC_SEED)
        .to_pkcs8_der()
        .unwrap()
        .to_vec();
    trailing.push(0);
    for input in [&b""[..], b"\x30", b"\x30\x00", &trailing] {
        assert!(matches!(
            Identity::from_pkcs8_der(input),
            Err(IdentityError::MalformedKey(_))
        ));
        assert!(matches!(
            PublicKey::from_public_key_der(input),
            Err(IdentityError::MalformedKey(_))
        ));
    }
    for input in [
        "",
        "hello",
        "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----",
    ] {
        assert!(matches!(
            Identity::from_pkcs8_pem(input),
            Err(IdentityError::MalformedKey(_))
        ));
    }
}

#[test]
fn tolerates_crlf_surrounding_whitespace_and_other_line_widths() {
    let crlf = RFC_V2.replace('\n', "\r\n");
    assert!(Identity::from_pkcs8_pem(&crlf).is_ok());
    let padded = alloc::format!("\n\n  {RFC_V1}\n\n");
    assert!(Identity::from_pkcs8_pem(&padded).is_ok());
    let one_line = "-----BEGIN PRIVATE KEY-----\n\
        MHICAQEwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhCoB8wHQYKKoZIhvcNAQkJFDEPDA1DdXJkbGUgQ2hhaXJzgSEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n\
        -----END PRIVATE KEY-----\n";
    assert!(Identity::from_pkcs8_pem(one_line).is_ok());
}

#[test]
fn errors_do_not_echo_key_material() {
    // A v1 key whose seed has an extra byte: the error must not quote the seed.
    let mut long = wrapped_seed(&RFC_SEED);
    long.push(0xd4);
    let der = pkcs8(ALGORITHM_ID, &long, None);
    let error = Identity::from_pkcs8_der(&der).unwrap_err();
    assert!(matches!(error, IdentityError::MalformedKey(_)), "{error:?}");
    let shown = alloc::format!("{error:?}");
    assert!(!shown.to_lowercase().contains("d4ee"));
    assert!(!shown.contains("212, 238"));
}
