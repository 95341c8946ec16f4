//! Property tests: the parsers never panic, and `Username` accepts exactly its alphabet.

use der::pem::LineEnding;
use proptest::prelude::*;
use securecom_proto::identity::{Fingerprint, Identity, PublicKey, Username};

/// The documented rule: 1 to 32 of `a-z A-Z 0-9 _ - .`, starting with a letter or digit.
fn is_documented_username(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.len() <= 32
        && bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

proptest! {
    #[test]
    fn pem_parsers_never_panic_on_any_string(s in any::<String>()) {
        let _ = Identity::from_pkcs8_pem(&s);
        let _ = PublicKey::from_public_key_pem(&s);
        let _ = s.parse::<Fingerprint>();
        let _ = Username::new(&s);
    }

    #[test]
    fn pem_parsers_never_panic_on_pem_framed_bytes(
        label in prop::sample::select(vec!["PRIVATE KEY", "PUBLIC KEY", "ENCRYPTED PRIVATE KEY", "X"]),
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let pem = der::pem::encode_string(label, LineEnding::LF, &body).unwrap();
        let _ = Identity::from_pkcs8_pem(&pem);
        let _ = PublicKey::from_public_key_pem(&pem);
    }

    #[test]
    fn der_parsers_never_panic_on_mutated_keys(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        seed in any::<[u8; 32]>(),
    ) {
        let id = Identity::from_seed(&seed);
        let mut private = id.to_pkcs8_der().unwrap().to_vec();
        let mut public = id.public_key().to_public_key_der().unwrap();
        for (at, xor) in &flips {
            let i = at.index(private.len());
            private[i] ^= xor;
            let i = at.index(public.len());
            public[i] ^= xor;
        }
        let _ = Identity::from_pkcs8_der(&private);
        let _ = PublicKey::from_public_key_der(&public);
        let _ = Identity::from_pkcs8_der(&private[..cut.index(private.len())]);
        let _ = PublicKey::from_public_key_der(&public[..cut.index(public.len())]);
    }

    #[test]
    fn pkcs8_round_trips(seed in any::<[u8; 32]>()) {
        let id = Identity::from_seed(&seed);
        let back = Identity::from_pkcs8_pem(&id.to_pkcs8_pem().unwrap()).unwrap();
        prop_assert_eq!(back.public_key(), id.public_key());
        let key = id.public_key();
        prop_assert_eq!(PublicKey::from_public_key_pem(&key.to_public_key_pem().unwrap()), Ok(key));
        prop_assert_eq!(key.fingerprint().to_string().parse(), Ok(key.fingerprint()));
    }

    #[test]
    fn documented_usernames_are_accepted(s in "[A-Za-z0-9][A-Za-z0-9_.-]{0,31}") {
        let name = Username::new(&s).unwrap();
        prop_assert_eq!(name.as_str(), s.as_str());
        prop_assert_eq!(Username::from_bytes(s.as_bytes()), Ok(name));
    }

    #[test]
    fn usernames_are_accepted_exactly_when_documented(s in "[A-Za-z0-9_.\\-/ \\\\:é\u{0}\u{1b}]{0,34}") {
        prop_assert_eq!(Username::new(&s).is_ok(), is_documented_username(&s), "{:?}", s);
        prop_assert_eq!(Username::from_bytes(s.as_bytes()).is_ok(), is_documented_username(&s));
    }

    #[test]
    fn username_from_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
        let accepted = Username::from_bytes(&bytes).is_ok();
        let documented = std::str::from_utf8(&bytes).is_ok_and(is_documented_username);
        prop_assert_eq!(accepted, documented);
    }
}
