//! What both benchmarks share: the fixture PKI, and connected securecom, rustls and snow
//! pairs built from it. Everything runs in memory; nothing here is timed.

#![allow(dead_code, reason = "each benchmark uses part of the support")]
#![allow(missing_docs, reason = "benchmark support")]

pub(crate) mod floor;

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use securecom::proto::handshake::{
    ClientConfig, ClientHandshake, ClientProgress, ServerConfig, ServerHandshake, ServerProgress,
};
use securecom::proto::identity::{Identity, MemoryDirectory, Username};
use securecom::proto::pki::{
    ServerCertVerifier, ServerCredentials, certificates_from_pem, crls_from_pem,
};
use securecom::proto::session::Session;
use securecom::proto::time::Instant;

// The fixture PKI, as the core's test kit loads it (the hidden `fuzzing` module, which the
// dev-dependency turns on for benchmark builds). CLIENT_CERT / CLIENT_KEY: the leaf for
// client authentication (EKU clientAuth), used as rustls's client; CRL_LONG: the root's CRL
// with a nextUpdate far ahead, valid on the real clock.
#[allow(unused_imports, reason = "each benchmark uses part of the support")]
pub(crate) use securecom::proto::fuzzing::fixtures::{
    ALICE_KEY, BOB_KEY, CA, CLIENT_AUTH_CERT as CLIENT_CERT, CLIENT_AUTH_KEY as CLIENT_KEY, CRL,
    CRL_LONG, SERVER_CHAIN, SERVER_KEY, VALID_TIME,
};

/// The operating system's RNG, as a real deployment would use.
pub(crate) type SysRng = rand_core::UnwrapErr<getrandom::SysRng>;

pub(crate) fn sys_rng() -> SysRng {
    rand_core::UnwrapErr(getrandom::SysRng)
}

// ---------------------------------------------------------------------------------------
// securecom
// ---------------------------------------------------------------------------------------

pub(crate) struct Securecom {
    pub(crate) server: Arc<ServerConfig>,
    pub(crate) client: Arc<ClientConfig>,
}

impl Securecom {
    /// One fixture chain (leaf signed by the root), the root's CRL checked, alice as the
    /// registered user. The server carries its CA's CRL in its flight, as the example
    /// server does by default, and the client holds the same one (the steady state).
    pub(crate) fn new() -> Self {
        let chain = certificates_from_pem(SERVER_CHAIN).unwrap();
        let server_key = Identity::from_pkcs8_pem(SERVER_KEY).unwrap();
        let alice = Identity::from_pkcs8_pem(ALICE_KEY).unwrap();
        let username = Username::new("alice").unwrap();
        let mut directory = MemoryDirectory::new();
        directory.insert(username.clone(), alice.public_key());
        let credentials = ServerCredentials::new(chain, server_key).unwrap();
        let verifier = ServerCertVerifier::from_pem(CA, Some(CRL)).unwrap();
        Securecom {
            server: Arc::new(
                ServerConfig::new(credentials, Arc::new(directory))
                    .with_crl_in_flight(crls_from_pem(CRL).unwrap().remove(0))
                    .unwrap(),
            ),
            client: Arc::new(ClientConfig::new(verifier, "localhost", username, alice)),
        }
    }

    /// A complete handshake, both sides, in memory: the four flights, then the sessions.
    pub(crate) fn handshake(&self, rng: &mut SysRng) -> (Session, Session) {
        self.handshake_marked(rng, || {})
    }

