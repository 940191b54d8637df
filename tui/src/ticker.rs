//! `tickbench view`: a terminal stock ticker on top of the load generator's transport clients.
//!
//! It starts from `GET /snapshot`, then runs one client (`run_client`) from the snapshot's `next`
//! with the snapshot's `sseq`s as the baseline, and applies each tick only when its `sseq` is above
//! the quote's: so the table is exactly the server's state, whatever transport carries it. Keys
//! 1–8 switch transport live (a fresh snapshot, a new client), so polling lag can be *seen* next to
//! streaming.
//!
//! The connection state is always on screen (live / stale for N s / reconnecting / error and why):
//! a viewer that silently stops updating is worse than one that says it is broken.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use crossterm::event::{EventStream, KeyCode, KeyEvent, KeyModifiers};
use hdrhistogram::Histogram;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;
use tickbench_loadgen::clients::{ErrorKind, SeqOutcome, Sink};
use tickbench_wire::{Gap, Quote, Snapshot, Tick, Transport};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::term::Theme;
use crate::widgets::{fmt_num, fmt_secs, fmt_us, render_help, sparkline};
use crate::{Action, ViewOpts};

/// How long a changed price stays highlighted.
pub const FLASH_US: u64 = 600_000;
/// A connection with no tick or answer for this long is shown as stale.
pub const STALE_AFTER_US: u64 = 3_000_000;
/// Window of the footer's ticks/s and latency percentiles.
pub const WINDOW_S: u64 = 10;
/// Prices kept per symbol for the sparkline.
const HISTORY: usize = 64;
/// Wait between snapshot attempts when the server cannot give one.
pub const SNAPSHOT_RETRY: Duration = Duration::from_secs(2);
/// Watchlist size when none is given.
pub const DEFAULT_SYMBOLS: usize = 15;

/// What the running client (and its snapshot fetch) tells the screen.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    /// The starting snapshot arrived.
    Snapshot(Snapshot),
    /// A tick, with the client clock (µs) read right after parsing it.
    Tick(Tick, u64),
    /// A request-based answer arrived (proof of life for the polling transports).
    Answer,
    /// The stream opened (`true`) or closed (`false`).
    Connected(bool),
    /// A client error (it backs off and resumes by itself).
    Error(String),
    /// The server declared lost ticks.
    GapNotice(Gap),
    /// The client re-established its connection after a failure or a server close.
    Reconnected,
    /// The snapshot could not be fetched: the client has not started.
    Fatal(String),
}

/// One row of the ticker.
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteRow {
    pub sym: String,
    pub last: f64,
    pub open: f64,
    pub bid: f64,
    pub ask: f64,
    pub volume: u64,
    pub low: f64,
    pub high: f64,
    /// `sseq` of the last applied tick (or of the snapshot quote).
    pub sseq: u64,
    /// Recent last prices, oldest first, for the sparkline.
    pub history: VecDeque<f64>,
    /// The last change, highlighted until `until_us`.
    pub flash: Option<Flash>,
}

/// A price change being highlighted: the values before it, so only the digits that changed light up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flash {
    pub until_us: u64,
    pub prev_last: f64,
    pub prev_bid: f64,
    pub prev_ask: f64,
}

impl QuoteRow {
    fn from_quote(q: &Quote) -> Self {
        let mut history = VecDeque::with_capacity(HISTORY);
        history.push_back(q.last);
        Self {
            sym: q.sym.clone(),
            last: q.last,
            open: q.open,
            bid: q.bid,
            ask: q.ask,
            volume: q.volume,
            low: q.low,
            high: q.high,
            sseq: q.sseq,
            history,
            flash: None,
        }
    }

    /// Change since the open.
    pub fn change(&self) -> f64 {
        self.last - self.open
    }

    /// Change since the open, percent.
    pub fn change_pct(&self) -> f64 {
        if self.open > 0.0 {
            100.0 * (self.last - self.open) / self.open
        } else {
            0.0
        }
    }
}

/// The transport client's link, as its sink reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Fetching the snapshot / opening the first connection.
    Connecting,
    /// Connected (streams) or answering (request transports).
    Up,
    /// Lost; the client is backing off and will reconnect.
    Down,
    /// The snapshot failed (the driver retries every [`SNAPSHOT_RETRY`]); no client runs.
    Failed(String),
}

/// Sort orders, cycled by `s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Watchlist order.
    Watchlist,
    Symbol,
    ChangePct,
    Volume,
    Last,
}

