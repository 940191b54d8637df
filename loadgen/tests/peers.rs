//! nginx + Nchan and Pushpin, started from the shipped configs (`peers/`) by the same launcher
//! `tickbench peer start` uses (which installs the Debian packages when missing), measured by
//! short runs on each native transport (WebSocket included: Nchan's `ws+meta.nchan`, Pushpin's
//! WebSocket-over-HTTP): every client receives, nothing is lost, and after injected connection
//! resets every client resumes from the server's own cursor without loss (Nchan's chunked
//! transport has no cursor: its loss is counted, not hidden).
//!
//! `TICKBENCH_SKIP_PEERS=1` skips them (saying so); otherwise a machine where the packages cannot
//! be installed fails here with the install command.

use std::time::Duration;

use tickbench_loadgen::peers::{Peer, PeerOpts};
use tickbench_loadgen::targets::TargetKind;
use tickbench_loadgen::{run_with_progress, RunOpts, Watch};
use tickbench_server::{Config, ServerHandle};
use tickbench_wire::{Summary, Transport};
use tokio_util::sync::CancellationToken;

fn skip() -> bool {
    let skip = std::env::var_os("TICKBENCH_SKIP_PEERS").is_some_and(|v| v == "1");
    if skip {
        eprintln!("TICKBENCH_SKIP_PEERS=1: skipped the nginx + Nchan / Pushpin tests");
    }
    skip
}

