//! A CRL the server carries in its handshake flight: what the server serves
//! ([`ServedCrl`], [`FlightCrlSource`]), what a client makes of it ([`NewerCrl`],
//! [`FlightCrlError`]), and the CRL number that orders them ([`CrlNumber`]).
//!
//! The rules (docs/PROTOCOL.md section 7.1): a client adopts a CRL from the flight only if
//! its trust anchor issued and signed it, it carries a crlNumber strictly greater than the
//! one of the anchor's CRL the client holds, and it is current (thisUpdate ≤ now <
//! nextUpdate). A CRL that is not the anchor's, or does not parse, fails the handshake; one
//! that is merely not newer, or not current, is ignored and the held CRL is used.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::fmt;

use der::Decode as _;
use der::asn1::UintRef;
use rustls_pki_types::CertificateDer;
use webpki::{CertRevocationList, EndEntityCert, OwnedCertRevocationList};
use x509_cert::certificate::Rfc5280;
use x509_cert::crl::CertificateList;

use crate::codec::MAX_PLAINTEXT_LEN;
use crate::time::UnixTime;

/// The most bytes of a DER CRL carried in the server's flight: what fits one handshake
/// record beside the ServerCrl message's own four bytes (type, count, length), 16 380.
/// An Ed25519 CRL takes some 300 bytes plus about 40 per revoked certificate, so this
/// holds about 400 revocations; a CA drops a revoked certificate from its CRL once the
/// certificate has expired.
pub const MAX_CRL_LEN: usize = MAX_PLAINTEXT_LEN - 4;

/// The most bytes of a crlNumber (RFC 5280 §5.2.3).
const MAX_CRL_NUMBER_LEN: usize = 20;

/// id-ce-cRLNumber, 2.5.29.20, the OID's content bytes.
const OID_CRL_NUMBER: [u8; 3] = [0x55, 0x1d, 0x14];
/// id-Ed25519, 1.3.101.112.
const OID_ED25519: [u8; 3] = [0x2b, 0x65, 0x70];

/// A CRL's crlNumber extension (RFC 5280 §5.2.3): a non-negative integer of at most 20
/// bytes that the CA increases with every CRL it issues, so a larger number is a newer
/// list. Ordered as integers; shown in decimal (in hex above 2^128).
///
/// ```
/// use securecom_proto::pki::CrlNumber;
/// let two = CrlNumber::from_be_bytes(&[2]).unwrap();
/// let big = CrlNumber::from_be_bytes(&[1, 0]).unwrap();
/// assert!(two < big);
/// assert_eq!(big.to_string(), "256");
/// assert_eq!(CrlNumber::from_be_bytes(&[0, 0, 2]), Some(two));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CrlNumber {
    /// Big-endian, without leading zero bytes, in the first `len` bytes.
    bytes: [u8; MAX_CRL_NUMBER_LEN],
    len: u8,
}

impl CrlNumber {
    /// The number from its big-endian bytes (leading zeros allowed); `None` if it needs
    /// more than 20 bytes.
    pub fn from_be_bytes(be: &[u8]) -> Option<Self> {
        let start = be.iter().position(|b| *b != 0).unwrap_or(be.len());
        let digits = be.get(start..)?;
        if digits.len() > MAX_CRL_NUMBER_LEN {
            return None;
        }
        let mut bytes = [0u8; MAX_CRL_NUMBER_LEN];
        bytes.get_mut(..digits.len())?.copy_from_slice(digits);
        Some(CrlNumber {
            bytes,
            len: u8::try_from(digits.len()).ok()?,
        })
    }

    /// The number as big-endian bytes, without leading zeros (empty for zero).
    pub fn as_be_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl Ord for CrlNumber {
    fn cmp(&self, other: &Self) -> Ordering {
        // Without leading zeros, a longer number is a larger one.
        self.len
            .cmp(&other.len)
            .then_with(|| self.as_be_bytes().cmp(other.as_be_bytes()))
    }
}

impl PartialOrd for CrlNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for CrlNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let be = self.as_be_bytes();
        if be.len() <= 16 {
            let mut value = 0u128;
            for b in be {
                value = (value << 8) | u128::from(*b);
            }
            write!(f, "{value}")
        } else {
            f.write_str("0x")?;
            be.iter().try_for_each(|b| write!(f, "{b:02x}"))
        }
    }
}

impl fmt::Debug for CrlNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CrlNumber({self})")
    }
}

