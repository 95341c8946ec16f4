//! What we write is read by the `openssl` command line tool, and signatures we make verify
//! there. Each test passes with a printed note when `openssl` is not on the PATH.

use securecom_host::identity::{IdentityFileExt, PublicKeyFileExt};
use securecom_proto::identity::{Identity, PublicKey};

use crate::support::{TempFolder, arg, openssl, openssl_ok, random_identity};

#[test]
fn openssl_reads_our_private_key_and_derives_our_public_key() {
    let folder = TempFolder::new("openssl-private");
    let path = folder.join("id.pem");
    let id = random_identity();
    id.save_pem_file(&path).unwrap();

    let Some(_) = openssl_ok(&["pkey", "-in", arg(&path), "-noout"]) else {
        return;
    };
    let Some(out) = openssl_ok(&["pkey", "-in", arg(&path), "-pubout"]) else {
        return;
    };
    let pem = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        PublicKey::from_public_key_pem(&pem).unwrap(),
        id.public_key()
    );
    assert_eq!(pem, id.public_key().to_public_key_pem().unwrap());
}

#[test]
fn openssl_reads_our_public_key() {
    let folder = TempFolder::new("openssl-public");
    let path = folder.join("pub.pem");
    random_identity().public_key().save_pem_file(&path).unwrap();
    openssl_ok(&["pkey", "-pubin", "-in", arg(&path), "-noout"]);
}

#[test]
fn openssl_verifies_our_signatures() {
    let folder = TempFolder::new("openssl-verify");
    let id = random_identity();
    let public = folder.join("pub.pem");
    id.public_key().save_pem_file(&public).unwrap();
    let message = folder.join("message");
    std::fs::write(&message, b"signed by securecom").unwrap();
    let signature = folder.join("message.sig");
    std::fs::write(&signature, id.sign(b"signed by securecom")).unwrap();

    let verify = |message: &std::path::Path| {
        openssl(&[
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            arg(&public),
            "-rawin",
            "-in",
            arg(message),
            "-sigfile",
            arg(&signature),
        ])
    };
    let Some(good) = verify(&message) else {
        return;
    };
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let tampered = folder.join("tampered");
    std::fs::write(&tampered, b"signed by securecon").unwrap();
    assert!(!verify(&tampered).unwrap().status.success());
}

/// Why we write v1: the v2 that `ed25519-dalek` writes is refused by OpenSSL 3.0 (newer
/// releases may accept it, so this only reports).
#[test]
fn note_whether_openssl_reads_pkcs8_v2() {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let folder = TempFolder::new("openssl-v2");
    let path = folder.join("v2.pem");
    let v2 = ed25519_dalek::SigningKey::from_bytes(&[8; 32])
        .to_pkcs8_pem(Default::default())
        .unwrap();
    std::fs::write(&path, v2.as_bytes()).unwrap();
    if let Some(out) = openssl(&["pkey", "-in", arg(&path), "-noout"]) {
        eprintln!(
            "note: this openssl {} PKCS#8 v2 Ed25519 keys",
            if out.status.success() {
                "reads"
            } else {
                "refuses"
            }
        );
    }
    // Whatever OpenSSL does, ours stays v1 and readable by both.
    let ours = Identity::from_pkcs8_pem(&v2)
        .unwrap()
        .to_pkcs8_pem()
        .unwrap();
    assert!(ours.len() < v2.len());
}
