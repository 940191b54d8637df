//! One fan-out floor connection: its request head (read without blocking), its answer, and its
//! deliveries (one `write`/`writev` each, what the socket does not take kept in a backlog).

use std::io::{ErrorKind, IoSlice, Read, Write};

use mio::net::TcpStream;
use tickbench_server::frames::{chunk, Framed};
use tickbench_server::journal::SymFilter;
use tickbench_server::market::Universe;
use tickbench_wire::query::Query;
use tickbench_wire::Transport;

/// Most unwritten bytes one connection may hold before it is closed (a stuck reader).
pub const MAX_BACKLOG: usize = 4 << 20;
/// Most bytes of a request head.
const MAX_HEAD: usize = 16 * 1024;

/// Where a connection is.
enum State {
    /// Reading its request head.
    Head(Vec<u8>),
    /// Streaming the symbols it watches.
    Stream(SymFilter),
    /// To be closed (an error answered, the peer gone, a stuck reader).
    Dead,
}

/// What a write found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Everything went out.
    Whole,
    /// The socket was full: the rest waits in the backlog for the socket to become writable.
    Stalled,
}

/// One connection.
pub struct Conn {
    s: TcpStream,
    state: State,
    backlog: Vec<u8>,
    /// Its stream was answered (a close then counts as a dropped stream).
    answered: bool,
}

/// What the writer tells a connection's head about the stream it answers.
pub struct Service<'a> {
    pub transport: Transport,
    pub universe: &'a Universe,
    /// The seq the next tick gets (the `x-tickbench-next` header).
    pub next: u64,
}

impl Conn {
    pub fn new(s: TcpStream) -> Conn {
        Conn {
            s,
            state: State::Head(Vec::with_capacity(1024)),
            backlog: Vec::new(),
            answered: false,
        }
    }

    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.s
    }

    pub fn is_dead(&self) -> bool {
        matches!(self.state, State::Dead)
    }

    /// Its stream was answered with a 200.
    pub fn answered(&self) -> bool {
        self.answered
    }

    /// Streaming and watching `sym`.
    pub fn wants(&self, sym: u32) -> bool {
        match &self.state {
            State::Stream(f) => f.matches(sym),
            State::Head(_) | State::Dead => false,
        }
    }

    /// The socket is readable: the rest of the request head (then the answer), or, once
    /// streaming, whatever the client sends (discarded) or its close.
    pub fn on_readable(&mut self, svc: &Service<'_>) -> Option<Sent> {
        let mut buf = [0u8; 2048];
        loop {
            match self.s.read(&mut buf) {
                Ok(0) => {
                    self.state = State::Dead;
                    return None;
                }
                Ok(n) => {
                    if let State::Head(head) = &mut self.state {
                        head.extend_from_slice(&buf[..n]);
                        if head.windows(4).any(|w| w == b"\r\n\r\n") {
                            let head = std::mem::take(head);
                            return Some(self.answer(&head, svc));
                        }
                        if head.len() > MAX_HEAD {
                            self.state = State::Dead;
                            return None;
                        }
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return None,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.state = State::Dead;
                    return None;
                }
            }
        }
    }

    /// Answers a complete request head: a stream of the service's transport on its path, 404
    /// elsewhere, 400 for a bad watchlist (both closed after the answer).
    fn answer(&mut self, head: &[u8], svc: &Service<'_>) -> Sent {
        let mut out = Vec::with_capacity(2048);
        match stream_head(head, svc, &mut out) {
            Ok(filter) => {
                self.state = State::Stream(filter);
                self.answered = true;
                self.write(&[IoSlice::new(&out)])
            }
            Err((status, msg)) => {
                let _ = write!(
                    out,
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{msg}",
                    msg.len()
                );
                // A small answer into an empty socket: one write, then closed.
                let _ = self.s.write(&out);
                self.state = State::Dead;
                Sent::Whole
            }
        }
    }

    /// One delivery of `ticks` (one, or several when the writer fell behind): one `write` or
    /// `writev`, or onto the backlog behind what is already waiting (the writer flushes it when
    /// the socket becomes writable).
    pub fn send(&mut self, ticks: &[IoSlice<'_>]) -> Sent {
        if !self.backlog.is_empty() {
            for t in ticks {
                self.backlog.extend_from_slice(t);
            }
            self.check_backlog();
            return Sent::Stalled;
        }
        self.write(ticks)
    }

    /// Writes `bufs` with one call; what the socket does not take goes to the backlog.
    fn write(&mut self, bufs: &[IoSlice<'_>]) -> Sent {
        // One buffer (the common case) with `write`, which is `send(2)` on a socket: `writev`
        // goes through the VFS layer (`fdget_pos`, `vfs_writev`), about half a microsecond more
        // per delivery here, which a floor must not pay.
        let r = match bufs {
            [one] => self.s.write(one),
            _ => self.s.write_vectored(bufs),
        };
        let mut done = match r {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
            Err(_) => {
                self.state = State::Dead;
                return Sent::Whole;
            }
        };
        let mut stalled = false;
        for b in bufs {
            if done >= b.len() {
                done -= b.len();
            } else {
                self.backlog.extend_from_slice(&b[done..]);
                done = 0;
                stalled = true;
            }
        }
        self.check_backlog();
        if stalled {
            Sent::Stalled
        } else {
            Sent::Whole
        }
    }

    /// The socket became writable: writes the backlog until it is empty or the socket full.
    pub fn flush(&mut self) {
        let mut done = 0;
        while done < self.backlog.len() {
            match self.s.write(&self.backlog[done..]) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.state = State::Dead;
                    break;
                }
            }
        }
        self.backlog.drain(..done);
    }

    fn check_backlog(&mut self) {
        if self.backlog.len() > MAX_BACKLOG {
            self.state = State::Dead;
        }
    }
}

