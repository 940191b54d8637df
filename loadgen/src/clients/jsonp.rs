//! JSONP polling (`GET /poll?since=&callback=fn`): the batch wrapped as `fn({batch});`, the way a
//! page without CORS loaded data cross-origin through a `<script>` tag. The loop is
//! [`super::poll`]'s; this module only unwraps the script.

use super::frame::ParseError;

/// The callback name clients ask for (a jQuery-style generated name).
pub const CALLBACK: &str = "tickbench_cb";

/// The JSON argument of `callback( … );` in `body`. Tolerates surrounding whitespace, a `/**/`
/// prefix (a common guard against content sniffing) and a missing final `;`.
pub fn strip_jsonp<'a>(body: &'a [u8], callback: &str) -> Result<&'a [u8], ParseError> {
    let s = body.trim_ascii();
    let s = s.strip_prefix(b"/**/").unwrap_or(s).trim_ascii_start();
    let s = s
        .strip_prefix(callback.as_bytes())
        .ok_or(ParseError::Malformed(
            "JSONP body does not call the callback",
        ))?
        .trim_ascii_start();
    let s = s
        .strip_prefix(b"(")
        .ok_or(ParseError::Malformed("JSONP callback without arguments"))?;
    let s = s.strip_suffix(b";").unwrap_or(s).trim_ascii_end();
    s.strip_suffix(b")")
        .ok_or(ParseError::Malformed("JSONP call not closed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_the_call() {
        let body = br#"tickbench_cb({"next":1,"ticks":[],"gap":null});"#;
        assert_eq!(
            strip_jsonp(body, CALLBACK).unwrap(),
            br#"{"next":1,"ticks":[],"gap":null}"#
        );
        assert_eq!(
            strip_jsonp(b"/**/ tickbench_cb ( {} )\n", CALLBACK).unwrap(),
            b" {} "
        );
        assert!(strip_jsonp(b"other({});", CALLBACK).is_err());
        assert!(strip_jsonp(b"tickbench_cb{};", CALLBACK).is_err());
        assert!(strip_jsonp(b"tickbench_cb({};", CALLBACK).is_err());
        assert!(strip_jsonp(b"", CALLBACK).is_err());
    }
}
