//! The callback request channel (seed section 2.2): the server connects to the client's
//! daemon and proves, with a token bound to the session, that it is the server of this
//! session.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use super::*;
use crate::client::CallbackConnection;
use crate::relay::RelayEvent;

/// Each user's attached callback connection: the daemon's side.
type Daemons = BTreeMap<String, CallbackConnection>;

/// Registers a callback for `user`; returns the hello the relay asks the driver to send.
fn register(sim: &mut World, user: &str) -> Vec<u8> {
    sim.act(user, |c, now, rng| c.register_callback(now, 4242, rng))
        .unwrap();
    let conn = sim.conn(user);
    sim.relay_events
        .iter()
        .rev()
        .find_map(|e| match e {
            RelayEvent::CallbackRequested {
                connection,
                port: 4242,
                hello,
            } if *connection == conn => Some(hello.clone()),
            _ => None,
        })
        .expect("the relay asked for a callback connection")
}

fn present(
    sim: &mut World,
    daemons: &mut Daemons,
    user: &str,
    bytes: &[u8],
) -> Result<(), ClientError> {
    let now = sim.now;
    let mut connection = CallbackConnection::new();
    let r = sim
        .client(user)
        .handle_callback_input(now, &mut connection, bytes);
    if connection.is_attached() {
        daemons.insert(String::from(user), connection);
    }
    r
}

/// Delivers what the relay queued for `user`'s callback connection.
fn flush_callback(sim: &mut World, daemons: &mut Daemons, user: &str) -> usize {
    let conn = sim.conn(user);
    let out = sim.relay.callback_output(conn).to_vec();
    sim.relay.consume_callback_output(conn, out.len());
    let now = sim.now;
    let mut connection = daemons.remove(user).unwrap();
    sim.client(user)
        .handle_callback_input(now, &mut connection, &out)
        .unwrap();
    daemons.insert(String::from(user), connection);
    out.len()
}

/// `user` accepts the request it was shown; the chat handshake runs with `user`'s notices
/// over its callback connection.
fn accept_over_callback(sim: &mut World, daemons: &mut Daemons, user: &str) {
    sim.act(user, |c, now, rng| c.accept(now, rng)).unwrap();
    flush_callback(sim, daemons, user);
    sim.pump();
}

/// `from` says `text` to `to`, who is shown exactly that over its callback connection.
fn assert_text_over_callback(
    sim: &mut World,
    daemons: &mut Daemons,
    (from, to): (&str, &str),
    text: &str,
) {
    sim.say(from, text);
    flush_callback(sim, daemons, to);
    assert_eq!(
        World::messages(&sim.events(to)),
        [(from.into(), text.into())]
    );
}

#[test]
fn genuine_callback_token_works_once_and_carries_the_request_channel() {
    let mut sim = World::with_users(&["alice", "bob"]);
    let mut daemons = Daemons::new();
    let hello = register(&mut sim, "alice");
    present(&mut sim, &mut daemons, "alice", &hello).unwrap();
    assert!(sim.events("alice").contains(&ClientEvent::CallbackAttached));

    // Bob's request now reaches Alice over the callback connection only.
    sim.act("bob", |c, now, rng| {
        c.request_chat(now, &name("alice"), rng)
    })
    .unwrap();
    assert!(
        !sim.events("alice")
            .iter()
            .any(|e| matches!(e, ClientEvent::IncomingRequest { .. }))
    );
    assert!(flush_callback(&mut sim, &mut daemons, "alice") > 0);
    assert!(
        sim.events("alice")
            .iter()
            .any(|e| matches!(e, ClientEvent::IncomingRequest { .. }))
    );
    // The chat works with notices over the callback connection.
    accept_over_callback(&mut sim, &mut daemons, "alice");
    assert_text_over_callback(&mut sim, &mut daemons, ("bob", "alice"), "via the daemon");

    // The same hello again (a replay on a new connection) is refused, and does not
    // disturb the attached connection or the session.
    assert_eq!(
        present(&mut sim, &mut daemons, "alice", &hello),
        Err(ClientError::CallbackRefused)
    );
    assert_text_over_callback(&mut sim, &mut daemons, ("bob", "alice"), "still fine");
}

#[test]
fn forged_callback_token_is_refused() {
    let mut sim = World::with_users(&["alice"]);
    let mut daemons = Daemons::new();
    let mut hello = register(&mut sim, "alice");
    let last = hello.len() - 1;
    hello[last] ^= 1;
    assert_eq!(
        present(&mut sim, &mut daemons, "alice", &hello),
        Err(ClientError::CallbackRefused)
    );
    // Garbage that is not even a hello.
    assert_eq!(
        present(&mut sim, &mut daemons, "alice", &[0x04, 0, 0, 0, 1, 0]),
        Err(ClientError::CallbackRefused)
    );
}

