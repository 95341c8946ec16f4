//! Terminal keys (crossterm) to the screen's keys.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use securecom_console::screen::Key;

/// What a key press asks for.
pub(crate) enum Pressed {
    /// A key for the screen.
    Screen(Key),
    /// Ctrl-C: leave.
    Quit,
    /// Nothing the screen uses.
    Ignored,
}

pub(crate) fn map(key: &KeyEvent) -> Pressed {
    if key.kind == KeyEventKind::Release {
        return Pressed::Ignored;
    }
    let control = key.modifiers.contains(KeyModifiers::CONTROL);
    Pressed::Screen(match key.code {
        KeyCode::Char('c') if control => return Pressed::Quit,
        KeyCode::Char(_) if control || key.modifiers.contains(KeyModifiers::ALT) => {
            return Pressed::Ignored;
        }
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Delete => Key::Delete,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        _ => return Pressed::Ignored,
    })
}
