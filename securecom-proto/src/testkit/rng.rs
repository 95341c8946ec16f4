//! A deterministic RNG for the crate's tests and fuzz targets. Never for real keys.

#![cfg_attr(
    not(feature = "fuzzing"),
    allow(unreachable_pub, reason = "public through the fuzzing module")
)]

use core::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};
use sha2::{Digest, Sha256};

/// A deterministic RNG: SHA-256 in counter mode over a seed. For fuzzing and tests only;
/// never for real keys.
#[derive(Clone, Debug)]
pub struct TestRng {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl TestRng {
    /// The stream of `seed`.
    pub fn new(seed: u64) -> Self {
        TestRng {
            seed: Sha256::digest(seed.to_be_bytes()).into(),
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }
}

impl TryRng for TestRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for byte in dst {
            if self.used >= self.block.len() {
                self.block = Sha256::new()
                    .chain_update(self.seed)
                    .chain_update(self.counter.to_be_bytes())
                    .finalize()
                    .into();
                self.counter = self.counter.wrapping_add(1);
                self.used = 0;
            }
            *byte = self.block.get(self.used).copied().unwrap_or(0);
            self.used += 1;
        }
        Ok(())
    }
}

impl TryCryptoRng for TestRng {}
