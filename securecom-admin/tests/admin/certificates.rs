//! CA, server certificates and CRLs against the client's verifier.

use std::time::{Duration, SystemTime};

use der::Decode;
use securecom_admin::*;
use securecom_host::identity::IdentityFileExt;
use securecom_proto::identity::Identity;
use securecom_proto::pki::CertificateError;

use crate::support::{client_check, crl_window, days, in_a_day, unix};

fn ca() -> (Identity, String) {
    create_ca("Test CA", days(3650)).unwrap()
}

fn names(list: &[&str]) -> Vec<ServerName> {
    list.iter().map(|n| n.parse().unwrap()).collect()
}

#[test]
fn issued_certificates_verify_for_their_names_only() {
    let (ca_key, ca_pem) = ca();
    let (now, until) = crl_window(30);
    let crl = create_crl(&ca_key, &ca_pem, &[], now, until).unwrap();
    let (server_key, server_pem) = issue_server_certificate(
        &ca_key,
        &ca_pem,
        &names(&["localhost", "127.0.0.1", "::1"]),
        days(30),
    )
    .unwrap();
    for name in ["localhost", "127.0.0.1", "::1"] {
        let key = client_check(&ca_pem, &crl, &server_pem, name, in_a_day()).unwrap();
        assert_eq!(key, server_key.public_key(), "{name}");
    }
    assert_eq!(
        client_check(&ca_pem, &crl, &server_pem, "example.com", in_a_day()),
        Err(CertificateError::NameMismatch)
    );
}

#[test]
fn revoked_certificates_are_refused_and_others_still_pass() {
    let (ca_key, ca_pem) = ca();
    let (now, until) = crl_window(30);
    let crl = create_crl(&ca_key, &ca_pem, &[], now, until).unwrap();
    let issue = || {
        issue_server_certificate(&ca_key, &ca_pem, &names(&["localhost"]), days(30))
            .unwrap()
            .1
    };
    let (revoked_pem, kept_pem) = (issue(), issue());
    let serial = certificate_serial(&revoked_pem).unwrap();
    assert_ne!(serial, certificate_serial(&kept_pem).unwrap());

    let crl = revoke(&ca_key, &ca_pem, &crl, &serial, now, until).unwrap();
    assert!(matches!(
        client_check(&ca_pem, &crl, &revoked_pem, "localhost", in_a_day()),
        Err(CertificateError::Revoked)
    ));
    client_check(&ca_pem, &crl, &kept_pem, "localhost", in_a_day()).unwrap();
    assert_eq!(revoked_serials(&crl).unwrap(), vec![serial.clone()]);

    // Revoking again changes nothing but the signature; renewing keeps the entry.
    let again = revoke(&ca_key, &ca_pem, &crl, &serial, now, until).unwrap();
    assert_eq!(revoked_serials(&again).unwrap(), vec![serial.clone()]);
    let renewed = renew_crl(&ca_key, &ca_pem, &again, now, until).unwrap();
    assert_eq!(revoked_serials(&renewed).unwrap(), vec![serial]);
    assert!(matches!(
        client_check(&ca_pem, &renewed, &revoked_pem, "localhost", in_a_day()),
        Err(CertificateError::Revoked)
    ));
}

#[test]
fn create_crl_lists_serials_once() {
    let (ca_key, ca_pem) = ca();
    let (now, until) = crl_window(30);
    let a: SerialNumber = "1001".parse().unwrap();
    let b: SerialNumber = "0x1002".parse().unwrap();
    let crl = create_crl(
        &ca_key,
        &ca_pem,
        &[a.clone(), b.clone(), a.clone()],
        now,
        until,
    )
    .unwrap();
    assert_eq!(revoked_serials(&crl).unwrap(), vec![a, b]);
}

#[test]
fn stale_crls_and_expired_certificates_are_refused() {
    let (ca_key, ca_pem) = ca();
    let (now, until) = crl_window(30);
    let crl = create_crl(&ca_key, &ca_pem, &[], now, until).unwrap();
    let (_, server_pem) =
        issue_server_certificate(&ca_key, &ca_pem, &names(&["localhost"]), days(60)).unwrap();
    let in_45_days = unix(SystemTime::now() + Duration::from_secs(45 * 86_400));
    assert!(matches!(
        client_check(&ca_pem, &crl, &server_pem, "localhost", in_45_days),
        Err(CertificateError::CrlExpired { .. })
    ));
    let long_crl = create_crl(&ca_key, &ca_pem, &[], now, add_days(now, 365).unwrap()).unwrap();
    let in_90_days = unix(SystemTime::now() + Duration::from_secs(90 * 86_400));
    assert!(matches!(
        client_check(&ca_pem, &long_crl, &server_pem, "localhost", in_90_days),
        Err(CertificateError::Expired { .. })
    ));
}

