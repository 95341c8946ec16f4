//! # securecom-admin
//!
//! Key management for a securecom deployment: a CA of your own, server certificates,
//! CRLs, user keys and the server's user directory, and the development PKI that the
//! example server creates on first run.
//!
//! Everything here is Ed25519 and reads and writes the PEM files of the OpenSSL command
//! line, so the two can be mixed: a CA made here can sign with `openssl ca`, a CRL made
//! by `openssl ca -gencrl` can be extended with [`revoke`]. `docs/KEY-MANAGEMENT.md`
//! shows both ways step by step.
//!
//! | step | function |
//! |---|---|
//! | create a CA | [`create_ca`] |
//! | issue the server's certificate | [`issue_server_certificate`] |
//! | publish an empty CRL | [`create_crl`] |
//! | revoke a certificate | [`revoke`] (with [`certificate_serial`] to name it by file) |
//! | re-sign the CRL before its nextUpdate | [`renew_crl`] |
//! | create a user's key pair | [`create_user`] |
//! | register a user's public key with the server | [`register_user`] |
//! | all of it for development, on first run | [`DevPki::ensure`] |
//! | create the key the nodes of a relay cluster share | [`create_cluster_key`] |
//!
//! The [`cli`] module is the command line over these functions (`examples/keytool.rs`
//! parses its arguments into a [`cli::Command`] and calls [`cli::run`]) and what the
//! programs share to get a key's passphrase from a file, an environment variable or a
//! prompt they supply. It uses the library; nothing in the library uses it.
//!
//! ```
//! use std::time::SystemTime;
//! use securecom_admin::{Validity, add_days, create_ca, create_crl, issue_server_certificate};
//! use securecom_host::time::UnixTimeExt;
//! use securecom_proto::pki::{ServerCertVerifier, certificates_from_pem};
//! use securecom_proto::time::UnixTime;
//!
//! let (ca_key, ca_pem) = create_ca("Example chat CA", Validity::days_from_now(3650)?)?;
//! let names = ["localhost".parse()?];
//! let (_server_key, server_pem) =
//!     issue_server_certificate(&ca_key, &ca_pem, &names, Validity::days_from_now(398)?)?;
//! let now = SystemTime::now();
//! let crl_pem = create_crl(&ca_key, &ca_pem, &[], now, add_days(now, 30)?)?;
//!
//! // What a client checks:
//! let verifier = ServerCertVerifier::from_pem(&ca_pem, Some(&crl_pem))?;
//! let chain = certificates_from_pem(&server_pem)?;
//! let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
//! verifier.verify_server(&chain, "localhost", UnixTime::now())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
// Files handed to these functions may be hostile: no panics outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod ca;
mod cert;
pub mod cli;
mod cluster_key;
mod crl;
mod dev_pki;
mod error;
mod files;
mod names;
mod random;
mod reload;
mod serial;
mod signer;
mod users;
mod validity;

pub use ca::{create_ca, issue_server_certificate};
pub use cert::certificate_serial;
pub use cluster_key::{CLUSTER_KEY_LEN, create_cluster_key};
pub use crl::{create_crl, renew_crl, revoke, revoked_serials};
pub use dev_pki::{DEV_PKI_FOLDER, DEV_SERVER_NAMES, DEV_USERS, DevPki, DevUser};
pub use error::AdminError;
pub use files::{MAX_PEM_FILE_LEN, read_pem_file, replace_file, write_new_file};
pub use names::ServerName;
pub use reload::signal_reload;
pub use serial::SerialNumber;
pub use users::{create_user, register_user};
pub use validity::{BACKDATE, Validity, add_days};
