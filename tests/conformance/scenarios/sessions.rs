//! Sessions as users see them: logging in, who is online, refusals while busy, chatting
//! both ways, a bulk transfer under backpressure, leaving a chat and leaving the server
//! (by `exit`, or by dropping every handle).

use std::thread;

use securecom::proto::chat::MAX_TEXT_LEN;
use securecom::proto::client::{
    AutoRefusal, ChatEndReason, ChatStatus, ClientError, ClientEvent, CommandKind, Misuse,
    SessionEnd,
};
use securecom::proto::command::CommandError;
use securecom::proto::relay::RelayConfig;
use securecom::proto::session::CloseReason;

use crate::suite::client::TestClient;
use crate::suite::harness::{Driver, Handle};
use crate::suite::net::Net;
use crate::suite::steps::{accept, ask, chat_ended, expect_message, start_chat, user, users};

/// Scenario 1: three users log in, each under their own name and session id, and see each
/// other; a user negotiating a chat (asking or asked) is refused by her own client, one
/// chatting by the relay.
pub(crate) fn login_list_and_busy_refusal<D: Driver>() {
    let net = Net::<D>::start(RelayConfig::default()).unwrap();
    let mut alice = net.login("alice").unwrap();
    let mut bob = net.login("bob").unwrap();
    let mut carol = net.login("carol").unwrap();
    for client in [&alice, &bob, &carol] {
        assert_eq!(client.h().username(), client.user());
    }
    let ids = [&alice, &bob, &carol].map(|c| c.h().session_id());
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
        "session ids {ids:?}"
    );
    assert_eq!(users(&mut alice), ["alice", "bob", "carol"]);
    assert_eq!(alice.h().status().unwrap(), (ChatStatus::Idle, None));

    // A plain refusal first.
    ask(&mut carol, &mut bob);
    bob.h().deny().unwrap();
    let denied = carol.expect("the refusal", |e| {
        matches!(e, ClientEvent::RequestDenied { .. })
    });
    assert_eq!(denied, ClientEvent::RequestDenied { peer: user("bob") });

    // While alice's request to bob waits, her own client refuses carol without asking her,
    // and so does bob's, who is being asked.
    ask(&mut alice, &mut bob);
    refused_while_negotiating(&mut carol, &mut alice);
    refused_while_negotiating(&mut carol, &mut bob);

    // Once alice and bob chat, the relay itself answers that she is busy.
    let safety = accept(&mut alice, &mut bob);
    assert_eq!(
        alice.h().status().unwrap(),
        (ChatStatus::Chatting(user("bob")), Some(safety))
    );
    carol.h().request_chat(user("alice")).unwrap();
    let failed = carol.expect("the relay's answer", |e| {
        matches!(e, ClientEvent::CommandFailed { .. })
    });
    assert_eq!(
        failed,
        ClientEvent::CommandFailed {
            command: CommandKind::RequestChat,
            error: CommandError::BUSY,
        }
    );
    alice.h().send_text("still with you").unwrap();
    expect_message(&mut bob, "alice", "still with you");
}

/// `from` asks `to`, who is negotiating another chat: `to`'s own client refuses without
/// asking its user, who is told, and `from` sees the refusal.
fn refused_while_negotiating<H: Handle>(from: &mut TestClient<H>, to: &mut TestClient<H>) {
    from.h().request_chat(to.user().clone()).unwrap();
    let refused = to.expect("the automatic refusal", |e| {
        matches!(e, ClientEvent::AutoRefused { .. })
    });
    assert_eq!(
        refused,
        ClientEvent::AutoRefused {
            from: from.user().clone(),
            reason: AutoRefusal::Busy,
        }
    );
    let denied = from.expect("the refusal", |e| {
        matches!(e, ClientEvent::RequestDenied { .. })
    });
    assert_eq!(
        denied,
        ClientEvent::RequestDenied {
            peer: to.user().clone()
        }
    );
}

/// What `from` sends in [`chat_both_ways_in_order`]: the shortest text, the longest,
/// several scripts, and a numbered run.
fn script(from: &str) -> Vec<String> {
    let mut texts = vec![
        "a".to_owned(),
        format!("¿Qué tal? 你好 👋 from {from}"),
        "two\nlines\tand a tab".to_owned(),
        "é".repeat(MAX_TEXT_LEN / 2),
    ];
    texts.extend((0..40).map(|i| format!("{from} {i:02}")));
    texts
}

