//! [`Framed`]: the streaming formats the journal frames each tick in once, at publish time, so
//! that a stream's delivery is a reference count and a write instead of formatting per client.
//!
//! The bytes are wire's encoders' ([`tickbench_wire::framing`]); this only names which of them the
//! journal keeps per tick and dispatches to them. A format gets framed once per tick only while
//! at least one stream of it is open (see `Journal::use_framing`), so a run that never opens a
//! multipart stream never pays for multipart frames in time or memory.
//!
//! # Adding a format (e.g. a WebSocket frame payload)
//! Add a variant here, its arms in the `match`es below (the compiler lists them), and map its
//! [`Framing`] to it in [`Framed::of`]: the journal then frames it at publish time and a stream
//! built with `transports::framed` delivers the shared bytes. A format that cannot be framed
//! per tick independently of the connection (say, one with per-connection compression state)
//! maps to `None` and keeps framing per read through `transports::feed`.
//!
//! # HTTP/1.1 chunked framing, pre-encoded
//! A stream written straight to its HTTP/1.1 socket (`crate::direct`) needs each body chunk as
//! `<hex length>\r\n<bytes>\r\n`. The journal keeps every frame in that form ([`chunk`]), so such a
//! delivery is one `write` of one shared buffer; a stream served by hyper (HTTP/2, or a later
//! request on a kept-alive connection) gets the slice inside the chunk framing instead.

use tickbench_wire::framing::{Encoder, Iframe, Multipart, Ndjson, Sse};
use tickbench_wire::transport::Framing;
use tickbench_wire::{Control, Gap};

/// A streaming format framed once per tick; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framed {
    Ndjson,
    Sse,
    Multipart,
    Iframe,
}

impl Framed {
    /// How many there are: the size of every per-format array.
    pub const COUNT: usize = 4;

    /// Every one, in index order.
    pub const ALL: [Framed; Framed::COUNT] = [
        Framed::Ndjson,
        Framed::Sse,
        Framed::Multipart,
        Framed::Iframe,
    ];

    /// The format a transport's framing is framed once in, if it is.
    pub const fn of(f: Framing) -> Option<Framed> {
        match f {
            // A WebSocket message's payload is the tick JSON itself, already shared by the
            // journal; the frame header is the WebSocket library's, per message.
            Framing::Batch | Framing::Jsonp | Framing::WebSocket => None,
            Framing::Ndjson => Some(Framed::Ndjson),
            Framing::Sse => Some(Framed::Sse),
            Framing::Multipart => Some(Framed::Multipart),
            Framing::Iframe => Some(Framed::Iframe),
        }
    }

    /// Its index in per-format arrays.
    pub const fn index(self) -> usize {
        match self {
            Framed::Ndjson => 0,
            Framed::Sse => 1,
            Framed::Multipart => 2,
            Framed::Iframe => 3,
        }
    }

    /// Appends one tick (its JSON, with its seq) in this format.
    pub fn tick(self, buf: &mut Vec<u8>, seq: u64, json: &[u8]) {
        match self {
            Framed::Ndjson => Ndjson::tick(buf, seq, json),
            Framed::Sse => Sse::tick(buf, seq, json),
            Framed::Multipart => Multipart::tick(buf, seq, json),
            Framed::Iframe => Iframe::tick(buf, seq, json),
        }
    }

    /// Appends one control frame in this format.
    pub fn control(self, buf: &mut Vec<u8>, c: &Control) {
        match self {
            Framed::Ndjson => Ndjson::control(buf, c),
            Framed::Sse => Sse::control(buf, c),
            Framed::Multipart => Multipart::control(buf, c),
            Framed::Iframe => Iframe::control(buf, c),
        }
    }

    /// What a response in this format starts with (empty when nothing).
    pub fn preamble(self, buf: &mut Vec<u8>) {
        match self {
            Framed::Ndjson => Ndjson::preamble(buf),
            Framed::Sse => Sse::preamble(buf),
            Framed::Multipart => Multipart::preamble(buf),
            Framed::Iframe => Iframe::preamble(buf),
        }
    }

    /// The response's `Content-Type`.
    pub const fn content_type(self) -> &'static str {
        match self {
            Framed::Ndjson => Ndjson::CONTENT_TYPE,
            Framed::Sse => Sse::CONTENT_TYPE,
            Framed::Multipart => Multipart::CONTENT_TYPE,
            Framed::Iframe => Iframe::CONTENT_TYPE,
        }
    }

    /// One control frame as its own buffer (gap notices, heartbeats, `bye`: off the per-tick
    /// path).
    pub fn control_bytes(self, c: &Control) -> bytes::Bytes {
        let mut buf = Vec::with_capacity(128);
        self.control(&mut buf, c);
        buf.into()
    }

    /// A gap notice as its own buffer.
    pub fn gap_bytes(self, g: Gap) -> bytes::Bytes {
        self.control_bytes(&Control::Gap(g))
    }
}

/// The chunk that ends an HTTP/1.1 chunked body.
pub const CHUNK_END: &[u8] = b"0\r\n\r\n";

/// Appends `body` as one HTTP/1.1 chunk (`<hex length>\r\n<body>\r\n`) and returns the length of
/// its header (hex digits and CRLF). An empty body would read as the end chunk: appends nothing.
pub fn chunk(buf: &mut Vec<u8>, body: &[u8]) -> usize {
    if body.is_empty() {
        return 0;
    }
    let before = buf.len();
    // Infallible: writing to a Vec.
    let _ = std::io::Write::write_fmt(buf, format_args!("{:x}\r\n", body.len()));
    let hdr = buf.len() - before;
    buf.extend_from_slice(body);
    buf.extend_from_slice(b"\r\n");
    hdr
}

/// `body` as one HTTP/1.1 chunk in its own buffer (control frames, preambles: off the per-tick
/// path).
pub fn chunk_bytes(body: &[u8]) -> bytes::Bytes {
    let mut buf = Vec::with_capacity(body.len() + 12);
    chunk(&mut buf, body);
    buf.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_frames_a_tick_as_its_encoder_does() {
        let json = br#"{"seq":7}"#;
        for f in Framed::ALL {
            assert_eq!(Framed::ALL[f.index()], f);
            let mut ours = Vec::new();
            f.tick(&mut ours, 7, json);
            let mut theirs = Vec::new();
            match f {
                Framed::Ndjson => Ndjson::tick(&mut theirs, 7, json),
                Framed::Sse => Sse::tick(&mut theirs, 7, json),
                Framed::Multipart => Multipart::tick(&mut theirs, 7, json),
                Framed::Iframe => Iframe::tick(&mut theirs, 7, json),
            }
            assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn chunks_are_http_1_1_chunked_framing() {
        let mut buf = b"x".to_vec();
        let body = [b'a'; 300];
        assert_eq!(chunk(&mut buf, &body), 5);
        assert_eq!(&buf[..6], b"x12c\r\n");
        assert_eq!(&buf[6..306], &body[..]);
        assert_eq!(&buf[306..], b"\r\n");
        assert_eq!(chunk(&mut buf, b""), 0, "an empty chunk would end the body");
        assert_eq!(&chunk_bytes(b"hi")[..], b"2\r\nhi\r\n");
    }
}
