//! The `record` target: a genuine session pair, and the wire between them in the input's
//! hands.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use super::input::{Input, chunks};
use super::peer::{Edit, apply};
use super::session_pair;
use crate::session::{Channel, CloseReason, Incoming, Session};

/// A record one side sent, for checking what the other side accepts.
#[derive(Debug, PartialEq, Eq)]
enum Sent {
    Data(Channel, Vec<u8>),
    Close(u8),
}

impl Sent {
    /// The channel's queue it belongs to (a close travels on the standard channel).
    fn lane(&self) -> usize {
        match self {
            Sent::Data(Channel::Request, _) => 1,
            _ => 0,
        }
    }
}

/// One direction of the record target.
#[derive(Default)]
struct Direction {
    /// Records transmitted and not yet received, per channel (standard, request): each
    /// channel has its own keys and counter, so each is its own ordered stream.
    sent: [VecDeque<Sent>; 2],
    /// Records sealed into the sender's output but not transmitted yet.
    queued: Vec<Sent>,
    /// Bytes on the wire, not yet delivered.
    wire: Vec<u8>,
}

/// A genuine session pair, then up to 64 operations the input chooses, in either
/// direction: send data on either channel, close, transmit, flip / insert / delete wire
/// bytes, drop unsent output, reflect the wire back to its sender, and deliver in chunks.
///
/// Checks the record layer's promise: whatever a side accepts is exactly the sequence its
/// peer sent, in order, on the right channel: tampering, replay, reordering or reflection
/// may only end the session, never deliver other bytes.
pub fn record(data: &[u8]) {
    let Some((client, server)) = session_pair() else {
        panic!("the genuine handshake failed");
    };
    let mut sides = [client, server];
    let mut dirs = [Direction::default(), Direction::default()];
    let mut input = Input::new(data);
    for _ in 0..64 {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        let from = usize::from(op & 1);
        let (Some(sender), Some(dir)) = (sides.get_mut(from), dirs.get_mut(from)) else {
            return;
        };
        match (op >> 1) % 9 {
            0 => {
                let channel = if op & 0x80 == 0 {
                    Channel::Standard
                } else {
                    Channel::Request
                };
                let len = usize::from(input.u16()) % 17_000;
                let mut payload = input.bytes(len).to_vec();
                // Long payloads would exhaust the input: pad with a pattern.
                payload.resize(len, 0xa5);
                if sender.send(channel, &payload).is_ok() {
                    dir.queued.push(Sent::Data(channel, payload));
                }
            }
            1 => {
                // `is_closed` is also true once the peer closed, and a side may still
                // answer with its own close: whether one was sent shows in the output.
                let reason = input.u8();
                let before = sender.output().len();
                if sender.close(CloseReason(reason)).is_ok() && sender.output().len() > before {
                    dir.queued.push(Sent::Close(reason));
                }
            }
            2 => transmit(sender, dir),
            3 => apply(&mut dir.wire, &Edit::Flip(input.u16(), input.u8())),
            4 => {
                let len = usize::from(input.u8());
                let bytes = input.bytes(len);
                let at = usize::from(input.u16()) % (dir.wire.len() + 1);
                dir.wire.splice(at..at, bytes.iter().copied());
            }
            5 => {
                let start = usize::from(input.u16()) % (dir.wire.len() + 1);
                let end = start
                    .saturating_add(usize::from(input.u8()))
                    .min(dir.wire.len());
                dir.wire.drain(start..end);
            }
            // Lose unsent output: those records never reach the peer, and the records
            // after them on the same channel must then be refused.
            6 => sender.consume_output(usize::from(input.u16())),
            7 => {
                // Reflect: the wire goes back to its own sender, whose keys differ.
                let wire = core::mem::take(&mut dir.wire);
                feed_records(sender, &wire, input.u8(), |r| {
                    panic!("a reflected record was accepted: {r:?}")
                });
            }
            _ => {
                let size = input.u8();
                deliver(&mut sides, &mut dirs, from, size);
            }
        }
    }
    // Then whatever is queued is delivered as it is, in both directions.
    for from in [0, 1] {
        if let (Some(s), Some(d)) = (sides.get_mut(from), dirs.get_mut(from)) {
            transmit(s, d);
        }
        deliver(&mut sides, &mut dirs, from, 0);
    }
}

fn transmit(sender: &mut Session, dir: &mut Direction) {
    dir.wire.extend_from_slice(sender.output());
    sender.consume_output(sender.output().len());
    for sent in dir.queued.drain(..) {
        if let Some(lane) = dir.sent.get_mut(sent.lane()) {
            lane.push_back(sent);
        }
    }
}

/// Delivers the wire of direction `from` to the other side: every record accepted must be
/// the next one sent on its channel.
fn deliver(sides: &mut [Session; 2], dirs: &mut [Direction; 2], from: usize, size: u8) {
    let (Some(receiver), Some(dir)) = (sides.get_mut(1 - from), dirs.get_mut(from)) else {
        return;
    };
    let wire = core::mem::take(&mut dir.wire);
    let sent = &mut dir.sent;
    feed_records(receiver, &wire, size, |received| {
        let expected = sent.get_mut(received.lane()).and_then(VecDeque::pop_front);
        assert_eq!(
            Some(&received),
            expected.as_ref(),
            "accepted a record its peer did not send in this order"
        );
    });
}

/// Feeds `wire` to `receiver` in chunks of `size`, handing every record it accepts to
/// `accepted`.
fn feed_records(receiver: &mut Session, wire: &[u8], size: u8, mut accepted: impl FnMut(Sent)) {
    for piece in chunks(wire, size) {
        let mut rest = piece;
        loop {
            let took = receiver.push_input(rest);
            rest = rest.get(took..).unwrap_or(&[]);
            let mut progressed = took > 0;
            loop {
                let record = match receiver.next_record() {
                    Ok(Some(Incoming::Data { channel, payload })) => {
                        Sent::Data(channel, payload.to_vec())
                    }
                    Ok(Some(Incoming::Closed(reason))) => Sent::Close(reason.0),
                    Ok(None) => break,
                    Err(_) => {
                        // Fatal and sticky: from now on all input is swallowed.
                        progressed = true;
                        break;
                    }
                };
                progressed = true;
                accepted(record);
            }
            if rest.is_empty() {
                break;
            }
            assert!(progressed, "session input stalled");
        }
    }
}

/// Seeds: data on either channel, delivered whole or in 1-byte chunks, a flipped bit, a
/// close, a reflection.
pub(super) fn seeds() -> Vec<Vec<u8>> {
    vec![
        // Client sends "hello" on the standard channel, transmit, deliver.
        [&[0u8, 0, 5][..], b"hello", &[4, 16]].concat(),
        // Server sends on the request channel in 1-byte chunks.
        [&[0x81u8, 0, 3][..], b"abc", &[5, 17, 1]].concat(),
        // Send, transmit, flip a bit, deliver.
        [&[0u8, 0, 4][..], b"ping", &[4, 6, 0, 9, 3, 16, 0]].concat(),
        // Close and deliver; reflect.
        vec![2, 0, 4, 16, 0, 0, 2, b'x', 4, 14, 0],
    ]
}
