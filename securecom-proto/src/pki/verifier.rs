//! The client's check of the server's certificate chain.

use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use der::Reader as _;
use der::asn1::BitStringRef;
use rustls_pki_types::{CertificateDer, ServerName, SignatureVerificationAlgorithm, TrustAnchor};
use webpki::{
    CertRevocationList, EndEntityCert, ExpirationPolicy, KeyUsage, OwnedCertRevocationList,
    RevocationCheckDepth, RevocationOptionsBuilder, UnknownStatusPolicy,
};

use super::ed25519_alg::{CachedEd25519, PreVerified};
use super::flight_crl::{CrlFacts, CrlNumber, FlightCrlError, MAX_CRL_LEN, NewerCrl};
use super::{CertificateError, certificates_from_pem, chain, crls_from_pem};
use crate::identity::PublicKey;
use crate::time::UnixTime;

/// Whether, and against what, the revocation status of the server's chain is checked.
///
/// There is no default: leaving revocation unchecked must be written out.
#[derive(Clone, PartialEq, Eq)]
pub enum RevocationPolicy {
    /// Check every certificate of the chain against these DER CRLs. Each certificate needs a
    /// CRL from its own issuer (the CA for the leaf or the first intermediate, each
    /// intermediate for the certificate below it); a certificate whose issuer has no CRL
    /// here is refused ([`CertificateError::UnknownRevocationStatus`]). A CRL past its
    /// nextUpdate is refused ([`CertificateError::CrlExpired`]). An empty list is
    /// [`CertificateError::MissingCrl`].
    CheckCrls(Vec<Vec<u8>>),
    /// Check no revocation at all. A revoked server certificate is then accepted until it
    /// expires; use only where no CRL can be had and that risk is accepted.
    DangerousNoRevocationCheck,
}

impl fmt::Debug for RevocationPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RevocationPolicy::CheckCrls(crls) => write!(f, "CheckCrls({} CRLs)", crls.len()),
            RevocationPolicy::DangerousNoRevocationCheck => {
                f.write_str("DangerousNoRevocationCheck")
            }
        }
    }
}

/// Verifies the server's certificate chain against one trusted CA certificate.
///
/// [`verify_server`](Self::verify_server) checks, with rustls-webpki: the signatures along
/// the path from the leaf to the CA (Ed25519 only), the validity period of every
/// certificate at the given time, basicConstraints (the leaf is no CA, every issuer is
/// one, path lengths), the extended key usage (serverAuth, if the leaf has the extension),
/// revocation per the [`RevocationPolicy`], and that the leaf names the expected server
/// (DNS or IP subjectAltName). It then returns the leaf's Ed25519 key, which the handshake
/// uses to check the server's signature.
///
/// The CA certificate is trusted as given: its own validity and extensions are not checked
/// (RFC 5280 §6.1.1), only its subject name and key are used.
///
/// ```
/// use securecom_proto::pki::{CertificateError, ServerCertVerifier, certificates_from_pem};
/// use securecom_proto::time::UnixTime;
///
/// macro_rules! fixture {
///     ($name:literal) => {
///         include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pki/", $name))
///     };
/// }
/// let verifier = ServerCertVerifier::from_pem(fixture!("ca.pem"), Some(fixture!("crl.pem")))?;
/// let chain = certificates_from_pem(fixture!("server.pem"))?;
/// let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
///
/// let jan_15_2026 = UnixTime::from_secs(1_768_435_200);
/// let server_key = verifier.verify_server(&chain, "localhost", jan_15_2026)?;
/// println!("server key {}", server_key.fingerprint());
///
/// assert_eq!(
///     verifier.verify_server(&chain, "example.com", jan_15_2026),
///     Err(CertificateError::NameMismatch)
/// );
/// // By March the CRL (nextUpdate 2026-01-31) is stale.
/// let march_2026 = UnixTime::from_secs(1_772_323_200);
/// assert!(matches!(
///     verifier.verify_server(&chain, "localhost", march_2026),
///     Err(CertificateError::CrlExpired { .. })
/// ));
/// # Ok::<(), CertificateError>(())
/// ```
///
/// A server may carry a newer CRL of the anchor in its handshake flight:
/// [`check_flight_crl`](Self::check_flight_crl) decides whether to take it, and
/// [`with_newer_crl`](Self::with_newer_crl) makes the verifier that holds it.
///
/// Not `Clone` (webpki's parsed CRLs are not); share one behind an `Arc`.
pub struct ServerCertVerifier {
    anchor: TrustAnchor<'static>,
    /// The CA certificate, DER, to build the verifier holding a newer CRL.
    ca_der: Vec<u8>,
    /// `None` only for [`RevocationPolicy::DangerousNoRevocationCheck`]; never empty.
    crls: Option<Vec<CertRevocationList<'static>>>,
    /// The DER of each CRL in `crls`, in the same order.
    crl_ders: Vec<Vec<u8>>,
    /// Which of `crls` is the anchor's full CRL (no issuingDistributionPoint), and its
    /// crlNumber: what a CRL in the server's flight must be newer than.
    anchor_crl: Option<(usize, Option<CrlNumber>)>,
    /// The anchor's decompressed key and the CRL signatures verified in `new`, so that
    /// webpki's check of them at every handshake costs a comparison, not a verification.
    pre_verified: PreVerified,
}

