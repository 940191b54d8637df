//! Log lines never go across a screen: restarting the server under a running viewer makes the
//! load generator's client log `WARN … the server's epoch changed …`; while a screen is up that
//! line reaches the ticker's bottom line and the `--log` file, not stderr, and the viewer starts
//! over from the new stream. Without a screen, lines go to stderr again.

use std::io::Write;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use tickbench_tui::log::{self, ScreenCapture};
use tickbench_tui::theme::Theme;
use tickbench_tui::ticker::api::Api;
use tickbench_tui::ticker::feed::{start_client, ClientOpts};
use tickbench_tui::ticker::state::TickerState;
use tickbench_tui::ticker::view::render;
use tickbench_wire::Transport;
use tokio_util::sync::CancellationToken;

use super::draw;

/// What would have gone to stderr.
#[derive(Clone, Default)]
struct Stderr(Arc<Mutex<Vec<u8>>>);

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Stderr {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The binary's subscriber, as `src/main.rs` builds it (colours on, as on a terminal).
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(true)
            .with_writer(log::writer())
            .init();
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_warns_on_the_screen_not_across_it() {
    install();
    let stderr = Stderr::default();
    log::set_fallback(Box::new(stderr.clone()));
    let dir = tempfile::tempdir().unwrap();
    let log_file = dir.path().join("view.log");
    log::to_file(&log_file).unwrap();

    let cfg = || tickbench_server::Config {
        rate: 0.0,
        ..Default::default()
    };
    let a = tickbench_server::spawn(cfg(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = a.addr();
    let api = Api::new(&a.url()).unwrap();
    let symbols = vec!["AAPL".to_string(), "MSFT".to_string()];
    a.publish(20);

    let screen = ScreenCapture::begin();
    let mut state = TickerState::new(Transport::Sse, symbols.clone(), vec![], Theme::mono());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let opts = ClientOpts {
        poll_interval: Duration::from_millis(50),
        action_rate: 1.0,
        longpoll_timeout: Duration::from_secs(5),
    };
    let g = state.restart();
    start_client(
        &api,
        Transport::Sse,
        symbols.clone(),
        &opts,
        g,
        tx,
        cancel.clone(),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let pump = |state: &mut TickerState, ev| {
        state.now_us = tickbench_wire::now_micros();
        state.apply(g, ev);
        state.push_log(log::drain());
    };
    while state.rows.len() < 2 || state.link != tickbench_tui::ticker::state::Link::Up {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap()
            .unwrap()
            .1;
        pump(&mut state, ev);
    }

    // The server restarts on the same address: another epoch, a new stream.
    a.shutdown().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let b = tickbench_server::spawn(cfg(), addr).await.unwrap();
    b.publish(5);
    while !(state.new_stream
        && state
            .recent_log()
            .is_some_and(|l| l.text.contains("epoch changed")))
    {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no epoch warning; log {:?}", state.log))
            .unwrap()
            .1;
        pump(&mut state, ev);
    }
    let line = state.recent_log().unwrap().clone();
    assert_eq!(line.level, "WARN");
    assert!(
        !line.text.contains('\u{1b}'),
        "colour codes stripped: {line:?}"
    );

    // On screen: the warning is the bottom line, and no other line carries it.
    let t = draw(80, 24, |f| render(&state, f));
    let rows: Vec<String> = (0..24u16)
        .map(|y| {
            (0..80u16)
                .map(|x| t.backend().buffer()[(x, y)].symbol())
                .collect()
        })
        .collect();
    assert!(
        rows[23].starts_with(" WARN ") && rows[23].contains("epoch changed"),
        "{rows:#?}"
    );
    assert!(rows[..23].iter().all(|r| !r.contains("epoch")), "{rows:#?}");
    // Not on stderr; in the log file.
    assert!(
        !stderr.text().contains("epoch changed"),
        "{}",
        stderr.text()
    );
    let file = std::fs::read_to_string(&log_file).unwrap();
    assert!(
        file.contains("WARN") && file.contains("the server's epoch changed"),
        "{file}"
    );
    assert!(!file.contains('\u{1b}'));

    // The viewer starts over from the new stream rather than ignoring its lower sseqs.
    state.start_over();
    assert!(state.rows.is_empty() && !state.new_stream);
    assert_eq!(
        state.notice.as_deref(),
        Some("the server started a new stream: starting over")
    );

    // No screen: stderr again.
    drop(screen);
    tracing::warn!("after the screen");
    assert!(
        stderr.text().contains("after the screen"),
        "{}",
        stderr.text()
    );
    cancel.cancel();
    b.shutdown().await;
}
