//! Forever iframe (`GET /iframe`): an HTML preamble with padding, then one
//! `<script>parent.NAME(ARGS);</script>` chunk per event (`tick`, `gap`, `hb`, `bye`).
//!
//! Text outside script tags (the preamble, padding, whitespace) is skipped without being buffered;
//! scripts that do not call `parent.` are skipped too, as a browser page would run them and move
//! on. A `parent.` call the protocol does not define, or bad arguments, is an error.

use super::frame::{Frame, FrameParser, ParseError, Pending, MAX_FRAME};
use tickbench_wire::Gap;

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
            let res = call(&self.pending.rest()[..end]);
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

/// Decodes one script body. `Ok(None)` for a script that is not a `parent.` call.
fn call(script: &[u8]) -> Result<Option<Frame>, ParseError> {
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
    Ok(Some(match &s[..open] {
        b"tick" => Frame::Tick(serde_json::from_slice(args)?),
        b"gap" => Frame::Gap(serde_json::from_slice::<Gap>(args)?),
        b"hb" => Frame::Heartbeat(serde_json::from_slice(args)?),
        b"bye" => Frame::Bye(serde_json::from_slice(args)?),
        _ => return Err(ParseError::Malformed("unknown iframe call")),
    }))
}

#[cfg(test)]
mod tests {
    use super::super::frame::test_util::{every_split, TICK1, TICK2};
    use super::*;

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
