use crossterm::event::KeyCode;
use tickbench_tui::theme::Theme;
use tickbench_tui::ticker::feed::ClientEvent;
use tickbench_tui::ticker::keys::handle_key;
use tickbench_tui::ticker::state::{Link, SortKey, TickerState, FLASH_US, STALE_AFTER_US};
use tickbench_tui::ticker::view::render;
use tickbench_tui::Action;
use tickbench_wire::{Gap, Quote, Snapshot, Tick, Transport};

use super::{ctrl, draw, key};

/// A fixed clock: 2026-01-01T00:00:00Z.
const T0: u64 = 1_767_225_600_000_000;

fn quote(sym: &str, last: f64, sseq: u64) -> Quote {
    Quote {
        sym: sym.into(),
        bid: last - 0.01,
        ask: last + 0.01,
        last,
        open: last,
        high: last,
        low: last,
        volume: 1_000,
        seq: sseq,
        sseq,
        ts: T0,
    }
}

fn tick(seq: u64, sym: &str, sseq: u64, last: f64, ts: u64) -> Tick {
    Tick {
        seq,
        sseq,
        sym: sym.into(),
        bid: last - 0.01,
        ask: last + 0.01,
        last,
        size: 100,
        ts,
    }
}

/// The state after a snapshot and a scripted tick sequence, at a fixed clock.
pub fn scripted_state() -> TickerState {
    scripted()
}

fn scripted() -> TickerState {
    let syms = ["AAPL", "MSFT", "GOOG", "AMZN"].map(String::from).to_vec();
    let mut s = TickerState::new(Transport::Sse, syms.clone(), syms, Theme::mono());
    s.now_us = T0;
    let g = s.restart();
    s.apply(
        g,
        ClientEvent::Snapshot(Snapshot {
            next: 11,
            quotes: vec![
                quote("AAPL", 189.20, 4),
                quote("MSFT", 415.50, 3),
                quote("GOOG", 141.80, 2),
                quote("AMZN", 178.25, 1),
            ],
        }),
    );
    s.apply(g, ClientEvent::Connected(true));
    let script = [
        (11, "AAPL", 5, 189.35),
        (12, "MSFT", 4, 414.90),
        (13, "AAPL", 6, 189.41),
        (14, "GOOG", 3, 142.05),
        (15, "AAPL", 7, 189.38),
        (16, "MSFT", 5, 415.02),
    ];
    for (i, (seq, sym, sseq, last)) in script.into_iter().enumerate() {
        s.now_us = T0 + 100_000 * (i as u64 + 1);
        // 800 µs + 100 µs per tick of delivery latency.
        let ts = s.now_us - 800 - 100 * i as u64;
        s.apply(
            g,
            ClientEvent::Tick(tick(seq, sym, sseq, last, ts), s.now_us),
        );
    }
    s
}

fn row<'a>(s: &'a TickerState, sym: &str) -> &'a tickbench_tui::ticker::state::QuoteRow {
    s.rows.iter().find(|r| r.sym == sym).unwrap()
}

#[test]
fn ticks_apply_in_sseq_order() {
    let mut s = scripted();
    let g = s.generation;
    assert_eq!(row(&s, "AAPL").last, 189.38);
    assert_eq!(row(&s, "AAPL").sseq, 7);
    assert_eq!(row(&s, "AAPL").volume, 1_300);
    assert_eq!(row(&s, "AAPL").high, 189.41);
    assert_eq!(row(&s, "MSFT").low, 414.90);
    // An old or repeated sseq changes nothing (but is still counted as a delivery).
    s.apply(
        g,
        ClientEvent::Tick(tick(9, "AAPL", 7, 1.0, T0), T0 + 700_000),
    );
    s.apply(
        g,
        ClientEvent::Tick(tick(8, "AAPL", 3, 2.0, T0), T0 + 700_000),
    );
    assert_eq!(row(&s, "AAPL").last, 189.38);
    // Events of an older client generation are ignored.
    s.apply(
        g - 1,
        ClientEvent::Tick(tick(20, "AAPL", 8, 3.0, T0), T0 + 700_000),
    );
    assert_eq!(row(&s, "AAPL").last, 189.38);
    // A snapshot older than what was applied does not move a row back.
    s.apply_snapshot(&Snapshot {
        next: 1,
        quotes: vec![quote("AAPL", 150.0, 2)],
    });
    assert_eq!(row(&s, "AAPL").last, 189.38);
    // Symbols outside the watchlist are not shown.
    s.apply(
        g,
        ClientEvent::Tick(tick(21, "TSLA", 1, 5.0, T0), T0 + 700_000),
    );
    assert!(s.rows.iter().all(|r| r.sym != "TSLA"));
}

