//! Why an experiment file could not be used, located: the line, column and field at fault.

/// Why an experiment file could not be used. The message is one line naming file, line and field.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error("cannot read experiment file {path}: {error}")]
    Read { path: String, error: String },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, column)
}

/// The key of serde's "unknown field `key`, expected …" message.
pub(crate) fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

/// Byte offset of the first `key =` line at or after `from`.
pub(crate) fn key_offset(text: &str, from: usize, key: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if offset + line.len() > from {
            if let Some(rest) = t.strip_prefix(key) {
                if rest.trim_start().starts_with('=') {
                    return Some(offset + line.len() - t.len());
                }
            }
        }
        offset += line.len();
    }
    None
}

/// Position of a top-level `key =` line (1,1 when not found).
pub(crate) fn key_position(text: &str, key: &str) -> (usize, usize) {
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                return (i + 1, line.len() - t.len() + 1);
            }
        }
    }
    (1, 1)
}
