//! The securecom relay server.
//!
//! ```text
//! cargo run --example server                     # development PKI in ./securecom-dev/
//! cargo run --example server -- --listen 0.0.0.0:4433 --chain server.pem --key server.key \
//!     --users users/
//! ```
//!
//! With no certificate flags it creates (on first run) and uses a development PKI, and prints
//! how to start the clients. Logs go to stderr; set the level with `--log` or `RUST_LOG`,
//! and `--log-format json` for one JSON object per line. Colour only when stderr is a
//! terminal. Every line about a connection carries `connection` and, once logged in,
//! `user`.
//! Ctrl-C shuts down gracefully: every client gets an authenticated goodbye.
//!
//! The server carries its CA's current CRL in every handshake (`--serve-crl FILE`; with
//! the development PKI its `crl.pem`, unless `--no-serve-crl`), so clients holding an
//! older CRL learn of newer revocations; SIGHUP reads the CRL file again along with the
//! user folder (renew the CRL, then `keytool reload-server --pid-file FILE`).
//!
//! With `--cluster nats://HOST:PORT --node-id n1 --cluster-key-file cluster.key` the server
//! is one node of a relay cluster on NATS (docs/CLUSTER.md); without it, a single node
//! needing nothing else.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use securecom_admin::cli::{PassphraseSource, load_identity};
use securecom_host::identity::LiveDirectory;
use securecom_host::pki::LiveCrl;
use securecom_host::time::UnixTimeExt as _;
use securecom_nats::{NatsCredentials, NatsOptions, read_cluster_key};
use securecom_proto::cluster::{ClusterConfig, NodeId};
use securecom_proto::handshake::ServerConfig;
use securecom_proto::pki::{
    FlightCrlSource as _, ServedCrl, ServerCredentials, certificates_from_pem,
};
use securecom_proto::relay::{DuplicateLogin, RelayConfig};
use securecom_proto::time::UnixTime;
use securecom_tokio::{Server, ServerOptions};

/// The port the server listens on by default.
const DEFAULT_LISTEN: &str = "127.0.0.1:4433";

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SecondLogin {
    /// Refuse the new login (default).
    Reject,
    /// Close the old session and keep the new one.
    Replace,
}

