//! The securecom chat client.
//!
//! ```text
//! cargo run --example client -- alice              # with the development PKI
//! cargo run --example client -- alice --server 10.0.0.5:4433 --server-name chat.example.org \
//!     --ca ca.pem --crl crl.pem --key alice.key
//! ```
//!
//! In a terminal it shows a chat screen; when stdin is not a terminal it reads one command
//! per line and prints one event per line (see `securecom_console`), for scripts and tests.
//!
//! When the connection to the server is lost the client says why, logs in again with
//! growing, jittered waits (`securecom_host::reconnect`), and reports that the chat open
//! before has ended; the chat screen stays up meanwhile, counting down to the next
//! attempt, and Ctrl-C or `/quit` stops it. `--no-reconnect` turns reconnecting off. Exit status: 0 after `/quit` (or the
//! end of input in line mode), 1 with a one-line reason on stderr after any error,
//! including giving up reconnecting.

mod commands;
mod crl_update;
mod line;
mod screen;
mod session;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::Parser;
use securecom_admin::cli::PassphraseSource;
use securecom_host::chat::FileBlockList;
use securecom_host::pki::{RevocationFiles, load_server_verifier};
use securecom_host::reconnect::BackoffPolicy;
use securecom_proto::handshake::ClientConfig;
use securecom_proto::identity::{Identity, Username};

use crate::crl_update::CrlUpdates;
use crate::session::Connector;

/// The securecom chat client: log in to a securecom relay server and chat with another
/// user, end-to-end encrypted.
///
/// It logs in as USERNAME with your private key, after checking the server's certificate
/// against your CA and its CRL, and lists who is online; `/chat NAME` asks a user to chat,
/// `/accept` or `/deny` answers, and each side sees the other's key fingerprint and a
/// safety number to compare out of band. In a terminal it shows a chat screen; with stdin
/// not a terminal (or --line-mode) it reads one command per line and prints one event per
/// line, for scripts. A lost connection is retried unless --no-reconnect. Exit status: 0
/// after /quit, 1 with a one-line reason on stderr after any error.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Your username.
    username: String,
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:4433")]
    server: String,
    /// The name the server's certificate must carry (DNS name or IP address).
    #[arg(long, default_value = "localhost")]
    server_name: String,
    /// The development PKI folder the server created (used for defaults below).
    #[arg(long, default_value = "securecom-dev")]
    pki_dir: PathBuf,
    /// The CA certificate to trust [default: PKI_DIR/ca.pem].
    #[arg(long)]
    ca: Option<PathBuf>,
    /// The CA's CRL; repeat for the CRLs of intermediate CAs [default: PKI_DIR/crl.pem].
    #[arg(long)]
    crl: Vec<PathBuf>,
    /// DANGEROUS: do not check revocation (no CRL).
    #[arg(long, conflicts_with = "crl")]
    no_revocation_check: bool,
    /// Your private key (PKCS#8 PEM, possibly passphrase-protected) [default: PKI_DIR/keys/USERNAME.key].
    #[arg(long)]
    key: Option<PathBuf>,
    /// Read the key's passphrase from this file (first line).
    #[arg(long, conflicts_with = "passphrase_env")]
    passphrase_file: Option<PathBuf>,
    /// Read the key's passphrase from this environment variable.
    #[arg(long)]
    passphrase_env: Option<String>,
    /// Receive server messages over a connection the server opens to this port
    /// (the original design's daemon; 4242 in the original).
    #[arg(long)]
    callback_port: Option<u16>,
    /// Where the keys seen per user are remembered [default: PKI_DIR/known-keys-USERNAME.txt].
    #[arg(long)]
    known_keys: Option<PathBuf>,
    /// Where the users blocked with /block are kept [default: PKI_DIR/blocked-USERNAME.txt].
    #[arg(long)]
    blocked: Option<PathBuf>,
    /// Force line mode even on a terminal.
    #[arg(long)]
    line_mode: bool,
    /// Exit (with status 1) when the connection to the server is lost, instead of logging
    /// in again with growing waits (about 1 s doubling to 30 s, at most 10 attempts in 5
    /// minutes).
    #[arg(long)]
    no_reconnect: bool,
}

