//! Unit tests of the record layer: round trips and every way a record can be wrong.

use alloc::vec::Vec;

use super::*;
use crate::codec::{ContentType, Deframer, FRAME_HEADER_LEN, FrameError, MAX_PLAINTEXT_LEN};
use crate::crypto::Secret;

fn pair(secret: u8, channel: ContentType) -> (RecordSealer, RecordOpener) {
    let s = Secret::from_array([secret; 32]);
    (
        RecordSealer::new(channel, TrafficKeys::new(s.clone())),
        RecordOpener::new(channel, TrafficKeys::new(s)),
    )
}

/// Splits a byte stream into (header, body) frames.
fn frames(wire: &[u8]) -> Vec<([u8; FRAME_HEADER_LEN], Vec<u8>)> {
    let mut d = Deframer::new();
    assert_eq!(d.push(wire), wire.len());
    let mut out = Vec::new();
    while let Some(f) = d.next_frame().unwrap() {
        out.push((f.header, f.payload.to_vec()));
    }
    out
}

fn open_data(
    opener: &mut RecordOpener,
    frame: &([u8; 5], Vec<u8>),
) -> Result<Vec<u8>, RecordError> {
    let mut body = frame.1.clone();
    match opener.open(&frame.0, &mut body)? {
        OpenedRecord::Data(d) => Ok(d.to_vec()),
        other => panic!("expected data, got {other:?}"),
    }
}

#[test]
fn round_trip_many_sizes() {
    let (mut s, mut o) = pair(1, ContentType::STANDARD);
    for len in [0, 1, 15, 16, 17, 1000, MAX_PLAINTEXT_LEN] {
        let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut wire = Vec::new();
        s.seal_data(&msg, &mut wire).unwrap();
        assert_eq!(wire.len(), msg.len() + RECORD_OVERHEAD);
        let f = frames(&wire);
        assert_eq!(open_data(&mut o, &f[0]).unwrap(), msg);
    }
    assert_eq!(o.sequence(), 7);
}

#[test]
fn oversized_payload_is_refused_by_sealer() {
    let (mut s, _) = pair(1, ContentType::STANDARD);
    let mut wire = Vec::new();
    assert_eq!(
        s.seal_data(&[0; MAX_PLAINTEXT_LEN + 1], &mut wire),
        Err(RecordError::PayloadTooLarge(MAX_PLAINTEXT_LEN + 1))
    );
    assert!(wire.is_empty());
    assert_eq!(s.sequence(), 0);
}

#[test]
fn every_bit_flip_is_detected_and_advances_nothing() {
    let (mut s, _) = pair(2, ContentType::STANDARD);
    let mut wire = Vec::new();
    s.seal_data(b"attack at dawn", &mut wire).unwrap();
    for bit in 0..wire.len() * 8 {
        let (_, mut o) = pair(2, ContentType::STANDARD);
        let mut bad = wire.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let mut d = Deframer::new();
        d.push(&bad);
        let announced = u32::from_be_bytes([bad[1], bad[2], bad[3], bad[4]]);
        match d.next_frame() {
            Ok(Some(f)) => {
                // Another content type is refused before anything else; a length made
                // shorter may leave too little for a kind and a tag; everything else
                // fails the tag (the header is authenticated too).
                let expected = if bit < 8 {
                    RecordError::WrongChannel {
                        expected: ContentType::STANDARD,
                        got: ContentType(bad[0]),
                    }
                } else if f.payload.len() < 1 + TAG_LEN {
                    RecordError::TooShort(f.payload.len())
                } else {
                    RecordError::BadRecordMac
                };
                let err = o.open(&f.header, f.payload).unwrap_err();
                assert_eq!(err, expected, "bit {bit}");
                assert_eq!(o.sequence(), 0, "bit {bit} advanced the counter");
            }
            // A length made longer leaves the frame incomplete...
            Ok(None) => assert!((8..40).contains(&bit), "bit {bit}: frame incomplete"),
            // ... or over the maximum.
            Err(e) => assert_eq!(e, FrameError::TooLarge { announced }, "bit {bit}"),
        }
    }
}

#[test]
fn replayed_record_is_rejected() {
    let (mut s, mut o) = pair(3, ContentType::STANDARD);
    let mut wire = Vec::new();
    s.seal_data(b"once", &mut wire).unwrap();
    let f = frames(&wire);
    assert_eq!(open_data(&mut o, &f[0]).unwrap(), b"once");
    assert_eq!(open_data(&mut o, &f[0]), Err(RecordError::BadRecordMac));
}

#[test]
fn reordered_records_are_rejected() {
    let (mut s, mut o) = pair(4, ContentType::STANDARD);
    let mut wire = Vec::new();
    s.seal_data(b"first", &mut wire).unwrap();
    s.seal_data(b"second", &mut wire).unwrap();
    let f = frames(&wire);
    assert_eq!(open_data(&mut o, &f[1]), Err(RecordError::BadRecordMac));
    assert_eq!(o.sequence(), 0);
}