/// How the log lines are written.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    /// One line of text per event, for people.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The securecom relay server: it authenticates users and relays their end-to-end
/// encrypted chats, which it cannot read.
///
/// Clients log in with a key their server knows (one `NAME.pem` each in the --users
/// folder) and check the server's certificate against their CA. The server lists who is
/// online, passes chat requests and answers between users, and forwards the encrypted
/// records of each chat; the chat keys are the two users' alone. With no certificate
/// flags it creates and uses a development PKI in --pki-dir and prints how to start the
/// clients. Logs go to stderr; Ctrl-C or SIGTERM says goodbye to every client and stops.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = DEFAULT_LISTEN)]
    listen: String,
    /// Development PKI folder, created on first run when no --chain/--key/--users are given.
    #[arg(long, default_value = "securecom-dev")]
    pki_dir: PathBuf,
    /// The server's certificate chain, leaf first (PEM).
    #[arg(long, requires = "key")]
    chain: Option<PathBuf>,
    /// The server's private key (PKCS#8 PEM, possibly passphrase-protected).
    #[arg(long, requires = "chain")]
    key: Option<PathBuf>,
    /// Read the key's passphrase from this file (first line).
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
    /// Read the key's passphrase from this environment variable.
    #[arg(long)]
    passphrase_env: Option<String>,
    /// Folder of registered users: one `NAME.pem` public key each.
    #[arg(long)]
    users: Option<PathBuf>,
    /// Carry this CRL (PEM, the current CRL of the CA that issued --chain) in every
    /// handshake, so clients with an older CRL learn of newer revocations; read again on
    /// SIGHUP [default with the development PKI: PKI_DIR/crl.pem].
    #[arg(long, conflicts_with = "no_serve_crl")]
    serve_crl: Option<PathBuf>,
    /// Carry no CRL in the handshake (not even the development PKI's).
    #[arg(long)]
    no_serve_crl: bool,
    /// Users online at once.
    #[arg(long, default_value_t = 10_000)]
    max_users: usize,
    /// Connections still in the handshake at once.
    #[arg(long, default_value_t = 1_024)]
    max_handshaking: usize,
    /// Connections still in the handshake from one address (an IPv6 /64 counts as one), so
    /// that one host cannot take every handshake place.
    #[arg(long, default_value_t = 64)]
    max_handshaking_per_source: usize,
    /// Seconds a new connection may take to send its first handshake message.
    #[arg(long, default_value_t = 2)]
    hello_timeout: u64,
    /// The lowest port a client may ask the server to call back (privileged ports below
    /// are refused).
    #[arg(long, default_value_t = 1024)]
    min_callback_port: u16,
    /// Connections of any kind at once.
    #[arg(long, default_value_t = 20_000)]
    max_connections: usize,
    /// Chat requests waiting for one user's answer.
    #[arg(long, default_value_t = 8)]
    max_pending_requests: usize,
    /// Seconds a chat request waits for an answer.
    #[arg(long, default_value_t = 30)]
    request_timeout: u64,
    /// Seconds a silent session is kept.
    #[arg(long, default_value_t = 120)]
    idle_timeout: u64,
    /// Seconds a handshake may take.
    #[arg(long, default_value_t = 10)]
    handshake_timeout: u64,
    /// What to do when a user logs in twice.
    #[arg(long, value_enum, default_value = "reject")]
    second_login: SecondLogin,
    /// Seconds a socket may take none of the bytes written to it before it is dropped (a
    /// client that stops reading; its chat partner is told it stalled).
    #[arg(long, default_value_t = 30)]
    write_timeout: u64,
    /// Refuse the callback request channel (server-opened connections to clients).
    #[arg(long)]
    no_callback: bool,
    /// Seconds a callback connection to a client may take to open.
    #[arg(long, default_value_t = 5)]
    callback_connect_timeout: u64,
    /// Seconds a shutdown (Ctrl-C) waits for the goodbyes to be written.
    #[arg(long, default_value_t = 2)]
    shutdown_grace: u64,
    /// Join a relay cluster through this NATS server (nats://host:port, JetStream on).
    /// Without it the server is a single node. See docs/CLUSTER.md.
    #[arg(long, value_name = "NATS_URL", requires_all = ["node_id", "cluster_key_file"])]
    cluster: Option<String>,
    /// This node's id in the cluster (unique; letters, digits, - and _).
    #[arg(long, requires = "cluster")]
    node_id: Option<String>,
    /// The key every node of the cluster shares (64 hex digits; keytool cluster-key).
    #[arg(long, requires = "cluster")]
    cluster_key_file: Option<PathBuf>,
    /// NATS credentials: a file of `user=`/`password=`, `token=` or `nkey=` lines. Without
    /// it, SECURECOM_NATS_USER and SECURECOM_NATS_PASSWORD (or SECURECOM_NATS_TOKEN, or
    /// SECURECOM_NATS_NKEY) are used if set. Never on the command line.
    #[arg(long, requires = "cluster")]
    nats_credentials_file: Option<PathBuf>,
    /// Seconds of silence after which another node is taken for dead (its users' chat
    /// peers are told they are gone).
    #[arg(long, default_value_t = 10)]
    node_timeout: u64,
    /// First token of the cluster's NATS subjects and bucket (several clusters can share
    /// one NATS).
    #[arg(long, default_value = "securecom")]
    nats_prefix: String,
    /// Write the server's process id to this file (for `kill -HUP` or
    /// `keytool reload-server --pid-file`, which reload the user directory and the CRL
    /// served).
    #[arg(long)]
    pid_file: Option<PathBuf>,
    /// Log level (error, warn, info, debug, trace); RUST_LOG wins when set.
    #[arg(long, default_value = "info")]
    log: String,
    /// How log lines are written: text, or one JSON object per line for log collectors.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
}

fn main() {
    let args = Args::parse();
    init_logs(&args.log, args.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => fail(&format!("cannot start the runtime: {e}")),
    };
    if let Err(e) = runtime.block_on(run(args)) {
        fail(&e);
    }
}

