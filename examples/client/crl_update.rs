//! A newer CRL delivered by the server: saved over the CRL file the client loaded, and
//! used for the next logins.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use securecom_host::pki::save_newer_crl;
use securecom_proto::handshake::ClientConfig;
use securecom_proto::pki::{NewerCrl, crls_from_pem};

/// The client's configuration, replaced when a server delivers a newer CRL, and the file
/// that CRL is saved to.
pub(crate) struct CrlUpdates {
    config: Mutex<Arc<ClientConfig>>,
    /// Where a newer CRL of the CA is saved: the one CRL file given (or the default),
    /// when it holds exactly one CRL and that is the CA's; otherwise the newer CRL is used
    /// for this run only.
    file: Option<PathBuf>,
}

impl CrlUpdates {
    /// Starts from `config`, loaded with `crl_files` (none without revocation checks).
    pub(crate) fn new(config: ClientConfig, crl_files: &[PathBuf]) -> Self {
        let file = match crl_files {
            [file] if holds_only_the_anchors_crl(&config, file) => Some(file.clone()),
            _ => None,
        };
        CrlUpdates {
            config: Mutex::new(Arc::new(config)),
            file,
        }
    }

    /// The configuration to log in with now.
    pub(crate) fn config(&self) -> Arc<ClientConfig> {
        match self.config.lock() {
            Ok(config) => Arc::clone(&config),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// After a login that delivered `crl`: use it from the next login on, save it, and
    /// say so in one line on stderr (stdout is the line mode's events).
    pub(crate) fn adopt(&self, crl: &NewerCrl) {
        let mut config = match self.config.lock() {
            Ok(config) => config,
            Err(poisoned) => poisoned.into_inner(),
        };
        let updated = match config.with_newer_crl(crl) {
            Ok(updated) => updated,
            // Already adopted by a login that finished first, or otherwise not newer.
            Err(_) => return,
        };
        *config = Arc::new(updated);
        drop(config);
        let what = format!(
            "the server delivered a newer CRL (number {}, valid until {})",
            crl.number(),
            crl.next_update()
        );
        match &self.file {
            Some(path) => match save_newer_crl(path, crl) {
                Ok(()) => eprintln!("{what}; saved to {}", path.display()),
                Err(e) => eprintln!("{what}; using it, but it could not be saved: {e}"),
            },
            None => eprintln!(
                "{what}; using it for this run (not saved: give exactly one --crl file, the CA's)"
            ),
        }
    }
}

/// Whether `file` holds one CRL, the one of the CA `config` trusts (so replacing it loses
/// nothing).
fn holds_only_the_anchors_crl(config: &ClientConfig, file: &Path) -> bool {
    let one_block = std::fs::read_to_string(file)
        .ok()
        .and_then(|text| crls_from_pem(&text).ok())
        .is_some_and(|crls| crls.len() == 1);
    one_block && config.verifier().anchor_crl_number().is_some()
}
