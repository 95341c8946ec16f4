//! The example programs themselves, driven through the client's line mode: the server
//! creates its development PKI, two clients chat, a third is refused while they do.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

/// The examples cargo built for this test run (`target/<profile>/examples/`).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    profile_dir.join("examples").join(name)
}

struct Program {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    name: &'static str,
}

impl Program {
    fn start(name: &'static str, path: PathBuf, args: &[&str]) -> Program {
        let mut child = Command::new(path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Program {
            stdin: child.stdin.take(),
            child,
            lines,
            name,
        }
    }

    /// Waits for a line starting with `prefix`; returns it.
    fn expect(&self, prefix: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => continue,
                Err(_) => panic!("{}: no line starting with {prefix:?} in time", self.name),
            }
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
