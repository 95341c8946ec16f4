//! The adapter through which x509-cert's builder signs with an [`Identity`].
//!
//! It signs through [`Identity::sign`] rather than over a copy of the ed25519-dalek
//! `SigningKey`: the secret then exists only inside the `Identity` (wiped on drop), and
//! `securecom-proto` needs no public accessor for its signing key.

use der::asn1::BitString;
use der::{Document, Encode};
use securecom_proto::identity::{Identity, PublicKey};
use spki::{
    AlgorithmIdentifierRef, EncodePublicKey, ObjectIdentifier, SignatureAlgorithmIdentifier,
    SignatureBitStringEncoding, SubjectPublicKeyInfoOwned,
};

use crate::AdminError;

/// id-Ed25519 (RFC 8410): the algorithm of our keys and of our signatures.
pub(crate) const ED25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// The Ed25519 algorithm identifier, whose parameters RFC 8410 requires to be absent.
pub(crate) const ED25519_ALGORITHM: AlgorithmIdentifierRef<'static> = AlgorithmIdentifierRef {
    oid: ED25519_OID,
    parameters: None,
};

/// Signs certificates and CRLs with an [`Identity`].
pub(crate) struct IdentitySigner<'a> {
    identity: &'a Identity,
}

impl<'a> IdentitySigner<'a> {
    pub(crate) fn new(identity: &'a Identity) -> Self {
        IdentitySigner { identity }
    }
}

/// An Ed25519 signature as the builder encodes it: a BIT STRING of the 64 bytes.
pub(crate) struct Ed25519Signature([u8; 64]);

impl SignatureBitStringEncoding for Ed25519Signature {
    fn to_bitstring(&self) -> der::Result<BitString> {
        BitString::from_bytes(&self.0)
    }
}

impl signature::Signer<Ed25519Signature> for IdentitySigner<'_> {
    fn try_sign(&self, message: &[u8]) -> Result<Ed25519Signature, signature::Error> {
        Ok(Ed25519Signature(self.identity.sign(message)))
    }
}

impl signature::Keypair for IdentitySigner<'_> {
    type VerifyingKey = Ed25519PublicKey;

    fn verifying_key(&self) -> Ed25519PublicKey {
        Ed25519PublicKey(self.identity.public_key())
    }
}

impl SignatureAlgorithmIdentifier for IdentitySigner<'_> {
    type Params = der::AnyRef<'static>;
    const SIGNATURE_ALGORITHM_IDENTIFIER: AlgorithmIdentifierRef<'static> = ED25519_ALGORITHM;
}

/// A [`PublicKey`] as the builder wants it: encodable as a SubjectPublicKeyInfo.
#[derive(Clone, Copy)]
pub(crate) struct Ed25519PublicKey(pub(crate) PublicKey);

impl EncodePublicKey for Ed25519PublicKey {
    fn to_public_key_der(&self) -> spki::Result<Document> {
        let der = self
            .0
            .to_public_key_der()
            .map_err(|_| spki::Error::KeyMalformed)?;
        Ok(Document::try_from(der)?)
    }
}

/// The SubjectPublicKeyInfo of `key`.
pub(crate) fn spki_of(key: &PublicKey) -> Result<SubjectPublicKeyInfoOwned, AdminError> {
    let der = key.to_public_key_der()?;
    SubjectPublicKeyInfoOwned::try_from(der.as_slice())
        .map_err(|e| AdminError::encoding("public key", e))
}

/// Signs `tbs` (the DER of a to-be-signed structure) and returns the signature as the
/// BIT STRING of a certificate or CRL.
pub(crate) fn sign_der(identity: &Identity, tbs: &impl Encode) -> Result<BitString, AdminError> {
    let der = tbs
        .to_der()
        .map_err(|e| AdminError::encoding("to-be-signed data", e))?;
    BitString::from_bytes(&identity.sign(&der)).map_err(|e| AdminError::encoding("signature", e))
}
