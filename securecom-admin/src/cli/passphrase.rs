//! Passphrases for the programs: from a file or an environment variable for scripts, or
//! from a prompt the program supplies.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use securecom_host::identity::IdentityFileExt;
use securecom_proto::identity::{Identity, IdentityError};
use zeroize::Zeroizing;

/// The longest passphrase file read, in bytes.
pub const MAX_PASSPHRASE_FILE_LEN: u64 = 4096;

/// Where a passphrase comes from when no person is asked: a file (its first line) or an
/// environment variable. The drivers' programs use it too, beside an interactive prompt.
///
/// ```
/// use securecom_admin::cli::PassphraseSource;
/// let file = std::env::temp_dir().join(format!("securecom-doc-pass-{}", std::process::id()));
/// std::fs::write(&file, "correct horse\n")?;
/// let source = PassphraseSource::File(file.clone());
/// assert_eq!(source.read()?.as_slice(), b"correct horse");
/// # std::fs::remove_file(&file)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PassphraseSource {
    /// The first line of this file, without its line ending (like `openssl -passin
    /// file:`). Keep the file owner-only.
    File(PathBuf),
    /// The value of this environment variable (like `openssl -passin env:`).
    Env(String),
}

impl PassphraseSource {
    /// The source named by a `--passphrase-file` and a `--passphrase-env` option, at most
    /// one of which may be given.
    ///
    /// # Errors
    /// A message for the user if both are given.
    pub fn from_options(
        file: Option<PathBuf>,
        env: Option<String>,
    ) -> Result<Option<Self>, String> {
        match (file, env) {
            (Some(_), Some(_)) => {
                Err("give --passphrase-file or --passphrase-env, not both".to_string())
            }
            (Some(file), None) => Ok(Some(PassphraseSource::File(file))),
            (None, Some(var)) => Ok(Some(PassphraseSource::Env(var))),
            (None, None) => Ok(None),
        }
    }

    /// Reads the passphrase, into a buffer wiped on drop.
    ///
    /// # Errors
    /// [`IdentityError::Io`] if the file cannot be read (or is over
    /// [`MAX_PASSPHRASE_FILE_LEN`] bytes) or the variable is not set;
    /// [`IdentityError::EmptyPassphrase`] if the passphrase is empty.
    pub fn read(&self) -> Result<Zeroizing<Vec<u8>>, IdentityError> {
        let passphrase = match self {
            PassphraseSource::File(path) => {
                let io = |reason: String| IdentityError::Io {
                    path: path.display().to_string(),
                    reason,
                };
                let mut bytes = Zeroizing::new(Vec::with_capacity(
                    usize::try_from(MAX_PASSPHRASE_FILE_LEN + 1).unwrap_or(4097),
                ));
                File::open(path)
                    .and_then(|f| f.take(MAX_PASSPHRASE_FILE_LEN + 1).read_to_end(&mut bytes))
                    .map_err(|e| io(e.to_string()))?;
                if bytes.len() as u64 > MAX_PASSPHRASE_FILE_LEN {
                    return Err(io("too large for a passphrase file".to_string()));
                }
                let line_len = bytes
                    .iter()
                    .position(|&b| b == b'\n')
                    .unwrap_or(bytes.len());
                let line = bytes.get(..line_len).unwrap_or_default();
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                Zeroizing::new(line.to_vec())
            }
            PassphraseSource::Env(var) => {
                let value = std::env::var_os(var).ok_or_else(|| IdentityError::Io {
                    path: format!("environment variable {var}"),
                    reason: "not set".to_string(),
                })?;
                Zeroizing::new(os_bytes(value))
            }
        };
        if passphrase.is_empty() {
            return Err(IdentityError::EmptyPassphrase);
        }
        Ok(passphrase)
    }
}

/// Loads a program's private key from `path`: plain or passphrase-protected PKCS#8 PEM.
/// Only if the key is encrypted (`ENCRYPTED PRIVATE KEY`, as `openssl genpkey -aes256`
/// writes) is a passphrase needed: it comes from `source`, or, when there is none, from
/// `prompt`, called with a prompt text naming the file. The program supplies the prompt
/// (one that does not echo, such as `rpassword::prompt_password`); this module never
/// touches the terminal.
///
/// ```
/// use securecom_admin::cli::{PassphraseSource, load_identity};
/// use securecom_host::identity::IdentityFileExt;
/// use securecom_proto::identity::Identity;
/// let dir = std::env::temp_dir().join(format!("securecom-doc-load-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let (key_file, pass_file) = (dir.join("alice.key"), dir.join("pass"));
/// let alice = Identity::from_seed(&[9; 32]);
/// alice.save_encrypted_pem_file(&key_file, b"open sesame", &mut securecom_host::os_rng())?;
/// std::fs::write(&pass_file, "open sesame\n")?;
///
/// // From a file, as a script would:
/// let source = PassphraseSource::File(pass_file);
/// let never_asked = |_: &str| -> std::io::Result<String> { unreachable!() };
/// let loaded = load_identity(&key_file, Some(&source), never_asked)?;
/// assert_eq!(loaded.public_key(), alice.public_key());
/// // From a person (here a closure standing in for a no-echo prompt):
/// let loaded = load_identity(&key_file, None, |prompt| {
///     assert!(prompt.contains("alice.key"));
///     Ok("open sesame".to_string())
/// })?;
/// assert_eq!(loaded.public_key(), alice.public_key());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// The errors of [`IdentityFileExt::load_pem_file_or_ask`] and of
/// [`PassphraseSource::read`]; a failed prompt (no terminal) is
/// [`IdentityError::PassphraseWithoutTerminal`], which names the options to use instead.
pub fn load_identity(
    path: &Path,
    source: Option<&PassphraseSource>,
    prompt: impl FnOnce(&str) -> std::io::Result<String>,
) -> Result<Identity, IdentityError> {
    Identity::load_pem_file_or_ask(path, |path| match source {
        Some(source) => source.read(),
        None => prompt(&format!("passphrase for {}: ", path.display()))
            .map(|p| Zeroizing::new(p.into_bytes()))
            .map_err(|e| IdentityError::PassphraseWithoutTerminal {
                path: path.display().to_string(),
                reason: e.to_string(),
            }),
    })
}

#[cfg(unix)]
fn os_bytes(value: std::ffi::OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStringExt;
    value.into_vec()
}

#[cfg(not(unix))]
fn os_bytes(value: std::ffi::OsString) -> Vec<u8> {
    value.to_string_lossy().into_owned().into_bytes()
}
