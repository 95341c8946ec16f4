//! The screen driven headless: events and keys in, ratatui's `TestBackend` buffer out.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use securecom_proto::chat::{ChatError, KeyStatus, SafetyNumber};
use securecom_proto::client::{ChatEndReason, ClientEvent, OnlineUser};
use securecom_proto::identity::{Identity, PublicKey, Username};

use super::{ChatScreen, Key, LocalTime, REFRESH_SECS};
use crate::ConsoleCommand;

fn name(s: &str) -> Username {
    Username::new(s).unwrap()
}

fn key(seed: u8) -> PublicKey {
    Identity::from_seed(&[seed; 32]).public_key()
}

fn at(hour: u8, minute: u8) -> LocalTime {
    LocalTime::new(hour, minute).unwrap()
}

fn screen() -> ChatScreen {
    ChatScreen::new(name("alice"), "127.0.0.1:4433")
}

fn users(names: &[&str]) -> ClientEvent {
    ClientEvent::Users {
        users: names
            .iter()
            .enumerate()
            .map(|(i, n)| OnlineUser::new(name(n), key(i as u8).fingerprint(), KeyStatus::Known))
            .collect(),
        truncated: false,
    }
}

fn established(peer: &str) -> ClientEvent {
    ClientEvent::ChatEstablished {
        peer: name(peer),
        safety_number: SafetyNumber::new((&name("alice"), &key(1)), (&name(peer), &key(2))),
        key_status: KeyStatus::FirstSeen,
    }
}

fn message(from: &str, text: &str) -> ClientEvent {
    ClientEvent::Message {
        from: name(from),
        text: text.to_owned(),
    }
}

/// Draws `screen` on a `width` x `height` terminal and returns its rows as text.
fn draw(terminal: &mut Terminal<TestBackend>, screen: &mut ChatScreen) -> Vec<String> {
    terminal.draw(|frame| screen.draw(frame)).unwrap();
    rows(terminal)
}

fn rows(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect()
        })
        .collect()
}

fn terminal(width: u16, height: u16) -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(width, height)).unwrap()
}

fn has(rows: &[String], needle: &str) -> bool {
    rows.iter().any(|r| r.contains(needle))
}

