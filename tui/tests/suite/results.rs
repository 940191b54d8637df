use crossterm::event::KeyCode;
use tickbench_tui::results::keys::handle_key;
use tickbench_tui::results::load::LoadedRun;
use tickbench_tui::results::state::ResultsState;
use tickbench_tui::results::text::text_report;
use tickbench_tui::results::view::render;
use tickbench_tui::theme::Theme;
use tickbench_tui::Action;

use super::{ctrl, data_dir, draw, key};

fn one() -> ResultsState {
    let run = LoadedRun::load(&data_dir("sample-run")).expect("sample run loads");
    ResultsState::new(vec![run], Theme::mono())
}

fn two() -> ResultsState {
    let a = LoadedRun::load(&data_dir("sample-run")).expect("sample run loads");
    let b = LoadedRun::load(&data_dir("sample-run-b/summary.json")).expect("run b loads");
    ResultsState::new(vec![a, b], Theme::mono())
}

#[test]
fn one_run_at_80x24() {
    let mut s = one();
    // Select sse, whose spectrum comes from its .hgrm file.
    handle_key(&mut s, key(KeyCode::Tab));
    handle_key(&mut s, key(KeyCode::Tab));
    let t = draw(80, 24, |f| render(&s, f));
    insta::assert_snapshot!("results_one_80x24", t.backend());
}

#[test]
fn one_run_wide() {
    let s = one();
    let t = draw(120, 30, |f| render(&s, f));
    insta::assert_snapshot!("results_one_120x30", t.backend());
}

#[test]
fn two_runs_side_by_side() {
    let mut s = two();
    handle_key(&mut s, key(KeyCode::Left)); // wraps to the last transport (iframe, gone in B)
    handle_key(&mut s, key(KeyCode::Left)); // sse
    let t = draw(80, 24, |f| render(&s, f));
    insta::assert_snapshot!("results_two_80x24", t.backend());
}

#[test]
fn help_overlay() {
    let mut s = one();
    assert_eq!(handle_key(&mut s, key(KeyCode::Char('?'))), Action::None);
    assert!(s.help);
    let t = draw(80, 24, |f| render(&s, f));
    insta::assert_snapshot!("results_help", t.backend());
    // Any key closes the overlay without acting.
    assert_eq!(handle_key(&mut s, key(KeyCode::Char('q'))), Action::None);
    assert!(!s.help);
}

#[test]
fn text_reports() {
    insta::assert_snapshot!("results_text_one", text_report(&one().runs));
    insta::assert_snapshot!("results_text_two", text_report(&two().runs));
}

#[test]
fn keys() {
    let mut s = one();
    assert_eq!(s.names(), ["poll", "longpoll", "sse", "iframe"]);
    handle_key(&mut s, key(KeyCode::BackTab));
    assert_eq!(s.selected, 3);
    handle_key(&mut s, key(KeyCode::Right));
    assert_eq!(s.selected, 0);
    assert_eq!(handle_key(&mut s, key(KeyCode::Char('q'))), Action::Quit);
    assert_eq!(handle_key(&mut s, key(KeyCode::Esc)), Action::Quit);
    assert_eq!(handle_key(&mut s, ctrl('c')), Action::Quit);
}

#[test]
fn hgrm_curve_is_used_when_present() {
    let s = one();
    let run = &s.runs[0];
    let sse = run.curves.iter().find(|c| c.name == "sse").unwrap();
    let longpoll = run.curves.iter().find(|c| c.name == "longpoll").unwrap();
    // The .hgrm has many rows; longpoll (no file) falls back to the six stored percentiles.
    assert!(sse.points.len() > 20);
    assert_eq!(longpoll.points.len(), 6);
    assert_eq!(sse.points.last().unwrap().1, 6100.0);
}

#[test]
fn bad_input_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = LoadedRun::load(&dir.path().join("nope")).unwrap_err();
    let msg = format!("{e:#}");
    assert!(
        msg.contains("cannot read") && msg.contains("summary.json"),
        "{msg}"
    );
    std::fs::write(dir.path().join("summary.json"), "{ not json").unwrap();
    let e = LoadedRun::load(dir.path()).unwrap_err();
    assert!(
        format!("{e:#}").contains("is not a tickbench summary"),
        "{e:#}"
    );
}

#[test]
fn two_runs_on_a_wide_terminal_show_both_tables() {
    let s = two();
    let t = draw(160, 40, |f| render(&s, f));
    insta::assert_snapshot!("results_two_160x40", t.backend());
}
