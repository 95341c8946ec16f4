//! Secrets the cluster needs: the NATS credentials and the cluster key, read from files or
//! the environment, so that they never appear on a command line.

use std::path::{Path, PathBuf};

use securecom_proto::cluster::ClusterKey;
use zeroize::Zeroizing;

/// Why credentials or the cluster key could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file does not hold what it should.
    #[error("{path}: {problem}")]
    Invalid {
        /// The file (or the environment variable).
        path: PathBuf,
        /// What is wrong, in words.
        problem: &'static str,
    },
}

/// How the node logs in to NATS.
#[derive(Clone)]
#[non_exhaustive]
pub enum NatsCredentials {
    /// No authentication (a NATS server open to anyone: development only).
    None,
    /// A user and password.
    UserPassword {
        /// The user.
        user: String,
        /// The password.
        password: Zeroizing<String>,
    },
    /// An authentication token.
    Token(Zeroizing<String>),
    /// An nkey seed (`SU...`).
    Nkey(Zeroizing<String>),
}

impl std::fmt::Debug for NatsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NatsCredentials::None => f.write_str("None"),
            NatsCredentials::UserPassword { user, .. } => f
                .debug_struct("UserPassword")
                .field("user", user)
                .finish_non_exhaustive(),
            NatsCredentials::Token(_) => f.write_str("Token(..)"),
            NatsCredentials::Nkey(_) => f.write_str("Nkey(..)"),
        }
    }
}

impl NatsCredentials {
    /// Reads a credentials file of `name=value` lines: `user` and `password`, or `token`,
    /// or `nkey` (a seed). Blank lines and lines starting with `#` are skipped.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("securecom-doc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("nats.credentials");
    /// std::fs::write(&path, "user=relay\npassword=s3cret\n").unwrap();
    /// let credentials = securecom_nats::NatsCredentials::from_file(&path).unwrap();
    /// assert!(!format!("{credentials:?}").contains("s3cret"));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn from_file(path: &Path) -> Result<Self, CredentialsError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
            CredentialsError::Read {
                path: path.to_path_buf(),
                source,
            }
        })?);
        Self::parse(&text).map_err(|problem| CredentialsError::Invalid {
            path: path.to_path_buf(),
            problem,
        })
    }

    /// Reads `SECURECOM_NATS_USER` and `SECURECOM_NATS_PASSWORD`, or
    /// `SECURECOM_NATS_TOKEN`, or `SECURECOM_NATS_NKEY`; [`NatsCredentials::None`] when
    /// none is set.
    pub fn from_env() -> Result<Self, CredentialsError> {
        let var = |name: &str| std::env::var(name).ok().map(Zeroizing::new);
        let invalid = |problem| CredentialsError::Invalid {
            path: PathBuf::from("SECURECOM_NATS_*"),
            problem,
        };
        match (
            var("SECURECOM_NATS_USER"),
            var("SECURECOM_NATS_PASSWORD"),
            var("SECURECOM_NATS_TOKEN"),
            var("SECURECOM_NATS_NKEY"),
        ) {
            (None, None, None, None) => Ok(NatsCredentials::None),
            (Some(user), Some(password), None, None) => Ok(NatsCredentials::UserPassword {
                user: user.to_string(),
                password,
            }),
            (None, None, Some(token), None) => Ok(NatsCredentials::Token(token)),
            (None, None, None, Some(seed)) => Ok(NatsCredentials::Nkey(seed)),
            _ => Err(invalid(
                "set SECURECOM_NATS_USER and SECURECOM_NATS_PASSWORD, or SECURECOM_NATS_TOKEN, or SECURECOM_NATS_NKEY",
            )),
        }
    }

    fn parse(text: &str) -> Result<Self, &'static str> {
        let (mut user, mut password, mut token, mut nkey) = (None, None, None, None);
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, value) = line.split_once('=').ok_or("each line must be name=value")?;
            let value = Zeroizing::new(value.trim().to_string());
            let slot = match name.trim() {
                "user" => &mut user,
                "password" => &mut password,
                "token" => &mut token,
                "nkey" => &mut nkey,
                _ => return Err("unknown name (expected user, password, token or nkey)"),
            };
            if slot.replace(value).is_some() {
                return Err("a name appears twice");
            }
        }
        match (user, password, token, nkey) {
            (Some(user), Some(password), None, None) => Ok(NatsCredentials::UserPassword {
                user: user.to_string(),
                password,
            }),
            (None, None, Some(token), None) => Ok(NatsCredentials::Token(token)),
            (None, None, None, Some(seed)) => Ok(NatsCredentials::Nkey(seed)),
            _ => Err("expected user and password, or token, or nkey"),
        }
    }
}

