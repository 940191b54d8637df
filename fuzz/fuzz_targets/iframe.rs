//! Forever-iframe parser: chunking never changes the calls (a `<script>` or `</script>` split
//! anywhere), garbage never panics, text outside scripts is not buffered; what it accepts, the
//! encoder writes back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickbench_fuzz::{check_growth, check_reencode, check_splits, Control, GROWTH_MODE};
use tickbench_wire::framing::{Frame, Iframe, IframeParser};

/// Count of non-overlapping `needle`s in `hay`.
fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

fuzz_target!(|data: &[u8]| {
    let ctl = Control::split(data);
    if ctl.mode == GROWTH_MODE {
        check_growth(ctl.stream, IframeParser::new());
        return;
    }
    let frames = check_splits(&ctl, IframeParser::new);
    // Each outcome closes a script, plus at most one `TooLarge`.
    let closes = count(ctl.stream, b"</script>");
    assert!(
        frames.len() <= closes + 1,
        "{} outcomes from {closes} closes",
        frames.len()
    );
    for f in &frames {
        assert!(
            !matches!(f, Ok(Frame::Retry(_) | Frame::End)),
            "iframe cannot carry {f:?}"
        );
    }
    check_reencode::<Iframe, _>(&frames, IframeParser::new());
});
