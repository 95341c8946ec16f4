//! Integration tests of `securecom_admin`: what we make verifies with the client's
//! verifier and with `openssl verify -crl_check`; revocation takes effect; hostile or
//! mismatched inputs are typed errors; the development PKI is idempotent.

#[path = "admin/support.rs"]
mod support;

#[path = "admin/certificates.rs"]
mod certificates;
#[path = "admin/dev_pki.rs"]
mod dev_pki;
#[path = "admin/openssl_cli.rs"]
mod openssl_cli;
#[path = "admin/users.rs"]
mod users;
