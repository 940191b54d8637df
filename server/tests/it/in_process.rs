//! The router driven in-process, without the accept loop: the state from `AppState::new`, ticks
//! from a `Producer` on its journal, requests through `tower::ServiceExt::oneshot` (so no
//! `ConnCtl`: streams run without the slow-consumer reset).

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use tickbench_server::app::app;
use tickbench_server::generator::Producer;
use tickbench_server::market::Market;
use tickbench_server::state::AppState;
use tickbench_server::Config;
use tickbench_wire::{Batch, Transport};
use tower::ServiceExt as _;

fn state_with_ticks(n: usize) -> Arc<AppState> {
    let config = Config {
        rate: 0.0,
        symbols: 50,
        retain: 64,
        ..Config::default()
    };
    let state = AppState::new(config, tickbench_wire::now_micros());
    let market = Market::new(&state.universe, state.config.seed, 1.0);
    let mut producer = Producer::new(market, state.universe.clone(), state.journal.clone());
    producer.publish_now(n);
    Arc::new(state)
}

async fn get(state: &Arc<AppState>, uri: &str) -> axum::response::Response {
    let req = Request::get(uri).body(Body::empty()).unwrap();
    app(state.clone()).oneshot(req).await.unwrap()
}

#[tokio::test]
async fn a_state_from_new_serves_its_journal() {
    let state = state_with_ticks(200);
    assert_eq!(state.journal.next_seq(), 201);
    let r = get(&state, "/poll?since=1&limit=1000").await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = to_bytes(r.into_body(), usize::MAX).await.unwrap();
    let b: Batch = serde_json::from_slice(&body).unwrap();
    // 64 retained of 200: from seq 1 the answer declares the evicted ones as a gap and starts
    // at the oldest retained, 137.
    assert_eq!(b.gap.map(|g| g.from), Some(1));
    assert_eq!(b.ticks.first().map(|t| t.seq), Some(137));
    assert_eq!(b.next, 201);
    assert_eq!(
        state
            .metrics
            .t(Transport::Poll)
            .deliveries
            .load(std::sync::atomic::Ordering::Relaxed),
        64
    );
}

#[tokio::test]
async fn every_transport_has_a_route() {
    let state = state_with_ticks(3);
    for t in Transport::ALL {
        let uri = match t {
            Transport::Jsonp => format!("{}?since=1&callback=cb", t.path()),
            Transport::Piggyback => format!("{}/AAPL?since=1", t.path()),
            Transport::Poll
            | Transport::Longpoll
            | Transport::Stream
            | Transport::Sse
            | Transport::Multipart
            | Transport::Iframe => format!("{}?since=1", t.path()),
            // An upgrade needs a real connection (`ws.rs`); in-process the route answers what
            // it answers any request that is no WebSocket handshake: the JSON 400.
            Transport::Ws => {
                let r = get(&state, &format!("{}?since=1", t.path())).await;
                assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{t}");
                continue;
            }
        };
        // Streams answer with headers at once; the body (never ending) is dropped unread.
        let r = get(&state, &uri).await;
        assert_eq!(r.status(), StatusCode::OK, "{t}: {uri}");
        let requests = state
            .metrics
            .t(t)
            .requests
            .load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(requests, 1, "{t} counted its own request");
    }
}
