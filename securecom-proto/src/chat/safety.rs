//! Safety numbers: what two users compare to know the relay gave them the right keys.

use alloc::string::String;
use core::fmt;

use sha2::{Digest, Sha256};

use crate::identity::{PublicKey, Username};

/// A 60-digit number computed from both users' names and identity keys, the same on both
/// sides whatever the order. If the relay substituted a key, the two users see different
/// numbers. Shown as twelve groups of five digits.
///
/// ```
/// use securecom_proto::chat::SafetyNumber;
/// use securecom_proto::identity::{Identity, Username};
/// let (a, b) = (Identity::from_seed(&[1; 32]), Identity::from_seed(&[2; 32]));
/// let (alice, bob) = (Username::new("alice")?, Username::new("bob")?);
/// let seen_by_alice = SafetyNumber::new((&alice, &a.public_key()), (&bob, &b.public_key()));
/// let seen_by_bob = SafetyNumber::new((&bob, &b.public_key()), (&alice, &a.public_key()));
/// assert_eq!(seen_by_alice, seen_by_bob);
/// assert_eq!(seen_by_alice.to_string().len(), 71);
/// # Ok::<(), securecom_proto::identity::IdentityError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SafetyNumber([u32; 12]);

impl SafetyNumber {
    /// The number for a chat between the two users.
    pub fn new(one: (&Username, &PublicKey), other: (&Username, &PublicKey)) -> Self {
        let (first, second) = if one.0 <= other.0 {
            (one, other)
        } else {
            (other, one)
        };
        let mut hash = Sha256::new();
        hash.update(b"securecom/1 safety number");
        for (name, key) in [first, second] {
            hash.update([u8::try_from(name.as_str().len()).unwrap_or(u8::MAX)]);
            hash.update(name.as_str().as_bytes());
            hash.update(key.as_bytes());
        }
        let first_half: [u8; 32] = hash.clone().chain_update([0]).finalize().into();
        let second_half: [u8; 32] = hash.chain_update([1]).finalize().into();
        let mut groups = [0u32; 12];
        // Five bytes per group, reduced mod 100000 (as Signal does): 6 groups per hash.
        for (i, group) in groups.iter_mut().enumerate() {
            let source = if i < 6 { &first_half } else { &second_half };
            let at = (i % 6) * 5;
            let mut v: u64 = 0;
            for b in source.iter().skip(at).take(5) {
                v = (v << 8) | u64::from(*b);
            }
            *group = u32::try_from(v % 100_000).unwrap_or(0);
        }
        SafetyNumber(groups)
    }

    /// The digits without spaces.
    pub fn digits(&self) -> String {
        use core::fmt::Write;
        let mut s = String::with_capacity(60);
        for g in self.0 {
            let _ = write!(s, "{g:05}");
        }
        s
    }
}

impl fmt::Display for SafetyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, g) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{g:05}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SafetyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SafetyNumber({self})")
    }
}
