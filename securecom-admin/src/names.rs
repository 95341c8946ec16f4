//! Names in certificates: the server names of a certificate's subjectAltName, and the
//! common name of a subject.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use der::asn1::ObjectIdentifier;
use der::asn1::{Any, Ia5String, SetOfVec, Utf8StringRef};
use der::{Decode, Encode};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use crate::AdminError;

/// The commonName attribute (RFC 4519).
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
/// The longest commonName RFC 5280 allows (`ub-common-name`).
const MAX_COMMON_NAME_CHARS: usize = 64;
/// The longest DNS name.
const MAX_DNS_NAME_LEN: usize = 253;
/// The longest DNS label.
const MAX_DNS_LABEL_LEN: usize = 63;

/// A name a server certificate is valid for: a DNS name (`chat.example.com`,
/// `localhost`) or an IP address (`127.0.0.1`, `::1`). Clients match the name they
/// dialled against these, and nothing else.
///
/// ```
/// use securecom_admin::{AdminError, ServerName};
/// let names: Vec<ServerName> = ["localhost", "127.0.0.1", "::1", "Chat.Example.com"]
///     .iter()
///     .map(|s| s.parse())
///     .collect::<Result<_, _>>()?;
/// assert_eq!(names[3].to_string(), "chat.example.com");
/// assert_eq!(
///     "bad_name!".parse::<ServerName>(),
///     Err(AdminError::InvalidServerName {
///         name: "bad_name!".into(),
///         reason: "a DNS name has only letters, digits, hyphens and dots",
///     })
/// );
/// # Ok::<(), securecom_admin::AdminError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerName {
    /// A DNS name, in lower case, without a trailing dot.
    Dns(String),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
}

impl ServerName {
    /// The name as a subjectAltName entry.
    pub(crate) fn to_general_name(&self) -> Result<GeneralName, AdminError> {
        Ok(match self {
            ServerName::Dns(name) => GeneralName::DnsName(
                Ia5String::new(name).map_err(|e| AdminError::encoding("DNS name", e))?,
            ),
            ServerName::Ip(ip) => GeneralName::from(*ip),
        })
    }
}

impl FromStr for ServerName {
    type Err = AdminError;

    /// Parses an IP address, else a DNS name (letters, digits and hyphens in dot-separated
    /// labels of 1 to 63 characters, at most 253 in all; no wildcards).
    fn from_str(s: &str) -> Result<Self, AdminError> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(ServerName::Ip(ip));
        }
        let invalid = |reason| AdminError::InvalidServerName {
            name: s.to_string(),
            reason,
        };
        let name = s.strip_suffix('.').unwrap_or(s).to_ascii_lowercase();
        if name.is_empty() || name.len() > MAX_DNS_NAME_LEN {
            return Err(invalid("a DNS name has 1 to 253 characters"));
        }
        for label in name.split('.') {
            if label.is_empty() || label.len() > MAX_DNS_LABEL_LEN {
                return Err(invalid("each DNS label has 1 to 63 characters"));
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return Err(invalid(
                    "a DNS name has only letters, digits, hyphens and dots",
                ));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(invalid("a DNS label neither starts nor ends with a hyphen"));
            }
        }
        if name
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid(
                "not an IP address, and a DNS name cannot end in digits",
            ));
        }
        Ok(ServerName::Dns(name))
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerName::Dns(name) => f.write_str(name),
            ServerName::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// Checks a CA or certificate common name: 1 to 64 characters, no control characters.
pub(crate) fn check_common_name(name: &str) -> Result<(), AdminError> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_COMMON_NAME_CHARS {
        return Err(AdminError::InvalidCaName("a name has 1 to 64 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(AdminError::InvalidCaName(
            "a name has no control characters",
        ));
    }
    if name.trim() != name {
        return Err(AdminError::InvalidCaName(
            "a name neither starts nor ends with a space",
        ));
    }
    Ok(())
}

/// The distinguished name `CN=<name>`, built as DER rather than parsed from RFC 4514
/// text, so that no character of `name` needs escaping.
pub(crate) fn common_name(name: &str) -> Result<Name, AdminError> {
    check_common_name(name)?;
    let encoding = |e| AdminError::encoding("subject name", e);
    let value = Utf8StringRef::new(name).map_err(encoding)?;
    let atv = AttributeTypeAndValue {
        oid: COMMON_NAME,
        value: Any::encode_from(&value).map_err(encoding)?,
    };
    let rdn = SetOfVec::try_from(vec![atv]).map_err(encoding)?;
    let der = vec![rdn].to_der().map_err(encoding)?;
    Name::from_der(&der).map_err(encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_parse() {
        assert_eq!(
            "LocalHost.".parse::<ServerName>().unwrap(),
            ServerName::Dns("localhost".into())
        );
        assert_eq!(
            "::1".parse::<ServerName>().unwrap(),
            ServerName::Ip("::1".parse().unwrap())
        );
        let length = "a DNS name has 1 to 253 characters";
        let label = "each DNS label has 1 to 63 characters";
        let hyphen = "a DNS label neither starts nor ends with a hyphen";
        let characters = "a DNS name has only letters, digits, hyphens and dots";
        let digits = "not an IP address, and a DNS name cannot end in digits";
        let long_label = "a".repeat(64);
        let longest = ["a"; 127].join("."); // 253 characters
        assert_eq!(
            longest.parse::<ServerName>(),
            Ok(ServerName::Dns(longest.clone()))
        );
        let long_name = longest + ".b";
        for (bad, reason) in [
            ("", length),
            (".", length),
            (long_name.as_str(), length),
            ("a..b", label),
            (long_label.as_str(), label),
            ("-a.com", hyphen),
            ("a-.com", hyphen),
            ("*.example.com", characters),
            ("a b", characters),
            ("ü.com", characters),
            ("1.2.3", digits),
            ("999.1.1.1", digits),
        ] {
            assert_eq!(
                bad.parse::<ServerName>(),
                Err(AdminError::InvalidServerName {
                    name: bad.to_string(),
                    reason
                }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn common_names_need_no_escaping() {
        let name = common_name("ACME, Inc. \"root\" + CA=1").unwrap();
        assert_eq!(
            name.common_name().unwrap().unwrap().value(),
            "ACME, Inc. \"root\" + CA=1"
        );
        let length = AdminError::InvalidCaName("a name has 1 to 64 characters");
        assert_eq!(common_name("").unwrap_err(), length);
        assert_eq!(common_name(&"x".repeat(65)).unwrap_err(), length);
        assert_eq!(
            common_name("a\nb").unwrap_err(),
            AdminError::InvalidCaName("a name has no control characters")
        );
        assert_eq!(
            common_name(" padded").unwrap_err(),
            AdminError::InvalidCaName("a name neither starts nor ends with a space")
        );
    }
}
