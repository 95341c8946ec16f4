//! The handshake messages and their encodings.
//!
//! Each message is `type (1) || body`, carried whole in one frame (plaintext for the two
//! hellos, an encrypted record for the rest). The transcript hashes exactly these bytes.

use alloc::vec::Vec;
use core::fmt;

use crate::codec::{
    Codec, DecodeError, EncodeError, Reader, check_len, put_u8_prefixed, put_u16_prefixed,
};
use crate::crypto::{EPHEMERAL_KEY_LEN, HASH_LEN};
use crate::identity::{MAX_USERNAME_LEN, SIGNATURE_LEN, Username};
use crate::pki::{MAX_CERT_LEN, MAX_CHAIN_CERTS, MAX_CRL_LEN};

/// Bytes of each side's handshake random.
pub const RANDOM_LEN: usize = 32;

/// The type byte of a handshake message, as a newtype so unknown codes print as hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HandshakeType(pub u8);

impl HandshakeType {
    /// Client to server, plaintext: version, random, ephemeral key.
    pub const CLIENT_HELLO: HandshakeType = HandshakeType(0x01);
    /// Server to client, plaintext: version, random, ephemeral key.
    pub const SERVER_HELLO: HandshakeType = HandshakeType(0x02);
    /// Server to client, encrypted: the CA's current CRL, or none (the code of TLS's
    /// CertificateStatus, its nearest kin).
    pub const SERVER_CRL: HandshakeType = HandshakeType(0x16);
    /// Server to client, encrypted: the certificate chain.
    pub const SERVER_CERTIFICATE: HandshakeType = HandshakeType(0x0b);
    /// Server to client, encrypted: signature over the transcript.
    pub const SERVER_VERIFY: HandshakeType = HandshakeType(0x0f);
    /// Server to client, encrypted: MAC over the transcript.
    pub const SERVER_FINISHED: HandshakeType = HandshakeType(0x14);
    /// Client to server, encrypted: the username.
    pub const CLIENT_IDENTITY: HandshakeType = HandshakeType(0x10);
    /// Client to server, encrypted: signature over the transcript.
    pub const CLIENT_VERIFY: HandshakeType = HandshakeType(0x11);
    /// Client to server, encrypted: MAC over the transcript.
    pub const CLIENT_FINISHED: HandshakeType = HandshakeType(0x15);
    /// Server to client, first record of the standard channel: the session identity.
    pub const WELCOME: HandshakeType = HandshakeType(0x20);

    fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::CLIENT_HELLO => "ClientHello",
            Self::SERVER_HELLO => "ServerHello",
            Self::SERVER_CRL => "ServerCrl",
            Self::SERVER_CERTIFICATE => "ServerCertificate",
            Self::SERVER_VERIFY => "ServerVerify",
            Self::SERVER_FINISHED => "ServerFinished",
            Self::CLIENT_IDENTITY => "ClientIdentity",
            Self::CLIENT_VERIFY => "ClientVerify",
            Self::CLIENT_FINISHED => "ClientFinished",
            Self::WELCOME => "Welcome",
            _ => return None,
        })
    }
}

impl fmt::Debug for HandshakeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "HandshakeType(0x{:02x})", self.0),
        }
    }
}

/// Peeks at the type byte of an encoded message.
pub(crate) fn message_type(bytes: &[u8]) -> Result<HandshakeType, DecodeError> {
    bytes
        .first()
        .map(|b| HandshakeType(*b))
        .ok_or(DecodeError::Truncated { needed: 1 })
}

/// Reads the type byte and checks it.
fn expect_type(r: &mut Reader<'_>, want: HandshakeType) -> Result<(), DecodeError> {
    let got = r.u8()?;
    if got != want.0 {
        return Err(DecodeError::UnknownType {
            what: "handshake message",
            code: got,
        });
    }
    Ok(())
}

/// `ClientHello` and `ServerHello` share one shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// The protocol version the sender speaks.
    pub version: u16,
    /// Fresh randomness of the sender.
    pub random: [u8; RANDOM_LEN],
    /// The sender's ephemeral X25519 public key.
    pub key_share: [u8; EPHEMERAL_KEY_LEN],
}

