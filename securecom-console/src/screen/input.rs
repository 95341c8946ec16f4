//! The input line: editing keys, and the history of what was entered (Up / Down).

/// Entered lines remembered for Up / Down.
const HISTORY: usize = 100;

/// The line being typed, its cursor, and the lines entered before.
#[derive(Debug, Default)]
pub(crate) struct InputLine {
    chars: Vec<char>,
    /// Index into `chars`, `0..=chars.len()`.
    cursor: usize,
    history: Vec<String>,
    /// The history entry shown, if Up was pressed; `None` while editing a new line.
    browsing: Option<usize>,
    /// The new line put aside while browsing, given back by Down past the newest entry.
    draft: Vec<char>,
}

impl InputLine {
    pub(crate) fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// The cursor, counted in characters from the start.
    pub(crate) fn cursor(&self) -> usize {
        self.cursor
    }

    pub(crate) fn chars(&self) -> &[char] {
        &self.chars
    }

    pub(crate) fn insert(&mut self, c: char) {
        if c.is_control() {
            return;
        }
        self.chars.insert(self.cursor.min(self.chars.len()), c);
        self.cursor = (self.cursor + 1).min(self.chars.len());
    }

    pub(crate) fn backspace(&mut self) {
        if self.cursor > 0 && self.cursor <= self.chars.len() {
            self.cursor -= 1;
            self.chars.remove(self.cursor);
        }
    }

    pub(crate) fn delete(&mut self) {
        if self.cursor < self.chars.len() {
            self.chars.remove(self.cursor);
        }
    }

    pub(crate) fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub(crate) fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.chars.len());
    }

    pub(crate) fn home(&mut self) {
        self.cursor = 0;
    }

    pub(crate) fn end(&mut self) {
        self.cursor = self.chars.len();
    }

    /// Takes the line (Enter): it is returned, remembered in the history unless empty or
    /// the same as the newest entry, and the input is cleared.
    pub(crate) fn take(&mut self) -> String {
        let line = self.text();
        self.chars.clear();
        self.cursor = 0;
        self.browsing = None;
        self.draft.clear();
        if !line.trim().is_empty() && self.history.last() != Some(&line) {
            if self.history.len() >= HISTORY {
                self.history.remove(0);
            }
            self.history.push(line.clone());
        }
        line
    }

    /// Up: the previous entered line.
    pub(crate) fn older(&mut self) {
        let shown = match self.browsing {
            None if self.history.is_empty() => return,
            None => {
                self.draft = std::mem::take(&mut self.chars);
                self.history.len() - 1
            }
            Some(i) => i.saturating_sub(1),
        };
        self.show(shown);
    }

    /// Down: the next entered line, and after the newest the line that was being typed.
    pub(crate) fn newer(&mut self) {
        let Some(i) = self.browsing else { return };
        if i + 1 < self.history.len() {
            self.show(i + 1);
        } else {
            self.browsing = None;
            self.chars = std::mem::take(&mut self.draft);
            self.cursor = self.chars.len();
        }
    }

    fn show(&mut self, index: usize) {
        if let Some(line) = self.history.get(index) {
            self.browsing = Some(index);
            self.chars = line.chars().collect();
            self.cursor = self.chars.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(input: &mut InputLine, text: &str) {
        text.chars().for_each(|c| input.insert(c));
    }

    #[test]
    fn up_and_down_walk_the_history_and_keep_the_draft() {
        let mut input = InputLine::default();
        typed(&mut input, "/chat bob");
        assert_eq!(input.take(), "/chat bob");
        typed(&mut input, "hello");
        input.take();
        typed(&mut input, "dra");
        input.older();
        assert_eq!(input.text(), "hello");
        input.older();
        input.older();
        assert_eq!(input.text(), "/chat bob");
        input.newer();
        assert_eq!(input.text(), "hello");
        input.newer();
        assert_eq!(input.text(), "dra");
        input.newer();
        assert_eq!(input.text(), "dra");
    }

    #[test]
    fn editing_keys_stay_in_bounds() {
        let mut input = InputLine::default();
        input.backspace();
        input.delete();
        input.left();
        typed(&mut input, "ac");
        input.left();
        input.insert('b');
        input.insert('\u{1b}');
        assert_eq!(input.text(), "abc");
        input.home();
        input.delete();
        input.end();
        input.right();
        input.backspace();
        assert_eq!(input.text(), "b");
        assert_eq!(input.cursor(), 1);
    }
}
