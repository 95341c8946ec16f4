//! Reading the fuzz input: a cursor that never fails, chunking, and the values several
//! targets draw from it.

use crate::identity::{PublicKey, Username};
use crate::testkit::fixtures;

/// A cursor over the fuzz input that never fails: past the end it reads zeros.
pub(super) struct Input<'a> {
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Input { rest: data }
    }

    pub(super) fn u8(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((b, rest)) => {
                self.rest = rest;
                *b
            }
            None => 0,
        }
    }

    pub(super) fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// The next `n` bytes, or fewer at the end.
    pub(super) fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.rest.split_at(n.min(self.rest.len()));
        self.rest = rest;
        head
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Everything not read yet.
    pub(super) fn rest(self) -> &'a [u8] {
        self.rest
    }
}

/// `wire` in chunks of `size` bytes: 0 means all at once.
pub(super) fn chunks(wire: &[u8], size: u8) -> impl Iterator<Item = &[u8]> {
    let size = if size == 0 {
        wire.len().max(1)
    } else {
        usize::from(size)
    };
    wire.chunks(size)
}

/// A username the input chooses: one of the three fixture users, or (rarely) arbitrary
/// bytes that happen to be a valid name.
pub(super) fn username(input: &mut Input<'_>) -> Username {
    let b = input.u8();
    if b >= 0xf0 {
        let len = usize::from(b & 0x0f) + 1;
        if let Ok(name) = Username::from_bytes(input.bytes(len)) {
            return name;
        }
    }
    fixtures::get().user(usize::from(b)).name.clone()
}

/// The registered key of a fixture user the input chooses.
pub(super) fn key(input: &mut Input<'_>) -> PublicKey {
    fixtures::get().user(usize::from(input.u8())).me().1
}
