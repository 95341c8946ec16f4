//! Certificate revocation lists: creating one, and re-signing one with a serial added.
//!
//! CRLs are built and signed here directly (x509-cert's `CrlBuilder` copies the issuer's
//! *authority* key identifier, which is wrong for any CA that is not a root). Every CRL
//! we write is v2 with a nextUpdate (webpki refuses CRLs without one), an
//! authorityKeyIdentifier and a cRLNumber.

use std::time::SystemTime;

use der::asn1::{OctetString, Uint};
use der::pem::LineEnding;
use der::{Decode, Encode, EncodePem};
use securecom_proto::identity::Identity;
use securecom_proto::pki::crls_from_pem;
use x509_cert::certificate::Version;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber};

use crate::ca::extension;
use crate::cert::Issuer;
use crate::signer::{ED25519_OID, sign_der};
use crate::validity::x509_time;
use crate::{AdminError, SerialNumber};

/// Creates a CRL signed by the CA, listing `revoked` (each revoked as of `this_update`),
/// valid from `this_update` until `next_update`. With no serials it is the empty CRL a
/// new CA publishes. Its cRLNumber is 1.
///
/// Clients refuse a CRL past its `next_update`: publish a new one before then (calling
/// [`revoke`] with a serial already listed re-signs the list with new dates).
///
/// ```
/// use std::time::SystemTime;
/// use securecom_admin::{Validity, add_days, create_ca, create_crl};
/// let (ca_key, ca_pem) = create_ca("Example chat CA", Validity::days_from_now(3650)?)?;
/// let now = SystemTime::now();
/// let crl_pem = create_crl(&ca_key, &ca_pem, &[], now, add_days(now, 365)?)?;
/// assert!(crl_pem.starts_with("-----BEGIN X509 CRL-----"));
/// # Ok::<(), securecom_admin::AdminError>(())
/// ```
///
/// # Errors
/// [`AdminError::InvalidTime`] unless `this_update` is before `next_update`; the errors
/// of reading the CA as in [`issue_server_certificate`](crate::issue_server_certificate).
pub fn create_crl(
    ca_key: &Identity,
    ca_cert_pem: &str,
    revoked: &[SerialNumber],
    this_update: SystemTime,
    next_update: SystemTime,
) -> Result<String, AdminError> {
    let issuer = Issuer::new(ca_key, ca_cert_pem)?;
    let revocation_date = x509_time(this_update)?;
    let mut entries = Vec::with_capacity(revoked.len());
    for serial in revoked {
        if entries
            .iter()
            .any(|e: &RevokedCert| e.serial_number.as_bytes() == serial.as_be_bytes())
        {
            continue;
        }
        entries.push(RevokedCert {
            serial_number: serial.to_x509()?,
            revocation_date,
            crl_entry_extensions: None,
        });
    }
    sign_crl(&issuer, entries, 1, this_update, next_update)
}

/// Adds `serial` to the CA's CRL `crl_pem` and re-signs it, valid from `this_update`
/// until `next_update`, with its cRLNumber one higher. Entries already there (with their
/// dates and reasons, say from `openssl ca -revoke`) are kept; revoking a serial that is
/// already listed only re-signs the list.
///
/// ```
/// use std::time::SystemTime;
/// use securecom_admin::*;
/// let (ca_key, ca_pem) = create_ca("Example chat CA", Validity::days_from_now(3650)?)?;
/// let now = SystemTime::now();
/// let crl = create_crl(&ca_key, &ca_pem, &[], now, add_days(now, 365)?)?;
/// let (_, server_pem) =
///     issue_server_certificate(&ca_key, &ca_pem, &["localhost".parse()?], Validity::days_from_now(30)?)?;
/// let serial = certificate_serial(&server_pem)?;
/// let crl = revoke(&ca_key, &ca_pem, &crl, &serial, now, add_days(now, 365)?)?;
/// assert_eq!(revoked_serials(&crl)?, vec![serial]);
/// # Ok::<(), securecom_admin::AdminError>(())
/// ```
///
/// # Errors
/// [`AdminError::CrlFromAnotherIssuer`] if the CRL was not issued and signed by this
/// CA; [`AdminError::Malformed`] for a CRL that cannot be parsed;
/// [`AdminError::CrlNumberTooLarge`]; and those of [`create_crl`].
pub fn revoke(
    ca_key: &Identity,
    ca_cert_pem: &str,
    crl_pem: &str,
    serial: &SerialNumber,
    this_update: SystemTime,
    next_update: SystemTime,
) -> Result<String, AdminError> {
    let issuer = Issuer::new(ca_key, ca_cert_pem)?;
    let (mut entries, number) = read_own_crl(&issuer, crl_pem)?;
    if !entries
        .iter()
        .any(|e| e.serial_number.as_bytes() == serial.as_be_bytes())
    {
        entries.push(RevokedCert {
            serial_number: serial.to_x509()?,
            revocation_date: x509_time(this_update)?,
            crl_entry_extensions: None,
        });
    }
    sign_crl(&issuer, entries, number, this_update, next_update)
}

/// Re-signs the CA's CRL with new dates, keeping its entries and increasing its
/// cRLNumber: what to do before its nextUpdate passes, since clients then refuse it.
///
/// # Errors
/// As [`revoke`].
pub fn renew_crl(
    ca_key: &Identity,
    ca_cert_pem: &str,
    crl_pem: &str,
    this_update: SystemTime,
    next_update: SystemTime,
) -> Result<String, AdminError> {
    let issuer = Issuer::new(ca_key, ca_cert_pem)?;
    let (entries, number) = read_own_crl(&issuer, crl_pem)?;
    sign_crl(&issuer, entries, number, this_update, next_update)
}