impl SortKey {
    fn next(self) -> Self {
        match self {
            SortKey::Watchlist => SortKey::Symbol,
            SortKey::Symbol => SortKey::ChangePct,
            SortKey::ChangePct => SortKey::Volume,
            SortKey::Volume => SortKey::Last,
            SortKey::Last => SortKey::Watchlist,
        }
    }

    fn name(self) -> &'static str {
        match self {
            SortKey::Watchlist => "watchlist",
            SortKey::Symbol => "symbol",
            SortKey::ChangePct => "change %",
            SortKey::Volume => "volume",
            SortKey::Last => "last",
        }
    }
}

/// One second of the footer's statistics.
#[derive(Debug, Clone)]
struct SecondStat {
    sec: u64,
    ticks: u64,
    latency: Histogram<u64>,
}

/// Everything the ticker shows.
#[derive(Debug, Clone)]
pub struct TickerState {
    pub transport: Transport,
    /// The watchlist, in the order the user built it.
    pub symbols: Vec<String>,
    /// Every symbol the server knows (to reject typos when adding); empty = unchecked.
    pub known: Vec<String>,
    /// One row per watched symbol that the snapshot reported.
    pub rows: Vec<QuoteRow>,
    pub sort: SortKey,
    /// Sort descending (`S` flips it).
    pub descending: bool,
    /// Selected row, in displayed order.
    pub selected: usize,
    pub link: Link,
    /// Last error the client reported, with when (µs).
    pub last_error: Option<(String, u64)>,
    /// When the link went down (µs), for "reconnecting for N s".
    pub down_since_us: u64,
    /// When the last tick or answer arrived (µs).
    pub last_activity_us: Option<u64>,
    /// When the current client was started (µs): how long "connecting" has lasted.
    pub started_us: u64,
    pub reconnects: u64,
    /// Ticks the server declared lost.
    pub gap_ticks: u64,
    /// Generation of the running client: events of an older one (before a restart) are ignored.
    pub generation: u64,
    /// Wall clock (µs since the epoch), set by the driver each frame; a field so tests are
    /// deterministic.
    pub now_us: u64,
    /// `/` was pressed: the symbols being typed.
    pub input: Option<String>,
    /// A one-line notice (rejected symbol, …) shown in the footer until the next key.
    pub notice: Option<String>,
    pub help: bool,
    pub theme: Theme,
    seconds: VecDeque<SecondStat>,
}

impl TickerState {
    pub fn new(
        transport: Transport,
        symbols: Vec<String>,
        known: Vec<String>,
        theme: Theme,
    ) -> Self {
        Self {
            transport,
            symbols,
            known,
            rows: Vec::new(),
            sort: SortKey::Watchlist,
            descending: false,
            selected: 0,
            link: Link::Connecting,
            last_error: None,
            down_since_us: 0,
            last_activity_us: None,
            started_us: 0,
            reconnects: 0,
            gap_ticks: 0,
            generation: 0,
            now_us: 0,
            input: None,
            notice: None,
            help: false,
            theme,
            seconds: VecDeque::new(),
        }
    }

    /// A new client generation starts (transport or watchlist changed).
    pub fn restart(&mut self) -> u64 {
        self.generation += 1;
        self.link = Link::Connecting;
        self.last_error = None;
        self.last_activity_us = None;
        self.started_us = self.now_us;
        self.seconds.clear();
        self.generation
    }

    /// Applies one event of client generation `generation`.
    pub fn apply(&mut self, generation: u64, ev: ClientEvent) {
        if generation != self.generation {
            return;
        }
        match ev {
            ClientEvent::Snapshot(s) => {
                if matches!(self.link, Link::Failed(_)) {
                    self.link = Link::Connecting;
                }
                self.apply_snapshot(&s)
            }
            ClientEvent::Tick(t, recv_us) => self.apply_tick(&t, recv_us),
            ClientEvent::Answer => {
                self.link = Link::Up;
                self.last_activity_us = Some(self.now_us);
            }
            ClientEvent::Connected(up) => {
                if up {
                    self.link = Link::Up;
                    self.last_activity_us = Some(self.now_us);
                } else if self.link == Link::Up {
                    self.link = Link::Down;
                    self.down_since_us = self.now_us;
                }
            }
            ClientEvent::Error(e) => {
                self.last_error = Some((e, self.now_us));
                if self.link == Link::Up {
                    self.link = Link::Down;
                    self.down_since_us = self.now_us;
                }
            }
            ClientEvent::GapNotice(g) => self.gap_ticks += g.to.saturating_sub(g.from) + 1,
            ClientEvent::Reconnected => self.reconnects += 1,
            ClientEvent::Fatal(e) => self.link = Link::Failed(e),
        }
    }

