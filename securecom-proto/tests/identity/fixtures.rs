//! Reading the keys OpenSSL wrote (see `tests/fixtures/identity/README.md`). The files are
//! read here, by the test; the core parses their text (securecom-host's key-file tests
//! read the same files through its loaders).

use securecom_proto::identity::{Identity, IdentityError, PublicKey};

use crate::support::{fixture, fixture_text};

fn openssl_identity() -> Identity {
    Identity::from_pkcs8_pem(&fixture_text("ed25519.pem")).unwrap()
}

fn load_identity(name: &str) -> Result<Identity, IdentityError> {
    Identity::from_pkcs8_pem(&fixture_text(name))
}

fn load_public_key(name: &str) -> Result<PublicKey, IdentityError> {
    PublicKey::from_public_key_pem(&fixture_text(name))
}

#[test]
fn reads_openssl_private_and_public_keys_in_pem_and_der() {
    let id = openssl_identity();
    let public = load_public_key("ed25519.pub.pem").unwrap();
    assert_eq!(id.public_key(), public);

    let der = std::fs::read(fixture("ed25519.der")).unwrap();
    assert_eq!(Identity::from_pkcs8_der(&der).unwrap().public_key(), public);
    let der = std::fs::read(fixture("ed25519.pub.der")).unwrap();
    assert_eq!(PublicKey::from_public_key_der(&der).unwrap(), public);
}

#[test]
fn writes_byte_for_byte_what_openssl_writes() {
    let id = openssl_identity();
    let pem = std::fs::read_to_string(fixture("ed25519.pem")).unwrap();
    assert_eq!(id.to_pkcs8_pem().unwrap().as_str(), pem);
    let der = std::fs::read(fixture("ed25519.der")).unwrap();
    assert_eq!(id.to_pkcs8_der().unwrap().as_slice(), der);
    let pem = std::fs::read_to_string(fixture("ed25519.pub.pem")).unwrap();
    assert_eq!(id.public_key().to_public_key_pem().unwrap(), pem);
    let der = std::fs::read(fixture("ed25519.pub.der")).unwrap();
    assert_eq!(id.public_key().to_public_key_der().unwrap(), der);
}

#[test]
fn signatures_match_openssl() {
    let message = std::fs::read(fixture("message.txt")).unwrap();
    let signature: [u8; 64] = std::fs::read(fixture("message.sig"))
        .unwrap()
        .try_into()
        .unwrap();
    let id = openssl_identity();
    id.public_key().verify(&message, &signature).unwrap();
    // Ed25519 is deterministic: we make the very same signature.
    assert_eq!(id.sign(&message), signature);
}

#[test]
fn reads_pkcs8_v2_and_checks_its_public_key() {
    let v2 = load_identity("ed25519-v2.pem").unwrap();
    assert_eq!(v2.public_key(), openssl_identity().public_key());
    let error = load_identity("ed25519-v2-mismatch.pem").unwrap_err();
    assert_eq!(error, IdentityError::PublicKeyMismatch);
}

#[test]
fn reads_the_v2_that_ed25519_dalek_writes() {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let key = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
    let v2 = key.to_pkcs8_pem(Default::default()).unwrap();
    let id = Identity::from_pkcs8_pem(&v2).unwrap();
    assert_eq!(id.public_key().as_bytes(), key.verifying_key().as_bytes());
}

#[test]
fn encrypted_keys_need_a_passphrase() {
    let error = load_identity("ed25519-encrypted.pem").unwrap_err();
    assert_eq!(error, IdentityError::EncryptedKeyNeedsPassphrase);
}

#[test]
fn other_algorithms_are_refused() {
    for name in [
        "rsa-2048.pem",
        "rsa-2048-pkcs1.pem",
        "x25519.pem",
        "ec-p256.pem",
    ] {
        let error = load_identity(name).unwrap_err();
        assert_eq!(error, IdentityError::WrongAlgorithm, "{name}");
    }
    for name in ["rsa-2048.pub.pem", "x25519.pub.pem", "ec-p256.pub.pem"] {
        let error = load_public_key(name).unwrap_err();
        assert_eq!(error, IdentityError::WrongAlgorithm, "{name}");
    }
}

#[test]
fn private_and_public_files_are_not_interchangeable() {
    let error = load_public_key("ed25519.pem").unwrap_err();
    assert_eq!(
        error,
        IdentityError::UnexpectedPemLabel {
            expected: "PUBLIC KEY",
            found: "PRIVATE KEY".into(),
        }
    );
    let error = load_identity("ed25519.pub.pem").unwrap_err();
    assert_eq!(
        error,
        IdentityError::UnexpectedPemLabel {
            expected: "PRIVATE KEY",
            found: "PUBLIC KEY".into(),
        }
    );
}