#[test]
fn wrong_ca_inputs_are_typed_errors() {
    let (ca_key, ca_pem) = ca();
    let (other_key, other_pem) = ca();
    let localhost = names(&["localhost"]);
    assert_eq!(
        issue_server_certificate(&other_key, &ca_pem, &localhost, days(1)).unwrap_err(),
        AdminError::KeyMismatch
    );
    let (server_key, server_pem) =
        issue_server_certificate(&ca_key, &ca_pem, &localhost, days(1)).unwrap();
    assert_eq!(
        issue_server_certificate(&server_key, &server_pem, &localhost, days(1)).unwrap_err(),
        AdminError::NotACaCertificate
    );
    assert_eq!(
        issue_server_certificate(&ca_key, &ca_pem, &[], days(1)).unwrap_err(),
        AdminError::NoServerNames
    );
    let two = format!("{ca_pem}{other_pem}");
    assert_eq!(
        issue_server_certificate(&ca_key, &two, &localhost, days(1)).unwrap_err(),
        AdminError::CertificateCount {
            what: "CA certificate",
            found: 2
        }
    );
    // No certificate at all.
    for garbage in ["", "hello"] {
        assert_eq!(
            issue_server_certificate(&ca_key, garbage, &localhost, days(1)).unwrap_err(),
            AdminError::CertificateCount {
                what: "CA certificate",
                found: 0
            }
        );
        assert_eq!(
            certificate_serial(garbage),
            Err(AdminError::CertificateCount {
                what: "certificate",
                found: 0
            })
        );
    }
    // A PEM block whose bytes are no certificate (the reason is the DER parser's text).
    let not_der = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert!(matches!(
        issue_server_certificate(&ca_key, not_der, &localhost, days(1)),
        Err(AdminError::Malformed {
            what: "CA certificate",
            ..
        })
    ));
    assert!(matches!(
        certificate_serial(not_der),
        Err(AdminError::Malformed {
            what: "certificate",
            ..
        })
    ));
    // A PEM block that is not Base64 (the reason is the PEM parser's text).
    let not_base64 = "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n";
    assert!(matches!(
        issue_server_certificate(&ca_key, not_base64, &localhost, days(1)),
        Err(AdminError::Certificate(CertificateError::MalformedPem(_)))
    ));
    assert!(matches!(
        certificate_serial(not_base64),
        Err(AdminError::Certificate(CertificateError::MalformedPem(_)))
    ));

    // A CRL of another CA, or a tampered one, is not re-signed.
    let (now, until) = crl_window(30);
    let other_crl = create_crl(&other_key, &other_pem, &[], now, until).unwrap();
    let serial: SerialNumber = "01".parse().unwrap();
    assert_eq!(
        revoke(&ca_key, &ca_pem, &other_crl, &serial, now, until).unwrap_err(),
        AdminError::CrlFromAnotherIssuer
    );
    let own_crl = create_crl(&ca_key, &ca_pem, &[], now, until).unwrap();
    let der = securecom_proto::pki::crls_from_pem(&own_crl)
        .unwrap()
        .remove(0);
    for i in 0..der.len() {
        let mut damaged = der.clone();
        damaged[i] ^= 0x01;
        let pem = pem_block("X509 CRL", &damaged);
        let result = revoke(&ca_key, &ca_pem, &pem, &serial, now, until);
        // A flip that breaks the DER is `Malformed`; any other fails the issuer's name or
        // signature check, which cannot tell a tampered CRL from another CA's.
        if <x509_cert::crl::CertificateList>::from_der(&damaged).is_err() {
            assert!(
                matches!(result, Err(AdminError::Malformed { what: "CRL", .. })),
                "byte {i}: {result:?}"
            );
        } else {
            assert_eq!(
                result,
                Err(AdminError::CrlFromAnotherIssuer),
                "byte {i} flipped"
            );
        }
    }
    assert_eq!(
        create_crl(&ca_key, &ca_pem, &[], until, now),
        Err(AdminError::InvalidTime(
            "a CRL's thisUpdate must be before its nextUpdate"
        ))
    );
}

#[test]
fn we_extend_openssl_made_crls_keeping_their_entries() {
    let ca_key = Identity::load_pem_file(crate::support::proto_fixture("ca.key")).unwrap();
    let ca_pem = read_pem_file(crate::support::proto_fixture("ca.pem")).unwrap();
    let crl_pem = read_pem_file(crate::support::proto_fixture("crl.pem")).unwrap();
    let server_pem = read_pem_file(crate::support::proto_fixture("server.pem")).unwrap();
    let serial = certificate_serial(&server_pem).unwrap();
    assert_eq!(serial.to_string(), "1001");
    let (now, until) = crl_window(30);
    let crl = revoke(&ca_key, &ca_pem, &crl_pem, &serial, now, until).unwrap();
    let listed: Vec<String> = revoked_serials(&crl)
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(listed, ["1002", "1001"]);
    assert!(matches!(
        client_check(&ca_pem, &crl, &server_pem, "localhost", in_a_day()),
        Err(CertificateError::Revoked)
    ));
}

/// `der` as a PEM block with `label`.
fn pem_block(label: &str, der: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der).unwrap()
}
