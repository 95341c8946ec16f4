//! The key management command line, as a library: `examples/keytool.rs` parses its
//! arguments into a [`Command`] and calls [`run`], which does the work and reports on
//! the writer it is given. Keeping the work here makes it testable in-process.
//!
//! The programs (keytool, the example server and client) also share how a key's
//! passphrase is found: [`PassphraseSource`] for scripts, and [`load_identity`], which
//! asks the program's own prompt only when the key is encrypted.
//!
//! This module uses the rest of the crate; nothing else in it uses this module.
//!
//! Files are named as the OpenSSL walk-through in `docs/KEY-MANAGEMENT.md` names them: a
//! CA folder holds `ca.pem`, `ca.key` and `crl.pem`; a server has `server.pem` and
//! `server.key`; a user has `<name>.key` and `<name>.pem`. A relay cluster's key file has
//! the name it is given (`cluster.key` in `docs/CLUSTER.md`).

mod passphrase;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use securecom_host::identity::{IdentityFileExt, PublicKeyFileExt};
use securecom_proto::identity::{Identity, IdentityError, PublicKey};

pub use passphrase::{MAX_PASSPHRASE_FILE_LEN, PassphraseSource, load_identity};

use crate::{
    AdminError, DevPki, SerialNumber, ServerName, Validity, add_days, certificate_serial,
    create_ca, create_cluster_key, create_crl, create_user, issue_server_certificate, random,
    read_pem_file, register_user, renew_crl, replace_file, revoke, write_new_file,
};

/// Exit code of a successful run.
pub const EXIT_OK: u8 = 0;
/// Exit code when the operation failed (a file, a key, a certificate).
pub const EXIT_FAILED: u8 = 1;
/// Exit code when the command line itself is wrong (as clap uses).
pub const EXIT_USAGE: u8 = 2;

/// One keytool command, with its arguments already parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Create a CA in `dir`: `ca.key`, `ca.pem` and an empty `crl.pem`.
    InitCa {
        /// The folder to write to (created if needed).
        dir: PathBuf,
        /// The CA's name (its certificate's common name).
        name: String,
        /// Days the CA certificate is valid.
        days: u32,
        /// Days the CRL is valid (re-sign it before then).
        crl_days: u32,
        /// Encrypt `ca.key` with this passphrase.
        passphrase: Option<PassphraseSource>,
    },
    /// Issue a server certificate from the CA in `ca_dir`.
    IssueServer {
        /// The CA folder (`ca.pem`, `ca.key`).
        ca_dir: PathBuf,
        /// The passphrase of `ca.key`, if it is encrypted.
        ca_passphrase: Option<PassphraseSource>,
        /// DNS names and IP addresses the server is reached by.
        names: Vec<String>,
        /// Days the certificate is valid.
        days: u32,
        /// Where to write the certificate.
        cert_out: PathBuf,
        /// Where to write the server's private key.
        key_out: PathBuf,
        /// Encrypt the server key with this passphrase.
        key_passphrase: Option<PassphraseSource>,
    },
    /// Create a user's key pair: `<out_dir>/<name>.key` and `<out_dir>/<name>.pem`.
    NewUser {
        /// The username.
        name: String,
        /// The folder to write to.
        out_dir: PathBuf,
        /// Encrypt the private key with this passphrase.
        passphrase: Option<PassphraseSource>,
    },
    /// Register a user's public key in the server's user directory.
    Register {
        /// The username.
        name: String,
        /// The user's public key file.
        public_key: PathBuf,
        /// The server's user directory folder.
        users: PathBuf,
    },
    /// Revoke a certificate: add it to the CA's `crl.pem` and re-sign it.
    Revoke {
        /// A serial number in hexadecimal, or a certificate file.
        target: String,
        /// The CA folder (`ca.pem`, `ca.key`, `crl.pem`).
        ca_dir: PathBuf,
        /// The passphrase of `ca.key`, if it is encrypted.
        ca_passphrase: Option<PassphraseSource>,
        /// Days the new CRL is valid.
        crl_days: u32,
    },
    /// Re-sign the CA's `crl.pem` with new dates, keeping its entries: needed before its
    /// nextUpdate passes, since clients then refuse it.
    RenewCrl {
        /// The CA folder (`ca.pem`, `ca.key`, `crl.pem`).
        ca_dir: PathBuf,
        /// The passphrase of `ca.key`, if it is encrypted.
        ca_passphrase: Option<PassphraseSource>,
        /// Days the new CRL is valid.
        crl_days: u32,
    },
    /// Create (or check) the development PKI.
    DevPki {
        /// The folder; [`DEV_PKI_FOLDER`](crate::DEV_PKI_FOLDER) if `None`.
        dir: Option<PathBuf>,
    },
    /// Create the key the nodes of a relay cluster share, in a new owner-only file.
    ClusterKey {
        /// The file to create.
        out: PathBuf,
    },
    /// Tell a running server (by the pid file it wrote with `--pid-file`) to read its user
    /// folder again: sessions of keys no longer registered are closed as revoked.
    ReloadServer {
        /// The server's pid file.
        pid_file: PathBuf,
    },
}

