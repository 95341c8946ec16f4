use alloc::format;
use alloc::vec::Vec;

use pkcs8::pkcs5::pbes2::Parameters;
use proptest::prelude::*;

use super::*;
use crate::testkit::TestRng;

/// Iterations for keys made in these tests: cheap, so that many can be tried.
const FAST: u32 = 16;

fn identity() -> Identity {
    Identity::from_seed(&[7; 32])
}

fn encrypt_fast(id: &Identity, passphrase: &[u8], seed: u64) -> Vec<u8> {
    id.encrypted_document_with_iterations(passphrase, &mut TestRng::new(seed), FAST)
        .unwrap()
        .into_vec()
}

/// An `EncryptedPrivateKeyInfo` made by pkcs5's own encryption with `params`.
fn encrypt_with_pkcs5(id: &Identity, params: Parameters, passphrase: &[u8]) -> Vec<u8> {
    let plaintext = id.to_pkcs8_der().unwrap();
    let ciphertext = params.encrypt(passphrase, &plaintext).unwrap();
    let info = EncryptedPrivateKeyInfo {
        encryption_algorithm: params.into(),
        encrypted_data: OctetStringRef::new(&ciphertext).unwrap(),
    };
    Document::encode_msg(&info).unwrap().into_vec()
}

#[test]
fn round_trip_pem_and_der() {
    let id = identity();
    let mut rng = TestRng::new(1);
    let pem = id.to_encrypted_pkcs8_pem(b"pass", &mut rng).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    let back = Identity::from_encrypted_pkcs8_pem(&pem, b"pass").unwrap();
    assert_eq!(back.public_key(), id.public_key());

    let der = id.to_encrypted_pkcs8_der(b"pass", &mut rng).unwrap();
    let back = Identity::from_encrypted_pkcs8_der(&der, b"pass").unwrap();
    assert_eq!(back.public_key(), id.public_key());
}

#[test]
fn what_we_write_is_pbkdf2_sha256_aes256_cbc_with_our_iteration_count() {
    let der = identity()
        .to_encrypted_pkcs8_der(b"pass", &mut TestRng::new(2))
        .unwrap();
    let info = EncryptedPrivateKeyInfoRef::from_der(&der).unwrap();
    let pkcs8::pkcs5::EncryptionScheme::Pbes2(params) = info.encryption_algorithm else {
        panic!("not PBES2");
    };
    assert!(matches!(
        params.encryption,
        EncryptionScheme::Aes256Cbc { .. }
    ));
    let Kdf::Pbkdf2(kdf) = params.kdf else {
        panic!("not PBKDF2");
    };
    assert_eq!(kdf.prf, Pbkdf2Prf::HmacWithSha256);
    assert_eq!(kdf.iteration_count, PBKDF2_ITERATIONS);
    assert_eq!(kdf.salt.as_ref().len(), SALT_LEN);
}

#[test]
fn salt_and_iv_are_fresh_each_time() {
    let id = identity();
    assert_ne!(encrypt_fast(&id, b"pass", 1), encrypt_fast(&id, b"pass", 2));
}

#[test]
fn wrong_passphrases_are_a_typed_error_never_a_panic() {
    let id = identity();
    let der = encrypt_fast(&id, b"right", 3);
    // Enough tries that some wrong keys pass the padding check (about 1 in 256) and are
    // then caught as noise that is no PrivateKeyInfo.
    for i in 0..1500u32 {
        let guess = format!("wrong {i}");
        assert_eq!(
            Identity::from_encrypted_pkcs8_der(&der, guess.as_bytes()).unwrap_err(),
            IdentityError::WrongPassphrase,
            "{guess}"
        );
    }
    assert_eq!(
        Identity::from_encrypted_pkcs8_der(&der, b"").unwrap_err(),
        IdentityError::WrongPassphrase
    );
    assert!(Identity::from_encrypted_pkcs8_der(&der, b"right").is_ok());
}

