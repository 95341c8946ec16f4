//! What the emulated server says, as the input chooses: responses and notices with fuzzed
//! fields.

use crate::command::{CommandError, GoneReason, Notice, ResponseBody, UserEntry};
use crate::fuzzing::input::{Input, key, username};

pub(super) fn response_body(input: &mut Input<'_>) -> ResponseBody {
    match input.u8() % 10 {
        0 => {
            let n = input.u8() % 4;
            let users = (0..n)
                .map(|_| UserEntry {
                    username: username(input),
                    fingerprint: key(input).fingerprint(),
                })
                .collect();
            ResponseBody::Users {
                users,
                truncated: input.u8() & 1 == 1,
            }
        }
        1 => ResponseBody::PublicKey {
            username: username(input),
            key: key(input),
        },
        2 => ResponseBody::RequestSent,
        3 => ResponseBody::Answered,
        4 => ResponseBody::Withdrawn,
        5 => ResponseBody::Left,
        6 => ResponseBody::Bye,
        7 => ResponseBody::Pong,
        8 => ResponseBody::CallbackRegistered,
        _ => ResponseBody::Error(CommandError(input.u8() % 12)),
    }
}

pub(super) fn notice(input: &mut Input<'_>) -> Notice {
    match input.u8() % 7 {
        0 => Notice::IncomingRequest {
            from: username(input),
            key: key(input),
        },
        1 => Notice::RequestWithdrawn {
            from: username(input),
        },
        2 => Notice::RequestExpired {
            peer: username(input),
        },
        3 => Notice::RequestAccepted {
            peer: username(input),
            key: key(input),
        },
        4 => Notice::RequestDenied {
            peer: username(input),
        },
        5 => {
            let len = usize::from(input.u8()) + 1;
            Notice::ChatData(input.bytes(len).to_vec())
        }
        _ => Notice::PeerLeft {
            peer: username(input),
            reason: GoneReason(input.u8()),
        },
    }
}
