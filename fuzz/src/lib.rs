//! Shared machinery of the fuzz targets: the properties every incremental stream parser of
//! `tickbench_wire::framing` has to satisfy, whatever the input.
//!
//! The targets depend on `tickbench-wire` alone: the formats, both their encoders and their
//! parsers, and the query grammar all live there.
//!
//! # Layout
//! - [`Incremental`]: wire's [`FrameParser`] plus state that must not depend on chunking.
//! - [`check_splits`]: feeds one input whole, split at a fuzzer-chosen point, in fuzzer-chosen
//!   chunk sizes and byte by byte, and asserts every way yields the same frames.
//! - [`check_reencode`]: the frames a parser accepted, written again by the format's encoder,
//!   parse back to the same frames.
//! - [`check_growth`]: feeds the input over and over (megabytes in total) so a parser that
//!   buffers without bound trips libFuzzer's `-malloc_limit_mb`.

use tickbench_wire::framing::{
    Encoder, Frame, FrameParser, IframeParser, MultipartParser, NdjsonParser, SseParser,
};

/// What the fuzz targets need from a stream parser beyond wire's [`FrameParser`]: any
/// state besides the frames that must not depend on chunking (SSE's last event id).
pub trait Incremental: FrameParser {
    fn extra(&self) -> Option<u64> {
        None
    }
}

impl Incremental for NdjsonParser {}
impl Incremental for MultipartParser {}
impl Incremental for IframeParser {}

impl Incremental for SseParser {
    fn extra(&self) -> Option<u64> {
        self.last_event_id()
    }
}

/// Frames compared by value, errors by message (`ParseError` is neither `Clone` nor `PartialEq`;
/// serde_json's messages carry positions relative to the frame, so they must match too).
pub type Outcome = Result<Frame, String>;

/// Upper bound on frames taken after one push: a parser that keeps yielding without consuming
/// input is stuck in a loop, which is a bug in its own right.
const MAX_FRAMES_PER_PUSH: usize = 1 << 20;

fn feed<P: Incremental>(p: &mut P, chunk: &[u8], out: &mut Vec<Outcome>) {
    p.push_bytes(chunk);
    let mut n = 0;
    while let Some(r) = p.next_frame() {
        out.push(r.map_err(|e| e.to_string()));
        n += 1;
        assert!(n < MAX_FRAMES_PER_PUSH, "parser yields frames forever");
    }
}

/// A tiny deterministic generator for chunk sizes (xorshift64*), seeded from the input.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Inputs are `[mode, cut_hi, cut_lo, seed, stream...]`; shorter ones are padded with zeros.
pub struct Control<'a> {
    pub mode: u8,
    pub cut: usize,
    pub seed: u8,
    pub stream: &'a [u8],
}

impl<'a> Control<'a> {
    pub fn split(data: &'a [u8]) -> Self {
        let b = |i: usize| data.get(i).copied().unwrap_or(0);
        Control {
            mode: b(0),
            cut: usize::from(b(1)) << 8 | usize::from(b(2)),
            seed: b(3),
            stream: data.get(4..).unwrap_or(&[]),
        }
    }
}

/// Byte-by-byte feeding is O(n) pushes; above this size the other splits cover it.
const BYTEWISE_MAX: usize = 4096;

/// The chunking property: the frames (and [`Incremental::extra`]) a parser yields must not
/// depend on where the transport happened to cut the stream. Returns the frames of the
/// one-piece feed.
pub fn check_splits<P: Incremental>(ctl: &Control<'_>, new: impl Fn() -> P) -> Vec<Outcome> {
    let input = ctl.stream;

    let mut p = new();
    let mut whole = Vec::new();
    feed(&mut p, input, &mut whole);
    let whole_extra = p.extra();

    // One cut at a fuzzer-chosen point.
    let cut = ctl.cut % (input.len() + 1);
    let mut p = new();
    let mut got = Vec::new();
    feed(&mut p, &input[..cut], &mut got);
    feed(&mut p, &input[cut..], &mut got);
    assert_eq!(got, whole, "split at {cut} differs from one piece");
    assert_eq!(
        p.extra(),
        whole_extra,
        "split at {cut}: extra state differs"
    );

    // Many cuts, chunk sizes 0..=64 from the seed (empty chunks included: a body can yield them).
    let mut rng = Rng(u64::from(ctl.seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) + 1);
    let mut p = new();
    let mut got = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let n = (rng.next() % 65) as usize;
        let n = n.min(rest.len());
        feed(&mut p, &rest[..n], &mut got);
        rest = &rest[n..];
    }
    assert_eq!(got, whole, "seeded chunking (seed {}) differs", ctl.seed);
    assert_eq!(
        p.extra(),
        whole_extra,
        "seeded chunking: extra state differs"
    );

    if input.len() <= BYTEWISE_MAX {
        let mut p = new();
        let mut got = Vec::new();
        for b in input {
            feed(&mut p, std::slice::from_ref(b), &mut got);
        }
        assert_eq!(got, whole, "byte by byte differs from one piece");
        assert_eq!(p.extra(), whole_extra, "byte by byte: extra state differs");
    }
    whole
}

