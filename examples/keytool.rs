//! keytool: key management for securecom deployments.
//!
//! ```text
//! cargo run --example keytool -- init-ca --dir ca --name "Example chat CA"
//! cargo run --example keytool -- issue-server --ca-dir ca --name chat.example.com
//! cargo run --example keytool -- new-user alice --passphrase-env ALICE_PASSPHRASE
//! cargo run --example keytool -- register alice alice.pem --users server/users
//! cargo run --example keytool -- revoke server.pem --ca-dir ca
//! cargo run --example keytool -- renew-crl --ca-dir ca
//! cargo run --example keytool -- dev-pki
//! cargo run --example keytool -- cluster-key --out cluster.key
//! ```
//!
//! `--help` on any subcommand lists its options; docs/KEY-MANAGEMENT.md walks through a
//! deployment. The work is done by `securecom_admin::cli::run`; this file only parses the
//! arguments. Exit codes: 0 success, 1 the operation failed, 2 the command line is wrong.

#[path = "keytool/args.rs"]
mod args;

use std::process::ExitCode;

use clap::Parser;
use securecom_admin::cli::{EXIT_OK, run};

fn main() -> ExitCode {
    let command = match args::Cli::parse().into_command() {
        Ok(command) => command,
        Err(error) => {
            eprintln!("keytool: {error}");
            return ExitCode::from(error.exit_code());
        }
    };
    let mut stdout = std::io::stdout().lock();
    match run(&command, &mut stdout) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(error) => {
            match error.hint() {
                Some(hint) => eprintln!("keytool: error: {error}; {hint}"),
                None => eprintln!("keytool: error: {error}"),
            }
            ExitCode::from(error.exit_code())
        }
    }
}
