//! The ticker's detail view (Enter on a row): candlesticks at 1 s / 10 s / 1 min (`c` switches),
//! volume bars, the day's open/high/low and the symbol's latency on the current transport; Esc
//! goes back to the table. Rendered headless at 80×24 and compared with snapshots.

use crossterm::event::KeyCode;
use tickbench_tui::theme::Theme;
use tickbench_tui::ticker::candles::Interval;
use tickbench_tui::ticker::feed::ClientEvent;
use tickbench_tui::ticker::keys::handle_key;
use tickbench_tui::ticker::state::TickerState;
use tickbench_tui::ticker::{detail, view};
use tickbench_tui::Action;
use tickbench_wire::{Quote, Snapshot, Tick, Transport};

use super::{draw, key};

/// 2026-01-01T00:00:00Z, a minute boundary.
const T0: u64 = 1_767_225_600_000_000;

fn quote(sym: &str, last: f64) -> Quote {
    Quote {
        sym: sym.into(),
        bid: last - 0.01,
        ask: last + 0.01,
        last,
        open: last,
        high: last,
        low: last,
        volume: 0,
        seq: 0,
        sseq: 0,
        ts: T0,
    }
}

/// AAPL and MSFT after 3 minutes of AAPL ticks every 750 ms along a fixed wave, each delivered
/// 0.8 to 1.7 ms after its scheduled time.
pub fn charted() -> TickerState {
    let syms = ["AAPL", "MSFT"].map(String::from).to_vec();
    let mut s = TickerState::new(Transport::Sse, syms.clone(), syms, Theme::mono());
    s.now_us = T0;
    let g = s.restart();
    s.apply(
        g,
        ClientEvent::Snapshot(Snapshot {
            next: 1,
            quotes: vec![quote("AAPL", 189.20), quote("MSFT", 415.50)],
        }),
    );
    s.apply(g, ClientEvent::Connected(true));
    for i in 0..240u64 {
        let x = i as f64;
        let last = 189.20 + 0.8 * (x / 9.0).sin() + 0.004 * x + ((i * 7) % 5) as f64 * 0.03;
        let last = (last * 100.0).round() / 100.0;
        let ts = T0 + i * 750_000;
        let recv = ts + 800 + (i % 7) * 150;
        s.now_us = recv;
        let t = Tick {
            seq: i + 1,
            sseq: i + 1,
            sym: "AAPL".into(),
            bid: last - 0.01,
            ask: last + 0.01,
            last,
            size: 100 + (i * 37 % 400) as u32,
            ts,
        };
        s.apply(g, ClientEvent::Tick(t, recv));
    }
    s
}

#[test]
fn enter_opens_the_chart_c_switches_candles_esc_goes_back() {
    let mut s = charted();
    assert_eq!(handle_key(&mut s, key(KeyCode::Enter)), Action::None);
    let d = s.detail.clone().expect("detail open");
    assert_eq!((d.sym.as_str(), d.interval), ("AAPL", Interval::S1));
    let t = draw(80, 24, |f| detail::render(&s, f));
    insta::assert_snapshot!("detail_1s_80x24", t.backend());

    handle_key(&mut s, key(KeyCode::Char('c')));
    assert_eq!(s.detail.as_ref().unwrap().interval, Interval::S10);
    let t = draw(80, 24, |f| detail::render(&s, f));
    insta::assert_snapshot!("detail_10s_80x24", t.backend());

    handle_key(&mut s, key(KeyCode::Char('c')));
    assert_eq!(s.detail.as_ref().unwrap().interval, Interval::M1);
    let t = draw(80, 24, |f| detail::render(&s, f));
    insta::assert_snapshot!("detail_1m_80x24", t.backend());

    handle_key(&mut s, key(KeyCode::Char('c')));
    assert_eq!(s.detail.as_ref().unwrap().interval, Interval::S1);

    // The transport keys work here too: a new client, and the symbol's latency starts afresh.
    assert_eq!(handle_key(&mut s, key(KeyCode::Char('1'))), Action::Restart);
    s.restart();
    assert!(s.history["AAPL"].latency(s.now_us).is_none());
    assert_eq!(s.history["AAPL"].candles.at(Interval::S1).len(), 180);

    assert_eq!(handle_key(&mut s, key(KeyCode::Esc)), Action::None);
    assert!(s.detail.is_none());
    let t = draw(80, 24, |f| view::render(&s, f));
    let text = format!("{:?}", t.backend());
    assert!(text.contains("symbol") && text.contains("AAPL"), "{text}");
    // Esc in the table still quits.
    assert_eq!(handle_key(&mut s, key(KeyCode::Esc)), Action::Quit);
}

#[test]
fn candles_and_latency_follow_the_ticks() {
    let s = charted();
    let h = &s.history["AAPL"];
    // 240 ticks every 750 ms span 180 s: 180 one-second candles, 18 of ten seconds, 3 minutes.
    assert_eq!(h.candles.at(Interval::S1).len(), 180);
    assert_eq!(h.candles.at(Interval::S10).len(), 18);
    assert_eq!(h.candles.at(Interval::M1).len(), 3);
    let vol: u64 = h.candles.at(Interval::M1).iter().map(|c| c.volume).sum();
    assert_eq!(vol, s.rows[0].volume);
    let day_high = h
        .candles
        .at(Interval::M1)
        .iter()
        .map(|c| c.high)
        .fold(0.0, f64::max);
    assert_eq!(day_high, s.rows[0].high);
    // Latency of AAPL's ticks over the last 10 s: 0.8 to 1.7 ms.
    let l = h.latency(s.now_us).unwrap();
    assert!(
        l.p50_us >= 800 && l.max_us <= 1_701 && l.ticks >= 13,
        "{l:?}"
    );
    assert!(!s.history.contains_key("MSFT"));
}

#[test]
fn a_symbol_without_ticks_says_so_and_j_moves_to_it() {
    let mut s = charted();
    handle_key(&mut s, key(KeyCode::Enter));
    handle_key(&mut s, key(KeyCode::Char('j')));
    assert_eq!(s.detail.as_ref().unwrap().sym, "MSFT");
    let t = draw(80, 24, |f| detail::render(&s, f));
    insta::assert_snapshot!("detail_no_ticks_80x24", t.backend());
    for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 10), (79, 23), (200, 60)] {
        draw(w, h, |f| detail::render(&s, f));
    }
}
