//! The batch body every non-streaming answer carries (`"next":N,"ticks":[...],"gap":...`), with
//! the tick JSON copied from the journal, never re-serialized.

use tickbench_wire::Gap;

/// Appends the batch fields `"next":N,"ticks":[...],"gap":...` (no braces, so the piggyback
/// answers can put their own fields in front). Tick JSON is copied, never re-serialized.
pub fn write_batch_fields(
    buf: &mut Vec<u8>,
    next: u64,
    ticks: &[(u64, bytes::Bytes)],
    gap: Option<Gap>,
) {
    use std::io::Write as _;
    let _ = write!(buf, "\"next\":{next},\"ticks\":[");
    for (i, (_, json)) in ticks.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(json);
    }
    buf.extend_from_slice(b"],\"gap\":");
    match gap {
        Some(g) => {
            let _ = write!(buf, "{{\"from\":{},\"to\":{}}}", g.from, g.to);
        }
        None => buf.extend_from_slice(b"null"),
    }
}

/// A whole batch object.
pub fn batch_json(next: u64, ticks: &[(u64, bytes::Bytes)], gap: Option<Gap>) -> Vec<u8> {
    let size: usize = ticks.iter().map(|(_, j)| j.len() + 1).sum();
    let mut buf = Vec::with_capacity(size + 64);
    buf.push(b'{');
    write_batch_fields(&mut buf, next, ticks, gap);
    buf.push(b'}');
    buf
}
