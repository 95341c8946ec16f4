//! Loading a private key file for the programs: plain or passphrase-protected PKCS#8 PEM.

use std::path::Path;

use securecom_proto::identity::Identity;
use zeroize::Zeroizing;

/// Where a passphrase comes from when the key file is encrypted.
#[derive(Clone, Debug)]
pub enum PassphraseSource<'a> {
    /// The first line of this file.
    File(&'a Path),
    /// This environment variable.
    Env(&'a str),
    /// Ask on the terminal without echo.
    Prompt,
}

/// Reads the key at `path`; if it is encrypted (`ENCRYPTED PRIVATE KEY`, as
/// `openssl genpkey -aes256` writes), obtains the passphrase from `source`, asking through
/// `prompt` for [`PassphraseSource::Prompt`].
pub fn load_identity(
    path: &Path,
    source: PassphraseSource<'_>,
    prompt: impl FnOnce(&str) -> std::io::Result<String>,
) -> Result<Identity, String> {
    let pem = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
    );
    if !pem.contains("ENCRYPTED PRIVATE KEY") {
        return Identity::from_pkcs8_pem(&pem).map_err(|e| format!("{}: {e}", path.display()));
    }
    let passphrase = Zeroizing::new(match source {
        PassphraseSource::File(file) => std::fs::read_to_string(file)
            .map_err(|e| format!("{}: {e}", file.display()))?
            .lines()
            .next()
            .unwrap_or("")
            .to_owned(),
        PassphraseSource::Env(var) => {
            std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?
        }
        PassphraseSource::Prompt => prompt(&format!("passphrase for {}: ", path.display()))
            .map_err(|e| format!("cannot read the passphrase: {e}"))?,
    });
    Identity::from_encrypted_pkcs8_pem(&pem, passphrase.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}
