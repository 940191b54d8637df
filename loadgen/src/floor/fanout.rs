//! [`FanoutFloor`]: the least a fan-out server can cost on this machine, measured like a
//! transport.
//!
//! A minimal HTTP/1.1 stream writer with no runtime and no framework: an acceptor thread, a
//! generator thread running the same seeded market as the server (same symbols, seed and rate,
//! so the same ticks with the same JSON), and one writer thread per core owning its share of the
//! connections. Each tick is framed once (the transport's own encoder from
//! `tickbench_wire::framing`, inside an HTTP chunk, so a delivery carries the bytes the server's
//! would), handed to every writer, and written to each connection whose watchlist names its
//! symbol with one non-blocking `write`. The load generator's clients of that transport read it
//! with their usual parser and checks, so the phase measures the kernel's loopback TCP path, the
//! cross-thread hand-offs and the client itself: a server cannot do less per delivery.
//!
//! Each writer waits on one epoll set ([`writer`]): its inbox (an eventfd rung after every
//! message) and its sockets, edge-triggered. It reads request heads without blocking (the
//! acceptor only accepts, so one slow client never holds up the next one's answer), writes what a
//! full socket did not take from that connection's backlog as soon as the socket is writable
//! again (closed past [`MAX_BACKLOG`]), and takes everything queued at each wake-up: a writer
//! that fell behind gives a connection all its pending ticks in one `writev`, as a server reading
//! by cursor does (while it keeps up that is one write per delivery). The earlier design (a
//! blocking channel per writer, heads read by the acceptor, backlogs retried on the next tick)
//! read 1.4-3 s p50 at 10,000 clients where the server read 80-150 ms: heads read one at a time
//! took ~10 s to admit 10,000 clients, a writer once behind never caught up, and past the
//! open-file limit `accept` failed and was retried in a tight loop.
//!
//! Each thread's CPU (`getrusage(RUSAGE_THREAD)`, user + system) is published after every unit
//! of work (a writer's: every wake-up); [`FanoutFloor::cpu`] is their sum, the floor's "server
//! CPU". Its sockets are this process's descriptors, beside the clients': a run skips the floor
//! when the open-file limit cannot hold both, and the acceptor backs off instead of spinning when
//! `accept` fails. A stream starts at the current head (it ignores `since`) and ends when its
//! connection closes.
//!
//! # Layout
//! - [`shared`]: the stop flag, per-thread CPU and counters the threads share.
//! - [`conn`]: one connection: its request head, answer, deliveries and backlog.
//! - [`writer`]: a writer thread's epoll loop over its inbox and its connections.

mod conn;
mod shared;
mod writer;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tickbench_server::frames::{chunk_bytes, Framed};
use tickbench_server::journal::encode_tick;
use tickbench_server::market::{Market, Universe};
use tickbench_wire::{now_micros, Transport};

pub use conn::MAX_BACKLOG;
use shared::{thread_cpu_ns, Shared};
use writer::{Inbox, Msg};

/// Longest single sleep of the generator, so it notices a stop promptly.
const MAX_SLEEP: Duration = Duration::from_millis(50);
/// The acceptor's pause after a failed `accept` (e.g. out of descriptors: the connection stays
/// queued and `accept` would fail again at once).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// What the floor serves.
#[derive(Debug, Clone)]
pub struct FanoutConfig {
    /// The transport whose format it writes (a streaming one) and whose path it answers.
    pub transport: Transport,
    /// The market, as the server's `/symbols` reports it.
    pub symbols: usize,
    pub seed: u64,
    /// Ticks per second (> 0).
    pub rate: f64,
    /// Writer threads (0: one per core).
    pub writers: usize,
}

