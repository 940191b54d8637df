//! [`FanoutFloor`]: the least a fan-out server can cost on this machine, measured like a
//! transport.
//!
//! Longer than the ~500 lines a file here aims at: the acceptor, the writers and the request
//! parsing are one small server that must stay in one place to stay minimal; half is tests.
//!
//! A minimal HTTP/1.1 stream writer with no runtime and no framework: an acceptor thread, a
//! generator thread running the same seeded market as the server (same symbols, seed and rate,
//! so the same ticks with the same JSON), and one writer thread per core owning its share of the
//! connections. Each tick is framed once (the transport's own encoder from
//! `tickbench_wire::framing`, inside an HTTP chunk, so a delivery carries the bytes the server's
//! would), handed to every writer, and written to each connection whose watchlist names its
//! symbol with one `write` (non-blocking; what a socket does not take waits in that connection's
//! backlog, closed past [`MAX_BACKLOG`]). The load generator's clients of that transport read it
//! with their usual parser and checks, so the phase measures the kernel's loopback TCP path, the
//! cross-thread hand-offs and the client itself: a server cannot do less per delivery.
//!
//! Each thread's CPU (`getrusage(RUSAGE_THREAD)`, user + system) is published after every unit
//! of work; [`FanoutFloor::cpu`] is their sum, the floor's "server CPU". A stream starts at the
//! current head (it ignores `since`) and ends when its connection closes.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tickbench_server::journal::encode_tick;
use tickbench_server::market::{Market, Universe};
use tickbench_wire::framing::{Encoder, Iframe, Multipart, Ndjson, Sse};
use tickbench_wire::query::Query;
use tickbench_wire::transport::Framing;
use tickbench_wire::{now_micros, Transport};

/// Most unwritten bytes one connection may hold before it is closed (a stuck reader).
pub const MAX_BACKLOG: usize = 4 << 20;
/// Longest single sleep of the generator, so it notices a stop promptly.
const MAX_SLEEP: Duration = Duration::from_millis(50);
/// Most bytes of a request head.
const MAX_HEAD: usize = 16 * 1024;

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

/// One thread's CPU time so far, ns.
fn thread_cpu_ns() -> u64 {
    use nix::sys::resource::{getrusage, UsageWho};
    getrusage(UsageWho::RUSAGE_THREAD)
        .map(|u| {
            let t = |tv: nix::sys::time::TimeVal| {
                tv.tv_sec() as u64 * 1_000_000_000 + tv.tv_usec() as u64 * 1_000
            };
            t(u.user_time()) + t(u.system_time())
        })
        .unwrap_or(0)
}

/// What the threads share.
#[derive(Debug)]
struct Shared {
    stop: AtomicBool,
    /// CPU ns of each thread: generator, acceptor, then the writers.
    cpu_ns: Vec<AtomicU64>,
    /// Seq the next tick gets.
    next: AtomicU64,
    /// Deliveries written (whole or into a backlog).
    deliveries: AtomicU64,
    /// Connections closed because they stopped reading or failed.
    dropped: AtomicU64,
}

/// A writer thread's work.
enum Msg {
    Conn(Box<Conn>),
    /// A tick's symbol and its framed bytes (an HTTP chunk).
    Tick(u32, Bytes),
}

/// One stream.
struct Conn {
    s: TcpStream,
    /// Watched symbol ids as a bitset (`None` = all).
    bits: Option<Vec<u64>>,
    backlog: Vec<u8>,
    dead: bool,
}

impl Conn {
    fn wants(&self, sym: u32) -> bool {
        match &self.bits {
            None => true,
            Some(b) => b
                .get(sym as usize / 64)
                .is_some_and(|w| w & (1 << (sym % 64)) != 0),
        }
    }

