//! The `deframer` target: arbitrary bytes through the stream [`Deframer`].

use alloc::vec;
use alloc::vec::Vec;

use super::feed::genuine_flights;
use super::input::{Input, chunks};
use crate::codec::{Deframer, FRAME_HEADER_LEN, MAX_FRAME_LEN, encode_frame_header};

/// Arbitrary bytes, in chunks the first byte chooses, through a [`Deframer`].
///
/// Checks: the buffer stays within one maximal frame; every frame returned re-encodes to
/// exactly the bytes it came from, in order; pushing makes progress unless a complete frame
/// waits; after the stream, what is buffered is exactly what was not returned.
pub fn deframer(data: &[u8]) {
    let mut input = Input::new(data);
    let size = input.u8();
    let stream = input.rest();
    let mut d = Deframer::new();
    let mut framed = Vec::new();
    let mut taken = 0usize;
    let mut failed = false;
    'feed: for chunk in chunks(stream, size) {
        let mut rest = chunk;
        loop {
            let took = d.push(rest);
            assert!(took <= rest.len());
            taken += took;
            rest = rest.get(took..).unwrap_or(&[]);
            assert!(d.buffered() <= FRAME_HEADER_LEN + MAX_FRAME_LEN);
            let mut got_frame = false;
            loop {
                match d.next_frame() {
                    Ok(Some(frame)) => {
                        assert!(frame.payload.len() <= MAX_FRAME_LEN);
                        assert_eq!(frame.header.first(), Some(&frame.content_type.0));
                        let header = encode_frame_header(frame.content_type, frame.payload.len());
                        assert_eq!(header, Ok(frame.header));
                        framed.extend_from_slice(&frame.header);
                        framed.extend_from_slice(frame.payload);
                        got_frame = true;
                    }
                    Ok(None) => break,
                    Err(_) => {
                        failed = true;
                        break 'feed;
                    }
                }
            }
            if rest.is_empty() {
                break;
            }
            // Taking nothing is only allowed while a complete frame waits to be drained.
            assert!(took > 0 || got_frame, "deframer stalled");
        }
    }
    assert_eq!(framed.as_slice(), stream.get(..framed.len()).unwrap_or(&[]));
    if !failed {
        assert_eq!(taken, stream.len());
        assert_eq!(d.buffered(), stream.len() - framed.len());
    }
}

/// Seeds: each genuine flight whole, all of them in 3-byte chunks, and two hand-made streams.
pub(super) fn seeds() -> Vec<Vec<u8>> {
    let flights = genuine_flights();
    let mut seeds: Vec<Vec<u8>> = flights.iter().map(|w| [&[0u8][..], w].concat()).collect();
    seeds.push([&[3u8][..], &flights.concat()].concat());
    seeds.push(vec![1, 0x04, 0, 0, 0, 2, 0xaa, 0xbb, 0x02, 0, 0, 0, 0]);
    seeds.push(vec![0, 0x04, 0, 1, 0, 1]);
    seeds
}