    /// Takes the snapshot's quotes for the watched symbols; keeps each row's history and only moves
    /// a row forward (a snapshot older than what a previous client applied changes nothing).
    pub fn apply_snapshot(&mut self, s: &Snapshot) {
        for q in &s.quotes {
            if !self.symbols.contains(&q.sym) {
                continue;
            }
            match self.rows.iter_mut().find(|r| r.sym == q.sym) {
                Some(r) if q.sseq > r.sseq => {
                    let hist = std::mem::take(&mut r.history);
                    *r = QuoteRow::from_quote(q);
                    r.history = hist;
                    r.history.push_back(q.last);
                    trim(&mut r.history);
                }
                Some(_) => {}
                None => self.rows.push(QuoteRow::from_quote(q)),
            }
        }
        self.rows.retain(|r| self.symbols.contains(&r.sym));
    }

    /// Counts a delivered tick (ticks/s, latency) and applies it if it is newer than the quote.
    pub fn apply_tick(&mut self, t: &Tick, recv_us: u64) {
        self.link = Link::Up;
        self.last_activity_us = Some(self.now_us.max(recv_us));
        let sec = recv_us / 1_000_000;
        if self.seconds.back().is_none_or(|s| s.sec != sec) {
            self.seconds.push_back(SecondStat {
                sec,
                ticks: 0,
                latency: new_hist(),
            });
            while self.seconds.len() > WINDOW_S as usize + 1 {
                self.seconds.pop_front();
            }
        }
        if let Some(s) = self.seconds.back_mut() {
            s.ticks += 1;
            s.latency
                .saturating_record(recv_us.saturating_sub(t.ts).max(1));
        }
        let now = self.now_us;
        let Some(r) = self.rows.iter_mut().find(|r| r.sym == t.sym) else {
            return;
        };
        if t.sseq <= r.sseq {
            return;
        }
        let moved = t.last != r.last || t.bid != r.bid || t.ask != r.ask;
        if moved {
            r.flash = Some(Flash {
                until_us: now + FLASH_US,
                prev_last: r.last,
                prev_bid: r.bid,
                prev_ask: r.ask,
            });
        }
        r.last = t.last;
        r.bid = t.bid;
        r.ask = t.ask;
        r.volume += u64::from(t.size);
        r.low = if r.low > 0.0 {
            r.low.min(t.last)
        } else {
            t.last
        };
        r.high = r.high.max(t.last);
        r.sseq = t.sseq;
        r.history.push_back(t.last);
        trim(&mut r.history);
    }

    /// Ticks per second over the last [`WINDOW_S`] seconds (fewer while the window fills).
    pub fn ticks_per_s(&self) -> f64 {
        let now = self.now_us / 1_000_000;
        let n: u64 = self
            .seconds
            .iter()
            .filter(|s| s.sec + WINDOW_S > now)
            .map(|s| s.ticks)
            .sum();
        let since_start = (self.now_us.saturating_sub(self.started_us) / 1_000_000).max(1);
        n as f64 / since_start.min(WINDOW_S) as f64
    }

    /// Latency (p50, p99) in µs over the last [`WINDOW_S`] seconds.
    pub fn latency(&self) -> Option<(u64, u64)> {
        let now = self.now_us / 1_000_000;
        let mut h = new_hist();
        for s in self.seconds.iter().filter(|s| s.sec + WINDOW_S > now) {
            let _ = h.add(&s.latency);
        }
        (!h.is_empty()).then(|| (h.value_at_quantile(0.5), h.value_at_quantile(0.99)))
    }

