//! The server's query-string parsing (`since`, `symbols`, `limit`, `timeout`, `callback`), both
//! directly (`params::parse`) and through the real router (`GET /poll?...` in-process): never a
//! panic; either validated `Params` within the documented ranges or a 400 whose JSON body names
//! one of the five parameters; the router agrees with the parser.
#![no_main]

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use tickbench_server::app::{app, AppState};
use tickbench_server::error::ApiError;
use tickbench_server::generator::Producer;
use tickbench_server::journal::Journal;
use tickbench_server::market::{Market, Universe};
use tickbench_server::params::{self, valid_callback, MAX_LIMIT, MAX_SYMBOLS, MAX_TIMEOUT_S};
use tickbench_server::Config;
use tower::ServiceExt;

const KNOWN: [&str; 5] = ["since", "symbols", "limit", "timeout", "callback"];

struct World {
    state: Arc<AppState>,
    rt: tokio::runtime::Runtime,
}

/// One server state for the whole run: 50 symbols, a 64-tick journal holding 200 published ticks
/// (so `since` can be ahead of, inside, or behind the retained window).
fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let config = Config {
            rate: 0.0,
            symbols: 50,
            retain: 64,
            ..Config::default()
        };
        let universe = Arc::new(Universe::new(config.symbols, config.seed));
        let epoch_us = tickbench_wire::now_micros();
        let journal = Arc::new(Journal::new(&universe, config.retain, epoch_us));
        let market = Market::new(&universe, config.seed, 1.0);
        let mut producer = Producer::new(market, universe.clone(), journal.clone());
        producer.publish_now(200);
        let state = Arc::new(AppState {
            config,
            universe,
            journal,
            metrics: Arc::default(),
            cancel: Default::default(),
            started: Instant::now(),
            order_ids: AtomicU64::new(0),
            epoch_us,
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        World { state, rt }
    })
}

fn check_error(e: &ApiError) {
    assert!(e.status().is_client_error(), "{e:?} is not a 4xx");
    let ApiError::BadParam { param, .. } = e else {
        panic!("query parsing failed with a non-parameter error: {e:?}");
    };
    assert!(
        KNOWN.contains(&param.as_str()),
        "error names unknown param {param:?}"
    );
    let body: tickbench_wire::ApiError =
        serde_json::from_str(&e.body()).expect("error body is the protocol's JSON");
    assert_eq!(body.param.as_deref(), Some(param.as_str()));
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let query = String::from_utf8_lossy(data);
    let next = w.state.journal.next_seq();

    let direct = params::parse(&query, &w.state);
    match &direct {
        Ok(p) => {
            assert!(p.since <= next, "since {} ahead of next {next}", p.since);
            if !p.since_given {
                assert_eq!(p.since, next);
            }
            assert!((1..=MAX_LIMIT).contains(&p.limit));
            assert!((1..=MAX_TIMEOUT_S).contains(&p.timeout_s));
            if let Some(cb) = &p.callback {
                assert!(valid_callback(cb), "accepted callback {cb:?}");
            }
            if let Some(ids) = &p.symbols {
                assert!(!ids.is_empty() && ids.len() <= MAX_SYMBOLS);
                assert!(ids.iter().all(|&id| (id as usize) < w.state.universe.len()));
            }
        }
        Err(e) => check_error(e),
    }

    // Through the router: only queries that form a valid request target.
    let Ok(req) = Request::get(format!("/poll?{query}")).body(Body::empty()) else {
        return;
    };
    let seen = req.uri().query().unwrap_or("").to_owned();
    let expect_ok = params::parse(&seen, &w.state).is_ok();
    let (status, body) = w.rt.block_on(async {
        let resp = app(w.state.clone()).oneshot(req).await.expect("infallible");
        let status = resp.status();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        (status, body)
    });
    if expect_ok {
        assert_eq!(
            status,
            StatusCode::OK,
            "parse ok but router answered {status}"
        );
    } else {
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "parse failed but router answered {status}"
        );
        let e: tickbench_wire::ApiError =
            serde_json::from_slice(&body).expect("400 body is the protocol's JSON");
        assert!(e.param.is_some_and(|p| KNOWN.contains(&p.as_str())));
    }
});