#[test]
fn dropped_record_is_detected_at_the_next_one() {
    let (mut s, mut o) = pair(5, ContentType::STANDARD);
    let mut wire = Vec::new();
    for m in [&b"a"[..], b"b", b"c"] {
        s.seal_data(m, &mut wire).unwrap();
    }
    let f = frames(&wire);
    assert_eq!(open_data(&mut o, &f[0]).unwrap(), b"a");
    assert_eq!(open_data(&mut o, &f[2]), Err(RecordError::BadRecordMac));
}

#[test]
fn errors_are_sticky() {
    let (mut s, mut o) = pair(6, ContentType::STANDARD);
    let mut wire = Vec::new();
    s.seal_data(b"x", &mut wire).unwrap();
    let f = frames(&wire);
    let mut bad = f[0].clone();
    bad.1[0] ^= 1;
    assert_eq!(open_data(&mut o, &bad), Err(RecordError::BadRecordMac));
    // The genuine record no longer helps: the connection is dead.
    assert_eq!(open_data(&mut o, &f[0]), Err(RecordError::BadRecordMac));
}

#[test]
fn reflected_record_is_rejected() {
    // Each direction has its own secret: what A seals, A's own opener cannot open.
    let (mut a_send, _) = pair(7, ContentType::STANDARD);
    let (_, mut a_recv) = pair(8, ContentType::STANDARD);
    let mut wire = Vec::new();
    a_send.seal_data(b"to bob", &mut wire).unwrap();
    let f = frames(&wire);
    assert_eq!(
        open_data(&mut a_recv, &f[0]),
        Err(RecordError::BadRecordMac)
    );
}

#[test]
fn record_moved_to_another_channel_is_rejected() {
    let (mut s, _) = pair(9, ContentType::STANDARD);
    let (_, mut o) = pair(9, ContentType::REQUEST);
    let mut wire = Vec::new();
    s.seal_data(b"x", &mut wire).unwrap();
    let f = frames(&wire);
    assert_eq!(
        open_data(&mut o, &f[0]),
        Err(RecordError::WrongChannel {
            expected: ContentType::REQUEST,
            got: ContentType::STANDARD
        })
    );
    // Relabelling the header as the request channel breaks the tag (the header is AAD).
    let mut relabelled = f[0].clone();
    relabelled.0[0] = ContentType::REQUEST.0;
    let (_, mut o2) = pair(9, ContentType::REQUEST);
    assert_eq!(
        open_data(&mut o2, &relabelled),
        Err(RecordError::BadRecordMac)
    );
}

#[test]
fn truncated_record_is_rejected() {
    let (mut s, mut o) = pair(10, ContentType::STANDARD);
    let mut wire = Vec::new();
    s.seal_data(b"hello", &mut wire).unwrap();
    let f = frames(&wire);
    let mut header = f[0].0;
    header[4] = 10; // claim and carry only 10 bytes
    let mut body = f[0].1[..10].to_vec();
    assert_eq!(o.open(&header, &mut body), Err(RecordError::TooShort(10)));
}

#[test]
fn close_ends_the_direction() {
    let (mut s, mut o) = pair(11, ContentType::STANDARD);
    let mut wire = Vec::new();
    s.seal_close(b"bye", &mut wire).unwrap();
    assert_eq!(s.seal_data(b"more", &mut wire), Err(RecordError::Closed));
    let f = frames(&wire);
    let mut body = f[0].1.clone();
    assert_eq!(
        o.open(&f[0].0, &mut body),
        Ok(OpenedRecord::Close(&b"bye"[..]))
    );
    assert!(o.is_closed());
    let mut body = f[0].1.clone();
    assert_eq!(o.open(&f[0].0, &mut body), Err(RecordError::Closed));
}