/// Why a keytool command failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// The command line was wrong.
    #[error("{0}")]
    Usage(String),
    /// The operation failed.
    #[error(transparent)]
    Failed(#[from] AdminError),
}

impl From<IdentityError> for CliError {
    fn from(error: IdentityError) -> Self {
        CliError::Failed(AdminError::Identity(error))
    }
}

impl CliError {
    /// What to do about the error, naming the option to give, when the error alone does
    /// not say: an encrypted CA key read without its passphrase (every key keytool reads is
    /// a CA's) needs `--ca-passphrase-file` or `--ca-passphrase-env`.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CliError::Failed(AdminError::Identity(IdentityError::InFile { error, .. }))
                if **error == IdentityError::EncryptedKeyNeedsPassphrase =>
            {
                Some(
                    "give its passphrase with --ca-passphrase-file FILE or --ca-passphrase-env VARIABLE",
                )
            }
            _ => None,
        }
    }

    /// The process exit code for this error: [`EXIT_USAGE`] or [`EXIT_FAILED`].
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Failed(_) => EXIT_FAILED,
        }
    }
}

/// Runs `command`, writing what it did to `out`.
///
/// ```
/// use securecom_admin::cli::{Command, run};
/// # let dir = std::env::temp_dir().join(format!("securecom-doc-cli-{}", std::process::id()));
/// let mut out = Vec::new();
/// run(&Command::DevPki { dir: Some(dir.clone()) }, &mut out)?;
/// assert!(String::from_utf8_lossy(&out).contains("ca.pem"));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), securecom_admin::cli::CliError>(())
/// ```
///
/// # Errors
/// [`CliError::Usage`] for arguments that make no sense (a bad server name or serial),
/// [`CliError::Failed`] when the work fails. Nothing is half done: files are written
/// only once everything they depend on has been checked.
pub fn run(command: &Command, out: &mut dyn Write) -> Result<(), CliError> {
    match command {
        Command::InitCa {
            dir,
            name,
            days,
            crl_days,
            passphrase,
        } => init_ca(dir, name, *days, *crl_days, passphrase.as_ref(), out),
        Command::IssueServer {
            ca_dir,
            ca_passphrase,
            names,
            days,
            cert_out,
            key_out,
            key_passphrase,
        } => issue_server(
            ca_dir,
            ca_passphrase.as_ref(),
            names,
            *days,
            cert_out,
            key_out,
            key_passphrase.as_ref(),
            out,
        ),
        Command::NewUser {
            name,
            out_dir,
            passphrase,
        } => new_user(name, out_dir, passphrase.as_ref(), out),
        Command::Register {
            name,
            public_key,
            users,
        } => {
            let key = PublicKey::load_pem_file(public_key)?;
            let file = register_user(users, name, &key)?;
            say(
                out,
                format_args!("Registered {name} ({})", key.fingerprint()),
            )?;
            say(out, format_args!("  {}", file.display()))
        }
        Command::Revoke {
            target,
            ca_dir,
            ca_passphrase,
            crl_days,
        } => revoke_command(target, ca_dir, ca_passphrase.as_ref(), *crl_days, out),
        Command::RenewCrl {
            ca_dir,
            ca_passphrase,
            crl_days,
        } => {
            let files = CaFiles::in_dir(ca_dir);
            let ca_key = load_key(&files.key, ca_passphrase.as_ref())?;
            let ca_cert = read_pem_file(&files.cert)?;
            let now = SystemTime::now();
            let crl = read_pem_file(&files.crl)?;
            let crl = renew_crl(&ca_key, &ca_cert, &crl, now, add_days(now, *crl_days)?)?;
            replace_file(&files.crl, &crl)?;
            say(
                out,
                format_args!(
                    "Renewed {}: valid {crl_days} days, publish it to every client",
                    files.crl.display()
                ),
            )
        }
        Command::DevPki { dir } => {
            let dir = dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(crate::DEV_PKI_FOLDER));
            let pki = DevPki::ensure(dir)?;
            write!(out, "{}", pki.describe()).map_err(stdout_error)?;
            Ok(())
        }
        Command::ReloadServer { pid_file } => {
            let pid = crate::reload::signal_reload(pid_file)?;
            say(
                out,
                format_args!("Asked the server (pid {pid}) to reload its user directory"),
            )
        }
        Command::ClusterKey { out: file } => {
            create_cluster_key(file)?;
            say(out, format_args!("Created cluster key {}", file.display()))?;
            say(
                out,
                format_args!(
                    "  secret, mode 0600: copy it to every node of the cluster over a channel \
                     you trust, and give it to the server with --cluster-key-file"
                ),
            )
        }
    }
}