impl Hello {
    fn encode_as(&self, ty: HandshakeType, out: &mut Vec<u8>) {
        out.push(ty.0);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.random);
        out.extend_from_slice(&self.key_share);
    }

    fn read_as(ty: HandshakeType, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        expect_type(r, ty)?;
        Ok(Hello {
            version: r.u16()?,
            random: r.take_array()?,
            key_share: r.take_array()?,
        })
    }
}

macro_rules! wrapper_codec {
    ($name:ident, $inner:ty, $ty:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name(pub $inner);

        impl Codec for $name {
            fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
                self.0.encode_as($ty, out);
                Ok(())
            }
            fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                <$inner>::read_as($ty, r).map($name)
            }
        }
    };
}

wrapper_codec!(
    ClientHello,
    Hello,
    HandshakeType::CLIENT_HELLO,
    "The client's first message."
);
wrapper_codec!(
    ServerHello,
    Hello,
    HandshakeType::SERVER_HELLO,
    "The server's first message."
);

/// The server's certificate chain, leaf first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerCertificate {
    /// DER certificates, leaf first, at most [`MAX_CHAIN_CERTS`].
    pub chain: Vec<Vec<u8>>,
}

impl Codec for ServerCertificate {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let count = self.chain.len();
        check_len("certificate chain", count, 1, MAX_CHAIN_CERTS)?;
        let count = u8::try_from(count).map_err(|_| EncodeError {
            what: "certificate chain",
            len: count,
            min: 1,
            max: MAX_CHAIN_CERTS,
        })?;
        out.push(HandshakeType::SERVER_CERTIFICATE.0);
        out.push(count);
        for cert in &self.chain {
            put_u16_prefixed(out, "certificate", cert, 1, MAX_CERT_LEN)?;
        }
        Ok(())
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        expect_type(r, HandshakeType::SERVER_CERTIFICATE)?;
        let count = usize::from(r.u8()?);
        if count == 0 || count > MAX_CHAIN_CERTS {
            return Err(DecodeError::BadLength {
                what: "certificate chain",
                got: count,
                min: 1,
                max: MAX_CHAIN_CERTS,
            });
        }
        let mut chain = Vec::with_capacity(count);
        for _ in 0..count {
            chain.push(r.u16_prefixed("certificate", 1, MAX_CERT_LEN)?.to_vec());
        }
        Ok(ServerCertificate { chain })
    }
}

/// The CRL the server carries for its clients: its CA's current CRL, or none. Always sent,
/// first in the encrypted flight, so that every state of the client waits for exactly
/// one message; a count of 0 or 1, then the DER CRL as `u16<1..=MAX_CRL_LEN>`.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerCrl {
    /// The DER CRL, at most [`MAX_CRL_LEN`] bytes, or `None`.
    pub crl: Option<Vec<u8>>,
}

impl fmt::Debug for ServerCrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCrl")
            .field("crl_len", &self.crl.as_ref().map(Vec::len))
            .finish()
    }
}

impl Codec for ServerCrl {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(HandshakeType::SERVER_CRL.0);
        match &self.crl {
            None => out.push(0),
            Some(crl) => {
                out.push(1);
                put_u16_prefixed(out, "CRL", crl, 1, MAX_CRL_LEN)?;
            }
        }
        Ok(())
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        expect_type(r, HandshakeType::SERVER_CRL)?;
        let crl = match r.u8()? {
            0 => None,
            1 => Some(r.u16_prefixed("CRL", 1, MAX_CRL_LEN)?.to_vec()),
            count => {
                return Err(DecodeError::BadLength {
                    what: "CRL count",
                    got: usize::from(count),
                    min: 0,
                    max: 1,
                });
            }
        };
        Ok(ServerCrl { crl })
    }
}

/// A signature over the transcript (`ServerVerify` or `ClientVerify`).
#[derive(Clone, PartialEq, Eq)]
pub struct Verify {
    /// Ed25519 signature.
    pub signature: [u8; SIGNATURE_LEN],
}

