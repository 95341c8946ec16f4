//! Loading the client's [`ServerCertVerifier`] from the CA certificate and CRL files an
//! administrator hands out: the file side of [`securecom_proto::pki`].

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use securecom_proto::pki::{
    CertificateError, FlightCrlError, FlightCrlSource, NewerCrl, RevocationPolicy, ServedCrl,
    ServerCertVerifier, certificates_from_pem, crls_from_pem,
};

/// The largest certificate or CRL file read, in bytes: room for a CRL of some ten
/// thousand entries, and a bound on what a hostile file can make us read.
pub const MAX_PEM_FILE_LEN: u64 = 1024 * 1024;

/// Whether, and against which CRL files, the server's chain is checked for revocation:
/// the file form of [`RevocationPolicy`], with no default either.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevocationFiles {
    /// Check against the CRLs in these PEM files (each holds one or more `X509 CRL`
    /// blocks, as `openssl ca -gencrl` writes). Every file must hold at least one; an empty
    /// list is [`CertificateError::MissingCrl`]. See [`RevocationPolicy::CheckCrls`].
    CheckCrls(Vec<PathBuf>),
    /// Check no revocation at all. A revoked server certificate is then accepted until it
    /// expires; use only where no CRL can be had and that risk is accepted.
    DangerousNoRevocationCheck,
}

/// Why [`load_server_verifier`] failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifierFileError {
    /// A file could not be read, is not a regular file, is larger than
    /// [`MAX_PEM_FILE_LEN`] or is not text.
    #[error("I/O error on {path}: {reason}")]
    Io {
        /// The file involved.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// A file's content was refused: not PEM, no certificate or CRL in it, more than one
    /// CA certificate, or a certificate or CRL that does not parse.
    #[error("{path}: {error}")]
    InFile {
        /// The file involved.
        path: String,
        /// What was wrong with it.
        error: CertificateError,
    },
    /// The CA certificate and the CRLs, each readable, do not make a verifier together:
    /// no CRL at all, or two CRLs of the same issuer (see [`ServerCertVerifier::new`]).
    #[error("{0}")]
    Verifier(CertificateError),
}

