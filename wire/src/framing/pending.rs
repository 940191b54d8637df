//! [`Pending`]: the buffer of received, not yet consumed bytes every parser scans.

/// Bytes received but not yet consumed by a parser. Each push appends the chunk after dropping
/// what was consumed, so the buffer only ever holds one partial frame plus one chunk; the copy is
/// cheap next to the JSON parse and keeps every parser a plain slice scanner.
///
/// Searches remember how far they got (`scanned`), so a frame that trickles in byte by byte is
/// scanned once in total, not once per byte (which would be quadratic in the frame size).
#[derive(Debug, Default)]
pub(crate) struct Pending {
    buf: Vec<u8>,
    pos: usize,
    /// Leading bytes of `rest()` already searched without a match.
    scanned: usize,
    /// An unrecoverable framing error happened: nothing is buffered any more, and the parser
    /// that owns this buffer yields no further frames (the client reconnects).
    poisoned: bool,
}

/// An idle client should not keep a large buffer alive because of one large burst.
const SHRINK_ABOVE: usize = 64 * 1024;

impl Pending {
    /// Appends `chunk`; ignored once poisoned.
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        if self.poisoned {
            return;
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        if self.buf.is_empty() && self.buf.capacity() > SHRINK_ABOVE {
            self.buf = Vec::new();
        }
        self.buf.extend_from_slice(chunk);
    }

    pub(crate) fn rest(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.buf.len() - self.pos);
        self.pos += n;
        self.scanned = self.scanned.saturating_sub(n);
    }

    /// After an unrecoverable framing error: forgets everything buffered and ignores what
    /// arrives from now on.
    pub(crate) fn poison(&mut self) {
        self.buf = Vec::new();
        self.pos = 0;
        self.scanned = 0;
        self.poisoned = true;
    }

    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Forgets search progress (the parser is about to look for something else).
    pub(crate) fn reset_scan(&mut self) {
        self.scanned = 0;
    }

    /// Index in `rest()` of the first byte matching `pred`.
    pub(crate) fn find_byte(&mut self, pred: impl Fn(u8) -> bool) -> Option<usize> {
        let rest = &self.buf[self.pos..];
        let start = self.scanned.min(rest.len());
        match rest[start..].iter().position(|&b| pred(b)) {
            Some(i) => Some(start + i),
            None => {
                self.scanned = rest.len();
                None
            }
        }
    }

    /// Index in `rest()` of the first occurrence of `needle`.
    pub(crate) fn find_seq(&mut self, needle: &[u8]) -> Option<usize> {
        let rest = &self.buf[self.pos..];
        let start = self
            .scanned
            .saturating_sub(needle.len().saturating_sub(1))
            .min(rest.len());
        match find(&rest[start..], needle) {
            Some(i) => Some(start + i),
            None => {
                self.scanned = rest.len();
                None
            }
        }
    }

    /// The next line: its length without the `\n` and an optional `\r` before it, and how many
    /// bytes it spans including the terminator; `None` when no complete line is buffered yet.
    pub(crate) fn line(&mut self) -> Option<(usize, usize)> {
        let nl = self.find_byte(|b| b == b'\n')?;
        let len = if nl > 0 && self.rest()[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        Some((len, nl + 1))
    }
}

/// Position of `needle` in `hay` (short needles; naive scan is fine at these sizes).
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&b| b == first)
        {
            None => return None,
            Some(off) => {
                i += off;
                if &hay[i..i + needle.len()] == needle {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_scans_incrementally() {
        let mut p = Pending::default();
        p.push(b"abc");
        assert_eq!(p.line(), None);
        p.push(b"d\r\nef");
        assert_eq!(p.line(), Some((4, 6)));
        p.consume(6);
        assert_eq!(p.line(), None);
        p.push(b"\n");
        assert_eq!(p.line(), Some((2, 3)));
        let mut p = Pending::default();
        p.push(b"xx</scr");
        assert_eq!(p.find_seq(b"</script>"), None);
        p.push(b"ipt>");
        assert_eq!(p.find_seq(b"</script>"), Some(2));
    }

    #[test]
    fn find_works() {
        assert_eq!(find(b"abc<script>", b"<script>"), Some(3));
        assert_eq!(find(b"<scrip", b"<script>"), None);
        assert_eq!(find(b"<<script>", b"<script>"), Some(1));
        assert_eq!(find(b"", b"x"), None);
    }
}
