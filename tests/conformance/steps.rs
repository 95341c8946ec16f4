//! Steps the scenarios share, each asserting what it waits for: a chat request and its
//! answer, a message arriving, the user list, the end of a chat.

use securecom::proto::chat::SafetyNumber;
use securecom::proto::client::{ChatEndReason, ClientEvent};
use securecom::proto::identity::Username;

use super::client::TestClient;
use super::harness::Handle;

/// A fixture user's name.
pub(crate) fn user(name: &str) -> Username {
    Username::new(name).unwrap()
}

/// `a` asks `b` to chat; `b` is asked, and `a` told the request went out.
pub(crate) fn ask<H: Handle>(a: &mut TestClient<H>, b: &mut TestClient<H>) {
    let (a_name, b_name) = (a.user().clone(), b.user().clone());
    a.h().request_chat(b_name.clone()).unwrap();
    let asked = b.expect("the chat request", |e| {
        matches!(e, ClientEvent::IncomingRequest { .. })
    });
    assert!(
        matches!(&asked, ClientEvent::IncomingRequest { from, .. } if *from == a_name),
        "{asked:?}"
    );
    let sent = a.expect("the request sent", |e| {
        matches!(e, ClientEvent::RequestSent { .. })
    });
    assert_eq!(sent, ClientEvent::RequestSent { to: b_name });
}

/// `b` accepts `a`'s request; both see the chat established, with the same safety number.
pub(crate) fn accept<H: Handle>(a: &mut TestClient<H>, b: &mut TestClient<H>) -> SafetyNumber {
    b.h().accept().unwrap();
    let ours = established(a, b.user());
    let theirs = established(b, a.user());
    assert_eq!(ours, theirs, "both sides compute the same safety number");
    ours
}

fn established<H: Handle>(client: &mut TestClient<H>, peer: &Username) -> SafetyNumber {
    let event = client.expect("the chat established", |e| {
        matches!(e, ClientEvent::ChatEstablished { .. })
    });
    match event {
        ClientEvent::ChatEstablished {
            peer: p,
            safety_number,
            ..
        } if p == *peer => safety_number,
        other => panic!("{}: {other:?}, not a chat with {peer}", client.user()),
    }
}

/// `a` asks `b`, `b` accepts.
pub(crate) fn start_chat<H: Handle>(a: &mut TestClient<H>, b: &mut TestClient<H>) -> SafetyNumber {
    ask(a, b);
    accept(a, b)
}

/// The next message `to` receives must be `text` from `from`.
pub(crate) fn expect_message<H: Handle>(to: &mut TestClient<H>, from: &str, text: &str) {
    let got = to.expect("a message", |e| matches!(e, ClientEvent::Message { .. }));
    assert_eq!(
        got,
        ClientEvent::Message {
            from: user(from),
            text: text.to_owned(),
        }
    );
}

/// Who is online, as `client` is told.
pub(crate) fn users<H: Handle>(client: &mut TestClient<H>) -> Vec<String> {
    client.h().list_users().unwrap();
    match client.expect("the user list", |e| matches!(e, ClientEvent::Users { .. })) {
        ClientEvent::Users {
            users,
            truncated: false,
        } => users
            .iter()
            .map(|u| u.username.as_str().to_owned())
            .collect(),
        other => panic!("{}: {other:?}", client.user()),
    }
}

/// Why `client`'s chat with `peer` ended, once it did.
pub(crate) fn chat_ended<H: Handle>(client: &mut TestClient<H>, peer: &str) -> ChatEndReason {
    let event = client.expect("the end of a chat", |e| {
        matches!(e, ClientEvent::ChatEnded { .. })
    });
    match event {
        ClientEvent::ChatEnded { peer: p, reason } if p == user(peer) => reason,
        other => panic!(
            "{}: {other:?}, not the end of the chat with {peer}",
            client.user()
        ),
    }
}
