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
    login_list_and_busy_refusal,
    chat_both_ways_in_order,
    leave_and_exit,
    abrupt_disconnect_ends_the_partners_chat,
    a_peer_that_stops_reading_is_dropped,
    a_silent_callback_connection_is_closed_at_its_hello_timeout,
    callback_connections_beyond_the_limit_are_closed_at_once,
    a_thousand_stalled_handshakes_do_not_keep_a_client_out,
    second_login_rejected,
    second_login_replaces_the_first,
}
