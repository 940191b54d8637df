//! Both sides of Server-Sent Events (`GET /sse`): [`Sse`] writes, [`SseParser`] reads.
//!
//! tickbench's events: `retry: 2000` first, then one event of the default type per tick (`id:` =
//! its seq, `data:` = its JSON), `event: gap` with a [`Gap`] JSON, `event: bye` with the reason
//! as text, and heartbeats as `: hb TS` comments (a comment, so a browser's `EventSource` stays
//! quiet while the connection is kept alive).
//!
//! The parser decodes the way the HTML spec's event-stream interpretation says a browser does:
//! lines end in CRLF, LF or CR; `data:` lines accumulate (joined with `\n`); a blank line
//! dispatches; `:` starts a comment; one space after the colon is dropped; a field without a
//! colon has an empty value; a leading BOM is skipped.

use std::io::Write as _;

use super::borrowed::owned;
use super::encode::Encoder;
use super::frame::{Frame, FrameParser, Next, ParseError, MAX_FRAME};
use super::pending::Pending;
use crate::tick::{Control, Gap, Tick};

/// How long a browser waits before reconnecting, ms: the `retry:` every response starts with.
pub const RETRY_MS: u64 = 2000;

/// The server's SSE encoder. Writes what axum's `Event` wrote before it (`field: value` lines,
/// a blank line after each event), so clients see the same bytes; unlike it, a value with line
/// breaks becomes one `data:` line per line whatever the line ending, and an empty value still
/// sends one empty `data:` line, so every event dispatches and round-trips.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sse;

impl Sse {
    /// `data: ` lines carrying `value`, one per line of it.
    fn data(buf: &mut Vec<u8>, value: &[u8]) {
        let mut rest = value;
        loop {
            buf.extend_from_slice(b"data: ");
            match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
                None => {
                    buf.extend_from_slice(rest);
                    buf.push(b'\n');
                    return;
                }
                Some(i) => {
                    buf.extend_from_slice(&rest[..i]);
                    buf.push(b'\n');
                    let skip = if rest[i..].starts_with(b"\r\n") { 2 } else { 1 };
                    rest = &rest[i + skip..];
                }
            }
        }
    }
}

impl Encoder for Sse {
    const CONTENT_TYPE: &'static str = "text/event-stream";
    const TICK_OVERHEAD: usize = 32;

    fn preamble(buf: &mut Vec<u8>) {
        let _ = write!(buf, "retry: {RETRY_MS}\n\n");
    }

    fn tick(buf: &mut Vec<u8>, seq: u64, json: &[u8]) {
        let _ = writeln!(buf, "id: {seq}");
        Sse::data(buf, json);
        buf.push(b'\n');
    }

    fn control(buf: &mut Vec<u8>, control: &Control) {
        match control {
            Control::Gap(_) => {
                let _ = writeln!(buf, "event: {}", control.name());
                Sse::data(buf, control.payload_json().as_bytes());
            }
            Control::Heartbeat(ts) => {
                let _ = writeln!(buf, ": hb {ts}");
            }
            // The reason as plain text, as a browser's `event.data` shows it.
            Control::Bye(reason) => {
                let _ = writeln!(buf, "event: {}", control.name());
                Sse::data(buf, reason.as_bytes());
            }
        }
        buf.push(b'\n');
    }
}

/// The event type being accumulated.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Kind {
    #[default]
    Message,
    Gap,
    Bye,
    /// An event type tickbench does not send: ignored, as a browser without a listener would.
    Other,
}

