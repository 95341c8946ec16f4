//! The development PKI: everything the example server and clients need, made on first
//! run in one folder.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use securecom_host::identity::{IdentityFileExt, PemFolderDirectory};
use securecom_host::time::UnixTimeExt;
use securecom_proto::identity::{Identity, UserDirectory, Username};
use securecom_proto::pki::{ServerCertVerifier, certificates_from_pem};
use securecom_proto::time::UnixTime;

use crate::cert::{Issuer, certificate_key, parse_certificate};
use crate::crl::next_update;
use crate::{
    AdminError, ServerName, Validity, add_days, create_ca, create_crl, issue_server_certificate,
    read_pem_file, renew_crl, write_new_file,
};

/// The folder [`DevPki::ensure`] is usually given: `securecom-dev`, relative to the
/// working directory (so `./securecom-dev/` when run from the repository).
pub const DEV_PKI_FOLDER: &str = "securecom-dev";

/// The names the development server certificate is valid for.
pub const DEV_SERVER_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// The users of the development PKI.
pub const DEV_USERS: [&str; 3] = ["alice", "bob", "carol"];

/// The development CA's name, which says what it is to anyone who finds it.
const DEV_CA_NAME: &str = "securecom development CA - NOT FOR PRODUCTION";
/// Days the development CA certificate is valid.
const CA_DAYS: u32 = 3650;
/// Days the development server certificate is valid.
const SERVER_DAYS: u32 = 825;
/// Days a development CRL is valid: a week, so that a revocation reaches clients within
/// days, not a year (each start of the server renews it while it has under two days left).
const CRL_DAYS: u32 = 7;
/// A CRL with less than this left is re-signed by [`DevPki::ensure`].
const CRL_REFRESH_MARGIN: Duration = Duration::from_secs(2 * 86_400);

/// One user of the development PKI.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DevUser {
    /// The username (`alice`, `bob`, `carol`).
    pub name: String,
    /// The user's private key, `keys/<name>.key`, unencrypted.
    pub key_file: PathBuf,
    /// The user's public key in the server's directory, `users/<name>.pem`.
    pub public_key_file: PathBuf,
    /// The public key's fingerprint, as the client shows it.
    pub fingerprint: String,
}

/// The development PKI in a folder: the files the example server and clients use by
/// default, created by [`DevPki::ensure`] on first run.
///
/// **For development only.** Every private key here (the CA's, the server's, the users')
/// is written *unencrypted*, and all of them sit in one folder, so anyone who can read
/// the folder can impersonate the server and every user, and issue certificates. Never
/// use these files, or this layout, for a real deployment: see `docs/KEY-MANAGEMENT.md`.
///
/// | file | what |
/// |---|---|
/// | `ca.pem`, `ca.key` | the CA certificate (clients trust it) and its key (0600) |
/// | `crl.pem` | the CA's CRL, empty at first, valid for 7 days and renewed by `ensure` when under 2 days are left |
/// | `server.pem`, `server.key` | the server certificate for `localhost` and `127.0.0.1`, and its key (0600) |
/// | `users/<name>.pem` | the public keys of alice, bob and carol: the server's user directory |
/// | `keys/<name>.key` | their private keys (0600), what the clients log in with |
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DevPki {
    /// The folder holding everything.
    pub folder: PathBuf,
    /// `ca.pem`: the CA certificate clients trust.
    pub ca_cert: PathBuf,
    /// `ca.key`: the CA's private key.
    pub ca_key: PathBuf,
    /// `crl.pem`: the CA's certificate revocation list.
    pub crl: PathBuf,
    /// `server.pem`: the server's certificate chain, here just its certificate (the CA
    /// is not sent; clients have it).
    pub server_chain: PathBuf,
    /// `server.key`: the server's private key.
    pub server_key: PathBuf,
    /// `users/`: the server's user directory.
    pub users_dir: PathBuf,
    /// `keys/`: the users' private keys.
    pub keys_dir: PathBuf,
    /// alice, bob and carol.
    pub users: Vec<DevUser>,
    /// The files this call created or renewed (empty when everything was there).
    pub created: Vec<PathBuf>,
}

