//! What the four streaming parsers produce ([`Frame`]), how they fail ([`ParseError`]), and the
//! two helpers they share: a small pending-bytes buffer and the "tick or control object" decoder.

use tickbench_wire::{Control, Gap, Tick};

/// Largest frame (line, event, part, script) a parser buffers before giving up. Ticks are ~150
/// bytes and control frames smaller, so anything near this is garbage, not data: failing keeps a
/// misbehaving server from growing a client's memory without bound.
pub const MAX_FRAME: usize = 256 * 1024;

/// One decoded unit of a streaming transport.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A tick.
    Tick(Tick),
    /// The server declared ticks `from..=to` lost to its journal bound.
    Gap(Gap),
    /// Idle keep-alive with the server clock (µs); SSE comments other than `hb` are not reported.
    Heartbeat(u64),
    /// The server is going away; reconnect with the cursor.
    Bye(String),
    /// SSE `retry:` field: the server's reconnection delay, ms.
    Retry(u64),
    /// The transport's own end mark (multipart close delimiter): no more frames on this response.
    End,
}

/// Why a chunk of stream could not be decoded. The client counts it as
/// [`ErrorKind::Parse`](super::ErrorKind::Parse) and reconnects from its cursor.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The frame's payload is not the JSON the protocol promises.
    #[error("invalid JSON in frame: {0}")]
    Json(#[from] serde_json::Error),
    /// A frame grew past [`MAX_FRAME`] without ending.
    #[error("frame longer than {MAX_FRAME} bytes")]
    TooLarge,
    /// The framing itself is wrong (missing boundary, unknown call, non-UTF-8 text, ...).
    #[error("malformed frame: {0}")]
    Malformed(&'static str),
}

/// An incremental parser of one stream format: bytes go in as they arrive, frames come out as soon
/// as they are complete, whatever the chunking. One trait so the client loop, the fuzz targets
/// and the tests drive every format the same way.
pub trait FrameParser {
    /// Buffers `chunk` without decoding; take frames with [`FrameParser::next_frame`].
    fn push_bytes(&mut self, chunk: &[u8]);

    /// The next complete frame, if one is buffered.
    fn next_frame(&mut self) -> Option<Result<Frame, ParseError>>;

    /// Buffers `chunk` and yields every frame that is now complete.
    fn push<'a>(&'a mut self, chunk: &[u8]) -> impl Iterator<Item = Result<Frame, ParseError>> + 'a
    where
        Self: Sized,
    {
        self.push_bytes(chunk);
        std::iter::from_fn(move || self.next_frame())
    }
}

impl From<Control> for Frame {
    fn from(c: Control) -> Self {
        match c {
            Control::Gap(g) => Frame::Gap(g),
            Control::Heartbeat(ts) => Frame::Heartbeat(ts),
            Control::Bye(reason) => Frame::Bye(reason),
        }
    }
}

/// Decodes one JSON object that is either a tick or a one-key control frame (NDJSON lines and
/// multipart bodies). Looks at the first key instead of trying both shapes, so a tick costs one
/// parse and a malformed tick reports the tick's error, not the control frame's.
pub fn decode_object(bytes: &[u8]) -> Result<Frame, ParseError> {
    match first_key(bytes) {
        Some(b"gap" | b"heartbeat" | b"bye") => {
            Ok(serde_json::from_slice::<Control>(bytes)?.into())
        }
        _ => Ok(Frame::Tick(serde_json::from_slice(bytes)?)),
    }
}

/// The first key of a JSON object, without unescaping (control keys need none).
fn first_key(bytes: &[u8]) -> Option<&[u8]> {
    let s = bytes
        .trim_ascii_start()
        .strip_prefix(b"{")?
        .trim_ascii_start();
    let s = s.strip_prefix(b"\"")?;
    let end = s.iter().position(|&b| b == b'"' || b == b'\\')?;
    Some(&s[..end])
}

/// Bytes received but not yet consumed by a parser. Each push appends the chunk after dropping
/// what was consumed, so the buffer only ever holds one partial frame plus one chunk; the copy is
/// cheap next to the JSON parse and keeps every parser a plain slice scanner.
///
/// Searches remember how far they got (`scanned`), so a frame that trickles in byte by byte is
/// scanned once in total, not once per byte (which would be quadratic in the frame size).
#[derive(Debug, Default)]
pub(crate) struct Pending {
    buf: Vec<u8>,
    pos: usize,
    /// Leading bytes of `rest()` already searched without a match.
    scanned: usize,
    /// An unrecoverable framing error happened: nothing is buffered any more, and the parser
    /// that owns this buffer yields no further frames (the client reconnects).
    poisoned: bool,
}

/// An idle client should not keep a large buffer alive because of one large burst.
const SHRINK_ABOVE: usize = 64 * 1024;

impl Pending {
    /// Appends `chunk`; ignored once poisoned.
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        if self.poisoned {
            return;
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        if self.buf.is_empty() && self.buf.capacity() > SHRINK_ABOVE {
            self.buf = Vec::new();
        }
        self.buf.extend_from_slice(chunk);
    }

