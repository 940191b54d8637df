//! `GET /iframe`: the "forever iframe", an HTML document that never ends, one `<script>` per
//! event calling into the parent page.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use tickbench_wire::Transport;

use super::control::BYE_REASON;
use super::feed::Feed;
use super::streaming::framed_response;
use crate::conn::Conn;
use crate::params::Params;
use crate::state::AppState;

/// Browsers buffer the start of a document before running scripts; this much padding gets the
/// preamble past that buffer so the first tick runs at once.
const PADDING: usize = 1024;

pub async fn handler(State(st): State<Arc<AppState>>, conn: Conn, p: Params) -> Response {
    let mut pre = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>tickbench</title></head><body>\n<!--",
    );
    pre.push_str(&" ".repeat(PADDING));
    pre.push_str("-->\n");
    framed_response(
        st,
        Transport::Iframe,
        p,
        "text/html; charset=utf-8",
        Some(Bytes::from(pre)),
        frame,
        conn,
    )
}

/// Appends `json` with every `<` written as `\u003c`, so the chunk can never close its own
/// script tag (a no-op copy for normal ticks, which contain no `<`).
fn push_escaped(buf: &mut Vec<u8>, json: &[u8]) {
    for &b in json {
        if b == b'<' {
            buf.extend_from_slice(br"\u003c");
        } else {
            buf.push(b);
        }
    }
}

fn call(buf: &mut Vec<u8>, func: &str, arg: &[u8]) {
    buf.extend_from_slice(b"<script>parent.");
    buf.extend_from_slice(func.as_bytes());
    buf.push(b'(');
    push_escaped(buf, arg);
    buf.extend_from_slice(b");</script>\n");
}

fn frame(f: &Feed) -> Bytes {
    let mut buf = Vec::new();
    match f {
        Feed::Ticks { gap, ticks } => {
            let size: usize = ticks.iter().map(|(_, j)| j.len() + 40).sum();
            buf.reserve(size + 96);
            if let Some(g) = gap {
                call(
                    &mut buf,
                    "gap",
                    format!("{{\"from\":{},\"to\":{}}}", g.from, g.to).as_bytes(),
                );
            }
            for (_, json) in ticks {
                call(&mut buf, "tick", json);
            }
        }
        Feed::Heartbeat(ts) => call(&mut buf, "hb", ts.to_string().as_bytes()),
        Feed::Bye => {
            call(&mut buf, "bye", format!("\"{BYE_REASON}\"").as_bytes());
            buf.extend_from_slice(b"</body></html>\n");
        }
    }
    buf.into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_lt() {
        let mut b = Vec::new();
        super::call(&mut b, "tick", br#"{"x":"</script>"}"#);
        let s = String::from_utf8(b).unwrap();
        assert_eq!(
            s,
            "<script>parent.tick({\"x\":\"\\u003c/script>\"});</script>\n"
        );
    }
}
