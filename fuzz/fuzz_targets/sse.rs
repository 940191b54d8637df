//! SSE parser: chunking (including a CR at a chunk end followed by LF) never changes the events or
//! the last event id; garbage never panics; no unbounded growth; what it accepts, the encoder
//! writes back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickbench_fuzz::{check_growth, check_reencode, check_splits, Control, GROWTH_MODE};
use tickbench_wire::framing::{Frame, Sse, SseParser};

fuzz_target!(|data: &[u8]| {
    let ctl = Control::split(data);
    if ctl.mode == GROWTH_MODE {
        check_growth(ctl.stream, SseParser::new());
        return;
    }
    let frames = check_splits(&ctl, SseParser::new);
    // Every outcome comes from a line end (CR, LF or CRLF), plus at most one `TooLarge`.
    let ends = ctl
        .stream
        .iter()
        .filter(|&&b| b == b'\n' || b == b'\r')
        .count();
    assert!(
        frames.len() <= ends + 1,
        "{} outcomes from {ends} line ends",
        frames.len()
    );
    for f in &frames {
        assert!(!matches!(f, Ok(Frame::End)), "SSE has no end mark: {f:?}");
    }
    check_reencode::<Sse, _>(&frames, SseParser::new());
});
