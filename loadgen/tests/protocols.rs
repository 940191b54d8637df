//! Whole runs over HTTP/2 and TLS (`wss://` for the WebSocket phase) against an in-process
//! quote server on 127.0.0.1:0 (`--target`), over real sockets: every tick delivered, nothing
//! lost, and the protocol settings recorded per phase.

use std::time::Duration;

use tickbench_loadgen::{run_with_progress, RunOpts, Watch};
use tickbench_server::config::TlsSource;
use tickbench_server::{Config, ServerHandle};
use tickbench_wire::{HttpVersion, Link, Transport};
use tokio_util::sync::CancellationToken;

/// A server on its own multi-thread runtime (the run builds its own runtimes).
fn server(tls: bool) -> (tokio::runtime::Runtime, ServerHandle) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let handle = rt
        .block_on(tickbench_server::spawn(
            Config {
                rate: 200.0,
                seed: 7,
                symbols: 40,
                tls: tls.then_some(TlsSource::SelfSigned),
                ..Config::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    (rt, handle)
}

fn short_opts(target: String, out: &std::path::Path) -> RunOpts {
    RunOpts {
        target: Some(target),
        transports: vec![
            Transport::Sse,
            Transport::Poll,
            Transport::Longpoll,
            Transport::Ws,
        ],
        clients: 8,
        duration: Duration::from_secs(1),
        warmup: Duration::from_secs(1),
        ramp: Duration::from_secs(1),
        poll_interval: Duration::from_millis(200),
        watch: Watch::Count(5),
        workers: 2,
        label: "proto".into(),
        out: out.to_path_buf(),
        no_tui: true,
        ..RunOpts::default()
    }
}

/// Every phase clean, the HTTP phases recording `link`, the WebSocket phase (an HTTP/1.1
/// upgrade of its own connection, over TLS as the others) HTTP/1.1, one client per connection.
fn assert_clean(summary: &tickbench_wire::Summary, link: Link) {
    assert!(summary.complete);
    assert_eq!(summary.transports.len(), 4);
    for t in &summary.transports {
        assert_eq!(t.loss(), 0, "{t:?}");
        assert!(t.delivered > 0, "{t:?}");
        assert_eq!(t.clients_receiving, 8, "{t:?}");
        assert_eq!(t.error_count(), 0, "{t:?}");
        let want = if t.name == "ws" {
            Link {
                protocol: HttpVersion::H1,
                tabs_per_conn: 1,
                ..link
            }
        } else {
            link
        };
        assert_eq!(t.link, want, "{}", t.name);
    }
}

#[test]
fn http2_tabs_sharing_connections_lose_nothing() {
    let (rt, srv) = server(false);
    let out = tempfile::tempdir().unwrap();
    let opts = RunOpts {
        http2: true,
        tabs_per_conn: 4,
        // The bare HTTP loop after a poll phase opens connections of its own; this test counts
        // the phases' connections only.
        no_bare_http: true,
        ..short_opts(srv.url(), out.path())
    };
    let (summary, _) = run_with_progress(opts, None, CancellationToken::new()).unwrap();
    assert_clean(
        &summary,
        Link {
            protocol: HttpVersion::H2,
            tls: false,
            tabs_per_conn: 4,
        },
    );
    // 3 HTTP phases × 8 clients in groups of 4: 6 client connections, the ws phase's 8, plus
    // the run's control requests; 32 or more if every client had its own.
    let metrics = rt.block_on(async {
        reqwest::get(format!("{}/metrics", srv.url()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    let accepted: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("tickbench_connections_accepted_total "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        accepted < 28,
        "{accepted} connections for 6 groups of tabs and 8 ws"
    );
    rt.block_on(srv.shutdown());
}

#[test]
fn tls_runs_trusting_a_ca_file_or_nothing_lose_nothing() {
    let (rt, srv) = server(true);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("server.pem");
    std::fs::write(&ca, srv.tls().unwrap().cert_pem()).unwrap();
    for (http2, ca, insecure) in [(true, Some(ca.clone()), false), (false, None, true)] {
        let out = tempfile::tempdir().unwrap();
        let opts = RunOpts {
            http2,
            ca,
            insecure,
            ..short_opts(srv.url(), out.path())
        };
        let (summary, _) = run_with_progress(opts, None, CancellationToken::new()).unwrap();
        assert_clean(
            &summary,
            Link {
                protocol: if http2 {
                    HttpVersion::H2
                } else {
                    HttpVersion::H1
                },
                tls: true,
                tabs_per_conn: 1,
            },
        );
    }
    // Without --ca or --insecure the web roots do not know the self-signed certificate: one
    // clear error, before any phase.
    let out = tempfile::tempdir().unwrap();
    let err = run_with_progress(
        short_opts(srv.url(), out.path()),
        None,
        CancellationToken::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains(&srv.url()), "{err}");
    rt.block_on(srv.shutdown());
}