/// Builds the verifier a client checks the server's certificate with, from the CA
/// certificate file `ca_file` (PEM, exactly one `CERTIFICATE` block) and the CRL files of
/// `revocation`. Every file is read with a bound ([`MAX_PEM_FILE_LEN`]) and every
/// certificate and CRL parsed now, so a bad configuration fails before the first
/// connection, naming the file at fault.
///
/// ```
/// use securecom_host::pki::{RevocationFiles, load_server_verifier};
/// let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
///     .join("../securecom-proto/tests/fixtures/pki");
/// let verifier = load_server_verifier(
///     fixtures.join("ca.pem"),
///     &RevocationFiles::CheckCrls(vec![fixtures.join("crl.pem")]),
/// )?;
/// assert!(verifier.checks_revocation());
/// # Ok::<(), securecom_host::pki::VerifierFileError>(())
/// ```
///
/// # Errors
/// [`VerifierFileError::Io`] for a file that cannot be read, [`VerifierFileError::InFile`]
/// for one whose content is refused, [`VerifierFileError::Verifier`] when the CRLs are
/// missing or ambiguous.
pub fn load_server_verifier(
    ca_file: impl AsRef<Path>,
    revocation: &RevocationFiles,
) -> Result<ServerCertVerifier, VerifierFileError> {
    let ca_file = ca_file.as_ref();
    let in_file = |path: &Path, error| VerifierFileError::InFile {
        path: path.display().to_string(),
        error,
    };
    let mut cas =
        certificates_from_pem(&read_pem_file(ca_file)?).map_err(|e| in_file(ca_file, e))?;
    let ca = match (cas.pop(), cas.is_empty()) {
        (Some(ca), true) => ca,
        (None, _) => {
            return Err(in_file(
                ca_file,
                CertificateError::MalformedPem("no CERTIFICATE block in the CA file".into()),
            ));
        }
        (Some(_), false) => {
            return Err(in_file(
                ca_file,
                CertificateError::MalformedPem(
                    "more than one CERTIFICATE block in the CA file".into(),
                ),
            ));
        }
    };
    let crl_files = match revocation {
        RevocationFiles::DangerousNoRevocationCheck => {
            return ServerCertVerifier::new(ca, RevocationPolicy::DangerousNoRevocationCheck)
                .map_err(|e| in_file(ca_file, e));
        }
        RevocationFiles::CheckCrls(files) => files,
    };
    let mut crls_by_file = Vec::with_capacity(crl_files.len());
    for file in crl_files {
        let crls = crls_from_pem(&read_pem_file(file)?).map_err(|e| in_file(file, e))?;
        if crls.is_empty() {
            return Err(in_file(
                file,
                CertificateError::MalformedPem("no X509 CRL block in the CRL file".into()),
            ));
        }
        crls_by_file.push((file, crls));
    }
    let all = crls_by_file
        .iter()
        .flat_map(|(_, crls)| crls.iter().cloned());
    match ServerCertVerifier::new(ca.clone(), RevocationPolicy::CheckCrls(all.collect())) {
        Ok(verifier) => Ok(verifier),
        Err(CertificateError::Malformed) => Err(in_file(ca_file, CertificateError::Malformed)),
        Err(CertificateError::MalformedCrl) => {
            // Name the file: the first whose CRLs alone are refused.
            let culprit = crls_by_file.iter().find(|(_, crls)| {
                ServerCertVerifier::new(ca.clone(), RevocationPolicy::CheckCrls(crls.clone()))
                    .is_err_and(|e| e == CertificateError::MalformedCrl)
            });
            Err(match culprit {
                Some((file, _)) => in_file(file, CertificateError::MalformedCrl),
                None => VerifierFileError::Verifier(CertificateError::MalformedCrl),
            })
        }
        Err(error) => Err(VerifierFileError::Verifier(error)),
    }
}

/// Reads a PEM text file of at most [`MAX_PEM_FILE_LEN`] bytes.
fn read_pem_file(path: &Path) -> Result<String, VerifierFileError> {
    let io = |reason: String| VerifierFileError::Io {
        path: path.display().to_string(),
        reason,
    };
    // Checked before opening: opening a FIFO or device could block or never end.
    let metadata = fs::metadata(path).map_err(|e| io(e.to_string()))?;
    if !metadata.is_file() {
        return Err(io("not a regular file".to_string()));
    }
    let too_large = || io("larger than the 1 MiB allowed for a PEM file".to_string());
    if metadata.len() > MAX_PEM_FILE_LEN {
        return Err(too_large());
    }
    let mut text = String::new();
    File::open(path)
        .and_then(|file| file.take(MAX_PEM_FILE_LEN + 1).read_to_string(&mut text))
        .map_err(|e| io(e.to_string()))?;
    if text.len() as u64 > MAX_PEM_FILE_LEN {
        return Err(too_large());
    }
    Ok(text)
}

/// Why a CRL file could not be served ([`LiveCrl`]) or saved ([`save_newer_crl`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlFileError {
    /// The file could not be read or written, or is not one PEM `X509 CRL` block.
    #[error("{path}: {reason}")]
    Io {
        /// The file involved.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The CRL in the file cannot be carried in the server's flight.
    #[error("{path}: {error}")]
    Refused {
        /// The file involved.
        path: String,
        /// Why ([`ServedCrl::new`]).
        error: FlightCrlError,
    },
}

/// Writes `crl`, a newer CRL a server delivered ([`NewerCrl`]), over the CRL file `path`
/// as PEM, atomically: a temporary file with a random name in the same folder, created
/// exclusively (never through a symbolic link someone planted) with mode 0600, written,
/// synced, then renamed over `path` (a link at `path` is replaced, not followed), and the
/// folder synced. A reader sees the old file or the new one, never a mix.
///
/// The caller decides that `path` is the file of the trust anchor's CRL (a file holding
/// one CRL, the anchor's), and calls this only after a complete login.
///
/// # Errors
/// [`CrlFileError::Io`], naming the file.
pub fn save_newer_crl(path: impl AsRef<Path>, crl: &NewerCrl) -> Result<(), CrlFileError> {
    let path = path.as_ref();
    let io = |reason: String| CrlFileError::Io {
        path: path.display().to_string(),
        reason,
    };
    let pem = crl.to_pem().map_err(|e| io(e.to_string()))?;
    crate::chat::atomic::write(path, pem.as_bytes()).map_err(|e| io(e.to_string()))
}

