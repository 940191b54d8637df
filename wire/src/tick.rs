//! Ticks and the frames that carry them.

use serde::{Deserialize, Serialize};

/// One market event for one symbol, as the server encodes it once and every transport sends it.
///
/// `seq` is the journal cursor (global, +1 per tick, starting at 1); `sseq` counts this symbol's
/// ticks (+1 per tick of `sym`, starting at 1) so a client that watches only some symbols can still
/// prove it lost none of them. `ts` is the tick's *scheduled* time in µs since the Unix epoch, not
/// the time the generator produced it: a stalled generator shows up as latency instead of hiding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    pub seq: u64,
    pub sseq: u64,
    pub sym: String,
    pub bid: f64,
    pub ask: f64,
    pub last: f64,
    pub size: u32,
    pub ts: u64,
}

/// A seq range the client asked for that the journal no longer holds (inclusive on both ends).
///
/// Loss is always explicit: whenever a cursor has fallen out of the retained window the server says
/// so with a `Gap`, then continues from the oldest retained tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub from: u64,
    pub to: u64,
}

/// The answer of every request-based transport (`/poll`, JSONP, `/longpoll`, and flattened into
/// the piggyback answers): the ticks at or after `since` that match the client's symbols, and the
/// cursor to send as `since` next time.
///
/// `next` is one past the last seq the server *scanned*, not the last one it returned, so a client
/// that watches a few quiet symbols still moves forward through the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub next: u64,
    pub ticks: Vec<Tick>,
    pub gap: Option<Gap>,
}

/// Non-tick frames on the streaming transports: the one value every format's encoder (the
/// `framing` module) writes them from (NDJSON lines and multipart parts as the one-key object,
/// SSE as `event:`s and a comment, iframe as calls). Serialized as a one-key object, e.g.
/// `{"gap":{"from":1,"to":9}}`, `{"heartbeat":1795397385123456}`, `{"bye":"server shutting down"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Control {
    /// Ticks in this range were lost to the journal's bound; delivery continues after it.
    Gap(Gap),
    /// Keeps idle connections and intermediaries alive; carries the server clock (µs).
    Heartbeat(u64),
    /// The server is shutting down; the client should reconnect with its cursor later.
    Bye(String),
}

impl Control {
    /// The reason every shutdown `bye` gives.
    pub const BYE_REASON: &'static str = "server shutting down";

    /// The shutdown notice every stream ends with.
    pub fn bye() -> Control {
        Control::Bye(Control::BYE_REASON.to_string())
    }

    /// The one-key JSON object, e.g. `{"gap":{"from":1,"to":9}}`: the one encoder of control
    /// frames, which every framing wraps in its own way.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a control frame always serializes")
    }

    /// The payload alone (`{"from":1,"to":9}`, `1795397385123456`, `"server shutting down"`), for
    /// framings that name the control by other means (SSE `event:`, iframe function names).
    pub fn payload_json(&self) -> String {
        let r = match self {
            Control::Gap(g) => serde_json::to_string(g),
            Control::Heartbeat(ts) => serde_json::to_string(ts),
            Control::Bye(reason) => serde_json::to_string(reason),
        };
        r.expect("a control payload always serializes")
    }

    /// The control's name: its JSON key, and the SSE event name of the two that are events
    /// (a heartbeat is an SSE comment `hb`, and the iframe page function `hb`).
    pub fn name(&self) -> &'static str {
        match self {
            Control::Gap(_) => "gap",
            Control::Heartbeat(_) => "heartbeat",
            Control::Bye(_) => "bye",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_matches_documented_shape() {
        let t = Tick {
            seq: 1042,
            sseq: 77,
            sym: "AAPL".into(),
            bid: 189.21,
            ask: 189.23,
            last: 189.22,
            size: 300,
            ts: 1795397385123456,
        };
        let s = serde_json::to_string(&t).unwrap();
        assert_eq!(
            s,
            r#"{"seq":1042,"sseq":77,"sym":"AAPL","bid":189.21,"ask":189.23,"last":189.22,"size":300,"ts":1795397385123456}"#
        );
        assert_eq!(serde_json::from_str::<Tick>(&s).unwrap(), t);
    }

    #[test]
    fn control_frames_are_one_key_objects() {
        let g = Control::Gap(Gap { from: 1, to: 9 });
        assert_eq!(
            serde_json::to_string(&g).unwrap(),
            r#"{"gap":{"from":1,"to":9}}"#
        );
        assert_eq!(
            serde_json::to_string(&Control::Heartbeat(5)).unwrap(),
            r#"{"heartbeat":5}"#
        );
        let b: Control = serde_json::from_str(r#"{"bye":"x"}"#).unwrap();
        assert_eq!(b, Control::Bye("x".into()));
    }

    #[test]
    fn batch_with_null_gap() {
        let b: Batch = serde_json::from_str(r#"{"next":1050,"ticks":[],"gap":null}"#).unwrap();
        assert_eq!(b.next, 1050);
        assert!(b.gap.is_none());
    }
}
