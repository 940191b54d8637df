mod dashboard;
mod live;
mod results;
mod ticker;

use ratatui::backend::TestBackend;
use ratatui::{Frame, Terminal};

/// Renders `f` on a `w`×`h` headless terminal.
pub fn draw(w: u16, h: u16, f: impl FnOnce(&mut Frame)) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    t.draw(f).expect("draw");
    t
}

/// A key press.
pub fn key(code: crossterm::event::KeyCode) -> crossterm::event::KeyEvent {
    crossterm::event::KeyEvent::new(code, crossterm::event::KeyModifiers::NONE)
}

/// Ctrl + `c`.
pub fn ctrl(c: char) -> crossterm::event::KeyEvent {
    crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char(c),
        crossterm::event::KeyModifiers::CONTROL,
    )
}

pub fn data_dir(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}