/// Logs to stderr at `level` (RUST_LOG wins when set), as text coloured only when stderr
/// is a terminal, or as JSON lines.
fn init_logs(level: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        // The event's fields at the top level of each object, next to `level`, `target`
        // and `timestamp`: `{"connection":"#3","user":"alice","message":"online",...}`.
        LogFormat::Json => logs.json().flatten_event(true).with_ansi(false).init(),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

async fn run(args: Args) -> Result<(), String> {
    let (chain_path, key_path, users_path, dev_crl) = match (&args.chain, &args.key) {
        (Some(chain), Some(key)) => (
            chain.clone(),
            key.clone(),
            args.users
                .clone()
                .ok_or("--users is needed with --chain and --key")?,
            None,
        ),
        _ => {
            let dev = securecom_admin::DevPki::ensure(&args.pki_dir).map_err(|e| e.to_string())?;
            println!("{}", dev.describe());
            (
                dev.server_chain.clone(),
                dev.server_key.clone(),
                args.users.clone().unwrap_or(dev.users_dir.clone()),
                Some(dev.crl.clone()),
            )
        }
    };
    let crl_path = match (&args.serve_crl, args.no_serve_crl) {
        (_, true) => None,
        (Some(path), false) => Some(path.clone()),
        (None, false) => dev_crl,
    };
    let chain_pem = std::fs::read_to_string(&chain_path)
        .map_err(|e| format!("{}: {e}", chain_path.display()))?;
    let chain =
        certificates_from_pem(&chain_pem).map_err(|e| format!("{}: {e}", chain_path.display()))?;
    let source =
        PassphraseSource::from_options(args.passphrase_file.clone(), args.passphrase_env.clone())?;
    // The prompt is the terminal's, without echo; the library only calls it.
    let key = load_identity(&key_path, source.as_ref(), |p| {
        rpassword::prompt_password(p)
    })
    .map_err(|e| e.to_string())?;
    let credentials = ServerCredentials::new(chain.clone(), key).map_err(|e| e.to_string())?;
    let served_crl = match &crl_path {
        Some(path) => {
            let live = LiveCrl::open(path, chain).map_err(|e| format!("--serve-crl {e}"))?;
            log_served_crl(&live, live.flight_crl());
            Some(Arc::new(live))
        }
        None => None,
    };
    let directory =
        LiveDirectory::open(&users_path).map_err(|e| format!("{}: {e}", users_path.display()))?;
    tracing::info!(users = directory.len(), folder = %users_path.display(), "user directory loaded");
    let directory = Arc::new(directory);
    let mut config = ServerConfig::new(credentials, directory.clone())
        .with_handshake_timeout(Duration::from_secs(args.handshake_timeout))
        .with_hello_timeout(Duration::from_secs(args.hello_timeout));
    if let Some(live) = &served_crl {
        config = config.with_crl_source(live.clone());
    }
    let relay = RelayConfig {
        max_connections: args.max_connections,
        max_handshaking: args.max_handshaking,
        max_handshaking_per_source: args.max_handshaking_per_source,
        min_callback_port: args.min_callback_port,
        max_users: args.max_users,
        max_pending_requests_per_user: args.max_pending_requests,
        request_timeout: Duration::from_secs(args.request_timeout),
        idle_timeout: Duration::from_secs(args.idle_timeout),
        duplicate_login: match args.second_login {
            SecondLogin::Reject => DuplicateLogin::RejectNew,
            SecondLogin::Replace => DuplicateLogin::ReplaceExisting,
        },
        allow_callback: !args.no_callback,
        write_timeout: Duration::from_secs(args.write_timeout),
        callback_connect_timeout: Duration::from_secs(args.callback_connect_timeout),
        shutdown_grace: Duration::from_secs(args.shutdown_grace),
        ..RelayConfig::default()
    };
    let options = ServerOptions { relay };
    let (server, bus) = match &args.cluster {
        None => {
            let server = Server::bind(args.listen.as_str(), Arc::new(config), options).await;
            (server, None)
        }
        Some(url) => {
            let (cluster, nats) = cluster_options(&args, url)?;
            tracing::info!(node = %cluster.node, %url, "joining the cluster");
            let (link, bus) = securecom_nats::spawn(nats, cluster.node.clone());
            let server = Server::bind_clustered(
                args.listen.as_str(),
                Arc::new(config),
                options,
                cluster,
                link,
            )
            .await;
            (server, Some(bus))
        }
    };
    let server = server.map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let server =
        server.with_directory_reloads(reload_on_hangup(directory, users_path.clone(), served_crl));
    if let Some(pid_file) = &args.pid_file {
        std::fs::write(pid_file, format!("{}\n", std::process::id()))
            .map_err(|e| format!("--pid-file {}: {e}", pid_file.display()))?;
    }
    let addr = server.local_addr().map_err(|e| e.to_string())?;
    println!("securecom server listening on {addr}");
    tracing::info!(%addr, "listening");
    server
        .run(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    if let Some(bus) = bus {
        // The goodbye and the releases of the presence entries go out before exiting.
        let _ = tokio::time::timeout(Duration::from_secs(5), bus).await;
    }
    Ok(())
}

/// Logs which CRL the handshakes carry, and warns when it is past its nextUpdate (clients
/// then ignore it: renew it).
fn log_served_crl(live: &LiveCrl, crl: Option<Arc<ServedCrl>>) {
    let Some(crl) = crl else { return };
    let file = live.path().display();
    let valid_until = crl.next_update();
    if UnixTime::now() >= valid_until {
        tracing::warn!(%file, number = %crl.number(), %valid_until, "the CRL served has expired: clients ignore it; renew it and reload (SIGHUP)");
    } else {
        tracing::info!(%file, number = %crl.number(), %valid_until, "serving the CA's CRL in the handshake");
    }
}

/// On SIGHUP (`kill -HUP`, or `keytool reload-server --pid-file`), reads the user folder
/// again and tells the server, which closes the sessions of keys no longer registered,
/// and reads the CRL file served again (the next handshakes carry it). A folder or CRL
/// that fails to read is reported and changes nothing.
fn reload_on_hangup(
    directory: Arc<LiveDirectory>,
    folder: PathBuf,
    served_crl: Option<Arc<LiveCrl>>,
) -> tokio::sync::mpsc::UnboundedReceiver<()> {
    let (reloaded, reloads) = tokio::sync::mpsc::unbounded_channel();
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            tracing::warn!("cannot listen for SIGHUP: the user directory cannot be reloaded");
            return;
        };
        while hangups.recv().await.is_some() {
            if let Some(live) = &served_crl {
                match live.reload() {
                    Ok(crl) => log_served_crl(live, Some(crl)),
                    Err(e) => {
                        tracing::error!("CRL not reloaded (the previous one is still served): {e}")
                    }
                }
            }
            match directory.reload() {
                Ok(()) => {
                    tracing::info!(users = directory.len(), folder = %folder.display(), "user directory reloaded");
                    if reloaded.send(()).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::error!(folder = %folder.display(), "user directory not reloaded (unchanged): {e}")
                }
            }
        }
    });
    #[cfg(not(unix))]
    let _ = (directory, folder, served_crl, reloaded);
    reloads
}

