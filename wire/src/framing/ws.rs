//! Both sides of the WebSocket messages (`GET /ws`): what the server sends ([`tick`], [`control`],
//! [`batch`], [`ack`], read back by [`decode`], or without allocating per tick by [`decode_into`])
//! and the client's ops ([`Op`]), plus the close
//! codes the server ends a session with.
//!
//! Every message is a text frame holding one JSON object:
//! - a tick: the tick's JSON, byte-identical to every other transport's;
//! - a control frame: the one-key object of [`Control`] (`{"gap":{..}}`, `{"heartbeat":TS}`,
//!   `{"bye":".."}`), as on NDJSON;
//! - a catch-up batch: `{"next":N,"ticks":[..],"gap":null}`, exactly the answer of `/poll`
//!   ([`super::batch`]). A stream opened with `since` sends what the journal already holds as
//!   batches (a few KiB each) until it first reaches the journal head; from then on every tick is
//!   its own frame. `next` is the cursor after the batch;
//! - an acknowledgement of a client op: `{"ack":{"op":"subscribe","next":N}}`: the new watchlist
//!   applies to ticks from seq `N` on; those before it were filtered by the old one.
//!
//! The client sends [`Op`]s, `{"op":"subscribe","symbols":["AAPL"]}` or `"unsubscribe"`, as text
//! frames of at most [`MAX_CLIENT_MESSAGE`] bytes.

use serde::{Deserialize, Serialize};

use super::batch;
use super::borrowed::{decode_batch_ref, decode_object_into, BatchRef};
use super::frame::{decode_object, first_key, Frame, Next, ParseError};
use crate::query::MAX_SYMBOLS;
use crate::tick::{Batch, Control, Gap};

/// Largest message (and frame) a client may send; larger closes with [`close::TOO_BIG`].
pub const MAX_CLIENT_MESSAGE: usize = 16 * 1024;

/// Most tick JSON bytes one catch-up batch carries: keeps every server message, and so the
/// per-connection write buffer, a few KiB.
pub const BATCH_BYTES: usize = 8 * 1024;

/// The close codes of RFC 6455 § 7.4.1 the server uses, and when.
pub mod close {
    /// The client asked to close, or the session ended normally.
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down (reason `server shutting down`).
    pub const GOING_AWAY: u16 = 1001;
    /// A frame broke the WebSocket protocol (unmasked, bad opcode, fragmented control frame).
    pub const PROTOCOL: u16 = 1002;
    /// A binary message: the protocol is text only.
    pub const UNSUPPORTED: u16 = 1003;
    /// A text message that is not UTF-8, or not a valid op.
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// A valid op the server refuses (unknown symbol, empty or too long list), or a client that
    /// answered no ping twice.
    pub const POLICY: u16 = 1008;
    /// A message over [`MAX_CLIENT_MESSAGE`](super::MAX_CLIENT_MESSAGE) bytes.
    pub const TOO_BIG: u16 = 1009;
}

/// Longest close reason, bytes: a close frame's payload is at most 125 bytes, 2 of them the code.
pub const MAX_REASON: usize = 123;

/// `reason` cut to [`MAX_REASON`] bytes at a character boundary.
pub fn close_reason(reason: &str) -> &str {
    if reason.len() <= MAX_REASON {
        return reason;
    }
    let mut end = MAX_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

/// A tick's message: its JSON as the server encoded it once, unchanged.
pub fn tick(json: &[u8]) -> &[u8] {
    json
}

/// A control frame's message: the one-key object.
pub fn control(c: &Control) -> String {
    c.to_json()
}

/// A catch-up batch's message (`ticks` as `(seq, json)` pairs, as the journal reads them).
pub fn batch<T: AsRef<[u8]>>(next: u64, ticks: &[(u64, T)], gap: Option<Gap>) -> Vec<u8> {
    let mut buf = Vec::new();
    batch::encode(&mut buf, next, ticks, gap);
    buf
}

/// The acknowledgement of an op: its new watchlist applies from seq `next` on.
pub fn ack(op: OpName, next: u64) -> String {
    serde_json::to_string(&AckMsg {
        ack: Ack { op, next },
    })
    .expect("an ack always serializes")
}

/// Which op an [`Ack`] acknowledges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpName {
    Subscribe,
    Unsubscribe,
}

/// The server applied an op: from seq `next` on, ticks follow the new watchlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub op: OpName,
    pub next: u64,
}

#[derive(Serialize, Deserialize)]
struct AckMsg {
    ack: Ack,
}

/// One message from the server, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Down {
    /// A tick or a control frame, as every other stream yields them.
    Frame(Frame),
    /// Several ticks of a catch-up, with the gap notice before them, if any.
    Batch(Batch),
    /// An op was applied.
    Ack(Ack),
}