    /// The same, calling `mark` before the first step and after each of the five (both
    /// start, server flight, client flight, server accepts, client established): the
    /// phases `handshake_phases` times.
    pub(crate) fn handshake_marked(
        &self,
        rng: &mut SysRng,
        mut mark: impl FnMut(),
    ) -> (Session, Session) {
        let t0 = Instant::ZERO;
        mark();
        let mut client = ClientHandshake::start(Arc::clone(&self.client), rng, t0, VALID_TIME);
        let server = ServerHandshake::new(Arc::clone(&self.server), rng, t0);
        mark();
        let ServerProgress::Continue(mut server) =
            server.handle_input(t0, client.output()).unwrap()
        else {
            unreachable!()
        };
        client.consume_output(usize::MAX);
        mark();
        let ClientProgress::Continue(mut client) =
            client.handle_input(t0, server.output()).unwrap()
        else {
            unreachable!()
        };
        server.consume_output(usize::MAX);
        mark();
        let ServerProgress::Authenticated { client: auth, .. } =
            server.handle_input(t0, client.output()).unwrap()
        else {
            unreachable!()
        };
        client.consume_output(usize::MAX);
        let mut server = auth.accept(7);
        mark();
        let ClientProgress::Established {
            session: client, ..
        } = client.handle_input(t0, server.output()).unwrap()
        else {
            unreachable!()
        };
        server.consume_output(usize::MAX);
        mark();
        (client, server)
    }
}

// ---------------------------------------------------------------------------------------
// rustls
// ---------------------------------------------------------------------------------------

/// TLS 1.3 only, X25519 only, AES-256-GCM-SHA384 only (the AEAD our records use), ring.
fn rustls_provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.kx_groups = vec![rustls::crypto::ring::kx_group::X25519];
    provider.cipher_suites = vec![rustls::crypto::ring::cipher_suite::TLS13_AES_256_GCM_SHA384];
    Arc::new(provider)
}

pub(crate) struct Rustls {
    pub(crate) client: Arc<rustls::ClientConfig>,
    pub(crate) server: Arc<rustls::ServerConfig>,
}

impl Rustls {
    /// Mutual authentication with the same Ed25519 fixtures: the server presents
    /// `server.pem`, the client `client-auth-only.pem`, both checked against the root and
    /// its CRL. No resumption, no tickets: every handshake is a full one.
    pub(crate) fn new() -> Self {
        Rustls::build(true)
    }

    /// The same without revocation checks, for reference.
    pub(crate) fn without_crls() -> Self {
        Rustls::build(false)
    }

    fn build(check_crls: bool) -> Self {
        let provider = rustls_provider();
        let certs = |pem: &str| -> Vec<CertificateDer<'static>> {
            CertificateDer::pem_slice_iter(pem.as_bytes())
                .map(Result::unwrap)
                .collect()
        };
        let key = |pem: &str| PrivateKeyDer::from_pem_slice(pem.as_bytes()).unwrap();
        let crls: Vec<CertificateRevocationListDer<'static>> = if check_crls {
            CertificateRevocationListDer::pem_slice_iter(CRL.as_bytes())
                .map(Result::unwrap)
                .collect()
        } else {
            Vec::new()
        };
        let mut roots = rustls::RootCertStore::empty();
        for ca in certs(CA) {
            roots.add(ca).unwrap();
        }
        let roots = Arc::new(roots);

        let client_verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::clone(&roots),
            Arc::clone(&provider),
        )
        .with_crls(crls.clone())
        .build()
        .unwrap();
        let mut server = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_client_cert_verifier(client_verifier)
            .with_single_cert(certs(SERVER_CHAIN), key(SERVER_KEY))
            .unwrap();
        server.send_tls13_tickets = 0;
        server.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});

        let server_verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            roots,
            Arc::clone(&provider),
        )
        .with_crls(crls)
        .build()
        .unwrap();
        let mut client = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_webpki_verifier(server_verifier)
            .with_client_auth_cert(certs(CLIENT_CERT), key(CLIENT_KEY))
            .unwrap();
        client.resumption = rustls::client::Resumption::disabled();
        Rustls {
            client: Arc::new(client),
            server: Arc::new(server),
        }
    }

    /// A complete handshake, both sides, in memory.
    pub(crate) fn handshake(&self) -> (rustls::ClientConnection, rustls::ServerConnection) {
        let mut client = rustls::ClientConnection::new(
            Arc::clone(&self.client),
            "localhost".try_into().unwrap(),
        )
        .unwrap();
        let mut server = rustls::ServerConnection::new(Arc::clone(&self.server)).unwrap();
        let mut buf = Vec::with_capacity(8192);
        while client.is_handshaking() || server.is_handshaking() {
            rustls_transfer(&mut client, &mut server, &mut buf);
            rustls_transfer(&mut server, &mut client, &mut buf);
        }
        (client, server)
    }
}

