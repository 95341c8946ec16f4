//! Passphrase-protected private keys: PKCS#8 `EncryptedPrivateKeyInfo` with PBES2
//! (RFC 8018), the `ENCRYPTED PRIVATE KEY` files that `openssl genpkey -aes256` writes.
//!
//! The ASN.1 structures come from the `pkcs8`/`pkcs5` crates; the key derivation and the
//! cipher are run here, for two reasons:
//!
//! - **Bounded cost.** The KDF parameters come from the file, which may be hostile. An
//!   iteration count of four billion, or scrypt parameters asking for terabytes, would
//!   hang or abort the program; we refuse anything above [`MAX_PBKDF2_ITERATIONS`] and
//!   [`MAX_SCRYPT_MEMORY`] before deriving anything.
//! - **Wiped secrets.** The derived AES key and the decrypted `PrivateKeyInfo` live in
//!   buffers that are zeroized on drop (pkcs5 0.8 leaves its derived key on the stack).
//!
//! Read: PBES2 with PBKDF2 (HMAC-SHA-224/256/384/512) or scrypt, and AES-128/192/256-CBC:
//! what OpenSSL 1.1 and 3.x write with `-aes128`/`-aes256`, `-v2prf`, `-iter` and
//! `-scrypt`. Written: PBKDF2-HMAC-SHA256 ([`PBKDF2_ITERATIONS`] iterations, 16-byte salt)
//! with AES-256-CBC, the very structure `openssl genpkey -algorithm ed25519 -aes256`
//! writes, with a PKCS#8 v1 key inside; only the iteration count is higher than
//! OpenSSL's 2048.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use der::asn1::OctetStringRef;
use der::pem::LineEnding;
use der::{Decode, Document};
use pkcs8::pkcs5::pbes2::{self, EncryptionScheme, Kdf, Pbkdf2Params, Pbkdf2Prf, ScryptParams};
use pkcs8::{EncryptedPrivateKeyInfo, EncryptedPrivateKeyInfoRef, PrivateKeyInfoRef};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::pem::{ENCRYPTED_PRIVATE_KEY_LABEL, decode_pem, malformed};
use super::{Identity, IdentityError};

/// PBKDF2-HMAC-SHA256 iterations used when we encrypt a key: OWASP's 2023 recommendation
/// for that PRF. Deriving the key takes a few hundred milliseconds, once per start.
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// The most PBKDF2 iterations accepted when reading a key, so that a crafted file cannot
/// keep the program busy for hours. OpenSSL writes 2048 by default.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// The most memory, in bytes, that the scrypt parameters of a key file may demand
/// (`128 · r · (N + p)`). OpenSSL's own limit is 32 MiB; its `-scrypt` default needs 16 MiB.
pub const MAX_SCRYPT_MEMORY: u64 = 64 * 1024 * 1024;

/// The most scrypt work accepted (`128 · r · N · p`, bytes mixed), eight times the
/// memory bound: a few seconds at most.
const MAX_SCRYPT_WORK: u64 = 8 * MAX_SCRYPT_MEMORY;

/// Bytes of salt we write.
const SALT_LEN: usize = 16;
/// Bytes of an AES-CBC initialization vector.
const IV_LEN: usize = 16;
/// Bytes of the largest AES key.
const MAX_KEY_LEN: usize = 32;
/// Bytes of one AES block, the most PKCS#7 padding adds.
const AES_BLOCK_LEN: usize = 16;

