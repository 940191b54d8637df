//! Both sides of the forever iframe (`GET /iframe`): [`Iframe`] writes, [`IframeParser`] reads.
//!
//! An HTML preamble with padding, then one `<script>parent.NAME(ARGS);</script>` chunk per event
//! (`tick`, `gap`, `hb`, `bye`), and `</body></html>` after `bye`.
//!
//! Text outside script tags (the preamble, padding, whitespace) is skipped without being buffered;
//! scripts that do not call `parent.` are skipped too, as a browser page would run them and move
//! on. A `parent.` call the protocol does not define, or bad arguments, is an error.

use super::borrowed::owned;
use super::encode::Encoder;
use super::frame::{Frame, FrameParser, Next, ParseError, MAX_FRAME};
use super::pending::Pending;
use crate::tick::{Control, Gap, Tick};

/// Browsers buffer the start of a document before running scripts; this much padding gets the
/// preamble past that buffer so the first tick runs at once.
pub const PADDING: usize = 1024;

/// The server's forever-iframe encoder.
#[derive(Debug, Clone, Copy, Default)]
pub struct Iframe;

impl Iframe {
    /// `<script>parent.FUNC(ARG);</script>` and a newline, with every `<` in `arg` written as
    /// `\u003c` so the chunk can never close its own script tag (a no-op copy for normal ticks,
    /// which contain no `<`).
    fn call(buf: &mut Vec<u8>, func: &str, arg: &[u8]) {
        buf.extend_from_slice(b"<script>parent.");
        buf.extend_from_slice(func.as_bytes());
        buf.push(b'(');
        for &b in arg {
            if b == b'<' {
                buf.extend_from_slice(br"\u003c");
            } else {
                buf.push(b);
            }
        }
        buf.extend_from_slice(b");</script>\n");
    }

    /// The page function a control calls.
    fn function(control: &Control) -> &'static str {
        match control {
            Control::Gap(_) => "gap",
            Control::Heartbeat(_) => "hb",
            Control::Bye(_) => "bye",
        }
    }
}

impl Encoder for Iframe {
    const CONTENT_TYPE: &'static str = "text/html; charset=utf-8";
    const TICK_OVERHEAD: usize = 40;

    fn preamble(buf: &mut Vec<u8>) {
        buf.extend_from_slice(
            b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>tickbench</title></head><body>\n<!--",
        );
        buf.resize(buf.len() + PADDING, b' ');
        buf.extend_from_slice(b"-->\n");
    }

    fn tick(buf: &mut Vec<u8>, _seq: u64, json: &[u8]) {
        Iframe::call(buf, "tick", json);
    }

    fn control(buf: &mut Vec<u8>, control: &Control) {
        Iframe::call(
            buf,
            Iframe::function(control),
            control.payload_json().as_bytes(),
        );
        match control {
            Control::Bye(_) => buf.extend_from_slice(b"</body></html>\n"),
            Control::Gap(_) | Control::Heartbeat(_) => {}
        }
    }
}

const OPEN: &[u8] = b"<script>";
const CLOSE: &[u8] = b"</script>";

/// Incremental decoder of the script chunks.
#[derive(Debug, Default)]
pub struct IframeParser {
    pending: Pending,
    /// Between `<script>` and `</script>`.
    in_script: bool,
}

impl IframeParser {
    pub fn new() -> Self {
        Self::default()
    }
}