/// A frame compared without a tick's prices: serde_json's default float parsing is best-effort,
/// so a price written and read again may differ in its last bit, which would flag serde_json,
/// not tickbench.
#[derive(Debug, PartialEq)]
enum Key<'a> {
    Tick(u64, u64, &'a str, u32, u64),
    Other(&'a Frame),
}

fn key(f: &Frame) -> Key<'_> {
    match f {
        Frame::Tick(t) => Key::Tick(t.seq, t.sseq, &t.sym, t.size, t.ts),
        other => Key::Other(other),
    }
}

/// The encoder/parser agreement on fuzzer-made frames: the ticks and controls a parser yielded
/// (up to the first `bye`, which ends a stream), written again by the format's encoder `E`,
/// parse back to the same ticks and controls (the format's own marks, `retry` and the multipart
/// end, aside).
pub fn check_reencode<E: Encoder, P: Incremental>(frames: &[Outcome], mut p: P) {
    let mut sent = Vec::new();
    let mut buf = Vec::new();
    E::preamble(&mut buf);
    for f in frames.iter().filter_map(|r| r.as_ref().ok()) {
        match f {
            Frame::Tick(t) => {
                let json = serde_json::to_vec(t).expect("a parsed tick serializes");
                E::tick(&mut buf, t.seq, &json);
            }
            Frame::Gap(g) => E::control(&mut buf, &tickbench_wire::Control::Gap(*g)),
            Frame::Heartbeat(ts) => E::control(&mut buf, &tickbench_wire::Control::Heartbeat(*ts)),
            Frame::Bye(reason) => {
                E::control(&mut buf, &tickbench_wire::Control::Bye(reason.clone()))
            }
            Frame::Retry(_) | Frame::End => continue,
        }
        sent.push(f);
        if matches!(f, Frame::Bye(_)) {
            break;
        }
    }
    let mut back = Vec::new();
    feed(&mut p, &buf, &mut back);
    let back: Vec<Frame> = back
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("re-encoded frames do not parse: {e}")))
        .filter(|f| !matches!(f, Frame::Retry(_) | Frame::End))
        .collect();
    assert_eq!(
        back.iter().map(key).collect::<Vec<_>>(),
        sent.iter().map(|f| key(f)).collect::<Vec<_>>(),
        "re-encoded frames parse differently"
    );
}

/// The `mode` byte that selects [`check_growth`] instead of [`check_splits`]. One exact value,
/// not a bit pattern: fuzzers love zero bytes, and a growth run costs as much as thousands of
/// split checks. libFuzzer's comparison tracing finds the value on its own.
pub const GROWTH_MODE: u8 = 0xA5;

/// Total bytes [`check_growth`] pushes (1.5 MiB): well past `MAX_FRAME` (256 KiB), so a parser
/// that buffers an unterminated frame without bound makes an allocation over 1 MiB, which
/// the run's `-malloc_limit_mb=1` reports as a crash. A bounded parser never holds more than
/// `MAX_FRAME` plus one chunk (its `Vec` capacity stays at or below 512 KiB).
pub const GROWTH_TOTAL: usize = 3 << 19;

/// Feeds `input` (repeated into ~4 KiB chunks) until [`GROWTH_TOTAL`] bytes went in, taking frames
/// after every chunk like the client does.
pub fn check_growth<P: Incremental>(input: &[u8], mut p: P) {
    if input.is_empty() {
        return;
    }
    let mut chunk = Vec::with_capacity(4096 + input.len());
    while chunk.len() < 4096 {
        chunk.extend_from_slice(input);
    }
    let mut fed = 0;
    while fed < GROWTH_TOTAL {
        // Outcomes are dropped unformatted: a chunk of short bad lines yields thousands of
        // errors, and formatting them would dominate the run.
        p.push_bytes(&chunk);
        let mut n = 0;
        while p.next_frame().is_some() {
            n += 1;
            assert!(n < MAX_FRAMES_PER_PUSH, "parser yields frames forever");
        }
        fed += chunk.len();
    }
}
