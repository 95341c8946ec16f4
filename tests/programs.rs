//! The example programs themselves, driven through the client's line mode: the server
//! creates its development PKI, two clients chat, a third is refused while they do
//! (here); the server goes away under running clients (`programs/reconnect.rs`); every
//! failure a user meets is said in words (`programs/failures.rs`); every `--help` says what
//! its program does, and the server's logs suit a pipe and a log collector
//! (`programs/logs_and_help.rs`); `/verify` and the known-keys file (`programs/verify.rs`);
//! a key revoked while the server runs (`programs/revocation.rs`); the CA's newer CRL
//! delivered in the handshake and saved by the client (`programs/crl.rs`).

#[path = "programs"]
mod programs {
    mod crl;
    mod failures;
    mod logs_and_help;
    pub(crate) mod program;
    mod reconnect;
    mod revocation;
    mod verify;
}

use programs::program::{Program, example};

#[test]
fn server_and_clients_chat_through_line_mode() {
    let dir = std::env::temp_dir().join(format!("securecom-programs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let pki = dir.to_str().unwrap().to_owned();
    let server = Program::start(
        "server",
        example("server"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--pki-dir",
            &pki,
            "--log",
            "warn",
        ],
    );
    let listening = server.expect("securecom server listening on ");
    let addr = listening.rsplit(' ').next().unwrap().to_owned();
    let client = |name: &'static str| {
        Program::start(
            name,
            example("client"),
            &[name, "--server", &addr, "--pki-dir", &pki, "--line-mode"],
        )
    };
    let mut alice = client("alice");
    let mut bob = client("bob");
    let mut carol = client("carol");
    alice.expect("online alice");
    bob.expect("online bob");
    carol.expect("online carol");

    alice.send("/users");
    let users = alice.expect("users ");
    assert!(users.contains("alice:") && users.contains("bob:") && users.contains("carol:"));

    alice.send("/chat bob");
    bob.expect("incoming-request alice ");
    bob.send("/accept");
    let a = alice.expect("chat-established bob ");
    let b = bob.expect("chat-established alice ");
    // Same safety number on both sides.
    assert_eq!(
        a.trim_start_matches("chat-established bob "),
        b.trim_start_matches("chat-established alice ")
    );
    alice.send("hello bob, multi word");
    assert_eq!(
        bob.expect("message "),
        "message alice hello bob, multi word"
    );
    bob.send("hi alice");
    assert_eq!(alice.expect("message "), "message bob hi alice");

    carol.send("/chat bob");
    carol.expect("error chat user-is-busy");

    alice.send("/leave");
    bob.expect("chat-ended alice peer-closed");
    alice.send("/quit");
    alice.expect("disconnected clean");
    bob.send("/users");
    let users = bob.expect("users ");
    assert!(!users.contains("alice:"));
    let _ = std::fs::remove_dir_all(&dir);
}