impl FrameParser for IframeParser {
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
            if !self.in_script {
                match self.pending.find_seq(OPEN) {
                    Some(i) => {
                        self.pending.consume(i + OPEN.len());
                        self.pending.reset_scan();
                        self.in_script = true;
                    }
                    None => {
                        // Keep only what could be the start of a split `<script>`.
                        let len = self.pending.rest().len();
                        let keep = len.min(OPEN.len() - 1);
                        self.pending.consume(len - keep);
                        return None;
                    }
                }
                continue;
            }
            let Some(end) = self.pending.find_seq(CLOSE) else {
                if self.pending.rest().len() > MAX_FRAME {
                    self.pending.poison();
                    return Some(Err(ParseError::TooLarge));
                }
                return None;
            };
            let res = call(&self.pending.rest()[..end], tick);
            self.pending.consume(end + CLOSE.len());
            self.pending.reset_scan();
            self.in_script = false;
            match res {
                Ok(Some(f)) => return Some(Ok(f)),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Decodes one script body, a tick into `tick`. `Ok(None)` for a script that is not a
/// `parent.` call.
fn call(script: &[u8], tick: &mut Tick) -> Result<Option<Next>, ParseError> {
    let s = script.trim_ascii();
    let Some(s) = s.strip_prefix(b"parent.") else {
        return Ok(None);
    };
    let s = s.strip_suffix(b";").unwrap_or(s).trim_ascii_end();
    let open = s
        .iter()
        .position(|&b| b == b'(')
        .ok_or(ParseError::Malformed("iframe call without arguments"))?;
    let args = s[open + 1..]
        .strip_suffix(b")")
        .ok_or(ParseError::Malformed("iframe call not closed"))?;
    Ok(Some(Next::Frame(match &s[..open] {
        b"tick" => {
            super::borrowed::decode_tick_into(args, tick)?;
            return Ok(Some(Next::Tick));
        }
        b"gap" => Frame::Gap(serde_json::from_slice::<Gap>(args)?),
        b"hb" => Frame::Heartbeat(serde_json::from_slice(args)?),
        b"bye" => Frame::Bye(serde_json::from_slice(args)?),
        _ => return Err(ParseError::Malformed("unknown iframe call")),
    })))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{self, every_split, TICK1, TICK2};
    use super::*;

    #[test]
    fn round_trip() {
        let items = test_util::sample();
        let bytes = test_util::encode::<Iframe>(&items);
        assert_eq!(every_split(&bytes, parser), test_util::frames(&items));
        test_util::ticks_matches_one_by_one::<Iframe>();
    }

    #[test]
    fn escapes_lt() {
        let mut b = Vec::new();
        Iframe::call(&mut b, "tick", br#"{"x":"</script>"}"#);
        let s = String::from_utf8(b).unwrap();
        assert_eq!(
            s,
            "<script>parent.tick({\"x\":\"\\u003c/script>\"});</script>\n"
        );
    }

    #[test]
    fn bytes_as_the_server_always_sent_them() {
        let mut b = Vec::new();
        Iframe::preamble(&mut b);
        Iframe::tick(&mut b, 1, TICK1.as_bytes());
        Iframe::control(&mut b, &Control::Gap(Gap { from: 2, to: 15 }));
        Iframe::control(&mut b, &Control::Heartbeat(7));
        Iframe::control(&mut b, &Control::bye());
        let pad = " ".repeat(1024);
        let want = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>tickbench</title></head><body>\n<!--{pad}-->\n\
             <script>parent.tick({TICK1});</script>\n\
             <script>parent.gap({{\"from\":2,\"to\":15}});</script>\n\
             <script>parent.hb(7);</script>\n\
             <script>parent.bye(\"server shutting down\");</script>\n</body></html>\n"
        );
        assert_eq!(String::from_utf8(b).unwrap(), want);
    }

    fn parser() -> impl FnMut(&[u8]) -> Vec<Result<Frame, String>> {
        let mut p = IframeParser::new();
        move |c| p.push(c).map(|r| r.map_err(|e| e.to_string())).collect()
    }

    #[test]
    fn every_split_point() {
        let padding = " ".repeat(1100);
        let input = format!(
            "<!DOCTYPE html><html><head><script>var x = 1 < 2;</script></head><body><!--{padding}-->\n\
             <script>parent.tick({TICK1});</script>\n\
             <script>parent.hb(77);</script>\
             <script>parent.gap({{\"from\":3,\"to\":9}});</script>\
             <script>parent.tick({TICK2})</script>\
             <script>parent.bye(\"restart \\u003c/script>\");</script>"
        );
        let frames = every_split(input.as_bytes(), parser);
        assert_eq!(frames.len(), 5);
        assert!(matches!(&frames[0], Frame::Tick(t) if t.seq == 1));
        assert_eq!(frames[1], Frame::Heartbeat(77));
        assert_eq!(frames[2], Frame::Gap(Gap { from: 3, to: 9 }));
        assert!(matches!(&frames[3], Frame::Tick(t) if t.seq == 2));
        assert_eq!(frames[4], Frame::Bye("restart </script>".into()));
    }

    #[test]
    fn padding_is_not_buffered() {
        let mut p = IframeParser::new();
        for _ in 0..100 {
            assert_eq!(p.push(&[b' '; 10_000]).count(), 0);
        }
        assert!(p.pending.rest().len() < OPEN.len());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut p = IframeParser::new();
        let got: Vec<_> = p
            .push(b"<script>parent.evil(1);</script><script>parent.tick(nope);</script><script>parent.hb</script><script>parent.hb(1</script>")
            .collect();
        assert_eq!(got.len(), 4);
        assert!(got.iter().all(|r| r.is_err()));
        let mut p = IframeParser::new();
        let mut errs = 0;
        p.push(b"<script>").count();
        for _ in 0..8 {
            errs += p.push(&[b'z'; 64 * 1024]).filter(|r| r.is_err()).count();
        }
        assert_eq!(errs, 1);
    }
}