/// Why a CRL offered in the server's flight (or configured to be served) was not taken.
///
/// Some refusals fail the handshake, others leave the client on the CRL it holds: see
/// [`FlightCrlError::fails_handshake`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlightCrlError {
    /// Not a DER CRL the verifier supports (v2, with a nextUpdate, no delta or indirect
    /// CRL, known reason codes), or signed with another algorithm than Ed25519.
    #[error("not a CRL this client supports")]
    Malformed,
    /// Longer than [`MAX_CRL_LEN`]: it would not fit the handshake record.
    #[error("CRL of {len} bytes, at most {max} fit the handshake")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Issued by another CA than the trust anchor (another root, an intermediate); on
    /// the server, by another CA than the one that issued the top of its chain.
    #[error("CRL not issued by the trusted CA")]
    NotFromAnchor,
    /// Names the trust anchor as issuer, but its signature does not verify under the
    /// anchor's key: forged, or signed with another key.
    #[error("CRL names the trusted CA but its signature does not verify under the CA's key")]
    BadSignature,
    /// No crlNumber: it cannot be ordered against the CRL the client holds.
    #[error("CRL without a crlNumber")]
    NoCrlNumber,
    /// An issuingDistributionPoint limits its scope: only a full CRL can replace the one
    /// the client holds.
    #[error("CRL with an issuingDistributionPoint (a partial CRL)")]
    Partitioned,
    /// Its crlNumber is not greater than the one of the CRL the client holds.
    #[error("CRL number {offered} is not newer than the held CRL's {held}")]
    NotNewer {
        /// The number of the CRL the client holds.
        held: CrlNumber,
        /// The number of the CRL offered.
        offered: CrlNumber,
    },
    /// Its thisUpdate is after the client's clock.
    #[error("CRL not valid before {this_update} (now {now})")]
    NotYetValid {
        /// The client's time.
        now: UnixTime,
        /// The CRL's thisUpdate.
        this_update: UnixTime,
    },
    /// The client's clock is at or past its nextUpdate.
    #[error("CRL expired at {next_update} (now {now})")]
    Expired {
        /// The client's time.
        now: UnixTime,
        /// The CRL's nextUpdate.
        next_update: UnixTime,
    },
    /// The client checks no revocation
    /// ([`RevocationPolicy::DangerousNoRevocationCheck`](super::RevocationPolicy::DangerousNoRevocationCheck)),
    /// so it adopts no CRL.
    #[error("revocation is not checked")]
    RevocationNotChecked,
}

impl FlightCrlError {
    /// Whether a CRL refused for this reason fails the handshake.
    ///
    /// True when the bytes cannot be the anchor's current list at all (malformed, too
    /// large, another issuer, a bad signature, no number, a partial CRL): only the server,
    /// under the handshake keys, can put a CRL in the flight, so it is misconfigured or
    /// hostile, and saying so loudly is the point. False when the CRL is genuine but of no
    /// use now (not newer than the held one, not current by the client's clock, or a
    /// client that checks no revocation): the nodes of a cluster renew at different
    /// times and clocks drift, and the client keeps the CRL it holds, which is checked as
    /// before.
    pub fn fails_handshake(&self) -> bool {
        !matches!(
            self,
            FlightCrlError::NotNewer { .. }
                | FlightCrlError::NotYetValid { .. }
                | FlightCrlError::Expired { .. }
                | FlightCrlError::RevocationNotChecked
        )
    }
}

/// What the checks need to know of a CRL, read from its DER.
#[derive(Clone, Debug)]
pub(crate) struct CrlFacts {
    /// The issuer's Name, as webpki compares it.
    pub(crate) issuer: Vec<u8>,
    pub(crate) number: Option<CrlNumber>,
    pub(crate) this_update: UnixTime,
    pub(crate) next_update: UnixTime,
    /// Has an issuingDistributionPoint.
    pub(crate) partitioned: bool,
    /// Signed with Ed25519 (the outer and inner algorithm identifiers).
    pub(crate) ed25519: bool,
}

