//! Every technique in a real page in headless Chromium (Debian's, installed by the test support
//! when missing): ticks arrive with 0 gaps, 0 duplicates, 0 out-of-order, no CSP violation and
//! no error; and an injected server restart (`ChildServer::restart`, the same stream via
//! `--epoch-us`) is survived without loss by the techniques that hold a connection.
//!
//! `TICKBENCH_SKIP_BROWSER=1` skips, saying so on stderr; otherwise a chromium that cannot be
//! installed fails the test with the install command.

use std::path::PathBuf;
use std::time::Duration;

use tickbench_browser::measure::{top_symbols, Plan, Running};
use tickbench_browser::{install, Browser};
use tickbench_loadgen::child::{ChildServer, ServerArgs};
use tickbench_wire::Technique;

/// Chromium, or `None` when the skip is asked for (printed, so a skip never looks like a pass).
fn chromium() -> Option<PathBuf> {
    if std::env::var("TICKBENCH_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("SKIPPED: TICKBENCH_SKIP_BROWSER=1, the browser test did not run");
        return None;
    }
    match install::chromium() {
        Ok(p) => Some(p),
        Err(e) => panic!("{e}"),
    }
}

fn server() -> ChildServer {
    ChildServer::start(ServerArgs {
        rate: Some(100.0),
        symbols: Some(100),
        quiet: true,
        ..ServerArgs::new(env!("CARGO_BIN_EXE_tickbench"))
    })
    .expect("embedded server starts")
}

fn plan(browser: &Browser, base: &str) -> Plan {
    Plan {
        base: base.to_string(),
        symbols: top_symbols(browser, base, 20).expect("symbols"),
        warmup: Duration::ZERO,
        duration: Duration::ZERO,
        interval: Duration::from_millis(250),
        actions: 4,
    }
}

/// The techniques the server of this build serves (`ws` once its transport exists).
fn techniques() -> Vec<Technique> {
    Technique::ALL
        .into_iter()
        .filter(|t| t.transport().is_some())
        .collect()
}

fn assert_clean(t: Technique, s: &tickbench_browser::measure::PageStats) {
    assert_eq!(
        (s.gaps, s.duplicates, s.out_of_order, s.gap_notices),
        (0, 0, 0, 0),
        "{t}: loss (gaps, duplicates, out-of-order, gap notices): {s:?}"
    );
    assert_eq!(s.csp_violations, 0, "{t}: the CSP blocked something: {s:?}");
}

#[test]
fn every_technique_delivers_in_chromium_without_loss() {
    let Some(exe) = chromium() else { return };
    let srv = server();
    let browser = Browser::launch(&exe, false).expect("chromium starts");
    let plan = plan(&browser, srv.url());
    for t in techniques() {
        let page = Running::open(&browser, &plan, t).expect("page opens");
        // Counted from the page's snapshot baseline: no reset, every tick since is checked.
        let s = page
            .wait_delivered(40, Duration::from_secs(15))
            .expect("stats");
        eprintln!(
            "{t}: {} delivered, p50 {} µs",
            s.delivered, s.latency_us.p50
        );
        assert!(
            s.delivered >= 40,
            "{t}: only {} ticks in 15 s: {s:?}",
            s.delivered
        );
        assert_clean(t, &s);
        assert_eq!(s.errors, 0, "{t}: errors: {s:?}");
        assert!(
            s.latency_us.count == s.delivered,
            "{t}: a latency per delivery"
        );
    }
}

#[test]
fn a_server_restart_is_survived_by_cursor() {
    let Some(exe) = chromium() else { return };
    let mut srv = server();
    let browser = Browser::launch(&exe, false).expect("chromium starts");
    let plan = plan(&browser, srv.url());
    let survivors: Vec<Technique> = [
        Technique::Sse,
        Technique::Longpoll,
        Technique::Stream,
        Technique::Ws,
    ]
    .into_iter()
    .filter(|t| t.transport().is_some())
    .collect();
    let pages: Vec<_> = survivors
        .iter()
        .map(|&t| Running::open(&browser, &plan, t).expect("page opens"))
        .collect();
    let before: Vec<u64> = pages
        .iter()
        .map(|p| {
            p.wait_delivered(20, Duration::from_secs(10))
                .unwrap()
                .delivered
        })
        .collect();
    srv.restart().expect("server restarts");
    for ((t, page), n) in survivors.iter().zip(&pages).zip(before) {
        let s = page
            .wait_delivered(n + 100, Duration::from_secs(20))
            .expect("stats");
        eprintln!(
            "{t}: {} delivered across the restart, {} reconnects",
            s.delivered, s.reconnects
        );
        assert!(
            s.delivered >= n + 100,
            "{t}: stalled after the restart: {s:?}"
        );
        assert!(s.reconnects >= 1, "{t}: never saw the restart: {s:?}");
        assert_clean(*t, &s);
    }
}
