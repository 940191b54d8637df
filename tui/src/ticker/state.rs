//! The ticker's state: the watched quotes, the connection as the client reports it, and the
//! footer's rolling statistics. Plain data changed only by its own methods (the feed's events go
//! through [`TickerState::apply`]) and the key handler, so every screen state can be built in a
//! test without a network.
//!
//! Each tick is applied only when its `sseq` is above the quote's, so the table is exactly the
//! server's state whatever transport carries it; the connection state is always derivable for the
//! footer (live / stale for N s / reconnecting / error and why).

use std::collections::{HashMap, VecDeque};

use hdrhistogram::Histogram;
use ratatui::style::Style;
use tickbench_wire::{Quote, Snapshot, Tick, Transport};

use crate::log::LogLine;
use crate::theme::Theme;
use crate::ticker::candles::Interval;
use crate::ticker::feed::ClientEvent;
use crate::ticker::history::SymbolHistory;
use crate::widgets::fmt::fmt_secs;

/// How long a changed price stays highlighted.
pub const FLASH_US: u64 = 600_000;
/// A connection with no tick or answer for this long is shown as stale.
pub const STALE_AFTER_US: u64 = 3_000_000;
/// Window of the footer's ticks/s and latency percentiles.
pub const WINDOW_S: u64 = 10;
/// Prices kept per symbol for the sparkline.
const HISTORY: usize = 64;
/// How long a log line stays on the key line.
pub const LOG_SHOW_US: u64 = 15_000_000;

/// The detail view of one symbol (Enter on its row; Esc goes back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    pub sym: String,
    /// Candle width, cycled by `c`.
    pub interval: Interval,
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
    /// The snapshot failed (the feed retries every
    /// [`SNAPSHOT_RETRY`](crate::ticker::feed::SNAPSHOT_RETRY)); no client runs.
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
    /// The order `s` moves to.
    pub fn next(self) -> Self {
        match self {
            SortKey::Watchlist => SortKey::Symbol,
            SortKey::Symbol => SortKey::ChangePct,
            SortKey::ChangePct => SortKey::Volume,
            SortKey::Volume => SortKey::Last,
            SortKey::Last => SortKey::Watchlist,
        }
    }

    /// What the key line calls it.
    pub fn name(self) -> &'static str {
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
    /// Candles and per-symbol latency of the watched symbols, for the detail view.
    pub history: HashMap<String, SymbolHistory>,
    /// The detail view, when open.
    pub detail: Option<Detail>,
    /// The newest log line written while the screen was up, with when it arrived (µs), and how
    /// many arrived in all: shown on the key line instead of across the screen.
    pub log: Option<(LogLine, u64)>,
    pub log_lines: u64,
    /// Set when the client reports a new stream (the server restarted with another epoch); the
    /// driver restarts the client from a fresh snapshot.
    pub new_stream: bool,
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
            history: HashMap::new(),
            detail: None,
            log: None,
            log_lines: 0,
            new_stream: false,
        }
    }

    /// Shows log lines written while the screen was up (newest on the key line).
    pub fn push_log(&mut self, lines: Vec<LogLine>) {
        self.log_lines += lines.len() as u64;
        if let Some(last) = lines.into_iter().last() {
            self.log = Some((last, self.now_us));
        }
    }

    /// The log line to show now, if one arrived within [`LOG_SHOW_US`].
    pub fn recent_log(&self) -> Option<&LogLine> {
        self.log
            .as_ref()
            .filter(|(_, at)| self.now_us.saturating_sub(*at) < LOG_SHOW_US)
            .map(|(l, _)| l)
    }

    /// The server serves a different stream (new epoch): its seqs and sseqs start again, so the
    /// old rows and candles are no baseline. Drops them; the driver restarts from a snapshot.
    pub fn start_over(&mut self) {
        self.new_stream = false;
        self.rows.clear();
        self.history.clear();
        self.gap_ticks = 0;
        self.notice = Some("the server started a new stream: starting over".into());
    }

    /// A new client generation starts (transport or watchlist changed).
    pub fn restart(&mut self) -> u64 {
        self.generation += 1;
        self.link = Link::Connecting;
        self.last_error = None;
        self.last_activity_us = None;
        self.started_us = self.now_us;
        self.seconds.clear();
        self.new_stream = false;
        for h in self.history.values_mut() {
            h.reset_latency();
        }
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
            ClientEvent::NewStream => self.new_stream = true,
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
        let h = self.history.entry(t.sym.clone()).or_default();
        h.delivered(t.ts, recv_us);
        if t.sseq <= r.sseq {
            return;
        }
        h.candles.push(t.ts, t.last, t.size);
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
