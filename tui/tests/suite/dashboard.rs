use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::KeyCode;
use hdrhistogram::Histogram;
use tickbench_loadgen::progress::{Progress, SecondSnapshot, Stage};
use tickbench_tui::dashboard::keys::handle_key;
use tickbench_tui::dashboard::state::{DashState, WINDOWS};
use tickbench_tui::dashboard::view::render;
use tickbench_tui::results::load::LoadedRun;
use tickbench_tui::theme::Theme;
use tickbench_tui::widgets::table::RowStatus;
use tickbench_tui::Action;
use tickbench_wire::Transport;

use super::{ctrl, data_dir, draw, key};

/// One second of a phase with latencies spread deterministically around `base` µs.
fn second(t: Transport, stage: Stage, sec: u64, base: u64, errors: &[(&str, u64)]) -> Progress {
    let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    for i in 0..100u64 {
        // A skewed spread: most near base, a tail to ~20×.
        let v = base + base * (i * i) / 500 + (sec % 7) * base / 20;
        h.record(v).unwrap();
    }
    Progress::Second(Box::new(SecondSnapshot {
        transport: t,
        stage,
        phase_elapsed: Duration::from_secs(sec),
        run_elapsed: Duration::from_secs(40 + sec),
        run_total: Duration::from_secs(160),
        clients_connected: 98,
        clients_target: 100,
        ticks_per_s: 100.0,
        server_cpu_pct: 12.0,
        loadgen_cpu_pct: 97.0,
        saturated: sec >= 20,
        saturation_reasons: if sec >= 20 {
            vec!["load generator CPU 97%".into()]
        } else {
            vec![]
        },
        interval: h,
        delivered: 1_000,
        requests: 10,
        empty_responses: 0,
        bytes: 100_000,
        gaps: 0,
        duplicates: 0,
        out_of_order: 0,
        gap_notices: 0,
        reconnects: 0,
        errors: errors
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect::<BTreeMap<_, _>>(),
        takeover: None,
    }))
}

/// A run in its second phase (sse, measuring), the first (poll) finished.
pub fn running_state() -> DashState {
    running()
}

fn running() -> DashState {
    let sample = LoadedRun::load(&data_dir("sample-run")).unwrap().summary;
    let mut s = DashState::new(Theme::mono());
    s.apply(Progress::Started {
        target: "http://127.0.0.1:8080".into(),
        transports: vec![Transport::Poll, Transport::Sse, Transport::Iframe],
        total: Duration::from_secs(160),
        floor_us_p50: 21.0,
        floor_us_p99: 48.0,
        link: tickbench_wire::Link::default(),
    });
    s.apply(Progress::PhaseStarted {
        transport: Transport::Poll,
        index: 0,
        of: 3,
        clients: 100,
        duration: Duration::from_secs(40),
    });
    s.apply(Progress::PhaseFinished(Box::new(
        sample.transports[0].clone(),
    )));
    s.apply(Progress::PhaseStarted {
        transport: Transport::Sse,
        index: 1,
        of: 3,
        clients: 100,
        duration: Duration::from_secs(40),
    });
    for sec in 1..=24 {
        let stage = match sec {
            0..=4 => Stage::Ramp,
            5..=9 => Stage::Warmup,
            _ => Stage::Measure,
        };
        let errs: &[(&str, u64)] = if sec == 12 {
            &[("timeout", 2), ("status_503", 1)]
        } else {
            &[]
        };
        s.apply(second(Transport::Sse, stage, sec, 400, errs));
    }
    s
}

#[test]
fn running_dashboard_80x24() {
    let s = running();
    let t = draw(80, 24, |f| render(&s, f));
    insta::assert_snapshot!("dashboard_80x24", t.backend());
}

#[test]
fn running_dashboard_wide() {
    let s = running();
    let t = draw(140, 36, |f| render(&s, f));
    insta::assert_snapshot!("dashboard_140x36", t.backend());
}

#[test]
fn finished_dashboard() {
    let mut s = running();
    let mut sample = LoadedRun::load(&data_dir("sample-run")).unwrap().summary;
    sample.transports.remove(1); // the run had poll, sse, iframe
    sample.complete = false;
    s.apply(Progress::Finished {
        summary: Box::new(sample),
        dir: PathBuf::from("results/20260102-030405-sample"),
    });
    assert!(s.phases.iter().all(|p| p.status == RowStatus::Done));
    let t = draw(80, 24, |f| render(&s, f));
    insta::assert_snapshot!("dashboard_finished", t.backend());
}

#[test]
fn aggregates_seconds_without_raw_samples() {
    let s = running();
    let sse = &s.phases[1];
    assert_eq!(sse.status, RowStatus::Running);
    // 15 measured seconds (10..=24) of 100 samples; 24 seconds in all.
    assert_eq!(sse.measured.len(), 1_500);
    assert_eq!(sse.all.len(), 2_400);
    assert_eq!(sse.series.len(), 24);
    // The running figures, in the shape the table model reads.
    let row = sse.summary();
    assert_eq!(row.deliveries_per_s(), 1_000.0);
    assert_eq!(row.error_count(), 3);
    assert!(s.live.saturated);
    // Selection followed the running phase.
    assert_eq!(s.selected, 1);
    assert_eq!(s.phases[2].status, RowStatus::Pending);
}

#[test]
fn keys() {
    let mut s = running();
    assert_eq!(s.window_s(), 60);
    handle_key(&mut s, key(KeyCode::Char('+')));
    assert_eq!(s.window_s(), 120);
    for _ in 0..10 {
        handle_key(&mut s, key(KeyCode::Char('-')));
    }
    assert_eq!(s.window_s(), WINDOWS[0]);
    handle_key(&mut s, key(KeyCode::Tab));
    assert_eq!(s.selected, 2);
    assert!(!s.follow);
    handle_key(&mut s, key(KeyCode::Right));
    assert_eq!(s.selected, 0);
    handle_key(&mut s, key(KeyCode::Left));
    assert_eq!(s.selected, 2);
    handle_key(&mut s, key(KeyCode::Char('f')));
    assert_eq!(s.selected, 1);
    handle_key(&mut s, key(KeyCode::Char('?')));
    assert!(s.help);
    let t = draw(80, 24, |f| render(&s, f));
    insta::assert_snapshot!("dashboard_help", t.backend());
    assert_eq!(handle_key(&mut s, key(KeyCode::Char('q'))), Action::None);
    assert_eq!(handle_key(&mut s, key(KeyCode::Char('q'))), Action::Quit);
    assert_eq!(handle_key(&mut s, ctrl('c')), Action::Quit);
}

#[test]
fn empty_dashboard_before_the_run_starts() {
    let s = DashState::new(Theme::mono());
    let t = draw(80, 24, |f| render(&s, f));
    insta::assert_snapshot!("dashboard_empty", t.backend());
}

#[test]
fn the_header_shows_http2_and_tls() {
    let mut s = DashState::new(Theme::mono());
    s.apply(Progress::Started {
        target: "https://127.0.0.1:8443".into(),
        transports: vec![Transport::Sse],
        total: Duration::from_secs(15),
        floor_us_p50: 21.0,
        floor_us_p99: 48.0,
        link: tickbench_wire::Link {
            protocol: tickbench_wire::HttpVersion::H2,
            tls: true,
            tabs_per_conn: 100,
        },
    });
    let t = draw(100, 24, |f| render(&s, f));
    let text: String = t
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(text.contains("[h2+tls ×100 tabs/conn]"), "{text}");
}
