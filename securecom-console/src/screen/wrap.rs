//! Wrapping styled text into rows of a given display width, so a long message is shown
//! whole however narrow the terminal is.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// One styled run of an entry, before wrapping.
pub(crate) type Segment = (String, Style);

/// Wraps `segments` into rows at most `width` columns wide (a single character wider than
/// the whole row is the only exception; the backend clips it). Rows break at the last
/// space when there is one, otherwise inside the word, and always at a line feed.
/// Continuation rows start with `indent` spaces, unless that would leave less than half
/// the width.
pub(crate) fn wrap(segments: &[Segment], width: u16, indent: usize) -> Vec<Line<'static>> {
    let width = usize::from(width.max(1));
    let indent = if indent.saturating_mul(2) > width {
        0
    } else {
        indent
    };
    let mut rows = Rows {
        done: Vec::new(),
        cells: Vec::new(),
        used: 0,
        last_space: None,
        indent,
        width,
    };
    for (text, style) in segments {
        for c in text.chars() {
            if c == '\n' {
                rows.break_row();
            } else {
                rows.push((c, *style, c.width().unwrap_or(0)));
            }
        }
    }
    rows.finish()
}

/// A character, its style and its display width.
type Cell = (char, Style, usize);

struct Rows {
    done: Vec<Line<'static>>,
    cells: Vec<Cell>,
    used: usize,
    last_space: Option<usize>,
    indent: usize,
    width: usize,
}

impl Rows {
    /// Where the current row's own text starts (after the indent of a continuation row).
    fn content_start(&self) -> usize {
        if self.done.is_empty() { 0 } else { self.indent }
    }

    /// Adds a character, breaking the row first if it would not fit.
    fn push(&mut self, cell: Cell) {
        if self.used + cell.2 > self.width && self.used > self.content_start() {
            if cell.0 == ' ' {
                // The space itself is the break.
                self.break_row();
                return;
            }
            self.overflow();
        }
        if cell.0 == ' ' {
            self.last_space = Some(self.cells.len());
        }
        self.used += cell.2;
        self.cells.push(cell);
    }

    /// The row is full: break it at its last space if it has one, else here.
    fn overflow(&mut self) {
        let start = self.content_start();
        match self.last_space {
            Some(space) if space > start => {
                let carry: Vec<_> = self.cells.split_off(space).into_iter().skip(1).collect();
                self.break_row();
                // The carried word has no space; wider than a row, it breaks inside.
                for cell in carry {
                    self.push(cell);
                }
            }
            _ => self.break_row(),
        }
    }

    /// Ends the current row and starts an indented one.
    fn break_row(&mut self) {
        let cells = std::mem::take(&mut self.cells);
        self.done.push(to_line(cells));
        self.cells = (0..self.indent)
            .map(|_| (' ', Style::default(), 1))
            .collect();
        self.used = self.indent;
        self.last_space = None;
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        if self.used > self.content_start() || self.done.is_empty() {
            let cells = std::mem::take(&mut self.cells);
            self.done.push(to_line(cells));
        }
        self.done
    }
}

/// Joins cells of the same style into spans.
fn to_line(cells: Vec<Cell>) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut current: Option<Style> = None;
    for (c, style, _) in cells {
        if current.is_some_and(|s| s != style) {
            spans.push(Span::styled(
                std::mem::take(&mut text),
                current.unwrap_or_default(),
            ));
        }
        current = Some(style);
        text.push(c);
    }
    if let Some(style) = current {
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(segments: &[&str], width: u16, indent: usize) -> Vec<String> {
        let segments: Vec<Segment> = segments
            .iter()
            .map(|s| ((*s).to_owned(), Style::default()))
            .collect();
        wrap(&segments, width, indent)
            .iter()
            .map(|l| l.to_string())
            .collect()
    }

    #[test]
    fn breaks_at_spaces_and_indents() {
        assert_eq!(
            plain(&["12:00 bob: ", "one two three four"], 22, 11),
            ["12:00 bob: one two", "           three four"]
        );
        // An indent that would leave less than half the width is dropped.
        assert_eq!(
            plain(&["12:00 bob: ", "one two three four"], 16, 11),
            ["12:00 bob: one", "two three four"]
        );
    }

    #[test]
    fn breaks_long_words_and_never_loses_text() {
        let word = "x".repeat(25);
        let rows = plain(&[&word], 10, 0);
        assert_eq!(rows, ["xxxxxxxxxx", "xxxxxxxxxx", "xxxxx"]);
        assert_eq!(plain(&["a\nb"], 10, 2), ["a", "  b"]);
        // A word carried to an indented row that is still too long breaks again.
        assert_eq!(
            plain(&["a bcdefghi"], 6, 3),
            ["a", "   bcd", "   efg", "   hi"]
        );
        for row in plain(&["w ", &"y".repeat(300), " z"], 7, 3) {
            assert!(row.chars().count() <= 7, "{row:?}");
        }
    }

    #[test]
    fn survives_width_one_and_wide_characters() {
        assert_eq!(plain(&["世界x"], 1, 0), ["世", "界", "x"]);
        assert_eq!(plain(&[""], 1, 0), [""]);
        assert_eq!(plain(&["ab"], 0, 5), ["a", "b"]);
    }
}