impl fmt::Debug for Verify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Verify(..)")
    }
}

impl Verify {
    fn encode_as(&self, ty: HandshakeType, out: &mut Vec<u8>) {
        out.push(ty.0);
        out.extend_from_slice(&self.signature);
    }

    fn read_as(ty: HandshakeType, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        expect_type(r, ty)?;
        Ok(Verify {
            signature: r.take_array()?,
        })
    }
}

/// A Finished MAC (`ServerFinished` or `ClientFinished`).
#[derive(Clone, PartialEq, Eq)]
pub struct Finished {
    /// `HMAC-SHA256(finished_key, transcript_hash)`.
    pub mac: [u8; HASH_LEN],
}

impl fmt::Debug for Finished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Finished(..)")
    }
}

impl Finished {
    fn encode_as(&self, ty: HandshakeType, out: &mut Vec<u8>) {
        out.push(ty.0);
        out.extend_from_slice(&self.mac);
    }

    fn read_as(ty: HandshakeType, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        expect_type(r, ty)?;
        Ok(Finished {
            mac: r.take_array()?,
        })
    }
}

wrapper_codec!(
    ServerVerify,
    Verify,
    HandshakeType::SERVER_VERIFY,
    "The server's signature over the transcript."
);
wrapper_codec!(
    ClientVerify,
    Verify,
    HandshakeType::CLIENT_VERIFY,
    "The client's signature over the transcript."
);
wrapper_codec!(
    ServerFinished,
    Finished,
    HandshakeType::SERVER_FINISHED,
    "The server's key confirmation."
);
wrapper_codec!(
    ClientFinished,
    Finished,
    HandshakeType::CLIENT_FINISHED,
    "The client's key confirmation."
);

/// The client's claimed username, sent only under the handshake key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientIdentity {
    /// Who the client says it is.
    pub username: Username,
}

impl Codec for ClientIdentity {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(HandshakeType::CLIENT_IDENTITY.0);
        put_padded_username(out, &self.username)
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        expect_type(r, HandshakeType::CLIENT_IDENTITY)?;
        Ok(ClientIdentity {
            username: read_padded_username(r)?,
        })
    }
}

/// A username in a fixed-size field: its length (1 byte), then the name padded with zero
/// bytes to [`MAX_USERNAME_LEN`]. Every name makes the same number of bytes on the wire,
/// so the handshake does not tell an observer how long the user's name is; padding that is
/// not all zero is refused.
fn put_padded_username(out: &mut Vec<u8>, username: &Username) -> Result<(), EncodeError> {
    let name = username.as_str().as_bytes();
    put_u8_prefixed(out, "username", name, 1, MAX_USERNAME_LEN)?;
    out.resize(out.len() + (MAX_USERNAME_LEN - name.len()), 0);
    Ok(())
}

fn read_padded_username(r: &mut Reader<'_>) -> Result<Username, DecodeError> {
    let len = usize::from(r.u8()?);
    if !(1..=MAX_USERNAME_LEN).contains(&len) {
        return Err(DecodeError::InvalidValue("username"));
    }
    let field = r.take(MAX_USERNAME_LEN)?;
    let (name, padding) = field
        .split_at_checked(len)
        .ok_or(DecodeError::InvalidValue("username"))?;
    if padding.iter().any(|b| *b != 0) {
        return Err(DecodeError::InvalidValue("username padding"));
    }
    Username::from_bytes(name).map_err(|_| DecodeError::InvalidValue("username"))
}

/// The server's first record on the standard channel: the session identity it assigned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Welcome {
    /// The identifier of this session on the server.
    pub session_id: u64,
    /// The username the server authenticated.
    pub username: Username,
}

