//! Shared helpers for the admin tests and the securecom crate's keytool tests (which
//! include this file): scratch folders, times, `openssl`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use securecom_admin::{Validity, add_days};
use securecom_proto::pki::{ServerCertVerifier, certificates_from_pem};
use securecom_proto::time::UnixTime;

/// A scratch folder under the system temp folder, removed on drop.
pub(crate) struct TempFolder(PathBuf);

impl TempFolder {
    pub(crate) fn new(name: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "securecom-admin-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
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

pub(crate) fn unix(time: SystemTime) -> UnixTime {
    UnixTime::from_secs(time.duration_since(UNIX_EPOCH).unwrap().as_secs())
}

pub(crate) fn days(n: u32) -> Validity {
    Validity::days_from_now(n).unwrap()
}

/// A CRL window from now to `n` days from now.
pub(crate) fn crl_window(n: u32) -> (SystemTime, SystemTime) {
    let now = SystemTime::now();
    (now, add_days(now, n).unwrap())
}

pub(crate) fn in_a_day() -> UnixTime {
    unix(SystemTime::now() + Duration::from_secs(86_400))
}

/// Verifies `server_pem` for `name` with `ca_pem` and `crl_pem`, as a client does.
pub(crate) fn client_check(
    ca_pem: &str,
    crl_pem: &str,
    server_pem: &str,
    name: &str,
    at: UnixTime,
) -> Result<securecom_proto::identity::PublicKey, securecom_proto::pki::CertificateError> {
    let verifier = ServerCertVerifier::from_pem(ca_pem, Some(crl_pem))?;
    let chain = certificates_from_pem(server_pem)?;
    let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    verifier.verify_server(&chain, name, at)
}

/// Runs `openssl`, or returns `None` (after printing a note) when it is not installed.
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

/// `path` as an `openssl` argument.
pub(crate) fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// A fixture of securecom-proto's OpenSSL-made PKI. This file is compiled in
/// securecom-admin (a workspace member) and in the securecom crate (the workspace root).
pub(crate) fn proto_fixture(name: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = match manifest.parent() {
        Some(parent) if parent.join("securecom-proto").is_dir() => parent,
        _ => manifest,
    };
    workspace
        .join("securecom-proto/tests/fixtures/pki")
        .join(name)
}