/// The CRL a server carries in its handshake flight, read from a PEM file (one
/// `X509 CRL` block, as keytool writes `crl.pem`) and read again in place by
/// [`LiveCrl::reload`], for example on SIGHUP after the CRL was renewed: the next
/// handshake carries the new one.
///
/// ```
/// use securecom_host::pki::LiveCrl;
/// use securecom_proto::pki::{FlightCrlSource, certificates_from_pem};
/// let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
///     .join("../securecom-proto/tests/fixtures/pki");
/// let chain = certificates_from_pem(&std::fs::read_to_string(fixtures.join("server.pem"))?)?;
/// let live = LiveCrl::open(fixtures.join("crl.pem"), chain)?;
/// assert_eq!(live.flight_crl().map(|c| c.number().to_string()), Some("2".into()));
/// live.reload()?; // after the file was renewed
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct LiveCrl {
    path: PathBuf,
    chain: Vec<Vec<u8>>,
    current: RwLock<Arc<ServedCrl>>,
}

impl LiveCrl {
    /// Reads the CRL file `path` and checks it for the server whose chain (DER, leaf
    /// first) is `chain` ([`ServedCrl::new`]: issued by the CA above the chain, numbered,
    /// small enough).
    ///
    /// # Errors
    /// [`CrlFileError::Io`] for a file that cannot be read or does not hold exactly one
    /// CRL, [`CrlFileError::Refused`] for a CRL that cannot be served.
    pub fn open(path: impl Into<PathBuf>, chain: Vec<Vec<u8>>) -> Result<Self, CrlFileError> {
        let path = path.into();
        let current = RwLock::new(Arc::new(read_served_crl(&path, &chain)?));
        Ok(LiveCrl {
            path,
            chain,
            current,
        })
    }

    /// Reads the file again. On error the CRL served so far stays, so a broken edit
    /// never stops the server; the error says why.
    ///
    /// # Errors
    /// As [`LiveCrl::open`].
    pub fn reload(&self) -> Result<Arc<ServedCrl>, CrlFileError> {
        let fresh = Arc::new(read_served_crl(&self.path, &self.chain)?);
        match self.current.write() {
            Ok(mut current) => *current = Arc::clone(&fresh),
            Err(poisoned) => *poisoned.into_inner() = Arc::clone(&fresh),
        }
        Ok(fresh)
    }

    /// The file served.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl FlightCrlSource for LiveCrl {
    fn flight_crl(&self) -> Option<Arc<ServedCrl>> {
        Some(match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        })
    }
}

fn read_served_crl(path: &Path, chain: &[Vec<u8>]) -> Result<ServedCrl, CrlFileError> {
    let io = |reason: String| CrlFileError::Io {
        path: path.display().to_string(),
        reason,
    };
    let text = read_pem_file(path).map_err(|e| match e {
        VerifierFileError::Io { reason, .. } => io(reason),
        other => io(other.to_string()),
    })?;
    let mut crls = crls_from_pem(&text).map_err(|e| io(e.to_string()))?;
    let crl = match (crls.pop(), crls.is_empty()) {
        (Some(crl), true) => crl,
        (None, _) => return Err(io("no X509 CRL block".to_string())),
        (Some(_), false) => {
            return Err(io(
                "more than one X509 CRL block: the server carries one, its CA's".to_string(),
            ));
        }
    };
    ServedCrl::new(crl, chain).map_err(|error| CrlFileError::Refused {
        path: path.display().to_string(),
        error,
    })
}

#[cfg(test)]
mod tests;