    /// One delivery: one `write`, or onto the backlog behind what is already waiting.
    fn send(&mut self, b: &[u8]) {
        if !self.backlog.is_empty() {
            self.backlog.extend_from_slice(b);
            self.flush();
            return;
        }
        match self.s.write(b) {
            Ok(n) if n == b.len() => {}
            Ok(n) => self.backlog.extend_from_slice(&b[n..]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => self.backlog.extend_from_slice(b),
            Err(_) => self.dead = true,
        }
    }

    fn flush(&mut self) {
        match self.s.write(&self.backlog) {
            Ok(n) => {
                self.backlog.drain(..n);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => self.dead = true,
        }
        if self.backlog.len() > MAX_BACKLOG {
            self.dead = true;
        }
    }
}

/// The running floor; stopped and joined on drop.
pub struct FanoutFloor {
    addr: SocketAddr,
    shared: Arc<Shared>,
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
        if !matches!(
            cfg.transport.framing(),
            Framing::Ndjson | Framing::Sse | Framing::Multipart | Framing::Iframe
        ) {
            return Err(std::io::Error::other(format!(
                "the fan-out floor writes a stream; {} answers requests",
                cfg.transport
            )));
        }
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
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            cpu_ns: (0..2 + writers).map(|_| AtomicU64::new(0)).collect(),
            next: AtomicU64::new(1),
            deliveries: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        let universe = Arc::new(Universe::new(cfg.symbols, cfg.seed));
        let mut txs = Vec::new();
        let mut threads = Vec::new();
        for w in 0..writers {
            let (tx, rx) = mpsc::channel();
            txs.push(tx);
            let sh = shared.clone();
            threads.push(spawn(&format!("floor-write-{w}"), move || {
                write_loop(rx, &sh, 2 + w)
            })?);
        }
        let (sh, u, t) = (shared.clone(), universe.clone(), txs.clone());
        let (seed, rate) = (cfg.seed, cfg.rate);
        let framing = cfg.transport.framing();
        threads.push(spawn("floor-generate", move || {
            generate(&sh, &u, seed, rate, framing, &t)
        })?);
        let sh = shared.clone();
        let transport = cfg.transport;
        threads.push(spawn("floor-accept", move || {
            accept_loop(listener, &sh, &universe, transport, &txs)
        })?);
        Ok(FanoutFloor {
            addr,
            shared,
            threads,
        })
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

    /// Connections closed for not reading or failing.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for FanoutFloor {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
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

fn write_loop(rx: mpsc::Receiver<Msg>, sh: &Shared, me: usize) {
    let mut conns: Vec<Conn> = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut msg = Some(first);
        while let Some(m) = msg.take() {
            match m {
                Msg::Conn(c) => conns.push(*c),
                Msg::Tick(sym, b) => {
                    let mut n = 0;
                    for c in conns.iter_mut().filter(|c| c.wants(sym)) {
                        c.send(&b);
                        n += 1;
                    }
                    sh.deliveries.fetch_add(n, Ordering::Relaxed);
                }
            }
            msg = rx.try_recv().ok();
        }
        for c in conns.iter_mut().filter(|c| !c.backlog.is_empty()) {
            c.flush();
        }
        let before = conns.len();
        conns.retain(|c| !c.dead);
        sh.dropped
            .fetch_add((before - conns.len()) as u64, Ordering::Relaxed);
        sh.cpu_ns[me].store(thread_cpu_ns(), Ordering::Relaxed);
        if sh.stop.load(Ordering::Relaxed) {
            break;
        }
    }
}

/// One tick framed in `framing` inside an HTTP/1.1 chunk.
fn chunk(framing: Framing, seq: u64, json: &[u8], buf: &mut Vec<u8>) -> Bytes {
    buf.clear();
    frame(buf, |b| match framing {
        Framing::Ndjson => Ndjson::tick(b, seq, json),
        Framing::Sse => Sse::tick(b, seq, json),
        Framing::Multipart => Multipart::tick(b, seq, json),
        Framing::Iframe => Iframe::tick(b, seq, json),
        Framing::Batch | Framing::Jsonp | Framing::WebSocket => {}
    });
    Bytes::copy_from_slice(buf)
}

/// `f`'s bytes as one HTTP chunk appended to `buf` (nothing when `f` writes nothing).
fn frame(buf: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
    let mut body = Vec::with_capacity(256);
    f(&mut body);
    if body.is_empty() {
        return;
    }
    let _ = write!(buf, "{:x}\r\n", body.len());
    buf.extend_from_slice(&body);
    buf.extend_from_slice(b"\r\n");
}

fn generate(
    sh: &Shared,
    universe: &Universe,
    seed: u64,
    rate: f64,
    framing: Framing,
    txs: &[mpsc::Sender<Msg>],
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
        let b = chunk(framing, seq, &json, &mut buf);
        seq += 1;
        sh.next.store(seq, Ordering::Relaxed);
        for tx in txs {
            let _ = tx.send(Msg::Tick(raw.sym, b.clone()));
        }
        sh.cpu_ns[0].store(thread_cpu_ns(), Ordering::Relaxed);
    }
}

fn accept_loop(
    listener: TcpListener,
    sh: &Shared,
    universe: &Universe,
    transport: Transport,
    txs: &[mpsc::Sender<Msg>],
) {
    let mut next_writer = 0;
    for s in listener.incoming() {
        if sh.stop.load(Ordering::Relaxed) {
            return;
        }
        let Ok(s) = s else { continue };
        if let Some(c) = open(s, sh, universe, transport) {
            let _ = txs[next_writer % txs.len()].send(Msg::Conn(Box::new(c)));
            next_writer += 1;
        }
        sh.cpu_ns[1].store(thread_cpu_ns(), Ordering::Relaxed);
    }
}

/// Reads one request head and answers it: a stream of `transport` on its path, 404 elsewhere,
/// 400 for a bad watchlist.
fn open(mut s: TcpStream, sh: &Shared, universe: &Universe, transport: Transport) -> Option<Conn> {
    s.set_nodelay(true).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).ok()?;
        if n == 0 || head.len() > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = std::str::from_utf8(&head).ok()?.lines().next()?;
    let target = line.split(' ').nth(1)?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let answer = |mut s: TcpStream, status: &str, msg: &str| {
        let _ = write!(
            s,
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{msg}",
            msg.len()
        );
        None
    };
    if path != transport.path() {
        return answer(
            s,
            "404 Not Found",
            r#"{"error":"the fan-out floor serves one path"}"#,
        );
    }
    let bits = match watchlist(query, universe) {
        Ok(b) => b,
        Err(e) => return answer(s, "400 Bad Request", &format!(r#"{{"error":"{e}"}}"#)),
    };
    let framing = transport.framing();
    let content_type = match framing {
        Framing::Ndjson => Ndjson::CONTENT_TYPE,
        Framing::Sse => Sse::CONTENT_TYPE,
        Framing::Multipart => Multipart::CONTENT_TYPE,
        Framing::Iframe => Iframe::CONTENT_TYPE,
        Framing::Batch | Framing::Jsonp | Framing::WebSocket => return None,
    };
    let mut out = Vec::with_capacity(2048);
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncache-control: no-cache\r\nx-tickbench-next: {}\r\ntransfer-encoding: chunked\r\n\r\n",
        sh.next.load(Ordering::Relaxed)
    );
    frame(&mut out, |b| match framing {
        Framing::Ndjson => Ndjson::preamble(b),
        Framing::Sse => Sse::preamble(b),
        Framing::Multipart => Multipart::preamble(b),
        Framing::Iframe => Iframe::preamble(b),
        Framing::Batch | Framing::Jsonp | Framing::WebSocket => {}
    });
    s.write_all(&out).ok()?;
    s.set_nonblocking(true).ok()?;
    Some(Conn {
        s,
        bits,
        backlog: Vec::new(),
        dead: false,
    })
}

/// The `symbols` of a query string as a bitset over symbol ids (`None` = all).
fn watchlist(query: &str, universe: &Universe) -> Result<Option<Vec<u64>>, String> {
    let q = Query::parse(query).map_err(|e| e.to_string())?;
    let Some(names) = q.symbols().map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let mut bits = vec![0u64; universe.len().div_ceil(64)];
    for name in names {
        let name = name.map_err(|e| e.to_string())?;
        let id = universe
            .lookup(name)
            .ok_or_else(|| format!("unknown symbol {name}"))?;
        bits[id as usize / 64] |= 1 << (id % 64);
    }
    Ok(Some(bits))
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
}