/// Ctrl-C, or SIGTERM (a service manager stopping the server).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("Ctrl-C: shutting down"),
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("Ctrl-C: shutting down");
    }
}

/// The cluster's settings from the flags, the key file and the credentials.
fn cluster_options(args: &Args, url: &str) -> Result<(ClusterConfig, NatsOptions), String> {
    let node = args
        .node_id
        .as_deref()
        .ok_or("--node-id is needed with --cluster")?;
    let node = NodeId::new(node).map_err(|e| format!("--node-id {node}: {e}"))?;
    let key_file = args
        .cluster_key_file
        .as_ref()
        .ok_or("--cluster-key-file is needed with --cluster")?;
    let key = read_cluster_key(key_file).map_err(|e| format!("--cluster-key-file {e}"))?;
    let credentials = match &args.nats_credentials_file {
        Some(path) => NatsCredentials::from_file(path),
        None => NatsCredentials::from_env(),
    }
    .map_err(|e| format!("NATS credentials: {e}"))?;
    let mut cluster = ClusterConfig::new(node, key);
    cluster.node_timeout = Duration::from_secs(args.node_timeout.max(1));
    // The prefix is a subject token and part of the bucket's name: the node id's rules.
    NodeId::new(&args.nats_prefix).map_err(|_| {
        format!(
            "--nats-prefix {}: 1 to 32 of a-z A-Z 0-9 _ -",
            args.nats_prefix
        )
    })?;
    let mut nats = NatsOptions::new(url, credentials);
    nats.prefix = args.nats_prefix.clone();
    Ok((cluster, nats))
}
