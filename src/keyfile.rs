//! Loading a private key file for the programs: plain or passphrase-protected PKCS#8 PEM,
//! the passphrase coming from a file, an environment variable, or a no-echo prompt.

use std::path::Path;

use securecom_host::identity::IdentityFileExt;
use securecom_proto::identity::{Identity, IdentityError};
use zeroize::Zeroizing;

use crate::admin::cli::PassphraseSource;

/// Reads the key at `path` (size-bounded, typed errors). Only if it is encrypted
/// (`ENCRYPTED PRIVATE KEY`, as `openssl genpkey -aes256` writes) is a passphrase needed: it
/// comes from `source`, or, when there is none, from `prompt` (which should not echo).
pub fn load_identity(
    path: &Path,
    source: Option<&PassphraseSource>,
    prompt: impl FnOnce(&str) -> std::io::Result<String>,
) -> Result<Identity, String> {
    Identity::load_pem_file_or_ask(path, |path| match source {
        Some(source) => source.read(),
        None => prompt(&format!("passphrase for {}: ", path.display()))
            .map(|p| Zeroizing::new(p.into_bytes()))
            .map_err(|e| IdentityError::Io {
                path: "terminal".into(),
                reason: e.to_string(),
            }),
    })
    .map_err(|e| e.to_string())
}
