//! [`RawSocket`]: a plain HTTP/1.1 connection's socket as the fan-out writer reaches it, without
//! owning it.
//!
//! The connection task owns the socket (inside its TLS-less `Prefixed<ResetIo>`) and reads it
//! for the peer closing; while its stream is parked in a shard, the shard writes to the same
//! descriptor. The descriptor is behind a lock that [`ResetIo`](crate::conn::ResetIo) clears
//! before the socket closes, so a write never reaches a closed descriptor, or worse a reused one
//! that now belongs to another client. Why not a shared `tokio::net::TcpStream`: tokio reads and
//! writes through `&TcpStream` only with its `try_` calls, so the connection (hyper, TLS, the
//! direct writer) would need its own `AsyncRead` over them, zero-filling every read buffer;
//! writing with `send(2)` here is one syscall either way, and tokio's readiness stays right (the
//! connection's next write that finds the socket full clears it and waits for the edge).

use std::io::IoSlice;
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex};

use nix::sys::socket::{send, sendmsg, MsgFlags, SockaddrStorage};

/// See the module docs; cloned into every shard member of the connection.
#[derive(Debug, Clone, Default)]
pub struct RawSocket(Arc<Mutex<Option<RawFd>>>);

impl RawSocket {
    /// The socket `fd`, reachable until [`RawSocket::close`].
    pub fn new(fd: RawFd) -> RawSocket {
        RawSocket(Arc::new(Mutex::new(Some(fd))))
    }

    /// No write reaches the descriptor after this returns: call before closing it.
    pub fn close(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Writes `bufs` with one non-blocking `send`/`sendmsg` (no `SIGPIPE`): the bytes written,
    /// 0 when the socket is full, an error when it failed or was closed.
    pub fn send(&self, bufs: &[IoSlice<'_>]) -> std::io::Result<usize> {
        let g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let Some(fd) = *g else {
            return Err(std::io::ErrorKind::NotConnected.into());
        };
        let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
        let r = match bufs {
            [one] => send(fd, one, flags),
            _ => sendmsg::<SockaddrStorage>(fd, bufs, &[], flags, None),
        };
        match r {
            Ok(n) => Ok(n),
            Err(nix::errno::Errno::EAGAIN) => Ok(0),
            Err(nix::errno::Errno::EINTR) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::fd::AsRawFd;

    #[test]
    fn writes_until_closed_then_refuses() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (mut s, _) = l.accept().unwrap();
        let raw = RawSocket::new(c.as_raw_fd());
        let n = raw
            .send(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")])
            .unwrap();
        assert_eq!(n, 4);
        assert_eq!(raw.send(&[IoSlice::new(b"e")]).unwrap(), 1);
        let mut got = [0u8; 5];
        s.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"abcde");
        raw.close();
        assert!(raw.send(&[IoSlice::new(b"x")]).is_err());
    }
}
