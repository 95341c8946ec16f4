//! Start states: worlds a target builds once per thread (genuine logins, a chat set up)
//! and copies at the start of every execution, as libsignal's harnesses start from an
//! established state. A copy costs a few allocations; the logins it replaces cost a full
//! client and server handshake each.

use std::any::Any;
use std::boxed::Box;
use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::testkit::world::World;

/// What can be copied at rest, for a start state.
pub(super) trait Copyable: Sized + 'static {
    /// A copy, or `None` if the state is not at rest (mid-handshake).
    fn try_copy(&self) -> Option<Self>;
}

impl Copyable for World {
    fn try_copy(&self) -> Option<Self> {
        self.try_clone()
    }
}

/// Each start state by target and number: an `Option<T>` of the target's type (`None` if
/// it could not be built).
type Cache = BTreeMap<(&'static str, u8), Box<dyn Any>>;

std::thread_local! {
    static STARTS: RefCell<Cache> = const { RefCell::new(BTreeMap::new()) };
}

/// A copy of `target`'s start state `number`, built by `build` at the first call. `None`
/// if `build` failed or left the state one that cannot be copied (mid-handshake), which is
/// a bug in the target the replay tests catch.
pub(super) fn world<T: Copyable>(
    target: &'static str,
    number: u8,
    build: impl FnOnce() -> Option<T>,
) -> Option<T> {
    let key = (target, number);
    let known = STARTS.with(|cache| {
        cache.borrow().get(&key).map(|state| {
            state
                .downcast_ref::<Option<T>>()
                .and_then(|state| state.as_ref()?.try_copy())
        })
    });
    if let Some(copy) = known {
        return copy;
    }
    let built = build();
    let copy = built.as_ref().and_then(T::try_copy);
    STARTS.with(|cache| cache.borrow_mut().insert(key, Box::new(built)));
    copy
}
