//! A key removed from the server's user folder while it runs: `keytool reload-server`
//! (SIGHUP) reloads the folder, and the session of that key is closed as revoked, its chat
//! partner told why.

use super::program::{Program, example, scratch};

#[cfg(unix)]
#[test]
fn a_key_removed_while_the_server_runs_is_revoked_on_reload() {
    let dir = scratch("revocation");
    let pki = dir.to_str().unwrap().to_owned();
    let pid_file = dir.join("server.pid");
    let server = Program::start(
        "server",
        example("server"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--pki-dir",
            &pki,
            "--pid-file",
            pid_file.to_str().unwrap(),
            "--log",
            "warn",
        ],
    );
    let listening = server.expect("securecom server listening on ");
    let addr = listening.rsplit(' ').next().unwrap().to_owned();
    let mut alice = Program::client("alice", &addr, &pki, &["--no-reconnect"]);
    let mut bob = Program::client("bob", &addr, &pki, &[]);
    alice.expect("online alice");
    bob.expect("online bob");
    alice.send("/chat bob");
    bob.expect("incoming-request alice ");
    bob.send("/accept");
    alice.expect("chat-established bob ");
    bob.expect("chat-established alice ");

    // Alice's key is removed (stolen, say), and the server told to reload: the admin
    // command sends the server SIGHUP.
    std::fs::remove_file(dir.join("users/alice.pem")).unwrap();
    let reload = std::process::Command::new(example("keytool"))
        .args(["reload-server", "--pid-file", pid_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(reload.status.success(), "{reload:?}");

    alice.expect("closed revoked");
    let (status, stderr) = alice.exit();
    assert!(!status.success(), "a revoked client exits non-zero");
    assert!(!stderr.is_empty());
    assert_eq!(
        bob.expect("chat-ended alice "),
        "chat-ended alice peer-gone"
    );
    // Bob stays online, and alice is no longer listed.
    bob.send("/users");
    let users = bob.expect("users ");
    assert!(!users.contains("alice:"), "{users}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
