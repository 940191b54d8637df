//! What the GRIP backend reads of a request and how it refuses one: the query parameters
//! (`since`, `symbols`, `timeout`) and a JSON error answer; shared by its HTTP and WebSocket sides.

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;

/// The query parameters the backend reads.
#[derive(Debug, Default)]
pub struct Query {
    pub(super) since: Option<u64>,
    pub(super) symbols: Option<Vec<String>>,
    pub(super) timeout: Option<u64>,
}

pub fn parse_query(q: Option<&str>) -> Result<Query, String> {
    let mut out = Query::default();
    for pair in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v);
        match k {
            "since" => out.since = Some(v.parse().map_err(|_| "since must be an integer")?),
            "timeout" => out.timeout = Some(v.parse().map_err(|_| "timeout must be an integer")?),
            "symbols" => {
                out.symbols = Some(
                    v.split(',')
                        .map(|s| s.trim().to_ascii_uppercase())
                        .collect(),
                )
            }
            _ => {}
        }
    }
    Ok(out)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn json_error(status: u16, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "error": message }).to_string();
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}
