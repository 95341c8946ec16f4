//! What the `client` and `scheduler` targets check of every message shown: a text its
//! peer sent, in order, at most once.

use alloc::string::String;

use crate::client::ClientEvent;
use crate::identity::Username;

/// The texts of the `Message` events among `events`, with their sender.
pub(super) fn messages(events: &[ClientEvent]) -> impl Iterator<Item = (&Username, &str)> {
    events.iter().filter_map(|e| match e {
        ClientEvent::Message { from, text } => Some((from, text.as_str())),
        _ => None,
    })
}

/// Checks that `received` texts, in order, are a subsequence of `sent` (each at most once),
/// starting at `*cursor`; advances the cursor. Every text a target sends is unique.
pub(super) fn assert_subsequence(sent: &[String], cursor: &mut usize, text: &str) {
    let rest = sent.get(*cursor..).unwrap_or(&[]);
    match rest.iter().position(|s| s == text) {
        Some(i) => *cursor += i + 1,
        None => panic!(
            "a text was shown that the peer did not send, or out of order, or twice: {text:?}"
        ),
    }
}