/// Incremental SSE decoder. Push chunks, take frames; the last `id:` seen is kept for the
/// `Last-Event-ID` header of the next connection.
#[derive(Debug, Default)]
pub struct SseParser {
    pending: Pending,
    /// The event's `data` lines so far (reused between events).
    data: String,
    /// Whether any `data:` line was seen for the current event (an empty `data:` still counts).
    has_data: bool,
    kind: Kind,
    last_id: Option<u64>,
    /// The previous line ended in `\r` at the end of a chunk: a `\n` starting the next one
    /// belongs to it.
    skip_lf: bool,
    /// The optional BOM has been checked for.
    started: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The last event ID received (tickbench sends the tick's seq), for `Last-Event-ID`.
    pub fn last_event_id(&self) -> Option<u64> {
        self.last_id
    }

    fn poison(&mut self) -> ParseError {
        self.pending.poison();
        self.data = String::new();
        ParseError::TooLarge
    }

    /// Interprets the line `rest()[..end]`, a tick into `tick`.
    fn line(&mut self, end: usize, tick: &mut Tick) -> Result<Option<Next>, ParseError> {
        let line = &self.pending.rest()[..end];
        if line.is_empty() {
            return self.dispatch(tick);
        }
        if let Some(comment) = line.strip_prefix(b":") {
            let comment = comment.trim_ascii();
            if let Some(ts) = comment.strip_prefix(b"hb") {
                if let Some(ts) = parse_u64(ts.trim_ascii()) {
                    return Ok(Some(Next::Frame(Frame::Heartbeat(ts))));
                }
            }
            return Ok(None);
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                let value = std::str::from_utf8(value)
                    .map_err(|_| ParseError::Malformed("SSE data is not UTF-8"))?;
                if self.data.len() + value.len() > MAX_FRAME {
                    return Err(self.poison());
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            b"event" => {
                self.kind = match value {
                    b"" | b"message" => Kind::Message,
                    b"gap" => Kind::Gap,
                    b"bye" => Kind::Bye,
                    _ => Kind::Other,
                }
            }
            // The spec ignores ids containing NUL; tickbench ids are seqs, anything else is kept
            // as "no id" rather than guessed at.
            b"id" if !value.contains(&0) => self.last_id = parse_u64(value),
            b"retry" => {
                if let Some(ms) = parse_u64(value) {
                    return Ok(Some(Next::Frame(Frame::Retry(ms))));
                }
            }
            _ => {}
        }
        Ok(None)
    }

    fn dispatch(&mut self, tick: &mut Tick) -> Result<Option<Next>, ParseError> {
        let kind = std::mem::take(&mut self.kind);
        if !std::mem::take(&mut self.has_data) {
            self.data.clear();
            return Ok(None);
        }
        let res = match kind {
            Kind::Message => super::borrowed::decode_tick_into(self.data.as_bytes(), tick)
                .map(|()| Some(Next::Tick)),
            Kind::Gap => serde_json::from_str::<Gap>(&self.data)
                .map(|g| Some(Next::Frame(Frame::Gap(g))))
                .map_err(ParseError::from),
            Kind::Bye => Ok(Some(Next::Frame(Frame::Bye(self.data.clone())))),
            Kind::Other => Ok(None),
        };
        self.data.clear();
        res
    }
}

impl FrameParser for SseParser {
    /// Buffers `chunk` without decoding; take frames with `next_frame`.
    fn push_bytes(&mut self, chunk: &[u8]) {
        self.pending.push(chunk);
    }

    /// The next complete frame, if one is buffered.
    fn next_frame(&mut self) -> Option<Result<Frame, ParseError>> {
        owned(|t| self.next_frame_into(t))
    }

    fn next_frame_into(&mut self, tick: &mut Tick) -> Option<Result<Next, ParseError>> {
        loop {
            if self.pending.is_poisoned() {
                return None;
            }
            if !self.started {
                let rest = self.pending.rest();
                const BOM: &[u8] = b"\xEF\xBB\xBF";
                if rest.len() < BOM.len() && BOM.starts_with(rest) {
                    return None;
                }
                if rest.starts_with(BOM) {
                    self.pending.consume(BOM.len());
                }
                self.started = true;
            }
            if self.skip_lf {
                match self.pending.rest().first() {
                    None => return None,
                    Some(b'\n') => self.pending.consume(1),
                    Some(_) => {}
                }
                self.skip_lf = false;
            }
            let Some(end) = self.pending.find_byte(|b| b == b'\n' || b == b'\r') else {
                if self.pending.rest().len() > MAX_FRAME {
                    return Some(Err(self.poison()));
                }
                return None;
            };
            if self.pending.rest()[end] == b'\r' {
                self.skip_lf = true;
            }
            // Copy the line out of the borrow only as far as needed: process by range.
            let res = self.line(end, tick);
            self.pending.consume(end + 1);
            match res {
                Ok(Some(frame)) => return Some(Ok(frame)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{self, every_split, TICK1, TICK2};
    use super::*;

    fn parser() -> impl FnMut(&[u8]) -> Vec<Result<Frame, String>> {
        let mut p = SseParser::new();
        move |c| p.push(c).map(|r| r.map_err(|e| e.to_string())).collect()
    }

    #[test]
    fn every_split_point_lf_crlf_cr() {
        for nl in ["\n", "\r\n", "\r"] {
            let input = format!(
                "\u{feff}retry: 2000{nl}{nl}id: 1{nl}data: {TICK1}{nl}{nl}: hb 99{nl}: other comment{nl}event: gap{nl}data: {{\"from\":2,{nl}data:\"to\":3}}{nl}{nl}id:2{nl}data:{TICK2}{nl}{nl}event: bye{nl}data: shutting down{nl}{nl}"
            );
            let frames = every_split(input.as_bytes(), parser);
            assert_eq!(frames.len(), 6, "{nl:?}");
            assert_eq!(frames[0], Frame::Retry(2000));
            assert!(matches!(&frames[1], Frame::Tick(t) if t.seq == 1));
            assert_eq!(frames[2], Frame::Heartbeat(99));
            assert_eq!(frames[3], Frame::Gap(Gap { from: 2, to: 3 }));
            assert!(matches!(&frames[4], Frame::Tick(t) if t.seq == 2));
            assert_eq!(frames[5], Frame::Bye("shutting down".into()));
        }
    }

    #[test]
    fn round_trip() {
        let items = test_util::sample();
        let bytes = test_util::encode::<Sse>(&items);
        let mut want = vec![Frame::Retry(RETRY_MS)];
        want.extend(test_util::frames(&items));
        assert_eq!(every_split(&bytes, parser), want);
        test_util::ticks_matches_one_by_one::<Sse>();
        // The last event id is the last tick's seq, for `Last-Event-ID`.
        let mut p = SseParser::new();
        p.push(&bytes).for_each(drop);
        assert_eq!(p.last_event_id(), Some(19));
        // Line breaks of any kind in a value become `data:` lines, joined back with `\n`.
        let mut b = Vec::new();
        Sse::control(&mut b, &Control::Bye("a\r\nb\rc\nd".into()));
        let got: Vec<_> = SseParser::new().push(&b).map(Result::unwrap).collect();
        assert_eq!(got, [Frame::Bye("a\nb\nc\nd".into())]);
    }

    /// The bytes axum's `Event` produced for the same events before this encoder replaced it.
    #[test]
    fn bytes_as_the_server_always_sent_them() {
        let mut b = Vec::new();
        Sse::preamble(&mut b);
        Sse::tick(&mut b, 1, TICK1.as_bytes());
        Sse::control(&mut b, &Control::Gap(Gap { from: 2, to: 15 }));
        Sse::control(&mut b, &Control::Heartbeat(7));
        Sse::control(&mut b, &Control::bye());
        let want = format!(
            "retry: 2000\n\nid: 1\ndata: {TICK1}\n\nevent: gap\ndata: {{\"from\":2,\"to\":15}}\n\n: hb 7\n\nevent: bye\ndata: server shutting down\n\n"
        );
        assert_eq!(String::from_utf8(b).unwrap(), want);
    }

    #[test]
    fn bye_and_last_id() {
        let mut p = SseParser::new();
        let got: Vec<_> = p
            .push(format!("id: 41\ndata: {TICK1}\n\nevent: bye\ndata: x\n\n").as_bytes())
            .map(Result::unwrap)
            .collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], Frame::Bye("x".into()));
        assert_eq!(p.last_event_id(), Some(41));
    }

    #[test]
    fn unknown_events_and_fields_are_ignored() {
        let mut p = SseParser::new();
        let got: Vec<_> = p
            .push(b"event: news\ndata: {}\n\nfoo: bar\nnocolon\n\ndata\n\n")
            .collect();
        // `data` without colon is an empty data line: dispatches an empty message => not JSON.
        assert_eq!(got.len(), 1);
        assert!(got[0].is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut p = SseParser::new();
        let got: Vec<_> = p.push(b"data: nope\n\ndata: \xff\n\n").collect();
        assert!(got.iter().all(|r| r.is_err()));
        assert!(!got.is_empty());
        let mut p = SseParser::new();
        let mut errs = 0;
        for _ in 0..8 {
            errs += p.push(&[b'y'; 64 * 1024]).filter(|r| r.is_err()).count();
        }
        assert_eq!(errs, 1);
    }
}
