//! The `pem_keys` target: every key reader and the username parser.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::identity::{Identity, PublicKey, Username};
use crate::testkit::fixtures::{self, ALICE_KEY, ALICE_PUB};

/// The input as PEM text and as DER to every key reader, and as a username. Whatever
/// parses must write back to something that parses to the same key or name.
pub fn pem_keys(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = Identity::from_pkcs8_pem(&text) {
        check_identity(&id);
    }
    if let Ok(id) = Identity::from_pkcs8_der(data) {
        check_identity(&id);
    }
    if let Ok(key) = PublicKey::from_public_key_pem(&text) {
        check_public_key(&key);
    }
    if let Ok(key) = PublicKey::from_public_key_der(data) {
        check_public_key(&key);
    }
    if let Ok(name) = Username::new(&text) {
        assert_eq!(name.as_str(), text);
    }
    match Username::from_bytes(data) {
        Ok(name) => assert_eq!(name.as_str().as_bytes(), data),
        Err(_) => assert!(Username::new(&text).is_err() || text.as_bytes() != data),
    }
}

fn check_identity(id: &Identity) {
    let pem = id.to_pkcs8_pem();
    let der = id.to_pkcs8_der();
    assert!(pem.is_ok() && der.is_ok(), "a parsed key does not encode");
    if let (Ok(pem), Ok(der)) = (pem, der) {
        let back = Identity::from_pkcs8_pem(&pem).map(|i| i.public_key());
        assert_eq!(back, Ok(id.public_key()));
        let back = Identity::from_pkcs8_der(&der).map(|i| i.public_key());
        assert_eq!(back, Ok(id.public_key()));
    }
}

fn check_public_key(key: &PublicKey) {
    let pem = key.to_public_key_pem();
    let der = key.to_public_key_der();
    assert!(pem.is_ok() && der.is_ok(), "a parsed key does not encode");
    if let (Ok(pem), Ok(der)) = (pem, der) {
        assert_eq!(PublicKey::from_public_key_pem(&pem).as_ref(), Ok(key));
        assert_eq!(PublicKey::from_public_key_der(&der).as_ref(), Ok(key));
    }
}

/// Seeds: alice's keys as PEM and DER, and two usernames.
pub(super) fn seeds() -> Vec<Vec<u8>> {
    let f = fixtures::get();
    let alice = &f.user(0).identity;
    let mut seeds = vec![
        ALICE_KEY.as_bytes().to_vec(),
        ALICE_PUB.as_bytes().to_vec(),
        b"alice".to_vec(),
        b"bob.smith-2".to_vec(),
    ];
    if let Ok(der) = alice.to_pkcs8_der() {
        seeds.push(der.to_vec());
    }
    if let Ok(der) = alice.public_key().to_public_key_der() {
        seeds.push(der);
    }
    seeds
}
