//! Writing to a plain HTTP/1.1 connection's socket from a shard, without owning it.
//!
//! The connection task owns the socket (inside its TLS-less `Prefixed<ResetIo>`) and reads it
//! for the peer closing; while its stream is parked, a shard writes to the same descriptor,
//! under the connection's [`Slot`](super::Slot) lock, which the socket clears before it closes.
//! Why not a shared `tokio::net::TcpStream`: tokio reads and writes through `&TcpStream` only
//! with its `try_` calls, so the connection (hyper, TLS, the direct writer) would need its own
//! `AsyncRead` over them, zero-filling every read buffer; writing with `send(2)` here is one
//! syscall either way, and tokio's readiness stays right (the connection's next write that finds
//! the socket full clears it and waits for the edge). `send` rather than `writev` for one
//! buffer: `writev` goes through the VFS layer, measurably more per delivery.

use std::io::IoSlice;
use std::os::fd::RawFd;

use nix::sys::socket::{sendmsg, MsgFlags, SockaddrStorage};

/// Writes `bufs` to `fd` with one non-blocking `send`/`sendmsg` (no `SIGPIPE`): the bytes
/// written, 0 when the socket is full, or the error (`NotConnected` once the socket closed,
/// `fd` being `None`). The caller holds the slot's lock, which keeps `fd` open meanwhile.
pub fn send(fd: Option<RawFd>, bufs: &[IoSlice<'_>]) -> std::io::Result<usize> {
    let Some(fd) = fd else {
        return Err(std::io::ErrorKind::NotConnected.into());
    };
    let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
    let r = match bufs {
        [one] => nix::sys::socket::send(fd, one, flags),
        _ => sendmsg::<SockaddrStorage>(fd, bufs, &[], flags, None),
    };
    match r {
        Ok(n) => Ok(n),
        Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Slot;
    use super::send;
    use std::io::{IoSlice, Read};
    use std::os::fd::AsRawFd;

    #[test]
    fn writes_until_closed_then_refuses() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (mut s, _) = l.accept().unwrap();
        let slot = Slot::new(c.as_raw_fd());
        let n = send(
            slot.lock().fd(),
            &[IoSlice::new(b"ab"), IoSlice::new(b"cd")],
        )
        .unwrap();
        assert_eq!(n, 4);
        assert_eq!(send(slot.lock().fd(), &[IoSlice::new(b"e")]).unwrap(), 1);
        let mut got = [0u8; 5];
        s.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"abcde");
        slot.close();
        assert!(send(slot.lock().fd(), &[IoSlice::new(b"x")]).is_err());
    }
}
