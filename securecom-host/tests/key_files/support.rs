//! Shared helpers: fixture paths, scratch folders, the `openssl` command.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use securecom_proto::identity::IdentityError;

/// A file in securecom-proto's `tests/fixtures/identity/`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../securecom-proto/tests/fixtures/identity")
        .join(name)
}

/// The error inside an [`IdentityError::InFile`], after checking it names `file_name`.
pub(crate) fn in_file(error: IdentityError, file_name: &str) -> IdentityError {
    match error {
        IdentityError::InFile { path, error } => {
            assert!(path.ends_with(file_name), "{path} should name {file_name}");
            *error
        }
        other => panic!("expected InFile for {file_name}, got {other:?}"),
    }
}

/// A scratch folder under the system temp folder, removed on drop.
pub(crate) struct TempFolder(PathBuf);

impl TempFolder {
    pub(crate) fn new(name: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "securecom-it-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempFolder(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `openssl` with `args`, or returns `None` (after printing a note) when there is
/// no `openssl` on the PATH.
pub(crate) fn openssl(args: &[&str]) -> Option<Output> {
    match Command::new("openssl").args(args).output() {
        Ok(output) => Some(output),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("note: `openssl` not found on PATH; skipping the OpenSSL CLI check");
            None
        }
        Err(e) => panic!("cannot run openssl: {e}"),
    }
}

/// Like [`openssl`], asserting success.
pub(crate) fn openssl_ok(args: &[&str]) -> Option<Output> {
    let output = openssl(args)?;
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(output)
}

/// `path` as an `openssl` argument (scratch paths are UTF-8).
pub(crate) fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// A fresh random identity.
pub(crate) fn random_identity() -> securecom_proto::identity::Identity {
    securecom_proto::identity::Identity::generate(&mut securecom_host::os_rng())
}
