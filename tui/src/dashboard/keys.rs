//! The dashboard's keys: which phase the panels show, the chart window, the help; `q` asks the
//! driver to stop the run.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::Action;
use crate::dashboard::state::{DashState, WINDOWS};

/// The `?` overlay's `(keys, what)` lines.
pub const HELP: &[(&str, &str)] = &[
    ("q / Ctrl-C", "stop the run (results are still written)"),
    ("Tab / →", "next transport"),
    ("S-Tab / ←", "previous transport"),
    ("+ / -", "longer / shorter chart window"),
    ("f", "follow the running phase again"),
    ("?", "this help"),
];

/// Keys of the dashboard. `Quit` asks the driver to stop the run (or to leave, once it is over).
pub fn handle_key(state: &mut DashState, key: KeyEvent) -> Action {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Action::Quit;
    }
    if state.help {
        state.help = false;
        return Action::None;
    }
    let n = state.phases.len().max(1);
    match key.code {
        KeyCode::Char('q') | KeyCode::Esc => return Action::Quit,
        KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => {
            state.selected = (state.selected + 1) % n;
            state.follow = false;
        }
        KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => {
            state.selected = (state.selected + n - 1) % n;
            state.follow = false;
        }
        KeyCode::Char('f') => {
            state.follow = true;
            if let Some(c) = state.current {
                state.selected = c;
            }
        }
        KeyCode::Char('+') | KeyCode::Char('=') => {
            state.window = (state.window + 1).min(WINDOWS.len() - 1);
        }
        KeyCode::Char('-') | KeyCode::Char('_') => state.window = state.window.saturating_sub(1),
        KeyCode::Char('?') => state.help = true,
        _ => {}
    }
    Action::None
}
