//! [`ResetIo`]: a connection's socket as hyper (and, after an upgrade, a WebSocket session) holds
//! it, which closes with RST instead of FIN when the connection was reset for falling behind.
//!
//! The reset used to take the socket back from hyper (`Connection::into_parts`), which a
//! connection that can be upgraded does not offer; and after an upgrade the socket belongs to the
//! session, not to hyper. So the socket itself knows: whoever drops it last, it sets `SO_LINGER`
//! 0 first if its [`ConnCtl`] says a reset was asked, and the kernel discards what is still
//! buffered for the slow reader (see `transports` § Slow consumers).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::conn::ConnCtl;

/// A TCP stream that closes with RST when its connection's [`ConnCtl`] asked for a reset.
#[derive(Debug)]
pub struct ResetIo {
    tcp: TcpStream,
    ctl: Arc<ConnCtl>,
}

impl ResetIo {
    pub fn new(tcp: TcpStream, ctl: Arc<ConnCtl>) -> Self {
        ResetIo { tcp, ctl }
    }
}

impl Drop for ResetIo {
    fn drop(&mut self) {
        if self.ctl.resetting() {
            if let Err(e) = self.tcp.set_zero_linger() {
                tracing::debug!("SO_LINGER 0: {e}");
            }
        }
    }
}

impl AsyncRead for ResetIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResetIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