    pub(crate) fn rest(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.buf.len() - self.pos);
        self.pos += n;
        self.scanned = self.scanned.saturating_sub(n);
    }

    /// After an unrecoverable framing error: forgets everything buffered and ignores what
    /// arrives from now on.
    pub(crate) fn poison(&mut self) {
        self.buf = Vec::new();
        self.pos = 0;
        self.scanned = 0;
        self.poisoned = true;
    }

    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Forgets search progress (the parser is about to look for something else).
    pub(crate) fn reset_scan(&mut self) {
        self.scanned = 0;
    }

    /// Index in `rest()` of the first byte matching `pred`.
    pub(crate) fn find_byte(&mut self, pred: impl Fn(u8) -> bool) -> Option<usize> {
        let rest = &self.buf[self.pos..];
        let start = self.scanned.min(rest.len());
        match rest[start..].iter().position(|&b| pred(b)) {
            Some(i) => Some(start + i),
            None => {
                self.scanned = rest.len();
                None
            }
        }
    }

    /// Index in `rest()` of the first occurrence of `needle`.
    pub(crate) fn find_seq(&mut self, needle: &[u8]) -> Option<usize> {
        let rest = &self.buf[self.pos..];
        let start = self
            .scanned
            .saturating_sub(needle.len().saturating_sub(1))
            .min(rest.len());
        match find(&rest[start..], needle) {
            Some(i) => Some(start + i),
            None => {
                self.scanned = rest.len();
                None
            }
        }
    }

    /// The next line: its length without the `\n` and an optional `\r` before it, and how many
    /// bytes it spans including the terminator; `None` when no complete line is buffered yet.
    pub(crate) fn line(&mut self) -> Option<(usize, usize)> {
        let nl = self.find_byte(|b| b == b'\n')?;
        let len = if nl > 0 && self.rest()[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        Some((len, nl + 1))
    }
}

/// Position of `needle` in `hay` (short needles; naive scan is fine at these sizes).
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&b| b == first)
        {
            None => return None,
            Some(off) => {
                i += off;
                if &hay[i..i + needle.len()] == needle {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;

    pub const TICK1: &str = r#"{"seq":1,"sseq":1,"sym":"AAPL","bid":189.21,"ask":189.23,"last":189.22,"size":300,"ts":1795397385123456}"#;
    pub const TICK2: &str = r#"{"seq":2,"sseq":1,"sym":"MSFT","bid":410.5,"ask":410.52,"last":410.51,"size":100,"ts":1795397385123999}"#;

    /// Feeds `input` split at every byte position (two chunks) and checks the frames equal the
    /// one-chunk result; also feeds it byte by byte.
    pub fn every_split<P, F>(input: &[u8], mut new: F) -> Vec<Frame>
    where
        F: FnMut() -> P,
        P: FnMut(&[u8]) -> Vec<Result<Frame, String>>,
    {
        let whole: Vec<_> = new()(input);
        for cut in 0..=input.len() {
            let mut p = new();
            let mut got = p(&input[..cut]);
            got.extend(p(&input[cut..]));
            assert_eq!(got, whole, "split at {cut}");
        }
        let mut p = new();
        let bytewise: Vec<_> = input
            .iter()
            .flat_map(|b| p(std::slice::from_ref(b)))
            .collect();
        assert_eq!(bytewise, whole, "byte by byte");
        whole.into_iter().map(|r| r.unwrap()).collect()
    }

    pub fn tick(seq: u64, sseq: u64, sym: &str) -> Tick {
        Tick {
            seq,
            sseq,
            sym: sym.into(),
            bid: 1.0,
            ask: 1.01,
            last: 1.0,
            size: 10,
            ts: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_ticks_and_controls() {
        let f = decode_object(test_util::TICK1.as_bytes()).unwrap();
        assert!(matches!(f, Frame::Tick(ref t) if t.seq == 1 && t.sym == "AAPL"));
        assert_eq!(
            decode_object(br#"{"gap":{"from":1,"to":9}}"#).unwrap(),
            Frame::Gap(Gap { from: 1, to: 9 })
        );
        assert_eq!(
            decode_object(br#" { "heartbeat" : 5}"#).unwrap(),
            Frame::Heartbeat(5)
        );
        assert_eq!(
            decode_object(br#"{"bye":"x"}"#).unwrap(),
            Frame::Bye("x".into())
        );
        assert!(decode_object(b"{").is_err());
        assert!(decode_object(b"").is_err());
        assert!(decode_object(br#"{"seq":1}"#).is_err());
    }

    #[test]
    fn pending_scans_incrementally() {
        let mut p = Pending::default();
        p.push(b"abc");
        assert_eq!(p.line(), None);
        p.push(b"d\r\nef");
        assert_eq!(p.line(), Some((4, 6)));
        p.consume(6);
        assert_eq!(p.line(), None);
        p.push(b"\n");
        assert_eq!(p.line(), Some((2, 3)));
        let mut p = Pending::default();
        p.push(b"xx</scr");
        assert_eq!(p.find_seq(b"</script>"), None);
        p.push(b"ipt>");
        assert_eq!(p.find_seq(b"</script>"), Some(2));
    }

    #[test]
    fn find_works() {
        assert_eq!(find(b"abc<script>", b"<script>"), Some(3));
        assert_eq!(find(b"<scrip", b"<script>"), None);
        assert_eq!(find(b"<<script>", b"<script>"), Some(1));
        assert_eq!(find(b"", b"x"), None);
    }
}
