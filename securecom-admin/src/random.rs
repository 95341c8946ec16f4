//! Randomness from the operating system, with failures as errors.

use securecom_proto::identity::Identity;
use zeroize::Zeroizing;

use crate::AdminError;

/// `N` random bytes.
pub(crate) fn bytes<const N: usize>() -> Result<[u8; N], AdminError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| AdminError::Random(e.to_string()))?;
    Ok(out)
}

/// A fresh random Ed25519 identity.
pub(crate) fn identity() -> Result<Identity, AdminError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(|e| AdminError::Random(e.to_string()))?;
    Ok(Identity::from_seed(&seed))
}

/// The system generator as a `CryptoRng`, for APIs that take one. It is checked to work
/// first, so that its panicking wrapper does not panic in practice.
pub(crate) fn rng() -> Result<securecom_host::OsRng, AdminError> {
    bytes::<1>()?;
    Ok(securecom_host::os_rng())
}