/// Decodes one text message from the server. Looks at the first key, so a tick costs one parse.
pub fn decode(payload: &[u8]) -> Result<Down, ParseError> {
    match first_key(payload) {
        Some(b"next") => Ok(Down::Batch(batch::decode(payload)?)),
        Some(b"ack") => Ok(Down::Ack(serde_json::from_slice::<AckMsg>(payload)?.ack)),
        _ => Ok(Down::Frame(decode_object(payload)?)),
    }
}

/// One message from the server, decoded without allocating per tick (the load generator's path,
/// as [`FrameParser::next_frame_into`](super::FrameParser::next_frame_into) is for the HTTP
/// streams): a tick goes into the caller's reused [`Tick`](crate::Tick), a batch's ticks borrow
/// from the message.
#[derive(Debug, Clone, PartialEq)]
pub enum DownRef<'a> {
    /// A tick (decoded into the caller's tick) or a control frame.
    Next(Next),
    /// Several ticks of a catch-up, with the gap notice before them, if any.
    Batch(BatchRef<'a>),
    /// An op was applied.
    Ack(Ack),
}

/// [`decode`] with a tick decoded into `tick` (its symbol's buffer reused) and a batch borrowing
/// from `payload`: the same messages, the same errors. On error `tick` is unchanged.
pub fn decode_into<'a>(
    payload: &'a [u8],
    tick: &mut crate::Tick,
) -> Result<DownRef<'a>, ParseError> {
    match first_key(payload) {
        Some(b"next") => Ok(DownRef::Batch(decode_batch_ref(payload)?)),
        Some(b"ack") => Ok(DownRef::Ack(serde_json::from_slice::<AckMsg>(payload)?.ack)),
        _ => Ok(DownRef::Next(decode_object_into(payload, tick)?)),
    }
}

/// A client's request to change its watchlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Op {
    /// Add these symbols (no-op on an "every symbol" watchlist).
    Subscribe { symbols: Vec<String> },
    /// Remove these symbols (from "every symbol", too: it becomes every symbol but these).
    Unsubscribe { symbols: Vec<String> },
}

/// Why a client message was refused, with the close code it earns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct OpError {
    /// One of [`close`]'s codes.
    pub code: u16,
    /// What was wrong, for the close frame (cut to [`MAX_REASON`] when sent).
    pub reason: String,
}

impl OpError {
    /// A refusal with `code` and `reason`.
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        OpError {
            code,
            reason: reason.into(),
        }
    }
}

impl Op {
    /// Which op this is.
    pub fn name(&self) -> OpName {
        match self {
            Op::Subscribe { .. } => OpName::Subscribe,
            Op::Unsubscribe { .. } => OpName::Unsubscribe,
        }
    }

    /// The symbols it names.
    pub fn symbols(&self) -> &[String] {
        match self {
            Op::Subscribe { symbols } | Op::Unsubscribe { symbols } => symbols,
        }
    }

