//! [`Encoder`]: how the server writes one streaming format, the counterpart of a [`FrameParser`].
//!
//! [`FrameParser`]: super::frame::FrameParser

use crate::tick::{Control, Gap};

/// The server side of one streaming format. Implemented by a unit type per format (next to
/// that format's parser), so a response's content type, its preamble and every frame's bytes
/// have one definition, which the format's round-trip test checks against its parser.
///
/// Encoders append to a caller's `Vec<u8>`: a server can frame a whole wake-up's ticks into one
/// buffer (one allocation, one body chunk), and a later server could frame each tick once at
/// publish time and share the bytes between its streams.
pub trait Encoder {
    /// The response's `Content-Type`.
    const CONTENT_TYPE: &'static str;

    /// About how many bytes one tick takes besides its JSON: sizes a chunk's buffer up front.
    const TICK_OVERHEAD: usize;

    /// What the response starts with, before any frame (nothing by default).
    fn preamble(buf: &mut Vec<u8>) {
        let _ = buf;
    }

    /// Appends one tick, given as the JSON the server encoded once, with its seq.
    fn tick(buf: &mut Vec<u8>, seq: u64, json: &[u8]);

    /// Appends one control frame. [`Control::Bye`] is the last frame of a response: after it
    /// the encoder also writes the format's end mark, if it has one.
    fn control(buf: &mut Vec<u8>, control: &Control);

    /// Appends what one read of the journal found: the gap notice, if any, then the ticks
    /// (`(seq, json)` pairs), sized in one allocation.
    fn ticks<T: AsRef<[u8]>>(buf: &mut Vec<u8>, gap: Option<Gap>, ticks: &[(u64, T)]) {
        let size: usize = ticks
            .iter()
            .map(|(_, j)| j.as_ref().len() + Self::TICK_OVERHEAD)
            .sum();
        buf.reserve(size + 128);
        if let Some(g) = gap {
            Self::control(buf, &Control::Gap(g));
        }
        for (seq, json) in ticks {
            Self::tick(buf, *seq, json.as_ref());
        }
    }
}
