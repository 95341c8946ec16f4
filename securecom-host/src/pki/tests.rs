use securecom_proto::time::UnixTime;

use super::*;
use crate::test_folder::TestFolder;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../securecom-proto/tests/fixtures/pki")
        .join(name)
}

fn check(files: &[&str]) -> RevocationFiles {
    RevocationFiles::CheckCrls(files.iter().map(|f| fixture(f)).collect())
}

fn verify(verifier: &ServerCertVerifier, chain_file: &str) -> Result<(), CertificateError> {
    let chain = certificates_from_pem(&fs::read_to_string(fixture(chain_file)).unwrap())?;
    let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    // 2026-01-15, inside the fixtures' CRL window.
    let at = UnixTime::from_secs(1_768_435_200);
    verifier.verify_server(&chain, "localhost", at).map(|_| ())
}

#[test]
fn the_ca_and_its_crl_make_a_verifier_that_refuses_revoked_servers() {
    let verifier = load_server_verifier(fixture("ca.pem"), &check(&["crl.pem"])).unwrap();
    assert!(verifier.checks_revocation());
    verify(&verifier, "server.pem").unwrap();
    assert_eq!(
        verify(&verifier, "revoked-server.pem"),
        Err(CertificateError::Revoked)
    );
}

#[test]
fn crls_may_come_from_several_files() {
    let verifier = load_server_verifier(
        fixture("ca.pem"),
        &check(&["crl.pem", "crl-intermediate.pem"]),
    )
    .unwrap();
    verify(&verifier, "server-via-intermediate-chain.pem").unwrap();
}

#[test]
fn no_revocation_check_must_be_asked_for() {
    let verifier = load_server_verifier(
        fixture("ca.pem"),
        &RevocationFiles::DangerousNoRevocationCheck,
    )
    .unwrap();
    assert!(!verifier.checks_revocation());
    verify(&verifier, "revoked-server.pem").unwrap();
    assert_eq!(
        load_server_verifier(fixture("ca.pem"), &check(&[])).err(),
        Some(VerifierFileError::Verifier(CertificateError::MissingCrl))
    );
}

#[test]
fn errors_name_the_file_at_fault() {
    let folder = TestFolder::new("pki-errors");
    let error = load_server_verifier(folder.join("missing.pem"), &check(&["crl.pem"]));
    assert!(
        matches!(&error, Err(VerifierFileError::Io { path, .. }) if path.ends_with("missing.pem")),
        "{error:?}"
    );
    // A folder is not a PEM file.
    let error = load_server_verifier(folder.path(), &check(&["crl.pem"]));
    assert!(
        matches!(&error, Err(VerifierFileError::Io { reason, .. }) if reason == "not a regular file"),
        "{error:?}"
    );
    // A CA file with a chain, or with no certificate.
    for (name, text) in [
        (
            "two.pem",
            fs::read_to_string(fixture("server-via-intermediate-chain.pem")).unwrap(),
        ),
        ("none.pem", "nothing here\n".to_string()),
    ] {
        let path = folder.join(name);
        fs::write(&path, text).unwrap();
        let error = load_server_verifier(&path, &check(&["crl.pem"]));
        assert!(
            matches!(&error, Err(VerifierFileError::InFile { path, error: CertificateError::MalformedPem(_) }) if path.ends_with(name)),
            "{error:?}"
        );
    }
    // A CRL file with no CRL in it.
    let error = load_server_verifier(fixture("ca.pem"), &check(&["crl.pem", "ca.pem"]));
    assert!(
        matches!(&error, Err(VerifierFileError::InFile { path, .. }) if path.ends_with("ca.pem")),
        "{error:?}"
    );
    // A CRL block that is not a CRL.
    let bad_crl = folder.join("bad-crl.pem");
    fs::write(
        &bad_crl,
        "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
    )
    .unwrap();
    let error = load_server_verifier(
        fixture("ca.pem"),
        &RevocationFiles::CheckCrls(vec![fixture("crl.pem"), bad_crl]),
    );
    assert!(
        matches!(&error, Err(VerifierFileError::InFile { path, error: CertificateError::MalformedCrl }) if path.ends_with("bad-crl.pem")),
        "{error:?}"
    );
    // The same CRL twice is ambiguous, whichever file each came from.
    assert_eq!(
        load_server_verifier(fixture("ca.pem"), &check(&["crl.pem", "crl.pem"])).err(),
        Some(VerifierFileError::Verifier(CertificateError::DuplicateCrl))
    );
}

#[test]
fn oversized_files_are_refused_before_reading() {
    let folder = TestFolder::new("pki-large");
    let path = folder.join("big.pem");
    // Sparse: the size is checked from metadata, nothing is read.
    File::create(&path)
        .unwrap()
        .set_len(MAX_PEM_FILE_LEN + 1)
        .unwrap();
    let error = load_server_verifier(&path, &check(&["crl.pem"]));
    assert!(
        matches!(&error, Err(VerifierFileError::Io { reason, .. }) if reason.contains("larger")),
        "{error:?}"
    );
}