/// The response head and preamble of a stream for `head` into `out`, with the watchlist; or the
/// error status and message.
fn stream_head(
    head: &[u8],
    svc: &Service<'_>,
    out: &mut Vec<u8>,
) -> Result<SymFilter, (&'static str, String)> {
    let bad = || ("400 Bad Request", r#"{"error":"bad request"}"#.to_string());
    let line = std::str::from_utf8(head)
        .ok()
        .and_then(|h| h.lines().next())
        .ok_or_else(bad)?;
    let target = line.split(' ').nth(1).ok_or_else(bad)?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != svc.transport.path() {
        return Err((
            "404 Not Found",
            r#"{"error":"the fan-out floor serves one path"}"#.to_string(),
        ));
    }
    let filter = watchlist(query, svc.universe)
        .map_err(|e| ("400 Bad Request", format!(r#"{{"error":"{e}"}}"#)))?;
    let framed = Framed::of(svc.transport.framing()).ok_or_else(bad)?;
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\ncontent-type: {}\r\ncache-control: no-cache\r\nx-tickbench-next: {}\r\ntransfer-encoding: chunked\r\n\r\n",
        framed.content_type(),
        svc.next
    );
    let mut preamble = Vec::new();
    framed.preamble(&mut preamble);
    chunk(out, &preamble);
    Ok(filter)
}

/// The `symbols` of a query string as the journal's filter.
fn watchlist(query: &str, universe: &Universe) -> Result<SymFilter, String> {
    let q = Query::parse(query).map_err(|e| e.to_string())?;
    let Some(names) = q.symbols().map_err(|e| e.to_string())? else {
        return Ok(SymFilter::all());
    };
    let mut ids = Vec::new();
    for name in names {
        let name = name.map_err(|e| e.to_string())?;
        ids.push(
            universe
                .lookup(name)
                .ok_or_else(|| format!("unknown symbol {name}"))?,
        );
    }
    Ok(SymFilter::of(&ids, universe.len()))
}
