mod dashboard;
mod detail;
mod live;
mod logging;
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

/// Every screen survives any terminal size (resizes to tiny windows must not panic).
#[test]
fn tiny_and_odd_sizes_do_not_panic() {
    let res = results_state();
    let dash = dashboard::running_state();
    let tick = ticker::scripted_state();
    for (w, h) in [
        (1, 1),
        (10, 3),
        (20, 5),
        (40, 10),
        (79, 23),
        (81, 25),
        (200, 60),
    ] {
        draw(w, h, |f| tickbench_tui::results::view::render(&res, f));
        draw(w, h, |f| tickbench_tui::dashboard::view::render(&dash, f));
        draw(w, h, |f| tickbench_tui::ticker::view::render(&tick, f));
    }
}

fn results_state() -> tickbench_tui::results::state::ResultsState {
    let a = tickbench_tui::results::load::LoadedRun::load(&data_dir("sample-run")).unwrap();
    tickbench_tui::results::state::ResultsState::new(
        vec![a],
        tickbench_tui::theme::Theme::default(),
    )
}
