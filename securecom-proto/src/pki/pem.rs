//! PEM text to DER: the blocks OpenSSL writes (`CERTIFICATE`, `X509 CRL`).

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use super::CertificateError;

const BEGIN: &str = "-----BEGIN ";
const DASHES: &str = "-----";

/// The PEM label of a certificate.
const CERTIFICATE_LABEL: &str = "CERTIFICATE";
/// The PEM label of a CRL.
const CRL_LABEL: &str = "X509 CRL";

/// Decodes every `CERTIFICATE` block of `pem`, in order, to DER.
///
/// Text outside the blocks and blocks with other labels (keys, CRLs) are skipped, as
/// OpenSSL does. Text with no certificate gives an empty list. A block that is not
/// well-formed PEM (no END line, bad base64) is a [`CertificateError::MalformedPem`]. The
/// DER itself is not parsed here.
///
/// ```
/// use securecom_proto::pki::certificates_from_pem;
/// let pem = include_str!(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/tests/fixtures/pki/server-via-intermediate-chain.pem"
/// ));
/// let chain = certificates_from_pem(pem)?;
/// assert_eq!(chain.len(), 2); // leaf, then intermediate
/// assert!(certificates_from_pem("no PEM here")?.is_empty());
/// # Ok::<(), securecom_proto::pki::CertificateError>(())
/// ```
pub fn certificates_from_pem(pem: &str) -> Result<Vec<Vec<u8>>, CertificateError> {
    blocks_with_label(pem, CERTIFICATE_LABEL)
}

/// Decodes every `X509 CRL` block of `pem`, in order, to DER.
///
/// Same rules as [`certificates_from_pem`]: other blocks and text are skipped, no CRL gives
/// an empty list.
///
/// ```
/// use securecom_proto::pki::crls_from_pem;
/// let pem = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pki/crl.pem"));
/// assert_eq!(crls_from_pem(pem)?.len(), 1);
/// # Ok::<(), securecom_proto::pki::CertificateError>(())
/// ```
pub fn crls_from_pem(pem: &str) -> Result<Vec<Vec<u8>>, CertificateError> {
    blocks_with_label(pem, CRL_LABEL)
}

fn malformed(what: &str) -> CertificateError {
    CertificateError::MalformedPem(what.to_string())
}

/// Every block of `pem` labelled `wanted`, decoded. Never indexes: all slicing is checked.
fn blocks_with_label(pem: &str, wanted: &str) -> Result<Vec<Vec<u8>>, CertificateError> {
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(start) = rest.find(BEGIN) {
        let block_and_after = rest.get(start..).ok_or_else(|| malformed("bad offset"))?;
        let after_begin = block_and_after
            .get(BEGIN.len()..)
            .ok_or_else(|| malformed("bad offset"))?;
        let label_len = after_begin
            .find(DASHES)
            .ok_or_else(|| malformed("unterminated BEGIN line"))?;
        let label = after_begin
            .get(..label_len)
            .ok_or_else(|| malformed("bad offset"))?;
        if label.contains(['\r', '\n']) {
            return Err(malformed("unterminated BEGIN line"));
        }
        let end_line = format!("-----END {label}-----");
        let block_len = block_and_after
            .find(&end_line)
            .and_then(|end| end.checked_add(end_line.len()))
            .ok_or_else(|| CertificateError::MalformedPem(format!("no END line for {label}")))?;
        let block = block_and_after
            .get(..block_len)
            .ok_or_else(|| malformed("bad offset"))?;
        if label == wanted {
            let (_, der) = der::pem::decode_vec(block.as_bytes())
                .map_err(|e| CertificateError::MalformedPem(format!("{label}: {e}")))?;
            out.push(der);
        }
        rest = block_and_after
            .get(block_len..)
            .ok_or_else(|| malformed("bad offset"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    use crate::testkit::fixtures::{CA, CRL, SERVER_KEY as KEY};

    #[test]
    fn picks_blocks_by_label_in_order() {
        let mixed = format!("junk before\n{KEY}{CA}between\n{CRL}{CA}after");
        let certs = certificates_from_pem(&mixed).unwrap();
        assert_eq!(certs.len(), 2);
        assert_eq!(certs[0], certs[1]);
        assert_eq!(certs[0].first(), Some(&0x30));
        assert_eq!(crls_from_pem(&mixed).unwrap().len(), 1);
        assert!(certificates_from_pem("").unwrap().is_empty());
    }

    #[test]
    fn crlf_line_endings_are_accepted() {
        let crlf: String = CA.replace('\n', "\r\n");
        assert_eq!(
            certificates_from_pem(&crlf).unwrap(),
            certificates_from_pem(CA).unwrap()
        );
    }

    #[test]
    fn broken_pem_is_a_typed_error() {
        let cut = CA.get(..CA.len() - 30).unwrap();
        assert!(matches!(
            certificates_from_pem(cut),
            Err(CertificateError::MalformedPem(_))
        ));
        let bad_base64 = CA.replacen("MII", "M*I", 1);
        assert!(matches!(
            certificates_from_pem(&bad_base64),
            Err(CertificateError::MalformedPem(_))
        ));
        for text in ["-----BEGIN ", "-----BEGIN CERT\n-----", "-----BEGIN é-----"] {
            assert!(matches!(
                certificates_from_pem(text),
                Err(CertificateError::MalformedPem(_))
            ));
        }
    }
}
