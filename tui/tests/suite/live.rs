//! The viewer's client pipeline (snapshot, then a transport client from its cursor) against a real
//! server on 127.0.0.1:0 with automatic ticks off: after `publish(n)`, every watched row must
//! show exactly what `/snapshot` says.

use std::time::Duration;

use tickbench_tui::theme::Theme;
use tickbench_tui::ticker::api::Api;
use tickbench_tui::ticker::feed::{start_client, ClientOpts};
use tickbench_tui::ticker::state::TickerState;
use tickbench_wire::Transport;
use tokio_util::sync::CancellationToken;

async fn converges(transport: Transport) {
    let server = tickbench_server::spawn(
        tickbench_server::Config {
            rate: 0.0,
            ..Default::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .expect("server starts");
    let api = Api::new(&server.url()).unwrap();
    let market = api.symbols().await.unwrap();
    let symbols: Vec<String> = market
        .symbols
        .iter()
        .take(5)
        .map(|s| s.sym.clone())
        .collect();
    // Some history before the viewer starts, so the snapshot is not all zeros.
    server.publish(50);

    let mut state = TickerState::new(transport, symbols.clone(), vec![], Theme::mono());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let opts = ClientOpts {
        poll_interval: Duration::from_millis(50),
        action_rate: 20.0,
        longpoll_timeout: Duration::from_secs(5),
    };
    let g = state.restart();
    start_client(
        &api,
        transport,
        symbols.clone(),
        &opts,
        g,
        tx,
        cancel.clone(),
    );

    // Wait for the snapshot, then publish while the client runs.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while state.rows.len() < symbols.len() {
        let (g, ev) = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("snapshot in time")
            .expect("channel open");
        state.apply(g, ev);
    }
    // Give a stream time to open before publishing, then publish in a few bursts.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..4 {
        server.publish(100);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let want = api.snapshot(&symbols).await.unwrap();
    let done = |s: &TickerState| {
        want.quotes.iter().all(|q| {
            s.rows
                .iter()
                .any(|r| r.sym == q.sym && r.sseq == q.sseq && r.last == q.last)
        })
    };
    while !done(&state) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((g, ev))) => state.apply(g, ev),
            _ => panic!(
                "{transport}: viewer did not converge: rows {:?}, want {:?}",
                state
                    .rows
                    .iter()
                    .map(|r| (&r.sym, r.sseq, r.last))
                    .collect::<Vec<_>>(),
                want.quotes
                    .iter()
                    .map(|q| (&q.sym, q.sseq, q.last))
                    .collect::<Vec<_>>()
            ),
        }
    }
    for q in &want.quotes {
        let r = state.rows.iter().find(|r| r.sym == q.sym).unwrap();
        assert_eq!(
            (r.bid, r.ask, r.volume),
            (q.bid, q.ask, q.volume),
            "{}",
            q.sym
        );
    }
    cancel.cancel();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_viewer_shows_the_server_state() {
    converges(Transport::Sse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poll_viewer_shows_the_server_state() {
    converges(Transport::Poll).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn longpoll_viewer_shows_the_server_state() {
    converges(Transport::Longpoll).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_watchlist_is_reported_not_hidden() {
    let server = tickbench_server::spawn(
        tickbench_server::Config {
            rate: 0.0,
            ..Default::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let api = Api::new(&server.url()).unwrap();
    let mut state = TickerState::new(Transport::Sse, vec!["NOPE".into()], vec![], Theme::mono());
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
        vec!["NOPE".into()],
        &opts,
        g,
        tx,
        cancel.clone(),
    );
    let (g, ev) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    state.apply(g, ev);
    let (status, _) = state.status();
    assert!(
        status.starts_with("error: ") && status.contains("400"),
        "{status}"
    );
    cancel.cancel();
    server.shutdown().await;
}
