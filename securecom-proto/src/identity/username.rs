//! Validated usernames.

use alloc::string::String;
use core::fmt;

use super::IdentityError;

/// The longest username accepted, in bytes.
pub const MAX_USERNAME_LEN: usize = 32;

/// A username: 1 to [`MAX_USERNAME_LEN`] ASCII characters from `a-z A-Z 0-9 _ - .`,
/// starting with a letter or digit. The rules keep names safe as file names, in logs and on
/// a terminal.
///
/// ```
/// use securecom_proto::identity::{IdentityError, Username};
/// assert!(Username::new("alice").is_ok());
/// assert!(Username::new("bob.smith-2").is_ok());
/// assert_eq!(Username::new(""), Err(IdentityError::InvalidUsername("empty")));
/// assert_eq!(
///     Username::new("../etc/passwd"),
///     Err(IdentityError::InvalidUsername("must start with a letter or digit"))
/// );
/// assert_eq!(
///     Username::new("mallory\u{1b}[2J"),
///     Err(IdentityError::InvalidUsername(
///         "only letters, digits, '_', '-' and '.' are allowed"
///     ))
/// );
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Username(String);

impl Username {
    /// Validates `name`.
    pub fn new(name: &str) -> Result<Self, IdentityError> {
        Username::validate(name.as_bytes())?;
        Ok(Username(String::from(name)))
    }

    /// Validates raw bytes from the wire.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdentityError> {
        Username::validate(bytes)?;
        let name =
            core::str::from_utf8(bytes).map_err(|_| IdentityError::InvalidUsername("not UTF-8"))?;
        Ok(Username(String::from(name)))
    }

    fn validate(bytes: &[u8]) -> Result<(), IdentityError> {
        let Some(first) = bytes.first() else {
            return Err(IdentityError::InvalidUsername("empty"));
        };
        if bytes.len() > MAX_USERNAME_LEN {
            return Err(IdentityError::InvalidUsername("longer than 32 bytes"));
        }
        if !first.is_ascii_alphanumeric() {
            return Err(IdentityError::InvalidUsername(
                "must start with a letter or digit",
            ));
        }
        if !bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            return Err(IdentityError::InvalidUsername(
                "only letters, digits, '_', '-' and '.' are allowed",
            ));
        }
        Ok(())
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({:?})", self.0)
    }
}

impl core::str::FromStr for Username {
    type Err = IdentityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Username::new(s)
    }
}
