//! Both sides of JSONP polling (`GET /poll?since=&callback=fn`): [`encode`] writes, [`decode`] reads.
//!
//! The batch wrapped as `fn({batch});`, the way a page without CORS loaded data cross-origin
//! through a `<script>` tag. The callback name is checked by the request grammar
//! ([`crate::query::valid_callback`]) before the server wraps anything in it.

use super::batch;
use super::frame::ParseError;
use crate::tick::{Batch, Gap};

/// The `Content-Type` of a JSONP answer.
pub const CONTENT_TYPE: &str = "application/javascript; charset=utf-8";

/// The callback name tickbench's clients ask for (a jQuery-style generated name).
pub const CALLBACK: &str = "tickbench_cb";

/// Appends `callback(` the batch `);`. `callback` must already be valid
/// ([`crate::query::valid_callback`]): nothing here escapes it.
pub fn encode<T: AsRef<[u8]>>(
    buf: &mut Vec<u8>,
    callback: &str,
    next: u64,
    ticks: &[(u64, T)],
    gap: Option<Gap>,
) {
    buf.reserve(callback.len() + 3);
    buf.extend_from_slice(callback.as_bytes());
    buf.push(b'(');
    batch::encode(buf, next, ticks, gap);
    buf.extend_from_slice(b");");
}

/// The batch a JSONP answer calls `callback` with.
pub fn decode(body: &[u8], callback: &str) -> Result<Batch, ParseError> {
    batch::decode(strip_jsonp(body, callback)?)
}

/// The JSON argument of `callback( … );` in `body`. Tolerates surrounding whitespace, a `/**/`
/// prefix (a common guard against content sniffing) and a missing final `;`.
pub fn strip_jsonp<'a>(body: &'a [u8], callback: &str) -> Result<&'a [u8], ParseError> {
    let s = body.trim_ascii();
    let s = s.strip_prefix(b"/**/").unwrap_or(s).trim_ascii_start();
    let s = s
        .strip_prefix(callback.as_bytes())
        .ok_or(ParseError::Malformed(
            "JSONP body does not call the callback",
        ))?
        .trim_ascii_start();
    let s = s
        .strip_prefix(b"(")
        .ok_or(ParseError::Malformed("JSONP callback without arguments"))?;
    let s = s.strip_suffix(b";").unwrap_or(s).trim_ascii_end();
    s.strip_suffix(b")")
        .ok_or(ParseError::Malformed("JSONP call not closed"))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{tick, TICK1};
    use super::*;

    #[test]
    fn strips_the_call() {
        let body = br#"tickbench_cb({"next":1,"ticks":[],"gap":null});"#;
        assert_eq!(
            strip_jsonp(body, CALLBACK).unwrap(),
            br#"{"next":1,"ticks":[],"gap":null}"#
        );
        assert_eq!(
            strip_jsonp(b"/**/ tickbench_cb ( {} )\n", CALLBACK).unwrap(),
            b" {} "
        );
        assert!(strip_jsonp(b"other({});", CALLBACK).is_err());
        assert!(strip_jsonp(b"tickbench_cb{};", CALLBACK).is_err());
        assert!(strip_jsonp(b"tickbench_cb({};", CALLBACK).is_err());
        assert!(strip_jsonp(b"", CALLBACK).is_err());
    }

    #[test]
    fn round_trip() {
        let ticks = vec![tick(16, 3, "AAPL"), tick(17, 1, "</script>")];
        let journal: Vec<_> = ticks
            .iter()
            .map(|t| (t.seq, serde_json::to_vec(t).unwrap()))
            .collect();
        for cb in [CALLBACK, "$.a_b.c9"] {
            let mut b = Vec::new();
            encode(&mut b, cb, 18, &journal, Some(Gap { from: 2, to: 15 }));
            let got = decode(&b, cb).unwrap();
            assert_eq!(
                got,
                Batch {
                    next: 18,
                    ticks: ticks.clone(),
                    gap: Some(Gap { from: 2, to: 15 })
                }
            );
        }
    }

    #[test]
    fn bytes_as_the_server_always_sent_them() {
        let mut b = Vec::new();
        encode(&mut b, "cb", 2, &[(1, TICK1)], None);
        assert_eq!(
            String::from_utf8(b).unwrap(),
            format!(r#"cb({{"next":2,"ticks":[{TICK1}],"gap":null}});"#)
        );
    }
}
