//! NDJSON `/stream` parser: chunking never changes the frames, garbage never panics, an endless
//! line never grows the buffer without bound; what it accepts, the encoder writes back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickbench_fuzz::{check_growth, check_reencode, check_splits, Control, GROWTH_MODE};
use tickbench_wire::framing::{Frame, Ndjson, NdjsonParser};

fuzz_target!(|data: &[u8]| {
    let ctl = Control::split(data);
    if ctl.mode == GROWTH_MODE {
        check_growth(ctl.stream, NdjsonParser::new());
        return;
    }
    let frames = check_splits(&ctl, NdjsonParser::new);
    // One outcome per complete line at most, plus one `TooLarge`.
    let lines = ctl.stream.iter().filter(|&&b| b == b'\n').count();
    assert!(
        frames.len() <= lines + 1,
        "{} outcomes from {lines} lines",
        frames.len()
    );
    for f in &frames {
        assert!(
            !matches!(f, Ok(Frame::Retry(_) | Frame::End)),
            "NDJSON cannot carry {f:?}"
        );
    }
    check_reencode::<Ndjson, _>(&frames, NdjsonParser::new());
});
