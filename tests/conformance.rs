//! One conformance suite for both drivers. Every scenario (`conformance/scenarios/`) is
//! written once, generic over the harness's `Driver`, and run here against the async
//! driver (`tokio::<scenario>`) and the blocking one (`std::<scenario>`): wherever the
//! protocol core decides, the two must behave alike.

#[path = "conformance"]
mod suite {
    mod client;
    mod fixtures;
    mod harness;
    mod net;
    mod proxy;
    pub(crate) mod scenarios;
    pub(crate) mod std_driver;
    mod steps;
    mod tcp;
    pub(crate) mod tokio_driver;
}

/// Runs every scenario named as a test for each driver, in one module per driver.
macro_rules! for_both_drivers {
    ($($scenario:ident),+ $(,)?) => {
        mod tokio {
            $(
                #[test]
                fn $scenario() {
                    crate::suite::scenarios::$scenario::<crate::suite::tokio_driver::Tokio>();
                }
            )+
        }
        mod std {
            $(
                #[test]
                fn $scenario() {
                    crate::suite::scenarios::$scenario::<crate::suite::std_driver::Std>();
                }
            )+
        }
    };
}

for_both_drivers! {
    // Sessions.
    login_list_and_busy_refusal,
    chat_both_ways_in_order,
    leave_and_exit,
    backpressure_keeps_a_bulk_transfer_whole_and_in_order,
    dropping_every_handle_leaves_the_server,
    // Faults under a chat.
    abrupt_disconnect_ends_the_partners_chat,
    a_peer_that_stops_reading_is_dropped,
    // The callback daemon.
    callback_channel_carries_notices,
    a_silent_callback_connection_is_closed_at_its_hello_timeout,
    callback_connections_beyond_the_limit_are_closed_at_once,
    // Handshakes.
    a_thousand_stalled_handshakes_do_not_keep_a_client_out,
    connections_beyond_the_handshake_cap_are_refused_at_once,
    an_oversized_frame_header_closes_only_that_connection,
    wrong_server_name_fails_the_handshake,
    a_silent_server_fails_the_handshake_at_its_deadline,
    a_server_closing_during_the_handshake_is_reported,
    // Logins.
    second_login_rejected,
    second_login_replaces_the_first,
    // Shutdown.
    server_shutdown_says_goodbye,
    a_server_shut_down_before_it_runs_returns_at_once,
    // The wire.
    the_wire_shows_no_chat_text_and_no_username,
}