/// The market source: an in-process tickbench server.
fn source(rate: f64) -> (tokio::runtime::Runtime, ServerHandle) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let handle = rt
        .block_on(tickbench_server::spawn(
            Config {
                rate,
                seed: 7,
                symbols: 40,
                ..Config::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    (rt, handle)
}

fn run(
    peer: &Peer,
    src: &ServerHandle,
    transports: Vec<Transport>,
    chaos: Option<&str>,
) -> Summary {
    let out = tempfile::tempdir().unwrap();
    let t = peer.target();
    let opts = RunOpts {
        target: Some(format!(
            "{}+{}?publish={}&backend={}",
            t.kind,
            t.url,
            t.publish_port.unwrap_or(1),
            t.backend_port.unwrap_or(1)
        ))
        .map(|s| match t.kind {
            TargetKind::Pushpin => s,
            TargetKind::Nchan | TargetKind::Tickbench => format!("{}+{}", t.kind, t.url),
        }),
        peer_pid: Some(peer.pid()),
        peer_source: Some(src.url()),
        transports,
        clients: 12,
        duration: Duration::from_secs(2),
        warmup: Duration::from_secs(1),
        ramp: Duration::from_secs(1),
        watch: Watch::Count(5),
        workers: 2,
        label: "peers".into(),
        out: out.path().to_path_buf(),
        no_tui: true,
        chaos: chaos.map(|c| c.parse().unwrap()),
        ..RunOpts::default()
    };
    let (summary, _) = run_with_progress(opts, None, CancellationToken::new()).unwrap();
    assert!(summary.complete);
    summary
}

fn start(kind: TargetKind) -> Peer {
    Peer::start(kind, &PeerOpts::for_clients(64))
        .unwrap_or_else(|e| panic!("starting {kind} from the shipped config: {e}"))
}

#[test]
fn nchan_delivers_every_tick_on_each_native_transport() {
    if skip() {
        return;
    }
    let (_rt, src) = source(200.0);
    let peer = start(TargetKind::Nchan);
    let s = run(
        &peer,
        &src,
        vec![
            Transport::Sse,
            Transport::Longpoll,
            Transport::Stream,
            Transport::Multipart,
            Transport::Ws,
        ],
        None,
    );
    assert_eq!(s.transports.len(), 5);
    for t in &s.transports {
        assert!(t.delivered > 0, "{t:?}");
        assert_eq!(t.loss(), 0, "{t:?}");
        assert_eq!(t.clients_receiving, 12, "{t:?}");
        assert!(
            t.server_cpu_s > 0.0 && t.server_rss_bytes > 0,
            "peer measured: {t:?}"
        );
    }
    assert_eq!(s.config["peer"]["kind"], "nchan");
    assert!(peer.pids().len() >= 2, "nginx master and a worker");
}

#[test]
fn nchan_clients_resume_from_nchan_message_ids_after_resets() {
    if skip() {
        return;
    }
    let (_rt, src) = source(200.0);
    let peer = start(TargetKind::Nchan);
    let s = run(
        &peer,
        &src,
        vec![
            Transport::Sse,
            Transport::Longpoll,
            Transport::Multipart,
            Transport::Stream,
            Transport::Ws,
        ],
        Some("reset=30%"),
    );
    for t in &s.transports {
        assert!(t.delivered > 0, "{t:?}");
        assert!(t.reconnects > 0, "resets happened: {t:?}");
        match t.name.as_str() {
            // No message id in a chunked stream: it restarts from Nchan's newest message, so what
            // it missed (gaps) and the newest message seen again (duplicates) are counted.
            "stream" => assert!(t.gaps + t.duplicates > 0 && t.out_of_order == 0, "{t:?}"),
            // Multipart resumes from its parts' Last-Modified + Etag merged into a message id
            // as Nchan merges its own (see `Cursor::set_part_id`), the others by their ids.
            _ => assert_eq!(t.loss(), 0, "resumed by Nchan's cursor without loss: {t:?}"),
        }
    }
}

#[test]
fn pushpin_delivers_on_its_native_transports() {
    if skip() {
        return;
    }
    let (_rt, src) = source(200.0);
    let peer = start(TargetKind::Pushpin);
    let s = run(
        &peer,
        &src,
        vec![
            Transport::Sse,
            Transport::Stream,
            Transport::Longpoll,
            Transport::Multipart,
        ],
        None,
    );
    // Multipart is not a Pushpin transport: the run leaves it out.
    assert_eq!(s.transports.len(), 3);
    for t in &s.transports {
        assert!(t.delivered > 0, "{t:?}");
        assert_eq!(t.clients_receiving, 12, "{t:?}");
        // Long-poll included: the warm subscriptions keep Pushpin sequencing every channel, so
        // a hold that missed a tick is detected and re-asked (`targets::warm`).
        assert_eq!(t.loss(), 0, "{t:?}");
    }
}

#[test]
fn pushpin_websocket_over_http_delivers_and_resumes() {
    if skip() {
        return;
    }
    let (_rt, src) = source(200.0);
    let peer = start(TargetKind::Pushpin);
    let s = run(&peer, &src, vec![Transport::Ws], None);
    let t = &s.transports[0];
    assert_eq!((t.name.as_str(), t.clients_receiving), ("ws", 12), "{t:?}");
    assert_eq!(t.loss(), 0, "{t:?}");
    assert!(
        !s.config["peer"]["lacks"]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x == "ws")),
        "ws is native: {}",
        s.config["peer"]
    );
    // After resets: the first live tick, then the catch-up up to it from the journal.
    let s = run(&peer, &src, vec![Transport::Ws], Some("reset=30%"));
    let t = &s.transports[0];
    assert!(t.reconnects > 0, "resets happened: {t:?}");
    assert_eq!(t.loss(), 0, "resumed without loss: {t:?}");
}

#[test]
fn pushpin_clients_resume_without_loss_after_resets() {
    if skip() {
        return;
    }
    let (_rt, src) = source(200.0);
    let peer = start(TargetKind::Pushpin);
    let s = run(
        &peer,
        &src,
        vec![Transport::Sse, Transport::Stream, Transport::Longpoll],
        Some("reset=30%"),
    );
    for t in &s.transports {
        assert!(t.delivered > 0, "{t:?}");
        assert!(t.reconnects > 0, "resets happened: {t:?}");
        // SSE by Last-Event-ID, NDJSON by `since`, long-poll by its cursor: each answered from
        // the GRIP backend's journal, then held with `prev-id`s Pushpin checks.
        assert_eq!(t.loss(), 0, "{t:?}");
    }
}
