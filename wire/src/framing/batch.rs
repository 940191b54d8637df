//! Both sides of the batch answer (`/poll`, `/longpoll`, piggyback): [`encode`] writes, [`decode`] reads.
//!
//! `{"next":N,"ticks":[...],"gap":null}`: the ticks are the JSON the server encoded once, copied
//! in, never re-serialized. A piggyback answer is the same fields after the application's own
//! (`{"quote":{..},"next":..}`), which [`decode`] reads as a batch too.

use std::io::Write as _;

use serde::Serialize;

use super::frame::ParseError;
use crate::tick::{Batch, Gap};

/// Appends the batch object for `ticks` (`(seq, json)` pairs, as the journal reads them).
pub fn encode<T: AsRef<[u8]>>(buf: &mut Vec<u8>, next: u64, ticks: &[(u64, T)], gap: Option<Gap>) {
    reserve(buf, ticks, 64);
    buf.push(b'{');
    fields(buf, next, ticks, gap);
    buf.push(b'}');
}

/// Appends `{"KEY":PAYLOAD,"next":..,"ticks":[..],"gap":..}`: the piggyback answer, where the
/// batch rides along with the application's payload.
pub fn encode_flattened<P, T>(
    buf: &mut Vec<u8>,
    key: &str,
    payload: &P,
    next: u64,
    ticks: &[(u64, T)],
    gap: Option<Gap>,
) where
    P: Serialize + ?Sized,
    T: AsRef<[u8]>,
{
    reserve(buf, ticks, 512);
    buf.extend_from_slice(b"{\"");
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b"\":");
    // The application payloads (quotes, order acks) always serialize.
    let _ = serde_json::to_writer(&mut *buf, payload);
    buf.push(b',');
    fields(buf, next, ticks, gap);
    buf.push(b'}');
}

/// The batch in an answer's body (other fields, such as a piggyback payload, are ignored).
pub fn decode(body: &[u8]) -> Result<Batch, ParseError> {
    Ok(serde_json::from_slice(body)?)
}

fn reserve<T: AsRef<[u8]>>(buf: &mut Vec<u8>, ticks: &[(u64, T)], extra: usize) {
    let size: usize = ticks.iter().map(|(_, j)| j.as_ref().len() + 1).sum();
    buf.reserve(size + extra);
}

/// `"next":N,"ticks":[...],"gap":...`, without braces.
fn fields<T: AsRef<[u8]>>(buf: &mut Vec<u8>, next: u64, ticks: &[(u64, T)], gap: Option<Gap>) {
    let _ = write!(buf, "\"next\":{next},\"ticks\":[");
    for (i, (_, json)) in ticks.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(json.as_ref());
    }
    buf.extend_from_slice(b"],\"gap\":");
    match gap {
        Some(g) => {
            let _ = serde_json::to_writer(&mut *buf, &g);
        }
        None => buf.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{tick, TICK1, TICK2};
    use super::*;
    use crate::api::{Quote, QuoteResponse};

    fn journal(ticks: &[crate::tick::Tick]) -> Vec<(u64, Vec<u8>)> {
        ticks
            .iter()
            .map(|t| (t.seq, serde_json::to_vec(t).unwrap()))
            .collect()
    }

    #[test]
    fn round_trip() {
        let ticks = vec![tick(16, 3, "AAPL"), tick(17, 1, "A\"<B")];
        for gap in [None, Some(Gap { from: 2, to: 15 })] {
            let mut b = Vec::new();
            encode(&mut b, 18, &journal(&ticks), gap);
            let got = decode(&b).unwrap();
            assert_eq!(
                got,
                Batch {
                    next: 18,
                    ticks: ticks.clone(),
                    gap
                }
            );
        }
        let mut b = Vec::new();
        encode(&mut b, 7, &journal(&[]), None);
        assert_eq!(decode(&b).unwrap().ticks, []);
    }

    #[test]
    fn flattened_round_trip() {
        let quote = Quote {
            sym: "AAPL".into(),
            bid: 1.0,
            ask: 1.5,
            last: 1.25,
            open: 1.0,
            high: 2.0,
            low: 0.5,
            volume: 100,
            seq: 16,
            sseq: 3,
            ts: 9,
        };
        let ticks = vec![tick(16, 3, "AAPL")];
        let gap = Some(Gap { from: 2, to: 15 });
        let mut b = Vec::new();
        encode_flattened(&mut b, "quote", &quote, 17, &journal(&ticks), gap);
        let r: QuoteResponse = serde_json::from_slice(&b).unwrap();
        assert_eq!(
            (r.quote, r.next, r.ticks, r.gap),
            (quote, 17, ticks.clone(), gap)
        );
        assert_eq!(decode(&b).unwrap().ticks, ticks);
    }

    #[test]
    fn bytes_as_the_server_always_sent_them() {
        let ticks = [(1, TICK1), (2, TICK2)];
        let mut b = Vec::new();
        encode(&mut b, 3, &ticks, Some(Gap { from: 1, to: 0 }));
        assert_eq!(
            String::from_utf8(b).unwrap(),
            format!(r#"{{"next":3,"ticks":[{TICK1},{TICK2}],"gap":{{"from":1,"to":0}}}}"#)
        );
        let mut b = Vec::new();
        encode_flattened(
            &mut b,
            "order",
            &serde_json::json!({"id":1}),
            3,
            &ticks[..0],
            None,
        );
        assert_eq!(
            String::from_utf8(b).unwrap(),
            r#"{"order":{"id":1},"next":3,"ticks":[],"gap":null}"#
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode(b"").is_err());
        assert!(decode(br#"{"next":1}"#).is_err());
        assert!(decode(b"{\"next\":1,\"ticks\":[{}],\"gap\":null}").is_err());
    }
}