    /// The connection state as the footer says it.
    pub fn status(&self) -> (String, Style) {
        let th = &self.theme;
        let since = |us: u64| fmt_secs(self.now_us.saturating_sub(us) as f64 / 1e6);
        let reason = self
            .last_error
            .as_ref()
            .map_or(String::new(), |(e, _)| format!(": {e}"));
        match &self.link {
            Link::Failed(e) => (format!("error: {e}"), th.bad()),
            Link::Connecting => (
                format!("connecting for {}{reason}", since(self.started_us)),
                th.warn(),
            ),
            Link::Down => (
                format!("reconnecting for {}{reason}", since(self.down_since_us)),
                th.warn(),
            ),
            Link::Up => match self.last_activity_us {
                Some(t) if self.now_us.saturating_sub(t) > STALE_AFTER_US => {
                    (format!("stale for {}", since(t)), th.warn())
                }
                _ => ("● live".into(), th.good()),
            },
        }
    }

    /// Row indices in display order.
    pub fn order(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.rows.len()).collect();
        let pos = |s: &str| {
            self.symbols
                .iter()
                .position(|x| x == s)
                .unwrap_or(usize::MAX)
        };
        let r = &self.rows;
        match self.sort {
            SortKey::Watchlist => idx.sort_by_key(|&i| pos(&r[i].sym)),
            SortKey::Symbol => idx.sort_by(|&a, &b| r[a].sym.cmp(&r[b].sym)),
            SortKey::ChangePct => {
                idx.sort_by(|&a, &b| r[a].change_pct().total_cmp(&r[b].change_pct()))
            }
            SortKey::Volume => idx.sort_by_key(|&i| r[i].volume),
            SortKey::Last => idx.sort_by(|&a, &b| r[a].last.total_cmp(&r[b].last)),
        }
        if self.descending {
            idx.reverse();
        }
        idx
    }
}

fn trim(h: &mut VecDeque<f64>) {
    while h.len() > HISTORY {
        h.pop_front();
    }
}

