use std::fs;

use super::*;
use crate::test_folder::TestFolder;

#[test]
fn private_key_file_is_owner_only_and_never_overwritten() {
    let folder = TestFolder::new("files-private");
    let path = folder.join("id.pem");
    let id = Identity::from_seed(&[1; 32]);
    id.save_pem_file(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let other = Identity::from_seed(&[2; 32]);
    assert!(matches!(
        other.save_pem_file(&path),
        Err(IdentityError::AlreadyExists { .. })
    ));
    assert_eq!(
        Identity::load_pem_file(&path).unwrap().public_key(),
        id.public_key()
    );
}

#[test]
fn public_key_file_round_trips() {
    let folder = TestFolder::new("files-public");
    let path = folder.join("pub.pem");
    let key = Identity::from_seed(&[3; 32]).public_key();
    key.save_pem_file(&path).unwrap();
    assert_eq!(PublicKey::load_pem_file(&path).unwrap(), key);
}

#[test]
fn oversized_files_are_refused_before_reading() {
    let folder = TestFolder::new("files-large");
    let path = folder.join("big.pem");
    // Sparse: the size is checked from metadata, nothing is read.
    fs::File::create(&path).unwrap().set_len(1 << 40).unwrap();
    let error = PublicKey::load_pem_file(&path).unwrap_err();
    let IdentityError::InFile { path: shown, error } = error else {
        panic!("unexpected {error:?}");
    };
    assert!(shown.ends_with("big.pem"));
    assert_eq!(
        *error,
        IdentityError::FileTooLarge {
            size: 1 << 40,
            max: MAX_KEY_FILE_LEN
        }
    );
    // Exactly at the limit is still read (and rejected for its content only).
    fs::write(&path, vec![b' '; MAX_KEY_FILE_LEN as usize]).unwrap();
    assert!(matches!(
        PublicKey::load_pem_file(&path).unwrap_err(),
        IdentityError::InFile { error, .. } if matches!(*error, IdentityError::MalformedKey(_))
    ));
}

#[test]
fn folders_missing_files_and_binary_files_are_typed_errors() {
    let folder = TestFolder::new("files-odd");
    assert!(matches!(
        Identity::load_pem_file(folder.path()),
        Err(IdentityError::Io { reason, .. }) if reason == "not a regular file"
    ));
    assert!(matches!(
        Identity::load_pem_file(folder.join("missing.pem")),
        Err(IdentityError::Io { .. })
    ));
    let binary = folder.join("binary.pem");
    fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
    assert!(matches!(
        Identity::load_pem_file(&binary),
        Err(IdentityError::InFile { .. })
    ));
}

#[test]
fn atomic_replacement_leaves_no_temporary_files() {
    let folder = TestFolder::new("files-atomic");
    let path = folder.join("k.pem");
    replace_file_atomically(&path, b"one").unwrap();
    replace_file_atomically(&path, b"two").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"two");
    let names: Vec<_> = fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [std::ffi::OsString::from("k.pem")]);
}