impl Identity {
    /// Reads a passphrase-protected PKCS#8 private key in PEM form (`ENCRYPTED PRIVATE
    /// KEY`), as written by `openssl genpkey -algorithm ed25519 -aes256` or by
    /// [`Identity::to_encrypted_pkcs8_pem`].
    ///
    /// ```
    /// use securecom_proto::identity::{Identity, IdentityError};
    /// let pem = include_str!(concat!(
    ///     env!("CARGO_MANIFEST_DIR"),
    ///     "/tests/fixtures/identity/ed25519-encrypted.pem"
    /// ));
    /// let id = Identity::from_encrypted_pkcs8_pem(pem, b"securecom-fixtures")?;
    /// println!("key {}", id.public_key().fingerprint());
    /// assert_eq!(
    ///     Identity::from_encrypted_pkcs8_pem(pem, b"guess").unwrap_err(),
    ///     IdentityError::WrongPassphrase
    /// );
    /// # Ok::<(), IdentityError>(())
    /// ```
    ///
    /// # Errors
    /// [`IdentityError::WrongPassphrase`] if the passphrase is wrong (or the encrypted
    /// bytes were damaged: the two cannot be told apart);
    /// [`IdentityError::UnsupportedKeyEncryption`] for another scheme (PBES1, DES,
    /// HMAC-SHA1, AES-GCM) or parameters over the cost limits;
    /// [`IdentityError::UnexpectedPemLabel`] for another kind of PEM block (an
    /// unencrypted key is read with [`Identity::from_pkcs8_pem`]);
    /// [`IdentityError::MalformedKey`] for anything unparsable; and, once decrypted, the
    /// errors of [`Identity::from_pkcs8_der`] (such as [`IdentityError::WrongAlgorithm`]).
    pub fn from_encrypted_pkcs8_pem(pem: &str, passphrase: &[u8]) -> Result<Self, IdentityError> {
        let der = decode_pem(pem, ENCRYPTED_PRIVATE_KEY_LABEL)?;
        Identity::from_encrypted_pkcs8_der(&der, passphrase)
    }

    /// Reads a DER-encoded PKCS#8 `EncryptedPrivateKeyInfo`; see
    /// [`Identity::from_encrypted_pkcs8_pem`].
    ///
    /// # Errors
    /// As [`Identity::from_encrypted_pkcs8_pem`].
    pub fn from_encrypted_pkcs8_der(der: &[u8], passphrase: &[u8]) -> Result<Self, IdentityError> {
        let info = EncryptedPrivateKeyInfoRef::from_der(der)
            .map_err(|e| malformed("EncryptedPrivateKeyInfo", e))?;
        let params = match &info.encryption_algorithm {
            pkcs8::pkcs5::EncryptionScheme::Pbes2(params) => params,
            _ => return Err(unsupported("PBES1 (only PBES2 is supported)")),
        };
        let mut buffer = Zeroizing::new(info.encrypted_data.as_bytes().to_vec());
        let plaintext = decrypt_in_place(params, passphrase, &mut buffer)?;
        // A wrong key passes the padding check about once in 256 tries and then yields
        // noise: noise that is not even a PrivateKeyInfo is a wrong passphrase too.
        if PrivateKeyInfoRef::from_der(plaintext).is_err() {
            return Err(IdentityError::WrongPassphrase);
        }
        Identity::from_pkcs8_der(plaintext)
    }

    /// Writes the key as a passphrase-protected PKCS#8 PEM block (`ENCRYPTED PRIVATE
    /// KEY`): PBES2 with PBKDF2-HMAC-SHA256 ([`PBKDF2_ITERATIONS`] iterations, random
    /// 16-byte salt) and AES-256-CBC (random IV) around a PKCS#8 v1 key. OpenSSL reads it
    /// (`openssl pkey -in key.pem -passin pass:...`).
    ///
    /// ```
    /// use securecom_proto::identity::Identity;
    /// let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    /// let id = Identity::generate(&mut rng);
    /// let pem = id.to_encrypted_pkcs8_pem(b"correct horse", &mut rng)?;
    /// assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    /// let back = Identity::from_encrypted_pkcs8_pem(&pem, b"correct horse")?;
    /// assert_eq!(back.public_key(), id.public_key());
    /// # Ok::<(), securecom_proto::identity::IdentityError>(())
    /// ```
    ///
    /// # Errors
    /// [`IdentityError::EmptyPassphrase`] for an empty passphrase (write an unencrypted
    /// key with [`Identity::to_pkcs8_pem`] if that is what is meant).
    pub fn to_encrypted_pkcs8_pem<R: CryptoRng + ?Sized>(
        &self,
        passphrase: &[u8],
        rng: &mut R,
    ) -> Result<String, IdentityError> {
        self.encrypted_document(passphrase, rng)?
            .to_pem(ENCRYPTED_PRIVATE_KEY_LABEL, LineEnding::LF)
            .map_err(|e| malformed("PEM encoding", e))
    }

