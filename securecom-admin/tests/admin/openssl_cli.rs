//! What we make is accepted by `openssl verify -crl_check`. Each test passes with a
//! printed note when `openssl` is not installed.

use securecom_admin::*;

use crate::support::{TempFolder, arg, crl_window, days, openssl};

/// `openssl verify -crl_check` of `server` against `ca` and `crl`: its output and success.
fn openssl_verify(
    folder: &TempFolder,
    ca: &str,
    crl: &str,
    server: &str,
) -> Option<(bool, String)> {
    let (ca_path, crl_path, server_path) = (
        folder.join("ca.pem"),
        folder.join("crl.pem"),
        folder.join("server.pem"),
    );
    std::fs::write(&ca_path, ca).unwrap();
    std::fs::write(&crl_path, crl).unwrap();
    std::fs::write(&server_path, server).unwrap();
    let output = openssl(&[
        "verify",
        "-crl_check",
        "-x509_strict",
        "-purpose",
        "sslserver",
        "-CAfile",
        arg(&ca_path),
        "-CRLfile",
        arg(&crl_path),
        arg(&server_path),
    ])?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some((output.status.success(), text))
}

#[test]
fn openssl_verifies_our_certificates_and_honours_our_crls() {
    let folder = TempFolder::new("openssl-verify");
    let (ca_key, ca_pem) = create_ca("OpenSSL check CA", days(3650)).unwrap();
    let (now, until) = crl_window(30);
    let crl = create_crl(&ca_key, &ca_pem, &[], now, until).unwrap();
    let names: Vec<ServerName> =
        ["localhost".parse().unwrap(), "127.0.0.1".parse().unwrap()].into();
    let (_, server_pem) = issue_server_certificate(&ca_key, &ca_pem, &names, days(30)).unwrap();

    let Some((ok, text)) = openssl_verify(&folder, &ca_pem, &crl, &server_pem) else {
        return;
    };
    assert!(ok, "openssl refused a valid certificate: {text}");

    let serial = certificate_serial(&server_pem).unwrap();
    let revoked = revoke(&ca_key, &ca_pem, &crl, &serial, now, until).unwrap();
    let Some((ok, text)) = openssl_verify(&folder, &ca_pem, &revoked, &server_pem) else {
        return;
    };
    assert!(!ok, "openssl accepted a revoked certificate");
    assert!(text.contains("certificate revoked"), "{text}");
}

#[test]
fn openssl_reads_our_crl_and_checks_its_signature() {
    let folder = TempFolder::new("openssl-crl");
    let (ca_key, ca_pem) = create_ca("OpenSSL CRL CA", days(3650)).unwrap();
    let (now, until) = crl_window(30);
    let crl = create_crl(&ca_key, &ca_pem, &["1A2B".parse().unwrap()], now, until).unwrap();
    let (ca_path, crl_path) = (folder.join("ca.pem"), folder.join("crl.pem"));
    std::fs::write(&ca_path, &ca_pem).unwrap();
    std::fs::write(&crl_path, &crl).unwrap();
    let Some(output) = openssl(&[
        "crl",
        "-in",
        arg(&crl_path),
        "-CAfile",
        arg(&ca_path),
        "-noout",
        "-text",
    ]) else {
        return;
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert!(text.contains("verify OK"), "{text}");
    assert!(text.contains("Next Update"), "{text}");
    assert!(text.contains("1A2B"), "{text}");
}
