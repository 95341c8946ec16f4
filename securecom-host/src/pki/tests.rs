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

#[test]
fn a_newer_crl_is_saved_atomically_and_loads_back() {
    let folder = TestFolder::new("save-crl");
    let path = folder.path().join("crl.pem");
    fs::copy(fixture("crl-empty.pem"), &path).unwrap();
    let held = load_server_verifier(
        fixture("ca.pem"),
        &RevocationFiles::CheckCrls(vec![path.clone()]),
    )
    .unwrap();
    let delivered = crls_from_pem(&fs::read_to_string(fixture("crl.pem")).unwrap())
        .unwrap()
        .remove(0);
    let newer = held
        .check_flight_crl(&delivered, UnixTime::from_secs(1_768_435_200))
        .unwrap();
    save_newer_crl(&path, &newer).unwrap();
    let reloaded = load_server_verifier(
        fixture("ca.pem"),
        &RevocationFiles::CheckCrls(vec![path.clone()]),
    )
    .unwrap();
    assert_eq!(reloaded.anchor_crl_number(), Some(newer.number()));
    assert_eq!(
        verify(&reloaded, "revoked-server.pem"),
        Err(CertificateError::Revoked)
    );
    // No temporary file is left beside it.
    let names: Vec<_> = fs::read_dir(folder.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("crl.pem")]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // A symbolic link at the name is replaced, its target left alone.
        let target = folder.path().join("elsewhere.pem");
        fs::write(&target, "keep").unwrap();
        fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        save_newer_crl(&path, &newer).unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep");
        assert!(
            !fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
    // An unwritable place is an error naming the file.
    let missing = folder.path().join("no-such-folder").join("crl.pem");
    let e = save_newer_crl(&missing, &newer).unwrap_err();
    assert!(e.to_string().contains("no-such-folder"), "{e}");
}

#[test]
fn live_crl_serves_the_file_and_keeps_the_old_on_a_bad_reload() {
    let folder = TestFolder::new("live-crl");
    let path = folder.path().join("crl.pem");
    fs::copy(fixture("crl-empty.pem"), &path).unwrap();
    let chain = certificates_from_pem(&fs::read_to_string(fixture("server.pem")).unwrap()).unwrap();
    let live = LiveCrl::open(&path, chain.clone()).unwrap();
    let number = |live: &LiveCrl| live.flight_crl().unwrap().number().to_string();
    assert_eq!(number(&live), "1");
    fs::copy(fixture("crl.pem"), &path).unwrap();
    assert_eq!(live.reload().unwrap().number().to_string(), "2");
    assert_eq!(number(&live), "2");
    // A broken file, or another CA's CRL: refused, the served CRL stays.
    fs::write(&path, "not a CRL").unwrap();
    assert!(matches!(live.reload(), Err(CrlFileError::Io { .. })));
    fs::copy(fixture("crl-intermediate.pem"), &path).unwrap();
    assert_eq!(
        live.reload().unwrap_err(),
        CrlFileError::Refused {
            path: path.display().to_string(),
            error: FlightCrlError::NotFromAnchor
        }
    );
    assert_eq!(number(&live), "2");
    let two = format!(
        "{}{}",
        fs::read_to_string(fixture("crl.pem")).unwrap(),
        fs::read_to_string(fixture("crl-empty.pem")).unwrap()
    );
    fs::write(&path, two).unwrap();
    assert!(matches!(live.reload(), Err(CrlFileError::Io { .. })));
    assert!(matches!(
        LiveCrl::open(folder.path().join("missing.pem"), chain),
        Err(CrlFileError::Io { .. })
    ));
}
