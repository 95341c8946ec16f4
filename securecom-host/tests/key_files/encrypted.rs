//! Passphrase-protected keys: the OpenSSL-made fixture, the file loaders, and the `openssl`
//! command line reading what we write (and writing what we read). The OpenSSL checks pass
//! with a printed note when `openssl` is not on the PATH.

use std::cell::Cell;

use securecom_host::identity::IdentityFileExt;
use securecom_proto::identity::{Identity, IdentityError, PublicKey};

use crate::support::{TempFolder, arg, fixture, in_file, openssl_ok, random_identity};

/// The passphrase of `ed25519-encrypted.pem` (see the fixtures' README).
const FIXTURE_PASSPHRASE: &[u8] = b"securecom-fixtures";

fn rng() -> securecom_host::OsRng {
    securecom_host::os_rng()
}

#[test]
fn openssl_encrypted_fixture_is_read_with_its_passphrase() {
    let id = Identity::load_pem_file_with_passphrase(
        fixture("ed25519-encrypted.pem"),
        FIXTURE_PASSPHRASE,
    )
    .unwrap();
    let signature = id.sign(b"hello");
    id.public_key().verify(b"hello", &signature).unwrap();

    // OpenSSL agrees on the public key.
    let path = fixture("ed25519-encrypted.pem");
    let Some(out) = openssl_ok(&[
        "pkey",
        "-in",
        arg(&path),
        "-passin",
        "pass:securecom-fixtures",
        "-pubout",
    ]) else {
        return;
    };
    let pem = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        PublicKey::from_public_key_pem(&pem).unwrap(),
        id.public_key()
    );
}

#[test]
fn wrong_passphrase_on_the_fixture_is_a_typed_error() {
    for guess in [&b""[..], b"securecom-fixture", b"SECURECOM-FIXTURES", b"x"] {
        let error =
            Identity::load_pem_file_with_passphrase(fixture("ed25519-encrypted.pem"), guess)
                .unwrap_err();
        assert_eq!(
            in_file(error, "ed25519-encrypted.pem"),
            IdentityError::WrongPassphrase
        );
    }
}

#[test]
fn the_asking_loader_asks_only_for_encrypted_files() {
    let asked = Cell::new(0);
    let ask = |_: &std::path::Path| {
        asked.set(asked.get() + 1);
        Ok(FIXTURE_PASSPHRASE)
    };
    Identity::load_pem_file_or_ask(fixture("ed25519.pem"), ask).unwrap();
    assert_eq!(asked.get(), 0);
    Identity::load_pem_file_or_ask(fixture("ed25519-encrypted.pem"), ask).unwrap();
    assert_eq!(asked.get(), 1);

    // An unencrypted key read through the passphrase loader: the passphrase is unused.
    let plain = Identity::load_pem_file(fixture("ed25519.pem")).unwrap();
    let same = Identity::load_pem_file_with_passphrase(fixture("ed25519.pem"), b"x").unwrap();
    assert_eq!(same.public_key(), plain.public_key());

    // The asker's error comes back as it is.
    let cancelled = Identity::load_pem_file_or_ask(fixture("ed25519-encrypted.pem"), |_| {
        Err::<&[u8], _>(IdentityError::EmptyPassphrase)
    });
    assert_eq!(cancelled.unwrap_err(), IdentityError::EmptyPassphrase);
}

#[test]
fn garbage_and_foreign_files_are_typed_errors() {
    let folder = TempFolder::new("encrypted-garbage");
    let cases: [(&str, &str); 3] = [
        ("empty.pem", ""),
        (
            "bad-base64.pem",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n!!!!\n-----END ENCRYPTED PRIVATE KEY-----\n",
        ),
        (
            "not-asn1.pem",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        ),
    ];
    for (name, text) in cases {
        let path = folder.join(name);
        std::fs::write(&path, text).unwrap();
        let error = Identity::load_pem_file_with_passphrase(&path, b"x").unwrap_err();
        assert!(
            matches!(in_file(error, name), IdentityError::MalformedKey(_)),
            "{name}"
        );
    }
    // A public key is not a private key, passphrase or not.
    let error =
        Identity::load_pem_file_with_passphrase(fixture("ed25519.pub.pem"), b"x").unwrap_err();
    assert!(matches!(
        in_file(error, "ed25519.pub.pem"),
        IdentityError::UnexpectedPemLabel { .. }
    ));
}

#[test]
fn saved_encrypted_keys_are_owner_only_and_never_overwritten() {
    let folder = TempFolder::new("encrypted-save");
    let path = folder.join("id.key");
    let id = random_identity();
    id.save_encrypted_pem_file(&path, b"pw", &mut rng())
        .unwrap();
    assert!(matches!(
        id.save_encrypted_pem_file(&path, b"pw", &mut rng()),
        Err(IdentityError::AlreadyExists { .. })
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let error = Identity::load_pem_file(&path).unwrap_err();
    assert_eq!(
        in_file(error, "id.key"),
        IdentityError::EncryptedKeyNeedsPassphrase
    );
    let back = Identity::load_pem_file_with_passphrase(&path, b"pw").unwrap();
    assert_eq!(back.public_key(), id.public_key());
}

#[test]
fn openssl_reads_our_encrypted_keys() {
    let folder = TempFolder::new("openssl-encrypted");
    let path = folder.join("id.key");
    let id = random_identity();
    id.save_encrypted_pem_file(&path, b"s3cret pass", &mut rng())
        .unwrap();
    let Some(out) = openssl_ok(&[
        "pkey",
        "-in",
        arg(&path),
        "-passin",
        "pass:s3cret pass",
        "-pubout",
    ]) else {
        return;
    };
    let pem = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        PublicKey::from_public_key_pem(&pem).unwrap(),
        id.public_key()
    );
    // And OpenSSL refuses it with a wrong passphrase, as we do.
    let wrong =
        crate::support::openssl(&["pkey", "-in", arg(&path), "-passin", "pass:wrong", "-noout"])
            .unwrap();
    assert!(!wrong.status.success());
}

#[test]
fn we_read_what_openssl_writes_with_other_ciphers_and_kdfs() {
    let folder = TempFolder::new("openssl-writes-encrypted");
    let plain = fixture("ed25519.pem");
    let expected = Identity::load_pem_file(&plain).unwrap().public_key();
    let variants: [(&str, &[&str]); 3] = [
        ("aes128.key", &["-v2", "aes-128-cbc"]),
        (
            "sha512.key",
            &["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA512"],
        ),
        ("scrypt.key", &["-v2", "aes-256-cbc", "-scrypt"]),
    ];
    for (name, options) in variants {
        let out = folder.join(name);
        let mut args = vec![
            "pkcs8",
            "-topk8",
            "-in",
            arg(&plain),
            "-out",
            arg(&out),
            "-passout",
            "pass:pw",
        ];
        args.extend_from_slice(options);
        if openssl_ok(&args).is_none() {
            return;
        }
        let id = Identity::load_pem_file_with_passphrase(&out, b"pw")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(id.public_key(), expected, "{name}");
    }
}
