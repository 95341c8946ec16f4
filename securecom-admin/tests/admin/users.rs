//! User key pairs and registration.

use securecom_admin::{AdminError, create_user, register_user};
use securecom_host::identity::PemFolderDirectory;
use securecom_proto::identity::{IdentityError, PublicKey, UserDirectory, Username};

use crate::support::TempFolder;

#[test]
fn created_users_register_and_are_found_by_the_server() {
    let folder = TempFolder::new("users");
    let (alice, public_pem) = create_user("alice").unwrap();
    let public = PublicKey::from_public_key_pem(&public_pem).unwrap();
    assert_eq!(public, alice.public_key());
    let file = register_user(folder.path(), "alice", &public).unwrap();
    assert_eq!(file, folder.join("alice.pem"));
    // Again with the same key: nothing to do.
    register_user(folder.path(), "alice", &public).unwrap();

    let directory = PemFolderDirectory::open(folder.path()).unwrap();
    assert_eq!(
        directory.lookup(&Username::new("alice").unwrap()),
        Some(public)
    );

    let (mallory, _) = create_user("mallory").unwrap();
    assert_eq!(
        register_user(folder.path(), "alice", &mallory.public_key()).unwrap_err(),
        AdminError::Identity(IdentityError::AlreadyRegistered {
            username: "alice".into()
        })
    );
}

#[test]
fn bad_usernames_are_refused_before_any_key_is_made() {
    let folder = TempFolder::new("bad-users");
    for bad in ["", "a/b", "../x", "with space", &"x".repeat(300)] {
        assert!(
            matches!(
                create_user(bad),
                Err(AdminError::Identity(IdentityError::InvalidUsername(_)))
            ),
            "{bad:?}"
        );
        let (someone, _) = create_user("someone").unwrap();
        assert!(register_user(folder.path(), bad, &someone.public_key()).is_err());
    }
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0);
}
