//! Reading certificates from PEM and checking that a CA certificate and key belong
//! together.

use der::pem::LineEnding;
use der::{Decode, Encode, EncodePem};
use securecom_proto::identity::{Identity, PublicKey};
use securecom_proto::pki::certificates_from_pem;
use spki::EncodePublicKey;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, SubjectKeyIdentifier};
use x509_cert::name::Name;

use crate::signer::Ed25519PublicKey;
use crate::{AdminError, SerialNumber};

/// A CA certificate checked against its private key, ready to issue with.
pub(crate) struct Issuer<'a> {
    pub(crate) key: &'a Identity,
    pub(crate) certificate: Certificate,
    /// The CA's subjectKeyIdentifier, which the certificates and CRLs it signs name as
    /// their authorityKeyIdentifier.
    pub(crate) key_id: Vec<u8>,
}

impl<'a> Issuer<'a> {
    /// Reads the CA certificate and checks that it is a CA certificate of `key`.
    pub(crate) fn new(key: &'a Identity, ca_cert_pem: &str) -> Result<Self, AdminError> {
        let certificate = parse_certificate(ca_cert_pem, "CA certificate")?;
        let tbs = certificate.tbs_certificate();
        let is_ca = tbs
            .get_extension::<BasicConstraints>()
            .map_err(|e| AdminError::malformed("CA certificate", e))?
            .is_some_and(|(_, constraints)| constraints.ca);
        if !is_ca {
            return Err(AdminError::NotACaCertificate);
        }
        if certificate_key(&certificate)? != key.public_key() {
            return Err(AdminError::KeyMismatch);
        }
        let key_id = match tbs
            .get_extension::<SubjectKeyIdentifier>()
            .map_err(|e| AdminError::malformed("CA certificate", e))?
        {
            Some((_, ski)) => ski.0.as_bytes().to_vec(),
            None => key_identifier(&key.public_key())?,
        };
        Ok(Issuer {
            key,
            certificate,
            key_id,
        })
    }

    /// The CA's subject, which is the issuer of what it signs.
    pub(crate) fn name(&self) -> &Name {
        self.certificate.tbs_certificate().subject()
    }
}

/// The one certificate in `pem`.
pub(crate) fn parse_certificate(pem: &str, what: &'static str) -> Result<Certificate, AdminError> {
    let ders = certificates_from_pem(pem)?;
    match ders.as_slice() {
        [der] => Certificate::from_der(der).map_err(|e| AdminError::malformed(what, e)),
        other => Err(AdminError::CertificateCount {
            what,
            found: other.len(),
        }),
    }
}

/// The Ed25519 key a certificate certifies.
pub(crate) fn certificate_key(certificate: &Certificate) -> Result<PublicKey, AdminError> {
    let spki = certificate
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| AdminError::malformed("certificate", e))?;
    Ok(PublicKey::from_public_key_der(&spki)?)
}

/// The RFC 5280 method-1 key identifier of `key`: SHA-1 of the public key bits, what
/// `openssl` writes for `subjectKeyIdentifier = hash`.
pub(crate) fn key_identifier(key: &PublicKey) -> Result<Vec<u8>, AdminError> {
    let document = Ed25519PublicKey(*key)
        .to_public_key_der()
        .map_err(|e| AdminError::encoding("public key", e))?;
    let spki = spki::SubjectPublicKeyInfoRef::try_from(document.as_bytes())
        .map_err(|e| AdminError::encoding("public key", e))?;
    let ski =
        SubjectKeyIdentifier::try_from(spki).map_err(|e| AdminError::encoding("key id", e))?;
    Ok(ski.0.as_bytes().to_vec())
}

/// `certificate` as a PEM `CERTIFICATE` block.
pub(crate) fn certificate_pem(certificate: &Certificate) -> Result<String, AdminError> {
    certificate
        .to_pem(LineEnding::LF)
        .map_err(|e| AdminError::encoding("certificate", e))
}

/// The serial number of the one certificate in `cert_pem`, as `openssl x509 -serial`
/// prints it; for revoking a certificate by its file.
///
/// # Errors
/// [`AdminError::Certificate`] for bad PEM, [`AdminError::CertificateCount`] unless
/// there is exactly one certificate, [`AdminError::Malformed`] for a certificate that
/// cannot be parsed, [`AdminError::InvalidSerial`] for a zero serial.
pub fn certificate_serial(cert_pem: &str) -> Result<SerialNumber, AdminError> {
    let certificate = parse_certificate(cert_pem, "certificate")?;
    SerialNumber::from_x509(certificate.tbs_certificate().serial_number())
}