impl DevPki {
    /// Makes sure the development PKI exists in `folder`, creating what is missing and
    /// reusing what is there: run it at every start. Existing files are checked to belong
    /// together (the server certificate verifies against the CA and CRL for `localhost`,
    /// each user's key matches the directory); a CRL within 30 days of its nextUpdate is
    /// re-signed.
    ///
    /// ```
    /// use securecom_admin::DevPki;
    /// # let folder = std::env::temp_dir().join(format!("securecom-doc-dev-{}", std::process::id()));
    /// let pki = DevPki::ensure(&folder)?;
    /// print!("{}", pki.describe());
    /// assert_eq!(pki.users.len(), 3);
    /// let again = DevPki::ensure(&folder)?;
    /// assert!(again.created.is_empty());
    /// # std::fs::remove_dir_all(&folder).unwrap();
    /// # Ok::<(), securecom_admin::AdminError>(())
    /// ```
    ///
    /// # Errors
    /// [`AdminError::InconsistentDevPki`] when files are missing from a pair or do not
    /// belong together (remove the folder to start afresh); [`AdminError::Io`] and
    /// [`AdminError::Identity`] for files that cannot be read or written.
    pub fn ensure(folder: impl AsRef<Path>) -> Result<Self, AdminError> {
        let folder = folder.as_ref();
        let mut pki = DevPki::layout(folder);
        for dir in [&pki.folder, &pki.users_dir, &pki.keys_dir] {
            fs::create_dir_all(dir).map_err(|e| AdminError::io(dir, &e))?;
        }
        restrict_folder(&pki.keys_dir)?;
        let now = SystemTime::now();

        let ca_key = pki.ensure_ca()?;
        let ca_pem = read_pem_file(&pki.ca_cert)?;
        Issuer::new(&ca_key, &ca_pem).map_err(|e| pki.inconsistent(format!("ca.pem: {e}")))?;
        let crl_pem = pki.ensure_crl(&ca_key, &ca_pem, now)?;
        pki.ensure_server(&ca_key, &ca_pem, &crl_pem, now)?;
        pki.ensure_users()?;
        Ok(pki)
    }

    /// Where everything lives in `folder`.
    fn layout(folder: &Path) -> DevPki {
        DevPki {
            folder: folder.to_path_buf(),
            ca_cert: folder.join("ca.pem"),
            ca_key: folder.join("ca.key"),
            crl: folder.join("crl.pem"),
            server_chain: folder.join("server.pem"),
            server_key: folder.join("server.key"),
            users_dir: folder.join("users"),
            keys_dir: folder.join("keys"),
            users: Vec::new(),
            created: Vec::new(),
        }
    }

    fn inconsistent(&self, reason: String) -> AdminError {
        AdminError::InconsistentDevPki {
            folder: self.folder.display().to_string(),
            reason,
        }
    }

    /// Loads or creates the CA, returning its key.
    fn ensure_ca(&mut self) -> Result<Identity, AdminError> {
        match (self.ca_key.exists(), self.ca_cert.exists()) {
            (true, true) => Ok(Identity::load_pem_file(&self.ca_key)?),
            (false, false) => {
                let (key, pem) = create_ca(DEV_CA_NAME, Validity::days_from_now(CA_DAYS)?)?;
                key.save_pem_file(&self.ca_key)?;
                self.created.push(self.ca_key.clone());
                write_new_file(&self.ca_cert, &pem)?;
                self.created.push(self.ca_cert.clone());
                Ok(key)
            }
            (true, false) => Err(self.inconsistent("ca.key without ca.pem".into())),
            (false, true) => Err(self.inconsistent("ca.pem without ca.key".into())),
        }
    }

    /// Loads, renews or creates the CRL, returning it.
    fn ensure_crl(
        &mut self,
        ca_key: &Identity,
        ca_pem: &str,
        now: SystemTime,
    ) -> Result<String, AdminError> {
        let until = add_days(now, CRL_DAYS)?;
        if !self.crl.exists() {
            let pem = create_crl(ca_key, ca_pem, &[], now, until)?;
            write_new_file(&self.crl, &pem)?;
            self.created.push(self.crl.clone());
            return Ok(pem);
        }
        let pem = read_pem_file(&self.crl)?;
        let fresh_until = now.checked_add(CRL_REFRESH_MARGIN).unwrap_or(now);
        if next_update(&pem)?.is_some_and(|next| next > fresh_until) {
            return Ok(pem);
        }
        let renewed = renew_crl(ca_key, ca_pem, &pem, now, until)
            .map_err(|e| self.inconsistent(format!("crl.pem: {e}")))?;
        crate::replace_file(&self.crl, &renewed)?;
        self.created.push(self.crl.clone());
        Ok(renewed)
    }

