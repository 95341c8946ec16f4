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
    let long = "x".repeat(300);
    for (bad, reason) in [
        ("", "empty"),
        ("a/b", "only letters, digits, '_', '-' and '.' are allowed"),
        ("../x", "must start with a letter or digit"),
        (
            "with space",
            "only letters, digits, '_', '-' and '.' are allowed",
        ),
        (long.as_str(), "longer than 32 bytes"),
    ] {
        let invalid = AdminError::Identity(IdentityError::InvalidUsername(reason));
        assert_eq!(create_user(bad).unwrap_err(), invalid, "{bad:?}");
        let (someone, _) = create_user("someone").unwrap();
        assert_eq!(
            register_user(folder.path(), bad, &someone.public_key()),
            Err(invalid),
            "{bad:?}"
        );
    }
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0);
}
