//! [`Tab`]: one page (a DevTools target) of a [`Browser`]: navigate, evaluate, wait, screenshot.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::cdp::Browser;
use crate::error::Error;

/// One browser tab, attached with a flat session; closed on drop.
#[derive(Debug)]
pub struct Tab<'b> {
    browser: &'b Browser,
    target: String,
    session: String,
}

impl<'b> Tab<'b> {
    /// A new blank tab, 1280×900.
    pub fn open(browser: &'b Browser) -> Result<Tab<'b>, Error> {
        let t = browser.call(
            None,
            "Target.createTarget",
            json!({"url": "about:blank", "newWindow": true, "width": 1280, "height": 900}),
        )?;
        let target = t["targetId"].as_str().unwrap_or_default().to_string();
        let s = browser.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        )?;
        let session = s["sessionId"].as_str().unwrap_or_default().to_string();
        Ok(Tab {
            browser,
            target,
            session,
        })
    }

    fn call(&self, method: &str, params: Value) -> Result<Value, Error> {
        self.browser.call(Some(&self.session), method, params)
    }

    /// Loads `url`; fails when the navigation itself fails (refused, DNS, certificate).
    pub fn navigate(&self, url: &str) -> Result<(), Error> {
        let r = self.call("Page.navigate", json!({"url": url}))?;
        match r.get("errorText").and_then(Value::as_str) {
            Some(e) if !e.is_empty() => Err(Error::Page(format!("at {url} did not load: {e}"))),
            _ => Ok(()),
        }
    }

    /// Evaluates `expr` in the page (awaiting a promise) and returns its JSON value.
    pub fn eval(&self, expr: &str) -> Result<Value, Error> {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
        )?;
        if let Some(ex) = r.get("exceptionDetails") {
            let text = ex["exception"]["description"]
                .as_str()
                .or_else(|| ex["text"].as_str())
                .unwrap_or("an exception");
            return Err(Error::Page(format!("threw evaluating `{expr}`: {text}")));
        }
        Ok(r["result"].get("value").cloned().unwrap_or(Value::Null))
    }

    /// Evaluates `expr` every 100 ms until it is truthy; its value, or an error after `timeout`.
    pub fn wait_for(&self, expr: &str, timeout: Duration) -> Result<Value, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            // The page may be between documents while it loads: an exception is "not yet".
            if let Ok(v) = self.eval(expr) {
                let truthy = !matches!(v, Value::Null | Value::Bool(false))
                    && v != json!(0)
                    && v != json!("");
                if truthy {
                    return Ok(v);
                }
            }
            if Instant::now() >= deadline {
                return Err(Error::Page(format!(
                    "never made `{expr}` true in {}s",
                    timeout.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A PNG of the viewport, written to `path`.
    pub fn screenshot(&self, path: &Path) -> Result<(), Error> {
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}))?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap_or_default())
            .map_err(|e| Error::Page(format!("screenshot is not base64: {e}")))?;
        std::fs::write(path, png).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}

impl Drop for Tab<'_> {
    fn drop(&mut self) {
        let _ = self
            .browser
            .call(None, "Target.closeTarget", json!({"targetId": self.target}));
    }
}