/// The running floor; stopped and joined on drop.
pub struct FanoutFloor {
    addr: SocketAddr,
    shared: Arc<Shared>,
    inboxes: Vec<Inbox>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for FanoutFloor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanoutFloor")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FanoutFloor {
    /// Binds 127.0.0.1:0 and starts the threads.
    pub fn start(cfg: FanoutConfig) -> std::io::Result<FanoutFloor> {
        let Some(framed) = Framed::of(cfg.transport.framing()) else {
            return Err(std::io::Error::other(format!(
                "the fan-out floor writes a stream; {} answers requests",
                cfg.transport
            )));
        };
        if cfg.rate.is_nan() || cfg.rate <= 0.0 {
            return Err(std::io::Error::other("the fan-out floor needs a tick rate"));
        }
        let writers = if cfg.writers == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            cfg.writers
        };
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(2 + writers));
        let universe = Arc::new(Universe::new(cfg.symbols, cfg.seed));
        let mut floor = FanoutFloor {
            addr,
            shared: shared.clone(),
            inboxes: Vec::new(),
            threads: Vec::new(),
        };
        // From here a failure drops `floor`, which stops and joins what started.
        for w in 0..writers {
            let (inbox, thread) =
                writer::start(2 + w, shared.clone(), cfg.transport, universe.clone())?;
            floor.inboxes.push(inbox);
            floor.threads.push(thread);
        }
        let (sh, u, t) = (shared.clone(), universe, floor.inboxes.clone());
        let (seed, rate) = (cfg.seed, cfg.rate);
        floor.threads.push(spawn("floor-generate", move || {
            generate(&sh, &u, seed, rate, framed, &t)
        })?);
        let (sh, t) = (shared, floor.inboxes.clone());
        floor.threads.push(spawn("floor-accept", move || {
            accept_loop(listener, &sh, &t)
        })?);
        Ok(floor)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// CPU time of every floor thread so far (as of each one's last unit of work).
    pub fn cpu(&self) -> Duration {
        Duration::from_nanos(
            self.shared
                .cpu_ns
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .sum(),
        )
    }

    /// The seq the next tick gets (ticks published so far + 1).
    pub fn next_seq(&self) -> u64 {
        self.shared.next.load(Ordering::Relaxed)
    }

    /// Deliveries written so far.
    pub fn deliveries(&self) -> u64 {
        self.shared.deliveries.load(Ordering::Relaxed)
    }

    /// Deliveries that found their socket full (and went, at least partly, into a backlog).
    pub fn stalls(&self) -> u64 {
        self.shared.stalls.load(Ordering::Relaxed)
    }

    /// Connections closed for not reading or failing.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for FanoutFloor {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for i in &self.inboxes {
            i.wake();
        }
        // Wakes the acceptor's blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name(name.to_string()).spawn(f)
}

fn generate(
    sh: &Shared,
    universe: &Universe,
    seed: u64,
    rate: f64,
    framed: Framed,
    inboxes: &[Inbox],
) {
    if let Err(e) = nix::sys::prctl::set_timerslack(1) {
        tracing::debug!("fan-out floor: could not set timer slack: {e}");
    }
    let mut market = Market::new(universe, seed, rate);
    let mut sseq = vec![0u64; universe.len()];
    let base = Instant::now();
    let base_us = now_micros();
    let (mut json, mut buf) = (Vec::with_capacity(256), Vec::with_capacity(512));
    let mut seq = 1u64;
    while let Some((offset, raw)) = market.next_scheduled() {
        let ts = base_us + (offset * 1e6) as u64;
        let due = base + Duration::from_micros(ts - base_us);
        loop {
            if sh.stop.load(Ordering::Relaxed) {
                return;
            }
            let now = Instant::now();
            if due <= now {
                break;
            }
            std::thread::sleep((due - now).min(MAX_SLEEP));
        }
        let s = &mut sseq[raw.sym as usize];
        *s += 1;
        json.clear();
        encode_tick(&mut json, seq, *s, universe.name(raw.sym), &raw, ts);
        buf.clear();
        framed.tick(&mut buf, seq, &json);
        let b = chunk_bytes(&buf);
        seq += 1;
        sh.next.store(seq, Ordering::Relaxed);
        for i in inboxes {
            i.send(Msg::Tick(raw.sym, b.clone()));
        }
        sh.cpu_ns[0].store(thread_cpu_ns(), Ordering::Relaxed);
    }
}

