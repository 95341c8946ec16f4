//! Every failure a user meets, in words, through the real programs: the client exits with
//! status 1 and one line on stderr that says what happened and which file or option is
//! involved.

use securecom_host::identity::IdentityFileExt;
use securecom_proto::identity::Identity;

use super::program::{Program, example, failing_client, fixture, scratch};

/// Asserts a one-line error exit whose line contains each of `words`.
fn assert_fails_with(result: (std::process::ExitStatus, String), words: &[&str]) {
    let (status, stderr) = result;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    for w in words {
        assert!(stderr.contains(w), "{w:?} missing from: {stderr}");
    }
}

#[test]
fn a_refused_login_says_unknown_user_or_wrong_key() {
    let dir = scratch("refused");
    let pki = dir.to_str().unwrap().to_owned();
    let (_server, addr) = Program::server(&pki, "127.0.0.1:0");
    let alice_key = dir.join("keys").join("alice.key");
    let alice_key = alice_key.to_str().unwrap();
    let refused = "the server refused the login: unknown user or wrong key";
    // A name the server does not know.
    assert_fails_with(
        failing_client(&[
            "dave",
            "--server",
            &addr,
            "--pki-dir",
            &pki,
            "--key",
            alice_key,
        ]),
        &[refused],
    );
    // A known name with another user's key.
    assert_fails_with(
        failing_client(&[
            "bob",
            "--server",
            &addr,
            "--pki-dir",
            &pki,
            "--key",
            alice_key,
        ]),
        &[refused],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_passphrase_without_a_terminal_names_the_options() {
    let dir = scratch("passphrase");
    let key = dir.join("locked.key");
    Identity::from_seed(&[5; 32])
        .save_encrypted_pem_file(&key, b"open sesame", &mut securecom_host::os_rng())
        .unwrap();
    let key = key.to_str().unwrap();
    let pki = dir.to_str().unwrap();
    assert_fails_with(
        failing_client(&["alice", "--pki-dir", pki, "--key", key]),
        &[
            key,
            "passphrase",
            "no terminal",
            "--passphrase-file",
            "--passphrase-env",
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn file_errors_name_the_file_and_the_option() {
    let dir = scratch("files");
    let pki = dir.to_str().unwrap();
    let missing = dir.join("nowhere.key");
    let missing = missing.to_str().unwrap();
    assert_fails_with(
        failing_client(&["alice", "--pki-dir", pki, "--key", missing]),
        &[missing, "--key"],
    );
    // A readable key, but no CA file.
    let key = dir.join("alice.key");
    Identity::from_seed(&[6; 32]).save_pem_file(&key).unwrap();
    let ca = dir.join("no-ca.pem");
    let ca = ca.to_str().unwrap();
    assert_fails_with(
        failing_client(&[
            "alice",
            "--pki-dir",
            pki,
            "--key",
            key.to_str().unwrap(),
            "--ca",
            ca,
        ]),
        &[ca, "--ca"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn certificate_times_are_utc_dates() {
    // The fixtures' CRL was good until 2026-01-31: the client refuses it since, in words.
    let dir = scratch("stale-crl");
    let users = dir.join("users");
    std::fs::create_dir_all(&users).unwrap();
    let server = Program::start(
        "server",
        example("server"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--chain",
            &fixture("server.pem"),
            "--key",
            &fixture("server.key"),
            "--users",
            users.to_str().unwrap(),
            "--log",
            "warn",
        ],
    );
    let listening = server.expect("securecom server listening on ");
    let addr = listening.rsplit(' ').next().unwrap();
    let alice = fixture("users/alice.key");
    assert_fails_with(
        failing_client(&[
            "alice",
            "--server",
            addr,
            "--pki-dir",
            dir.to_str().unwrap(),
            "--key",
            &alice,
            "--ca",
            &fixture("ca.pem"),
            "--crl",
            &fixture("crl.pem"),
        ]),
        &[
            "the server's certificate was rejected: CRL expired at 2026-01-31 00:00:00 UTC (now 20",
            " UTC)",
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}