#[test]
fn expired_callback_token_is_refused() {
    let mut sim = World::with_users(&["alice"]);
    let mut daemons = Daemons::new();
    let hello = register(&mut sim, "alice");
    sim.wait(Duration::from_secs(31));
    assert_eq!(
        present(&mut sim, &mut daemons, "alice", &hello),
        Err(ClientError::CallbackRefused)
    );
}

#[test]
fn callback_token_of_another_session_is_refused() {
    let mut sim = World::with_users(&["alice", "bob"]);
    let mut daemons = Daemons::new();
    let _ = register(&mut sim, "alice");
    let bobs = register(&mut sim, "bob");
    assert_eq!(
        present(&mut sim, &mut daemons, "alice", &bobs),
        Err(ClientError::CallbackRefused)
    );
}

#[test]
fn unsolicited_callback_is_refused() {
    let mut sim = World::with_users(&["alice", "bob"]);
    let mut daemons = Daemons::new();
    let bobs = register(&mut sim, "bob");
    // Alice never registered: nothing is accepted.
    assert_eq!(
        present(&mut sim, &mut daemons, "alice", &bobs),
        Err(ClientError::CallbackRefused)
    );
}

#[test]
fn a_callback_to_a_privileged_port_is_refused() {
    let mut sim = World::with_users(&["alice"]);
    sim.act("alice", |c, now, rng| c.register_callback(now, 22, rng))
        .unwrap();
    assert!(sim.events("alice").iter().any(|e| matches!(
        e,
        ClientEvent::CommandFailed {
            error: crate::command::CommandError::PORT_REFUSED,
            ..
        }
    )));
    // The relay asked the driver for no connection.
    assert!(
        !sim.relay_events
            .iter()
            .any(|e| matches!(e, RelayEvent::CallbackRequested { .. }))
    );
}

#[test]
fn a_second_callback_registration_is_refused_and_changes_nothing() {
    let mut sim = World::with_users(&["alice", "bob"]);
    let mut daemons = Daemons::new();
    let hello = register(&mut sim, "alice");
    // While the first is pending, and once it is attached, a second one is refused by the
    // client itself: nothing is sent, and the stream notices arrive on stays.
    let again = sim.act("alice", |c, now, rng| c.register_callback(now, 4243, rng));
    assert!(matches!(again, Err(ClientError::Misuse(_))), "{again:?}");
    present(&mut sim, &mut daemons, "alice", &hello).unwrap();
    let again = sim.act("alice", |c, now, rng| c.register_callback(now, 4243, rng));
    assert!(matches!(again, Err(ClientError::Misuse(_))), "{again:?}");
    let requested = sim
        .relay_events
        .iter()
        .filter(|e| matches!(e, RelayEvent::CallbackRequested { .. }))
        .count();
    assert_eq!(requested, 1);
    // Notices still reach alice over the attached callback connection.
    sim.act("bob", |c, now, rng| {
        c.request_chat(now, &name("alice"), rng)
    })
    .unwrap();
    assert!(flush_callback(&mut sim, &mut daemons, "alice") > 0);
    assert!(
        sim.events("alice")
            .iter()
            .any(|e| matches!(e, ClientEvent::IncomingRequest { .. }))
    );
}

#[test]
fn a_stalled_callback_reader_slows_its_chat_peer_before_it_is_dropped() {
    let mut sim = World::new(crate::relay::RelayConfig {
        output_high_water: 4 * 1024,
        output_hard_limit: 16 * 1024,
        ..crate::relay::RelayConfig::default()
    });
    sim.login("alice");
    sim.login("bob");
    let mut daemons = Daemons::new();
    let hello = register(&mut sim, "alice");
    present(&mut sim, &mut daemons, "alice", &hello).unwrap();
    // Bob asks alice, who hears it and accepts over the callback connection.
    sim.act("bob", |c, now, rng| {
        c.request_chat(now, &name("alice"), rng)
    })
    .unwrap();
    flush_callback(&mut sim, &mut daemons, "alice");
    accept_over_callback(&mut sim, &mut daemons, "alice");
    assert_text_over_callback(&mut sim, &mut daemons, ("bob", "alice"), "hello");

    // Alice's daemon stops reading: bob's texts pile up on her callback connection
    // only, and the relay asks to stop reading bob at the high-water mark, before the
    // hard limit would drop her.
    let (alice, bob) = (sim.conn("alice"), sim.conn("bob"));
    let text = "x".repeat(1000);
    let mut sent = 0;
    while sim.relay.wants_input(bob) {
        assert!(sent < 10, "bob was never slowed down");
        sim.say("bob", &text);
        sent += 1;
    }
    assert!(sim.relay.output(alice).is_empty());
    let queued = sim.relay.callback_output(alice).len();
    assert!(
        queued > 4 * 1024 && queued < 16 * 1024,
        "{queued} bytes queued"
    );
    assert!(sim.is_online("alice"));
    // Once the daemon reads again, bob may go on, and alice reads every text.
    flush_callback(&mut sim, &mut daemons, "alice");
    assert!(sim.relay.wants_input(bob));
    assert_eq!(World::messages(&sim.events("alice")).len(), sent);
}