/// Reads the cluster key: 64 hexadecimal digits (32 bytes), surrounding whitespace
/// allowed. Make one with `cargo run --example keytool -- cluster-key --out cluster.key`.
pub fn read_cluster_key(path: &Path) -> Result<ClusterKey, CredentialsError> {
    let text =
        Zeroizing::new(
            std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
                path: path.to_path_buf(),
                source,
            })?,
        );
    let invalid = |problem| CredentialsError::Invalid {
        path: path.to_path_buf(),
        problem,
    };
    let hex = text.trim().as_bytes();
    if hex.len() != 64 {
        return Err(invalid("a cluster key is 64 hexadecimal digits (32 bytes)"));
    }
    let mut key = Zeroizing::new([0u8; 32]);
    for (byte, pair) in key.iter_mut().zip(hex.chunks_exact(2)) {
        let digit = |c: &u8| char::from(*c).to_digit(16);
        match (pair.first().and_then(digit), pair.get(1).and_then(digit)) {
            (Some(hi), Some(lo)) => *byte = u8::try_from(hi * 16 + lo).unwrap_or(0),
            _ => return Err(invalid("a cluster key is 64 hexadecimal digits (32 bytes)")),
        }
    }
    Ok(ClusterKey::from_bytes(*key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind_and_refuses_mixtures() {
        assert!(matches!(
            NatsCredentials::parse("# relay\nuser = relay\npassword=pw\n"),
            Ok(NatsCredentials::UserPassword { user, .. }) if user == "relay"
        ));
        assert!(matches!(
            NatsCredentials::parse("token=t"),
            Ok(NatsCredentials::Token(_))
        ));
        assert!(matches!(
            NatsCredentials::parse("nkey=SU"),
            Ok(NatsCredentials::Nkey(_))
        ));
        assert!(NatsCredentials::parse("user=a").is_err());
        assert!(NatsCredentials::parse("user=a\npassword=b\ntoken=c").is_err());
        assert!(NatsCredentials::parse("user=a\nuser=b\npassword=c").is_err());
        assert!(NatsCredentials::parse("pass=a").is_err());
        assert!(NatsCredentials::parse("garbage").is_err());
        assert!(NatsCredentials::parse("").is_err());
    }

    #[test]
    fn debug_shows_no_secret() {
        let c = NatsCredentials::parse("user=relay\npassword=hunter2").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        let t = NatsCredentials::parse("token=hunter2").unwrap();
        assert!(!format!("{t:?}").contains("hunter2"));
    }

    #[test]
    fn cluster_key_file_is_64_hex_digits() {
        let dir = std::env::temp_dir().join(format!("securecom-nats-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k");
        std::fs::write(&path, format!("{}\n", "ab".repeat(32))).unwrap();
        assert!(read_cluster_key(&path).is_ok());
        std::fs::write(&path, "ab".repeat(31)).unwrap();
        assert!(read_cluster_key(&path).is_err());
        std::fs::write(&path, "zz".repeat(32)).unwrap();
        assert!(read_cluster_key(&path).is_err());
        assert!(matches!(
            read_cluster_key(&dir.join("missing")),
            Err(CredentialsError::Read { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