impl CrlFacts {
    /// Parses `der` as webpki does (so the verifier will accept it) and as RFC 5280
    /// writes it (for thisUpdate and the crlNumber, which webpki does not keep).
    pub(crate) fn parse(
        der: &[u8],
    ) -> Result<(CrlFacts, CertRevocationList<'static>), FlightCrlError> {
        let parsed = OwnedCertRevocationList::from_der(der)
            .map(CertRevocationList::from)
            .map_err(|_| FlightCrlError::Malformed)?;
        let list =
            CertificateList::<Rfc5280>::from_der(der).map_err(|_| FlightCrlError::Malformed)?;
        let tbs = &list.tbs_cert_list;
        let next_update = tbs.next_update.ok_or(FlightCrlError::Malformed)?;
        let mut number = None;
        for ext in tbs.crl_extensions.iter().flatten() {
            if ext.extn_id.as_bytes() == OID_CRL_NUMBER {
                let value = UintRef::from_der(ext.extn_value.as_bytes())
                    .map_err(|_| FlightCrlError::Malformed)?;
                number = Some(
                    CrlNumber::from_be_bytes(value.as_bytes()).ok_or(FlightCrlError::Malformed)?,
                );
            }
        }
        let ed25519 = list.signature_algorithm.oid.as_bytes() == OID_ED25519
            && tbs.signature.oid.as_bytes() == OID_ED25519
            && list.signature_algorithm.parameters.is_none();
        let facts = CrlFacts {
            issuer: parsed.issuer().to_vec(),
            number,
            this_update: UnixTime::from_secs(tbs.this_update.to_unix_duration().as_secs()),
            next_update: UnixTime::from_secs(next_update.to_unix_duration().as_secs()),
            partitioned: parsed.issuing_distribution_point().is_some(),
            ed25519,
        };
        Ok((facts, parsed))
    }

    /// The checks every CRL carried in a flight must pass, whoever reads it: supported,
    /// Ed25519, numbered, full.
    pub(crate) fn check_servable(&self) -> Result<CrlNumber, FlightCrlError> {
        if !self.ed25519 {
            return Err(FlightCrlError::Malformed);
        }
        if self.partitioned {
            return Err(FlightCrlError::Partitioned);
        }
        self.number.ok_or(FlightCrlError::NoCrlNumber)
    }
}

/// A CRL of the trust anchor, newer than the one the client held, that a server delivered
/// in its flight and the client checked ([`ServerCertVerifier::check_flight_crl`]) and
/// used for that handshake. The handshake reports it once complete
/// ([`ClientProgress::Established`](crate::handshake::ClientProgress::Established)); the
/// application stores it (for example over the CRL file it loaded) and builds its next
/// verifier with it ([`ServerCertVerifier::with_newer_crl`]).
///
/// [`ServerCertVerifier::check_flight_crl`]: super::ServerCertVerifier::check_flight_crl
/// [`ServerCertVerifier::with_newer_crl`]: super::ServerCertVerifier::with_newer_crl
#[derive(Clone, PartialEq, Eq)]
pub struct NewerCrl {
    pub(crate) der: Vec<u8>,
    pub(crate) number: CrlNumber,
    pub(crate) this_update: UnixTime,
    pub(crate) next_update: UnixTime,
}

impl NewerCrl {
    /// The CRL, DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Its crlNumber.
    pub fn number(&self) -> CrlNumber {
        self.number
    }

    /// When it was issued.
    pub fn this_update(&self) -> UnixTime {
        self.this_update
    }

    /// When it stops being valid: a newer CRL is needed by then.
    pub fn next_update(&self) -> UnixTime {
        self.next_update
    }

    /// The CRL as PEM text (one `X509 CRL` block), as OpenSSL and keytool write CRL
    /// files. ([`FlightCrlError::Malformed`] only if the encoder refused, which a CRL of
    /// at most [`MAX_CRL_LEN`] bytes never makes it do.)
    pub fn to_pem(&self) -> Result<alloc::string::String, FlightCrlError> {
        der::pem::encode_string("X509 CRL", der::pem::LineEnding::LF, &self.der)
            .map_err(|_| FlightCrlError::Malformed)
    }
}

impl fmt::Debug for NewerCrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewerCrl")
            .field("number", &self.number)
            .field("this_update", &self.this_update)
            .field("next_update", &self.next_update)
            .field("der_len", &self.der.len())
            .finish()
    }
}

