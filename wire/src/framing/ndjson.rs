//! Both sides of NDJSON (`GET /stream`), one JSON object per line: [`Ndjson`] writes, [`NdjsonParser`] reads.

use super::borrowed::{decode_object_into, owned};
use super::encode::Encoder;
use super::frame::{Frame, FrameParser, Next, ParseError, MAX_FRAME};
use super::pending::Pending;
use crate::tick::Control;
use crate::tick::Tick;

/// The server's NDJSON encoder: each tick's JSON as is, each control as its one-key object
/// (`{"heartbeat":TS}`), one per line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ndjson;

impl Encoder for Ndjson {
    const CONTENT_TYPE: &'static str = "application/x-ndjson";
    const TICK_OVERHEAD: usize = 1;

    fn tick(buf: &mut Vec<u8>, _seq: u64, json: &[u8]) {
        buf.extend_from_slice(json);
        buf.push(b'\n');
    }

    fn control(buf: &mut Vec<u8>, control: &Control) {
        buf.extend_from_slice(control.to_json().as_bytes());
        buf.push(b'\n');
    }
}

/// Incremental NDJSON decoder: push chunks as they arrive, take frames as lines complete. Lines
/// may be split anywhere, `\r\n` and blank lines are tolerated.
#[derive(Debug, Default)]
pub struct NdjsonParser {
    pending: Pending,
}

impl NdjsonParser {
    pub fn new() -> Self {
        Self::default()
    }
}

impl FrameParser for NdjsonParser {
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
            let Some((len, used)) = self.pending.line() else {
                if self.pending.rest().len() > MAX_FRAME {
                    self.pending.poison();
                    return Some(Err(ParseError::TooLarge));
                }
                return None;
            };
            let line = &self.pending.rest()[..len];
            if line.trim_ascii().is_empty() {
                self.pending.consume(used);
                continue;
            }
            let frame = decode_object_into(line, tick);
            self.pending.consume(used);
            return Some(frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{self, every_split, TICK1, TICK2};
    use super::*;
    use crate::tick::Gap;

    fn parser() -> impl FnMut(&[u8]) -> Vec<Result<Frame, String>> {
        let mut p = NdjsonParser::new();
        move |c| p.push(c).map(|r| r.map_err(|e| e.to_string())).collect()
    }

    #[test]
    fn every_split_point() {
        let input = format!(
            "{TICK1}\n{{\"heartbeat\":7}}\r\n\n{{\"gap\":{{\"from\":3,\"to\":4}}}}\n{TICK2}\n{{\"bye\":\"restart\"}}\n"
        );
        let frames = every_split(input.as_bytes(), parser);
        assert_eq!(frames.len(), 5);
        assert!(matches!(&frames[0], Frame::Tick(t) if t.seq == 1));
        assert_eq!(frames[1], Frame::Heartbeat(7));
        assert_eq!(frames[2], Frame::Gap(Gap { from: 3, to: 4 }));
        assert!(matches!(&frames[3], Frame::Tick(t) if t.sym == "MSFT"));
        assert_eq!(frames[4], Frame::Bye("restart".into()));
    }

    #[test]
    fn round_trip() {
        let items = test_util::sample();
        let bytes = test_util::encode::<Ndjson>(&items);
        assert_eq!(every_split(&bytes, parser), test_util::frames(&items));
        test_util::ticks_matches_one_by_one::<Ndjson>();
    }

    #[test]
    fn bytes_as_the_server_always_sent_them() {
        let mut b = Vec::new();
        Ndjson::tick(&mut b, 1, TICK1.as_bytes());
        Ndjson::control(&mut b, &Control::Gap(Gap { from: 2, to: 15 }));
        Ndjson::control(&mut b, &Control::Heartbeat(7));
        Ndjson::control(&mut b, &Control::bye());
        let want = format!(
            "{TICK1}\n{{\"gap\":{{\"from\":2,\"to\":15}}}}\n{{\"heartbeat\":7}}\n{{\"bye\":\"server shutting down\"}}\n"
        );
        assert_eq!(String::from_utf8(b).unwrap(), want);
    }

    #[test]
    fn partial_line_waits() {
        let mut p = NdjsonParser::new();
        assert_eq!(p.push(&TICK1.as_bytes()[..20]).count(), 0);
        assert_eq!(p.push(&TICK1.as_bytes()[20..]).count(), 0);
        assert_eq!(p.push(b"\n").count(), 1);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut p = NdjsonParser::new();
        let got: Vec<_> = p.push(b"not json\n{\"seq\":\n\xff\xfe\n").collect();
        assert_eq!(got.len(), 3);
        assert!(got.iter().all(|r| r.is_err()));
        // A good line after bad ones still decodes.
        let got: Vec<_> = p.push(format!("{TICK1}\n").as_bytes()).collect();
        assert!(matches!(got[..], [Ok(Frame::Tick(_))]));
    }

    #[test]
    fn endless_line_is_too_large() {
        let mut p = NdjsonParser::new();
        let junk = vec![b'x'; 64 * 1024];
        let mut errs = 0;
        for _ in 0..8 {
            errs += p.push(&junk).filter(|r| r.is_err()).count();
        }
        assert_eq!(errs, 1);
    }
}