impl Codec for Welcome {
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(HandshakeType::WELCOME.0);
        out.extend_from_slice(&self.session_id.to_be_bytes());
        put_padded_username(out, &self.username)
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        expect_type(r, HandshakeType::WELCOME)?;
        let session_id = r.u64()?;
        let username = read_padded_username(r)?;
        Ok(Welcome {
            session_id,
            username,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn identity_and_welcome_are_one_size_for_every_username() {
        let short = Username::new("a").unwrap();
        let long = Username::new(&"u".repeat(MAX_USERNAME_LEN)).unwrap();
        let size =
            |m: &dyn Fn(Username) -> Vec<u8>| (m(short.clone()).len(), m(long.clone()).len());
        let (a, b) = size(&|username| ClientIdentity { username }.to_bytes().unwrap());
        assert_eq!(a, b);
        let (a, b) = size(&|username| {
            Welcome {
                session_id: 7,
                username,
            }
            .to_bytes()
            .unwrap()
        });
        assert_eq!(a, b);
        // Padding that is not zero is refused.
        let mut bytes = ClientIdentity { username: short }.to_bytes().unwrap();
        if let Some(last) = bytes.last_mut() {
            *last = 1;
        }
        assert_eq!(
            ClientIdentity::decode(&bytes),
            Err(DecodeError::InvalidValue("username padding"))
        );
    }

    use super::*;
    use alloc::vec;

    fn round_trip<T: Codec + PartialEq + fmt::Debug>(value: T) {
        let bytes = value.to_bytes().unwrap();
        assert_eq!(T::decode(&bytes).unwrap(), value);
        for cut in 0..bytes.len() {
            assert!(
                matches!(T::decode(&bytes[..cut]), Err(DecodeError::Truncated { .. })),
                "prefix of {cut} bytes accepted"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(T::decode(&longer), Err(DecodeError::TrailingBytes(1)));
    }

    #[test]
    fn every_message_round_trips_and_rejects_truncation_and_trailing_bytes() {
        let hello = Hello {
            version: 1,
            random: [1; 32],
            key_share: [2; 32],
        };
        round_trip(ClientHello(hello.clone()));
        round_trip(ServerHello(hello));
        round_trip(ServerCertificate {
            chain: vec![vec![0x30; 10], vec![0x31; 300]],
        });
        round_trip(ServerCrl { crl: None });
        round_trip(ServerCrl {
            crl: Some(vec![0x30; 200]),
        });
        round_trip(ServerVerify(Verify { signature: [3; 64] }));
        round_trip(ClientVerify(Verify { signature: [4; 64] }));
        round_trip(ServerFinished(Finished { mac: [5; 32] }));
        round_trip(ClientFinished(Finished { mac: [6; 32] }));
        round_trip(ClientIdentity {
            username: Username::new("alice").unwrap(),
        });
        round_trip(Welcome {
            session_id: 42,
            username: Username::new("bob").unwrap(),
        });
    }

    #[test]
    fn a_message_of_another_type_is_rejected() {
        let bytes = ServerVerify(Verify { signature: [3; 64] })
            .to_bytes()
            .unwrap();
        assert_eq!(
            ClientVerify::decode(&bytes),
            Err(DecodeError::UnknownType {
                what: "handshake message",
                code: HandshakeType::SERVER_VERIFY.0
            })
        );
    }

    #[test]
    fn chain_bounds_are_enforced() {
        // Six one-byte certificates, as no encoder of ours would write them.
        let mut too_many = vec![HandshakeType::SERVER_CERTIFICATE.0, 6];
        for _ in 0..MAX_CHAIN_CERTS + 1 {
            too_many.extend_from_slice(&[0, 1, 0x30]);
        }
        let bad_chain = |got| {
            Err(DecodeError::BadLength {
                what: "certificate chain",
                got,
                min: 1,
                max: MAX_CHAIN_CERTS,
            })
        };
        assert_eq!(ServerCertificate::decode(&too_many), bad_chain(6));
        let empty = [HandshakeType::SERVER_CERTIFICATE.0, 0];
        assert_eq!(ServerCertificate::decode(&empty), bad_chain(0));
    }

    #[test]
    fn crl_bounds_are_enforced_on_the_wire() {
        // The largest CRL fits one record with its message; one byte more is refused by
        // the encoder and, before any copy, by the decoder.
        let largest = ServerCrl {
            crl: Some(vec![0x30; MAX_CRL_LEN]),
        };
        let bytes = largest.to_bytes().unwrap();
        assert_eq!(bytes.len(), crate::codec::MAX_PLAINTEXT_LEN);
        round_trip(largest);
        assert_eq!(
            ServerCrl {
                crl: Some(vec![0x30; MAX_CRL_LEN + 1])
            }
            .to_bytes(),
            Err(EncodeError {
                what: "CRL",
                len: MAX_CRL_LEN + 1,
                min: 1,
                max: MAX_CRL_LEN
            })
        );
        let mut over = vec![HandshakeType::SERVER_CRL.0, 1];
        over.extend_from_slice(&u16::try_from(MAX_CRL_LEN + 1).unwrap().to_be_bytes());
        over.resize(over.len() + MAX_CRL_LEN + 1, 0x30);
        assert!(matches!(
            ServerCrl::decode(&over),
            Err(DecodeError::BadLength { what: "CRL", .. })
        ));
        assert_eq!(
            ServerCrl { crl: Some(vec![]) }.to_bytes().unwrap_err().what,
            "CRL"
        );
        assert_eq!(
            ServerCrl::decode(&[HandshakeType::SERVER_CRL.0, 1, 0, 0]),
            Err(DecodeError::BadLength {
                what: "CRL",
                got: 0,
                min: 1,
                max: MAX_CRL_LEN
            })
        );
        assert_eq!(
            ServerCrl::decode(&[HandshakeType::SERVER_CRL.0, 2]),
            Err(DecodeError::BadLength {
                what: "CRL count",
                got: 2,
                min: 0,
                max: 1
            })
        );
    }

    #[test]
    fn every_field_at_its_maximum_round_trips() {
        round_trip(ServerCertificate {
            chain: vec![vec![0x30; MAX_CERT_LEN]; MAX_CHAIN_CERTS],
        });
        round_trip(ServerCertificate {
            chain: vec![vec![0x30; 1]],
        });
        let longest = Username::new(&"u".repeat(MAX_USERNAME_LEN)).unwrap();
        round_trip(ClientIdentity {
            username: longest.clone(),
        });
        round_trip(Welcome {
            session_id: u64::MAX,
            username: longest,
        });
    }

    #[test]
    fn a_chain_the_decoder_would_reject_is_refused() {
        let encode = |chain| ServerCertificate { chain }.to_bytes();
        let chain_error = |len| EncodeError {
            what: "certificate chain",
            len,
            min: 1,
            max: MAX_CHAIN_CERTS,
        };
        assert_eq!(
            encode(vec![vec![0x30]; MAX_CHAIN_CERTS + 1]),
            Err(chain_error(MAX_CHAIN_CERTS + 1))
        );
        // More than a one-byte count could even say: refused, not cut to 255.
        assert_eq!(encode(vec![vec![0x30]; 300]), Err(chain_error(300)));
        assert_eq!(encode(Vec::new()), Err(chain_error(0)));
        let cert_error = |len| EncodeError {
            what: "certificate",
            len,
            min: 1,
            max: MAX_CERT_LEN,
        };
        assert_eq!(
            encode(vec![vec![0x30; 10], vec![0x30; MAX_CERT_LEN + 1]]),
            Err(cert_error(MAX_CERT_LEN + 1))
        );
        assert_eq!(encode(vec![vec![0x30; 10], Vec::new()]), Err(cert_error(0)));
    }

    #[test]
    fn invalid_usernames_are_rejected_on_the_wire() {
        let mut bytes = vec![HandshakeType::CLIENT_IDENTITY.0, 3, b'a', b'/', b'b'];
        bytes.resize(2 + MAX_USERNAME_LEN, 0);
        assert_eq!(
            ClientIdentity::decode(&bytes),
            Err(DecodeError::InvalidValue("username"))
        );
        // A length outside 1..=32 is refused before the field is read.
        let mut bytes = vec![HandshakeType::CLIENT_IDENTITY.0, 0];
        bytes.resize(2 + MAX_USERNAME_LEN, 0);
        assert_eq!(
            ClientIdentity::decode(&bytes),
            Err(DecodeError::InvalidValue("username"))
        );
    }
}