/// A CRL a server is configured to carry in its flight, checked when it was made: at
/// most [`MAX_CRL_LEN`] bytes, a CRL webpki supports, signed with Ed25519, with a
/// crlNumber, without an issuingDistributionPoint, and issued by the CA that issued the
/// top certificate of the server's chain (its signature cannot be checked here: the
/// server need not hold its CA's certificate).
///
/// ```
/// use securecom_proto::pki::{FlightCrlError, ServedCrl, certificates_from_pem, crls_from_pem};
/// macro_rules! fixture {
///     ($name:literal) => {
///         include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pki/", $name))
///     };
/// }
/// let chain = certificates_from_pem(fixture!("server.pem"))?;
/// let crl = crls_from_pem(fixture!("crl.pem"))?.remove(0);
/// let served = ServedCrl::new(crl, &chain)?;
/// assert_eq!(served.number().to_string(), "2");
/// // The intermediate's CRL is not the one the server's clients trust.
/// let other = crls_from_pem(fixture!("crl-intermediate.pem"))?.remove(0);
/// assert_eq!(ServedCrl::new(other, &chain).unwrap_err(), FlightCrlError::NotFromAnchor);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ServedCrl {
    der: Vec<u8>,
    number: CrlNumber,
    next_update: UnixTime,
}

impl ServedCrl {
    /// Checks `der` for serving by the server whose chain (DER, leaf first) is `chain`.
    ///
    /// Errors: [`FlightCrlError::TooLarge`], [`FlightCrlError::Malformed`] (also for an
    /// empty or unparsable chain), [`FlightCrlError::NoCrlNumber`],
    /// [`FlightCrlError::Partitioned`], [`FlightCrlError::NotFromAnchor`].
    pub fn new(der: Vec<u8>, chain: &[Vec<u8>]) -> Result<Self, FlightCrlError> {
        if der.len() > MAX_CRL_LEN {
            return Err(FlightCrlError::TooLarge {
                len: der.len(),
                max: MAX_CRL_LEN,
            });
        }
        let (facts, _) = CrlFacts::parse(&der)?;
        let number = facts.check_servable()?;
        let top = chain.last().ok_or(FlightCrlError::Malformed)?;
        let top_der = CertificateDer::from(top.as_slice());
        let top = EndEntityCert::try_from(&top_der).map_err(|_| FlightCrlError::Malformed)?;
        if top.issuer() != facts.issuer.as_slice() {
            return Err(FlightCrlError::NotFromAnchor);
        }
        Ok(ServedCrl {
            der,
            number,
            next_update: facts.next_update,
        })
    }

    /// Tests only: any bytes, unchecked, as a misconfigured or hostile server would send.
    #[cfg(test)]
    pub(crate) fn unchecked_for_testing(der: Vec<u8>) -> Self {
        let facts = CrlFacts::parse(&der).ok().map(|(facts, _)| facts);
        ServedCrl {
            number: facts.as_ref().and_then(|f| f.number).unwrap_or(CrlNumber {
                bytes: [0; MAX_CRL_NUMBER_LEN],
                len: 0,
            }),
            next_update: facts.map_or(UnixTime::from_secs(0), |f| f.next_update),
            der,
        }
    }

    /// The CRL, DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Its crlNumber.
    pub fn number(&self) -> CrlNumber {
        self.number
    }

    /// Its nextUpdate: renew it before then (clients ignore an expired one).
    pub fn next_update(&self) -> UnixTime {
        self.next_update
    }
}

impl fmt::Debug for ServedCrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServedCrl")
            .field("number", &self.number)
            .field("next_update", &self.next_update)
            .field("der_len", &self.der.len())
            .finish()
    }
}

/// Where a server takes the CRL it carries in each handshake's flight: read at every
/// handshake, so an implementation that is replaced in place (the host's `LiveCrl`,
/// reloaded on a signal) serves a renewed CRL from the next connection on. A
/// [`ServedCrl`] is a source that never changes.
pub trait FlightCrlSource {
    /// The CRL to carry now, if any.
    fn flight_crl(&self) -> Option<Arc<ServedCrl>>;
}

