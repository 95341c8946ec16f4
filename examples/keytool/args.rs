//! keytool's command line (clap derive), turned into a `securecom_admin::cli::Command`.
//! Shared by `examples/keytool.rs` and the in-process tests in `tests/keytool.rs`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use securecom_admin::cli::{CliError, Command, PassphraseSource};

/// The securecom key tool: create and manage the keys and certificates of a securecom
/// deployment (a CA, server certificates, CRLs, users, cluster keys).
///
/// Every key is Ed25519 and every file is PEM, as the OpenSSL command line reads and
/// writes them (see docs/KEY-MANAGEMENT.md). Private keys and cluster keys are created
/// mode 0600 and no existing file is ever overwritten, except the CRL, which `revoke`
/// replaces atomically. Exit status: 0 success, 1 the operation failed, 2 the command line
/// is wrong.
#[derive(Debug, Parser)]
#[command(name = "keytool", version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// Create a CA: ca.key, ca.pem and an empty crl.pem in DIR.
    ///
    /// The CA signs the server certificates clients check, and the CRL that revokes them;
    /// clients trust ca.pem and read crl.pem. Keep ca.key offline, ideally
    /// passphrase-protected (--passphrase-file or --passphrase-env).
    InitCa {
        /// Folder to write to (created if needed).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The CA's name, shown in its certificate.
        #[arg(long, default_value = "securecom CA")]
        name: String,
        /// Days the CA certificate is valid.
        #[arg(long, default_value_t = 3650)]
        days: u32,
        /// Days the CRL is valid; re-sign it (with `revoke`) before then.
        #[arg(long, default_value_t = 7)]
        crl_days: u32,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Issue a server certificate (and a fresh key) from the CA in --ca-dir.
    ///
    /// The certificate names every --name clients dial (DNS names or IP addresses) and is
    /// valid for --days; the server uses it with --chain and its new key with --key. The
    /// key is encrypted when a passphrase is given.
    IssueServer {
        /// DNS name or IP address clients dial; repeat for several.
        #[arg(long = "name", required = true, value_name = "NAME")]
        names: Vec<String>,
        /// The CA folder (ca.pem, ca.key).
        #[arg(long, default_value = ".")]
        ca_dir: PathBuf,
        #[command(flatten)]
        ca_passphrase: CaPassphraseArgs,
        /// Days the certificate is valid.
        #[arg(long, default_value_t = 398)]
        days: u32,
        /// Where to write the certificate.
        #[arg(long, default_value = "server.pem")]
        cert_out: PathBuf,
        /// Where to write the server's private key.
        #[arg(long, default_value = "server.key")]
        key_out: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Create a user's key pair: NAME.key (private) and NAME.pem (public) in --out-dir.
    ///
    /// The user keeps NAME.key (the client's --key), encrypted when a passphrase is given;
    /// NAME.pem goes to the server's administrator, who adds it with `register`.
    NewUser {
        /// The username.
        name: String,
        /// Folder to write to.
        #[arg(long, default_value = ".")]
        out_dir: PathBuf,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Register a user's public key in the server's user directory.
    ///
    /// Writes the key as NAME.pem in the folder the server loads with --users (the
    /// server reads it when it starts). Registering the same key again does nothing; a
    /// different key for a registered user is refused, never overwritten.
    Register {
        /// The username.
        name: String,
        /// The user's public key file (NAME.pem from `new-user`, or `openssl pkey -pubout`).
        public_key: PathBuf,
        /// The server's user directory.
        #[arg(long)]
        users: PathBuf,
    },
    /// Revoke a certificate, given by serial number (hex) or file, and re-sign crl.pem.
    ///
    /// The new CRL replaces crl.pem atomically and is valid for --crl-days; clients that
    /// read it refuse a server presenting the revoked certificate. Hand the new crl.pem to
    /// the clients.
    Revoke {
        /// Serial number in hexadecimal (as `openssl x509 -serial` prints it) or a
        /// certificate file.
        #[arg(value_name = "SERIAL|CERT.pem")]
        target: String,
        /// The CA folder (ca.pem, ca.key, crl.pem).
        #[arg(long, default_value = ".")]
        ca_dir: PathBuf,
        #[command(flatten)]
        ca_passphrase: CaPassphraseArgs,
        /// Days the new CRL is valid.
        #[arg(long, default_value_t = 7)]
        crl_days: u32,
    },
    /// Re-sign crl.pem with new dates, keeping its entries (do it before nextUpdate).
    ///
    /// Clients refuse an expired CRL, so the CA renews it before its nextUpdate date, for
    /// --crl-days more; the revoked serials stay revoked.
    RenewCrl {
        /// The CA folder (ca.pem, ca.key, crl.pem).
        #[arg(long, default_value = ".")]
        ca_dir: PathBuf,
        #[command(flatten)]
        ca_passphrase: CaPassphraseArgs,
        /// Days the new CRL is valid.
        #[arg(long, default_value_t = 7)]
        crl_days: u32,
    },
    /// Create (or check) the development PKI: CA, CRL, localhost server, alice, bob, carol.
    ///
    /// Its keys are UNENCRYPTED: for development only. The server and the client use the
    /// same folder by default (--pki-dir securecom-dev), so both start with no other flag.
    DevPki {
        /// Folder (default ./securecom-dev).
        dir: Option<PathBuf>,
    },
    /// Create the key every node of a relay cluster shares.
    ///
    /// 32 random bytes as 64 hex digits, in a new file of mode 0600 (see docs/CLUSTER.md).
    /// Every node reads it with --cluster-key-file and authenticates the messages of the
    /// cluster's bus with it: keep it as secret as a private key.
    ClusterKey {
        /// The file to create (never overwritten).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Tell a running server to reload its user folder.
    ///
    /// Sends SIGHUP to the process whose id the server wrote with --pid-file. The server
    /// reads its user folder again and closes, as revoked, every session whose key is no
    /// longer registered (see docs/KEY-MANAGEMENT.md). A folder that fails to read changes
    /// nothing.
    ReloadServer {
        /// The server's pid file.
        #[arg(long, value_name = "FILE")]
        pid_file: PathBuf,
    },
}

/// Encrypt the new private key with a passphrase.
#[derive(Debug, Args)]
struct PassphraseArgs {
    /// Read the passphrase from the first line of this file.
    #[arg(long, value_name = "FILE", conflicts_with = "passphrase_env")]
    passphrase_file: Option<PathBuf>,
    /// Read the passphrase from this environment variable.
    #[arg(long, value_name = "VAR")]
    passphrase_env: Option<String>,
}

/// The passphrase of an encrypted ca.key.
#[derive(Debug, Args)]
struct CaPassphraseArgs {
    /// Read ca.key's passphrase from the first line of this file.
    #[arg(long, value_name = "FILE", conflicts_with = "ca_passphrase_env")]
    ca_passphrase_file: Option<PathBuf>,
    /// Read ca.key's passphrase from this environment variable.
    #[arg(long, value_name = "VAR")]
    ca_passphrase_env: Option<String>,
}

impl PassphraseArgs {
    fn source(self) -> Result<Option<PassphraseSource>, CliError> {
        PassphraseSource::from_options(self.passphrase_file, self.passphrase_env)
            .map_err(CliError::Usage)
    }
}

impl CaPassphraseArgs {
    fn source(self) -> Result<Option<PassphraseSource>, CliError> {
        PassphraseSource::from_options(self.ca_passphrase_file, self.ca_passphrase_env)
            .map_err(CliError::Usage)
    }
}

impl Cli {
    /// The library command these arguments ask for.
    pub(crate) fn into_command(self) -> Result<Command, CliError> {
        Ok(match self.command {
            Sub::InitCa {
                dir,
                name,
                days,
                crl_days,
                passphrase,
            } => Command::InitCa {
                dir,
                name,
                days,
                crl_days,
                passphrase: passphrase.source()?,
            },
            Sub::IssueServer {
                names,
                ca_dir,
                ca_passphrase,
                days,
                cert_out,
                key_out,
                passphrase,
            } => Command::IssueServer {
                ca_dir,
                ca_passphrase: ca_passphrase.source()?,
                names,
                days,
                cert_out,
                key_out,
                key_passphrase: passphrase.source()?,
            },
            Sub::NewUser {
                name,
                out_dir,
                passphrase,
            } => Command::NewUser {
                name,
                out_dir,
                passphrase: passphrase.source()?,
            },
            Sub::Register {
                name,
                public_key,
                users,
            } => Command::Register {
                name,
                public_key,
                users,
            },
            Sub::Revoke {
                target,
                ca_dir,
                ca_passphrase,
                crl_days,
            } => Command::Revoke {
                target,
                ca_dir,
                ca_passphrase: ca_passphrase.source()?,
                crl_days,
            },
            Sub::RenewCrl {
                ca_dir,
                ca_passphrase,
                crl_days,
            } => Command::RenewCrl {
                ca_dir,
                ca_passphrase: ca_passphrase.source()?,
                crl_days,
            },
            Sub::DevPki { dir } => Command::DevPki { dir },
            Sub::ClusterKey { out } => Command::ClusterKey { out },
            Sub::ReloadServer { pid_file } => Command::ReloadServer { pid_file },
        })
    }
}