    /// The op's message.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("an op always serializes")
    }

    /// Parses a client's text message: not an op is [`close::INVALID_PAYLOAD`]; an op with an
    /// empty list or over [`MAX_SYMBOLS`] symbols is [`close::POLICY`]. (Whether each symbol
    /// exists is the server's to decide.)
    pub fn parse(text: &str) -> Result<Op, OpError> {
        if text.len() > MAX_CLIENT_MESSAGE {
            return Err(OpError::new(
                close::TOO_BIG,
                format!("message over {MAX_CLIENT_MESSAGE} bytes"),
            ));
        }
        let op: Op = serde_json::from_str(text).map_err(|e| {
            OpError::new(
                close::INVALID_PAYLOAD,
                format!(r#"expected {{"op":"subscribe"|"unsubscribe","symbols":[..]}}: {e}"#),
            )
        })?;
        let n = op.symbols().len();
        if n == 0 {
            return Err(OpError::new(close::POLICY, "symbols must not be empty"));
        }
        if n > MAX_SYMBOLS {
            return Err(OpError::new(
                close::POLICY,
                format!("at most {MAX_SYMBOLS} symbols per op, got {n}"),
            ));
        }
        Ok(op)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{tick as mk, TICK1, TICK2};
    use super::*;

    #[test]
    fn messages_round_trip() {
        let t = decode(tick(TICK1.as_bytes())).unwrap();
        assert!(matches!(t, Down::Frame(Frame::Tick(ref t)) if t.seq == 1 && t.sym == "AAPL"));
        for c in [
            Control::Gap(Gap { from: 2, to: 15 }),
            Control::Heartbeat(7),
            Control::bye(),
        ] {
            assert_eq!(
                decode(control(&c).as_bytes()).unwrap(),
                Down::Frame(c.clone().into())
            );
        }
        let ticks = [mk(16, 3, "AAPL"), mk(17, 1, "A\"<B")];
        let journal: Vec<(u64, Vec<u8>)> = ticks
            .iter()
            .map(|t| (t.seq, serde_json::to_vec(t).unwrap()))
            .collect();
        let gap = Some(Gap { from: 2, to: 15 });
        assert_eq!(
            decode(&batch(18, &journal, gap)).unwrap(),
            Down::Batch(Batch {
                next: 18,
                ticks: ticks.to_vec(),
                gap
            })
        );
        let a = ack(OpName::Unsubscribe, 42);
        assert_eq!(a, r#"{"ack":{"op":"unsubscribe","next":42}}"#);
        assert_eq!(
            decode(a.as_bytes()).unwrap(),
            Down::Ack(Ack {
                op: OpName::Unsubscribe,
                next: 42
            })
        );
    }

    #[test]
    fn bytes_as_documented() {
        assert_eq!(tick(TICK2.as_bytes()), TICK2.as_bytes());
        assert_eq!(
            String::from_utf8(batch(3, &[(1, TICK1), (2, TICK2)], None)).unwrap(),
            format!(r#"{{"next":3,"ticks":[{TICK1},{TICK2}],"gap":null}}"#)
        );
        let op = Op::Subscribe {
            symbols: vec!["AAPL".into(), "BRK.B".into()],
        };
        assert_eq!(
            op.encode(),
            r#"{"op":"subscribe","symbols":["AAPL","BRK.B"]}"#
        );
        assert_eq!(Op::parse(&op.encode()).unwrap(), op);
    }

    #[test]
    fn bad_ops_get_their_close_code() {
        let code = |s: &str| Op::parse(s).unwrap_err().code;
        assert_eq!(code("not json"), close::INVALID_PAYLOAD);
        assert_eq!(
            code(r#"{"op":"buy","symbols":["A"]}"#),
            close::INVALID_PAYLOAD
        );
        assert_eq!(code(r#"{"symbols":["A"]}"#), close::INVALID_PAYLOAD);
        assert_eq!(code(r#"{"op":"subscribe"}"#), close::INVALID_PAYLOAD);
        assert_eq!(
            code(r#"{"op":"subscribe","symbols":"AAPL"}"#),
            close::INVALID_PAYLOAD
        );
        assert_eq!(code(r#"{"op":"subscribe","symbols":[]}"#), close::POLICY);
        let many = Op::Unsubscribe {
            symbols: vec!["A".into(); MAX_SYMBOLS + 1],
        };
        assert_eq!(code(&many.encode()), close::POLICY);
        assert_eq!(code(&" ".repeat(MAX_CLIENT_MESSAGE + 1)), close::TOO_BIG);
        let e = Op::parse("[1]").unwrap_err();
        assert!(e.reason.contains("subscribe"), "{e}");
    }

    /// The borrowed decoder reads every message as [`decode`] does, into one reused tick.
    #[test]
    fn decode_into_matches_decode() {
        let journal: Vec<(u64, Vec<u8>)> = [mk(16, 3, "AAPL"), mk(17, 1, "A\"<B")]
            .iter()
            .map(|t| (t.seq, serde_json::to_vec(t).unwrap()))
            .collect();
        let msgs: Vec<Vec<u8>> = vec![
            tick(TICK1.as_bytes()).to_vec(),
            tick(TICK2.as_bytes()).to_vec(),
            control(&Control::Gap(Gap { from: 2, to: 15 })).into_bytes(),
            control(&Control::Heartbeat(7)).into_bytes(),
            control(&Control::bye()).into_bytes(),
            batch(18, &journal, Some(Gap { from: 2, to: 15 })),
            batch(18, &journal[..0], None),
            ack(OpName::Subscribe, 42).into_bytes(),
        ];
        let mut into = crate::framing::empty_tick();
        for m in &msgs {
            let owned = decode(m).unwrap();
            let got = match decode_into(m, &mut into).unwrap() {
                DownRef::Next(Next::Tick) => Down::Frame(Frame::Tick(into.clone())),
                DownRef::Next(Next::Frame(f)) => Down::Frame(f),
                DownRef::Ack(a) => Down::Ack(a),
                DownRef::Batch(b) => {
                    let mut ticks = Vec::new();
                    for t in &b.ticks {
                        t.write_into(&mut into);
                        ticks.push(into.clone());
                    }
                    Down::Batch(Batch {
                        next: b.next,
                        ticks,
                        gap: b.gap,
                    })
                }
            };
            assert_eq!(got, owned);
        }
        for bad in [
            &b""[..],
            b"{",
            b"\xff",
            br#"{"next":1}"#,
            br#"{"ack":1}"#,
            b"[]",
        ] {
            let before = into.clone();
            assert!(decode_into(bad, &mut into).is_err(), "{bad:?}");
            assert_eq!(into, before);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &b""[..],
            b"{",
            b"\xff",
            br#"{"next":1}"#,
            br#"{"ack":1}"#,
            b"[]",
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reasons_fit_a_close_frame() {
        let long = "é".repeat(100);
        let r = close_reason(&long);
        assert!(r.len() <= MAX_REASON && long.starts_with(r));
        assert_eq!(close_reason("short"), "short");
    }
}