fn new_hist() -> Histogram<u64> {
    // 1 µs .. 1 h at 3 significant digits.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

const HELP: &[(&str, &str)] = &[
    ("1-8", "transport: poll jsonp piggyback longpoll"),
    ("", "           stream sse multipart iframe"),
    ("j/k ↑/↓", "move"),
    ("PgUp/PgDn", "scroll a page"),
    ("s / S", "sort column / reverse"),
    ("/", "add symbols (Enter adds, Esc cancels)"),
    ("d", "remove the selected symbol"),
    ("?", "this help"),
    ("q / Esc", "quit"),
];

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
    let n = state.rows.len();
    let page = 10;
    match key.code {
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
        KeyCode::Char(c @ '1'..='8') => {
            let t = Transport::ALL[(c as u8 - b'1') as usize];
            if t != state.transport {
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

/// `price` right-aligned in `w` cells, with the digits that differ from `prev` styled `flash`.
fn flash_cell(price: f64, prev: Option<f64>, w: usize, flash: Style) -> Cell<'static> {
    let new = format!("{price:>w$.2}");
    let Some(prev) = prev.filter(|p| *p != price) else {
        return Cell::from(new);
    };
    let old = format!("{prev:>w$.2}");
    let split = new
        .char_indices()
        .zip(old.chars())
        .find(|((_, a), b)| a != b)
        .map_or(new.len(), |((i, _), _)| i);
    Cell::from(Line::from(vec![
        Span::raw(new[..split].to_string()),
        Span::styled(new[split..].to_string(), flash),
    ]))
}

/// `+1.23` / `-12.34` / `+123`.
fn fmt_change(v: f64) -> String {
    if v.abs() < 100.0 {
        format!("{v:+.2}")
    } else {
        format!("{v:+.0}")
    }
}

/// `+1.23%` / `-12.3%`.
fn fmt_change_pct(v: f64) -> String {
    if v.abs() < 10.0 {
        format!("{v:+.2}%")
    } else {
        format!("{v:+.1}%")
    }
}

/// Draws the ticker.
pub fn render(state: &TickerState, frame: &mut Frame) {
    let th = &state.theme;
    let [tabs, table_area, status, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());

    // Transport tabs: the 1–8 keys, the current one highlighted.
    // One space between labels so all eight fit in 80 columns.
    let mut spans = vec![Span::raw(" ")];
    for (i, t) in Transport::ALL.iter().enumerate() {
        let label = format!("{} {}", i + 1, t.name());
        spans.push(if *t == state.transport {
            Span::styled(label, th.selected())
        } else {
            Span::styled(label, th.dim())
        });
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), tabs);

    // The quote table.
    let sort_mark = |k: SortKey, title: &'static str| -> Cell<'static> {
        let t = if state.sort == k {
            format!("{title}{}", if state.descending { "▼" } else { "▲" })
        } else {
            title.to_string()
        };
        Cell::from(Line::styled(t, th.header()).right_aligned())
    };
    let hdr = |t: &'static str| Cell::from(Line::styled(t, th.header()).right_aligned());
    let header = Row::new(vec![
        if state.sort == SortKey::Symbol {
            Cell::from(Span::styled(
                format!("sym{}", if state.descending { "▼" } else { "▲" }),
                th.header(),
            ))
        } else {
            Cell::from(Span::styled("symbol", th.header()))
        },
        sort_mark(SortKey::Last, "last"),
        hdr("chg"),
        sort_mark(SortKey::ChangePct, "chg%"),
        hdr("bid"),
        hdr("ask"),
        sort_mark(SortKey::Volume, "volume"),
        hdr("low"),
        hdr("high"),
        Cell::from(Span::styled("trend", th.header())),
    ]);
    let spark_w = (table_area.width as usize).saturating_sub(74).clamp(1, 40);
    let rows: Vec<Row> = state
        .order()
        .into_iter()
        .map(|i| {
            let r = &state.rows[i];
            let flash = r.flash.filter(|f| f.until_us > state.now_us);
            let up = r.last >= flash.map_or(r.last, |f| f.prev_last);
            let fstyle = if up { th.flash_up() } else { th.flash_down() };
            let chg_style = if r.change() > 0.0 {
                th.up()
            } else if r.change() < 0.0 {
                th.down()
            } else {
                Style::new()
            };
            let hist: Vec<f64> = r.history.iter().copied().collect();
            Row::new(vec![
                Cell::from(Span::styled(
                    r.sym.clone(),
                    Style::new().add_modifier(Modifier::BOLD),
                )),
                flash_cell(r.last, flash.map(|f| f.prev_last), 8, fstyle),
                Cell::from(Line::styled(fmt_change(r.change()), chg_style).right_aligned()),
                Cell::from(Line::styled(fmt_change_pct(r.change_pct()), chg_style).right_aligned()),
                flash_cell(r.bid, flash.map(|f| f.prev_bid), 8, fstyle),
                flash_cell(r.ask, flash.map(|f| f.prev_ask), 8, fstyle),
                Cell::from(Line::from(fmt_num(r.volume as f64)).right_aligned()),
                Cell::from(format!("{:>8.2}", r.low)),
                Cell::from(format!("{:>8.2}", r.high)),
                Cell::from(Span::styled(sparkline(&hist, spark_w), chg_style)),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Min(1),
    ];
    let empty = rows.is_empty();
    let mut ts = TableState::default().with_selected(Some(state.selected));
    frame.render_stateful_widget(
        Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED)),
        table_area,
        &mut ts,
    );
    if empty {
        let [_, msg] =
            Layout::vertical([Constraint::Length(2), Constraint::Length(1)]).areas(table_area);
        frame.render_widget(
            Paragraph::new(Line::styled(" waiting for the snapshot…", th.dim())),
            msg,
        );
    }

    // Status line: transport, connection state, rate, latency.
    let (st, st_style) = state.status();
    let mut s = vec![
        Span::styled(format!(" {} ", state.transport.name()), th.selected()),
        Span::raw(" "),
        Span::styled(st, st_style),
        Span::raw(format!("  {} ticks/s", fmt_num(state.ticks_per_s()))),
    ];
    match state.latency() {
        Some((p50, p99)) => s.push(Span::raw(format!(
            "  p50 {} p99 {} ({WINDOW_S}s)",
            fmt_us(p50 as f64),
            fmt_us(p99 as f64)
        ))),
        None => s.push(Span::styled("  no latency yet", th.dim())),
    }
    if state.gap_ticks > 0 {
        s.push(Span::styled(
            format!("  lost {}", state.gap_ticks),
            th.bad(),
        ));
    }
    if state.reconnects > 0 {
        s.push(Span::raw(format!("  reconnects {}", state.reconnects)));
    }
    frame.render_widget(Paragraph::new(Line::from(s)), status);

    // Key line, or the symbol input, or a notice.
    let line = if let Some(input) = &state.input {
        Line::from(vec![
            Span::styled(" add symbols: ", th.header()),
            Span::raw(format!("{input}█")),
            Span::styled("  (Enter adds, Esc cancels)", th.dim()),
        ])
    } else if let Some(n) = &state.notice {
        Line::styled(format!(" {n}"), th.warn())
    } else {
        Line::styled(
            format!(
                " q quit  1-8 transport  s sort ({})  / add  d remove  ? help",
                state.sort.name()
            ),
            th.dim(),
        )
    };
    frame.render_widget(Paragraph::new(line), keys);
    if state.help {
        render_help(frame, th, "tickbench view", HELP);
    }
}

/// The viewer's [`Sink`]: forwards what the client sees to the screen, tagged with its generation.
/// Unbounded because the viewer watches a human-sized watchlist and drains every frame; a bounded
/// channel that drops ticks would show wrong prices.
#[derive(Debug, Clone)]
pub struct ChannelSink {
    generation: u64,
    tx: mpsc::UnboundedSender<(u64, ClientEvent)>,
}

impl ChannelSink {
    pub fn new(generation: u64, tx: mpsc::UnboundedSender<(u64, ClientEvent)>) -> Self {
        Self { generation, tx }
    }

    fn send(&self, ev: ClientEvent) {
        // The screen is gone when this fails; the client is being cancelled anyway.
        let _ = self.tx.send((self.generation, ev));
    }
}

impl Sink for ChannelSink {
    fn request(&self) {}
    fn answer(&self, _ticks: usize) {
        self.send(ClientEvent::Answer);
    }
    fn bytes(&self, _n: u64) {}
    fn tick(&self, tick: &Tick, recv_us: u64, _outcome: SeqOutcome) {
        self.send(ClientEvent::Tick(tick.clone(), recv_us));
    }
    fn gap_notice(&self, gap: Gap) {
        self.send(ClientEvent::GapNotice(gap));
    }
    fn error(&self, kind: ErrorKind) {
        let msg = match kind {
            ErrorKind::Connect => "connection refused".to_string(),
            ErrorKind::Timeout => "timed out".to_string(),
            ErrorKind::Status(s) => format!("HTTP {s}"),
            ErrorKind::Parse => "unparseable answer".to_string(),
            ErrorKind::Io => "connection broken".to_string(),
        };
        self.send(ClientEvent::Error(msg));
    }
    fn reconnect(&self) {
        self.send(ClientEvent::Reconnected);
    }
    fn schedule_lag(&self, _lag_us: u64) {}
    fn connected(&self, up: bool) {
        self.send(ClientEvent::Connected(up));
    }
}

/// Server address and the HTTP client for the snapshot and symbol list.
#[derive(Debug, Clone)]
pub struct Api {
    pub base: reqwest::Url,
    http: reqwest::Client,
}

impl Api {
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let mut base: reqwest::Url = url
            .parse()
            .with_context(|| format!("invalid server URL '{url}'"))?;
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self { base, http })
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> anyhow::Result<T> {
        let url = self.base.join(path)?;
        let resp = self
            .http
            .get(url.clone())
            .query(query)
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            let msg = serde_json::from_str::<tickbench_wire::ApiError>(&body)
                .map(|e| e.error)
                .unwrap_or(body);
            anyhow::bail!("{url} answered {status}: {msg}");
        }
        resp.json()
            .await
            .with_context(|| format!("bad answer from {url}"))
    }

    /// `GET /symbols`: the market, most active first.
    pub async fn symbols(&self) -> anyhow::Result<tickbench_wire::Symbols> {
        self.get("symbols", &[]).await
    }

    /// `GET /snapshot?symbols=`.
    pub async fn snapshot(&self, symbols: &[String]) -> anyhow::Result<Snapshot> {
        self.get("snapshot", &[("symbols", symbols.join(","))])
            .await
    }
}

/// Client settings from the command line that survive a transport switch.
#[derive(Debug, Clone)]
pub struct ClientOpts {
    pub poll_interval: Duration,
    pub action_rate: f64,
    pub longpoll_timeout: Duration,
}

/// Starts client generation `generation`: fetch a snapshot, report it, then run the transport
/// client from the snapshot's cursor until `cancel`. Returns at once; the work runs on a task.
pub fn start_client(
    api: &Api,
    transport: Transport,
    symbols: Vec<String>,
    opts: &ClientOpts,
    generation: u64,
    tx: mpsc::UnboundedSender<(u64, ClientEvent)>,
    cancel: CancellationToken,
) {
    let api = api.clone();
    let opts = opts.clone();
    tokio::spawn(async move {
        let sink = ChannelSink::new(generation, tx);
        // Without a snapshot there is no baseline: say why on screen and try again, rather than
        // leave the user looking at an empty table.
        let snap = loop {
            let snap = tokio::select! {
                _ = cancel.cancelled() => return,
                s = api.snapshot(&symbols) => s,
            };
            match snap {
                Ok(s) => break s,
                Err(e) => {
                    sink.send(ClientEvent::Fatal(format!("{e:#} (retrying)")));
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        _ = tokio::time::sleep(SNAPSHOT_RETRY) => {}
                    }
                }
            }
        };
        let known: HashMap<String, u64> = snap
            .quotes
            .iter()
            .map(|q| (q.sym.clone(), q.sseq))
            .collect();
        let mut cfg = tickbench_loadgen::clients::ClientConfig::new(api.base.clone(), transport);
        cfg.symbols = Some(Arc::from(symbols));
        cfg.poll_interval = opts.poll_interval;
        cfg.action_rate = opts.action_rate;
        cfg.longpoll_timeout = opts.longpoll_timeout;
        cfg.since = Some(snap.next);
        cfg.known_sseq = Some(Arc::new(known));
        cfg.seed = generation;
        sink.send(ClientEvent::Snapshot(snap));
        let http = tickbench_loadgen::clients::http_client(None);
        tickbench_loadgen::clients::run_client(cfg, http, sink, cancel).await;
    });
}