impl FlightCrlSource for Arc<ServedCrl> {
    fn flight_crl(&self) -> Option<Arc<ServedCrl>> {
        Some(Arc::clone(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{certificates_from_pem, crls_from_pem};
    use crate::testkit::fixtures::{
        CRL, CRL_EMPTY, CRL_INTERMEDIATE, CRL_OTHER_KEY, INTERMEDIATE_CHAIN, SERVER_CHAIN,
    };
    use alloc::string::ToString;
    use alloc::vec;

    fn der(pem: &str) -> Vec<u8> {
        crls_from_pem(pem).unwrap().remove(0)
    }

    #[test]
    fn crl_numbers_order_as_integers() {
        let n = |b: &[u8]| CrlNumber::from_be_bytes(b).unwrap();
        assert!(n(&[2]) > n(&[1]));
        assert!(n(&[1, 0]) > n(&[0xff]));
        assert_eq!(n(&[0, 0, 7]), n(&[7]));
        assert!(n(&[]) < n(&[1]));
        assert_eq!(n(&[]).to_string(), "0");
        assert_eq!(n(&[0x01, 0x00]).to_string(), "256");
        assert_eq!(
            n(&[0xff; 20]).to_string(),
            alloc::format!("0x{}", "ff".repeat(20))
        );
        assert_eq!(CrlNumber::from_be_bytes(&[1; 21]), None);
        assert_eq!(
            CrlNumber::from_be_bytes(&[[0u8; 5].as_slice(), &[1; 20]].concat()),
            Some(n(&[1; 20]))
        );
    }

    #[test]
    fn facts_of_the_fixture_crls() {
        let (facts, _) = CrlFacts::parse(&der(CRL)).unwrap();
        assert_eq!(facts.number, CrlNumber::from_be_bytes(&[2]));
        assert_eq!(facts.this_update, UnixTime::from_secs(1_767_225_600));
        assert_eq!(facts.next_update, UnixTime::from_secs(1_769_817_600));
        assert!(facts.ed25519 && !facts.partitioned);
        let (empty, _) = CrlFacts::parse(&der(CRL_EMPTY)).unwrap();
        assert_eq!(empty.number, CrlNumber::from_be_bytes(&[1]));
        assert_eq!(empty.issuer, facts.issuer);
        let (intermediate, _) = CrlFacts::parse(&der(CRL_INTERMEDIATE)).unwrap();
        assert_ne!(intermediate.issuer, facts.issuer);
        assert_eq!(
            CrlFacts::parse(&[0x30, 0x00]).unwrap_err(),
            FlightCrlError::Malformed
        );
    }

    #[test]
    fn served_crl_is_checked_against_the_chain() {
        let chain = certificates_from_pem(SERVER_CHAIN).unwrap();
        let served = ServedCrl::new(der(CRL), &chain).unwrap();
        assert_eq!(served.number(), CrlNumber::from_be_bytes(&[2]).unwrap());
        assert_eq!(served.der(), der(CRL).as_slice());
        assert!(alloc::format!("{served:?}").contains("number: CrlNumber(2)"));
        // The name is the root's: only its signature is wrong, which the server cannot see.
        assert!(ServedCrl::new(der(CRL_OTHER_KEY), &chain).is_ok());
        assert_eq!(
            ServedCrl::new(der(CRL_INTERMEDIATE), &chain).unwrap_err(),
            FlightCrlError::NotFromAnchor
        );
        // Behind the intermediate, the top of the chain is the intermediate: the root's CRL.
        let via = certificates_from_pem(INTERMEDIATE_CHAIN).unwrap();
        assert!(ServedCrl::new(der(CRL), &via).is_ok());
        assert_eq!(
            ServedCrl::new(vec![0x30; MAX_CRL_LEN + 1], &chain).unwrap_err(),
            FlightCrlError::TooLarge {
                len: MAX_CRL_LEN + 1,
                max: MAX_CRL_LEN
            }
        );
        assert_eq!(
            ServedCrl::new(vec![0x30, 0x00], &chain).unwrap_err(),
            FlightCrlError::Malformed
        );
        assert_eq!(
            ServedCrl::new(der(CRL), &[]).unwrap_err(),
            FlightCrlError::Malformed
        );
    }

    #[test]
    fn which_refusals_fail_the_handshake() {
        let n = CrlNumber::from_be_bytes(&[1]).unwrap();
        let t = UnixTime::from_secs(0);
        for fatal in [
            FlightCrlError::Malformed,
            FlightCrlError::TooLarge { len: 1, max: 0 },
            FlightCrlError::NotFromAnchor,
            FlightCrlError::BadSignature,
            FlightCrlError::NoCrlNumber,
            FlightCrlError::Partitioned,
        ] {
            assert!(fatal.fails_handshake(), "{fatal:?}");
        }
        for benign in [
            FlightCrlError::NotNewer {
                held: n,
                offered: n,
            },
            FlightCrlError::NotYetValid {
                now: t,
                this_update: t,
            },
            FlightCrlError::Expired {
                now: t,
                next_update: t,
            },
            FlightCrlError::RevocationNotChecked,
        ] {
            assert!(!benign.fails_handshake(), "{benign:?}");
        }
    }
}