#[test]
fn flash_and_footer_figures() {
    let mut s = scripted();
    let f = row(&s, "MSFT").flash.expect("MSFT just moved");
    assert_eq!(f.prev_last, 414.90);
    assert!(f.until_us > s.now_us);
    assert_eq!(s.latency(), Some((1_000, 1_300)));
    // 6 ticks in the first second of this client.
    assert_eq!(s.ticks_per_s(), 6.0);
    assert_eq!(s.status().0, "● live");
    s.now_us += FLASH_US + STALE_AFTER_US;
    assert_eq!(s.status().0, "stale for 4s");
    let g = s.generation;
    s.apply(g, ClientEvent::Error("connection refused".into()));
    s.now_us += 2_000_000;
    assert_eq!(s.status().0, "reconnecting for 2s: connection refused");
    s.apply(g, ClientEvent::GapNotice(Gap { from: 5, to: 9 }));
    assert_eq!(s.gap_ticks, 5);
    s.apply(g, ClientEvent::Reconnected);
    assert_eq!(s.reconnects, 1);
    s.apply(g, ClientEvent::Fatal("snapshot: HTTP 503".into()));
    assert_eq!(s.link, Link::Failed("snapshot: HTTP 503".into()));
    assert_eq!(s.status().0, "error: snapshot: HTTP 503");
}

#[test]
fn screen_after_scripted_ticks() {
    let s = scripted();
    let t = draw(80, 24, |f| render(&s, f));
    insta::assert_snapshot!("ticker_80x24", t.backend());
    let t = draw(120, 16, |f| render(&s, f));
    insta::assert_snapshot!("ticker_120x16", t.backend());
}

#[test]
fn screen_when_stale_sorted_and_adding() {
    let mut s = scripted();
    s.now_us += 5_000_000;
    handle_key(&mut s, key(KeyCode::Char('s'))); // symbol
    handle_key(&mut s, key(KeyCode::Char('s'))); // change %
    handle_key(&mut s, key(KeyCode::Char('S'))); // descending
    handle_key(&mut s, key(KeyCode::Char('/')));
    for c in "nvda".chars() {
        handle_key(&mut s, key(KeyCode::Char(c)));
    }
    let t = draw(80, 12, |f| render(&s, f));
    insta::assert_snapshot!("ticker_stale_sorted_input", t.backend());
}

#[test]
fn transport_keys_restart_the_client() {
    let mut s = scripted();
    for t in Transport::ALL.iter() {
        let c = t.key();
        let want = if *t == Transport::Sse {
            Action::None
        } else {
            Action::Restart
        };
        assert_eq!(handle_key(&mut s, key(KeyCode::Char(c))), want, "{c}");
        assert_eq!(s.transport, *t);
        // Back to sse for the next round.
        s.transport = Transport::Sse;
    }
    let before = s.generation;
    s.restart();
    assert_eq!(s.generation, before + 1);
    assert_eq!(s.link, Link::Connecting);
}

