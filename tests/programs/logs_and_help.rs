//! What the programs say about themselves and what the server logs: every `--help` opens
//! with what that program does; the server's log written to a pipe has no colour codes;
//! `--log-format json` writes one JSON object per line, each line about a connection
//! naming it and, once logged in, its user.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use super::program::{Program, example, scratch};

/// Runs `program args`; returns what it wrote on stdout, checking it succeeded.
fn stdout_of(program: &str, args: &[&str]) -> String {
    let output = Command::new(example(program)).args(args).output().unwrap();
    assert!(output.status.success(), "{program} {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn every_help_starts_with_what_the_program_does() {
    let programs = [
        (
            "server",
            "The securecom relay server: it authenticates users",
        ),
        (
            "client",
            "The securecom chat client: log in to a securecom relay",
        ),
        (
            "keytool",
            "The securecom key tool: create and manage the keys",
        ),
        (
            "loadgen",
            "The securecom load generator: many authenticated",
        ),
    ];
    for (program, sentence) in programs {
        // The short help (-h) and the long one (--help) open the same way.
        for flag in ["--help", "-h"] {
            let help = stdout_of(program, &[flag]);
            assert!(
                help.starts_with(sentence),
                "{program} {flag} starts with: {}",
                help.lines().next().unwrap_or_default()
            );
        }
    }
    let subcommands = [
        ("init-ca", "Create a CA"),
        ("issue-server", "Issue a server certificate"),
        ("new-user", "Create a user's key pair"),
        ("register", "Register a user's public key"),
        ("revoke", "Revoke a certificate"),
        ("renew-crl", "Re-sign crl.pem"),
        ("dev-pki", "Create (or check) the development PKI"),
        (
            "cluster-key",
            "Create the key every node of a relay cluster shares",
        ),
    ];
    for (subcommand, sentence) in subcommands {
        let help = stdout_of("keytool", &[subcommand, "--help"]);
        assert!(help.starts_with(sentence), "keytool {subcommand}: {help}");
        // A paragraph follows the sentence.
        assert!(
            help.lines().nth(1) == Some("") && help.lines().nth(2).is_some_and(|l| !l.is_empty()),
            "keytool {subcommand}: no paragraph after the sentence: {help}"
        );
    }
}

/// Starts a server logging at `debug` in `format` to a pipe, logs alice in and out, stops
/// the server with SIGTERM; returns everything it logged.
#[cfg(unix)]
fn server_log(name: &str, format: &str) -> String {
    let dir = scratch(name);
    let pki = dir.to_str().unwrap().to_owned();
    let mut server = Command::new(example("server"))
        .args(["--listen", "127.0.0.1:0", "--pki-dir", &pki])
        .args(["--log", "debug", "--log-format", format])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The log, read from the pipe until the server ends.
    let mut stderr = server.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the server ended early").unwrap();
        if let Some(addr) = line.strip_prefix("securecom server listening on ") {
            break addr.to_owned();
        }
    };
    let mut alice = Program::client("alice", &addr, &pki, &[]);
    alice.expect("online alice");
    alice.send("/quit");
    let (status, _) = alice.exit();
    assert!(status.success());
    let stopped = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    assert!(server.wait().unwrap().success());
    let log = log.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    log
}

#[cfg(unix)]
#[test]
fn the_server_log_to_a_pipe_has_no_colour_and_names_connection_and_user() {
    let log = server_log("log-text", "text");
    assert!(!log.contains('\x1b'), "escape codes in: {log}");
    let line = |message: &str| {
        log.lines()
            .find(|l| l.contains(&format!(": {message} ")))
            .unwrap_or_else(|| panic!("no {message:?} line in: {log}"))
            .to_owned()
    };
    assert!(line("accepted").contains("connection=#"));
    for message in ["online", "offline", "closed"] {
        let line = line(message);
        assert!(
            line.contains("connection=#") && line.contains("user=alice"),
            "{line}"
        );
    }
}

#[cfg(unix)]
#[test]
fn json_logs_are_one_object_per_line_naming_connection_and_user() {
    let log = server_log("log-json", "json");
    assert!(!log.contains('\x1b'), "escape codes in: {log}");
    assert!(log.lines().count() >= 5, "{log}");
    for line in log.lines() {
        assert!(line.starts_with('{') && line.ends_with('}'), "{line}");
        assert!(line.contains("\"timestamp\":") && line.contains("\"level\":"));
    }
    let line = |message: &str| {
        log.lines()
            .find(|l| l.contains(&format!("\"message\":\"{message}\"")))
            .unwrap_or_else(|| panic!("no {message:?} line in: {log}"))
            .to_owned()
    };
    // Before the login the connection only; from the login on, its user too.
    let accepted = line("accepted");
    assert!(
        accepted.contains("\"connection\":\"#") && !accepted.contains("\"user\""),
        "{accepted}"
    );
    for message in ["online", "offline", "closed"] {
        let line = line(message);
        assert!(
            line.contains("\"connection\":\"#") && line.contains("\"user\":\"alice\""),
            "{line}"
        );
    }
}