    /// Writes the key as a DER-encoded PKCS#8 `EncryptedPrivateKeyInfo`; see
    /// [`Identity::to_encrypted_pkcs8_pem`].
    ///
    /// # Errors
    /// As [`Identity::to_encrypted_pkcs8_pem`].
    pub fn to_encrypted_pkcs8_der<R: CryptoRng + ?Sized>(
        &self,
        passphrase: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>, IdentityError> {
        Ok(self.encrypted_document(passphrase, rng)?.into_vec())
    }

    fn encrypted_document<R: CryptoRng + ?Sized>(
        &self,
        passphrase: &[u8],
        rng: &mut R,
    ) -> Result<Document, IdentityError> {
        self.encrypted_document_with_iterations(passphrase, rng, PBKDF2_ITERATIONS)
    }

    /// [`Identity::to_encrypted_pkcs8_der`] with another iteration count (tests use a
    /// small one to stay fast).
    fn encrypted_document_with_iterations<R: CryptoRng + ?Sized>(
        &self,
        passphrase: &[u8],
        rng: &mut R,
        iterations: u32,
    ) -> Result<Document, IdentityError> {
        if passphrase.is_empty() {
            return Err(IdentityError::EmptyPassphrase);
        }
        let mut salt = [0u8; SALT_LEN];
        let mut iv = [0u8; IV_LEN];
        rng.fill_bytes(&mut salt);
        rng.fill_bytes(&mut iv);
        let params = pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(iterations, &salt, iv)
            .map_err(encoding)?;

        let plaintext = self.to_pkcs8_der()?;
        let mut buffer = Zeroizing::new(vec![0u8; plaintext.len() + AES_BLOCK_LEN]);
        buffer
            .get_mut(..plaintext.len())
            .ok_or_else(|| IdentityError::MalformedKey("buffer too small".to_string()))?
            .copy_from_slice(&plaintext);
        let key = derive_key(&params, passphrase)?;
        let ciphertext = cbc::Encryptor::<aes::Aes256Enc>::new_from_slices(key.as_slice(), &iv)
            .map_err(|_| unsupported("AES-256-CBC key length"))?
            .encrypt_padded::<Pkcs7>(&mut buffer, plaintext.len())
            .map_err(|_| IdentityError::MalformedKey("AES-CBC padding".to_string()))?;
        let info = EncryptedPrivateKeyInfo {
            encryption_algorithm: params.into(),
            encrypted_data: OctetStringRef::new(ciphertext).map_err(encoding)?,
        };
        Document::encode_msg(&info).map_err(encoding)
    }
}

/// Derives the key and decrypts `buffer` in place, returning the plaintext within it.
fn decrypt_in_place<'b>(
    params: &pbes2::Parameters,
    passphrase: &[u8],
    buffer: &'b mut [u8],
) -> Result<&'b [u8], IdentityError> {
    let (iv, cipher_key_len) = match params.encryption {
        EncryptionScheme::Aes128Cbc { iv } => (iv, 16),
        EncryptionScheme::Aes192Cbc { iv } => (iv, 24),
        EncryptionScheme::Aes256Cbc { iv } => (iv, 32),
        _ => return Err(unsupported("cipher (only AES-CBC is supported)")),
    };
    let key = derive_key(params, passphrase)?;
    let key = key
        .get(..cipher_key_len)
        .ok_or_else(|| unsupported("key length"))?;
    match cipher_key_len {
        16 => cbc_decrypt::<aes::Aes128Dec>(key, &iv, buffer),
        24 => cbc_decrypt::<aes::Aes192Dec>(key, &iv, buffer),
        _ => cbc_decrypt::<aes::Aes256Dec>(key, &iv, buffer),
    }
}

fn cbc_decrypt<'b, C>(
    key: &[u8],
    iv: &[u8],
    buffer: &'b mut [u8],
) -> Result<&'b [u8], IdentityError>
where
    C: cbc::cipher::BlockCipherDecrypt + cbc::cipher::KeyInit,
{
    cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| unsupported("AES-CBC key or IV length"))?
        .decrypt_padded::<Pkcs7>(buffer)
        // Bad padding (or a ciphertext that is not whole blocks): almost always a wrong
        // passphrase. Local files only, so there is no padding oracle to worry about.
        .map_err(|_| IdentityError::WrongPassphrase)
}