fn main() {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => fail(&format!("cannot start the runtime: {e}")),
    };
    let result = runtime.block_on(run(args));
    // The driver tasks may still wait on sockets; they are not waited for.
    runtime.shutdown_background();
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) => fail(&e),
    }
}

/// Ends the program with status 1 and the reason on one line of stderr.
fn fail(message: &str) -> ! {
    eprintln!("error: {}", message.replace('\n', " "));
    std::process::exit(1);
}

async fn run(args: Args) -> Result<(), String> {
    let username = Username::new(&args.username).map_err(|e| format!("username: {e}"))?;
    let identity = load_identity(&args)?;
    let identity_fingerprint = identity.public_key().fingerprint();
    let (config, crl_files) = client_config(&args, username, identity)?;
    let blocked_path = args
        .blocked
        .clone()
        .unwrap_or_else(|| args.pki_dir.join(format!("blocked-{}.txt", args.username)));
    let blocked = FileBlockList::open(&blocked_path)
        .map_err(|e| format!("block list {}: {e}", blocked_path.display()))?;
    let connector = Connector {
        server: args.server.clone(),
        config: CrlUpdates::new(config, &crl_files),
        callback_port: args.callback_port,
        known_keys: args.known_keys.clone().unwrap_or_else(|| {
            args.pki_dir
                .join(format!("known-keys-{}.txt", args.username))
        }),
        blocked: Arc::new(Mutex::new(blocked)),
    };
    let first = connector
        .connect()
        .await
        .map_err(|e| format!("cannot log in to {}: {e}", args.server))?;
    let reconnecting = (!args.no_reconnect).then(BackoffPolicy::default);
    let interactive = std::io::stdin().is_terminal() && !args.line_mode;
    if interactive {
        screen::run(&connector, first, identity_fingerprint, reconnecting).await
    } else {
        line::run(&connector, first, identity_fingerprint, reconnecting).await
    }
}

/// The configuration, and the CRL files it was loaded with.
fn client_config(
    args: &Args,
    username: Username,
    identity: Identity,
) -> Result<(ClientConfig, Vec<PathBuf>), String> {
    let ca_path = args
        .ca
        .clone()
        .unwrap_or_else(|| args.pki_dir.join("ca.pem"));
    let revocation = if args.no_revocation_check {
        eprintln!("warning: revocation checking is disabled (--no-revocation-check)");
        RevocationFiles::DangerousNoRevocationCheck
    } else if args.crl.is_empty() {
        RevocationFiles::CheckCrls(vec![args.pki_dir.join("crl.pem")])
    } else {
        RevocationFiles::CheckCrls(args.crl.clone())
    };
    let verifier = load_server_verifier(&ca_path, &revocation)
        .map_err(|e| format!("the server's CA or CRL (--ca, --crl, --pki-dir): {e}"))?;
    let crl_files = match revocation {
        RevocationFiles::CheckCrls(files) => files,
        _ => Vec::new(),
    };
    let config = ClientConfig::new(verifier, &args.server_name, username, identity);
    Ok((config, crl_files))
}

fn load_identity(args: &Args) -> Result<Identity, String> {
    let path = args.key.clone().unwrap_or_else(|| {
        args.pki_dir
            .join("keys")
            .join(format!("{}.key", args.username))
    });
    let source =
        PassphraseSource::from_options(args.passphrase_file.clone(), args.passphrase_env.clone())?;
    // The prompt is the terminal's, without echo; the library only calls it. Without a
    // terminal on stdin (a script drives the client) nobody could answer it.
    let prompt = |p: &str| {
        if std::io::stdin().is_terminal() {
            rpassword::prompt_password(p)
        } else {
            Err(std::io::Error::other("stdin is not a terminal"))
        }
    };
    securecom_admin::cli::load_identity(&path, source.as_ref(), prompt)
        .map_err(|e| format!("your private key (--key, --pki-dir): {e}"))
}