#[test]
fn counter_near_its_limit_rekeys_instead_of_wrapping() {
    let (mut s, mut o) = pair(12, ContentType::STANDARD);
    s.set_sequence_for_testing(KEY_UPDATE_INTERVAL - 2);
    o.set_sequence_for_testing(KEY_UPDATE_INTERVAL - 2);
    let mut wire = Vec::new();
    for i in 0..4u8 {
        s.seal_data(&[i], &mut wire).unwrap();
    }
    assert_eq!(s.sequence(), 2, "two records under the new key");
    let f = frames(&wire);
    assert_eq!(f.len(), 5, "four data records and one key update");
    let mut got = Vec::new();
    for fr in &f {
        let mut body = fr.1.clone();
        match o.open(&fr.0, &mut body).unwrap() {
            OpenedRecord::Data(d) => got.extend_from_slice(d),
            OpenedRecord::KeyUpdated => got.push(0xff),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(got, [0, 1, 0xff, 2, 3]);
}

#[test]
fn peer_that_skips_the_key_update_is_cut_off() {
    let (_, mut o) = pair(13, ContentType::STANDARD);
    let (mut s, _) = pair(13, ContentType::STANDARD);
    // A sender that ignores its budget: force its counter past the interval.
    s.set_sequence_for_testing(KEY_UPDATE_INTERVAL);
    o.set_sequence_for_testing(KEY_UPDATE_INTERVAL);
    // seal() would rekey first; seal_one() bypasses that like a misbehaving peer.
    let mut wire = Vec::new();
    s.seal_one(RecordKind::DATA, b"over budget", &mut wire)
        .unwrap();
    let f = frames(&wire);
    assert_eq!(
        open_data(&mut o, &f[0]),
        Err(RecordError::KeyUpdateViolation)
    );
}

#[test]
fn steady_state_sealing_reuses_the_buffer() {
    let (mut s, mut o) = pair(14, ContentType::STANDARD);
    let mut wire = Vec::with_capacity(4096);
    let ptr = wire.as_ptr();
    for _ in 0..100 {
        wire.clear();
        s.seal_data(&[0x55; 1024], &mut wire).unwrap();
        let (header, body) = wire.split_at_mut(FRAME_HEADER_LEN);
        let header: [u8; 5] = header.try_into().unwrap();
        assert!(matches!(o.open(&header, body), Ok(OpenedRecord::Data(_))));
    }
    assert_eq!(wire.as_ptr(), ptr, "no reallocation on the steady path");
}

#[test]
fn kind_rewritten_in_clear_is_rejected() {
    // The kind travels in clear but is associated data: turning data into a close, a key
    // update or an unknown kind breaks the tag, and nothing moves.
    let (mut s, _) = pair(15, ContentType::STANDARD);
    let mut wire = Vec::new();
    s.seal_data(b"", &mut wire).unwrap();
    let (header, body) = frames(&wire).remove(0);
    assert_eq!(body.first(), Some(&RecordKind::DATA.0));
    for forged in [RecordKind::CLOSE, RecordKind::KEY_UPDATE, RecordKind(0x7f)] {
        let (_, mut o) = pair(15, ContentType::STANDARD);
        let mut bad = body.clone();
        bad[0] = forged.0;
        assert_eq!(o.open(&header, &mut bad), Err(RecordError::BadRecordMac));
        assert_eq!(o.sequence(), 0);
        assert!(!o.is_closed());
    }
}

#[test]
fn authentic_record_of_unknown_kind_is_refused() {
    let (mut s, mut o) = pair(16, ContentType::STANDARD);
    let mut wire = Vec::new();
    s.seal_one(RecordKind(0x7f), b"from the future", &mut wire)
        .unwrap();
    let (header, mut body) = frames(&wire).remove(0);
    assert_eq!(
        o.open(&header, &mut body),
        Err(RecordError::UnknownKind(0x7f))
    );
    // Sticky, like every other error.
    s.seal_data(b"after", &mut wire).unwrap();
    assert_eq!(
        open_data(&mut o, &frames(&wire)[1]),
        Err(RecordError::UnknownKind(0x7f))
    );
}

#[test]
fn payload_is_the_whole_aead_input() {
    // A 64-byte message is four whole AES blocks: the kind is not encrypted with it.
    let (mut s, _) = pair(17, ContentType::STANDARD);
    let mut wire = Vec::new();
    s.seal_data(&[0xab; 64], &mut wire).unwrap();
    let (_, body) = frames(&wire).remove(0);
    assert_eq!(body.len(), 1 + 64 + TAG_LEN);
    assert_eq!(body.first(), Some(&RecordKind::DATA.0));
}

#[test]
fn layout_opens_with_plain_aes_gcm() {
    // The documented layout, checked with the AEAD directly: the header and the clear kind
    // are the associated data, the payload alone is encrypted, the tag comes last.
    use aes_gcm::AeadInOut;
    let (mut s, _) = pair(18, ContentType::STANDARD);
    let mut wire = Vec::new();
    s.seal_data(b"layout", &mut wire).unwrap();
    s.seal_data(b"second", &mut wire).unwrap();
    let keys = TrafficKeys::new(Secret::from_array([18; 32]));
    for (seq, (header, body)) in frames(&wire).into_iter().enumerate() {
        let (kind, rest) = body.split_first().unwrap();
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        let mut aad = header.to_vec();
        aad.push(*kind);
        let mut plaintext = ciphertext.to_vec();
        keys.cipher
            .decrypt_inout_detached(
                &keys.nonce(seq as u64).into(),
                &aad,
                plaintext.as_mut_slice().into(),
                tag.try_into().unwrap(),
            )
            .unwrap();
        assert_eq!(*kind, RecordKind::DATA.0);
        assert_eq!(plaintext, [b"layout", b"second"][seq]);
    }
}
