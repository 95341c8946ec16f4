//! The scenarios, grouped by subject in `scenarios/`. Each is one function generic over the
//! [`Driver`](super::harness::Driver); the entry (`conformance.rs`) runs every one against
//! both drivers.

mod callbacks;
mod faults;
mod handshakes;
mod logins;
mod sessions;

pub(crate) use callbacks::{
    a_silent_callback_connection_is_closed_at_its_hello_timeout,
    callback_connections_beyond_the_limit_are_closed_at_once,
};
pub(crate) use faults::{
    a_peer_that_stops_reading_is_dropped, abrupt_disconnect_ends_the_partners_chat,
};
pub(crate) use handshakes::a_thousand_stalled_handshakes_do_not_keep_a_client_out;
pub(crate) use logins::{second_login_rejected, second_login_replaces_the_first};
pub(crate) use sessions::{chat_both_ways_in_order, leave_and_exit, login_list_and_busy_refusal};
