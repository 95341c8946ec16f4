//! Certificate serial numbers as administrators see them: hexadecimal.

use std::fmt;
use std::str::FromStr;

use crate::AdminError;

/// The most bytes of a serial number (RFC 5280).
const MAX_SERIAL_LEN: usize = 20;

/// A certificate serial number: a positive integer of at most 20 bytes, written in
/// upper-case hexadecimal as `openssl x509 -serial` prints it.
///
/// Parsing accepts either case, an optional `0x`, and colons between bytes
/// (`4f:1a:0c`), as various tools print them.
///
/// ```
/// use securecom_admin::{AdminError, SerialNumber};
/// let serial: SerialNumber = "0x00:4f:1A:0c".parse()?;
/// assert_eq!(serial.to_string(), "4F1A0C");
/// assert_eq!(
///     "0".parse::<SerialNumber>(),
///     Err(AdminError::InvalidSerial("0".into()))
/// );
/// # Ok::<(), securecom_admin::AdminError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SerialNumber {
    /// Big-endian, without leading zero bytes, never empty.
    bytes: Vec<u8>,
}

impl SerialNumber {
    /// The serial number of these big-endian bytes (leading zeros are ignored).
    ///
    /// # Errors
    /// [`AdminError::InvalidSerial`] for zero or more than 20 significant bytes.
    pub fn from_be_bytes(bytes: &[u8]) -> Result<Self, AdminError> {
        let first = bytes.iter().position(|&b| b != 0);
        let significant = first.and_then(|i| bytes.get(i..)).unwrap_or(&[]);
        if significant.is_empty() || significant.len() > MAX_SERIAL_LEN {
            return Err(AdminError::InvalidSerial(hex(bytes)));
        }
        Ok(SerialNumber {
            bytes: significant.to_vec(),
        })
    }

    /// The big-endian bytes, without leading zeros.
    pub fn as_be_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn to_x509(&self) -> Result<x509_cert::serial_number::SerialNumber, AdminError> {
        x509_cert::serial_number::SerialNumber::new(&self.bytes)
            .map_err(|_| AdminError::InvalidSerial(self.to_string()))
    }

    pub(crate) fn from_x509(
        serial: &x509_cert::serial_number::SerialNumber,
    ) -> Result<Self, AdminError> {
        SerialNumber::from_be_bytes(serial.as_bytes())
    }
}

impl FromStr for SerialNumber {
    type Err = AdminError;

    fn from_str(s: &str) -> Result<Self, AdminError> {
        let invalid = || AdminError::InvalidSerial(s.to_string());
        let trimmed = s.trim();
        let digits = trimmed
            .strip_prefix("0x")
            .or_else(|| trimmed.strip_prefix("0X"))
            .unwrap_or(trimmed)
            .replace(':', "");
        if digits.is_empty()
            || digits.len() > 2 * (MAX_SERIAL_LEN + 1)
            || !digits.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(invalid());
        }
        let padded = if digits.len() % 2 == 1 {
            format!("0{digits}")
        } else {
            digits
        };
        let bytes = padded
            .as_bytes()
            .chunks(2)
            .map(|pair| {
                std::str::from_utf8(pair)
                    .ok()
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(invalid)?;
        SerialNumber::from_be_bytes(&bytes).map_err(|_| invalid())
    }
}

impl fmt::Display for SerialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.bytes))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let s: SerialNumber = "1000".parse().unwrap();
        assert_eq!(s.as_be_bytes(), &[0x10, 0x00]);
        assert_eq!(s.to_string(), "1000");
        assert_eq!("abc".parse::<SerialNumber>().unwrap().to_string(), "0ABC");
        for bad in ["", "0x", "00", "xyz", "+1", "1 2", "é", &"ff".repeat(21)] {
            assert_eq!(
                bad.parse::<SerialNumber>(),
                Err(AdminError::InvalidSerial(bad.to_string())),
                "{bad:?}"
            );
        }
        assert_eq!(
            SerialNumber::from_be_bytes(&[0; 3]),
            Err(AdminError::InvalidSerial("000000".into()))
        );
        assert_eq!(
            SerialNumber::from_be_bytes(&[0, 0, 7])
                .unwrap()
                .as_be_bytes(),
            &[7]
        );
    }

    #[test]
    fn serials_survive_x509() {
        for bytes in [&[0x7f; 20][..], &[0x80], &[1]] {
            let s = SerialNumber::from_be_bytes(bytes).unwrap();
            assert_eq!(SerialNumber::from_x509(&s.to_x509().unwrap()).unwrap(), s);
        }
        // 20 bytes with the high bit set take 21 in DER, over RFC 5280's limit.
        let s = SerialNumber::from_be_bytes(&[0xff; 20]).unwrap();
        assert_eq!(
            s.to_x509().unwrap_err(),
            AdminError::InvalidSerial("FF".repeat(20))
        );
    }
}