#[test]
fn watchlist_editing() {
    let mut s = scripted();
    s.known = ["AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "TSLA"]
        .map(String::from)
        .to_vec();
    handle_key(&mut s, key(KeyCode::Char('/')));
    for c in "nvda, tsla".chars() {
        handle_key(&mut s, key(KeyCode::Char(c)));
    }
    assert_eq!(s.input.as_deref(), Some("NVDA, TSLA"));
    assert_eq!(handle_key(&mut s, key(KeyCode::Enter)), Action::Restart);
    assert_eq!(s.symbols.len(), 6);
    assert!(s.input.is_none());
    // A typo is refused with a notice, not sent to the server.
    handle_key(&mut s, key(KeyCode::Char('/')));
    for c in "XXXX".chars() {
        handle_key(&mut s, key(KeyCode::Char(c)));
    }
    assert_eq!(handle_key(&mut s, key(KeyCode::Enter)), Action::None);
    assert_eq!(s.notice.as_deref(), Some("unknown symbol: XXXX"));
    // Esc abandons the input.
    handle_key(&mut s, key(KeyCode::Char('/')));
    handle_key(&mut s, key(KeyCode::Char('a')));
    assert_eq!(handle_key(&mut s, key(KeyCode::Esc)), Action::None);
    assert!(s.input.is_none());
    // d removes the selected row (watchlist order: AAPL first, then j moves to MSFT).
    handle_key(&mut s, key(KeyCode::Char('j')));
    assert_eq!(handle_key(&mut s, key(KeyCode::Char('d'))), Action::Restart);
    assert!(!s.symbols.contains(&"MSFT".to_string()));
    assert!(s.rows.iter().all(|r| r.sym != "MSFT"));
}

#[test]
fn moving_and_sorting() {
    let mut s = scripted();
    handle_key(&mut s, key(KeyCode::PageDown));
    assert_eq!(s.selected, 3);
    handle_key(&mut s, key(KeyCode::Char('j')));
    assert_eq!(s.selected, 3);
    handle_key(&mut s, key(KeyCode::PageUp));
    assert_eq!(s.selected, 0);
    handle_key(&mut s, key(KeyCode::Char('k')));
    assert_eq!(s.selected, 0);
    handle_key(&mut s, key(KeyCode::Char('s')));
    assert_eq!(s.sort, SortKey::Symbol);
    let names: Vec<&str> = s.order().iter().map(|&i| s.rows[i].sym.as_str()).collect();
    assert_eq!(names, ["AAPL", "AMZN", "GOOG", "MSFT"]);
    assert_eq!(handle_key(&mut s, key(KeyCode::Char('q'))), Action::Quit);
    assert_eq!(handle_key(&mut s, ctrl('c')), Action::Quit);
}

#[test]
fn the_last_symbol_cannot_be_removed() {
    let mut s = TickerState::new(Transport::Poll, vec!["AAPL".into()], vec![], Theme::mono());
    s.apply_snapshot(&Snapshot {
        next: 1,
        quotes: vec![quote("AAPL", 1.0, 0)],
    });
    assert_eq!(handle_key(&mut s, key(KeyCode::Char('d'))), Action::None);
    assert_eq!(s.symbols, ["AAPL"]);
}

#[test]
fn only_the_changed_digits_flash_and_the_flash_fades() {
    use ratatui::style::Color;
    let mut s = scripted();
    s.theme = Theme::default();
    // MSFT went 414.90 -> 415.02 on its last tick: "  415.02" vs "  414.90" differ from the '5'.
    let t = draw(80, 24, |f| render(&s, f));
    let buf = t.backend().buffer();
    let y = (0..24u16)
        .find(|&y| buf[(0, y)].symbol() == "M" && buf[(1, y)].symbol() == "S")
        .expect("MSFT row");
    // The last column starts after "symbol" (6) + 1 space; its 8 cells are "  415.02".
    let cells: Vec<(String, Option<Color>)> = (7..15)
        .map(|x| {
            let c = &buf[(x, y)];
            (
                c.symbol().to_string(),
                Some(c.bg).filter(|b| *b != Color::Reset),
            )
        })
        .collect();
    let text: String = cells.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(text, "  415.02");
    let lit: String = cells
        .iter()
        .filter(|c| c.1 == Some(Color::Green))
        .map(|c| c.0.as_str())
        .collect();
    assert_eq!(lit, "5.02");
    // After the flash time nothing is lit.
    s.now_us += FLASH_US;
    let t = draw(80, 24, |f| render(&s, f));
    let buf = t.backend().buffer();
    assert!((7..15).all(|x| buf[(x, y)].bg != Color::Green));
}

#[test]
fn help_overlay() {
    let mut s = scripted();
    assert_eq!(handle_key(&mut s, key(KeyCode::Char('?'))), Action::None);
    let t = draw(80, 24, |f| render(&s, f));
    insta::assert_snapshot!("ticker_help", t.backend());
    // Any key closes it without acting (here: no transport switch).
    assert_eq!(handle_key(&mut s, key(KeyCode::Char('1'))), Action::None);
    assert!(!s.help);
    assert_eq!(s.transport, Transport::Sse);
}
