//! PEM and DER encodings of keys: PKCS#8 private keys (RFC 5208 v1 and RFC 5958 v2, read;
//! v1 written) and SubjectPublicKeyInfo public keys, as in RFC 8410.
//!
//! We write PKCS#8 **v1** (no public key field) on purpose: it is what
//! `openssl genpkey -algorithm ed25519` writes, and OpenSSL 3.0 refuses the v2 files that
//! `ed25519-dalek`'s own `to_pkcs8_pem` produces.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Display;

use der::asn1::{BitStringRef, OctetStringRef};
use der::pem::LineEnding;
use der::{Decode, Document, Encode, SecretDocument};
use ed25519_dalek::pkcs8::{ALGORITHM_ID, ALGORITHM_OID};
use pkcs8::spki::AlgorithmIdentifierRef;
use pkcs8::{PrivateKeyInfoRef, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

use super::{Identity, IdentityError, PublicKey};

/// PEM label of an unencrypted PKCS#8 private key.
pub(super) const PRIVATE_KEY_LABEL: &str = "PRIVATE KEY";
/// PEM label of a SubjectPublicKeyInfo public key.
const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";
/// PEM label of a passphrase-protected PKCS#8 private key.
pub(super) const ENCRYPTED_PRIVATE_KEY_LABEL: &str = "ENCRYPTED PRIVATE KEY";
/// Legacy labels that name another algorithm outright (PKCS#1 RSA, SEC1 EC, DSA).
const OTHER_ALGORITHM_LABELS: &[&str] = &[
    "RSA PRIVATE KEY",
    "RSA PUBLIC KEY",
    "EC PRIVATE KEY",
    "DSA PRIVATE KEY",
];
/// Bytes of the DER `OCTET STRING` wrapping the 32-byte seed inside PKCS#8's `privateKey`
/// (RFC 8410 section 7): tag, length, seed.
const WRAPPED_SEED_LEN: usize = 2 + 32;

impl Identity {
    /// Reads a PKCS#8 private key in PEM form, as written by
    /// `openssl genpkey -algorithm ed25519` (v1) or by other tools as v2 (with the public
    /// key, which must then match the private key).
    ///
    /// ```
    /// use securecom_proto::identity::Identity;
    /// let pem = "-----BEGIN PRIVATE KEY-----\n\
    ///            MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
    ///            -----END PRIVATE KEY-----\n";
    /// let id = Identity::from_pkcs8_pem(pem)?;
    /// assert_eq!(Identity::from_pkcs8_pem(&id.to_pkcs8_pem()?)?.public_key(), id.public_key());
    /// # Ok::<(), securecom_proto::identity::IdentityError>(())
    /// ```
    ///
    /// # Errors
    /// [`IdentityError::EncryptedKeyNeedsPassphrase`] for an `ENCRYPTED PRIVATE KEY`,
    /// [`IdentityError::WrongAlgorithm`] for a key of another type,
    /// [`IdentityError::UnexpectedPemLabel`] for another kind of PEM block,
    /// [`IdentityError::PublicKeyMismatch`] for an inconsistent v2 key, and
    /// [`IdentityError::MalformedKey`] for anything unparsable.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, IdentityError> {
        let der = decode_pem(pem, PRIVATE_KEY_LABEL)?;
        Identity::from_pkcs8_der(&der)
    }

    /// Reads a DER-encoded PKCS#8 (v1 or v2) Ed25519 private key; see
    /// [`Identity::from_pkcs8_pem`].
    ///
    /// # Errors
    /// As [`Identity::from_pkcs8_pem`], except that encrypted keys cannot be told apart
    /// from malformed ones without their PEM label.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, IdentityError> {
        let info = PrivateKeyInfoRef::from_der(der).map_err(|e| malformed("PKCS#8", e))?;
        check_algorithm(&info.algorithm)?;
        // Borrowing the seed in place avoids a copy of the secret that would need wiping.
        let seed: &[u8; 32] = match info.private_key.as_bytes() {
            [0x04, 0x20, seed @ ..] => seed.try_into().ok(),
            _ => None,
        }
        .ok_or_else(|| {
            IdentityError::MalformedKey("private key is not a 32-byte Ed25519 seed".to_string())
        })?;
        let identity = Identity::from_seed(seed);
        // A v2 key also carries the public key; it must be the one the seed gives.
        let expected = identity.public_key();
        if let Some(key) = info.public_key
            && key.as_bytes() != Some(expected.as_bytes().as_slice())
        {
            return Err(IdentityError::PublicKeyMismatch);
        }
        Ok(identity)
    }

    /// Whether `pem` is a passphrase-protected private key (`ENCRYPTED PRIVATE KEY`, as
    /// `openssl genpkey -aes256` writes), judged by its PEM label alone: read it with
    /// [`Identity::from_encrypted_pkcs8_pem`], otherwise with
    /// [`Identity::from_pkcs8_pem`]. A key loader uses it to ask for a passphrase only
    /// when one is needed.
    ///
    /// ```
    /// use securecom_proto::identity::Identity;
    /// let id = Identity::from_seed(&[7; 32]);
    /// assert!(!Identity::is_encrypted_pkcs8_pem(&id.to_pkcs8_pem()?));
    /// let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    /// let encrypted = id.to_encrypted_pkcs8_pem(b"passphrase", &mut rng)?;
    /// assert!(Identity::is_encrypted_pkcs8_pem(&encrypted));
    /// # Ok::<(), securecom_proto::identity::IdentityError>(())
    /// ```
    pub fn is_encrypted_pkcs8_pem(pem: &str) -> bool {
        is_encrypted_private_key(pem)
    }

    /// Writes the key as a PKCS#8 **v1** PEM file, the form `openssl genpkey` writes and
    /// OpenSSL 3.0 reads.
    ///
    /// # Errors
    /// Only if DER encoding fails, which does not happen for a valid key.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, IdentityError> {
        self.pkcs8_document()?
            .to_pem(PRIVATE_KEY_LABEL, LineEnding::LF)
            .map_err(|e| malformed("PEM encoding", e))
    }

    /// Writes the key as DER-encoded PKCS#8 v1; see [`Identity::to_pkcs8_pem`].
    ///
    /// # Errors
    /// Only if DER encoding fails, which does not happen for a valid key.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, IdentityError> {
        Ok(self.pkcs8_document()?.to_bytes())
    }

    /// The PKCS#8 v1 `PrivateKeyInfo`, in a buffer wiped on drop.
    fn pkcs8_document(&self) -> Result<SecretDocument, IdentityError> {
        let encoding = |e| malformed("PKCS#8 encoding", e);
        let mut wrapped_seed = Zeroizing::new([0u8; WRAPPED_SEED_LEN]);
        OctetStringRef::new(self.signing_key().as_bytes())
            .and_then(|seed| seed.encode_to_slice(wrapped_seed.as_mut_slice()))
            .map_err(encoding)?;
        let info = PrivateKeyInfoRef {
            algorithm: ALGORITHM_ID,
            private_key: OctetStringRef::new(wrapped_seed.as_slice()).map_err(encoding)?,
            // No public key: that is what makes it v1.
            public_key: None,
        };
        SecretDocument::encode_msg(&info).map_err(encoding)
    }
}

