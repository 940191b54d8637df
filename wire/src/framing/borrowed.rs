//! Decoding a tick without allocating: its JSON read into a [`TickRef`] that borrows the symbol
//! from the input, then copied into a caller's reused [`Tick`] ([`decode_tick_into`]), and a batch
//! answer whose ticks borrow from the body ([`BatchRef`]). The load generator's path, so that the
//! instrument costs less per delivery than the server it measures; the fields, their names and
//! every error are the owned types' (the same derive, the same checks).

use std::borrow::Cow;

use serde::Deserialize;

use super::frame::{first_key, Frame, Next, ParseError};
use crate::tick::{Control, Gap, Tick};

/// A [`Tick`] whose symbol borrows from the JSON it was read from (owned only when the JSON
/// string has escapes, which the server never writes for a symbol).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TickRef<'a> {
    pub seq: u64,
    pub sseq: u64,
    #[serde(borrow)]
    pub sym: Cow<'a, str>,
    pub bid: f64,
    pub ask: f64,
    pub last: f64,
    pub size: u32,
    pub ts: u64,
}

impl TickRef<'_> {
    /// Copies this tick into `tick`, reusing its symbol's buffer (no allocation once the buffer
    /// is as long as the longest symbol).
    pub fn write_into(&self, tick: &mut Tick) {
        tick.seq = self.seq;
        tick.sseq = self.sseq;
        tick.sym.clear();
        tick.sym.push_str(&self.sym);
        tick.bid = self.bid;
        tick.ask = self.ask;
        tick.last = self.last;
        tick.size = self.size;
        tick.ts = self.ts;
    }
}

/// An empty tick to decode into (no allocation until the first symbol is written).
pub fn empty_tick() -> Tick {
    Tick {
        seq: 0,
        sseq: 0,
        sym: String::new(),
        bid: 0.0,
        ask: 0.0,
        last: 0.0,
        size: 0,
        ts: 0,
    }
}

/// Decodes a tick's JSON into `tick` (see [`TickRef::write_into`]); on error `tick` is unchanged.
pub fn decode_tick_into(bytes: &[u8], tick: &mut Tick) -> Result<(), ParseError> {
    serde_json::from_slice::<TickRef>(bytes)?.write_into(tick);
    Ok(())
}

/// A [`Batch`](crate::Batch) whose ticks borrow from the body: one allocation per non-empty
/// answer (the list), none per tick.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BatchRef<'a> {
    pub next: u64,
    #[serde(borrow)]
    pub ticks: Vec<TickRef<'a>>,
    pub gap: Option<Gap>,
}

/// The batch in an answer's body, borrowing from it (other fields are ignored, as by
/// [`batch::decode`](super::batch::decode)).
pub fn decode_batch_ref(body: &[u8]) -> Result<BatchRef<'_>, ParseError> {
    Ok(serde_json::from_slice(body)?)
}

/// [`decode_object`](super::decode_object) with a tick decoded into `tick` (see [`FrameParser::next_frame_into`](super::FrameParser::next_frame_into)).
pub fn decode_object_into(bytes: &[u8], tick: &mut Tick) -> Result<Next, ParseError> {
    match first_key(bytes) {
        Some(b"gap" | b"heartbeat" | b"bye") => Ok(Next::Frame(
            serde_json::from_slice::<Control>(bytes)?.into(),
        )),
        _ => {
            decode_tick_into(bytes, tick)?;
            Ok(Next::Tick)
        }
    }
}

