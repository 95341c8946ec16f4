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

mod commands;
mod line;
mod screen;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use securecom_admin::cli::PassphraseSource;
use securecom_host::chat::FileKnownKeys;
use securecom_host::pki::{RevocationFiles, load_server_verifier};
use securecom_proto::handshake::ClientConfig;
use securecom_proto::identity::{Identity, Username};
use securecom_tokio::{Client, ClientOptions};

/// Chat securely through a securecom relay.
#[derive(Parser, Debug)]
#[command(version, about)]
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
    /// Force line mode even on a terminal.
    #[arg(long)]
    line_mode: bool,
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
    if let Err(e) = runtime.block_on(run(args)) {
        fail(&e);
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}

async fn run(args: Args) -> Result<(), String> {
    let username = Username::new(&args.username).map_err(|e| e.to_string())?;
    let identity = load_identity(&args)?;
    let identity_fingerprint = identity.public_key().fingerprint();
    let config = Arc::new(client_config(&args, username, identity)?);
    let callback_listen = args
        .callback_port
        .map(|port| SocketAddr::from(([0, 0, 0, 0], port)));
    let known_keys_path = args.known_keys.clone().unwrap_or_else(|| {
        args.pki_dir
            .join(format!("known-keys-{}.txt", args.username))
    });
    let known_keys = FileKnownKeys::open(&known_keys_path)
        .map_err(|e| format!("{}: {e}", known_keys_path.display()))?;
    let (client, events) = Client::connect(
        args.server.as_str(),
        config,
        ClientOptions {
            callback_listen,
            known_keys: Box::new(known_keys),
            ..ClientOptions::default()
        },
    )
    .await
    .map_err(|e| format!("cannot log in to {}: {e}", args.server))?;
    if let Some(port) = args.callback_port {
        client
            .register_callback(port)
            .await
            .map_err(|e| e.to_string())?;
    }
    let interactive = std::io::stdin().is_terminal() && !args.line_mode;
    if interactive {
        screen::run(client, events, identity_fingerprint, &args.server).await
    } else {
        line::run(client, events, identity_fingerprint).await
    }
}

fn client_config(
    args: &Args,
    username: Username,
    identity: Identity,
) -> Result<ClientConfig, String> {
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
    let verifier = load_server_verifier(&ca_path, &revocation).map_err(|e| e.to_string())?;
    Ok(ClientConfig::new(
        verifier,
        &args.server_name,
        username,
        identity,
    ))
}

fn load_identity(args: &Args) -> Result<Identity, String> {
    let path = args.key.clone().unwrap_or_else(|| {
        args.pki_dir
            .join("keys")
            .join(format!("{}.key", args.username))
    });
    let source =
        PassphraseSource::from_options(args.passphrase_file.clone(), args.passphrase_env.clone())?;
    // The prompt is the terminal's, without echo; the library only calls it.
    securecom_admin::cli::load_identity(&path, source.as_ref(), |p| rpassword::prompt_password(p))
        .map_err(|e| e.to_string())
}
