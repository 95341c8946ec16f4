//! The known-keys file: its format, and how it is written.

use std::ffi::OsString;
use std::io::Write as _;

use securecom_proto::chat::{KeyStatus, KnownKeys, KnownKeysError};
use securecom_proto::identity::{Identity, PublicKey, Username};

use super::{FileKnownKeys, atomic};
use crate::test_folder::TestFolder;

fn user(name: &str) -> Username {
    Username::new(name).unwrap()
}

fn key(seed: u8) -> PublicKey {
    Identity::from_seed(&[seed; 32]).public_key()
}

fn hex(key: &PublicKey) -> String {
    key.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn verified_marks_are_kept_and_old_files_still_read() {
    let dir = TestFolder::new("known-keys-format");
    let path = dir.join("known_keys");
    // A file as earlier versions wrote it: no marker.
    std::fs::write(
        &path,
        format!(
            "# securecom known keys: username public-key\nbob {}\n",
            hex(&key(1))
        ),
    )
    .unwrap();
    let mut known = FileKnownKeys::open(&path).unwrap();
    assert_eq!(known.status(&user("bob"), &key(1)), KeyStatus::Known);
    known.verify(&user("bob"), &key(1)).unwrap();
    known.remember(&user("carol"), &key(2)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(&format!("bob {} verified\n", hex(&key(1)))),
        "{text}"
    );
    assert!(
        text.contains(&format!("carol {}\n", hex(&key(2)))),
        "{text}"
    );

    let mut reopened = FileKnownKeys::open(&path).unwrap();
    assert_eq!(reopened.status(&user("bob"), &key(1)), KeyStatus::Verified);
    assert_eq!(reopened.status(&user("carol"), &key(2)), KeyStatus::Known);
    assert_eq!(
        reopened.status(&user("bob"), &key(3)),
        KeyStatus::Changed {
            previous: key(1),
            verified: true
        }
    );
    // `remember` never replaces; `trust` replaces, unverified.
    reopened.remember(&user("bob"), &key(3)).unwrap();
    assert_eq!(reopened.status(&user("bob"), &key(1)), KeyStatus::Verified);
    reopened.trust(&user("bob"), &key(3)).unwrap();
    let again = FileKnownKeys::open(&path).unwrap();
    assert_eq!(again.status(&user("bob"), &key(3)), KeyStatus::Known);
}

#[test]
fn malformed_lines_are_errors_naming_the_line() {
    let dir = TestFolder::new("known-keys-malformed");
    let path = dir.join("known_keys");
    for bad in [
        format!("bob {} trusted\n", hex(&key(1))),
        format!("bob {} verified extra\n", hex(&key(1))),
        "bob 1234\n".to_owned(),
        "bob\n".to_owned(),
    ] {
        std::fs::write(&path, format!("# header\n{bad}")).unwrap();
        let e = FileKnownKeys::open(&path).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{bad:?}: {e}");
    }
}

#[cfg(unix)]
#[test]
fn the_file_is_private_and_no_temporary_file_is_left() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TestFolder::new("known-keys-mode");
    let path = dir.join("known_keys");
    let mut known = FileKnownKeys::open(&path).unwrap();
    known.remember(&user("bob"), &key(1)).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    // An existing file with wide permissions is replaced by a private one.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    known.verify(&user("bob"), &key(1)).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    let names: Vec<OsString> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [OsString::from("known_keys")]);
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_at_the_temporary_name_is_never_followed() {
    let dir = TestFolder::new("known-keys-symlink");
    let path = dir.join("known_keys");
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    std::fs::write(&path, "# old\n").unwrap();
    let planted = dir.join(".known_keys.planted.tmp");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let dangling = dir.join(".known_keys.dangling.tmp");
    std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();

    // Every name offered is a planted link: the write fails, touching nothing.
    for name in [".known_keys.planted.tmp", ".known_keys.dangling.tmp"] {
        let e = atomic::write_with_names(&path, b"new\n", || Ok(OsString::from(name))).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{name}");
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# old\n");
    assert!(!dir.join("nowhere").exists());
    assert!(
        std::fs::symlink_metadata(&planted)
            .unwrap()
            .file_type()
            .is_symlink()
    );

    // A taken name is skipped for the next one drawn.
    let mut names = [".known_keys.planted.tmp", ".known_keys.fresh.tmp"].into_iter();
    atomic::write_with_names(&path, b"new\n", || {
        Ok(OsString::from(names.next().unwrap()))
    })
    .unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

/// True if this process can create files in a directory without write permission (root).
#[cfg(unix)]
fn ignores_permissions(dir: &std::path::Path) -> bool {
    std::fs::File::create(dir.join("probe"))
        .and_then(|mut f| f.write_all(b"x"))
        .is_ok()
}

#[cfg(unix)]
#[test]
fn a_write_error_is_returned_naming_the_file_and_nothing_changes() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TestFolder::new("known-keys-readonly");
    let keys_dir = dir.join("keys");
    std::fs::create_dir(&keys_dir).unwrap();
    let path = keys_dir.join("known_keys");
    let mut known = FileKnownKeys::open(&path).unwrap();
    known.remember(&user("bob"), &key(1)).unwrap();

    std::fs::set_permissions(&keys_dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    if ignores_permissions(&keys_dir) {
        // Running as root: a read-only directory stops nobody; a missing one does.
        std::fs::set_permissions(&keys_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::remove_dir_all(&keys_dir).unwrap();
    }
    let check = |e: KnownKeysError| {
        let text = e.to_string();
        assert!(matches!(e, KnownKeysError::Save { .. }), "{e:?}");
        assert!(text.contains(&path.display().to_string()), "{text}");
    };
    check(known.remember(&user("carol"), &key(2)).unwrap_err());
    check(known.verify(&user("bob"), &key(1)).unwrap_err());
    check(known.trust(&user("bob"), &key(3)).unwrap_err());
    // What the program reports is what the file holds: every change was undone.
    assert_eq!(known.status(&user("carol"), &key(2)), KeyStatus::FirstSeen);
    assert_eq!(known.status(&user("bob"), &key(1)), KeyStatus::Known);
    let _ = std::fs::set_permissions(&keys_dir, std::fs::Permissions::from_mode(0o700));
}

#[test]
fn a_file_past_the_limit_is_an_error_not_a_silent_truncation() {
    let dir = TestFolder::new("known-keys-oversized");
    let path = dir.join("known_keys");
    let line_key = hex(&key(1));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(file, "# securecom known keys").unwrap();
    for n in 0..=FileKnownKeys::MAX_ENTRIES {
        writeln!(file, "u{n} {line_key}").unwrap();
    }
    drop(file);
    let e = FileKnownKeys::open(&path).unwrap_err().to_string();
    assert!(e.contains("more than 100000 users"), "{e}");
    assert!(e.contains(&path.display().to_string()), "{e}");

    // Exactly at the limit it opens.
    let text = std::fs::read_to_string(&path).unwrap();
    let cut = text.trim_end().rfind('\n').unwrap();
    std::fs::write(&path, &text[..=cut]).unwrap();
    let known = FileKnownKeys::open(&path).unwrap();
    assert_eq!(known.keys().len(), FileKnownKeys::MAX_ENTRIES);
}

#[test]
fn a_new_user_past_the_limit_is_refused_and_the_others_kept() {
    let dir = TestFolder::new("known-keys-full");
    let path = dir.join("known_keys");
    let mut known = FileKnownKeys::open(&path).unwrap().with_max_entries(2);
    known.remember(&user("a"), &key(1)).unwrap();
    known.remember(&user("b"), &key(2)).unwrap();
    let e = known.remember(&user("c"), &key(3)).unwrap_err();
    assert!(matches!(e, KnownKeysError::Full { max: 2, .. }), "{e:?}");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert_eq!(known.status(&user("c"), &key(3)), KeyStatus::FirstSeen);
    // Changing a user already kept still works.
    known.verify(&user("a"), &key(1)).unwrap();
    let reopened = FileKnownKeys::open(&path).unwrap();
    assert_eq!(reopened.keys().len(), 2);
    assert_eq!(reopened.status(&user("a"), &key(1)), KeyStatus::Verified);
}

#[test]
fn an_oversized_file_is_refused_before_it_is_read_whole() {
    let dir = TestFolder::new("known-keys-bytes");
    let path = dir.join("known_keys");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(FileKnownKeys::MAX_BYTES + 1).unwrap();
    let e = FileKnownKeys::open(&path).unwrap_err().to_string();
    assert!(e.contains("larger than"), "{e}");
}
