//! Nchan's `multipart/mixed` stream, read incrementally: tickbench's own multipart parser needs a
//! `Content-Length` per part, Nchan's parts have none and each ends at the next delimiter.
//!
//! The body is `--B`, then per message the headers
//! `\r\nLast-Modified: …\r\nEtag: …\r\n[Content-Type: …\r\n]\r\n`, the message and
//! `\r\n--B` (Nchan writes the delimiter *after* each part, without a newline), and `--B--` at the
//! end.

/// One message with its cursor headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub body: Vec<u8>,
    pub last_modified: Option<String>,
    pub etag: Option<String>,
}

/// What the parser found next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Part(Part),
    /// The close delimiter `--B--`.
    End,
}

/// Refuses to buffer more than this waiting for a delimiter.
const MAX_BUFFER: usize = 1 << 20;

/// Incremental reader of one response.
#[derive(Debug)]
pub struct NchanMultipart {
    buf: Vec<u8>,
    /// `--` + boundary.
    delim: Vec<u8>,
    /// The first delimiter was seen.
    started: bool,
    done: bool,
}

impl NchanMultipart {
    pub fn new(boundary: &str) -> Self {
        NchanMultipart {
            buf: Vec::new(),
            delim: format!("--{boundary}").into_bytes(),
            started: false,
            done: false,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        if !self.done {
            self.buf.extend_from_slice(chunk);
        }
    }

    /// The next part, `None` when more bytes are needed, `Err` when the stream is malformed or a
    /// part outgrows the buffer limit.
    pub fn next_item(&mut self) -> Option<Result<Item, &'static str>> {
        if self.done {
            return None;
        }
        if !self.started {
            let Some(at) = find(&self.buf, &self.delim) else {
                return self.too_big();
            };
            self.buf.drain(..at + self.delim.len());
            self.started = true;
        }
        // Right after a delimiter: `--` closes, `\r\n` starts the part's headers.
        if self.buf.len() < 2 {
            return None;
        }
        if self.buf.starts_with(b"--") {
            self.done = true;
            return Some(Ok(Item::End));
        }
        let Some(head_end) = find(&self.buf, b"\r\n\r\n") else {
            return self.too_big();
        };
        let body_start = head_end + 4;
        let mut end_mark = b"\r\n".to_vec();
        end_mark.extend_from_slice(&self.delim);
        let Some(body_len) = find(&self.buf[body_start..], &end_mark) else {
            return self.too_big();
        };
        let headers = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let body = self.buf[body_start..body_start + body_len].to_vec();
        self.buf.drain(..body_start + body_len + end_mark.len());
        let header = |name: &str| {
            headers.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
        };
        Some(Ok(Item::Part(Part {
            body,
            last_modified: header("last-modified"),
            etag: header("etag"),
        })))
    }

    fn too_big(&mut self) -> Option<Result<Item, &'static str>> {
        if self.buf.len() > MAX_BUFFER {
            self.done = true;
            Some(Err("multipart part over 1 MiB"))
        } else {
            None
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = "--XyZ\r\nLast-Modified: Mon, 30 Nov 2026 09:47:17 GMT\r\nEtag: [0],-\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\n\r\n--XyZ\r\nLast-Modified: Mon, 30 Nov 2026 09:47:18 GMT\r\nEtag: -,[0]\r\n\r\n{\"b\":2}\n\r\n--XyZ--";

    #[test]
    fn parts_in_any_split() {
        for cut in 1..STREAM.len() {
            let mut p = NchanMultipart::new("XyZ");
            let mut items = Vec::new();
            for piece in [&STREAM[..cut], &STREAM[cut..]] {
                p.push(piece.as_bytes());
                while let Some(i) = p.next_item() {
                    items.push(i.unwrap());
                }
            }
            assert_eq!(items.len(), 3, "cut at {cut}");
            let Item::Part(first) = &items[0] else {
                panic!()
            };
            assert_eq!(first.body, b"{\"a\":1}\n");
            assert_eq!(first.etag.as_deref(), Some("[0],-"));
            let Item::Part(second) = &items[1] else {
                panic!()
            };
            assert_eq!(second.etag.as_deref(), Some("-,[0]"));
            assert_eq!(items[2], Item::End);
        }
    }
}