/// A parser's `next_frame` from its `next_frame_into`: the tick decoded into a fresh `Tick`.
pub(crate) fn owned(
    next: impl FnOnce(&mut Tick) -> Option<Result<Next, ParseError>>,
) -> Option<Result<Frame, ParseError>> {
    let mut tick = empty_tick();
    next(&mut tick).map(|r| {
        r.map(|n| match n {
            Next::Tick => Frame::Tick(tick),
            Next::Frame(f) => f,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::tick;
    use super::*;

    #[test]
    fn same_tick_as_the_owned_decoder() {
        let mut into = empty_tick();
        for t in [tick(1, 1, "AAPL"), tick(2, 9, "A\"<B"), tick(3, 2, "BRK.B")] {
            let json = serde_json::to_vec(&t).unwrap();
            decode_tick_into(&json, &mut into).unwrap();
            assert_eq!(into, t);
            assert_eq!(into, serde_json::from_slice::<Tick>(&json).unwrap());
        }
        // The owned decoder's errors are this one's.
        for bad in [
            &br#"{"seq":1}"#[..],
            b"",
            b"{",
            br#"{"seq":-1,"sseq":1,"sym":"A","bid":1,"ask":1,"last":1,"size":1,"ts":1}"#,
        ] {
            assert!(serde_json::from_slice::<Tick>(bad).is_err());
            let before = into.clone();
            assert!(decode_tick_into(bad, &mut into).is_err());
            assert_eq!(into, before);
        }
    }

    /// Every stream parser's `next_frame_into` yields what its `next_frame` does, one tick
    /// buffer reused throughout.
    #[test]
    fn stream_parsers_decode_into_the_same_frames() {
        use super::super::test_util::{encode, frames, sample};
        use super::super::{
            Frame, FrameParser, Iframe, IframeParser, Multipart, MultipartParser, Ndjson,
            NdjsonParser, Next, Sse, SseParser,
        };
        fn check(mut p: impl FrameParser, bytes: &[u8], want: &[Frame]) {
            let mut tick = empty_tick();
            let mut got = Vec::new();
            p.push_bytes(bytes);
            while let Some(r) = p.next_frame_into(&mut tick) {
                got.push(match r.unwrap() {
                    Next::Tick => Frame::Tick(tick.clone()),
                    Next::Frame(f) => f,
                });
            }
            // The preamble frames (SSE `retry:`, multipart's end mark) are the parsers' own.
            let got: Vec<_> = got
                .into_iter()
                .filter(|f| !matches!(f, Frame::Retry(_) | Frame::End))
                .collect();
            assert_eq!(got, want);
        }
        let items = sample();
        let want = frames(&items);
        check(NdjsonParser::new(), &encode::<Ndjson>(&items), &want);
        check(SseParser::new(), &encode::<Sse>(&items), &want);
        check(IframeParser::new(), &encode::<Iframe>(&items), &want);
        check(
            MultipartParser::new("tickbench"),
            &encode::<Multipart>(&items),
            &want,
        );
    }

    #[test]
    fn symbol_borrows_unless_escaped() {
        let t = serde_json::to_vec(&tick(1, 1, "AAPL")).unwrap();
        let r: TickRef = serde_json::from_slice(&t).unwrap();
        assert!(matches!(r.sym, Cow::Borrowed("AAPL")));
    }

    #[test]
    fn batch_matches_the_owned_decoder() {
        let ticks = [tick(16, 3, "AAPL"), tick(17, 1, "MSFT")];
        let journal: Vec<_> = ticks
            .iter()
            .map(|t| (t.seq, serde_json::to_vec(t).unwrap()))
            .collect();
        for gap in [None, Some(Gap { from: 2, to: 15 })] {
            let mut b = Vec::new();
            super::super::batch::encode(&mut b, 18, &journal, gap);
            let owned = super::super::batch::decode(&b).unwrap();
            let r = decode_batch_ref(&b).unwrap();
            assert_eq!((r.next, r.gap), (owned.next, owned.gap));
            let mut t = empty_tick();
            for (r, o) in r.ticks.iter().zip(&owned.ticks) {
                r.write_into(&mut t);
                assert_eq!(&t, o);
            }
            assert_eq!(r.ticks.len(), owned.ticks.len());
        }
        assert!(decode_batch_ref(br#"{"next":1}"#).is_err());
        assert!(decode_batch_ref(b"{\"next\":1,\"ticks\":[{}],\"gap\":null}").is_err());
    }
}
