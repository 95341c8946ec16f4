//! The `handshake_messages` target: every handshake message decoder, and the round trip
//! the chat target uses too.

use alloc::vec::Vec;

use super::feed::{genuine_flights, split_first_frame};
use crate::codec::Codec;
use crate::handshake::messages::{
    ClientFinished, ClientHello, ClientIdentity, ClientVerify, Finished, ServerCertificate,
    ServerCrl, ServerFinished, ServerHello, ServerVerify, Verify, Welcome,
};
use crate::identity::Username;
use crate::testkit::fixtures;
use crate::testkit::pair::{SESSION_ID, USER};

pub(super) fn round_trip<T: Codec>(data: &[u8]) {
    if let Ok(value) = T::decode(data) {
        assert_eq!(
            value.to_bytes().as_deref(),
            Ok(data),
            "decode then encode changed the bytes"
        );
    }
}

/// The input through every handshake message decoder; whatever decodes must encode back
/// to exactly the input (one canonical encoding, no trailing bytes).
pub fn handshake_messages(data: &[u8]) {
    round_trip::<ClientHello>(data);
    round_trip::<ServerHello>(data);
    round_trip::<ServerCrl>(data);
    round_trip::<ServerCertificate>(data);
    round_trip::<ServerVerify>(data);
    round_trip::<ServerFinished>(data);
    round_trip::<ClientIdentity>(data);
    round_trip::<ClientVerify>(data);
    round_trip::<ClientFinished>(data);
    round_trip::<Welcome>(data);
}

/// Seeds: the plaintext hellos as sent, then every encrypted message as encoded.
pub(super) fn seeds() -> Vec<Vec<u8>> {
    let flights = genuine_flights();
    let f = fixtures::get();
    // The plaintext hellos as sent, then every encrypted message as encoded.
    let mut seeds: Vec<Vec<u8>> = flights
        .iter()
        .take(2)
        .filter_map(|w| split_first_frame(w).map(|(msg, _)| msg.to_vec()))
        .collect();
    seeds.push(super::encoded(&ServerCrl {
        crl: Some(f.crl_der.clone()),
    }));
    seeds.push(super::encoded(&ServerCrl { crl: None }));
    seeds.push(super::encoded(&ServerCertificate {
        chain: f.chain.clone(),
    }));
    seeds.push(super::encoded(&ServerVerify(Verify { signature: [9; 64] })));
    seeds.push(super::encoded(&ServerFinished(Finished { mac: [10; 32] })));
    seeds.push(super::encoded(&ClientVerify(Verify { signature: [7; 64] })));
    seeds.push(super::encoded(&ClientFinished(Finished { mac: [8; 32] })));
    if let Ok(username) = Username::new(USER) {
        seeds.push(super::encoded(&ClientIdentity {
            username: username.clone(),
        }));
        seeds.push(super::encoded(&Welcome {
            session_id: SESSION_ID,
            username,
        }));
    }
    seeds
}
