//! Round trips of every command, and rejection of malformed ones.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Debug;

use super::*;
use crate::codec::{Codec, EncodeError};
use crate::identity::Identity;

fn round_trip<T: Codec + PartialEq + Debug>(value: T) {
    let bytes = value.to_bytes().unwrap();
    assert_eq!(T::decode(&bytes).unwrap(), value);
    for cut in 0..bytes.len() {
        assert!(
            matches!(T::decode(&bytes[..cut]), Err(DecodeError::Truncated { .. })),
            "{value:?}: prefix {cut} accepted"
        );
    }
    let mut longer = bytes;
    longer.push(0);
    assert_eq!(T::decode(&longer), Err(DecodeError::TrailingBytes(1)));
}

/// Encodes and decodes back, without the (slow, for large values) truncation sweep.
fn round_trip_once<T: Codec + PartialEq + Debug>(value: T) {
    assert_eq!(T::decode(&value.to_bytes().unwrap()), Ok(value));
}

fn user(name: &str) -> Username {
    Username::new(name).unwrap()
}

#[test]
fn requests_round_trip() {
    for body in [
        RequestBody::ListUsers,
        RequestBody::GetPublicKey(user("bob")),
        RequestBody::RequestChat(user("bob")),
        RequestBody::Answer {
            from: user("alice"),
            accept: true,
        },
        RequestBody::Answer {
            from: user("alice"),
            accept: false,
        },
        RequestBody::Withdraw,
        RequestBody::ChatData(vec![1, 2, 3]),
        RequestBody::LeaveChat,
        RequestBody::Exit,
        RequestBody::Ping,
        RequestBody::RegisterCallback {
            port: 4242,
            nonce: [9; 16],
        },
    ] {
        round_trip(Request { id: 77, body });
    }
}

#[test]
fn responses_round_trip() {
    let key = Identity::from_seed(&[1; 32]).public_key();
    for body in [
        ResponseBody::Users {
            users: vec![UserEntry {
                username: user("alice"),
                fingerprint: key.fingerprint(),
            }],
            truncated: false,
        },
        ResponseBody::PublicKey {
            username: user("alice"),
            key,
        },
        ResponseBody::RequestSent,
        ResponseBody::Answered,
        ResponseBody::Withdrawn,
        ResponseBody::Left,
        ResponseBody::Bye,
        ResponseBody::Pong,
        ResponseBody::CallbackRegistered,
        ResponseBody::Error(CommandError::BUSY),
    ] {
        round_trip(Response { id: 5, body });
    }
}

#[test]
fn notices_round_trip() {
    let key = Identity::from_seed(&[2; 32]).public_key();
    for notice in [
        Notice::IncomingRequest {
            from: user("alice"),
            key,
        },
        Notice::RequestWithdrawn {
            from: user("alice"),
        },
        Notice::RequestExpired { peer: user("bob") },
        Notice::RequestAccepted {
            peer: user("bob"),
            key,
        },
        Notice::RequestDenied { peer: user("bob") },
        Notice::ChatData(vec![0xaa; 300]),
        Notice::PeerLeft {
            peer: user("bob"),
            reason: crate::command::GoneReason::STALLED,
        },
    ] {
        round_trip(notice);
    }
}

#[test]
fn malformed_commands_are_typed_errors() {
    assert!(matches!(
        Request::decode(&[0, 0, 0, 1, 0xee]),
        Err(DecodeError::UnknownType {
            what: "request",
            code: 0xee
        })
    ));
    // An empty chat payload is refused (nothing to relay).
    assert_eq!(
        Request::decode(&[0, 0, 0, 1, 0x06, 0, 0]),
        Err(DecodeError::BadLength {
            what: "chat payload",
            got: 0,
            min: 1,
            max: MAX_CHAT_PAYLOAD
        })
    );
    // An answer byte other than 0 or 1.
    let mut bad: Vec<u8> = vec![0, 0, 0, 1, 0x04, 5];
    bad.extend_from_slice(b"alice");
    bad.push(2);
    assert_eq!(
        Request::decode(&bad),
        Err(DecodeError::InvalidValue("answer"))
    );
    assert_eq!(
        Notice::decode(&[]),
        Err(DecodeError::Truncated { needed: 1 })
    );
}

