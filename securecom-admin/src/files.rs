//! Certificate and CRL files: bounded reads, no silent overwrites, atomic replacement.
//! (Private keys are written owner-only by securecom-host's
//! `IdentityFileExt::save_pem_file`.)

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use crate::AdminError;

pub use securecom_host::pki::MAX_PEM_FILE_LEN;

/// Reads a PEM text file (certificate, chain or CRL) of at most [`MAX_PEM_FILE_LEN`]
/// bytes.
///
/// # Errors
/// [`AdminError::Io`] if it cannot be read, is not a regular file, is larger than the
/// limit or is not UTF-8.
pub fn read_pem_file(path: impl AsRef<Path>) -> Result<String, AdminError> {
    let path = path.as_ref();
    let io = |reason: &str| AdminError::Io {
        path: path.display().to_string(),
        reason: reason.to_string(),
    };
    let metadata = fs::metadata(path).map_err(|e| AdminError::io(path, &e))?;
    if !metadata.is_file() {
        return Err(io("not a regular file"));
    }
    if metadata.len() > MAX_PEM_FILE_LEN {
        return Err(io("larger than the 1 MiB allowed for a PEM file"));
    }
    let mut text = String::new();
    File::open(path)
        .and_then(|file| file.take(MAX_PEM_FILE_LEN + 1).read_to_string(&mut text))
        .map_err(|e| AdminError::io(path, &e))?;
    if text.len() as u64 > MAX_PEM_FILE_LEN {
        return Err(io("larger than the 1 MiB allowed for a PEM file"));
    }
    Ok(text)
}

/// Creates `path` with `contents` (mode 0644 less the umask), failing if it exists, so
/// that no certificate is replaced by accident.
///
/// # Errors
/// [`AdminError::Identity`] wrapping `AlreadyExists` if `path` exists;
/// [`AdminError::Io`] if it cannot be written (a partial file is removed).
pub fn write_new_file(path: impl AsRef<Path>, contents: &str) -> Result<(), AdminError> {
    create_new(path.as_ref(), contents.as_bytes(), 0o644)
}

/// Creates `path` with `contents`, readable and writable by its owner only (mode 0600 on
/// Unix), failing if it exists: for secrets other than private keys, such as the cluster
/// key.
///
/// # Errors
/// As [`write_new_file`].
pub(crate) fn write_new_secret_file(path: &Path, contents: &[u8]) -> Result<(), AdminError> {
    create_new(path, contents, 0o600)
}

/// Creates `path` with `contents` and, on Unix, `mode` (less the umask); never replaces
/// a file, and removes what it wrote if the write fails.
fn create_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), AdminError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|e| match e.kind() {
        ErrorKind::AlreadyExists => {
            AdminError::Identity(securecom_proto::identity::IdentityError::AlreadyExists {
                path: path.display().to_string(),
            })
        }
        _ => AdminError::io(path, &e),
    })?;
    if let Err(e) = file.write_all(contents).and_then(|()| file.sync_all()) {
        drop(file);
        let _ = fs::remove_file(path);
        return Err(AdminError::io(path, &e));
    }
    Ok(())
}

/// Replaces (or creates) `path` with `contents` so that a reader, such as a server
/// reloading its CRL, sees the old file or the new one and never half of one: a
/// temporary file beside it, then a rename.
///
/// # Errors
/// [`AdminError::Io`] if the file cannot be written or renamed.
pub fn replace_file(path: impl AsRef<Path>, contents: &str) -> Result<(), AdminError> {
    let path = path.as_ref();
    let temp = temp_path_beside(path)?;
    let _ = fs::remove_file(&temp);
    write_new_file(&temp, contents)?;
    if let Err(e) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(AdminError::io(path, &e));
    }
    Ok(())
}

/// `.<name>.tmp-<pid>` in `path`'s folder.
fn temp_path_beside(path: &Path) -> Result<PathBuf, AdminError> {
    let name = path.file_name().ok_or_else(|| AdminError::Io {
        path: path.display().to_string(),
        reason: "not a file path".to_string(),
    })?;
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".tmp-{}", std::process::id()));
    Ok(path.with_file_name(temp))
}