/// Runs the KDF named in `params` into a wiped 32-byte buffer, after checking that its
/// cost is within our limits. Returns the key sized for the cipher.
fn derive_key(
    params: &pbes2::Parameters,
    passphrase: &[u8],
) -> Result<Zeroizing<[u8; MAX_KEY_LEN]>, IdentityError> {
    let key_len = match params.encryption {
        EncryptionScheme::Aes128Cbc { .. } => 16,
        EncryptionScheme::Aes192Cbc { .. } => 24,
        EncryptionScheme::Aes256Cbc { .. } => 32,
        _ => return Err(unsupported("cipher (only AES-CBC is supported)")),
    };
    if let Some(declared) = params.kdf.key_length()
        && usize::from(declared) != key_len
    {
        return Err(unsupported("KDF key length does not match the cipher"));
    }
    let mut key = Zeroizing::new([0u8; MAX_KEY_LEN]);
    let out = key
        .get_mut(..key_len)
        .ok_or_else(|| unsupported("key length"))?;
    match &params.kdf {
        Kdf::Pbkdf2(pbkdf2) => derive_pbkdf2(pbkdf2, passphrase, out)?,
        Kdf::Scrypt(scrypt) => derive_scrypt(scrypt, passphrase, out)?,
        _ => return Err(unsupported("key derivation function")),
    }
    Ok(key)
}

fn derive_pbkdf2(
    params: &Pbkdf2Params,
    passphrase: &[u8],
    out: &mut [u8],
) -> Result<(), IdentityError> {
    let rounds = params.iteration_count;
    if rounds == 0 || rounds > MAX_PBKDF2_ITERATIONS {
        return Err(IdentityError::UnsupportedKeyEncryption(alloc::format!(
            "PBKDF2 iteration count {rounds} is outside 1..={MAX_PBKDF2_ITERATIONS}"
        )));
    }
    let salt = params.salt.as_ref();
    match params.prf {
        Pbkdf2Prf::HmacWithSha224 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha224>(passphrase, salt, rounds, out);
        }
        Pbkdf2Prf::HmacWithSha256 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(passphrase, salt, rounds, out);
        }
        Pbkdf2Prf::HmacWithSha384 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha384>(passphrase, salt, rounds, out);
        }
        Pbkdf2Prf::HmacWithSha512 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha512>(passphrase, salt, rounds, out);
        }
        _ => {
            return Err(unsupported(
                "PBKDF2 with HMAC-SHA1; re-encrypt with \
                 `openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256`",
            ));
        }
    }
    Ok(())
}

fn derive_scrypt(
    params: &ScryptParams,
    passphrase: &[u8],
    out: &mut [u8],
) -> Result<(), IdentityError> {
    let n = params.cost_parameter;
    let r = u64::from(params.block_size);
    let p = u64::from(params.parallelization);
    let too_costly = || {
        IdentityError::UnsupportedKeyEncryption(alloc::format!(
            "scrypt parameters N={n}, r={r}, p={p} need more than the {MAX_SCRYPT_MEMORY} \
             bytes or the work allowed"
        ))
    };
    if !n.is_power_of_two() || n < 2 || r == 0 || p == 0 {
        return Err(unsupported("scrypt parameters"));
    }
    let memory = n
        .checked_add(p)
        .and_then(|np| np.checked_mul(r))
        .and_then(|x| x.checked_mul(128))
        .ok_or_else(too_costly)?;
    let work = n
        .checked_mul(r)
        .and_then(|x| x.checked_mul(p))
        .and_then(|x| x.checked_mul(128))
        .ok_or_else(too_costly)?;
    if memory > MAX_SCRYPT_MEMORY || work > MAX_SCRYPT_WORK {
        return Err(too_costly());
    }
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| too_costly())?;
    let r = u32::from(params.block_size);
    let p = u32::from(params.parallelization);
    let scrypt_params =
        scrypt::Params::new(log_n, r, p).map_err(|_| unsupported("scrypt parameters"))?;
    scrypt::scrypt(passphrase, params.salt.as_ref(), &scrypt_params, out)
        .map_err(|_| unsupported("scrypt output length"))
}

fn encoding(error: impl core::fmt::Display) -> IdentityError {
    malformed("EncryptedPrivateKeyInfo encoding", error)
}

fn unsupported(what: &str) -> IdentityError {
    IdentityError::UnsupportedKeyEncryption(what.to_string())
}

#[cfg(test)]
mod tests;
