//! The scheduler's malicious relay: its interference with the chat data it forwards,
//! decided by a plan from the fuzz input.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use crate::identity::Username;
use crate::testkit::adversary::Adversary;

/// The relay's interference with the chat data it forwards: one plan byte per forward
/// (then more for the alterations), forwarding honestly once the plan runs out.
pub(super) struct Interfere {
    plan: VecDeque<u8>,
    held: Vec<(Username, Vec<u8>)>,
}

impl Interfere {
    pub(super) fn new(plan: &[u8]) -> Self {
        Interfere {
            plan: plan.iter().copied().collect(),
            held: Vec::new(),
        }
    }

    fn next(&mut self, or: u8) -> u8 {
        self.plan.pop_front().unwrap_or(or)
    }
}

impl Adversary for Interfere {
    fn chat_data(
        &mut self,
        from: &Username,
        to: &Username,
        payload: Vec<u8>,
    ) -> Vec<(Username, Vec<u8>)> {
        match self.next(0) % 8 {
            // Forward as it is.
            0 => vec![(to.clone(), payload)],
            // Drop.
            1 => Vec::new(),
            // Duplicate.
            2 => vec![(to.clone(), payload.clone()), (to.clone(), payload)],
            // Hold back (released by a later "reorder").
            3 => {
                self.held.push((to.clone(), payload));
                Vec::new()
            }
            // Reorder: this one first, then what was held.
            4 => {
                let mut out = vec![(to.clone(), payload)];
                out.append(&mut self.held);
                out
            }
            // Alter one byte.
            5 => {
                let mut payload = payload;
                let at = usize::from(self.next(0));
                let len = payload.len().max(1);
                if let Some(b) = payload.get_mut(at % len) {
                    *b ^= self.plan.pop_front().unwrap_or(1) | 1;
                }
                vec![(to.clone(), payload)]
            }
            // Reflect to its sender.
            6 => vec![(from.clone(), payload)],
            // Inject bytes of the relay's own after it.
            _ => {
                let n = usize::from(self.next(0) % 64) + 1;
                let injected: Vec<u8> = (0..n).map(|_| self.next(0x42)).collect();
                vec![(to.clone(), payload), (to.clone(), injected)]
            }
        }
    }
}