#[test]
fn empty_passphrase_is_refused_for_writing() {
    assert_eq!(
        identity()
            .to_encrypted_pkcs8_pem(b"", &mut TestRng::new(4))
            .unwrap_err(),
        IdentityError::EmptyPassphrase
    );
}

#[test]
fn labels_are_checked() {
    let plain = identity().to_pkcs8_pem().unwrap();
    assert_eq!(
        Identity::from_encrypted_pkcs8_pem(&plain, b"x").unwrap_err(),
        IdentityError::UnexpectedPemLabel {
            expected: "ENCRYPTED PRIVATE KEY",
            found: "PRIVATE KEY".into(),
        }
    );
    let encrypted = identity()
        .to_encrypted_pkcs8_pem(b"x", &mut TestRng::new(5))
        .unwrap();
    assert_eq!(
        Identity::from_pkcs8_pem(&encrypted).unwrap_err(),
        IdentityError::EncryptedKeyNeedsPassphrase
    );
    assert!(super::super::pem::is_encrypted_private_key(&encrypted));
    assert!(!super::super::pem::is_encrypted_private_key(&plain));
}

#[test]
fn garbage_is_malformed() {
    for bytes in [
        &b""[..],
        b"\x30",
        b"\x30\x00",
        b"\x30\x03\x02\x01\x00",
        &[0xff; 64],
    ] {
        assert!(
            matches!(
                Identity::from_encrypted_pkcs8_der(bytes, b"x"),
                Err(IdentityError::MalformedKey(_))
            ),
            "{bytes:?}"
        );
    }
    assert!(matches!(
        Identity::from_encrypted_pkcs8_pem("not pem", b"x"),
        Err(IdentityError::MalformedKey(_))
    ));
}

#[test]
fn truncated_ciphertext_is_a_wrong_passphrase_not_a_panic() {
    let id = identity();
    let params = Parameters::generate_pbkdf2_sha256_aes256cbc(FAST, &[1; 16], [2; 16]).unwrap();
    let plaintext = id.to_pkcs8_der().unwrap();
    let ciphertext = params.encrypt(b"pw", &plaintext).unwrap();
    for cut in [0, 1, 15, 16, 17, ciphertext.len() - 1] {
        let info = EncryptedPrivateKeyInfo {
            encryption_algorithm: params.clone().into(),
            encrypted_data: OctetStringRef::new(ciphertext.get(..cut).unwrap()).unwrap(),
        };
        let der = Document::encode_msg(&info).unwrap();
        assert_eq!(
            Identity::from_encrypted_pkcs8_der(der.as_bytes(), b"pw").unwrap_err(),
            IdentityError::WrongPassphrase,
            "cut at {cut}"
        );
    }
}

#[test]
fn other_pbkdf2_prfs_and_aes_sizes_are_read() {
    let id = identity();
    let aes128 = Parameters::generate_pbkdf2_sha256_aes128cbc(FAST, &[3; 16], [4; 16]).unwrap();
    let der = encrypt_with_pkcs5(&id, aes128, b"pw");
    let back = Identity::from_encrypted_pkcs8_der(&der, b"pw").unwrap();
    assert_eq!(back.public_key(), id.public_key());

    for prf in [
        Pbkdf2Prf::HmacWithSha224,
        Pbkdf2Prf::HmacWithSha384,
        Pbkdf2Prf::HmacWithSha512,
    ] {
        let mut params =
            Parameters::generate_pbkdf2_sha256_aes256cbc(FAST, &[5; 16], [6; 16]).unwrap();
        let Kdf::Pbkdf2(kdf) = &mut params.kdf else {
            unreachable!()
        };
        kdf.prf = prf;
        let der = encrypt_with_pkcs5(&id, params, b"pw");
        let back = Identity::from_encrypted_pkcs8_der(&der, b"pw").unwrap();
        assert_eq!(back.public_key(), id.public_key(), "{prf:?}");
    }
}

