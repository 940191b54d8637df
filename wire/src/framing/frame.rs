//! What every incremental parser yields: [`Frame`]s, [`ParseError`]s, through [`FrameParser`].

use crate::tick::{Control, Gap, Tick};

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

/// Why a chunk of stream (or a batch body) could not be decoded. A client counts it as a parse
/// error and reconnects from its cursor.
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
pub(crate) fn first_key(bytes: &[u8]) -> Option<&[u8]> {
    let s = bytes
        .trim_ascii_start()
        .strip_prefix(b"{")?
        .trim_ascii_start();
    let s = s.strip_prefix(b"\"")?;
    let end = s.iter().position(|&b| b == b'"' || b == b'\\')?;
    Some(&s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK1: &str = r#"{"seq":1,"sseq":1,"sym":"AAPL","bid":189.21,"ask":189.23,"last":189.22,"size":300,"ts":1795397385123456}"#;

    #[test]
    fn decodes_ticks_and_controls() {
        let f = decode_object(TICK1.as_bytes()).unwrap();
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
}
