//! Both sides of `multipart/x-mixed-replace` (`GET /multipart`): [`Multipart`] writes,
//! [`MultipartParser`] reads.
//!
//! One part per tick or control frame, each with a `Content-Length`, between `--boundary` lines;
//! `--boundary--` ends the stream.

use std::io::Write as _;

use super::borrowed::{decode_object_into, owned};
use super::encode::Encoder;
use super::frame::{Frame, FrameParser, Next, ParseError, MAX_FRAME};
use super::pending::Pending;
use crate::tick::Control;
use crate::tick::Tick;

/// The boundary the server's parts are delimited by (in its Content-Type).
pub const BOUNDARY: &str = "tickbench";

/// The server's multipart encoder: every part `application/json` with its `Content-Length`
/// (so a client never has to scan a body for the boundary), ticks as their JSON, controls as
/// their one-key object, and the close delimiter after `bye`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Multipart;

impl Multipart {
    fn part(buf: &mut Vec<u8>, body: &[u8]) {
        let _ = write!(
            buf,
            "--{BOUNDARY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        buf.extend_from_slice(body);
        buf.extend_from_slice(b"\r\n");
    }
}

impl Encoder for Multipart {
    const CONTENT_TYPE: &'static str = "multipart/x-mixed-replace; boundary=tickbench";
    const TICK_OVERHEAD: usize = 80;

    fn tick(buf: &mut Vec<u8>, _seq: u64, json: &[u8]) {
        Multipart::part(buf, json);
    }

    fn control(buf: &mut Vec<u8>, control: &Control) {
        Multipart::part(buf, control.to_json().as_bytes());
        match control {
            Control::Bye(_) => {
                let _ = write!(buf, "--{BOUNDARY}--\r\n");
            }
            Control::Gap(_) | Control::Heartbeat(_) => {}
        }
    }
}

/// The `boundary` parameter of a `multipart/...` Content-Type (quoted or not), if any.
pub fn boundary_from_content_type(ct: &str) -> Option<&str> {
    let (mime, params) = ct.split_once(';')?;
    if !mime.trim().to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        // RFC 2046: 1 to 70 characters.
        (!v.is_empty() && v.len() <= 70).then_some(v)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter: lines are preamble and ignored.
    Preamble,
    /// Reading part headers.
    Headers { len: Option<usize> },
    /// Reading a part body of this many bytes.
    Body(usize),
    /// After a body: blank lines, then a delimiter.
    Between,
    /// After the close delimiter: the epilogue is ignored.
    Done,
}

/// Incremental multipart decoder for a known boundary.
#[derive(Debug)]
pub struct MultipartParser {
    pending: Pending,
    /// `--` + boundary.
    delim: Box<[u8]>,
    state: State,
}

impl MultipartParser {
    pub fn new(boundary: &str) -> Self {
        let mut delim = Vec::with_capacity(boundary.len() + 2);
        delim.extend_from_slice(b"--");
        delim.extend_from_slice(boundary.as_bytes());
        Self {
            pending: Pending::default(),
            delim: delim.into(),
            state: State::Preamble,
        }
    }

    fn poison<T>(&mut self, e: ParseError) -> Option<Result<T, ParseError>> {
        self.pending.poison();
        Some(Err(e))
    }

    /// Which delimiter `line` is, if any: `Some(false)` for `--b`, `Some(true)` for `--b--`.
    /// Trailing spaces/tabs (transport padding) are allowed.
    fn delimiter(&self, line: &[u8]) -> Option<bool> {
        let rest = line.strip_prefix(&*self.delim)?;
        let rest = rest.trim_ascii_end();
        match rest {
            b"" => Some(false),
            b"--" => Some(true),
            _ => None,
        }
    }
}

impl FrameParser for MultipartParser {
    /// Buffers `chunk` without decoding; take frames with `next_frame`.
    fn push_bytes(&mut self, chunk: &[u8]) {
        if self.state != State::Done {
            self.pending.push(chunk);
        }
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
            if let State::Body(len) = self.state {
                let rest = self.pending.rest();
                if rest.len() < len {
                    return None;
                }
                let frame = decode_object_into(&rest[..len], tick);
                self.pending.consume(len);
                self.state = State::Between;
                return Some(frame);
            }
            if self.state == State::Done {
                return None;
            }
            let Some((len, used)) = self.pending.line() else {
                if self.pending.rest().len() > MAX_FRAME {
                    return self.poison(ParseError::TooLarge);
                }
                return None;
            };
            let line = &self.pending.rest()[..len];
            let delim = self.delimiter(line);
            let state = self.state;
            let mut out = None;
            self.state = match (state, delim) {
                (State::Preamble | State::Between, Some(false)) => State::Headers { len: None },
                (State::Preamble | State::Between, Some(true)) => {
                    out = Some(Ok(Next::Frame(Frame::End)));
                    State::Done
                }
                (State::Preamble, None) => State::Preamble,
                (State::Between, None) if line.trim_ascii().is_empty() => State::Between,
                (State::Between, None) => {
                    out = Some(Err(ParseError::Malformed("expected a multipart boundary")));
                    State::Preamble
                }
                (State::Headers { len }, _) if line.is_empty() => match len {
                    Some(n) if n > MAX_FRAME => {
                        self.pending.consume(used);
                        return self.poison(ParseError::TooLarge);
                    }
                    Some(n) => State::Body(n),
                    None => {
                        out = Some(Err(ParseError::Malformed("part without Content-Length")));
                        State::Preamble
                    }
                },
                (State::Headers { len }, _) => match header_len(line) {
                    Ok(Some(n)) => State::Headers { len: Some(n) },
                    Ok(None) => State::Headers { len },
                    Err(e) => {
                        out = Some(Err(e));
                        State::Preamble
                    }
                },
                (State::Body(_) | State::Done, _) => unreachable!("handled above"),
            };
            self.pending.consume(used);
            if out.is_some() {
                return out;
            }
        }
    }
}