fn init_ca(
    dir: &Path,
    name: &str,
    days: u32,
    crl_days: u32,
    passphrase: Option<&PassphraseSource>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let files = CaFiles::in_dir(dir);
    for path in [&files.key, &files.cert, &files.crl] {
        if path.exists() {
            return Err(IdentityError::AlreadyExists {
                path: path.display().to_string(),
            }
            .into());
        }
    }
    let passphrase = passphrase.map(PassphraseSource::read).transpose()?;
    std::fs::create_dir_all(dir).map_err(|e| AdminError::io(dir, &e))?;
    let (key, cert) = create_ca(name, Validity::days_from_now(days)?)?;
    let now = SystemTime::now();
    let crl = create_crl(&key, &cert, &[], now, add_days(now, crl_days)?)?;
    save_key(&key, &files.key, passphrase.as_ref().map(|p| p.as_slice()))?;
    write_new_file(&files.cert, &cert)?;
    write_new_file(&files.crl, &crl)?;
    say(out, format_args!("Created CA \"{name}\" ({} days)", days))?;
    say(
        out,
        format_args!(
            "  {}  CA certificate: give it to every client",
            files.cert.display()
        ),
    )?;
    say(
        out,
        format_args!(
            "  {}  CA private key ({}): keep it offline",
            files.key.display(),
            if passphrase.is_some() {
                "encrypted"
            } else {
                "UNENCRYPTED"
            }
        ),
    )?;
    say(
        out,
        format_args!(
            "  {}  empty CRL, valid {crl_days} days: publish it to clients",
            files.crl.display()
        ),
    )
}

