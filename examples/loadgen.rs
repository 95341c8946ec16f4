//! Load generator: many authenticated connections and chat pairs against a running server.
//!
//! ```text
//! # 1. register N synthetic users (deterministic keys) in a folder the server will load
//! cargo run --release --example loadgen -- prepare --users 10200 --out load-users
//! # 2. start the server with that directory and room for them
//! cargo run --release --example server -- --users load-users --max-users 20000 \
//!     --max-handshaking 4096 &
//! # 3. measure
//! cargo run --release --example loadgen -- run --idle 10000 --pairs 100 --messages 200 \
//!     --server-pid $(pgrep -f 'examples/server')
//! ```
//!
//! It reports handshakes per second, chat messages per second, p50/p99 relay latency and,
//! given the server's pid, the server's resident memory per idle connection. Every message
//! carries its sender, a sequence number and a timestamp; the receiver checks that each
//! arrives exactly once, in order, from its chat peer.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use securecom_host::identity::PemFolderDirectory;
use securecom_host::pki::{RevocationFiles, load_server_verifier};
use securecom_proto::client::ClientEvent;
use securecom_proto::handshake::ClientConfig;
use securecom_proto::identity::{Identity, Username};
use securecom_proto::pki::ServerCertVerifier;
use securecom_tokio::{Client, ClientHandle, ClientOptions};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc::UnboundedReceiver;

/// The securecom load generator: many authenticated connections and chat pairs against
/// a running server, measured.
///
/// `prepare` writes the public keys of synthetic users (deterministic keys) into a folder
/// the server loads with --users; `run` logs them in against the server (or the nodes of
/// a cluster), holds idle connections, has chat pairs exchange messages, checks that each
/// message arrives exactly once and in order, and reports handshakes per second, messages
/// per second, p50/p99 relay latency and, given the server's pid, its memory per idle
/// connection.
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes the public keys of N synthetic users (`load0`, `load1`, ...) into OUT.
    Prepare {
        /// How many users (N).
        #[arg(long)]
        users: usize,
        /// The folder to write them to, for the server's --users.
        #[arg(long, default_value = "load-users")]
        out: PathBuf,
    },
    /// Runs the load against a server, or the nodes of a cluster.
    Run {
        /// The server's address; for a cluster, every node's, comma-separated: users are
        /// spread over the nodes, and chat pairs alternate between two users of one node
        /// and two users of different nodes, whose latencies are reported apart.
        #[arg(long, default_value = "127.0.0.1:4433")]
        server: String,
        /// The name the server's certificate must carry.
        #[arg(long, default_value = "localhost")]
        server_name: String,
        /// The development PKI folder the server uses (its CA and CRL are trusted).
        #[arg(long, default_value = "securecom-dev")]
        pki_dir: PathBuf,
        /// Idle authenticated connections to hold.
        #[arg(long, default_value_t = 1000)]
        idle: usize,
        /// Chat pairs exchanging messages.
        #[arg(long, default_value_t = 100)]
        pairs: usize,
        /// Messages each side of a pair sends.
        #[arg(long, default_value_t = 100)]
        messages: usize,
        /// Handshakes in flight at once (all from one address: above the server's
        /// --max-handshaking-per-source, 64 by default, raise that too).
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// The server's pid, to read its memory from /proc.
        #[arg(long)]
        server_pid: Option<u32>,
        /// Milliseconds each sender waits between its messages (0: a burst). Paced, the
        /// latencies are the path's own rather than queueing behind a burst.
        #[arg(long, default_value_t = 0)]
        interval_ms: u64,
        /// Keep this many silent connections open from --flood-source during the run
        /// (reopening each one the server closes): an unauthenticated flood from one host.
        #[arg(long, default_value_t = 0)]
        flood: usize,
        /// The local address the flood connects from (any 127.x.y.z on loopback).
        #[arg(long, default_value = "127.0.0.3")]
        flood_source: std::net::IpAddr,
    },
}

