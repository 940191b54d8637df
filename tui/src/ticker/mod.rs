//! `tickbench view`: a terminal stock ticker on top of the load generator's transport clients.
//!
//! It starts from `GET /snapshot`, then runs one client from the snapshot's `next` with the
//! snapshot's `sseq`s as the baseline ([`feed`]), and applies each tick only when its `sseq` is
//! above the quote's ([`state`]): so the table is exactly the server's state, whatever transport
//! carries it. Each transport's key ([`Transport::key`](tickbench_wire::Transport::key)) switches
//! to it live (a fresh snapshot, a new client), so polling lag can be *seen* next to streaming.
//!
//! The connection state is always on screen (live / stale for N s / reconnecting / error and why):
//! a viewer that silently stops updating is worse than one that says it is broken.
//!
//! This file starts the viewer (server, watchlist, terminal) and connects the pieces to the event
//! loop: [`state`] is what is shown, [`keys`] changes it, [`view`] draws it, [`feed`] and [`api`]
//! talk to the server.

pub mod api;
pub mod candles;
pub mod chart;
pub mod detail;
pub mod feed;
pub mod history;
pub mod keys;
pub mod state;
pub mod view;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use tickbench_loadgen::child::{ChildServer, ServerArgs};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::{Action, Flow, Screen};
use crate::error::Error;
use crate::opts::ViewOpts;
use crate::theme::Theme;
use api::Api;
use feed::{start_client, ClientEvent, ClientOpts};
use state::TickerState;

/// Watchlist size when none is given.
pub const DEFAULT_SYMBOLS: usize = 15;

/// `tickbench view`.
pub fn run(opts: ViewOpts) -> Result<(), Error> {
    if let Some(path) = &opts.log {
        crate::log::to_file(path).map_err(|source| Error::LogFile {
            path: path.clone(),
            source,
        })?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    // Without a URL, this binary's `serve` as a child process (the load generator's launcher: own
    // process group, exits with us, SIGTERM before SIGKILL), so the viewer's runtime stays free of
    // the server's load. Quiet: server logs must not tear the full-screen view. Declared before
    // the runtime work so it is stopped after the screen is restored.
    let server = match &opts.url {
        Some(_) => None,
        None => Some(ChildServer::start(ServerArgs {
            quiet: true,
            ..ServerArgs::new(std::env::current_exe().map_err(Error::Exe)?)
        })?),
    };
    let url = opts
        .url
        .clone()
        .or_else(|| server.as_ref().map(|s| s.url().to_string()))
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
            return Err(Error::UnknownSymbol {
                symbol: bad.clone(),
                known: known.len(),
            });
        }
        want
    };
    let client_opts = ClientOpts {
        poll_interval: opts.poll_interval,
        action_rate: opts.action_rate,
        longpoll_timeout: opts.longpoll_timeout,
    };
    let state = TickerState::new(opts.transport, symbols, known, Theme::from_env());
    let mut guard = crate::term::TerminalGuard::new()?;
    let result = rt.block_on(async {
        let mut screen = Viewer::start(state, api, client_opts);
        let r = crate::app::run(&mut guard.terminal, &mut screen).await;
        screen.cancel.cancel();
        r
    });
    drop(guard);
    drop(server);
    result
}

/// The ticker in the event loop: its state, and the client generation feeding it.
struct Viewer {
    state: TickerState,
    api: Api,
    opts: ClientOpts,
    /// Every client generation sends here; the state ignores the events of stale generations.
    tx: mpsc::UnboundedSender<(u64, ClientEvent)>,
    rx: mpsc::UnboundedReceiver<(u64, ClientEvent)>,
    /// Stops the running client (and its snapshot retries).
    cancel: CancellationToken,
}

impl Viewer {
    /// Starts the first client.
    fn start(mut state: TickerState, api: Api, opts: ClientOpts) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        state.now_us = tickbench_wire::now_micros();
        let mut v = Self {
            state,
            api,
            opts,
            tx,
            rx,
            cancel: CancellationToken::new(),
        };
        v.restart();
        v
    }

    /// Cancels the running client and starts a new generation from a fresh snapshot.
    fn restart(&mut self) {
        self.cancel.cancel();
        self.cancel = CancellationToken::new();
        let generation = self.state.restart();
        start_client(
            &self.api,
            self.state.transport,
            self.state.symbols.clone(),
            &self.opts,
            generation,
            self.tx.clone(),
            self.cancel.clone(),
        );
    }
}

impl Screen for Viewer {
    type Output = ();
    type Wake = std::convert::Infallible;
    const LIVE: bool = true;

    fn draw(&self, frame: &mut Frame) {
        match &self.state.detail {
            Some(_) => detail::render(&self.state, frame),
            None => view::render(&self.state, frame),
        }
    }

    fn frame(&mut self) {
        self.state.now_us = tickbench_wire::now_micros();
        while let Ok((g, ev)) = self.rx.try_recv() {
            self.state.apply(g, ev);
        }
        self.state.push_log(crate::log::drain());
        if self.state.new_stream {
            self.state.start_over();
            self.restart();
        }
    }

    fn key(&mut self, key: KeyEvent) -> Flow<()> {
        match keys::handle_key(&mut self.state, key) {
            Action::Quit => return Flow::Exit(Ok(())),
            Action::Restart => self.restart(),
            Action::None => {}
        }
        Flow::Continue
    }

    async fn wake(&mut self) -> Self::Wake {
        std::future::pending().await
    }

    fn woke(&mut self, wake: Self::Wake) -> Flow<()> {
        match wake {}
    }
}
