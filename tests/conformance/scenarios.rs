//! The scenarios, grouped by subject in `scenarios/`. Each is one function generic over the
//! [`Driver`](super::harness::Driver); the entry (`conformance.rs`) runs every one against
//! both drivers.

mod callbacks;
mod faults;
mod handshakes;
mod logins;
mod sessions;
mod shutdown;
mod wire;

pub(crate) use callbacks::{
    a_silent_callback_connection_is_closed_at_its_hello_timeout, callback_channel_carries_notices,
    callback_connections_beyond_the_limit_are_closed_at_once,
};
pub(crate) use faults::{
    a_peer_that_stops_reading_is_dropped, abrupt_disconnect_ends_the_partners_chat,
};
pub(crate) use handshakes::{
    a_server_closing_during_the_handshake_is_reported,
    a_silent_server_fails_the_handshake_at_its_deadline,
    a_thousand_stalled_handshakes_do_not_keep_a_client_out,
    an_oversized_frame_header_closes_only_that_connection,
    connections_beyond_the_handshake_cap_are_refused_at_once,
    wrong_server_name_fails_the_handshake,
};
pub(crate) use logins::{second_login_rejected, second_login_replaces_the_first};
pub(crate) use sessions::{
    backpressure_keeps_a_bulk_transfer_whole_and_in_order, chat_both_ways_in_order,
    dropping_every_handle_leaves_the_server, leave_and_exit, login_list_and_busy_refusal,
};
pub(crate) use shutdown::{
    a_server_shut_down_before_it_runs_returns_at_once, server_shutdown_says_goodbye,
};
pub(crate) use wire::the_wire_shows_no_chat_text_and_no_username;