#[test]
fn scrypt_keys_are_read() {
    let id = identity();
    let scrypt = scrypt::Params::new(10, 8, 1).unwrap();
    let params = Parameters::generate_scrypt_aes256cbc(scrypt, &[7; 16], [8; 16]).unwrap();
    let der = encrypt_with_pkcs5(&id, params, b"pw");
    let back = Identity::from_encrypted_pkcs8_der(&der, b"pw").unwrap();
    assert_eq!(back.public_key(), id.public_key());
    assert_eq!(
        Identity::from_encrypted_pkcs8_der(&der, b"pW").unwrap_err(),
        IdentityError::WrongPassphrase
    );
}

#[test]
fn costly_parameters_are_refused_before_any_work() {
    let id = identity();
    // Encrypted cheaply, then relabelled with a huge iteration count: refused at once.
    let mut params = Parameters::generate_pbkdf2_sha256_aes256cbc(FAST, &[1; 16], [2; 16]).unwrap();
    let plaintext = id.to_pkcs8_der().unwrap();
    let ciphertext = params.encrypt(b"pw", &plaintext).unwrap();
    let Kdf::Pbkdf2(kdf) = &mut params.kdf else {
        unreachable!()
    };
    kdf.iteration_count = MAX_PBKDF2_ITERATIONS + 1;
    let info = EncryptedPrivateKeyInfo {
        encryption_algorithm: params.into(),
        encrypted_data: OctetStringRef::new(&ciphertext).unwrap(),
    };
    let der = Document::encode_msg(&info).unwrap();
    assert!(matches!(
        Identity::from_encrypted_pkcs8_der(der.as_bytes(), b"pw"),
        Err(IdentityError::UnsupportedKeyEncryption(_))
    ));

    // scrypt asking for 2^20 * 8 * 128 = 1 GiB.
    let mut params = Parameters::generate_scrypt_aes256cbc(
        scrypt::Params::new(10, 8, 1).unwrap(),
        &[1; 16],
        [2; 16],
    )
    .unwrap();
    for (n, r, p) in [
        (1u64 << 20, 8, 1),
        (1 << 14, 8, 64),
        (1 << 14, 65535, 65535),
    ] {
        let Kdf::Scrypt(kdf) = &mut params.kdf else {
            unreachable!()
        };
        kdf.cost_parameter = n;
        kdf.block_size = r;
        kdf.parallelization = p;
        let info = EncryptedPrivateKeyInfo {
            encryption_algorithm: params.clone().into(),
            encrypted_data: OctetStringRef::new(&ciphertext).unwrap(),
        };
        let der = Document::encode_msg(&info).unwrap();
        assert!(
            matches!(
                Identity::from_encrypted_pkcs8_der(der.as_bytes(), b"pw"),
                Err(IdentityError::UnsupportedKeyEncryption(_))
            ),
            "N={n} r={r} p={p}"
        );
    }
}

#[test]
fn gcm_is_refused() {
    let id = identity();
    let params =
        Parameters::scrypt_aes256gcm(scrypt::Params::new(10, 8, 1).unwrap(), &[1; 16], [2; 12])
            .unwrap();
    let der = encrypt_with_pkcs5(&id, params, b"pw");
    assert!(matches!(
        Identity::from_encrypted_pkcs8_der(&der, b"pw"),
        Err(IdentityError::UnsupportedKeyEncryption(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any change to the bytes of an encrypted key gives an error or a key, never a panic.
    /// (PBES2 has no integrity check: a flipped ciphertext bit can flip a bit of the seed,
    /// which is a valid other key. What matters is that nothing panics.)
    #[test]
    fn damaged_files_never_panic(position in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut der = encrypt_fast(&identity(), b"pw", 9);
        let i = position.index(der.len());
        der[i] = byte;
        let _ = Identity::from_encrypted_pkcs8_der(&der, b"pw");
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Identity::from_encrypted_pkcs8_der(&bytes, b"pw");
    }
}
