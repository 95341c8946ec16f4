//! The steady path of an established session allocates nothing: `send`, writing the output
//! out (`consume_output`), `push_input` and `next_record`, once the buffers have grown to
//! their working size.
//!
//! Counted with `allocation-counter`, whose global allocator counts per thread (so tests
//! running in parallel do not disturb each other). It lives in its own test binary because
//! it replaces the global allocator of whatever links it.

use std::sync::Arc;

use securecom_proto::handshake::{
    ClientConfig, ClientHandshake, ClientProgress, ServerConfig, ServerHandshake, ServerProgress,
};
use securecom_proto::identity::{Identity, MemoryDirectory, Username};
use securecom_proto::pki::{ServerCertVerifier, ServerCredentials, certificates_from_pem};
use securecom_proto::session::{Channel, Incoming, Session};
use securecom_proto::time::{Instant, UnixTime};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/pki/",
            $name
        ))
    };
}

fn session_pair() -> (Session, Session) {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let alice = Identity::from_pkcs8_pem(fixture!("users/alice.key")).unwrap();
    let username = Username::new("alice").unwrap();
    let mut directory = MemoryDirectory::new();
    directory.insert(username.clone(), alice.public_key());
    let credentials = ServerCredentials::new(
        certificates_from_pem(fixture!("server.pem")).unwrap(),
        Identity::from_pkcs8_pem(fixture!("server.key")).unwrap(),
    )
    .unwrap();
    let server_config = Arc::new(ServerConfig::new(credentials, Arc::new(directory)));
    let verifier = ServerCertVerifier::from_pem(fixture!("ca.pem"), Some(fixture!("crl.pem")));
    let client_config = Arc::new(ClientConfig::new(
        verifier.unwrap(),
        "localhost",
        username,
        alice,
    ));
    let t0 = Instant::ZERO;
    let valid = UnixTime::from_secs(1_768_435_200);

    let mut client = ClientHandshake::start(client_config, &mut rng, t0, valid);
    let server = ServerHandshake::new(server_config, &mut rng, t0);
    let Ok(ServerProgress::Continue(mut server)) = server.handle_input(t0, client.output()) else {
        panic!("server hello")
    };
    client.consume_output(usize::MAX);
    let Ok(ClientProgress::Continue(mut client)) = client.handle_input(t0, server.output()) else {
        panic!("server flight")
    };
    server.consume_output(usize::MAX);
    let Ok(ServerProgress::Authenticated { client: auth, .. }) =
        server.handle_input(t0, client.output())
    else {
        panic!("client flight")
    };
    client.consume_output(usize::MAX);
    let mut server = auth.accept(1);
    let Ok(ClientProgress::Established {
        session: client, ..
    }) = client.handle_input(t0, server.output())
    else {
        panic!("welcome")
    };
    server.consume_output(usize::MAX);
    (client, server)
}

/// One record from `from` to `to`: the steady path, as a driver runs it.
fn one_record(from: &mut Session, to: &mut Session, channel: Channel, payload: &[u8]) {
    from.send(channel, payload).unwrap();
    let took = to.push_input(from.output());
    from.consume_output(took);
    match to.next_record().unwrap() {
        Some(Incoming::Data { payload: got, .. }) => assert_eq!(got.len(), payload.len()),
        other => panic!("expected data, got {other:?}"),
    }
    assert!(!from.wants_write());
}

fn assert_steady_path_allocates_nothing(size: usize) {
    let (mut client, mut server) = session_pair();
    let payload = vec![0x5a; size];
    // Warm-up: the output and input buffers grow to hold one record of this size.
    for channel in [Channel::Standard, Channel::Request] {
        for _ in 0..3 {
            one_record(&mut client, &mut server, channel, &payload);
            one_record(&mut server, &mut client, channel, &payload);
        }
    }
    let info = allocation_counter::measure(|| {
        for _ in 0..100 {
            for channel in [Channel::Standard, Channel::Request] {
                one_record(&mut client, &mut server, channel, &payload);
                one_record(&mut server, &mut client, channel, &payload);
            }
        }
    });
    assert_eq!(
        info.count_total, 0,
        "{size}-byte records allocated on the steady path: {info:?}"
    );
}

#[test]
fn small_records_allocate_nothing() {
    assert_steady_path_allocates_nothing(64);
}

#[test]
fn one_kib_records_allocate_nothing() {
    assert_steady_path_allocates_nothing(1024);
}

#[test]
fn maximal_records_allocate_nothing() {
    assert_steady_path_allocates_nothing(securecom_proto::codec::MAX_PLAINTEXT_LEN);
}

/// The counter itself works here (a test that can only pass would prove nothing).
#[test]
fn the_counter_sees_allocations() {
    let info = allocation_counter::measure(|| {
        std::hint::black_box(vec![1u8; 100]);
    });
    assert_eq!(info.count_total, 1);
}