/// Moves everything `from` wants to write into `to`, and lets `to` process it.
pub(crate) fn rustls_transfer<A, B, DA, DB>(from: &mut A, to: &mut B, buf: &mut Vec<u8>)
where
    A: std::ops::DerefMut<Target = rustls::ConnectionCommon<DA>>,
    B: std::ops::DerefMut<Target = rustls::ConnectionCommon<DB>>,
    DA: rustls::SideData,
    DB: rustls::SideData,
{
    buf.clear();
    while from.wants_write() {
        from.write_tls(buf).unwrap();
    }
    let mut rest = buf.as_slice();
    while !rest.is_empty() {
        to.read_tls(&mut rest).unwrap();
        to.process_new_packets().unwrap();
    }
}

/// Sends `payload` as application data from `from` to `to` and reads it back out.
pub(crate) fn rustls_record<A, B, DA, DB>(
    from: &mut A,
    to: &mut B,
    payload: &[u8],
    wire: &mut Vec<u8>,
    out: &mut [u8],
) -> usize
where
    A: std::ops::DerefMut<Target = rustls::ConnectionCommon<DA>>,
    B: std::ops::DerefMut<Target = rustls::ConnectionCommon<DB>>,
    DA: rustls::SideData,
    DB: rustls::SideData,
{
    from.writer().write_all(payload).unwrap();
    rustls_transfer(from, to, wire);
    let mut read = 0;
    while read < payload.len() {
        read += to.reader().read(&mut out[read..]).unwrap();
    }
    read
}

// ---------------------------------------------------------------------------------------
// snow
// ---------------------------------------------------------------------------------------

pub(crate) const NOISE_PARAMS: &str = "Noise_XX_25519_AESGCM_SHA256";

pub(crate) struct Snow {
    pub(crate) initiator_key: Vec<u8>,
    pub(crate) responder_key: Vec<u8>,
}

impl Snow {
    /// Static keys made once; every handshake makes fresh ephemerals.
    pub(crate) fn new() -> Self {
        let builder = snow::Builder::new(NOISE_PARAMS.parse().unwrap());
        let initiator_key = builder.generate_keypair().unwrap().private;
        let builder = snow::Builder::new(NOISE_PARAMS.parse().unwrap());
        let responder_key = builder.generate_keypair().unwrap().private;
        Snow {
            initiator_key,
            responder_key,
        }
    }

    /// The three XX messages, both sides, then transport mode.
    pub(crate) fn handshake(&self) -> (snow::TransportState, snow::TransportState) {
        let params = || NOISE_PARAMS.parse().unwrap();
        let mut initiator = snow::Builder::new(params())
            .local_private_key(&self.initiator_key)
            .unwrap()
            .build_initiator()
            .unwrap();
        let mut responder = snow::Builder::new(params())
            .local_private_key(&self.responder_key)
            .unwrap()
            .build_responder()
            .unwrap();
        let mut msg = [0u8; 1024];
        let mut payload = [0u8; 1024];
        // -> e
        let n = initiator.write_message(&[], &mut msg).unwrap();
        responder.read_message(&msg[..n], &mut payload).unwrap();
        // <- e, ee, s, es
        let n = responder.write_message(&[], &mut msg).unwrap();
        initiator.read_message(&msg[..n], &mut payload).unwrap();
        // -> s, se
        let n = initiator.write_message(&[], &mut msg).unwrap();
        responder.read_message(&msg[..n], &mut payload).unwrap();
        (
            initiator.into_transport_mode().unwrap(),
            responder.into_transport_mode().unwrap(),
        )
    }
}
