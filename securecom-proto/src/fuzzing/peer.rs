//! The emulated peer of the handshake targets: genuine messages, edited as the input says,
//! then signed, MACed and sealed after the edits.

use alloc::vec;
use alloc::vec::Vec;

use super::input::Input;
use crate::codec::{ContentType, Deframer, encode_frame_header};
use crate::crypto::{Secret, Transcript, TranscriptHash, finished_mac};
use crate::handshake::messages::HandshakeType;
use crate::handshake::signed_content;
use crate::identity::Identity;
use crate::record::{OpenedRecord, RecordOpener, RecordSealer};

/// What a message of the emulated peer contains.
#[derive(Clone, Debug)]
pub(super) enum Content {
    /// Fixed bytes (type byte and body).
    Literal(Vec<u8>),
    /// A Verify message of this type, signed by the peer over the transcript so far.
    Signature(HandshakeType, &'static [u8]),
    /// A Finished message of this type, MACed over the transcript so far.
    Mac(HandshakeType),
}

/// How a message goes on the wire.
#[derive(Clone, Copy, Debug)]
pub(super) enum Framing {
    /// In a plaintext frame of this content type.
    Plain(u8),
    /// In a data record under the peer's current keys.
    Sealed,
    /// In a close record under the peer's current keys.
    Close,
}

/// A byte-level edit of one message, applied after it is computed.
#[derive(Clone, Debug)]
pub(super) enum Edit {
    Flip(u16, u8),
    Set(u16, u8),
    Truncate(u16),
    Append(Vec<u8>),
}

#[derive(Clone, Debug)]
pub(super) struct Msg {
    pub(super) framing: Framing,
    pub(super) content: Content,
    pub(super) edits: Vec<Edit>,
}

impl Msg {
    pub(super) fn new(framing: Framing, content: Content) -> Self {
        Msg {
            framing,
            content,
            edits: Vec::new(),
        }
    }

    pub(super) fn sealed(bytes: Vec<u8>) -> Self {
        Msg::new(Framing::Sealed, Content::Literal(bytes))
    }

    pub(super) fn plain(bytes: Vec<u8>) -> Self {
        Msg::new(
            Framing::Plain(ContentType::HANDSHAKE.0),
            Content::Literal(bytes),
        )
    }
}

pub(super) fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    let at = |pos: u16, len: usize| usize::from(pos) % len.max(1);
    match edit {
        Edit::Flip(pos, bit) => {
            let i = at(*pos, bytes.len());
            if let Some(b) = bytes.get_mut(i) {
                *b ^= 1 << (bit % 8);
            }
        }
        Edit::Set(pos, value) => {
            let i = at(*pos, bytes.len());
            if let Some(b) = bytes.get_mut(i) {
                *b = *value;
            }
        }
        Edit::Truncate(pos) => bytes.truncate(at(*pos, bytes.len() + 1)),
        Edit::Append(more) => bytes.extend_from_slice(more),
    }
}

/// Reads up to seven edits of a flight from the input: byte edits of one message,
/// dropping, duplicating, swapping, re-framing, or inserting arbitrary messages.
pub(super) fn mutate_flight(flight: &mut Vec<Msg>, input: &mut Input<'_>) {
    let ops = input.u8() % 8;
    for _ in 0..ops {
        let op = input.u8();
        let i = usize::from(input.u8()) % flight.len().max(1);
        match op % 9 {
            0 => push_edit(flight, i, Edit::Flip(input.u16(), input.u8())),
            1 => push_edit(flight, i, Edit::Set(input.u16(), input.u8())),
            2 => push_edit(flight, i, Edit::Truncate(input.u16())),
            3 => {
                let len = usize::from(input.u8());
                push_edit(flight, i, Edit::Append(input.bytes(len).to_vec()));
            }
            4 => {
                if i < flight.len() {
                    flight.remove(i);
                }
            }
            5 => {
                if let Some(m) = flight.get(i).cloned() {
                    flight.insert(i, m);
                }
            }
            6 => {
                let j = usize::from(input.u8()) % flight.len().max(1);
                if i < flight.len() && j < flight.len() {
                    flight.swap(i, j);
                }
            }
            7 => {
                let framing = framing(input.u8());
                if let Some(m) = flight.get_mut(i) {
                    m.framing = framing;
                }
            }
            _ => {
                let framing = framing(input.u8());
                let len = usize::from(input.u16() % 2048);
                let bytes = input.bytes(len).to_vec();
                let at = i.min(flight.len());
                flight.insert(at, Msg::new(framing, Content::Literal(bytes)));
            }
        }
    }
}