/// `tickbench view`.
pub fn run(opts: ViewOpts) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // Declared before the runtime work so it is dropped (killed) after the screen is restored.
    let server = match &opts.url {
        Some(_) => None,
        None => Some(crate::embedded::EmbeddedServer::start(
            &std::env::current_exe()?,
        )?),
    };
    let url = opts
        .url
        .clone()
        .or_else(|| server.as_ref().map(|s| s.url.clone()))
        .unwrap_or_default();
    let api = Api::new(&url)?;
    let market = rt.block_on(api.symbols())?;
    let known: Vec<String> = market.symbols.iter().map(|s| s.sym.clone()).collect();
    let symbols: Vec<String> = if opts.symbols.is_empty() {
        known.iter().take(DEFAULT_SYMBOLS).cloned().collect()
    } else {
        let want: Vec<String> = opts
            .symbols
            .iter()
            .map(|s| s.trim().to_ascii_uppercase())
            .collect();
        if let Some(bad) = want.iter().find(|s| !known.contains(s)) {
            anyhow::bail!(
                "unknown symbol '{bad}' (the server lists {} symbols; see GET /symbols)",
                known.len()
            );
        }
        want
    };
    let client_opts = ClientOpts {
        poll_interval: opts.poll_interval,
        action_rate: opts.action_rate,
        longpoll_timeout: opts.longpoll_timeout,
    };
    let mut state = TickerState::new(opts.transport, symbols, known, Theme::from_env());
    let mut guard = crate::term::TerminalGuard::new()?;
    let result = rt.block_on(event_loop(
        &mut guard.terminal,
        &mut state,
        &api,
        &client_opts,
    ));
    drop(guard);
    drop(server);
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut TickerState,
    api: &Api,
    opts: &ClientOpts,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut events = EventStream::new();
    let mut frames = tokio::time::interval(crate::app::frame_period());
    frames.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    state.now_us = tickbench_wire::now_micros();
    let mut cancel = CancellationToken::new();
    let generation = state.restart();
    start_client(
        api,
        state.transport,
        state.symbols.clone(),
        opts,
        generation,
        tx.clone(),
        cancel.clone(),
    );
    let result = loop {
        tokio::select! {
            _ = frames.tick() => {
                state.now_us = tickbench_wire::now_micros();
                while let Ok((g, ev)) = rx.try_recv() {
                    state.apply(g, ev);
                }
                if let Err(e) = terminal.draw(|f| render(state, f)) {
                    break Err(e.into());
                }
            }
            ev = crate::app::next_event(&mut events) => {
                let ev = match ev {
                    Ok(ev) => ev,
                    Err(e) => break Err(e),
                };
                let Some(key) = crate::app::key_press(&ev) else { continue };
                match handle_key(state, key) {
                    Action::Quit => break Ok(()),
                    Action::Restart => {
                        cancel.cancel();
                        cancel = CancellationToken::new();
                        let generation = state.restart();
                        start_client(api, state.transport, state.symbols.clone(), opts, generation, tx.clone(), cancel.clone());
                    }
                    Action::None => {}
                }
            }
        }
    };
    cancel.cancel();
    result
}