#[allow(clippy::too_many_arguments, reason = "one per command-line option")]
fn issue_server(
    ca_dir: &Path,
    ca_passphrase: Option<&PassphraseSource>,
    names: &[String],
    days: u32,
    cert_out: &Path,
    key_out: &Path,
    key_passphrase: Option<&PassphraseSource>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let names = names
        .iter()
        .map(|name| name.parse::<ServerName>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    if names.is_empty() {
        return Err(CliError::Usage(AdminError::NoServerNames.to_string()));
    }
    for path in [cert_out, key_out] {
        if path.exists() {
            return Err(IdentityError::AlreadyExists {
                path: path.display().to_string(),
            }
            .into());
        }
    }
    let files = CaFiles::in_dir(ca_dir);
    let ca_key = load_key(&files.key, ca_passphrase)?;
    let ca_cert = read_pem_file(&files.cert)?;
    let key_passphrase = key_passphrase.map(PassphraseSource::read).transpose()?;
    let (key, cert) =
        issue_server_certificate(&ca_key, &ca_cert, &names, Validity::days_from_now(days)?)?;
    save_key(&key, key_out, key_passphrase.as_ref().map(|p| p.as_slice()))?;
    write_new_file(cert_out, &cert)?;
    let serial = certificate_serial(&cert)?;
    let shown: Vec<String> = names.iter().map(ToString::to_string).collect();
    say(
        out,
        format_args!(
            "Issued server certificate {serial} for {} ({days} days)",
            shown.join(", ")
        ),
    )?;
    say(out, format_args!("  {}  certificate", cert_out.display()))?;
    say(
        out,
        format_args!(
            "  {}  private key ({})",
            key_out.display(),
            if key_passphrase.is_some() {
                "encrypted"
            } else {
                "unencrypted, mode 0600"
            }
        ),
    )
}

fn new_user(
    name: &str,
    out_dir: &Path,
    passphrase: Option<&PassphraseSource>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let key_file = out_dir.join(format!("{name}.key"));
    let public_file = out_dir.join(format!("{name}.pem"));
    for path in [&key_file, &public_file] {
        if path.exists() {
            return Err(IdentityError::AlreadyExists {
                path: path.display().to_string(),
            }
            .into());
        }
    }
    let passphrase = passphrase.map(PassphraseSource::read).transpose()?;
    let (identity, public_pem) = create_user(name)?;
    std::fs::create_dir_all(out_dir).map_err(|e| AdminError::io(out_dir, &e))?;
    save_key(
        &identity,
        &key_file,
        passphrase.as_ref().map(|p| p.as_slice()),
    )?;
    write_new_file(&public_file, &public_pem)?;
    say(
        out,
        format_args!(
            "Created user {name}, fingerprint {}",
            identity.public_key().fingerprint()
        ),
    )?;
    say(
        out,
        format_args!(
            "  {}  private key ({}): stays with {name}",
            key_file.display(),
            if passphrase.is_some() {
                "encrypted"
            } else {
                "unencrypted, mode 0600"
            }
        ),
    )?;
    say(
        out,
        format_args!(
            "  {}  public key: register it with `keytool register {name} {} --users DIR`",
            public_file.display(),
            public_file.display()
        ),
    )
}

fn revoke_command(
    target: &str,
    ca_dir: &Path,
    ca_passphrase: Option<&PassphraseSource>,
    crl_days: u32,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    // An existing file is a certificate to revoke; anything else must be a serial.
    let serial = if Path::new(target).is_file() {
        certificate_serial(&read_pem_file(target)?)?
    } else {
        target
            .parse::<SerialNumber>()
            .map_err(|e| CliError::Usage(format!("{e} (or name an existing certificate file)")))?
    };
    let files = CaFiles::in_dir(ca_dir);
    let ca_key = load_key(&files.key, ca_passphrase)?;
    let ca_cert = read_pem_file(&files.cert)?;
    let now = SystemTime::now();
    let until = add_days(now, crl_days)?;
    let crl = if files.crl.exists() {
        revoke(
            &ca_key,
            &ca_cert,
            &read_pem_file(&files.crl)?,
            &serial,
            now,
            until,
        )?
    } else {
        create_crl(&ca_key, &ca_cert, std::slice::from_ref(&serial), now, until)?
    };
    replace_file(&files.crl, &crl)?;
    say(out, format_args!("Revoked certificate {serial}"))?;
    say(
        out,
        format_args!(
            "  {}  updated, valid {crl_days} days: publish it to every client",
            files.crl.display()
        ),
    )
}

/// The files of a CA folder.
struct CaFiles {
    key: PathBuf,
    cert: PathBuf,
    crl: PathBuf,
}

impl CaFiles {
    fn in_dir(dir: &Path) -> Self {
        CaFiles {
            key: dir.join("ca.key"),
            cert: dir.join("ca.pem"),
            crl: dir.join("crl.pem"),
        }
    }
}

/// Loads a private key, reading the passphrase only if the file is encrypted.
fn load_key(path: &Path, passphrase: Option<&PassphraseSource>) -> Result<Identity, CliError> {
    let identity = Identity::load_pem_file_or_ask(path, |_| match passphrase {
        Some(source) => source.read(),
        None => Err(IdentityError::InFile {
            path: path.display().to_string(),
            error: Box::new(IdentityError::EncryptedKeyNeedsPassphrase),
        }),
    })?;
    Ok(identity)
}

/// Saves a private key, encrypted if there is a passphrase.
fn save_key(identity: &Identity, path: &Path, passphrase: Option<&[u8]>) -> Result<(), CliError> {
    match passphrase {
        Some(passphrase) => {
            identity.save_encrypted_pem_file(path, passphrase, &mut random::rng()?)?;
        }
        None => identity.save_pem_file(path)?,
    }
    Ok(())
}

fn say(out: &mut dyn Write, line: std::fmt::Arguments<'_>) -> Result<(), CliError> {
    writeln!(out, "{line}").map_err(stdout_error)
}

fn stdout_error(error: std::io::Error) -> CliError {
    CliError::Failed(AdminError::io(Path::new("<output>"), &error))
}
