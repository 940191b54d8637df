//! The results viewer's keys: which transport's spectrum is drawn, the help, quitting.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::Action;
use crate::results::state::ResultsState;

/// The `?` overlay's `(keys, what)` lines.
pub const HELP: &[(&str, &str)] = &[
    ("Tab / →", "next transport"),
    ("S-Tab / ←", "previous transport"),
    ("?", "this help"),
    ("q / Esc", "quit"),
];

/// Keys of the results viewer.
pub fn handle_key(state: &mut ResultsState, key: KeyEvent) -> Action {
    if state.help {
        state.help = false;
        return Action::None;
    }
    let n = state.names().len().max(1);
    match key.code {
        KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Action::Quit,
        KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => {
            state.selected = (state.selected + 1) % n;
            Action::None
        }
        KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => {
            state.selected = (state.selected + n - 1) % n;
            Action::None
        }
        KeyCode::Char('?') => {
            state.help = true;
            Action::None
        }
        _ => Action::None,
    }
}
