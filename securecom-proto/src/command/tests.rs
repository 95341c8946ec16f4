//! Round trips of every command, and rejection of malformed ones.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Debug;

use super::*;
use crate::codec::Codec;
use crate::identity::Identity;

fn round_trip<T: Codec + PartialEq + Debug>(value: T) {
    let bytes = value.to_bytes();
    assert_eq!(T::decode(&bytes).unwrap(), value);
    for cut in 0..bytes.len() {
        assert!(
            T::decode(&bytes[..cut]).is_err(),
            "{value:?}: prefix {cut} accepted"
        );
    }
    let mut longer = bytes;
    longer.push(0);
    assert!(T::decode(&longer).is_err());
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
    assert!(Request::decode(&[0, 0, 0, 1, 0x06, 0, 0]).is_err());
    // An answer byte other than 0 or 1.
    let mut bad: Vec<u8> = vec![0, 0, 0, 1, 0x04, 5];
    bad.extend_from_slice(b"alice");
    bad.push(2);
    assert_eq!(
        Request::decode(&bad),
        Err(DecodeError::InvalidValue("answer"))
    );
    assert!(Notice::decode(&[]).is_err());
}
