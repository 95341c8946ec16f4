//! Reading the key files OpenSSL wrote (see securecom-proto's
//! `tests/fixtures/identity/README.md`): what the core parses, with the file named in every
//! error.

use securecom_host::identity::{IdentityFileExt, PublicKeyFileExt};
use securecom_proto::identity::{Identity, IdentityError, PublicKey};

use crate::support::{fixture, in_file};

#[test]
fn reads_openssl_private_and_public_key_files() {
    let id = Identity::load_pem_file(fixture("ed25519.pem")).unwrap();
    let public = PublicKey::load_pem_file(fixture("ed25519.pub.pem")).unwrap();
    assert_eq!(id.public_key(), public);
    let v2 = Identity::load_pem_file(fixture("ed25519-v2.pem")).unwrap();
    assert_eq!(v2.public_key(), public);
}

#[test]
fn refused_contents_name_the_file() {
    let error = Identity::load_pem_file(fixture("ed25519-v2-mismatch.pem")).unwrap_err();
    assert_eq!(
        in_file(error, "ed25519-v2-mismatch.pem"),
        IdentityError::PublicKeyMismatch
    );
    let error = Identity::load_pem_file(fixture("ed25519-encrypted.pem")).unwrap_err();
    assert_eq!(
        in_file(error, "ed25519-encrypted.pem"),
        IdentityError::EncryptedKeyNeedsPassphrase
    );
    for name in ["rsa-2048.pem", "x25519.pem", "ec-p256.pem"] {
        let error = Identity::load_pem_file(fixture(name)).unwrap_err();
        assert_eq!(
            in_file(error, name),
            IdentityError::WrongAlgorithm,
            "{name}"
        );
    }
    for name in ["rsa-2048.pub.pem", "x25519.pub.pem", "ec-p256.pub.pem"] {
        let error = PublicKey::load_pem_file(fixture(name)).unwrap_err();
        assert_eq!(
            in_file(error, name),
            IdentityError::WrongAlgorithm,
            "{name}"
        );
    }
    let error = PublicKey::load_pem_file(fixture("ed25519.pem")).unwrap_err();
    assert_eq!(
        in_file(error, "ed25519.pem"),
        IdentityError::UnexpectedPemLabel {
            expected: "PUBLIC KEY",
            found: "PRIVATE KEY".into(),
        }
    );
    let error = Identity::load_pem_file(fixture("ed25519.pub.pem")).unwrap_err();
    assert_eq!(
        in_file(error, "ed25519.pub.pem"),
        IdentityError::UnexpectedPemLabel {
            expected: "PRIVATE KEY",
            found: "PUBLIC KEY".into(),
        }
    );
}