/// Accepts and deals connections round robin to the writers, which read their request heads.
fn accept_loop(listener: TcpListener, sh: &Shared, inboxes: &[Inbox]) {
    let mut next_writer = 0;
    for s in listener.incoming() {
        if sh.stop.load(Ordering::Relaxed) {
            return;
        }
        match s {
            Ok(s) => {
                inboxes[next_writer % inboxes.len()].send(Msg::Conn(s));
                next_writer += 1;
            }
            Err(e) => {
                tracing::debug!("fan-out floor: accept failed: {e}");
                std::thread::sleep(ACCEPT_BACKOFF);
            }
        }
        sh.cpu_ns[1].store(thread_cpu_ns(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickbench_wire::framing::{Frame, FrameParser, SseParser};

    fn floor(transport: Transport) -> FanoutFloor {
        FanoutFloor::start(FanoutConfig {
            transport,
            symbols: 20,
            seed: 7,
            rate: 400.0,
            writers: 2,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn streams_the_watched_ticks_in_order_with_the_clients_parser() {
        let f = floor(Transport::Sse);
        let universe = Universe::new(20, 7);
        let name = universe.name(0).to_string();
        let mut resp = reqwest::get(format!("{}/sse?symbols={name}", f.url()))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers().contains_key("x-tickbench-next"));
        let mut parser = SseParser::new();
        let mut sseqs = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while sseqs.len() < 5 {
            let chunk = tokio::time::timeout_at(deadline, resp.chunk())
                .await
                .expect("ticks within 20 s")
                .unwrap()
                .expect("the stream stays open");
            parser.push_bytes(&chunk);
            while let Some(frame) = parser.next_frame() {
                match frame.unwrap() {
                    Frame::Tick(t) => {
                        assert_eq!(t.sym, name);
                        assert!(t.ts > 0);
                        sseqs.push(t.sseq);
                    }
                    Frame::Retry(_) => {}
                    other => panic!("only ticks expected, got {other:?}"),
                }
            }
        }
        assert!(sseqs.windows(2).all(|w| w[1] == w[0] + 1), "{sseqs:?}");
        // A writer adds its pass's deliveries to the count after its last write of the pass:
        // the client can have its ticks a moment before they are counted.
        while f.deliveries() < 5 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(f.deliveries() >= 5);
        assert!(f.next_seq() > 5);
        drop(resp);
    }

    #[tokio::test]
    async fn answers_other_paths_and_bad_watchlists_with_errors() {
        let f = floor(Transport::Stream);
        let r = reqwest::get(format!("{}/sse", f.url())).await.unwrap();
        assert_eq!(r.status(), 404);
        let r = reqwest::get(format!("{}/stream?symbols=NOPE", f.url()))
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("unknown symbol NOPE"));
        assert!(FanoutFloor::start(FanoutConfig {
            transport: Transport::Poll,
            symbols: 2,
            seed: 1,
            rate: 1.0,
            writers: 1
        })
        .is_err());
    }

    /// The writer wakes for a writable socket, not only for the next tick: a reader that stops
    /// until its socket is full and then reads again gets everything, with no further tick
    /// published (the generator's rate is so low that it publishes none during the test).
    #[test]
    fn a_backlog_is_written_when_its_reader_reads_again_without_another_tick() {
        use bytes::Bytes;
        use std::io::{Read, Write};
        let f = FanoutFloor::start(FanoutConfig {
            transport: Transport::Sse,
            symbols: 20,
            seed: 7,
            rate: 1e-9,
            writers: 1,
        })
        .unwrap();
        let mut s = TcpStream::connect(f.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(b"GET /sse HTTP/1.1\r\nhost: floor\r\n\r\n")
            .unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0u8; 64 << 10];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).expect("a response head within 20 s");
            assert!(n > 0, "closed before answering");
            got.extend_from_slice(&buf[..n]);
        }
        assert!(
            got.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&got)
        );
        // A byte no head or preamble contains, so the reader can count the ticks' bytes.
        let tick = Bytes::from(vec![0xfe_u8; 64 << 10]);
        let mut sent = 0u64;
        // Not reading: ticks until one finds the socket full.
        while f.stalls() == 0 {
            assert!(sent < 200, "200 ticks of 64 KiB never filled the socket");
            f.inboxes[0].send(Msg::Tick(0, tick.clone()));
            sent += 1;
            let deadline = Instant::now() + Duration::from_secs(20);
            while f.deliveries() < sent {
                assert!(Instant::now() < deadline, "the writer stopped writing");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        assert_eq!(f.next_seq(), 1, "the generator published a tick");
        // Reading again: the rest arrives from the backlog alone.
        let want = sent * tick.len() as u64;
        let mut ticks_bytes = got.iter().filter(|&&b| b == 0xfe).count() as u64;
        while ticks_bytes < want {
            let n = s
                .read(&mut buf)
                .expect("the backlog is written once the socket drains");
            assert!(n > 0, "closed with {ticks_bytes} of {want} bytes");
            ticks_bytes += buf[..n].iter().filter(|&&b| b == 0xfe).count() as u64;
        }
        assert_eq!(ticks_bytes, want);
        assert_eq!(f.next_seq(), 1);
        assert_eq!(f.dropped(), 0);
    }
}
