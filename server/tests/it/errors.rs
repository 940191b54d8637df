use serde_json::{json, Value};

use crate::common::*;

async fn expect_400(url: &str, param: &str) {
    let (st, v) = get_json(url).await;
    assert_eq!(st, 400, "{url}: {v}");
    assert_eq!(v["param"], param, "{url}: {v}");
    assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));
}

#[tokio::test]
async fn bad_query_parameters_are_400_naming_the_param() {
    let s = server().await;
    s.publish(5);
    let u = s.url();
    let many: Vec<String> = std::iter::repeat_n("AAPL".to_string(), 1001).collect();
    let many = many.join(",");
    let cases: Vec<(String, &str)> = vec![
        (format!("{u}/poll?since=abc"), "since"),
        (format!("{u}/poll?since=-1"), "since"),
        (format!("{u}/poll?since=7"), "since"),
        (format!("{u}/poll?since=1&since=2"), "since"),
        (format!("{u}/poll?limit=0"), "limit"),
        (format!("{u}/poll?limit=100001"), "limit"),
        (format!("{u}/poll?symbols="), "symbols"),
        (format!("{u}/poll?symbols=AAPL,NOPE"), "symbols"),
        (format!("{u}/poll?symbols={many}"), "symbols"),
        (format!("{u}/poll?callback=9bad"), "callback"),
        (format!("{u}/poll?callback=alert(1)"), "callback"),
        (format!("{u}/longpoll?timeout=0"), "timeout"),
        (format!("{u}/longpoll?timeout=9999"), "timeout"),
        (format!("{u}/longpoll?timeout=x"), "timeout"),
        (format!("{u}/stream?since=abc"), "since"),
        (format!("{u}/sse?symbols=NOPE"), "symbols"),
        (format!("{u}/multipart?since=-5"), "since"),
        (format!("{u}/iframe?since=99"), "since"),
        (format!("{u}/snapshot?symbols=NOPE"), "symbols"),
        (format!("{u}/api/quote/AAPL?since=abc"), "since"),
    ];
    for (url, param) in cases {
        expect_400(&url, param).await;
    }
    // A bad Last-Event-ID is named too.
    let r = client()
        .get(format!("{u}/sse"))
        .header("Last-Event-ID", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["param"], "Last-Event-ID");
    // Exactly 1000 symbols is fine.
    let ok: Vec<&str> = std::iter::repeat_n("MSFT", 1000).collect();
    let (st, _) = get_json(&format!("{u}/poll?symbols={}", ok.join(","))).await;
    assert_eq!(st, 200);
    // The server keeps going, and counted the errors.
    let (st, _) = get_json(&format!("{u}/poll?since=1")).await;
    assert_eq!(st, 200);
    assert_eq!(
        metric(&u, "tickbench_client_errors_total").await,
        21,
        "tickbench_client_errors_total"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_and_methods_are_json() {
    let s = server().await;
    let (st, v) = get_json(&format!("{}/nope", s.url())).await;
    assert_eq!(st, 404);
    assert!(v["error"].is_string());
    let r = client()
        .delete(format!("{}/poll", s.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"].is_string());
    s.shutdown().await;
}

#[tokio::test]
async fn bad_orders() {
    let s = server().await;
    let url = format!("{}/api/orders", s.url());
    let post = |body: String| {
        client()
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases = [
        ("{not json", "body"),
        ("[1,2]", "body"),
        (
            r#"{"sym":"AAPL","side":"buy","qty":100,"colour":"red"}"#,
            "colour",
        ),
        (r#"{"side":"buy","qty":100}"#, "sym"),
        (r#"{"sym":"NOPE","side":"buy","qty":100}"#, "sym"),
        (r#"{"sym":"AAPL","side":"hold","qty":100}"#, "side"),
        (r#"{"sym":"AAPL","side":"buy","qty":0}"#, "qty"),
        (r#"{"sym":"AAPL","side":"buy","qty":1000001}"#, "qty"),
        (r#"{"sym":"AAPL","side":"buy","qty":1.5}"#, "qty"),
        (
            r#"{"sym":"AAPL","side":"sell","qty":10,"limit":-1}"#,
            "limit",
        ),
    ];
    for (body, param) in cases {
        let r = post(body.to_string()).await.unwrap();
        assert_eq!(r.status(), 400, "{body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["param"], param, "{body}: {v}");
    }
    // Too large: 413; not JSON: 415.
    let big = json!({"sym":"AAPL","side":"buy","qty":1,"pad":"x".repeat(20_000)}).to_string();
    let r = post(big).await.unwrap();
    assert_eq!(r.status(), 413);
    let r = client()
        .post(&url)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"].is_string());
    // And a good one still works.
    let r = post(r#"{"sym":"msft","side":"sell","qty":5}"#.into())
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    s.shutdown().await;
}