impl PublicKey {
    /// Reads a SubjectPublicKeyInfo public key in PEM form, as written by
    /// `openssl pkey -pubout`.
    ///
    /// ```
    /// use securecom_proto::identity::PublicKey;
    /// let pem = "-----BEGIN PUBLIC KEY-----\n\
    ///            MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n\
    ///            -----END PUBLIC KEY-----\n";
    /// let key = PublicKey::from_public_key_pem(pem)?;
    /// assert_eq!(key.to_public_key_pem()?, pem);
    /// # Ok::<(), securecom_proto::identity::IdentityError>(())
    /// ```
    ///
    /// # Errors
    /// [`IdentityError::WrongAlgorithm`] for a key of another type,
    /// [`IdentityError::UnexpectedPemLabel`] for another kind of PEM block,
    /// [`IdentityError::InvalidPublicKey`] for a weak or invalid point, and
    /// [`IdentityError::MalformedKey`] for anything unparsable.
    pub fn from_public_key_pem(pem: &str) -> Result<Self, IdentityError> {
        let der = decode_pem(pem, PUBLIC_KEY_LABEL)?;
        PublicKey::from_public_key_der(&der)
    }

    /// Reads a DER-encoded SubjectPublicKeyInfo; see [`PublicKey::from_public_key_pem`].
    ///
    /// # Errors
    /// As [`PublicKey::from_public_key_pem`].
    pub fn from_public_key_der(der: &[u8]) -> Result<Self, IdentityError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| malformed("SubjectPublicKeyInfo", e))?;
        check_algorithm(&spki.algorithm)?;
        let bytes = spki.subject_public_key.as_bytes().ok_or_else(|| {
            IdentityError::MalformedKey("public key is not a whole number of bytes".to_string())
        })?;
        PublicKey::from_slice(bytes)
    }

    /// Writes the key as a SubjectPublicKeyInfo PEM block (what `openssl pkey -pubout`
    /// writes).
    ///
    /// # Errors
    /// Only if DER encoding fails, which does not happen for a valid key.
    pub fn to_public_key_pem(&self) -> Result<String, IdentityError> {
        self.spki_document()?
            .to_pem(PUBLIC_KEY_LABEL, LineEnding::LF)
            .map_err(|e| malformed("PEM encoding", e))
    }

    /// Writes the key as a DER-encoded SubjectPublicKeyInfo.
    ///
    /// # Errors
    /// Only if DER encoding fails, which does not happen for a valid key.
    pub fn to_public_key_der(&self) -> Result<Vec<u8>, IdentityError> {
        Ok(self.spki_document()?.into_vec())
    }

    fn spki_document(&self) -> Result<Document, IdentityError> {
        let encoding = |e| malformed("SubjectPublicKeyInfo encoding", e);
        let spki = SubjectPublicKeyInfoRef {
            algorithm: ALGORITHM_ID,
            subject_public_key: BitStringRef::new(0, self.as_bytes()).map_err(encoding)?,
        };
        Document::encode_msg(&spki).map_err(encoding)
    }
}

