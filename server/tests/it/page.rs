//! The browser page at `/`: served with a strict Content-Security-Policy, its assets embedded,
//! no inline script or style, no HTML built from data, every technique implemented, and bad
//! query parameters answered with the protocol's JSON 400.

use tickbench_wire::Technique;

use crate::common::{client, get_json, server};

const ASSETS: [(&str, &str); 6] = [
    ("/page/style.css", "text/css"),
    ("/page/stats.js", "text/javascript"),
    ("/page/board.js", "text/javascript"),
    ("/page/techniques.js", "text/javascript"),
    ("/page/compare.js", "text/javascript"),
    ("/page/app.js", "text/javascript"),
];

async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = client().get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

fn assert_strict_csp(headers: &reqwest::header::HeaderMap, what: &str) {
    let csp = headers
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    for must in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(must), "{what}: CSP lacks {must}: {csp}");
    }
    for never in ["unsafe-inline", "unsafe-eval", "*", "http:", "data:"] {
        assert!(!csp.contains(never), "{what}: CSP allows {never}: {csp}");
    }
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
}

#[tokio::test]
async fn page_and_assets_carry_a_strict_csp() {
    let s = server().await;
    let url = s.url();
    let (status, headers, body) = get(&format!("{url}/?transport=sse")).await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_strict_csp(&headers, "/");
    for (path, ctype) in ASSETS {
        assert!(body.contains(path), "index.html does not load {path}");
        let (status, headers, text) = get(&format!("{url}{path}")).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            headers["content-type"].to_str().unwrap().starts_with(ctype),
            "{path}: {:?}",
            headers["content-type"]
        );
        assert_strict_csp(&headers, path);
        assert!(!text.is_empty(), "{path} is empty");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn no_inline_script_or_style_and_no_html_from_data() {
    let s = server().await;
    let url = s.url();
    let (_, _, html) = get(&format!("{url}/")).await;
    let lower = html.to_ascii_lowercase();
    assert_eq!(
        lower.matches("<script").count(),
        lower.matches("<script src=").count(),
        "an inline <script> in index.html"
    );
    assert!(!lower.contains("style="), "an inline style attribute");
    assert!(!lower.contains("<style"), "an inline <style> element");
    assert!(!lower.contains(" on"), "an inline event handler attribute");
    for (path, _) in ASSETS {
        let (_, _, js) = get(&format!("{url}{path}")).await;
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
        ] {
            assert!(
                !js.contains(sink),
                "{path} uses {sink}: tick data must only reach the page as textContent"
            );
        }
    }
    s.shutdown().await;
}

#[tokio::test]
async fn the_page_implements_every_technique() {
    let s = server().await;
    let (_, _, js) = get(&format!("{}/page/techniques.js", s.url())).await;
    for t in Technique::ALL {
        let quoted = if t.name().contains('-') {
            format!("'{}': {{", t.name())
        } else {
            format!("  {}: {{", t.name())
        };
        assert!(js.contains(&quoted), "techniques.js has no {t}");
        let (status, _, _) = get(&format!("{}/?transport={t}", s.url())).await;
        assert_eq!(status, 200, "/?transport={t}");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn bad_page_parameters_are_json_400s_naming_them() {
    let s = server().await;
    let url = s.url();
    for (query, param) in [
        ("transport=carrier-pigeon", "transport"),
        ("transport=sse&transport=poll", "transport"),
        ("view=everything", "view"),
        ("symbols=NOSUCHSYM", "symbols"),
        ("symbols=", "symbols"),
        ("interval=1", "interval"),
        ("interval=abc", "interval"),
        ("actions=1000", "actions"),
        ("embed=2", "embed"),
        ("tabs=9", "tabs"),
        ("since=99999999", "since"),
    ] {
        let (status, body) = get_json(&format!("{url}/?{query}")).await;
        assert_eq!(status, 400, "/?{query}: {body}");
        assert_eq!(body["param"], param, "/?{query}: {body}");
    }
    // Unknown parameters (cache-busters) are ignored, as on every endpoint.
    let (status, _, _) = get(&format!("{url}/?view=compare&_=1")).await;
    assert_eq!(status, 200);
    // An unknown asset is the usual JSON 404.
    let (status, body) = get_json(&format!("{url}/page/nope.js")).await;
    assert_eq!(status, 404, "{body}");
    s.shutdown().await;
}
