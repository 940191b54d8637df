//! A tick (or a stream's preamble) in a stream's framing inside one HTTP/1.1 chunk: the bytes
//! the server's own stream would carry.

use std::io::Write;

use bytes::Bytes;
use tickbench_wire::framing::{Encoder, Iframe, Multipart, Ndjson, Sse};
use tickbench_wire::transport::Framing;

/// One tick framed in `framing` inside an HTTP/1.1 chunk.
pub fn chunk(framing: Framing, seq: u64, json: &[u8], buf: &mut Vec<u8>) -> Bytes {
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
pub fn frame(buf: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
    let mut body = Vec::with_capacity(256);
    f(&mut body);
    if body.is_empty() {
        return;
    }
    let _ = write!(buf, "{:x}\r\n", body.len());
    buf.extend_from_slice(&body);
    buf.extend_from_slice(b"\r\n");
}
