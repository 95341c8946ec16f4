//! Losing the server under running clients: they say so, log in again once it is back,
//! and report the chat that was open as ended; with `--no-reconnect` they exit with an
//! error. `/quit` always exits with status 0.

use super::program::{Program, scratch};

#[test]
fn clients_reconnect_after_the_server_restarts() {
    let dir = scratch("reconnect");
    let pki = dir.to_str().unwrap().to_owned();
    let (server, addr) = Program::server(&pki, "127.0.0.1:0");
    let mut alice = Program::client("alice", &addr, &pki, &[]);
    let mut bob = Program::client("bob", &addr, &pki, &[]);
    alice.expect("online alice session=");
    bob.expect("online bob session=");
    alice.send("/chat bob");
    bob.expect("incoming-request alice ");
    bob.send("/accept");
    alice.expect("chat-established bob ");
    bob.expect("chat-established alice ");

    // The server dies (no goodbye) and comes back on the same address.
    server.kill();
    alice.expect("chat-ended bob disconnected");
    alice.expect("disconnected unclean");
    let waiting = alice.expect("reconnecting 1 ");
    let delay: u64 = waiting.rsplit(' ').next().unwrap().parse().unwrap();
    assert!((500..=1000).contains(&delay), "{waiting}");
    bob.expect("chat-ended alice disconnected");
    bob.expect("disconnected unclean");
    let (_server, again) = Program::server(&pki, &addr);
    assert_eq!(again, addr);

    // Both are back, the same way they first logged in, and can chat again.
    alice.expect("online alice session=");
    bob.expect("online bob session=");
    alice.send("/chat bob");
    bob.expect("incoming-request alice ");
    bob.send("/accept");
    alice.expect("chat-established bob ");
    alice.send("still here");
    assert_eq!(bob.expect("message "), "message alice still here");

    alice.send("/quit");
    let (status, stderr) = alice.exit();
    assert!(status.success(), "{status:?}: {stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_reconnecting_a_lost_server_is_an_error_exit() {
    let dir = scratch("no-reconnect");
    let pki = dir.to_str().unwrap().to_owned();
    let (server, addr) = Program::server(&pki, "127.0.0.1:0");
    let mut alice = Program::client("alice", &addr, &pki, &["--no-reconnect"]);
    alice.expect("online alice");
    server.kill();
    alice.expect("disconnected unclean");
    let (status, stderr) = alice.exit();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: the connection to the server was cut")
            && stderr.contains("--no-reconnect"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn quitting_while_reconnecting_exits_cleanly() {
    let dir = scratch("quit-reconnecting");
    let pki = dir.to_str().unwrap().to_owned();
    let (server, addr) = Program::server(&pki, "127.0.0.1:0");
    let mut alice = Program::client("alice", &addr, &pki, &[]);
    alice.expect("online alice");
    server.kill();
    alice.expect("reconnecting 1 ");
    alice.send("/users");
    alice.expect("info error: not connected to the server");
    alice.send("/quit");
    let (status, stderr) = alice.exit();
    assert!(status.success(), "{status:?}: {stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_block_outlives_a_reconnection() {
    let dir = scratch("reconnect-block");
    let pki = dir.to_str().unwrap().to_owned();
    let (server, addr) = Program::server(&pki, "127.0.0.1:0");
    let mut alice = Program::client("alice", &addr, &pki, &[]);
    let mut carol = Program::client("carol", &addr, &pki, &[]);
    alice.expect("online alice session=");
    carol.expect("online carol session=");
    alice.send("/block carol");
    alice.expect("info blocked carol");
    carol_is_refused_as_blocked(&mut alice, &mut carol);

    // A new session after the server comes back is a new client: the block holds.
    server.kill();
    alice.expect("disconnected unclean");
    carol.expect("disconnected unclean");
    let (_server, _) = Program::server(&pki, &addr);
    alice.expect("online alice session=");
    carol.expect("online carol session=");
    carol_is_refused_as_blocked(&mut alice, &mut carol);

    // Unblocked, carol is asked about again.
    alice.send("/unblock carol");
    alice.expect("info unblocked carol");
    carol.send("/chat alice");
    alice.expect("incoming-request carol ");

    alice.send("/quit");
    let (status, stderr) = alice.exit();
    assert!(status.success(), "{status:?}: {stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_block_outlives_the_program_in_its_file() {
    let dir = scratch("block-file");
    let pki = dir.to_str().unwrap().to_owned();
    let (_server, addr) = Program::server(&pki, "127.0.0.1:0");
    let mut alice = Program::client("alice", &addr, &pki, &[]);
    alice.expect("online alice session=");
    alice.send("/block carol");
    alice.expect("info blocked carol");
    alice.send("/quit");
    let (status, stderr) = alice.exit();
    assert!(status.success(), "{status:?}: {stderr}");
    let file = std::fs::read_to_string(dir.join("blocked-alice.txt")).unwrap();
    assert!(file.lines().any(|l| l == "carol"), "{file}");

    // The next run blocks carol from its first moment.
    let mut alice = Program::client("alice", &addr, &pki, &[]);
    let mut carol = Program::client("carol", &addr, &pki, &[]);
    alice.expect("online alice session=");
    carol.expect("online carol session=");
    carol_is_refused_as_blocked(&mut alice, &mut carol);
    alice.send("/unblock carol");
    alice.expect("info unblocked carol");
    let file = std::fs::read_to_string(dir.join("blocked-alice.txt")).unwrap();
    assert!(!file.lines().any(|l| l == "carol"), "{file}");
    alice.send("/quit");
    let _ = alice.exit();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Carol asks alice, whose client refuses without asking her: carol is blocked.
fn carol_is_refused_as_blocked(alice: &mut Program, carol: &mut Program) {
    carol.send("/chat alice");
    alice.expect("auto-refused carol blocked");
    carol.expect("denied alice");
}
