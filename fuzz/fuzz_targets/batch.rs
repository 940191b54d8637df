//! Batch answers (poll, long-poll, piggyback's flattened batches, error bodies) and JSONP: never a
//! panic; `strip_jsonp` returns exactly the argument of a call it is given and a slice of its
//! input otherwise; a batch that parses, written again by wire's batch and JSONP encoders, decodes
//! to the same batch.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickbench_wire::framing::jsonp::{strip_jsonp, CALLBACK};
use tickbench_wire::framing::{batch, jsonp};
use tickbench_wire::{ApiError, Batch, OrderResponse, QuoteResponse, Symbols};

/// Equality of the integer and string fields (floats are left out: serde_json's default float
/// parsing is best-effort, so an exact f64 comparison could flag serde_json, not tickbench).
fn same(a: &Batch, b: &Batch) {
    assert_eq!(a.next, b.next);
    assert_eq!(a.gap, b.gap);
    assert_eq!(a.ticks.len(), b.ticks.len());
    for (x, y) in a.ticks.iter().zip(&b.ticks) {
        assert_eq!(
            (x.seq, x.sseq, &x.sym, x.size, x.ts),
            (y.seq, y.sseq, &y.sym, y.size, y.ts)
        );
    }
}

/// Through serde, through the server's batch encoder, and through its JSONP encoder.
fn round_trip(b: &Batch) {
    let s = serde_json::to_vec(b).expect("a parsed batch serializes");
    let back: Batch = serde_json::from_slice(&s).expect("a serialized batch parses");
    same(&back, b);

    let journal: Vec<(u64, Vec<u8>)> = b
        .ticks
        .iter()
        .map(|t| {
            (
                t.seq,
                serde_json::to_vec(t).expect("a parsed tick serializes"),
            )
        })
        .collect();
    let mut body = Vec::new();
    batch::encode(&mut body, b.next, &journal, b.gap);
    same(&batch::decode(&body).expect("an encoded batch decodes"), b);
    let mut body = Vec::new();
    jsonp::encode(&mut body, CALLBACK, b.next, &journal, b.gap);
    same(
        &jsonp::decode(&body, CALLBACK).expect("an encoded JSONP answer decodes"),
        b,
    );
}

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = batch::decode(data) {
        round_trip(&b);
    }
    let _ = serde_json::from_slice::<QuoteResponse>(data);
    let _ = serde_json::from_slice::<OrderResponse>(data);
    let _ = serde_json::from_slice::<Symbols>(data);
    let _ = serde_json::from_slice::<ApiError>(data);

    // Arbitrary bodies: an answer, when there is one, is a sub-slice of the body.
    if let Ok(arg) = strip_jsonp(data, CALLBACK) {
        let start = arg.as_ptr() as usize - data.as_ptr() as usize;
        assert!(start + arg.len() <= data.len());
        if let Ok(b) = batch::decode(arg) {
            round_trip(&b);
        }
    }

    // Wrapped bodies, with and without the guard and padding: exactly the argument comes back.
    let mut wrapped = Vec::with_capacity(data.len() + 32);
    wrapped.extend_from_slice(CALLBACK.as_bytes());
    wrapped.push(b'(');
    wrapped.extend_from_slice(data);
    wrapped.extend_from_slice(b");");
    assert_eq!(
        strip_jsonp(&wrapped, CALLBACK).ok(),
        Some(data),
        "plain wrap"
    );
    let mut guarded = b"/**/ ".to_vec();
    guarded.extend_from_slice(&wrapped);
    guarded.extend_from_slice(b" \r\n");
    assert_eq!(
        strip_jsonp(&guarded, CALLBACK).ok(),
        Some(data),
        "guarded wrap"
    );
});