pub(super) fn push_edit(flight: &mut [Msg], i: usize, edit: Edit) {
    if let Some(m) = flight.get_mut(i) {
        m.edits.push(edit);
    }
}

pub(super) fn framing(b: u8) -> Framing {
    match b % 4 {
        0 | 1 => Framing::Sealed,
        2 => Framing::Close,
        _ => Framing::Plain(b >> 2),
    }
}

/// What the emulated peer signs and MACs with.
pub(super) struct PeerKeys<'a> {
    pub(super) identity: &'a Identity,
    pub(super) finished: &'a Secret,
}

/// Computes, edits, adds to the transcript and frames every message of `flight`.
pub(super) fn emit(
    flight: &[Msg],
    transcript: &mut Transcript,
    sealer: Option<&mut RecordSealer>,
    keys: &PeerKeys<'_>,
    wire: &mut Vec<u8>,
) -> Vec<TranscriptHash> {
    let mut sealer = sealer;
    let mut snapshots = Vec::with_capacity(flight.len());
    for msg in flight {
        let mut bytes = match &msg.content {
            Content::Literal(b) => b.clone(),
            Content::Signature(ty, context) => {
                let signature = keys
                    .identity
                    .sign(&signed_content(context, &transcript.current()));
                let mut b = vec![ty.0];
                b.extend_from_slice(&signature);
                b
            }
            Content::Mac(ty) => {
                let mut b = vec![ty.0];
                b.extend_from_slice(&finished_mac(keys.finished, &transcript.current()));
                b
            }
        };
        for edit in &msg.edits {
            apply(&mut bytes, edit);
        }
        transcript.add(&bytes);
        snapshots.push(transcript.current());
        match (msg.framing, sealer.as_deref_mut()) {
            (Framing::Sealed, Some(s)) => {
                let _ = s.seal_data(&bytes, wire);
            }
            (Framing::Close, Some(s)) => {
                let _ = s.seal_close(&bytes, wire);
            }
            (Framing::Plain(ct), _) => plain_frame(ContentType(ct), &bytes, wire),
            // No keys yet: what would be sealed goes out as an unreadable sealed frame.
            (_, None) => plain_frame(ContentType::ENCRYPTED_HANDSHAKE, &bytes, wire),
        }
    }
    snapshots
}

pub(super) fn plain_frame(content_type: ContentType, bytes: &[u8], wire: &mut Vec<u8>) {
    if let Ok(header) = encode_frame_header(content_type, bytes.len()) {
        wire.extend_from_slice(&header);
        wire.extend_from_slice(bytes);
    }
}

/// Up to three byte edits of the framed wire bytes (so frame headers and tags get fuzzed
/// too), then the chunk size to deliver them in.
pub(super) fn mutate_wire(wire: &mut Vec<u8>, input: &mut Input<'_>) -> u8 {
    let ops = input.u8() % 4;
    for _ in 0..ops {
        let edit = match input.u8() % 4 {
            0 => Edit::Flip(input.u16(), input.u8()),
            1 => Edit::Set(input.u16(), input.u8()),
            2 => Edit::Truncate(input.u16()),
            _ => {
                let len = usize::from(input.u8());
                Edit::Append(input.bytes(len).to_vec())
            }
        };
        apply(wire, &edit);
    }
    input.u8()
}

/// Opens the sealed frames of `wire` with `opener`, adding each handshake message to the
/// transcript, as the real peer would. Plaintext handshake frames are added as they are.
/// Stops at the first frame that does not open.
pub(super) fn absorb(
    wire: &[u8],
    opener: Option<&mut RecordOpener>,
    transcript: &mut Transcript,
) -> bool {
    let mut d = Deframer::new();
    let mut opener = opener;
    if d.push(wire) != wire.len() {
        return false;
    }
    loop {
        let frame = match d.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => return d.is_empty(),
            Err(_) => return false,
        };
        if frame.content_type == ContentType::HANDSHAKE {
            transcript.add(frame.payload);
            continue;
        }
        let Some(o) = opener.as_deref_mut() else {
            return false;
        };
        match o.open(&frame.header, frame.payload) {
            Ok(OpenedRecord::Data(msg)) => transcript.add(msg),
            _ => return false,
        }
    }
}
