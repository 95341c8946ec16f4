use securecom_proto::identity::Identity;

use super::*;
use crate::identity::IdentityFileExt;
use crate::test_folder::TestFolder;

fn key(seed: u8) -> PublicKey {
    Identity::from_seed(&[seed; 32]).public_key()
}

fn name(s: &str) -> Username {
    Username::new(s).unwrap()
}

#[test]
fn register_lookup_and_reopen() {
    let folder = TestFolder::new("dir-basic");
    let mut dir = PemFolderDirectory::open(folder.path()).unwrap();
    assert!(dir.is_empty());
    dir.register(&name("alice"), &key(1)).unwrap();
    dir.register(&name("bob.smith"), &key(2)).unwrap();
    // Same key again: nothing to do.
    dir.register(&name("alice"), &key(1)).unwrap();
    assert_eq!(
        dir.register(&name("alice"), &key(3)),
        Err(IdentityError::AlreadyRegistered {
            username: String::from("alice")
        })
    );
    assert_eq!(dir.lookup(&name("alice")), Some(key(1)));

    let reopened = PemFolderDirectory::open(folder.path()).unwrap();
    let users: Vec<_> = reopened.iter().map(|(u, k)| (u.clone(), *k)).collect();
    assert_eq!(
        users,
        [(name("alice"), key(1)), (name("bob.smith"), key(2))]
    );
    assert_eq!(reopened.folder(), folder.path());
}

#[test]
fn replace_changes_the_key_on_disk() {
    let folder = TestFolder::new("dir-replace");
    let mut dir = PemFolderDirectory::open(folder.path()).unwrap();
    assert_eq!(dir.replace(&name("carol"), &key(1)), Ok(None));
    assert_eq!(dir.replace(&name("carol"), &key(2)), Ok(Some(key(1))));
    let reopened = PemFolderDirectory::open(folder.path()).unwrap();
    assert_eq!(reopened.lookup(&name("carol")), Some(key(2)));
}

#[test]
fn register_refuses_a_file_that_appeared_since_open() {
    let folder = TestFolder::new("dir-race");
    let mut dir = PemFolderDirectory::open(folder.path()).unwrap();
    key(1).save_pem_file(folder.join("dave.pem")).unwrap();
    assert!(matches!(
        dir.register(&name("dave"), &key(2)),
        Err(IdentityError::AlreadyExists { .. })
    ));
    dir.reload().unwrap();
    assert_eq!(dir.lookup(&name("dave")), Some(key(1)));
}

#[test]
fn bad_names_fail_the_load_naming_the_file_and_other_files_are_ignored() {
    let folder = TestFolder::new("dir-names");
    std::fs::write(folder.join("README.txt"), "not a key").unwrap();
    std::fs::write(folder.join(".hidden"), "x").unwrap();
    key(1).save_pem_file(folder.join("erin.pem")).unwrap();
    let mut dir = PemFolderDirectory::open(folder.path()).unwrap();
    assert_eq!(dir.len(), 1);

    key(2).save_pem_file(folder.join("-bad.pem")).unwrap();
    let error = dir.reload().unwrap_err();
    let IdentityError::InFile { path, error } = error else {
        panic!("unexpected {error:?}");
    };
    assert!(path.ends_with("-bad.pem"), "{path}");
    assert_eq!(
        *error,
        IdentityError::InvalidUsername("must start with a letter or digit")
    );
    // A failed reload keeps what was there.
    assert_eq!(dir.len(), 1);
}

#[test]
fn garbage_files_fail_the_load_naming_the_file() {
    let folder = TestFolder::new("dir-garbage");
    std::fs::write(folder.join("frank.pem"), "garbage").unwrap();
    let error = PemFolderDirectory::open(folder.path()).unwrap_err();
    assert!(matches!(
        &error,
        IdentityError::InFile { path, error }
            if path.ends_with("frank.pem") && matches!(**error, IdentityError::MalformedKey(_))
    ));
    // A private key where a public key belongs is refused with its label.
    std::fs::remove_file(folder.join("frank.pem")).unwrap();
    Identity::from_seed(&[1; 32])
        .save_pem_file(folder.join("frank.pem"))
        .unwrap();
    assert_eq!(
        PemFolderDirectory::open(folder.path()).unwrap_err(),
        IdentityError::InFile {
            path: folder.join("frank.pem").display().to_string(),
            error: Box::new(IdentityError::UnexpectedPemLabel {
                expected: "PUBLIC KEY",
                found: String::from("PRIVATE KEY"),
            }),
        }
    );
}

#[test]
fn missing_folder_is_an_io_error() {
    let folder = TestFolder::new("dir-missing");
    assert!(matches!(
        PemFolderDirectory::open(folder.join("nope")),
        Err(IdentityError::Io { .. })
    ));
}
