//! Verifying a peer through the real client's line mode: `/verify`, the verified status in
//! later requests, the mark in the known-keys file, and a file that cannot be written.

use super::program::{Program, scratch};

#[test]
fn verify_marks_the_peer_in_the_known_keys_file_and_later_requests_say_verified() {
    let dir = scratch("verify");
    let pki = dir.to_str().unwrap().to_owned();
    let (_server, addr) = Program::server(&pki, "127.0.0.1:0");
    let mut alice = Program::client("alice", &addr, &pki, &[]);
    let mut bob = Program::client("bob", &addr, &pki, &[]);
    alice.expect("online alice");
    bob.expect("online bob");

    alice.send("/verify");
    alice.expect("info error: not possible now: no established chat to verify");

    alice.send("/chat bob");
    let asked = bob.expect("incoming-request alice ");
    assert!(asked.ends_with(" first-seen"), "{asked}");
    bob.send("/accept");
    let accepted = alice.expect("accepted bob ");
    assert!(accepted.ends_with(" first-seen"), "{accepted}");
    alice.expect("chat-established bob ");
    bob.expect("chat-established alice ");
    // Remembered once the chat was established, not verified.
    let known = std::fs::read_to_string(dir.join("known-keys-alice.txt")).unwrap();
    assert!(
        known
            .lines()
            .any(|l| l.starts_with("bob ") && !l.ends_with(" verified")),
        "{known}"
    );

    alice.send("/verify");
    let verified = alice.expect("key-verified bob ");
    let fingerprint = verified.trim_start_matches("key-verified bob ");
    let known = std::fs::read_to_string(dir.join("known-keys-alice.txt")).unwrap();
    assert!(
        known
            .lines()
            .any(|l| l.starts_with("bob ") && l.ends_with(" verified")),
        "{known}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(dir.join("known-keys-alice.txt")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }

    alice.send("/leave");
    bob.expect("chat-ended alice peer-closed");
    bob.send("/chat alice");
    assert_eq!(
        alice.expect("incoming-request bob "),
        format!("incoming-request bob {fingerprint} verified")
    );
    alice.send("/accept");
    let accepted = bob.expect("accepted alice ");
    assert!(accepted.ends_with(" known"), "{accepted}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_known_keys_file_that_cannot_be_written_is_an_error_naming_it() {
    let dir = scratch("known-keys-error");
    let pki = dir.to_str().unwrap().to_owned();
    let (_server, addr) = Program::server(&pki, "127.0.0.1:0");
    let gone = dir.join("gone");
    std::fs::create_dir(&gone).unwrap();
    let file = gone.join("known-keys.txt");
    let file = file.to_str().unwrap();
    let mut alice = Program::client("alice", &addr, &pki, &["--known-keys", file]);
    let mut bob = Program::client("bob", &addr, &pki, &[]);
    alice.expect("online alice");
    bob.expect("online bob");
    // The directory goes away under the running client.
    std::fs::remove_dir_all(&gone).unwrap();

    alice.send("/chat bob");
    bob.expect("incoming-request alice ");
    bob.send("/accept");
    alice.expect("chat-established bob ");
    let error = alice.expect("known-keys-error ");
    assert!(
        error.starts_with(&format!(
            "known-keys-error cannot save the known keys to {file}: "
        )),
        "{error}"
    );
    alice.send("/verify");
    let error = alice.expect("info error: ");
    assert!(error.contains(file), "{error}");
    // The chat goes on.
    alice.send("still here");
    assert_eq!(bob.expect("message "), "message alice still here");
    let _ = std::fs::remove_dir_all(&dir);
}
