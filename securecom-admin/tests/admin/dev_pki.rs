//! The development PKI: complete, consistent, idempotent, loud about being for
//! development.

use std::time::SystemTime;

use securecom_admin::*;
use securecom_host::identity::{IdentityFileExt, PemFolderDirectory};
use securecom_proto::identity::{Identity, UserDirectory, Username};
use securecom_proto::pki::CertificateError;

use crate::support::{TempFolder, client_check, in_a_day};

#[test]
fn ensure_creates_everything_once_and_reuses_it() {
    let folder = TempFolder::new("dev-pki");
    let dir = folder.join("securecom-dev");
    let pki = DevPki::ensure(&dir).unwrap();
    assert_eq!(pki.folder, dir);
    assert_eq!(pki.users.len(), 3);
    assert_eq!(pki.created.len(), 11, "{:?}", pki.created);
    for file in [
        &pki.ca_cert,
        &pki.ca_key,
        &pki.crl,
        &pki.server_chain,
        &pki.server_key,
    ] {
        assert!(file.is_file(), "{}", file.display());
    }

    // The server's certificate verifies for both names, as the client will check it.
    let ca = read_pem_file(&pki.ca_cert).unwrap();
    let crl = read_pem_file(&pki.crl).unwrap();
    let server = read_pem_file(&pki.server_chain).unwrap();
    let server_key = Identity::load_pem_file(&pki.server_key).unwrap();
    for name in DEV_SERVER_NAMES {
        let key = client_check(&ca, &crl, &server, name, in_a_day()).unwrap();
        assert_eq!(key, server_key.public_key());
    }

    // Each user's key matches the server's directory.
    let directory = PemFolderDirectory::open(&pki.users_dir).unwrap();
    for user in &pki.users {
        let key = Identity::load_pem_file(&user.key_file).unwrap();
        let registered = directory.lookup(&Username::new(&user.name).unwrap());
        assert_eq!(registered, Some(key.public_key()));
        assert_eq!(user.fingerprint, key.public_key().fingerprint().to_string());
    }

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&pki.ca_key), 0o600);
        assert_eq!(mode(&pki.server_key), 0o600);
        assert_eq!(mode(&pki.keys_dir), 0o700);
        for user in &pki.users {
            assert_eq!(mode(&user.key_file), 0o600);
        }
    }

    let text = pki.describe();
    assert!(text.contains("DEVELOPMENT ONLY"), "{text}");
    assert!(text.contains("unencrypted"), "{text}");
    assert!(
        text.contains("cargo run --example client -- alice"),
        "{text}"
    );

    // Second run: nothing new, same keys.
    let again = DevPki::ensure(&dir).unwrap();
    assert!(again.created.is_empty(), "{:?}", again.created);
    assert_eq!(again.users, pki.users);
    assert_eq!(read_pem_file(&again.server_chain).unwrap(), server);
    assert!(again.describe().contains("already there"));
}

#[test]
fn missing_halves_are_reported_not_papered_over() {
    let inconsistent = |folder: &TempFolder, reason: &str| {
        Err(AdminError::InconsistentDevPki {
            folder: folder.path().display().to_string(),
            reason: reason.into(),
        })
    };
    let folder = TempFolder::new("dev-pki-broken");
    let pki = DevPki::ensure(folder.path()).unwrap();
    std::fs::remove_file(&pki.ca_key).unwrap();
    assert_eq!(
        DevPki::ensure(folder.path()),
        inconsistent(&folder, "ca.pem without ca.key")
    );

    let folder = TempFolder::new("dev-pki-user");
    let pki = DevPki::ensure(folder.path()).unwrap();
    std::fs::remove_file(&pki.users[1].key_file).unwrap();
    assert_eq!(
        DevPki::ensure(folder.path()),
        inconsistent(&folder, "users/bob.pem without keys/bob.key")
    );

    let folder = TempFolder::new("dev-pki-server");
    let pki = DevPki::ensure(folder.path()).unwrap();
    std::fs::remove_file(&pki.server_chain).unwrap();
    assert_eq!(
        DevPki::ensure(folder.path()),
        inconsistent(&folder, "server.key without server.pem")
    );
}

#[test]
fn missing_user_files_are_recreated_and_a_stale_crl_renewed() {
    let folder = TempFolder::new("dev-pki-partial");
    let pki = DevPki::ensure(folder.path()).unwrap();
    // A user removed entirely comes back, with a new key.
    std::fs::remove_file(&pki.users[2].key_file).unwrap();
    std::fs::remove_file(&pki.users[2].public_key_file).unwrap();
    // A CRL about to go stale (a day left, under the two-day margin) is re-signed.
    let ca_key = Identity::load_pem_file(&pki.ca_key).unwrap();
    let ca = read_pem_file(&pki.ca_cert).unwrap();
    let now = SystemTime::now();
    let short = create_crl(&ca_key, &ca, &[], now, add_days(now, 1).unwrap()).unwrap();
    replace_file(&pki.crl, &short).unwrap();

    let again = DevPki::ensure(folder.path()).unwrap();
    assert!(again.created.contains(&pki.users[2].key_file));
    assert!(again.created.contains(&pki.crl));
    assert_ne!(again.users[2].fingerprint, pki.users[2].fingerprint);
    assert_eq!(again.users[0], pki.users[0]);
}

#[test]
fn a_foreign_server_certificate_is_refused() {
    let folder = TempFolder::new("dev-pki-foreign");
    let pki = DevPki::ensure(folder.path()).unwrap();
    let (other_key, other_ca) = create_ca("Other", Validity::days_from_now(10).unwrap()).unwrap();
    let (key, cert) = issue_server_certificate(
        &other_key,
        &other_ca,
        &["localhost".parse().unwrap(), "127.0.0.1".parse().unwrap()],
        Validity::days_from_now(10).unwrap(),
    )
    .unwrap();
    std::fs::remove_file(&pki.server_key).unwrap();
    std::fs::remove_file(&pki.server_chain).unwrap();
    key.save_pem_file(&pki.server_key).unwrap();
    write_new_file(&pki.server_chain, &cert).unwrap();
    assert_eq!(
        DevPki::ensure(folder.path()),
        Err(AdminError::InconsistentDevPki {
            folder: folder.path().display().to_string(),
            reason: format!(
                "server.pem does not verify for localhost: {}",
                CertificateError::UnknownIssuer
            ),
        })
    );
}
