use std::time::Duration;

use serde_json::Value;
use tickbench_server::{Config, ServerHandle};

/// A rate-0 server on a free loopback port.
pub async fn server() -> ServerHandle {
    server_with(Config {
        rate: 0.0,
        ..Config::default()
    })
    .await
}

pub async fn server_with(cfg: Config) -> ServerHandle {
    tickbench_server::spawn(cfg, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("server starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// GET → (status, JSON body).
pub async fn get_json(url: &str) -> (u16, Value) {
    let r = client().get(url).send().await.expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, v)
}

/// The value of the Prometheus sample `key` (name plus labels, e.g.
/// `tickbench_requests_total{endpoint="poll"}`) in `{url}/metrics`, as a whole number (a sample
/// in seconds, such as `tickbench_generator_lag_seconds`, is truncated); panics if there is none.
pub async fn metric(url: &str, key: &str) -> u64 {
    let text = client()
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("{key} ");
    let value = text
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key} in /metrics:\n{text}"));
    let value = value.trim();
    value.parse().unwrap_or_else(|_| {
        let f: f64 = value
            .parse()
            .unwrap_or_else(|e| panic!("{key} is not a number ({e}): {value}"));
        f as u64
    })
}

/// Reads a raw connection until it ends (10 s at most): `"eof"` for a clean close, `"reset"`
/// for an error (a connection cut with RST).
pub async fn read_until_closed(c: &mut tokio::net::TcpStream) -> &'static str {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 1 << 16];
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match c.read(&mut buf).await {
                Ok(0) => break "eof",
                Ok(_) => continue,
                Err(_) => break "reset",
            }
        }
    })
    .await
    .expect("the cut connection never ended at the client")
}

/// Reads a streaming body chunk by chunk, keeping everything received.
pub struct StreamReader {
    pub resp: reqwest::Response,
    pub buf: Vec<u8>,
}

impl StreamReader {
    pub async fn open(url: &str) -> StreamReader {
        Self::open_with(client().get(url)).await
    }

    pub async fn open_with(req: reqwest::RequestBuilder) -> StreamReader {
        let resp = req.send().await.expect("stream request");
        assert_eq!(resp.status().as_u16(), 200, "stream status");
        StreamReader {
            resp,
            buf: Vec::new(),
        }
    }

    pub fn header(&self, name: &str) -> String {
        self.resp
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf).into_owned()
    }

    /// Reads until `pred(text so far)` holds; panics after 10 s or at end of stream.
    pub async fn until(&mut self, what: &str, pred: impl Fn(&str) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        // Borrowed when the bytes are UTF-8 (they always are here): a backlog of megabytes read
        // in small chunks would otherwise be copied once per chunk.
        let holds = |buf: &[u8]| match std::str::from_utf8(buf) {
            Ok(t) => pred(t),
            Err(_) => pred(&String::from_utf8_lossy(buf)),
        };
        while !holds(&self.buf) {
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}; got:\n{}", self.text()))
                .expect("stream read");
            match chunk {
                Some(c) => self.buf.extend_from_slice(&c),
                None => panic!("stream ended waiting for {what}; got:\n{}", self.text()),
            }
        }
    }

    /// Reads until the stream contains `needle` (10 s at most), scanning only what arrived since
    /// the last chunk (plus an overlap for a needle split across chunks): a backlog of megabytes
    /// read in many chunks stays linear, where [`StreamReader::until`] re-reads the whole text per
    /// chunk — quadratic, seconds of CPU in a debug build on a loaded machine.
    pub async fn until_contains(&mut self, what: &str, needle: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut scanned: usize = 0;
        loop {
            let from = scanned.saturating_sub(needle.len());
            if self.buf[from..]
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
            {
                return;
            }
            scanned = self.buf.len();
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk())
                .await
                .unwrap_or_else(|_| {
                    panic!("timed out waiting for {what}; got {} bytes", self.buf.len())
                })
                .expect("stream read");
            match chunk {
                Some(c) => self.buf.extend_from_slice(&c),
                None => panic!("stream ended waiting for {what}; got:\n{}", self.text()),
            }
        }
    }

    /// Reads to the end of the stream (10 s at most).
    pub async fn read_until_end(&mut self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk())
                .await
                .expect("stream did not end")
                .expect("stream read");
            match chunk {
                Some(c) => self.buf.extend_from_slice(&c),
                None => return,
            }
        }
    }
}

/// Complete NDJSON lines received so far, parsed.
pub fn ndjson(text: &str) -> Vec<Value> {
    text.split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| serde_json::from_str(l.trim_end()).unwrap())
        .collect()
}

/// Seqs of the tick objects in `frames`.
pub fn seqs(frames: &[Value]) -> Vec<u64> {
    frames
        .iter()
        .filter_map(|f| f.get("seq").and_then(Value::as_u64))
        .collect()
}
