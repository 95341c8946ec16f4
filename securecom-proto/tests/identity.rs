//! Integration tests of `securecom_proto::identity`: OpenSSL-made key files, the `openssl`
//! command line reading what we write, the folder-backed user directory, and properties.

#[path = "identity/support.rs"]
mod support;

#[path = "identity/directory.rs"]
mod directory;
#[path = "identity/encrypted.rs"]
mod encrypted;
#[path = "identity/fixtures.rs"]
mod fixtures;
#[path = "identity/openssl_cli.rs"]
mod openssl_cli;
#[path = "identity/properties.rs"]
mod properties;
