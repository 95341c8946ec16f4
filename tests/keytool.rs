//! keytool's command line, run in-process: the same argument parser as
//! `examples/keytool.rs` (included from it), then `securecom_admin::cli::run`. Building
//! and spawning the example binary would be much slower and test nothing more.

#[path = "../examples/keytool/args.rs"]
mod args;
#[path = "../securecom-admin/tests/admin/support.rs"]
#[allow(
    dead_code,
    reason = "shared with securecom-admin's tests/admin.rs, which uses all of it; keytool uses part"
)]
mod support;

use clap::Parser;
use securecom_admin::cli::{CliError, EXIT_FAILED, EXIT_USAGE, run};
use securecom_admin::{AdminError, certificate_serial, read_pem_file, revoked_serials};
use securecom_host::identity::{IdentityFileExt, PublicKeyFileExt};
use securecom_proto::identity::{Identity, IdentityError, PublicKey};
use securecom_proto::pki::CertificateError;

use support::{TempFolder, arg, client_check, in_a_day, openssl};

/// Parses `args` as keytool would and runs the command, returning its output.
fn keytool(args: &[&str]) -> Result<String, CliError> {
    let cli = args::Cli::try_parse_from(std::iter::once("keytool").chain(args.iter().copied()))
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let command = cli.into_command()?;
    let mut out = Vec::new();
    run(&command, &mut out)?;
    Ok(String::from_utf8(out).unwrap())
}

#[test]
fn a_whole_deployment_through_the_command_line() {
    let folder = TempFolder::new("keytool-flow");
    let ca_dir = folder.join("ca");
    let ca = arg(&ca_dir);
    let passfile = folder.join("ca-pass");
    std::fs::write(&passfile, "ca secret\n").unwrap();

    let out = keytool(&[
        "init-ca",
        "--dir",
        ca,
        "--name",
        "Example CA",
        "--passphrase-file",
        arg(&passfile),
    ])
    .unwrap();
    assert!(out.contains("Created CA \"Example CA\""), "{out}");
    assert!(out.contains("(encrypted)"), "{out}");
    // The encrypted CA key is readable by OpenSSL with the same passphrase.
    if let Some(o) = openssl(&[
        "pkey",
        "-in",
        arg(&ca_dir.join("ca.key")),
        "-passin",
        "pass:ca secret",
        "-noout",
    ]) {
        assert!(o.status.success());
    }

    // Without the CA passphrase, issuing fails with a typed error.
    let server_pem = folder.join("server.pem");
    let server_key = folder.join("server.key");
    let issue = |extra: &[&str]| {
        let mut a = vec![
            "issue-server",
            "--ca-dir",
            ca,
            "--name",
            "localhost",
            "--name",
            "127.0.0.1",
            "--cert-out",
            arg(&server_pem),
            "--key-out",
            arg(&server_key),
        ];
        a.extend_from_slice(extra);
        keytool(&a)
    };
    let error = issue(&[]).unwrap_err();
    assert_eq!(error.exit_code(), EXIT_FAILED);
    assert_eq!(
        error,
        CliError::Failed(AdminError::Identity(IdentityError::InFile {
            path: ca_dir.join("ca.key").display().to_string(),
            error: Box::new(IdentityError::EncryptedKeyNeedsPassphrase),
        }))
    );
    assert!(
        error.hint().is_some_and(
            |h| h.contains("--ca-passphrase-file") && h.contains("--ca-passphrase-env")
        )
    );
    let out = issue(&["--ca-passphrase-file", arg(&passfile)]).unwrap();
    assert!(out.contains("localhost, 127.0.0.1"), "{out}");
    // Never overwrites.
    assert_eq!(
        issue(&["--ca-passphrase-file", arg(&passfile)]),
        Err(CliError::Failed(AdminError::Identity(
            IdentityError::AlreadyExists {
                path: server_pem.display().to_string()
            }
        )))
    );

    let ca_pem = read_pem_file(ca_dir.join("ca.pem")).unwrap();
    let crl = read_pem_file(ca_dir.join("crl.pem")).unwrap();
    let server = read_pem_file(&server_pem).unwrap();
    let key = Identity::load_pem_file(&server_key).unwrap();
    assert_eq!(
        client_check(&ca_pem, &crl, &server, "127.0.0.1", in_a_day()).unwrap(),
        key.public_key()
    );

    // A user with an encrypted key, registered with the server.
    let user_dir = folder.join("alice");
    let users = folder.join("users");
    std::fs::create_dir(&users).unwrap();
    let alice_pass = folder.join("alice-pass");
    std::fs::write(&alice_pass, "alice secret").unwrap();
    let out = keytool(&[
        "new-user",
        "alice",
        "--out-dir",
        arg(&user_dir),
        "--passphrase-file",
        arg(&alice_pass),
    ])
    .unwrap();
    assert!(out.contains("fingerprint"), "{out}");
    let alice =
        Identity::load_pem_file_with_passphrase(user_dir.join("alice.key"), b"alice secret")
            .unwrap();
    let out = keytool(&[
        "register",
        "alice",
        arg(&user_dir.join("alice.pem")),
        "--users",
        arg(&users),
    ])
    .unwrap();
    assert!(out.contains("Registered alice"), "{out}");
    assert_eq!(
        PublicKey::load_pem_file(users.join("alice.pem")).unwrap(),
        alice.public_key()
    );

    // Revoke by file, then by serial: the CRL lists it and clients refuse it.
    let serial = certificate_serial(&server).unwrap();
    let out = keytool(&[
        "revoke",
        arg(&server_pem),
        "--ca-dir",
        ca,
        "--ca-passphrase-file",
        arg(&passfile),
    ])
    .unwrap();
    assert!(out.contains(&serial.to_string()), "{out}");
    let crl = read_pem_file(ca_dir.join("crl.pem")).unwrap();
    assert_eq!(revoked_serials(&crl).unwrap(), vec![serial.clone()]);
    assert_eq!(
        client_check(&ca_pem, &crl, &server, "localhost", in_a_day()),
        Err(CertificateError::Revoked)
    );
    keytool(&[
        "revoke",
        "0x0BADF00D",
        "--ca-dir",
        ca,
        "--ca-passphrase-file",
        arg(&passfile),
    ])
    .unwrap();
    let crl = read_pem_file(ca_dir.join("crl.pem")).unwrap();
    let listed = vec![serial, "BADF00D".parse().unwrap()];
    assert_eq!(revoked_serials(&crl).unwrap(), listed);

    let out = keytool(&[
        "renew-crl",
        "--ca-dir",
        ca,
        "--ca-passphrase-file",
        arg(&passfile),
        "--crl-days",
        "7",
    ])
    .unwrap();
    assert!(out.contains("Renewed"), "{out}");
    let renewed = read_pem_file(ca_dir.join("crl.pem")).unwrap();
    assert_ne!(renewed, crl);
    assert_eq!(revoked_serials(&renewed).unwrap(), listed);
}