impl ServerCertVerifier {
    /// A verifier trusting the CA certificate `ca_cert_der` (DER), with the given revocation
    /// policy. The CA certificate and every CRL are parsed here, so a bad configuration
    /// fails now rather than at the first connection.
    ///
    /// Errors: [`CertificateError::Malformed`] for a CA certificate webpki cannot parse,
    /// [`CertificateError::MalformedCrl`] for a CRL it cannot parse or does not support (a
    /// CRL must be v2 with a nextUpdate), [`CertificateError::MissingCrl`] for
    /// `CheckCrls` with an empty list, [`CertificateError::DuplicateCrl`] for two CRLs of
    /// the same issuer (and scope): keep only the newest.
    pub fn new(
        ca_cert_der: Vec<u8>,
        revocation: RevocationPolicy,
    ) -> Result<Self, CertificateError> {
        let ca = CertificateDer::from(ca_cert_der.as_slice());
        let anchor = webpki::anchor_from_trusted_cert(&ca)
            .map_err(CertificateError::from_webpki)?
            .to_owned();
        let crls = match &revocation {
            RevocationPolicy::DangerousNoRevocationCheck => None,
            RevocationPolicy::CheckCrls(ders) if ders.is_empty() => {
                return Err(CertificateError::MissingCrl);
            }
            RevocationPolicy::CheckCrls(ders) => Some(
                ders.iter()
                    .map(|der| {
                        OwnedCertRevocationList::from_der(der)
                            .map(CertRevocationList::from)
                            .map_err(CertificateError::from_webpki_crl)
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        // webpki uses the first CRL that covers a certificate, not the newest: an older CRL
        // listed before a newer one from the same issuer would silently undo revocations.
        // Refuse the ambiguity instead of guessing.
        if let Some(crls) = &crls {
            for (i, a) in crls.iter().enumerate() {
                let duplicate = crls.iter().skip(i + 1).any(|b| {
                    a.issuer() == b.issuer()
                        && a.issuing_distribution_point() == b.issuing_distribution_point()
                });
                if duplicate {
                    return Err(CertificateError::DuplicateCrl);
                }
            }
        }
        let anchor_key = anchor
            .subject_public_key_info
            .as_ref()
            .strip_prefix(chain::ED25519_SPKI_PREFIX.get(2..).unwrap_or(&[]));
        let mut pre_verified = PreVerified::with_anchor_key(anchor_key);
        // Verify once, here, the signature of every CRL the anchor issued. Only a signature
        // that verifies is remembered; webpki still checks every CRL at every use, and a
        // remembered one then costs a comparison of the exact bytes. A CRL with a bad
        // signature is not remembered, so webpki verifies it, and refuses it, every time.
        // CRLs of intermediates can only be checked against a key from the chain.
        if let (RevocationPolicy::CheckCrls(ders), Some(parsed)) = (&revocation, &crls) {
            for (der, crl) in ders.iter().zip(parsed) {
                if crl.issuer() != anchor.subject.as_ref() {
                    continue;
                }
                if let Some((tbs, signature)) = crl_signed_parts(der) {
                    pre_verified.verify_with_anchor(tbs, signature);
                }
            }
        }
        let crl_ders = match revocation {
            RevocationPolicy::CheckCrls(ders) => ders,
            RevocationPolicy::DangerousNoRevocationCheck => Vec::new(),
        };
        let anchor_crl = crls.as_ref().and_then(|crls| {
            crls.iter()
                .zip(&crl_ders)
                .position(|(crl, _)| {
                    crl.issuer() == anchor.subject.as_ref()
                        && crl.issuing_distribution_point().is_none()
                })
                .map(|i| {
                    let number = crl_ders
                        .get(i)
                        .and_then(|der| CrlFacts::parse(der).ok())
                        .and_then(|(facts, _)| facts.number);
                    (i, number)
                })
        });
        Ok(ServerCertVerifier {
            anchor,
            ca_der: ca_cert_der,
            crls,
            crl_ders,
            anchor_crl,
            pre_verified,
        })
    }

    /// A verifier from PEM text, as written by OpenSSL: `ca_pem` must hold exactly one
    /// `CERTIFICATE` block, `crl_pem` one or more `X509 CRL` blocks.
    ///
    /// `crl_pem` is `Option` only so that a missing CRL file is an explicit, typed error:
    /// `None`, or text without a CRL, gives [`CertificateError::MissingCrl`]. To run
    /// without revocation checks, call [`ServerCertVerifier::new`] with
    /// [`RevocationPolicy::DangerousNoRevocationCheck`].
    pub fn from_pem(ca_pem: &str, crl_pem: Option<&str>) -> Result<Self, CertificateError> {
        let mut cas = certificates_from_pem(ca_pem)?;
        let ca = match (cas.pop(), cas.is_empty()) {
            (Some(ca), true) => ca,
            (None, _) => {
                return Err(CertificateError::MalformedPem(
                    "no CERTIFICATE block in the CA file".into(),
                ));
            }
            (Some(_), false) => {
                return Err(CertificateError::MalformedPem(
                    "more than one CERTIFICATE block in the CA file".into(),
                ));
            }
        };
        let crls = match crl_pem {
            Some(pem) => crls_from_pem(pem)?,
            None => return Err(CertificateError::MissingCrl),
        };
        ServerCertVerifier::new(ca, RevocationPolicy::CheckCrls(crls))
    }

    /// Whether this verifier checks revocation (false only for
    /// [`RevocationPolicy::DangerousNoRevocationCheck`]).
    pub fn checks_revocation(&self) -> bool {
        self.crls.is_some()
    }

    /// The crlNumber of the anchor's CRL this verifier holds: `None` when it holds none
    /// (or one without a number, which then counts as older than any numbered CRL).
    pub fn anchor_crl_number(&self) -> Option<CrlNumber> {
        self.anchor_crl.and_then(|(_, number)| number)
    }

    /// Decides whether to adopt `der`, a CRL a server carried in its handshake flight, at
    /// time `now` (the client's wall clock). It is adopted only if all of these hold:
    ///
    /// - it parses as a CRL this verifier supports, at most [`MAX_CRL_LEN`] bytes, signed
    ///   with Ed25519 ([`FlightCrlError::Malformed`], [`FlightCrlError::TooLarge`]);
    /// - its issuer is the trust anchor ([`FlightCrlError::NotFromAnchor`]) and its
    ///   signature verifies under the anchor's key ([`FlightCrlError::BadSignature`]);
    /// - it is a full CRL with a crlNumber ([`FlightCrlError::Partitioned`],
    ///   [`FlightCrlError::NoCrlNumber`]);
    /// - its number is strictly greater than [`anchor_crl_number`](Self::anchor_crl_number)
    ///   ([`FlightCrlError::NotNewer`]);
    /// - thisUpdate ≤ `now` < nextUpdate ([`FlightCrlError::NotYetValid`],
    ///   [`FlightCrlError::Expired`]);
    /// - this verifier checks revocation at all ([`FlightCrlError::RevocationNotChecked`]).
    ///
    /// [`FlightCrlError::fails_handshake`] says which refusals end the handshake; the
    /// others leave the client on the CRL it holds. Nothing changes here: the handshake
    /// uses an adopted CRL for its own chain check, and reports it once complete.
    ///
    /// ```
    /// use securecom_proto::pki::{FlightCrlError, ServerCertVerifier, crls_from_pem};
    /// use securecom_proto::time::UnixTime;
    /// macro_rules! fixture {
    ///     ($name:literal) => {
    ///         include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pki/", $name))
    ///     };
    /// }
    /// // The client holds CRL number 1; a server delivers number 2.
    /// let held = ServerCertVerifier::from_pem(fixture!("ca.pem"), Some(fixture!("crl-empty.pem")))?;
    /// let delivered = crls_from_pem(fixture!("crl.pem"))?.remove(0);
    /// let jan_15_2026 = UnixTime::from_secs(1_768_435_200);
    /// let newer = held.check_flight_crl(&delivered, jan_15_2026)?;
    /// assert_eq!(newer.number().to_string(), "2");
    /// let updated = held.with_newer_crl(&newer)?;
    /// // The same CRL again is not newer: ignored, not an error of the server's.
    /// let again = updated.check_flight_crl(&delivered, jan_15_2026).unwrap_err();
    /// assert!(matches!(again, FlightCrlError::NotNewer { .. }));
    /// assert!(!again.fails_handshake());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_flight_crl(&self, der: &[u8], now: UnixTime) -> Result<NewerCrl, FlightCrlError> {
        if !self.checks_revocation() {
            return Err(FlightCrlError::RevocationNotChecked);
        }
        let (facts, number) = self.check_anchor_crl(der)?;
        if now < facts.this_update {
            return Err(FlightCrlError::NotYetValid {
                now,
                this_update: facts.this_update,
            });
        }
        if now >= facts.next_update {
            return Err(FlightCrlError::Expired {
                now,
                next_update: facts.next_update,
            });
        }
        Ok(NewerCrl {
            der: der.to_vec(),
            number,
            this_update: facts.this_update,
            next_update: facts.next_update,
        })
    }

    /// Every check of [`check_flight_crl`](Self::check_flight_crl) but the clock's.
    fn check_anchor_crl(&self, der: &[u8]) -> Result<(CrlFacts, CrlNumber), FlightCrlError> {
        if der.len() > MAX_CRL_LEN {
            return Err(FlightCrlError::TooLarge {
                len: der.len(),
                max: MAX_CRL_LEN,
            });
        }
        // The steady state: the server carries the very CRL we hold, checked when this
        // verifier was built. Not newer, and nothing to parse or verify again.
        if let Some((index, Some(held))) = self.anchor_crl
            && self
                .crl_ders
                .get(index)
                .is_some_and(|d| d.as_slice() == der)
        {
            return Err(FlightCrlError::NotNewer {
                held,
                offered: held,
            });
        }
        let (facts, _) = CrlFacts::parse(der)?;
        if facts.issuer.as_slice() != self.anchor.subject.as_ref() {
            return Err(FlightCrlError::NotFromAnchor);
        }
        if !facts.ed25519 {
            return Err(FlightCrlError::Malformed);
        }
        let signed = crl_signed_parts(der)
            .is_some_and(|(tbs, signature)| self.pre_verified.anchor_verifies(tbs, signature));
        if !signed {
            return Err(FlightCrlError::BadSignature);
        }
        let number = facts.check_servable()?;
        if let Some(held) = self.anchor_crl_number()
            && number <= held
        {
            return Err(FlightCrlError::NotNewer {
                held,
                offered: number,
            });
        }
        Ok((facts, number))
    }

    /// A verifier like this one, with `crl` in place of the anchor's CRL it holds (the
    /// CRLs of intermediates are kept). `crl` is checked again, but for the clock:
    /// issued and signed by this verifier's anchor, and newer than the CRL it holds
    /// ([`FlightCrlError`] otherwise, [`FlightCrlError::RevocationNotChecked`] for a
    /// verifier that checks no revocation).
    pub fn with_newer_crl(&self, crl: &NewerCrl) -> Result<ServerCertVerifier, FlightCrlError> {
        if !self.checks_revocation() {
            return Err(FlightCrlError::RevocationNotChecked);
        }
        self.check_anchor_crl(&crl.der)?;
        let held = self.anchor_crl.map(|(i, _)| i);
        let crls: Vec<Vec<u8>> = core::iter::once(crl.der.clone())
            .chain(
                self.crl_ders
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| Some(*i) != held)
                    .map(|(_, der)| der.clone()),
            )
            .collect();
        ServerCertVerifier::new(self.ca_der.clone(), RevocationPolicy::CheckCrls(crls))
            .map_err(|_| FlightCrlError::Malformed)
    }

    /// Verifies the server's `chain` for `server_name` at time `now` and returns the leaf's
    /// Ed25519 public key.
    ///
    /// - `chain`: DER certificates as the server sent them, leaf first, then intermediates
    ///   (at most [`MAX_CHAIN_CERTS`](super::MAX_CHAIN_CERTS) in all, each at most
    ///   [`MAX_CERT_LEN`](super::MAX_CERT_LEN) bytes). The trusted CA need not be sent.
    /// - `server_name`: the name the client dialled, a DNS name (`localhost`) or an IP
    ///   literal (`127.0.0.1`, `::1`), matched against the leaf's subjectAltName only.
    /// - `now`: wall-clock time of the check; the core reads no clock.
    ///
    /// Every certificate is parsed before any check, so a malformed one is always
    /// [`CertificateError::Malformed`], even one that path building would not need. Any
    /// other failure has its own [`CertificateError`] variant. Never panics, whatever the
    /// bytes.
    pub fn verify_server(
        &self,
        chain: &[&[u8]],
        server_name: &str,
        now: UnixTime,
    ) -> Result<PublicKey, CertificateError> {
        self.verify_server_with(chain, server_name, now, None)
    }

    /// [`verify_server`](Self::verify_server), with `newer` (from
    /// [`check_flight_crl`](Self::check_flight_crl)) in place of the anchor's CRL held.
    pub(crate) fn verify_server_with(
        &self,
        chain: &[&[u8]],
        server_name: &str,
        now: UnixTime,
        newer: Option<&NewerCrl>,
    ) -> Result<PublicKey, CertificateError> {
        chain::check_shape(chain)?;
        let server_name =
            ServerName::try_from(server_name).map_err(|_| CertificateError::InvalidServerName)?;
        let (leaf_der, intermediate_ders) =
            chain.split_first().ok_or(CertificateError::EmptyChain)?;

        let leaf_der = CertificateDer::from(*leaf_der);
        let leaf = EndEntityCert::try_from(&leaf_der).map_err(CertificateError::from_webpki)?;
        let intermediates: Vec<CertificateDer<'_>> = intermediate_ders
            .iter()
            .map(|der| CertificateDer::from(*der))
            .collect();
        for der in &intermediates {
            EndEntityCert::try_from(der).map_err(CertificateError::from_webpki)?;
        }

        let newer = match newer {
            Some(crl) => Some(
                OwnedCertRevocationList::from_der(&crl.der)
                    .map(CertRevocationList::from)
                    .map_err(CertificateError::from_webpki_crl)?,
            ),
            None => None,
        };
        let held = self.anchor_crl.map(|(i, _)| i);
        // The newer CRL first, in place of the anchor's CRL held.
        let crl_refs: Vec<&CertRevocationList<'static>> = newer
            .iter()
            .chain(
                self.crls
                    .iter()
                    .flatten()
                    .enumerate()
                    .filter(|(i, _)| newer.is_none() || Some(*i) != held)
                    .map(|(_, crl)| crl),
            )
            .collect();
        let revocation = match &self.crls {
            None => None,
            Some(_) => Some(
                RevocationOptionsBuilder::new(&crl_refs)
                    .map_err(|_| CertificateError::MissingCrl)?
                    .with_depth(RevocationCheckDepth::Chain)
                    .with_status_policy(UnknownStatusPolicy::Deny)
                    .with_expiration_policy(ExpirationPolicy::Enforce)
                    .build(),
            ),
        };

        let time = rustls_pki_types::UnixTime::since_unix_epoch(Duration::from_secs(now.as_secs()));
        let ed25519 = CachedEd25519(&self.pre_verified);
        let algs: [&dyn SignatureVerificationAlgorithm; 1] = [&ed25519];
        leaf.verify_for_usage(
            &algs,
            core::slice::from_ref(&self.anchor),
            &intermediates,
            time,
            KeyUsage::server_auth(),
            revocation,
            None,
        )
        .map_err(CertificateError::from_webpki)?;
        leaf.verify_is_valid_for_subject_name(&server_name)
            .map_err(CertificateError::from_webpki)?;
        chain::leaf_public_key(&leaf)
    }
}

impl fmt::Debug for ServerCertVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCertVerifier")
            .field("ca_subject_len", &self.anchor.subject.len())
            .field("crls", &self.crls.as_ref().map(Vec::len))
            .field("anchor_crl_number", &self.anchor_crl_number())
            .field("pre_verified_crls", &self.pre_verified.len())
            .finish()
    }
}

