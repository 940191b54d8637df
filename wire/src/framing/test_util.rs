//! Test inputs and the "chunking must not matter" check shared by every format's tests.

use super::encode::Encoder;
use super::frame::Frame;
use crate::tick::{Control, Gap, Tick};

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

/// A tick with the given identity and fixed prices.
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

/// What a server sends on a stream, for the round-trip tests.
#[derive(Debug, Clone)]
pub enum Item {
    Tick(Tick),
    Control(Control),
}

/// A stream that exercises every frame: a gap first (as after a lost cursor), ticks whose
/// symbols need escaping in some framing (`<`, `"`, a newline, non-ASCII), a heartbeat, and the
/// final bye with a reason that looks like markup.
pub fn sample() -> Vec<Item> {
    vec![
        Item::Control(Control::Gap(Gap { from: 2, to: 15 })),
        Item::Tick(tick(16, 3, "AAPL")),
        Item::Tick(tick(17, 1, "</script>")),
        Item::Control(Control::Heartbeat(1_795_397_385_123_456)),
        Item::Tick(tick(18, 4, "A\"B\nC")),
        Item::Tick(tick(19, 1, "ÄÖ--tickbench\r\n")),
        Item::Control(Control::Bye("</body> --tickbench-- bye".into())),
    ]
}

/// The items as the encoder `E` writes them, after its preamble.
pub fn encode<E: Encoder>(items: &[Item]) -> Vec<u8> {
    let mut buf = Vec::new();
    E::preamble(&mut buf);
    for item in items {
        match item {
            Item::Tick(t) => E::tick(&mut buf, t.seq, &serde_json::to_vec(t).unwrap()),
            Item::Control(c) => E::control(&mut buf, c),
        }
    }
    buf
}

/// The frames a parser must yield for `items` (without any format's own extra frames).
pub fn frames(items: &[Item]) -> Vec<Frame> {
    items
        .iter()
        .map(|i| match i {
            Item::Tick(t) => Frame::Tick(t.clone()),
            Item::Control(c) => c.clone().into(),
        })
        .collect()
}

/// [`Encoder::ticks`] writes the gap and the ticks the same as one call each.
pub fn ticks_matches_one_by_one<E: Encoder>() {
    let ticks: Vec<(u64, Vec<u8>)> = [tick(5, 1, "AAPL"), tick(6, 2, "AAPL")]
        .iter()
        .map(|t| (t.seq, serde_json::to_vec(t).unwrap()))
        .collect();
    let gap = Gap { from: 1, to: 4 };
    let mut chunk = Vec::new();
    E::ticks(&mut chunk, Some(gap), &ticks);
    let mut one_by_one = Vec::new();
    E::control(&mut one_by_one, &Control::Gap(gap));
    for (seq, json) in &ticks {
        E::tick(&mut one_by_one, *seq, json);
    }
    assert_eq!(chunk, one_by_one);
}
