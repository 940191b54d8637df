//! Telling an HTTP/2 client with prior knowledge (h2c, or h2 after TLS) from an HTTP/1.1 one by
//! the first bytes it sends, and handing those bytes on to the protocol's parser ([`Prefixed`]).

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// The HTTP/2 connection preface (RFC 9113 § 3.4).
pub const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The protocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    Http2,
}

/// Reads until the bytes either are the HTTP/2 preface or cannot be (an HTTP/1.1 request line
/// differs at its first byte, so HTTP/1.1 costs no wait). `Ok(None)`: the peer closed first.
/// The caller bounds the wait (the header timeout).
pub async fn detect<I: AsyncRead + Unpin>(
    mut io: I,
) -> std::io::Result<Option<(Protocol, Prefixed<I>)>> {
    let mut buf = Vec::with_capacity(H2_PREFACE.len());
    let mut chunk = [0u8; 24];
    loop {
        let want = H2_PREFACE.len() - buf.len();
        let n = io.read(&mut chunk[..want]).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        let proto = if !H2_PREFACE.starts_with(&buf) {
            Protocol::Http1
        } else if buf.len() == H2_PREFACE.len() {
            Protocol::Http2
        } else {
            continue;
        };
        return Ok(Some((proto, Prefixed::new(buf, io))));
    }
}

/// `inner` with `prefix` (bytes already read from it) put back in front of what it reads next.
#[derive(Debug)]
pub struct Prefixed<I> {
    prefix: Vec<u8>,
    pos: usize,
    inner: I,
}

impl<I> Prefixed<I> {
    pub fn new(prefix: Vec<u8>, inner: I) -> Prefixed<I> {
        Prefixed {
            prefix,
            pos: 0,
            inner,
        }
    }

    /// Puts `bytes` back in front of what is still to be read (bytes read from it and then found
    /// to be another reader's, e.g. hyper's).
    pub fn put_back(&mut self, mut bytes: Vec<u8>) {
        bytes.extend_from_slice(&self.prefix[self.pos..]);
        self.prefix = bytes;
        self.pos = 0;
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Prefixed<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let me = &mut *self;
        if me.pos < me.prefix.len() {
            let n = (me.prefix.len() - me.pos).min(buf.remaining());
            buf.put_slice(&me.prefix[me.pos..me.pos + n]);
            me.pos += n;
            if me.pos == me.prefix.len() {
                me.prefix = Vec::new();
                me.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut me.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Prefixed<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tells_h2_from_h1_and_replays_the_bytes() {
        let mut h2 = H2_PREFACE.to_vec();
        h2.extend_from_slice(b"rest");
        let (p, mut io) = detect(&h2[..]).await.unwrap().unwrap();
        assert_eq!(p, Protocol::Http2);
        let mut all = Vec::new();
        io.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, h2);

        let h1 = b"GET / HTTP/1.1\r\n\r\n";
        let (p, mut io) = detect(&h1[..]).await.unwrap().unwrap();
        assert_eq!(p, Protocol::Http1);
        let mut all = Vec::new();
        io.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, h1);

        assert!(detect(&b"PRI * HT"[..]).await.unwrap().is_none());
    }
}