/// The conversation's text in order, borders, times and indents removed.
fn conversation_words(rows: &[String]) -> Vec<String> {
    rows.iter()
        .flat_map(|r| {
            r.trim_matches(|c| c == '│' || c == ' ')
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn an_incoming_request_is_a_sentence_with_the_key_and_whether_it_is_new() {
    let mut screen = screen();
    let fingerprint = key(3).fingerprint();
    screen.handle_event(
        &ClientEvent::IncomingRequest {
            from: name("carol"),
            fingerprint,
            key_status: KeyStatus::FirstSeen,
        },
        at(14, 2),
    );
    let rows = draw(&mut terminal(140, 12), &mut screen);
    let sentence = format!(
        "14:02 * carol wants to chat (key {fingerprint}, first time seen). /accept or /deny"
    );
    assert!(has(&rows, &sentence), "{rows:#?}");
    assert!(
        has(&rows, "carol asks to chat: /accept or /deny"),
        "{rows:#?}"
    );
    // The fingerprint is written as its Display writes it: groups of four, spaces.
    assert_eq!(fingerprint.to_string().split(' ').count(), 8);

    screen.handle_event(
        &ClientEvent::IncomingRequest {
            from: name("dave"),
            fingerprint,
            key_status: KeyStatus::Known,
        },
        at(14, 3),
    );
    let rows = draw(&mut terminal(140, 12), &mut screen);
    assert!(has(
        &rows,
        &format!("dave wants to chat (key {fingerprint}, known)")
    ));
}

#[test]
fn a_looked_up_key_says_whether_it_is_known_and_warns_when_it_changed() {
    let mut screen = screen();
    let (old, new) = (key(3), key(4));
    screen.handle_event(
        &ClientEvent::PublicKey {
            user: name("carol"),
            key: old,
            key_status: KeyStatus::Known,
        },
        at(9, 0),
    );
    screen.handle_event(
        &ClientEvent::PublicKey {
            user: name("carol"),
            key: new,
            key_status: KeyStatus::Changed {
                previous: old,
                verified: false,
            },
        },
        at(9, 1),
    );
    let rows = draw(&mut terminal(240, 12), &mut screen);
    let known = format!("09:00 * carol's key is {} (known).", old.fingerprint());
    assert!(has(&rows, &known), "{rows:#?}");
    let changed = format!(
        "The server gives carol's key as {}, but it CHANGED: you knew {}.",
        new.fingerprint(),
        old.fingerprint()
    );
    assert!(has(&rows, &changed), "{rows:#?}");
}

#[test]
fn messages_show_time_and_sender_and_own_messages_differ() {
    let mut screen = screen();
    screen.handle_event(&established("bob"), at(9, 40));
    screen.handle_event(&message("bob", "hello alice"), at(9, 41));
    screen.note_command(&ConsoleCommand::Say("hi bob".into()), at(9, 42));
    let mut terminal = terminal(80, 16);
    let rows = draw(&mut terminal, &mut screen);
    let theirs = rows
        .iter()
        .position(|r| r.contains("09:41 bob: hello alice"));
    let mine = rows.iter().position(|r| r.contains("09:42 you: hi bob"));
    let (Some(theirs), Some(mine)) = (theirs, mine) else {
        panic!("{rows:#?}");
    };
    assert!(theirs < mine);
    // Told apart by colour too: the sender's name and the text.
    let buffer = terminal.backend().buffer();
    let column = |row: usize, needle: &str| rows[row].find(needle).unwrap() as u16;
    let bob_name = &buffer[(column(theirs, "bob:"), theirs as u16)];
    let my_name = &buffer[(column(mine, "you:"), mine as u16)];
    assert_eq!(bob_name.fg, Color::Green);
    assert_eq!(my_name.fg, Color::Cyan);
    let my_text = &buffer[(column(mine, "hi bob"), mine as u16)];
    assert_eq!(my_text.fg, Color::Cyan);
    let bob_text = &buffer[(column(theirs, "hello"), theirs as u16)];
    assert_eq!(bob_text.fg, Color::Reset);
}

#[test]
fn a_listed_key_that_changed_is_marked_and_warned_about_once() {
    let mut screen = screen();
    let list = |bob: KeyStatus| ClientEvent::Users {
        users: vec![
            OnlineUser::new(name("alice"), key(0).fingerprint(), KeyStatus::Known),
            OnlineUser::new(name("bob"), key(9).fingerprint(), bob),
        ],
        truncated: false,
    };
    let changed = KeyStatus::Changed {
        previous: key(1),
        verified: false,
    };
    // The list is refreshed again and again; the warning comes once per change.
    screen.handle_event(&list(KeyStatus::Known), at(11, 0));
    screen.handle_event(&list(changed), at(11, 1));
    screen.handle_event(&list(changed), at(11, 2));
    let rows = draw(&mut terminal(200, 12), &mut screen);
    let warning = "The server lists bob with a key that CHANGED since your last chat.";
    let warnings = rows.iter().filter(|r| r.contains(warning)).count();
    assert_eq!(warnings, 1, "{rows:#?}");
    assert!(has(&rows, "11:01 ! The server lists bob"), "{rows:#?}");
    assert!(has(&rows, "  bob !"), "{rows:#?}");
    // Back to the known key: no mark, and a new change warns again.
    screen.handle_event(&list(KeyStatus::Known), at(11, 3));
    let rows = draw(&mut terminal(200, 12), &mut screen);
    assert!(!has(&rows, "  bob !"), "{rows:#?}");
    screen.handle_event(&list(changed), at(11, 4));
    let rows = draw(&mut terminal(200, 12), &mut screen);
    assert!(has(&rows, "11:04 ! The server lists bob"), "{rows:#?}");
}

#[test]
fn the_online_panel_follows_user_lists_and_marks_the_peer() {
    let mut screen = screen();
    let mut terminal = terminal(80, 12);
    assert!(screen.poll_refresh(100), "the first poll asks for the list");
    assert!(!screen.poll_refresh(101));
    screen.handle_event(&users(&["alice", "bob", "carol"]), at(10, 0));
    let rows = draw(&mut terminal, &mut screen);
    assert!(has(&rows, "online (3)"), "{rows:#?}");
    assert!(has(&rows, "│  bob "));
    assert!(has(&rows, "alice (you)"));
    assert!(!has(&rows, "Online:"), "a refresh is not a notice");

    screen.handle_event(&established("bob"), at(10, 1));
    assert!(screen.poll_refresh(102), "a chat start refreshes the list");
    let rows = draw(&mut terminal, &mut screen);
    assert!(has(&rows, "▶ bob"), "{rows:#?}");

    screen.handle_event(&users(&["alice", "carol"]), at(10, 2));
    let rows = draw(&mut terminal, &mut screen);
    assert!(has(&rows, "online (2)"));
    assert!(!has(&rows, "▶ bob"));
    assert!(!screen.poll_refresh(103));
    assert!(
        screen.poll_refresh(102 + REFRESH_SECS),
        "and a timer refreshes it"
    );

    // The list the user asked for with /users is also said in a sentence.
    screen.note_command(&ConsoleCommand::Users, at(10, 3));
    screen.handle_event(&users(&["alice", "carol"]), at(10, 3));
    let rows = draw(&mut terminal, &mut screen);
    assert!(has(&rows, "* Online: alice (you), carol."), "{rows:#?}");
}

#[test]
fn page_up_shows_older_lines_and_counts_the_new_ones() {
    let mut screen = screen();
    for i in 0..40 {
        screen.handle_event(&message("bob", &format!("line {i:02}")), at(11, i));
    }
    let mut terminal = terminal(60, 12);
    let rows = draw(&mut terminal, &mut screen);
    assert!(has(&rows, "line 39"));
    assert!(!has(&rows, "line 30"));

    screen.handle_key(Key::PageUp);
    let rows = draw(&mut terminal, &mut screen);
    assert!(!has(&rows, "line 39"), "{rows:#?}");
    assert!(has(&rows, "line 30"), "{rows:#?}");
    assert!(has(&rows, "more below: PageDown"));
    let top = rows[2].clone();

    for i in 0..3 {
        screen.handle_event(&message("bob", &format!("new {i}")), at(12, i));
    }
    let rows = draw(&mut terminal, &mut screen);
    assert_eq!(rows[2], top, "new lines do not move the view");
    assert!(has(&rows, "— 3 new below: PageDown —"), "{rows:#?}");
    assert!(rows[0].contains("↓ 3 new"), "{:?}", rows[0]);
    assert_eq!(screen.unseen(), 3);

    screen.handle_key(Key::PageDown);
    screen.handle_key(Key::PageDown);
    let rows = draw(&mut terminal, &mut screen);
    assert!(has(&rows, "new 2"), "{rows:#?}");
    assert!(!has(&rows, "new below"));
    assert!(!rows[0].contains("new"));
    assert_eq!(screen.unseen(), 0);

    // Paging past the oldest line stops there.
    for _ in 0..20 {
        screen.handle_key(Key::PageUp);
    }
    let rows = draw(&mut terminal, &mut screen);
    assert!(rows[2].contains("line 00"), "{rows:#?}");
}

#[test]
fn a_long_message_is_wrapped_whole_and_redrawn_on_resize() {
    let mut screen = screen();
    let words: Vec<String> = (0..60).map(|i| format!("word{i}")).collect();
    let text = words.join(" ");
    screen.handle_event(&message("bob", &text), at(8, 0));
    let mut terminal = terminal(80, 24);
    let rows = draw(&mut terminal, &mut screen);
    let shown = conversation_words(&rows);
    let start = shown.iter().position(|w| w == "word0").unwrap();
    assert_eq!(&shown[start..start + 60], &words[..], "{rows:#?}");
    assert!(has(&rows, "08:00 bob: word0 word1"));
    // Continuation rows are indented under the text.
    assert!(has(&rows, "│           word"), "{rows:#?}");

    terminal.backend_mut().resize(40, 10);
    let rows = draw(&mut terminal, &mut screen);
    assert_eq!(rows.len(), 10);
    assert!(rows.iter().all(|r| r.chars().count() == 40));
    // The newest rows are shown: the end of the message, wrapped at the new width.
    assert!(has(&rows, "word59"), "{rows:#?}");
    assert!(!has(&rows, "online ("), "no side panel at 40 columns");

    terminal.backend_mut().resize(80, 24);
    let rows = draw(&mut terminal, &mut screen);
    assert!(has(&rows, "08:00 bob: word0 word1"), "{rows:#?}");
}

#[test]
fn tiny_terminals_and_huge_messages_do_not_panic() {
    let mut screen = screen();
    screen.handle_event(&users(&["alice", "bob"]), at(0, 0));
    screen.handle_event(&established("bob"), at(0, 0));
    screen.handle_event(&message("bob", &"x".repeat(100_000)), at(0, 1));
    screen.handle_event(&message("bob", &"世界 ".repeat(1_000)), at(0, 1));
    "a long line being typed".chars().for_each(|c| {
        screen.handle_key(Key::Char(c));
    });
    for (w, h) in [(1, 1), (2, 2), (1, 30), (30, 1), (3, 4), (10, 3), (200, 60)] {
        let mut terminal = terminal(w, h);
        draw(&mut terminal, &mut screen);
        screen.handle_key(Key::PageUp);
        draw(&mut terminal, &mut screen);
    }
    for _ in 0..super::SCROLLBACK + 5 {
        screen.handle_event(&message("bob", "more"), at(0, 2));
    }
    draw(&mut terminal(20, 5), &mut screen);
}

#[test]
fn control_characters_from_peers_never_reach_the_terminal() {
    let hostile = "a\u{1b}[2J\u{1b}]0;pwned\u{7}\rb\u{202e}txt.exe\u{2066}c\u{9b}31m\u{7f}";
    let mut screen = screen();
    screen.handle_event(&message("bob", hostile), at(7, 0));
    screen.note_command(&ConsoleCommand::Say(hostile.into()), at(7, 1));
    screen.handle_event(
        &ClientEvent::ChatEnded {
            peer: name("bob"),
            reason: ChatEndReason::Security(ChatError::BadRecord),
        },
        at(7, 2),
    );
    let mut hostile_server = ChatScreen::new(name("alice"), "evil\u{1b}[31m:1");
    let mut terminal = terminal(120, 12);
    for screen in [&mut screen, &mut hostile_server] {
        let rows = draw(&mut terminal, screen);
        for row in &rows {
            assert!(
                !row.chars().any(|c| c.is_control()
                    || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
                "{row:?}"
            );
        }
    }
    let rows = draw(&mut terminal, &mut screen);
    assert!(
        has(
            &rows,
            "bob: a\u{fffd}[2J\u{fffd}]0;pwned\u{fffd}\u{fffd}b\u{fffd}txt.exe"
        ),
        "{rows:#?}"
    );
    assert!(has(&rows, "you: a\u{fffd}[2J"));
    let rows = draw(&mut terminal, &mut hostile_server);
    assert!(
        rows[0].contains("alice @ evil\u{fffd}[31m:1"),
        "{:?}",
        rows[0]
    );
}

#[test]
fn the_status_line_shows_whether_the_safety_number_was_verified() {
    let mut screen = screen();
    let mut terminal = terminal(200, 10);
    let rows = draw(&mut terminal, &mut screen);
    assert!(
        rows[0].contains("alice @ 127.0.0.1:4433 │ no chat: /chat NAME"),
        "{:?}",
        rows[0]
    );

    screen.handle_event(&users(&["alice", "bob"]), at(15, 0));
    screen.handle_event(&established("bob"), at(15, 0));
    let rows = draw(&mut terminal, &mut screen);
    assert!(
        rows[0].contains("chatting with bob │ safety number NOT verified (/verify)"),
        "{:?}",
        rows[0]
    );
    let safety = screen.safety_number().unwrap().to_string();
    assert!(
        has(&rows, &format!("Safety number: {safety}.")),
        "{rows:#?}"
    );

    screen.set_verified(&name("bob"), true);
    let rows = draw(&mut terminal, &mut screen);
    assert!(
        rows[0].contains("chatting with bob │ safety number verified ✓"),
        "{:?}",
        rows[0]
    );
    assert!(has(&rows, "▶ bob ✓"), "{rows:#?}");

    screen.handle_event(
        &ClientEvent::ChatEnded {
            peer: name("bob"),
            reason: ChatEndReason::PeerClosed,
        },
        at(15, 5),
    );
    let rows = draw(&mut terminal, &mut screen);
    assert!(has(&rows, "15:05 * bob left the chat."));
    assert!(rows[0].contains("no chat"));
    assert!(
        has(&rows, "  bob ✓"),
        "verified peers stay marked in the panel"
    );

    screen.handle_event(&ClientEvent::ConnectionLost { clean: false }, at(15, 6));
    let rows = draw(&mut terminal, &mut screen);
    assert!(
        rows[0].contains("│ disconnected: connection reset"),
        "{:?}",
        rows[0]
    );
    assert!(has(&rows, "Connection lost"));
}

#[test]
fn enter_returns_the_line_and_up_brings_it_back() {
    let mut screen = screen();
    let mut terminal = terminal(60, 8);
    for c in "/chat bob".chars() {
        assert_eq!(screen.handle_key(Key::Char(c)), None);
    }
    assert_eq!(screen.handle_key(Key::Enter), Some("/chat bob".to_owned()));
    let rows = draw(&mut terminal, &mut screen);
    assert!(
        rows[7].starts_with("> type a message, or /help"),
        "{:?}",
        rows[7]
    );
    screen.handle_key(Key::Up);
    let rows = draw(&mut terminal, &mut screen);
    assert!(rows[7].starts_with("> /chat bob"), "{:?}", rows[7]);
    assert_eq!(terminal.get_cursor_position().unwrap().x, 11);
    screen.handle_key(Key::Down);
    let rows = draw(&mut terminal, &mut screen);
    assert!(rows[7].starts_with("> type a message"));
}

/// The capture shown in README's tour: a realistic session, as text.
#[test]
fn a_session_as_the_readme_shows_it() {
    let mut screen = screen();
    screen.push_info(
        "Connected as alice to 127.0.0.1:4433 (session 7); type /help for commands.",
        at(9, 14),
    );
    screen.handle_event(&users(&["alice", "bob", "carol"]), at(9, 14));
    screen.handle_event(
        &ClientEvent::IncomingRequest {
            from: name("bob"),
            fingerprint: key(2).fingerprint(),
            key_status: KeyStatus::FirstSeen,
        },
        at(9, 15),
    );
    screen.note_command(&ConsoleCommand::Accept, at(9, 15));
    screen.handle_event(&established("bob"), at(9, 15));
    screen.handle_event(&message("bob", "hi alice! did the build pass?"), at(9, 16));
    screen.note_command(
        &ConsoleCommand::Say(
            "yes, all green. A long message wraps under its text instead of being cut at the \
             edge of the screen."
                .into(),
        ),
        at(9, 17),
    );
    screen.handle_event(&message("bob", "great, shipping it"), at(9, 17));
    for c in "see you".chars() {
        screen.handle_key(Key::Char(c));
    }
    let rows = draw(&mut terminal(96, 16), &mut screen);
    let capture: String = rows.iter().map(|r| format!("{}\n", r.trim_end())).collect();
    println!("{capture}");
    assert!(capture.contains("09:16 bob: hi alice! did the build pass?"));
    assert!(capture.contains("▶ bob"));
}

#[test]
fn verification_has_its_sentences_and_a_verified_key_change_is_the_loudest_warning() {
    use super::notice::{Level, describe};
    let (old, new) = (key(1), key(2));
    let changed = |verified| ClientEvent::KeyChanged {
        user: name("bob"),
        previous: old.fingerprint(),
        current: new.fingerprint(),
        key: new,
        verified,
    };
    let (level, text) = describe(&changed(true)).unwrap();
    assert_eq!(level, Level::Warning);
    assert!(
        text.starts_with("WARNING! bob's VERIFIED key CHANGED"),
        "{text}"
    );
    assert!(
        text.contains("blocked") && text.ends_with("only then /trust bob."),
        "{text}"
    );
    let (_, text) = describe(&changed(false)).unwrap();
    assert!(text.starts_with("WARNING: bob's key changed"), "{text}");

    let (_, text) = describe(&ClientEvent::KeyVerified {
        user: name("bob"),
        fingerprint: old.fingerprint(),
    })
    .unwrap();
    assert_eq!(
        text,
        format!(
            "You verified bob's key ({}): a later change will be flagged.",
            old.fingerprint()
        )
    );
    let (_, text) = describe(&ClientEvent::RequestAccepted {
        peer: name("bob"),
        fingerprint: old.fingerprint(),
        key_status: KeyStatus::Verified,
    })
    .unwrap();
    assert!(text.contains(", verified); securing the chat"), "{text}");
    let mut verified = established("bob");
    if let ClientEvent::ChatEstablished { key_status, .. } = &mut verified {
        *key_status = KeyStatus::Verified;
    }
    let (_, text) = describe(&verified).unwrap();
    assert!(text.contains("the one you verified"), "{text}");
    let (level, text) = describe(&ClientEvent::KnownKeysFailed {
        error: securecom_proto::chat::KnownKeysError::Save {
            store: "/home/alice/known_keys".into(),
            reason: "Read-only file system (os error 30)".into(),
        },
    })
    .unwrap();
    assert_eq!(level, Level::Error);
    assert!(text.contains("/home/alice/known_keys"), "{text}");
}

mod connection {
    use std::time::Duration;

    use securecom_proto::session::CloseReason;

    use super::*;
    use crate::screen::{ConnectionState, LossReason};

    fn chatting_with_bob() -> ChatScreen {
        let mut screen = screen();
        screen.handle_event(&users(&["alice", "bob"]), at(10, 0));
        screen.handle_event(&established("bob"), at(10, 0));
        screen
    }

    /// What the core sends when the connection goes: the open chat ends first.
    fn lose(screen: &mut ChatScreen, closed: Option<CloseReason>) {
        screen.handle_event(
            &ClientEvent::ChatEnded {
                peer: name("bob"),
                reason: ChatEndReason::Disconnected,
            },
            at(10, 1),
        );
        if let Some(reason) = closed {
            screen.handle_event(&ClientEvent::Closed { reason }, at(10, 1));
        }
        screen.handle_event(
            &ClientEvent::ConnectionLost {
                clean: closed.is_some(),
            },
            at(10, 1),
        );
    }

    fn waiting(attempt: u32, until_ms: u64) -> ConnectionState {
        ConnectionState::Waiting {
            attempt,
            max: 10,
            until: Duration::from_millis(until_ms),
        }
    }

    fn count(rows: &[String], needle: &str) -> usize {
        rows.iter().filter(|r| r.contains(needle)).count()
    }

    #[test]
    fn a_close_by_the_server_says_so_with_its_reason_and_ends_the_chat() {
        let mut screen = chatting_with_bob();
        lose(&mut screen, Some(CloseReason::SHUTDOWN));
        let mut terminal = terminal(200, 12);
        let rows = draw(&mut terminal, &mut screen);
        assert!(
            rows[0].contains("alice @ 127.0.0.1:4433 │ disconnected: the server is shutting down"),
            "{:?}",
            rows[0]
        );
        assert!(!rows[0].contains("chatting"), "{:?}", rows[0]);
        assert!(
            has(
                &rows,
                "10:01 * The chat with bob ended: the connection to the server was lost."
            ),
            "{rows:#?}"
        );
        assert!(
            has(
                &rows,
                "10:01 ! The server closed the session: the server is shutting down."
            ),
            "{rows:#?}"
        );
        // Nobody is known to be online any more.
        assert!(has(&rows, "┌ not connected"), "{rows:#?}");
        assert!(!has(&rows, "▶ bob"), "{rows:#?}");
        assert_eq!(screen.status(), &securecom_proto::client::ChatStatus::Idle);
        assert_eq!(
            screen.connection(),
            &ConnectionState::Disconnected {
                reason: LossReason::Closed(CloseReason::SHUTDOWN)
            }
        );
    }

    #[test]
    fn a_reset_says_the_connection_was_cut() {
        let mut screen = chatting_with_bob();
        lose(&mut screen, None);
        let rows = draw(&mut terminal(200, 12), &mut screen);
        assert!(
            rows[0].contains("│ disconnected: connection reset"),
            "{:?}",
            rows[0]
        );
        assert!(!rows[0].contains("reconnecting"), "{:?}", rows[0]);
        assert!(
            has(
                &rows,
                "10:01 ! Connection lost: it was reset or cut without the server's goodbye."
            ),
            "{rows:#?}"
        );

        // A loss the events never reported (the driver just ended) is said once.
        let mut silent = chatting_with_bob();
        let lost = ConnectionState::Disconnected {
            reason: LossReason::Reset,
        };
        silent.set_connection(lost, at(10, 2));
        silent.set_connection(lost, at(10, 2));
        let rows = draw(&mut terminal(200, 12), &mut silent);
        assert_eq!(
            count(&rows, "10:02 ! Connection lost: it was reset or cut"),
            1,
            "{rows:#?}"
        );
        assert!(rows[0].contains("│ disconnected: connection reset"));
    }

    #[test]
    fn waiting_counts_down_then_connecting_then_failures_are_notices() {
        let mut screen = chatting_with_bob();
        lose(&mut screen, None);
        let mut terminal = terminal(200, 16);
        screen.set_clock(Duration::from_secs(100));
        screen.set_connection(waiting(1, 100_700), at(10, 1));
        let rows = draw(&mut terminal, &mut screen);
        assert!(
            rows[0].contains(
                "alice @ 127.0.0.1:4433 │ reconnecting in 0.7 s (attempt 1 of 10) │ \
                 disconnected: connection reset │ Ctrl-C or /quit to stop"
            ),
            "{:?}",
            rows[0]
        );
        assert!(
            has(
                &rows,
                "10:01 * Reconnecting to the server (at most 10 attempts); Ctrl-C or /quit to \
                 stop."
            ),
            "{rows:#?}"
        );

        // The wait is over: the attempt is under way.
        screen.set_clock(Duration::from_millis(100_700));
        let rows = draw(&mut terminal, &mut screen);
        assert!(
            rows[0].contains(
                "│ connecting… (attempt 1 of 10) │ disconnected: connection reset │ Ctrl-C or \
                 /quit to stop"
            ),
            "{:?}",
            rows[0]
        );
        screen.reconnect_failed(
            1,
            "cannot connect: Connection refused (os error 111)",
            at(10, 2),
        );

        // The next wait, told by the program, is counted down as the clock moves.
        screen.set_connection(waiting(2, 103_900), at(10, 2));
        let rows = draw(&mut terminal, &mut screen);
        assert!(
            rows[0].contains("│ reconnecting in 3.2 s (attempt 2 of 10) │"),
            "{:?}",
            rows[0]
        );
        screen.set_clock(Duration::from_millis(102_001));
        let rows = draw(&mut terminal, &mut screen);
        assert!(
            rows[0].contains("│ reconnecting in 1.9 s (attempt 2 of 10) │"),
            "{:?}",
            rows[0]
        );
        screen.set_connection(
            ConnectionState::Connecting {
                attempt: 2,
                max: 10,
            },
            at(10, 2),
        );
        let rows = draw(&mut terminal, &mut screen);
        assert!(
            rows[0].contains("│ connecting… (attempt 2 of 10) │ disconnected"),
            "{:?}",
            rows[0]
        );
        assert!(
            has(
                &rows,
                "10:02 ! Attempt 1 of 10 to reconnect failed: cannot connect: Connection refused \
                 (os error 111)."
            ),
            "{rows:#?}"
        );
        // Reconnecting is announced once, not at every attempt.
        assert_eq!(count(&rows, "Reconnecting to the server"), 1, "{rows:#?}");

        // On 80 columns, with a long reason, the countdown is still in view.
        let mut closed = chatting_with_bob();
        lose(&mut closed, Some(CloseReason::SHUTDOWN));
        closed.set_clock(Duration::from_secs(100));
        closed.set_connection(waiting(3, 104_000), at(10, 3));
        let rows = draw(&mut super::terminal(80, 10), &mut closed);
        assert!(
            rows[0].starts_with(
                " alice @ 127.0.0.1:4433 │ reconnecting in 4.0 s (attempt 3 of 10) │ disconnected"
            ),
            "{:?}",
            rows[0]
        );
    }

    #[test]
    fn reconnecting_says_so_and_the_status_line_is_back_to_the_chat() {
        let mut screen = chatting_with_bob();
        lose(&mut screen, Some(CloseReason::SHUTDOWN));
        screen.set_connection(waiting(1, 500), at(10, 1));
        screen.set_connection(ConnectionState::Connected, at(10, 3));
        let mut terminal = terminal(200, 14);
        let rows = draw(&mut terminal, &mut screen);
        assert!(
            rows[0].contains("alice @ 127.0.0.1:4433 │ no chat: /chat NAME"),
            "{:?}",
            rows[0]
        );
        assert!(!rows[0].contains("disconnected"), "{:?}", rows[0]);
        assert!(
            has(&rows, "10:03 * Reconnected as alice to 127.0.0.1:4433."),
            "{rows:#?}"
        );
        // The chat that was open is reported ended, once, before the reconnection.
        let ended = rows
            .iter()
            .position(|r| r.contains("The chat with bob ended"));
        let back = rows.iter().position(|r| r.contains("Reconnected as alice"));
        assert!(
            matches!((ended, back), (Some(e), Some(b)) if e < b),
            "{rows:#?}"
        );
        assert_eq!(count(&rows, "The chat with bob ended"), 1);
        // The user list is asked for again at once, and fills the panel.
        assert!(screen.poll_refresh(5));
        screen.handle_event(&users(&["alice", "bob"]), at(10, 3));
        let rows = draw(&mut terminal, &mut screen);
        assert!(has(&rows, "online (2)"), "{rows:#?}");

        // A second loss starts over: its reason, not the first one's.
        screen.handle_event(&ClientEvent::ConnectionLost { clean: false }, at(10, 4));
        let rows = draw(&mut terminal, &mut screen);
        assert!(
            rows[0].contains("│ disconnected: connection reset"),
            "{:?}",
            rows[0]
        );
    }

    #[test]
    fn input_while_disconnected_is_refused_with_a_notice_except_help_and_quit() {
        let mut screen = chatting_with_bob();
        assert!(screen.accepts_command(&ConsoleCommand::Say("hi".into()), at(10, 0)));
        lose(&mut screen, None);
        screen.set_connection(waiting(1, 500), at(10, 1));

        let say = ConsoleCommand::Say("are you there?".into());
        assert!(!screen.accepts_command(&say, at(10, 2)));
        assert!(!screen.accepts_command(&ConsoleCommand::Chat(name("bob")), at(10, 2)));
        for local in [
            ConsoleCommand::Help,
            ConsoleCommand::Quit,
            ConsoleCommand::Nothing,
        ] {
            assert!(screen.accepts_command(&local, at(10, 2)), "{local:?}");
        }
        let rows = draw(&mut terminal(200, 14), &mut screen);
        assert!(
            has(
                &rows,
                "10:02 ! Not connected; reconnecting… Your message was not sent; Up brings it \
                 back to send once reconnected."
            ),
            "{rows:#?}"
        );
        assert!(
            has(
                &rows,
                "10:02 ! Not connected; reconnecting… That needs the server; try again once \
                 reconnected."
            ),
            "{rows:#?}"
        );
        assert!(!has(&rows, "you: are you there?"), "{rows:#?}");

        // Lost without reconnecting planned: no promise of reconnecting.
        let mut lost = chatting_with_bob();
        lose(&mut lost, None);
        assert!(!lost.accepts_command(&ConsoleCommand::Users, at(10, 5)));
        let rows = draw(&mut terminal(200, 14), &mut lost);
        assert!(
            has(
                &rows,
                "10:05 ! Not connected to the server. That needs the server"
            ),
            "{rows:#?}"
        );
    }

    #[test]
    fn scrollback_and_typing_still_work_while_disconnected() {
        let mut screen = screen();
        for i in 0..40 {
            screen.handle_event(&message("bob", &format!("line {i:02}")), at(11, i));
        }
        screen.handle_event(&ClientEvent::ConnectionLost { clean: false }, at(11, 40));
        screen.set_clock(Duration::from_secs(1));
        screen.set_connection(waiting(1, 3_000), at(11, 40));
        let mut terminal = terminal(60, 12);
        let rows = draw(&mut terminal, &mut screen);
        assert!(!has(&rows, "line 31"), "{rows:#?}");

        screen.handle_key(Key::PageUp);
        let rows = draw(&mut terminal, &mut screen);
        assert!(has(&rows, "line 31"), "{rows:#?}");
        assert!(has(&rows, "more below: PageDown"), "{rows:#?}");

        // A failed attempt meanwhile is counted as unseen, and the view stays.
        screen.reconnect_failed(1, "refused", at(11, 41));
        let rows = draw(&mut terminal, &mut screen);
        assert!(has(&rows, "— 1 new below: PageDown —"), "{rows:#?}");
        assert!(has(&rows, "line 31"), "{rows:#?}");

        screen.handle_key(Key::PageDown);
        screen.handle_key(Key::PageDown);
        let rows = draw(&mut terminal, &mut screen);
        assert!(has(&rows, "reconnect failed: refused."), "{rows:#?}");

        for c in "/quit".chars() {
            screen.handle_key(Key::Char(c));
        }
        assert_eq!(screen.handle_key(Key::Enter), Some("/quit".to_owned()));
    }
}