/// Whether `pem` is an `ENCRYPTED PRIVATE KEY` block (judged by its label alone).
pub(super) fn is_encrypted_private_key(pem: &str) -> bool {
    der::pem::decode_label(pem.trim().as_bytes()) == Ok(ENCRYPTED_PRIVATE_KEY_LABEL)
}

/// Decodes the single PEM block in `pem`, which must carry the label `expected`.
///
/// The label is checked before any Base64 is decoded, so an encrypted or foreign key is
/// reported as such rather than as a parse error. The output is wiped on drop because it
/// may hold a private key.
pub(super) fn decode_pem(
    pem: &str,
    expected: &'static str,
) -> Result<Zeroizing<Vec<u8>>, IdentityError> {
    let pem = pem.trim().as_bytes();
    let label = der::pem::decode_label(pem).map_err(|e| malformed("PEM", e))?;
    if label != expected {
        return Err(match label {
            ENCRYPTED_PRIVATE_KEY_LABEL if expected == PRIVATE_KEY_LABEL => {
                IdentityError::EncryptedKeyNeedsPassphrase
            }
            other if OTHER_ALGORITHM_LABELS.contains(&other) => IdentityError::WrongAlgorithm,
            other => IdentityError::UnexpectedPemLabel {
                expected,
                found: other.to_string(),
            },
        });
    }
    // Accept any consistent line width, not only OpenSSL's 64 columns.
    let mut decoder = der::pem::Decoder::new_detect_wrap(pem).map_err(|e| malformed("PEM", e))?;
    // Sized up front so the buffer never reallocates and leaves secret copies behind.
    let mut der = Zeroizing::new(vec![0u8; decoder.remaining_len()]);
    let len = decoder
        .decode(der.as_mut_slice())
        .map_err(|e| malformed("PEM", e))?
        .len();
    if !decoder.is_finished() {
        return Err(IdentityError::MalformedKey(
            "PEM: trailing data after the key".to_string(),
        ));
    }
    der.truncate(len);
    Ok(der)
}

/// Accepts exactly the Ed25519 algorithm identifier, whose parameters RFC 8410 requires
/// to be absent.
fn check_algorithm(algorithm: &AlgorithmIdentifierRef<'_>) -> Result<(), IdentityError> {
    if algorithm.oid != ALGORITHM_OID {
        return Err(IdentityError::WrongAlgorithm);
    }
    if algorithm.parameters.is_some() {
        return Err(IdentityError::MalformedKey(
            "Ed25519 algorithm identifier has parameters".to_string(),
        ));
    }
    Ok(())
}

pub(super) fn malformed(what: &str, error: impl Display) -> IdentityError {
    IdentityError::MalformedKey(format!("{what}: {error}"))
}

#[cfg(test)]
mod tests;
