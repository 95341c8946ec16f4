//! `PemFolderDirectory` over a scratch folder.

use securecom_host::identity::{MAX_KEY_FILE_LEN, PemFolderDirectory, PublicKeyFileExt};
use securecom_proto::identity::{IdentityError, PublicKey, UserDirectory, Username};

use crate::support::{TempFolder, fixture, in_file, random_identity};

fn name(s: &str) -> Username {
    Username::new(s).unwrap()
}

#[test]
fn serves_openssl_written_keys_and_registers_new_users() {
    let folder = TempFolder::new("dir-openssl");
    std::fs::copy(fixture("ed25519.pub.pem"), folder.join("alice.pem")).unwrap();
    std::fs::write(folder.join("notes.txt"), "ignored").unwrap();
    let alice = PublicKey::load_pem_file(fixture("ed25519.pub.pem")).unwrap();

    let mut dir = PemFolderDirectory::open(folder.path()).unwrap();
    assert_eq!(dir.len(), 1);
    assert_eq!(dir.lookup(&name("alice")), Some(alice));
    assert_eq!(dir.lookup(&name("bob")), None);

    let bob = random_identity().public_key();
    dir.register(&name("bob"), &bob).unwrap();
    assert_eq!(dir.lookup(&name("bob")), Some(bob));
    assert_eq!(
        PublicKey::load_pem_file(folder.join("bob.pem")).unwrap(),
        bob
    );
    assert_eq!(dir.path_of(&name("bob")), folder.join("bob.pem"));

    // Another process adds a user; reload picks it up.
    let carol = random_identity().public_key();
    carol.save_pem_file(folder.join("carol.pem")).unwrap();
    assert_eq!(dir.lookup(&name("carol")), None);
    dir.reload().unwrap();
    assert_eq!(dir.lookup(&name("carol")), Some(carol));
    let names: Vec<&str> = dir.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
}

#[test]
fn bad_file_names_are_named_in_the_error() {
    for (bad, reason) in [
        ("_x.pem", "must start with a letter or digit"),
        (
            "white space.pem",
            "only letters, digits, '_', '-' and '.' are allowed",
        ),
        (
            "a-name-that-is-far-too-long-for-us.pem",
            "longer than 32 bytes",
        ),
    ] {
        let folder = TempFolder::new("dir-bad-name");
        random_identity()
            .public_key()
            .save_pem_file(folder.join(bad))
            .unwrap();
        let error = PemFolderDirectory::open(folder.path()).unwrap_err();
        assert_eq!(
            in_file(error, bad),
            IdentityError::InvalidUsername(reason),
            "{bad}"
        );
    }
}

#[test]
fn oversized_and_garbage_files_are_typed_errors() {
    let folder = TempFolder::new("dir-oversized");
    let big = vec![b'A'; MAX_KEY_FILE_LEN as usize + 1];
    std::fs::write(folder.join("big.pem"), big).unwrap();
    let error = PemFolderDirectory::open(folder.path()).unwrap_err();
    assert_eq!(
        in_file(error, "big.pem"),
        IdentityError::FileTooLarge {
            size: MAX_KEY_FILE_LEN + 1,
            max: MAX_KEY_FILE_LEN
        }
    );

    let folder = TempFolder::new("dir-garbage");
    std::fs::write(folder.join("junk.pem"), "-----BEGIN PUBLIC KEY-----\nnope").unwrap();
    let error = PemFolderDirectory::open(folder.path()).unwrap_err();
    assert!(matches!(
        in_file(error, "junk.pem"),
        IdentityError::MalformedKey(_)
    ));

    let folder = TempFolder::new("dir-rsa");
    std::fs::copy(fixture("rsa-2048.pub.pem"), folder.join("rsa.pem")).unwrap();
    let error = PemFolderDirectory::open(folder.path()).unwrap_err();
    assert_eq!(in_file(error, "rsa.pem"), IdentityError::WrongAlgorithm);
}

#[test]
fn key_changes_need_replace() {
    let folder = TempFolder::new("dir-replace");
    let mut dir = PemFolderDirectory::open(folder.path()).unwrap();
    let (old, new) = (
        random_identity().public_key(),
        random_identity().public_key(),
    );
    dir.register(&name("dave"), &old).unwrap();
    assert!(matches!(
        dir.register(&name("dave"), &new),
        Err(IdentityError::AlreadyRegistered { .. })
    ));
    assert_eq!(dir.replace(&name("dave"), &new), Ok(Some(old)));
    assert_eq!(
        PemFolderDirectory::open(folder.path())
            .unwrap()
            .lookup(&name("dave")),
        Some(new)
    );
}
