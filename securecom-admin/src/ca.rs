//! Creating a CA and issuing server certificates with x509-cert's builder.

use der::Encode;
use der::asn1::ObjectIdentifier;
use der::asn1::OctetString;
use securecom_proto::identity::Identity;
use spki::SubjectPublicKeyInfoRef;
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;

use crate::cert::{Issuer, certificate_pem, key_identifier};
use crate::names::common_name;
use crate::signer::{IdentitySigner, spki_of};
use crate::{AdminError, SerialNumber, ServerName, Validity, random};

/// id-kp-serverAuth (RFC 5280).
const SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");

/// Creates a CA: a fresh Ed25519 key and a self-signed certificate for it, named
/// `CN=<name>`, with basicConstraints `CA:TRUE` and keyUsage `keyCertSign, cRLSign`
/// (both critical), and a subjectKeyIdentifier. Returns the key and the certificate as
/// PEM.
///
/// Keep the key offline if you can; the certificate (`ca.pem`) is what clients trust.
///
/// ```
/// use securecom_admin::{Validity, create_ca};
/// let (ca_key, ca_pem) = create_ca("Example chat CA", Validity::days_from_now(3650)?)?;
/// assert!(ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
/// # let _ = ca_key;
/// # Ok::<(), securecom_admin::AdminError>(())
/// ```
///
/// # Errors
/// [`AdminError::InvalidCaName`] for an empty or overlong name (64 characters at most),
/// [`AdminError::Random`] if the system has no randomness.
pub fn create_ca(name: &str, validity: Validity) -> Result<(Identity, String), AdminError> {
    let subject = common_name(name)?;
    let key = random::identity()?;
    let key_id = key_identifier(&key.public_key())?;
    let profile = CaProfile { subject, key_id };
    let certificate = build(profile, &key, &key, validity)?;
    Ok((key, certificate_pem(&certificate)?))
}

/// Issues a server certificate from the CA: a fresh Ed25519 key and a certificate for it,
/// signed by `ca_key`, valid for `server_names` (its subjectAltName; the first name is
/// also the subject's common name), with basicConstraints `CA:FALSE` and keyUsage
/// `digitalSignature` (both critical), extendedKeyUsage `serverAuth`, and key
/// identifiers. Returns the key and the certificate as PEM.
///
/// ```
/// use securecom_admin::{Validity, create_ca, issue_server_certificate};
/// let (ca_key, ca_pem) = create_ca("Example chat CA", Validity::days_from_now(3650)?)?;
/// let names = ["chat.example.com".parse()?, "192.0.2.7".parse()?];
/// let (server_key, server_pem) =
///     issue_server_certificate(&ca_key, &ca_pem, &names, Validity::days_from_now(398)?)?;
/// # let _ = (server_key, server_pem);
/// # Ok::<(), securecom_admin::AdminError>(())
/// ```
///
/// # Errors
/// [`AdminError::NoServerNames`] for an empty list; [`AdminError::NotACaCertificate`]
/// or [`AdminError::KeyMismatch`] if `ca_cert_pem` is not a CA certificate of `ca_key`;
/// [`AdminError::Certificate`], [`AdminError::CertificateCount`] or
/// [`AdminError::Malformed`] if it cannot be read.
pub fn issue_server_certificate(
    ca_key: &Identity,
    ca_cert_pem: &str,
    server_names: &[ServerName],
    validity: Validity,
) -> Result<(Identity, String), AdminError> {
    let first = server_names.first().ok_or(AdminError::NoServerNames)?;
    let issuer = Issuer::new(ca_key, ca_cert_pem)?;
    let key = random::identity()?;
    let profile = ServerProfile {
        subject: common_name(&first.to_string())?,
        issuer: issuer.name().clone(),
        issuer_key_id: issuer.key_id.clone(),
        key_id: key_identifier(&key.public_key())?,
        names: server_names
            .iter()
            .map(ServerName::to_general_name)
            .collect::<Result<_, _>>()?,
    };
    let certificate = build(profile, &key, ca_key, validity)?;
    Ok((key, certificate_pem(&certificate)?))
}

/// Builds and signs a certificate for `subject_key` with a random serial number.
fn build(
    profile: impl BuilderProfile,
    subject_key: &Identity,
    signing_key: &Identity,
    validity: Validity,
) -> Result<Certificate, AdminError> {
    let builder = CertificateBuilder::new(
        profile,
        new_serial()?.to_x509()?,
        validity.to_x509()?,
        spki_of(&subject_key.public_key())?,
    )
    .map_err(|e| AdminError::encoding("certificate", e))?;
    builder
        .build(&IdentitySigner::new(signing_key))
        .map_err(|e| AdminError::encoding("certificate", e))
}

/// A random 16-byte positive serial number (the CA/Browser Forum asks for at least 64
/// random bits), with its top byte in 0x40..0x7f so it always prints as 32 digits.
fn new_serial() -> Result<SerialNumber, AdminError> {
    let mut bytes = random::bytes::<16>()?;
    if let Some(first) = bytes.first_mut() {
        *first = (*first & 0x3f) | 0x40;
    }
    SerialNumber::from_be_bytes(&bytes)
}

/// The extensions of a self-signed root CA.
struct CaProfile {
    subject: Name,
    key_id: Vec<u8>,
}

impl BuilderProfile for CaProfile {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(vec![
            extension(
                true,
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: None,
                },
            )?,
            extension(true, &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign))?,
            extension(
                false,
                &SubjectKeyIdentifier(OctetString::new(self.key_id.clone())?),
            )?,
        ])
    }
}

/// The extensions of a server (TLS-style leaf) certificate.
struct ServerProfile {
    subject: Name,
    issuer: Name,
    issuer_key_id: Vec<u8>,
    key_id: Vec<u8>,
    names: Vec<x509_cert::ext::pkix::name::GeneralName>,
}

impl BuilderProfile for ServerProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(vec![
            extension(
                true,
                &BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
            )?,
            extension(true, &KeyUsage(KeyUsages::DigitalSignature.into()))?,
            extension(false, &ExtendedKeyUsage(vec![SERVER_AUTH]))?,
            extension(false, &SubjectAltName(self.names.clone()))?,
            extension(
                false,
                &SubjectKeyIdentifier(OctetString::new(self.key_id.clone())?),
            )?,
            extension(
                false,
                &AuthorityKeyIdentifier {
                    key_identifier: Some(OctetString::new(self.issuer_key_id.clone())?),
                    ..Default::default()
                },
            )?,
        ])
    }
}

/// An extension with the criticality written out here rather than left to defaults.
pub(crate) fn extension<T>(critical: bool, value: &T) -> der::Result<Extension>
where
    T: Encode + der::oid::AssociatedOid,
{
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}