/// Scenario 2: alice and bob send at the same time; each receives the other's messages
/// intact and in order.
pub(crate) fn chat_both_ways_in_order<D: Driver>() {
    let net = Net::<D>::start(RelayConfig::default()).unwrap();
    let mut alice = net.login("alice").unwrap();
    let mut bob = net.login("bob").unwrap();
    start_chat(&mut alice, &mut bob);

    let (from_alice, from_bob) = (script("alice"), script("bob"));
    thread::scope(|s| {
        let (sender, texts) = (alice.h().clone(), &from_alice);
        s.spawn(move || {
            for text in texts {
                sender.send_text(text.as_str()).unwrap();
            }
        });
        for text in &from_bob {
            bob.h().send_text(text.as_str()).unwrap();
        }
    });
    for text in &from_alice {
        expect_message(&mut bob, "alice", text);
    }
    for text in &from_bob {
        expect_message(&mut alice, "bob", text);
    }
}

/// Scenario 3: leaving a chat ends it on both sides, each with its own reason; exiting in
/// a chat ends the chat, then the session.
pub(crate) fn leave_and_exit<D: Driver>() {
    let net = Net::<D>::start(RelayConfig::default()).unwrap();
    let mut alice = net.login("alice").unwrap();
    let mut bob = net.login("bob").unwrap();

    start_chat(&mut alice, &mut bob);
    alice.h().leave_chat().unwrap();
    assert_eq!(chat_ended(&mut alice, "bob"), ChatEndReason::WeLeft);
    assert_eq!(chat_ended(&mut bob, "alice"), ChatEndReason::PeerClosed);
    assert_eq!(bob.h().status().unwrap(), (ChatStatus::Idle, None));
    assert_eq!(
        bob.h().send_text("anyone?"),
        Err(ClientError::Misuse(Misuse::InvalidState("not in a chat")))
    );

    // Bob asks this time, then exits in the middle of the chat.
    start_chat(&mut bob, &mut alice);
    bob.h().exit().unwrap();
    let rest = bob.events_until_closed();
    assert!(
        rest.ends_with(&[
            ClientEvent::ChatEnded {
                peer: user("alice"),
                reason: ChatEndReason::WeLeft,
            },
            ClientEvent::Closed {
                reason: CloseReason::NORMAL,
            },
            ClientEvent::ConnectionLost { clean: true },
        ]),
        "{rest:?}"
    );
    assert_eq!(
        bob.h().list_users(),
        Err(ClientError::Ended(SessionEnd::WeClosed))
    );
    assert_eq!(chat_ended(&mut alice, "bob"), ChatEndReason::PeerClosed);
    assert_eq!(users(&mut alice), ["alice"]);
}

/// Texts in [`backpressure_keeps_a_bulk_transfer_whole_and_in_order`].
const BULK: usize = 200;

/// Bulk text `i`: numbered, about 4 KB.
fn bulk_text(i: usize) -> String {
    format!("{i:05}{}", "x".repeat(4000))
}

/// Alice sends 200 texts of 4 KB in a row to bob, who reads throughout; the relay's tiny
/// high-water mark makes it pause and resume reading alice again and again. Bob gets every
/// text, whole and in order.
pub(crate) fn backpressure_keeps_a_bulk_transfer_whole_and_in_order<D: Driver>() {
    let relay = RelayConfig {
        output_high_water: 4 * 1024,
        ..RelayConfig::default()
    };
    let net = Net::<D>::start(relay).unwrap();
    let mut alice = net.login("alice").unwrap();
    let mut bob = net.login("bob").unwrap();
    start_chat(&mut alice, &mut bob);

    let sender = alice.h().clone();
    let sending = thread::spawn(move || {
        for i in 0..BULK {
            sender.send_text(bulk_text(i)).unwrap();
        }
    });
    for i in 0..BULK {
        expect_message(&mut bob, "alice", &bulk_text(i));
    }
    sending.join().unwrap();
}

/// Bob drops his only handle in the middle of a chat: his client leaves the server as
/// `exit` does (the chat ended first, then the session), alice's chat ends as if he had
/// left it, and she is free to chat with carol.
pub(crate) fn dropping_every_handle_leaves_the_server<D: Driver>() {
    let net = Net::<D>::start(RelayConfig::default()).unwrap();
    let mut alice = net.login("alice").unwrap();
    let mut bob = net.login("bob").unwrap();
    let mut carol = net.login("carol").unwrap();
    start_chat(&mut alice, &mut bob);

    bob.drop_handle();
    let rest = bob.events_until_closed();
    assert!(
        rest.ends_with(&[
            ClientEvent::ChatEnded {
                peer: user("alice"),
                reason: ChatEndReason::WeLeft,
            },
            ClientEvent::Closed {
                reason: CloseReason::NORMAL,
            },
            ClientEvent::ConnectionLost { clean: true },
        ]),
        "{rest:?}"
    );
    assert_eq!(chat_ended(&mut alice, "bob"), ChatEndReason::PeerClosed);
    assert_eq!(users(&mut alice), ["alice", "carol"]);
    start_chat(&mut alice, &mut carol);
    carol.h().send_text("hi alice").unwrap();
    expect_message(&mut alice, "carol", "hi alice");
}
