//! The ticker's keys: moving, sorting, editing the watchlist and switching transport, each only
//! a change of [`TickerState`]; what needs the network is returned as [`Action::Restart`].
//!
//! The transport keys are the ones [`Transport::key`] names, so a new transport gets its key (and
//! its line in the help) from `wire` without an edit here.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tickbench_wire::Transport;

use crate::app::Action;
use crate::ticker::candles::Interval;
use crate::ticker::state::{Detail, TickerState};

/// Width of the help's transport lines: the names wrap to stay inside the overlay at 80 columns.
const HELP_TRANSPORTS_WIDTH: usize = 40;

/// The transport keys as one label: `1-8`.
pub fn transport_keys() -> String {
    let first = Transport::ALL[0].key();
    let last = Transport::ALL[Transport::COUNT - 1].key();
    format!("{first}-{last}")
}

/// The `?` overlay's `(keys, what)` lines; the transport names come from [`Transport::ALL`],
/// wrapped under one another.
pub fn help() -> Vec<(String, String)> {
    const LEAD: &str = "transport: ";
    let mut lines: Vec<String> = vec![LEAD.to_string()];
    for t in Transport::ALL {
        let cur = lines.last_mut().expect("never empty");
        let sep = if cur.len() > LEAD.len() { " " } else { "" };
        if cur.len() + sep.len() + t.name().len() > HELP_TRANSPORTS_WIDTH && cur.len() > LEAD.len()
        {
            lines.push(format!("{:w$}{}", "", t.name(), w = LEAD.len()));
        } else {
            cur.push_str(sep);
            cur.push_str(t.name());
        }
    }
    let mut v: Vec<(String, String)> = lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            (
                if i == 0 {
                    transport_keys()
                } else {
                    String::new()
                },
                l,
            )
        })
        .collect();
    v.extend(
        [
            ("j/k ↑/↓", "move"),
            ("PgUp/PgDn", "scroll a page"),
            ("s / S", "sort column / reverse"),
            ("Enter", "candle chart of the symbol (Esc back)"),
            ("/", "add symbols (Enter adds, Esc cancels)"),
            ("d", "remove the selected symbol"),
            ("?", "this help"),
            ("q / Esc", "quit"),
        ]
        .map(|(k, w)| (k.to_string(), w.to_string())),
    );
    v
}

/// Keys of the ticker. Transport and watchlist changes return [`Action::Restart`]: the driver
/// starts a new client from a fresh snapshot.
pub fn handle_key(state: &mut TickerState, key: KeyEvent) -> Action {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Action::Quit;
    }
    if state.help {
        state.help = false;
        return Action::None;
    }
    if let Some(input) = state.input.as_mut() {
        match key.code {
            KeyCode::Esc => state.input = None,
            KeyCode::Backspace => {
                input.pop();
            }
            KeyCode::Enter => {
                let text = state.input.take().unwrap_or_default();
                return add_symbols(state, &text);
            }
            KeyCode::Char(c) if c.is_ascii_alphanumeric() || ",. -".contains(c) => {
                input.push(c.to_ascii_uppercase());
            }
            _ => {}
        }
        return Action::None;
    }
    state.notice = None;
    if state.detail.is_some() {
        return detail_key(state, key);
    }
    let n = state.rows.len();
    let page = 10;
    match key.code {
        KeyCode::Enter => {
            let order = state.order();
            if let Some(&i) = order.get(state.selected) {
                state.detail = Some(Detail {
                    sym: state.rows[i].sym.clone(),
                    interval: Interval::S1,
                });
            }
        }
        KeyCode::Char('q') | KeyCode::Esc => return Action::Quit,
        KeyCode::Char('?') => state.help = true,
        KeyCode::Char('j') | KeyCode::Down => {
            state.selected = (state.selected + 1).min(n.saturating_sub(1))
        }
        KeyCode::Char('k') | KeyCode::Up => state.selected = state.selected.saturating_sub(1),
        KeyCode::PageDown => state.selected = (state.selected + page).min(n.saturating_sub(1)),
        KeyCode::PageUp => state.selected = state.selected.saturating_sub(page),
        KeyCode::Home | KeyCode::Char('g') => state.selected = 0,
        KeyCode::End | KeyCode::Char('G') => state.selected = n.saturating_sub(1),
        KeyCode::Char('s') => state.sort = state.sort.next(),
        KeyCode::Char('S') => state.descending = !state.descending,
        KeyCode::Char('/') => state.input = Some(String::new()),
        KeyCode::Char('d') => {
            let order = state.order();
            let Some(&i) = order.get(state.selected) else {
                return Action::None;
            };
            if state.symbols.len() <= 1 {
                state.notice = Some("the watchlist needs at least one symbol".into());
                return Action::None;
            }
            let sym = state.rows[i].sym.clone();
            state.symbols.retain(|s| *s != sym);
            state.rows.retain(|r| r.sym != sym);
            state.selected = state.selected.min(state.rows.len().saturating_sub(1));
            state.notice = Some(format!("removed {sym}"));
            return Action::Restart;
        }
        KeyCode::Char(c) => {
            if let Some(t) = Transport::from_key(c).filter(|t| *t != state.transport) {
                state.transport = t;
                return Action::Restart;
            }
        }
        _ => {}
    }
    Action::None
}

/// Keys of the detail view: Esc back to the table, `c` the next candle width, `j`/`k` the next or
/// previous symbol of the table, the transport keys as in the table.
fn detail_key(state: &mut TickerState, key: KeyEvent) -> Action {
    let Some(detail) = state.detail.as_mut() else {
        return Action::None;
    };
    match key.code {
        KeyCode::Esc | KeyCode::Backspace => state.detail = None,
        KeyCode::Char('q') => return Action::Quit,
        KeyCode::Char('?') => state.help = true,
        KeyCode::Char('c') | KeyCode::Tab => detail.interval = detail.interval.next(),
        KeyCode::Char('j') | KeyCode::Down | KeyCode::Char('k') | KeyCode::Up => {
            let down = matches!(key.code, KeyCode::Char('j') | KeyCode::Down);
            let n = state.rows.len();
            state.selected = if down {
                (state.selected + 1).min(n.saturating_sub(1))
            } else {
                state.selected.saturating_sub(1)
            };
            let order = state.order();
            if let (Some(&i), Some(d)) = (order.get(state.selected), state.detail.as_mut()) {
                d.sym = state.rows[i].sym.clone();
            }
        }
        KeyCode::Char(c) => {
            if let Some(t) = Transport::from_key(c).filter(|t| *t != state.transport) {
                state.transport = t;
                return Action::Restart;
            }
        }
        _ => {}
    }
    Action::None
}

/// Adds the symbols typed after `/` (comma or space separated); unknown ones are refused with a
/// notice instead of a server 400 later.
fn add_symbols(state: &mut TickerState, text: &str) -> Action {
    let mut added = Vec::new();
    let mut unknown = Vec::new();
    for s in text
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let s = s.to_ascii_uppercase();
        if !state.known.is_empty() && !state.known.contains(&s) {
            unknown.push(s);
        } else if !state.symbols.contains(&s) {
            state.symbols.push(s.clone());
            added.push(s);
        }
    }
    state.notice = match (added.is_empty(), unknown.is_empty()) {
        (true, true) => None,
        (false, true) => Some(format!("added {}", added.join(", "))),
        (_, false) => Some(format!("unknown symbol: {}", unknown.join(", "))),
    };
    if added.is_empty() {
        Action::None
    } else {
        Action::Restart
    }
}
