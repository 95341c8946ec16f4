//! Running the example programs: start one, read its stdout line by line, write its stdin,
//! and collect how it ended.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any one step may take.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// The examples cargo built for this test run (`target/<profile>/examples/`).
pub(crate) fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    profile_dir.join("examples").join(name)
}

/// A fresh folder for one test.
pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("securecom-programs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The core's PKI fixtures (`securecom-proto/tests/fixtures/pki/`).
pub(crate) fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("securecom-proto/tests/fixtures/pki")
        .join(name)
        .to_str()
        .unwrap()
        .to_owned()
}

pub(crate) struct Program {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    name: &'static str,
}

impl Program {
    pub(crate) fn start(name: &'static str, path: PathBuf, args: &[&str]) -> Program {
        let mut child = Command::new(path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
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
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut from = child.stderr.take().unwrap();
        let into = stderr.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = from.read_to_string(&mut text);
            *into.lock().unwrap() = text;
        });
        Program {
            stdin: child.stdin.take(),
            child,
            lines,
            stderr,
            name,
        }
    }

    /// A client in line mode, logging in to `addr` with the development PKI in `pki`.
    pub(crate) fn client(name: &'static str, addr: &str, pki: &str, extra: &[&str]) -> Program {
        let mut args = vec![name, "--server", addr, "--pki-dir", pki, "--line-mode"];
        args.extend_from_slice(extra);
        Program::start(name, example("client"), &args)
    }

    /// A server with the development PKI in `pki`, listening on `listen`; returns it and
    /// the address it listens on.
    pub(crate) fn server(pki: &str, listen: &str) -> (Program, String) {
        let server = Program::start(
            "server",
            example("server"),
            &["--listen", listen, "--pki-dir", pki, "--log", "warn"],
        );
        let listening = server.expect("securecom server listening on ");
        let addr = listening.rsplit(' ').next().unwrap().to_owned();
        (server, addr)
    }

    /// Waits for a line starting with `prefix`; returns it.
    pub(crate) fn expect(&self, prefix: &str) -> String {
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

    pub(crate) fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for the program to end by itself; returns its status and all it wrote on
    /// stderr.
    pub(crate) fn exit(&mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{}: did not exit in time",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        // The stderr reader finishes right after the program.
        let deadline = Instant::now() + WAIT;
        while Arc::strong_count(&self.stderr) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        (status, self.stderr.lock().unwrap().clone())
    }

    /// Stops the program at once (SIGKILL), as a crash would.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a client that is expected to fail at once; returns its status and stderr.
pub(crate) fn failing_client(args: &[&str]) -> (ExitStatus, String) {
    let mut client = Program::start("client", example("client"), args);
    drop(client.stdin.take());
    client.exit()
}
