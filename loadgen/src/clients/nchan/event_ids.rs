//! The `id:` of each EventSource event, as the raw string Nchan sent (`time:tag`, not a number
//! like tickbench's), read alongside tickbench's own SSE parser from the same bytes.

use std::collections::VecDeque;

/// Collects the id in force at the end of each event that carried data, in order.
#[derive(Debug, Default)]
pub struct EventIds {
    line: Vec<u8>,
    current: Option<String>,
    has_data: bool,
    done: VecDeque<Option<String>>,
}

impl EventIds {
    pub fn push(&mut self, chunk: &[u8]) {
        for &b in chunk {
            if b != b'\n' {
                self.line.push(b);
                continue;
            }
            let line = std::mem::take(&mut self.line);
            let line = line.strip_suffix(b"\r").unwrap_or(&line);
            if line.is_empty() {
                if std::mem::take(&mut self.has_data) {
                    self.done.push_back(self.current.clone());
                }
            } else if let Some(v) = line.strip_prefix(b"id:") {
                let v = v.strip_prefix(b" ").unwrap_or(v);
                self.current = Some(String::from_utf8_lossy(v).into_owned());
            } else if line.starts_with(b"data") {
                self.has_data = true;
            }
        }
    }

    /// The id of the next completed event, in the order the SSE parser yields them.
    pub fn pop(&mut self) -> Option<String> {
        self.done.pop_front().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_events() {
        let mut ids = EventIds::default();
        ids.push(b": hi\n\nid: 17:[0],-\ndata: {}\nda");
        ids.push(b"ta: \n\nid: 17:0,[1]\r\ndata: x\r\n\r\n");
        assert_eq!(ids.pop().as_deref(), Some("17:[0],-"));
        assert_eq!(ids.pop().as_deref(), Some("17:0,[1]"));
        assert_eq!(ids.pop(), None);
    }
}
