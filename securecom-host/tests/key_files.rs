//! Integration tests of `securecom_host::identity`: the key files OpenSSL wrote, read from
//! disk; the `openssl` command line reading the files we write; passphrase-protected key
//! files; the folder-backed user directory.

#[path = "key_files/support.rs"]
mod support;

#[path = "key_files/directory.rs"]
mod directory;
#[path = "key_files/encrypted.rs"]
mod encrypted;
#[path = "key_files/fixtures.rs"]
mod fixtures;
#[path = "key_files/openssl_cli.rs"]
mod openssl_cli;