    /// Loads and checks, or issues, the server certificate.
    fn ensure_server(
        &mut self,
        ca_key: &Identity,
        ca_pem: &str,
        crl_pem: &str,
        now: SystemTime,
    ) -> Result<(), AdminError> {
        match (self.server_key.exists(), self.server_chain.exists()) {
            (true, true) => {
                let key = Identity::load_pem_file(&self.server_key)?;
                let pem = read_pem_file(&self.server_chain)?;
                let certificate = parse_certificate(&pem, "server certificate")?;
                if certificate_key(&certificate)? != key.public_key() {
                    return Err(self.inconsistent("server.key does not match server.pem".into()));
                }
                let verifier = ServerCertVerifier::from_pem(ca_pem, Some(crl_pem))?;
                let chain = certificates_from_pem(&pem)?;
                let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
                let now = UnixTime::from_system_time(now);
                for name in DEV_SERVER_NAMES {
                    verifier.verify_server(&chain, name, now).map_err(|e| {
                        self.inconsistent(format!("server.pem does not verify for {name}: {e}"))
                    })?;
                }
                Ok(())
            }
            (false, false) => {
                let names = DEV_SERVER_NAMES
                    .iter()
                    .map(|name| name.parse::<ServerName>())
                    .collect::<Result<Vec<_>, _>>()?;
                let validity = Validity::days_from_now(SERVER_DAYS)?;
                let (key, pem) = issue_server_certificate(ca_key, ca_pem, &names, validity)?;
                key.save_pem_file(&self.server_key)?;
                self.created.push(self.server_key.clone());
                write_new_file(&self.server_chain, &pem)?;
                self.created.push(self.server_chain.clone());
                Ok(())
            }
            (true, false) => Err(self.inconsistent("server.key without server.pem".into())),
            (false, true) => Err(self.inconsistent("server.pem without server.key".into())),
        }
    }

    /// Loads or creates alice, bob and carol, and registers them.
    fn ensure_users(&mut self) -> Result<(), AdminError> {
        let mut directory = PemFolderDirectory::open(&self.users_dir)?;
        for name in DEV_USERS {
            let username = Username::new(name)?;
            let key_file = self.keys_dir.join(format!("{name}.key"));
            let registered = directory.lookup(&username);
            let identity = if key_file.exists() {
                Identity::load_pem_file(&key_file)?
            } else if registered.is_some() {
                return Err(self.inconsistent(format!("users/{name}.pem without keys/{name}.key")));
            } else {
                let identity = crate::random::identity()?;
                identity.save_pem_file(&key_file)?;
                self.created.push(key_file.clone());
                identity
            };
            let public_key = identity.public_key();
            match registered {
                Some(key) if key == public_key => {}
                Some(_) => {
                    return Err(self
                        .inconsistent(format!("keys/{name}.key does not match users/{name}.pem")));
                }
                None => {
                    directory.register(&username, &public_key)?;
                    self.created.push(directory.path_of(&username));
                }
            }
            self.users.push(DevUser {
                name: name.to_string(),
                key_file,
                public_key_file: directory.path_of(&username),
                fingerprint: public_key.fingerprint().to_string(),
            });
        }
        Ok(())
    }

    /// A text for the server to print at start: where the files are, which were just
    /// made, a warning that they are for development only, and how to start the clients.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let folder = self.folder.display();
        let _ = writeln!(out, "securecom development PKI in {folder}/");
        let _ = writeln!(
            out,
            "  DEVELOPMENT ONLY: every private key here is unencrypted and they all sit in \
             one folder. Do not deploy these files; see docs/KEY-MANAGEMENT.md."
        );
        let rows: [(&str, &Path, String); 7] = [
            ("CA certificate", &self.ca_cert, "clients trust this".into()),
            ("CA key", &self.ca_key, "unencrypted".into()),
            ("CRL", &self.crl, "revoked server certificates".into()),
            (
                "server certificate",
                &self.server_chain,
                DEV_SERVER_NAMES.join(", "),
            ),
            ("server key", &self.server_key, "unencrypted".into()),
            ("user directory", &self.users_dir, DEV_USERS.join(", ")),
            ("user keys", &self.keys_dir, "unencrypted".into()),
        ];
        for (what, path, note) in rows {
            let new = if self.created.iter().any(|c| c == path) {
                " [new]"
            } else {
                ""
            };
            let _ = writeln!(out, "  {what:<19} {}  ({note}){new}", path.display());
        }
        for user in &self.users {
            let new = if self.created.contains(&user.key_file) {
                " [new]"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {:<19} {}  fingerprint {}{new}",
                user.name,
                user.key_file.display(),
                user.fingerprint
            );
        }
        if self.created.is_empty() {
            let _ = writeln!(out, "  (all files were already there)");
        }
        let _ = writeln!(out, "Start a client in another terminal for each user:");
        for name in DEV_USERS {
            let _ = writeln!(out, "  cargo run --example client -- {name}");
        }
        out
    }
}

/// Makes the folder of private keys readable by its owner only (Unix).
fn restrict_folder(path: &Path) -> Result<(), AdminError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o700))
            .map_err(|e| AdminError::io(path, &e))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
