//! Builds only if `securecom-proto` and all its dependencies are `no_std` (with `alloc`).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use securecom_proto::endpoint::ClientLimits;
use securecom_proto::time::Instant;

/// Touches the core so that it is linked in, not just named.
pub fn limits_at(now: Instant) -> (ClientLimits, Instant) {
    (ClientLimits::default(), now)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
