//! The key the nodes of a relay cluster share (`docs/CLUSTER.md`): it authenticates
//! every bus message and presence entry, so that another client of the bus cannot speak
//! for a node.

use std::path::Path;

use zeroize::Zeroizing;

use crate::files::write_new_secret_file;
use crate::{AdminError, random};

/// Bytes in a cluster key (64 hexadecimal digits in its file).
pub const CLUSTER_KEY_LEN: usize = 32;

/// Writes a fresh cluster key to `path`: [`CLUSTER_KEY_LEN`] bytes from the operating
/// system's generator as 64 lowercase hexadecimal digits and a newline, the format the
/// relay server's `--cluster-key-file` reads (`securecom_nats::read_cluster_key`).
///
/// The file is new (an existing one is never replaced: every node of a cluster must keep
/// the key it has) and, on Unix, readable and writable by its owner only (mode 0600).
/// Copy it to each node over a channel you trust; whoever holds it can speak for any node.
///
/// ```
/// use securecom_admin::create_cluster_key;
/// # let dir = std::env::temp_dir().join(format!("securecom-doc-ck-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("cluster.key");
/// create_cluster_key(&path)?;
/// assert_eq!(std::fs::read_to_string(&path).unwrap().trim().len(), 64);
/// assert!(create_cluster_key(&path).is_err()); // never overwritten
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), securecom_admin::AdminError>(())
/// ```
///
/// # Errors
/// [`AdminError::Identity`] wrapping `AlreadyExists` (naming the file) if `path` exists;
/// [`AdminError::Io`] if it cannot be written (a partial file is removed);
/// [`AdminError::Random`] if the generator fails.
pub fn create_cluster_key(path: impl AsRef<Path>) -> Result<(), AdminError> {
    let key = Zeroizing::new(random::bytes::<CLUSTER_KEY_LEN>()?);
    write_new_secret_file(path.as_ref(), key_file_text(&key).as_bytes())
}

/// The file's text for `key`: lowercase hex and a newline, held in memory that is wiped.
fn key_file_text(key: &[u8; CLUSTER_KEY_LEN]) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::with_capacity(2 * CLUSTER_KEY_LEN + 1));
    for byte in key {
        for nibble in [byte >> 4, byte & 0x0f] {
            text.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use securecom_proto::identity::IdentityError;

    /// A scratch folder, removed on drop.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let path =
                std::env::temp_dir().join(format!("securecom-admin-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            Scratch(path)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn the_text_is_lowercase_hex_and_a_newline() {
        let mut key = [0u8; CLUSTER_KEY_LEN];
        key[0] = 0xab;
        key[1] = 0x0f;
        key[31] = 0xf0;
        let text = key_file_text(&key);
        assert_eq!(
            text.as_str(),
            format!("ab0f{}f0\n", "00".repeat(CLUSTER_KEY_LEN - 3))
        );
    }

    #[test]
    fn a_key_file_is_new_random_owner_only_and_never_overwritten() {
        let dir = Scratch::new("cluster-key");
        let (first, second) = (dir.0.join("a.key"), dir.0.join("b.key"));
        create_cluster_key(&first).unwrap();
        create_cluster_key(&second).unwrap();

        let text = std::fs::read_to_string(&first).unwrap();
        let hex = text.strip_suffix('\n').expect("ends with a newline");
        assert_eq!(hex.len(), 2 * CLUSTER_KEY_LEN, "{text:?}");
        assert!(
            hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "{text:?}"
        );
        assert_ne!(text, std::fs::read_to_string(&second).unwrap());

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&first).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }

        assert_eq!(
            create_cluster_key(&first),
            Err(AdminError::Identity(IdentityError::AlreadyExists {
                path: first.display().to_string()
            }))
        );
        assert_eq!(std::fs::read_to_string(&first).unwrap(), text);
    }
}
