//! multipart/x-mixed-replace parser: chunking never changes the parts, nothing follows the close
//! delimiter, a `Content-Length` never makes it buffer without bound; the Content-Type boundary
//! extraction never panics and only returns RFC 2046-sized boundaries; what the parser accepts,
//! the encoder writes back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickbench_fuzz::{check_growth, check_reencode, check_splits, Control, GROWTH_MODE};
use tickbench_wire::framing::multipart::BOUNDARY;
use tickbench_wire::framing::{boundary_from_content_type, Frame, Multipart, MultipartParser};

/// Boundaries to try: the server's, a one-letter one, and ones that look like the framing itself.
const BOUNDARIES: [&str; 4] = ["tickbench", "b", "--", "a\"b c"];

fuzz_target!(|data: &[u8]| {
    let ctl = Control::split(data);
    if let Ok(ct) = std::str::from_utf8(ctl.stream) {
        if let Some(b) = boundary_from_content_type(ct) {
            assert!(
                (1..=70).contains(&b.len()),
                "boundary {b:?} out of RFC 2046 range"
            );
            assert!(ct.contains(b), "boundary {b:?} not taken from {ct:?}");
        }
    }
    let boundary = BOUNDARIES[usize::from(ctl.seed) % BOUNDARIES.len()];
    if ctl.mode == GROWTH_MODE {
        check_growth(ctl.stream, MultipartParser::new(boundary));
        return;
    }
    let frames = check_splits(&ctl, || MultipartParser::new(boundary));
    // `End` is final: the epilogue after the close delimiter is ignored.
    if let Some(i) = frames.iter().position(|f| matches!(f, Ok(Frame::End))) {
        assert_eq!(
            i + 1,
            frames.len(),
            "frames after the close delimiter: {frames:?}"
        );
    }
    for f in &frames {
        assert!(
            !matches!(f, Ok(Frame::Retry(_))),
            "multipart cannot carry {f:?}"
        );
    }
    check_reencode::<Multipart, _>(&frames, MultipartParser::new(BOUNDARY));
});