#[test]
fn usage_errors_exit_with_2() {
    let folder = TempFolder::new("keytool-usage");
    let dir = arg(folder.path());
    for args in [
        &["renew-crl", "--crl-days", "-1"][..],
        &["frobnicate"],
        &["issue-server", "--ca-dir", dir],
        &["issue-server", "--ca-dir", dir, "--name", "bad name!"],
        &["revoke", "not-hex", "--ca-dir", dir],
        &[
            "new-user",
            "alice",
            "--passphrase-file",
            "f",
            "--passphrase-env",
            "V",
        ],
        &["register", "alice"],
    ] {
        let error = keytool(args).unwrap_err();
        // The text is clap's, or our parser's: the variant is what a caller acts on.
        assert!(matches!(error, CliError::Usage(_)), "{args:?}: {error}");
        assert_eq!(error.exit_code(), EXIT_USAGE, "{args:?}: {error}");
    }
}

#[test]
fn failures_exit_with_1_and_name_the_file() {
    let folder = TempFolder::new("keytool-fail");
    let missing = folder.join("nothing-here");
    let error = keytool(&["revoke", "01", "--ca-dir", arg(&missing)]).unwrap_err();
    assert_eq!(error.exit_code(), EXIT_FAILED);
    // The reason is the operating system's text.
    let ca_key = missing.join("ca.key").display().to_string();
    assert!(
        matches!(
            &error,
            CliError::Failed(AdminError::Identity(IdentityError::Io { path, .. })) if *path == ca_key
        ),
        "{error:?}"
    );

    let garbage = folder.join("garbage.pem");
    std::fs::write(&garbage, "not a key").unwrap();
    let error = keytool(&[
        "register",
        "alice",
        arg(&garbage),
        "--users",
        arg(folder.path()),
    ])
    .unwrap_err();
    assert_eq!(error.exit_code(), EXIT_FAILED);
    let shown = garbage.display().to_string();
    assert!(
        matches!(
            &error,
            CliError::Failed(AdminError::Identity(IdentityError::InFile { path, error }))
                if *path == shown && matches!(**error, IdentityError::MalformedKey(_))
        ),
        "{error:?}"
    );

    let error = keytool(&[
        "new-user",
        "alice",
        "--out-dir",
        arg(folder.path()),
        "--passphrase-env",
        "SECURECOM_SURELY_UNSET_VAR",
    ])
    .unwrap_err();
    assert_eq!(
        error,
        CliError::Failed(AdminError::Identity(IdentityError::Io {
            path: "environment variable SECURECOM_SURELY_UNSET_VAR".into(),
            reason: "not set".into(),
        }))
    );
    assert!(!folder.join("alice.key").exists());
}

#[test]
fn dev_pki_smoke() {
    let folder = TempFolder::new("keytool-dev");
    let dir = folder.join("dev");
    let out = keytool(&["dev-pki", arg(&dir)]).unwrap();
    assert!(out.contains("DEVELOPMENT ONLY"), "{out}");
    assert!(out.contains("[new]"), "{out}");
    let out = keytool(&["dev-pki", arg(&dir)]).unwrap();
    assert!(out.contains("already there"), "{out}");
}

#[test]
fn cluster_key_is_created_once_and_read_by_the_server() {
    let folder = TempFolder::new("keytool-cluster-key");
    let path = folder.join("cluster.key");
    let out = keytool(&["cluster-key", "--out", arg(&path)]).unwrap();
    assert!(out.contains(&path.display().to_string()), "{out}");
    // What the server's --cluster-key-file reads.
    securecom_nats::read_cluster_key(&path).unwrap();
    let error = keytool(&["cluster-key", "--out", arg(&path)]).unwrap_err();
    assert_eq!(error.exit_code(), EXIT_FAILED);
    assert_eq!(
        error,
        CliError::Failed(AdminError::Identity(IdentityError::AlreadyExists {
            path: path.display().to_string()
        }))
    );
    let error = keytool(&["cluster-key"]).unwrap_err();
    assert_eq!(error.exit_code(), EXIT_USAGE, "{error}");
}