/// The longest username the protocol carries.
fn longest_user() -> Username {
    user(&"u".repeat(MAX_USERNAME_LEN))
}

#[test]
fn every_field_at_its_maximum_round_trips() {
    let key = Identity::from_seed(&[3; 32]).public_key();
    let name = longest_user();
    for body in [
        RequestBody::GetPublicKey(name.clone()),
        RequestBody::RequestChat(name.clone()),
        RequestBody::Answer {
            from: name.clone(),
            accept: true,
        },
        RequestBody::ChatData(vec![0xaa; MAX_CHAT_PAYLOAD]),
        RequestBody::ChatData(vec![0xbb; 1]),
    ] {
        round_trip_once(Request { id: 1, body });
    }
    let users = (0..MAX_LISTED_USERS)
        .map(|i| UserEntry {
            username: user(&alloc::format!("{i:0>width$}", width = MAX_USERNAME_LEN)),
            fingerprint: key.fingerprint(),
        })
        .collect();
    for body in [
        ResponseBody::Users {
            users,
            truncated: true,
        },
        ResponseBody::Users {
            users: Vec::new(),
            truncated: false,
        },
        ResponseBody::PublicKey {
            username: name.clone(),
            key,
        },
    ] {
        round_trip_once(Response { id: 2, body });
    }
    for notice in [
        Notice::IncomingRequest {
            from: name.clone(),
            key,
        },
        Notice::RequestWithdrawn { from: name.clone() },
        Notice::RequestExpired { peer: name.clone() },
        Notice::RequestAccepted {
            peer: name.clone(),
            key,
        },
        Notice::RequestDenied { peer: name.clone() },
        Notice::ChatData(vec![0xcc; MAX_CHAT_PAYLOAD]),
        Notice::PeerLeft {
            peer: name,
            reason: GoneReason::LEFT,
        },
    ] {
        round_trip_once(notice);
    }
}

#[test]
fn a_chat_payload_the_decoder_would_reject_is_refused() {
    let too_long = EncodeError {
        what: "chat payload",
        len: MAX_CHAT_PAYLOAD + 1,
        min: 1,
        max: MAX_CHAT_PAYLOAD,
    };
    let empty = EncodeError { len: 0, ..too_long };
    let request = |payload: Vec<u8>| Request {
        id: 3,
        body: RequestBody::ChatData(payload),
    };
    assert_eq!(
        request(vec![0; MAX_CHAT_PAYLOAD + 1]).to_bytes(),
        Err(too_long)
    );
    assert_eq!(request(Vec::new()).to_bytes(), Err(empty));
    assert_eq!(
        Notice::ChatData(vec![0; MAX_CHAT_PAYLOAD + 1]).to_bytes(),
        Err(too_long)
    );
    assert_eq!(Notice::ChatData(Vec::new()).to_bytes(), Err(empty));
    // Longer than the u16 length prefix could even say: refused, not truncated.
    assert_eq!(
        request(vec![0; 70_000]).to_bytes(),
        Err(EncodeError {
            len: 70_000,
            ..too_long
        })
    );
}

#[test]
fn a_user_list_longer_than_the_maximum_is_refused_not_cut() {
    let key = Identity::from_seed(&[4; 32]).public_key();
    let users = vec![
        UserEntry {
            username: user("alice"),
            fingerprint: key.fingerprint(),
        };
        MAX_LISTED_USERS + 1
    ];
    let response = Response {
        id: 4,
        body: ResponseBody::Users {
            users,
            truncated: true,
        },
    };
    assert_eq!(
        response.to_bytes(),
        Err(EncodeError {
            what: "user list",
            len: MAX_LISTED_USERS + 1,
            min: 0,
            max: MAX_LISTED_USERS
        })
    );
}
