//! The CA's CRL carried in the server's handshake (issue 13 item 3), through the real
//! programs over TCP: a client holding an older CRL logs in, is told the server delivered
//! a newer one, and finds it saved over its CRL file; the next login has nothing newer.

use super::program::{Program, example, scratch};

fn keytool(args: &[&str]) {
    let out = std::process::Command::new(example("keytool"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "keytool {args:?}: {out:?}");
}

fn crl_number(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let der = securecom_proto::pki::crls_from_pem(&text)
        .unwrap()
        .remove(0);
    let verifier = securecom_proto::pki::ServerCertVerifier::new(
        securecom_proto::pki::certificates_from_pem(
            &std::fs::read_to_string(path.with_file_name("ca.pem")).unwrap(),
        )
        .unwrap()
        .remove(0),
        securecom_proto::pki::RevocationPolicy::CheckCrls(vec![der]),
    )
    .unwrap();
    verifier.anchor_crl_number().unwrap().to_string()
}

#[test]
fn a_login_saves_the_newer_crl_the_server_delivered() {
    let dir = scratch("crl-in-flight");
    let pki = dir.to_str().unwrap().to_owned();
    keytool(&["dev-pki", &pki]);
    // The client was handed the CA and its CRL as they were then.
    let client_dir = dir.join("client");
    std::fs::create_dir_all(&client_dir).unwrap();
    let client_crl = client_dir.join("crl.pem");
    std::fs::copy(dir.join("ca.pem"), client_dir.join("ca.pem")).unwrap();
    std::fs::copy(dir.join("crl.pem"), &client_crl).unwrap();
    let held = crl_number(&client_crl);
    // The CA renews its CRL; the server (development PKI) carries the new one.
    keytool(&["renew-crl", "--ca-dir", &pki]);
    let served = std::fs::read_to_string(dir.join("crl.pem")).unwrap();
    let (server, addr) = Program::server(&pki, "127.0.0.1:0");
    let newer = crl_number(&dir.join("crl.pem"));
    assert_ne!(held, newer);

    let crl_arg = client_crl.to_str().unwrap().to_owned();
    let ca_arg = client_dir.join("ca.pem").to_str().unwrap().to_owned();
    let extra = ["--ca", &ca_arg, "--crl", &crl_arg, "--no-reconnect"];
    let mut alice = Program::client("alice", &addr, &pki, &extra);
    alice.expect("online alice");
    alice.send("/quit");
    let (status, stderr) = alice.exit();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the server delivered a newer CRL (number {newer}, valid until "
        )) && stderr.contains(&format!("saved to {crl_arg}")),
        "{stderr}"
    );
    // The file on disk is the CRL the server served, byte for byte once decoded, with
    // mode 0600 and no temporary file beside it.
    let saved = std::fs::read_to_string(&client_crl).unwrap();
    assert_eq!(
        securecom_proto::pki::crls_from_pem(&saved).unwrap(),
        securecom_proto::pki::crls_from_pem(&served).unwrap()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&client_crl).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let mut names: Vec<_> = std::fs::read_dir(&client_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["ca.pem", "crl.pem"]);

    // The next login holds it already: nothing newer, nothing said.
    let mut again = Program::client("alice", &addr, &pki, &extra);
    again.expect("online alice");
    again.send("/quit");
    let (status, stderr) = again.exit();
    assert!(status.success(), "{stderr}");
    assert!(!stderr.contains("newer CRL"), "{stderr}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