/// The entries of the CA's own CRL and the cRLNumber its successor gets.
fn read_own_crl(
    issuer: &Issuer<'_>,
    crl_pem: &str,
) -> Result<(Vec<RevokedCert>, u128), AdminError> {
    let crl = parse_crl(crl_pem)?;
    check_issued_by(&crl, issuer)?;
    let tbs = crl.tbs_cert_list;
    let number = crl_number(&tbs)?
        .checked_add(1)
        .ok_or(AdminError::CrlNumberTooLarge)?;
    Ok((tbs.revoked_certificates.unwrap_or_default(), number))
}

/// The serial numbers a CRL lists, in order.
///
/// # Errors
/// [`AdminError::Certificate`] for bad PEM, [`AdminError::Malformed`] for a CRL that
/// cannot be parsed or lists a zero serial.
pub fn revoked_serials(crl_pem: &str) -> Result<Vec<SerialNumber>, AdminError> {
    parse_crl(crl_pem)?
        .tbs_cert_list
        .revoked_certificates
        .unwrap_or_default()
        .iter()
        .map(|entry| {
            SerialNumber::from_x509(&entry.serial_number)
                .map_err(|e| AdminError::malformed("CRL", e))
        })
        .collect()
}

/// The nextUpdate of the one CRL in `crl_pem` (`None` if it has none).
pub(crate) fn next_update(crl_pem: &str) -> Result<Option<SystemTime>, AdminError> {
    Ok(parse_crl(crl_pem)?
        .tbs_cert_list
        .next_update
        .map(|t| t.to_system_time()))
}

/// The one CRL in `pem`.
fn parse_crl(pem: &str) -> Result<CertificateList, AdminError> {
    let ders = crls_from_pem(pem)?;
    match ders.as_slice() {
        [der] => CertificateList::from_der(der).map_err(|e| AdminError::malformed("CRL", e)),
        _ => Err(AdminError::malformed(
            "CRL",
            format!("expected one X509 CRL block, found {}", ders.len()),
        )),
    }
}

/// Checks that `crl` names the CA as its issuer and carries its Ed25519 signature.
fn check_issued_by(crl: &CertificateList, issuer: &Issuer<'_>) -> Result<(), AdminError> {
    if crl.tbs_cert_list.issuer != *issuer.name() || crl.signature_algorithm.oid != ED25519_OID {
        return Err(AdminError::CrlFromAnotherIssuer);
    }
    let tbs = crl
        .tbs_cert_list
        .to_der()
        .map_err(|e| AdminError::malformed("CRL", e))?;
    let signature: [u8; 64] = crl
        .signature
        .as_bytes()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(AdminError::CrlFromAnotherIssuer)?;
    issuer
        .key
        .public_key()
        .verify(&tbs, &signature)
        .map_err(|_| AdminError::CrlFromAnotherIssuer)
}

/// The cRLNumber of a CRL, 0 if it has none.
fn crl_number(tbs: &TbsCertList) -> Result<u128, AdminError> {
    let Some(extension) = tbs
        .crl_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == <CrlNumber as der::oid::AssociatedOid>::OID)
    else {
        return Ok(0);
    };
    let number = CrlNumber::from_der(extension.extn_value.as_bytes())
        .map_err(|e| AdminError::malformed("CRL number", e))?;
    let bytes = number.0.as_bytes();
    if bytes.len() > 16 {
        return Err(AdminError::CrlNumberTooLarge);
    }
    Ok(bytes.iter().fold(0u128, |n, &b| (n << 8) | u128::from(b)))
}

fn sign_crl(
    issuer: &Issuer<'_>,
    entries: Vec<RevokedCert>,
    number: u128,
    this_update: SystemTime,
    next_update: SystemTime,
) -> Result<String, AdminError> {
    if this_update >= next_update {
        return Err(AdminError::InvalidTime(
            "a CRL's thisUpdate must be before its nextUpdate",
        ));
    }
    let encoding = |e| AdminError::encoding("CRL", e);
    let number_bytes = number.to_be_bytes();
    let extensions: Vec<Extension> = vec![
        extension(
            false,
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(issuer.key_id.clone()).map_err(encoding)?),
                ..Default::default()
            },
        )
        .map_err(encoding)?,
        extension(
            false,
            &CrlNumber(Uint::new(&number_bytes).map_err(encoding)?),
        )
        .map_err(encoding)?,
    ];
    let tbs = TbsCertList {
        version: Version::V2,
        signature: spki::AlgorithmIdentifierOwned {
            oid: ED25519_OID,
            parameters: None,
        },
        issuer: issuer.name().clone(),
        this_update: x509_time(this_update)?,
        next_update: Some(x509_time(next_update)?),
        // RFC 5280: absent, not empty, when nothing is revoked.
        revoked_certificates: if entries.is_empty() {
            None
        } else {
            Some(entries)
        },
        crl_extensions: Some(extensions),
    };
    let signature = sign_der(issuer.key, &tbs)?;
    let crl = CertificateList {
        signature_algorithm: tbs.signature.clone(),
        tbs_cert_list: tbs,
        signature,
    };
    crl.to_pem(LineEnding::LF).map_err(encoding)
}