/// The signed bytes (the whole tbsCertList TLV, as webpki hands it to the signature
/// algorithm) and the signature (the BIT STRING's bytes) of a DER CRL; `None` if it does
/// not have that shape. What this returns only decides what is pre-verified: a wrong
/// split merely means webpki verifies that CRL in full at every use.
fn crl_signed_parts(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut reader = der::SliceReader::new(der).ok()?;
    reader
        .sequence(|r| {
            let tbs = r.tlv_bytes()?;
            let _algorithm = r.tlv_bytes()?;
            let signature: BitStringRef<'_> = r.decode()?;
            Ok::<_, der::Error>((tbs, signature.as_bytes()))
        })
        .ok()
        .and_then(|(tbs, signature)| Some((tbs, signature?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    use crate::pki::{CrlNumber, FlightCrlError, MAX_CRL_LEN};
    use crate::testkit::fixtures::{
        CA, CRL, CRL_EMPTY, CRL_INTERMEDIATE, CRL_LONG, CRL_OTHER_KEY, REVOKED_SERVER, VALID_TIME,
    };

    fn ca_der() -> Vec<u8> {
        certificates_from_pem(CA).unwrap().remove(0)
    }

    #[test]
    fn empty_crl_list_is_missing_crl() {
        assert_eq!(
            ServerCertVerifier::new(ca_der(), RevocationPolicy::CheckCrls(vec![])).unwrap_err(),
            CertificateError::MissingCrl
        );
        assert_eq!(
            ServerCertVerifier::from_pem(CA, Some("")).unwrap_err(),
            CertificateError::MissingCrl
        );
    }

    #[test]
    fn bad_configuration_fails_up_front() {
        assert_eq!(
            ServerCertVerifier::new(
                vec![0x30, 0x03, 1, 2, 3],
                RevocationPolicy::DangerousNoRevocationCheck
            )
            .unwrap_err(),
            CertificateError::Malformed
        );
        assert_eq!(
            ServerCertVerifier::new(ca_der(), RevocationPolicy::CheckCrls(vec![vec![0x30, 0]]))
                .unwrap_err(),
            CertificateError::MalformedCrl
        );
        // A certificate is not a CRL.
        assert_eq!(
            ServerCertVerifier::new(ca_der(), RevocationPolicy::CheckCrls(vec![ca_der()]))
                .unwrap_err(),
            CertificateError::MalformedCrl
        );
        assert!(matches!(
            ServerCertVerifier::from_pem("", Some(CRL)),
            Err(CertificateError::MalformedPem(_))
        ));
        let two = alloc::format!("{CA}{CA}");
        assert!(matches!(
            ServerCertVerifier::from_pem(&two, Some(CRL)),
            Err(CertificateError::MalformedPem(_))
        ));
    }

    #[test]
    fn invalid_server_name_is_its_own_error() {
        let v = ServerCertVerifier::from_pem(CA, Some(CRL)).unwrap();
        let leaf = ca_der();
        assert_eq!(
            v.verify_server(&[&leaf], "not a name!", UnixTime::from_secs(0)),
            Err(CertificateError::InvalidServerName)
        );
    }

    /// Only a CRL the anchor issued, with a signature that verifies under the anchor's key,
    /// is pre-verified; the others are left to webpki at every use.
    #[test]
    fn only_good_anchor_crls_are_pre_verified() {
        let pre = |crl: &str| {
            ServerCertVerifier::from_pem(CA, Some(crl))
                .unwrap()
                .pre_verified
                .len()
        };
        assert_eq!(pre(CRL), 1);
        assert_eq!(pre(CRL_OTHER_KEY), 0);
        assert_eq!(pre(CRL_INTERMEDIATE), 0);
        let both = alloc::format!("{CRL}{CRL_INTERMEDIATE}");
        assert_eq!(pre(&both), 1);
        // The signed parts are split as webpki splits them: the signature verifies.
        let der = crate::pki::crls_from_pem(CRL).unwrap().remove(0);
        let (tbs, signature) = crl_signed_parts(&der).unwrap();
        assert_eq!(signature.len(), 64);
        assert_eq!(tbs.first(), Some(&0x30));
        assert!(crl_signed_parts(&der[..der.len() - 1]).is_none());
    }

    #[test]
    fn debug_is_short() {
        let v = ServerCertVerifier::from_pem(CA, Some(CRL)).unwrap();
        let shown = alloc::format!("{v:?}");
        assert!(shown.contains("crls: Some(1)"), "{shown}");
        assert!(v.checks_revocation());
        assert_eq!(
            alloc::format!("{:?}", RevocationPolicy::CheckCrls(vec![vec![1]])),
            "CheckCrls(1 CRLs)"
        );
    }

    fn crl_der(pem: &str) -> Vec<u8> {
        crate::pki::crls_from_pem(pem).unwrap().remove(0)
    }

    fn number(n: u8) -> CrlNumber {
        CrlNumber::from_be_bytes(&[n]).unwrap()
    }

    /// The rules for a CRL in the server's flight, one by one, against a client holding
    /// CRL number 1.
    #[test]
    fn flight_crl_rules() {
        let held = ServerCertVerifier::from_pem(CA, Some(CRL_EMPTY)).unwrap();
        assert_eq!(held.anchor_crl_number(), Some(number(1)));
        // Newer, the anchor's, current: adopted, with its facts.
        let newer = held.check_flight_crl(&crl_der(CRL), VALID_TIME).unwrap();
        assert_eq!(newer.number(), number(2));
        assert_eq!(newer.this_update(), UnixTime::from_secs(1_767_225_600));
        assert_eq!(newer.next_update(), UnixTime::from_secs(1_769_817_600));
        assert!(
            newer
                .to_pem()
                .unwrap()
                .starts_with("-----BEGIN X509 CRL-----\n")
        );
        assert_eq!(
            crate::pki::crls_from_pem(&newer.to_pem().unwrap()).unwrap(),
            vec![crl_der(CRL)]
        );
        // Equal or older: not newer.
        assert_eq!(
            held.check_flight_crl(&crl_der(CRL_EMPTY), VALID_TIME),
            Err(FlightCrlError::NotNewer {
                held: number(1),
                offered: number(1)
            })
        );
        let current = ServerCertVerifier::from_pem(CA, Some(CRL)).unwrap();
        assert_eq!(
            current.check_flight_crl(&crl_der(CRL_EMPTY), VALID_TIME),
            Err(FlightCrlError::NotNewer {
                held: number(2),
                offered: number(1)
            })
        );
        // The anchor's name, another key's signature.
        assert_eq!(
            held.check_flight_crl(&crl_der(CRL_OTHER_KEY), VALID_TIME),
            Err(FlightCrlError::BadSignature)
        );
        // Another issuer (the intermediate).
        assert_eq!(
            held.check_flight_crl(&crl_der(CRL_INTERMEDIATE), VALID_TIME),
            Err(FlightCrlError::NotFromAnchor)
        );
        // Not current: before thisUpdate, at and after nextUpdate.
        let this_update = UnixTime::from_secs(1_767_225_600);
        let next_update = UnixTime::from_secs(1_769_817_600);
        let before = UnixTime::from_secs(1_767_225_599);
        assert_eq!(
            held.check_flight_crl(&crl_der(CRL), before),
            Err(FlightCrlError::NotYetValid {
                now: before,
                this_update
            })
        );
        assert!(held.check_flight_crl(&crl_der(CRL), this_update).is_ok());
        assert_eq!(
            held.check_flight_crl(&crl_der(CRL), next_update),
            Err(FlightCrlError::Expired {
                now: next_update,
                next_update
            })
        );
        // Malformed: not DER, a certificate, the CRL cut short, one bit of it flipped.
        let crl = crl_der(CRL);
        for bad in [
            vec![0x30, 0x00],
            ca_der(),
            crl[..crl.len() - 1].to_vec(),
            Vec::new(),
        ] {
            assert_eq!(
                held.check_flight_crl(&bad, VALID_TIME),
                Err(FlightCrlError::Malformed)
            );
        }
        let mut flipped = crl.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1; // in the signature
        assert_eq!(
            held.check_flight_crl(&flipped, VALID_TIME),
            Err(FlightCrlError::BadSignature)
        );
        // Too large for the handshake, refused before parsing.
        assert_eq!(
            held.check_flight_crl(&vec![0x30; MAX_CRL_LEN + 1], VALID_TIME),
            Err(FlightCrlError::TooLarge {
                len: MAX_CRL_LEN + 1,
                max: MAX_CRL_LEN
            })
        );
        // A client without revocation checks adopts nothing.
        let dangerous =
            ServerCertVerifier::new(ca_der(), RevocationPolicy::DangerousNoRevocationCheck)
                .unwrap();
        assert_eq!(
            dangerous.check_flight_crl(&crl_der(CRL), VALID_TIME),
            Err(FlightCrlError::RevocationNotChecked)
        );
        assert_eq!(
            dangerous.with_newer_crl(&newer).unwrap_err(),
            FlightCrlError::RevocationNotChecked
        );
    }

    /// The verifier built with a newer CRL holds it in place of the old one, keeps the
    /// other CRLs, and refuses a CRL that is not newer or not its anchor's.
    #[test]
    fn with_newer_crl_replaces_the_anchor_crl() {
        let revoked = certificates_from_pem(REVOKED_SERVER).unwrap();
        let revoked: Vec<&[u8]> = revoked.iter().map(Vec::as_slice).collect();
        let both = alloc::format!("{CRL_EMPTY}{CRL_INTERMEDIATE}");
        let held = ServerCertVerifier::from_pem(CA, Some(&both)).unwrap();
        assert!(
            held.verify_server(&revoked, "localhost", VALID_TIME)
                .is_ok()
        );
        let newer = held.check_flight_crl(&crl_der(CRL), VALID_TIME).unwrap();
        // This handshake's check already uses it.
        assert_eq!(
            held.verify_server_with(&revoked, "localhost", VALID_TIME, Some(&newer)),
            Err(CertificateError::Revoked)
        );
        let updated = held.with_newer_crl(&newer).unwrap();
        assert_eq!(updated.anchor_crl_number(), Some(number(2)));
        assert_eq!(updated.crl_ders.len(), 2);
        assert_eq!(updated.pre_verified.len(), 1);
        assert_eq!(
            updated.verify_server(&revoked, "localhost", VALID_TIME),
            Err(CertificateError::Revoked)
        );
        // Once held, the same CRL is not newer.
        assert_eq!(
            updated.with_newer_crl(&newer).unwrap_err(),
            FlightCrlError::NotNewer {
                held: number(2),
                offered: number(2)
            }
        );
        // A CRL checked by another CA's verifier is checked again, and refused.
        let other = ServerCertVerifier::new(
            certificates_from_pem(crate::testkit::fixtures::OTHER_CA)
                .unwrap()
                .remove(0),
            RevocationPolicy::CheckCrls(vec![crl_der(CRL_EMPTY)]),
        )
        .unwrap();
        assert_eq!(
            other.with_newer_crl(&newer).unwrap_err(),
            FlightCrlError::NotFromAnchor
        );
        // A verifier with no CRL of the anchor's (only the intermediate's) takes any.
        let none = ServerCertVerifier::from_pem(CA, Some(CRL_INTERMEDIATE)).unwrap();
        assert_eq!(none.anchor_crl_number(), None);
        let long = none
            .check_flight_crl(&crl_der(CRL_LONG), VALID_TIME)
            .unwrap();
        assert_eq!(
            none.with_newer_crl(&long).unwrap().anchor_crl_number(),
            Some(number(2))
        );
    }
}