/// The synthetic user number `i`: a deterministic key, so `prepare` and `run` agree.
fn synthetic(i: usize) -> (Username, Identity) {
    let seed: [u8; 32] = Sha256::new()
        .chain_update(b"securecom loadgen user")
        .chain_update((i as u64).to_be_bytes())
        .finalize()
        .into();
    (
        Username::new(&format!("load{i}")).expect("valid synthetic name"),
        Identity::from_seed(&seed),
    )
}

fn main() {
    let args = Args::parse();
    let _ = rlimit::increase_nofile_limit(65_536);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = match args.command {
        Command::Prepare { users, out } => prepare(users, &out),
        Command::Run {
            server,
            server_name,
            pki_dir,
            idle,
            pairs,
            messages,
            concurrency,
            server_pid,
            interval_ms,
            flood,
            flood_source,
        } => rt.block_on(run(RunArgs {
            servers: server
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            server_name,
            pki_dir,
            idle,
            pairs,
            messages,
            concurrency,
            server_pid,
            interval: Duration::from_millis(interval_ms),
            flood,
            flood_source,
        })),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn prepare(users: usize, out: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut dir = PemFolderDirectory::open(out).map_err(|e| e.to_string())?;
    for i in 0..users {
        let (name, identity) = synthetic(i);
        dir.replace(&name, &identity.public_key())
            .map_err(|e| e.to_string())?;
    }
    println!("registered {users} synthetic users in {}", out.display());
    Ok(())
}

struct RunArgs {
    /// One address per node.
    servers: Vec<String>,
    server_name: String,
    pki_dir: PathBuf,
    idle: usize,
    pairs: usize,
    messages: usize,
    concurrency: usize,
    server_pid: Option<u32>,
    interval: Duration,
    flood: usize,
    flood_source: std::net::IpAddr,
}

fn verifier(pki_dir: &std::path::Path) -> Result<ServerCertVerifier, String> {
    let crls = RevocationFiles::CheckCrls(vec![pki_dir.join("crl.pem")]);
    load_server_verifier(pki_dir.join("ca.pem"), &crls).map_err(|e| e.to_string())
}

struct Connected {
    handle: ClientHandle,
    events: UnboundedReceiver<ClientEvent>,
}

async fn connect_many(
    args: &RunArgs,
    users: std::ops::Range<usize>,
    node_of: impl Fn(usize) -> usize,
) -> Result<(Vec<Connected>, Duration), String> {
    let started = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
    let mut tasks = Vec::new();
    for i in users {
        let (name, identity) = synthetic(i);
        let config = Arc::new(ClientConfig::new(
            verifier(&args.pki_dir)?,
            &args.server_name,
            name,
            identity,
        ));
        let node = node_of(i) % args.servers.len().max(1);
        let server = args.servers.get(node).cloned().unwrap_or_default();
        let permit = semaphore
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        tasks.push(tokio::spawn(async move {
            let r = Client::connect(server.as_str(), config, ClientOptions::default()).await;
            drop(permit);
            r
        }));
    }
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        let (handle, events) = t
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        out.push(Connected { handle, events });
    }
    Ok((out, started.elapsed()))
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn wait_for(
    events: &mut UnboundedReceiver<ClientEvent>,
    what: &str,
    f: impl Fn(&ClientEvent) -> bool,
) -> Result<ClientEvent, String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(e)) if f(&e) => return Ok(e),
            Ok(Some(_)) => {}
            Ok(None) => return Err(format!("connection ended waiting for {what}")),
            Err(_) => return Err(format!("timed out waiting for {what}")),
        }
    }
}

/// What the flood saw: connections it opened, and how many of them the server closed
/// without waiting (refused at accept) or at the hello deadline.
#[derive(Default)]
struct FloodCount {
    opened: std::sync::atomic::AtomicUsize,
    closed_at_once: std::sync::atomic::AtomicUsize,
    closed_later: std::sync::atomic::AtomicUsize,
}

