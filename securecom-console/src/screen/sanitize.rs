//! Text from the network made safe to draw: nothing a peer or the server sends may reach
//! the terminal as a control sequence or reorder what is shown around it.

/// What a neutralised character is shown as.
pub(crate) const REPLACEMENT: char = '\u{fffd}';

/// Replaces every character that could drive the terminal or disguise text: C0 and C1
/// controls (ESC, CR, BEL, DEL...), the bidirectional overrides, embeddings and isolates,
/// and the line and paragraph separators. A line feed is kept only when `keep_newlines`:
/// the screen breaks the message there itself and never writes the character.
pub(crate) fn neutralise(text: &str, keep_newlines: bool) -> String {
    text.chars()
        .map(|c| match c {
            '\n' if keep_newlines => '\n',
            c if is_dangerous(c) => REPLACEMENT,
            c => c,
        })
        .collect()
}

fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'              // Arabic letter mark
            | '\u{200e}' | '\u{200f}' // left-to-right / right-to-left marks
            | '\u{202a}'..='\u{202e}' // embeddings and overrides
            | '\u{2066}'..='\u{2069}' // isolates
            | '\u{2028}' | '\u{2029}' // line / paragraph separators
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_replaced() {
        let shown = neutralise("a\u{1b}[2J\r\u{7}\u{202e}b\u{9b}c\u{7f}", false);
        assert_eq!(
            shown,
            "a\u{fffd}[2J\u{fffd}\u{fffd}\u{fffd}b\u{fffd}c\u{fffd}"
        );
        assert_eq!(neutralise("x\ny", false), "x\u{fffd}y");
        assert_eq!(neutralise("x\ny", true), "x\ny");
        assert_eq!(neutralise("héllo 世界", false), "héllo 世界");
    }
}
