//! A fan-out floor writer thread: owns its share of the connections and waits on one epoll set
//! (mio) for its inbox (an eventfd [`Waker`] rung after every message) and for its sockets,
//! edge-triggered, so a backlog is written the moment its socket becomes writable again, not
//! when the next tick happens to arrive.

use std::io::IoSlice;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use bytes::Bytes;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};
use tickbench_server::market::Universe;
use tickbench_wire::Transport;

use super::conn::{Conn, Sent, Service};
use super::shared::{thread_cpu_ns, Shared};

/// The inbox's token; a connection's is its index in the writer's table.
const WAKE: Token = Token(usize::MAX);
/// Most ticks one `writev` carries (well under `IOV_MAX`).
const MAX_IOV: usize = 512;

/// A writer thread's work.
pub enum Msg {
    /// A new connection, its request head not yet read.
    Conn(std::net::TcpStream),
    /// A tick's symbol and its framed bytes (an HTTP chunk).
    Tick(u32, Bytes),
}

/// Where work for one writer goes.
#[derive(Clone)]
pub struct Inbox {
    tx: mpsc::Sender<Msg>,
    waker: Arc<Waker>,
}

impl Inbox {
    pub fn send(&self, m: Msg) {
        if self.tx.send(m).is_ok() {
            self.wake();
        }
    }

    /// Wakes the writer (to see the stop flag).
    pub fn wake(&self) {
        let _ = self.waker.wake();
    }
}

/// Starts writer `me` (its CPU goes to `shared.cpu_ns[me]`).
pub fn start(
    me: usize,
    shared: Arc<Shared>,
    transport: Transport,
    universe: Arc<Universe>,
) -> std::io::Result<(Inbox, JoinHandle<()>)> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
    let (tx, rx) = mpsc::channel();
    let mut w = Writer {
        poll,
        rx,
        conns: Vec::new(),
        free: Vec::new(),
        sh: shared,
        me,
        transport,
        universe,
    };
    let thread = std::thread::Builder::new()
        .name(format!("floor-write-{}", me - 2))
        .spawn(move || w.run())?;
    Ok((Inbox { tx, waker }, thread))
}

struct Writer {
    poll: Poll,
    rx: mpsc::Receiver<Msg>,
    /// Connections by token; `free` holds the unused slots.
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    sh: Arc<Shared>,
    me: usize,
    transport: Transport,
    universe: Arc<Universe>,
}

impl Writer {
    fn run(&mut self) {
        let mut events = Events::with_capacity(1024);
        let mut ticks: Vec<(u32, Bytes)> = Vec::new();
        while !self.sh.stop.load(Ordering::Relaxed) {
            if let Err(e) = self.poll.poll(&mut events, None) {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::warn!("fan-out floor writer: epoll failed: {e}");
                return;
            }
            for ev in events.iter() {
                let i = ev.token().0;
                if ev.token() == WAKE {
                    continue;
                }
                if ev.is_readable() || ev.is_read_closed() {
                    self.readable(i);
                }
                if ev.is_writable() {
                    if let Some(c) = self.conns.get_mut(i).and_then(Option::as_mut) {
                        c.flush();
                    }
                }
                self.close_if_dead(i);
            }
            // Everything queued: when this writer fell behind, a connection gets all its ticks
            // in one write.
            while let Ok(m) = self.rx.try_recv() {
                match m {
                    Msg::Conn(s) => self.add(s),
                    Msg::Tick(sym, b) => ticks.push((sym, b)),
                }
            }
            for batch in ticks.chunks(MAX_IOV) {
                self.fan_out(batch);
            }
            ticks.clear();
            self.sh.cpu_ns[self.me].store(thread_cpu_ns(), Ordering::Relaxed);
        }
    }

    fn add(&mut self, s: std::net::TcpStream) {
        if s.set_nonblocking(true).is_err() || s.set_nodelay(true).is_err() {
            return;
        }
        let mut s = TcpStream::from_std(s);
        let i = self.free.pop().unwrap_or(self.conns.len());
        if self
            .poll
            .registry()
            .register(&mut s, Token(i), Interest::READABLE | Interest::WRITABLE)
            .is_err()
        {
            return;
        }
        if i == self.conns.len() {
            self.conns.push(None);
        }
        self.conns[i] = Some(Conn::new(s));
        // The head may have arrived before the registration.
        self.readable(i);
        self.close_if_dead(i);
    }

    fn readable(&mut self, i: usize) {
        let svc = Service {
            transport: self.transport,
            universe: &self.universe,
            next: self.sh.next.load(Ordering::Relaxed),
        };
        if let Some(c) = self.conns.get_mut(i).and_then(Option::as_mut) {
            if c.on_readable(&svc) == Some(Sent::Stalled) {
                self.sh.stalls.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Each connection's share of `ticks` in one write.
    fn fan_out(&mut self, ticks: &[(u32, Bytes)]) {
        let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(ticks.len());
        let (mut delivered, mut stalls) = (0, 0);
        let mut dead = Vec::new();
        for (i, c) in self.conns.iter_mut().enumerate() {
            let Some(c) = c else { continue };
            slices.clear();
            slices.extend(
                ticks
                    .iter()
                    .filter(|(sym, _)| c.wants(*sym))
                    .map(|(_, b)| IoSlice::new(b)),
            );
            if slices.is_empty() {
                continue;
            }
            delivered += slices.len() as u64;
            if c.send(&slices) == Sent::Stalled {
                stalls += 1;
            }
            if c.is_dead() {
                dead.push(i);
            }
        }
        self.sh.deliveries.fetch_add(delivered, Ordering::Relaxed);
        self.sh.stalls.fetch_add(stalls, Ordering::Relaxed);
        for i in dead {
            self.close_if_dead(i);
        }
    }

    fn close_if_dead(&mut self, i: usize) {
        let Some(slot) = self.conns.get_mut(i) else {
            return;
        };
        if slot.as_ref().is_some_and(Conn::is_dead) {
            if let Some(mut c) = slot.take() {
                let _ = self.poll.registry().deregister(c.stream());
                if c.answered() {
                    self.sh.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            self.free.push(i);
        }
    }
}