/// Keeps `n` silent connections from `source` open to `server` until `stop` flips.
fn start_flood(
    server: std::net::SocketAddr,
    source: std::net::IpAddr,
    n: usize,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Arc<FloodCount> {
    use std::sync::atomic::Ordering::Relaxed;
    use tokio::io::AsyncReadExt;
    let count = Arc::new(FloodCount::default());
    for _ in 0..n {
        let (count, mut stop) = (count.clone(), stop.clone());
        tokio::spawn(async move {
            while !*stop.borrow() {
                let socket = match server {
                    std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
                    std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
                };
                let Ok(socket) = socket else { return };
                if socket.bind(std::net::SocketAddr::new(source, 0)).is_err() {
                    return;
                }
                let Ok(mut stream) = socket.connect(server).await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                count.opened.fetch_add(1, Relaxed);
                let opened = Instant::now();
                let mut buf = [0u8; 64];
                tokio::select! {
                    _ = stream.read(&mut buf) => {
                        if opened.elapsed() < Duration::from_millis(500) {
                            count.closed_at_once.fetch_add(1, Relaxed);
                        } else {
                            count.closed_later.fetch_add(1, Relaxed);
                        }
                    }
                    _ = stop.changed() => return,
                }
            }
        });
    }
    count
}

async fn run(args: RunArgs) -> Result<(), String> {
    let (stop_flood, flood_stopped) = tokio::sync::watch::channel(false);
    let flood = if args.flood > 0 {
        let server = tokio::net::lookup_host(args.servers.first().cloned().unwrap_or_default())
            .await
            .map_err(|e| e.to_string())?
            .next()
            .ok_or("no server address")?;
        let count = start_flood(server, args.flood_source, args.flood, flood_stopped);
        // Let the flood take its places first.
        tokio::time::sleep(Duration::from_secs(1)).await;
        Some(count)
    } else {
        None
    };
    let result = run_load(&args).await;
    let _ = stop_flood.send(true);
    if let Some(count) = flood {
        use std::sync::atomic::Ordering::Relaxed;
        println!(
            "flood from {}: {} silent connections kept open; {} opened, {} closed by the server at once (refused), {} at the hello deadline",
            args.flood_source,
            args.flood,
            count.opened.load(Relaxed),
            count.closed_at_once.load(Relaxed),
            count.closed_later.load(Relaxed)
        );
    }
    result
}

async fn run_load(args: &RunArgs) -> Result<(), String> {
    let rss_before = args.server_pid.and_then(rss_kib);
    let nodes = args.servers.len().max(1);
    let (idle, idle_time) = connect_many(args, 0..args.idle, |i| i).await?;
    let rss_after = args.server_pid.and_then(rss_kib);
    println!(
        "idle connections: {} in {:.2} s = {:.0} handshakes/s",
        idle.len(),
        idle_time.as_secs_f64(),
        idle.len() as f64 / idle_time.as_secs_f64()
    );
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        println!(
            "server memory: {before} KiB -> {after} KiB = {:.1} KiB per idle connection",
            (after.saturating_sub(before)) as f64 / args.idle.max(1) as f64
        );
    }

    let first = args.idle;
    // Pair k is users first+2k and first+2k+1: on one node when k is even, on two
    // neighbouring nodes when k is odd (with one node, every pair shares it).
    let node_of = move |i: usize| {
        let k = (i - first) / 2;
        let second = (i - first) % 2 == 1;
        k / 2 + usize::from(second && k % 2 == 1)
    };
    let (active, _) = connect_many(args, first..first + 2 * args.pairs, node_of).await?;
    let mut pairs = Vec::new();
    let mut active = active.into_iter();
    while let (Some(mut a), Some(mut b)) = (active.next(), active.next()) {
        let b_name = b.handle.username().clone();
        a.handle
            .request_chat(b_name)
            .await
            .map_err(|e| e.to_string())?;
        wait_for(&mut b.events, "request", |e| {
            matches!(e, ClientEvent::IncomingRequest { .. })
        })
        .await?;
        b.handle.accept().await.map_err(|e| e.to_string())?;
        wait_for(&mut a.events, "chat", |e| {
            matches!(e, ClientEvent::ChatEstablished { .. })
        })
        .await?;
        wait_for(&mut b.events, "chat", |e| {
            matches!(e, ClientEvent::ChatEstablished { .. })
        })
        .await?;
        pairs.push((a, b));
    }
    println!("chat pairs established: {}", pairs.len());

    let started = Instant::now();
    let origin = Instant::now();
    let messages = args.messages;
    let interval = args.interval;
    let mut tasks = Vec::new();
    let mut cross_node = Vec::new();
    for (k, (a, b)) in pairs.into_iter().enumerate() {
        let cross = nodes > 1 && k % 2 == 1;
        for (me, peer) in [
            (a.handle.clone(), b.handle.username().clone()),
            (b.handle.clone(), a.handle.username().clone()),
        ] {
            cross_node.push(false);
            tasks.push(tokio::spawn(async move {
                for n in 0..messages {
                    if !interval.is_zero() {
                        tokio::time::sleep(interval).await;
                    }
                    let ts = origin.elapsed().as_nanos();
                    let text = format!("{}:{n}:{ts}", me.username());
                    if me.send_text(text).await.is_err() {
                        return Err(format!("{} could not send to {peer}", me.username()));
                    }
                }
                Ok(Vec::new())
            }));
        }
        for mut side in [a, b] {
            cross_node.push(cross);
            tasks.push(tokio::spawn(async move {
                let _ = &side.handle;
                receive(&mut side.events, messages, origin).await
            }));
        }
    }
    let mut latencies: Vec<u128> = Vec::new();
    let mut cross_latencies: Vec<u128> = Vec::new();
    let mut problems = 0;
    for (t, cross) in tasks.into_iter().zip(cross_node) {
        match t.await.map_err(|e| e.to_string())? {
            Ok(measured) if cross => cross_latencies.extend(measured),
            Ok(measured) => latencies.extend(measured),
            Err(problem) => {
                problems += 1;
                eprintln!("PROBLEM: {problem}");
            }
        }
    }
    let elapsed = started.elapsed();
    let total = latencies.len() + cross_latencies.len();
    println!(
        "chat messages: {total} in {:.2} s = {:.0} messages/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
    );
    for (what, mut measured) in [("same-node", latencies), ("cross-node", cross_latencies)] {
        if measured.is_empty() {
            continue;
        }
        measured.sort_unstable();
        let pct = |p: f64| -> f64 {
            let i = ((measured.len() as f64 - 1.0) * p).round() as usize;
            measured.get(i).copied().unwrap_or(0) as f64 / 1e6
        };
        println!(
            "{what} messages: {}; relay latency p50 {:.2} ms, p99 {:.2} ms",
            measured.len(),
            pct(0.50),
            pct(0.99)
        );
    }
    if let Some(pid) = args.server_pid
        && let Some(rss) = rss_kib(pid)
    {
        println!("server memory now: {rss} KiB");
    }
    if problems > 0 {
        return Err(format!(
            "{problems} delivery problems (lost, duplicated, misrouted or reordered)"
        ));
    }
    println!("every message arrived exactly once, in order, from its chat peer");
    drop(idle);
    Ok(())
}

/// Receives `expected` messages; returns their latencies (ns), or the first delivery
/// problem.
async fn receive(
    events: &mut UnboundedReceiver<ClientEvent>,
    expected: usize,
    origin: Instant,
) -> Result<Vec<u128>, String> {
    let mut latencies = Vec::with_capacity(expected);
    let mut next = 0usize;
    while next < expected {
        let event = match tokio::time::timeout(Duration::from_secs(60), events.recv()).await {
            Ok(Some(e)) => e,
            _ => return Err(format!("stream ended after {next} of {expected} messages")),
        };
        let ClientEvent::Message { from, text } = event else {
            continue;
        };
        let mut parts = text.split(':');
        let (Some(sender), Some(n), Some(ts)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("malformed message {text:?}"));
        };
        if sender != from.as_str() {
            return Err(format!("misrouted: {text:?} shown as from {from}"));
        }
        if n.parse::<usize>().ok() != Some(next) {
            return Err(format!("expected message {next} from {from}, got {n}"));
        }
        if let Ok(ts) = ts.parse::<u128>() {
            latencies.push(origin.elapsed().as_nanos().saturating_sub(ts));
        }
        next += 1;
    }
    Ok(latencies)
}