/// `Some(n)` for a valid `Content-Length` header line, `None` for any other header.
fn header_len(line: &[u8]) -> Result<Option<usize>, ParseError> {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return Err(ParseError::Malformed("part header without a colon"));
    };
    if !line[..colon]
        .trim_ascii()
        .eq_ignore_ascii_case(b"content-length")
    {
        return Ok(None);
    }
    let v = line[colon + 1..].trim_ascii();
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) || v.len() > 12 {
        return Err(ParseError::Malformed("bad part Content-Length"));
    }
    let n = std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(ParseError::Malformed("bad part Content-Length"))?;
    Ok(Some(n))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{self, every_split, TICK1, TICK2};
    use super::*;
    use crate::tick::Gap;

    fn part(body: &str) -> String {
        format!(
            "--tickbench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}\r\n",
            body.len()
        )
    }

    fn parser() -> impl FnMut(&[u8]) -> Vec<Result<Frame, String>> {
        let mut p = MultipartParser::new("tickbench");
        move |c| p.push(c).map(|r| r.map_err(|e| e.to_string())).collect()
    }

    #[test]
    fn boundary_parsing() {
        let b = boundary_from_content_type("multipart/x-mixed-replace; boundary=tickbench");
        assert_eq!(b, Some("tickbench"));
        assert_eq!(
            boundary_from_content_type("Multipart/X-Mixed-Replace;charset=x; BOUNDARY=\"a b\""),
            Some("a b")
        );
        assert_eq!(boundary_from_content_type("text/html; boundary=x"), None);
        assert_eq!(boundary_from_content_type("multipart/mixed"), None);
        assert_eq!(
            boundary_from_content_type("multipart/mixed; boundary=\"\""),
            None
        );
    }

    #[test]
    fn round_trip() {
        assert_eq!(
            boundary_from_content_type(Multipart::CONTENT_TYPE),
            Some(BOUNDARY)
        );
        let items = test_util::sample();
        let bytes = test_util::encode::<Multipart>(&items);
        let mut want = test_util::frames(&items);
        want.push(Frame::End);
        assert_eq!(every_split(&bytes, parser), want);
        test_util::ticks_matches_one_by_one::<Multipart>();
    }

    #[test]
    fn bytes_as_the_server_always_sent_them() {
        let mut b = Vec::new();
        Multipart::tick(&mut b, 1, TICK1.as_bytes());
        Multipart::control(&mut b, &Control::Gap(Gap { from: 2, to: 15 }));
        Multipart::control(&mut b, &Control::Heartbeat(7));
        Multipart::control(&mut b, &Control::bye());
        let want = format!(
            "{}{}{}{}--tickbench--\r\n",
            part(TICK1),
            part(r#"{"gap":{"from":2,"to":15}}"#),
            part(r#"{"heartbeat":7}"#),
            part(r#"{"bye":"server shutting down"}"#),
        );
        assert_eq!(String::from_utf8(b).unwrap(), want);
    }

    #[test]
    fn every_split_point() {
        let input = format!(
            "preamble\r\n{}{}{}{}--tickbench--\r\nepilogue",
            part(TICK1),
            part(r#"{"gap":{"from":5,"to":6}}"#),
            part(r#"{"heartbeat":8}"#),
            part(TICK2),
        );
        let frames = every_split(input.as_bytes(), parser);
        assert_eq!(frames.len(), 5);
        assert!(matches!(&frames[0], Frame::Tick(t) if t.seq == 1));
        assert_eq!(frames[1], Frame::Gap(Gap { from: 5, to: 6 }));
        assert_eq!(frames[2], Frame::Heartbeat(8));
        assert!(matches!(&frames[3], Frame::Tick(t) if t.seq == 2));
        assert_eq!(frames[4], Frame::End);
    }

    #[test]
    fn body_may_contain_the_boundary_text() {
        // Content-Length, not boundary scanning, delimits the body.
        let body = r#"{"bye":"--tickbench\r\n"}"#;
        let mut p = MultipartParser::new("tickbench");
        let got: Vec<_> = p.push(part(body).as_bytes()).map(Result::unwrap).collect();
        assert_eq!(got, vec![Frame::Bye("--tickbench\r\n".into())]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut p = MultipartParser::new("tickbench");
        let got: Vec<_> = p
            .push(b"--tickbench\r\nContent-Length: abc\r\n\r\n")
            .collect();
        assert!(got[0].is_err());
        let mut p = MultipartParser::new("tickbench");
        let got: Vec<_> = p.push(b"--tickbench\r\nX: y\r\n\r\nzzz\r\n").collect();
        assert!(got[0].is_err());
        let mut p = MultipartParser::new("tickbench");
        let got: Vec<_> = p
            .push(format!("{}garbage\r\n", part(TICK1)).as_bytes())
            .collect();
        assert!(got[0].is_ok() && got[1].is_err());
        let mut p = MultipartParser::new("tickbench");
        let got: Vec<_> = p
            .push(b"--tickbench\r\nContent-Length: 999999999\r\n\r\n")
            .collect();
        assert!(got[0].is_err());
        let mut p = MultipartParser::new("tickbench");
        let got: Vec<_> = p
            .push(b"--tickbench\r\nContent-Length: 5\r\n\r\nhello")
            .collect();
        assert!(got[0].is_err());
    }
}
