//! The protocol's query grammar (`since`, `symbols`, `limit`, `timeout`, `callback`,
//! `tickbench_wire::query`): never a panic; every value it accepts is within the documented
//! range; every error names one of the five parameters, carries a message and makes the
//! protocol's JSON error body. (That the server's router answers with exactly this grammar's
//! verdicts is by construction: its `Params` extractor calls the grammar on the request's query;
//! server/tests/it/errors.rs checks the router's 400s name the parameter at fault.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickbench_wire::query::{
    valid_callback, Query, QueryError, MAX_LIMIT, MAX_SYMBOLS, MAX_TIMEOUT_S, PARAMS,
};

fn check_error(e: &QueryError, param: &str) {
    assert_eq!(e.param, param, "{e:?} reported for the wrong parameter");
    assert!(PARAMS.contains(&e.param), "error names unknown param {e:?}");
    assert!(!e.msg.is_empty());
    let body = tickbench_wire::ApiError {
        error: e.to_string(),
        param: Some(e.param.to_string()),
    };
    let json = serde_json::to_string(&body).expect("an error body serializes");
    let back: tickbench_wire::ApiError =
        serde_json::from_str(&json).expect("error body is the protocol's JSON");
    assert_eq!(back, body);
}

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    let q = match Query::parse(&query) {
        Ok(q) => q,
        Err(e) => {
            assert!(PARAMS.contains(&e.param), "error names unknown param {e:?}");
            assert!(e.msg.ends_with("given more than once"), "{e:?}");
            return;
        }
    };
    if let Err(e) = q.since() {
        check_error(&e, "since");
    }
    match q.symbols() {
        Ok(None) => {}
        Ok(Some(names)) => {
            for (i, name) in names.enumerate() {
                match name {
                    Ok(n) => {
                        assert!(i < MAX_SYMBOLS, "name {i} accepted past the limit");
                        assert!(!n.is_empty() && n.trim() == n, "name {n:?} not trimmed");
                    }
                    Err(e) => check_error(&e, "symbols"),
                }
            }
        }
        Err(e) => check_error(&e, "symbols"),
    }
    match q.limit() {
        Ok(n) => assert!((1..=MAX_LIMIT).contains(&n)),
        Err(e) => check_error(&e, "limit"),
    }
    match q.timeout_s() {
        Ok(n) => assert!((1..=MAX_TIMEOUT_S).contains(&n)),
        Err(e) => check_error(&e, "timeout"),
    }
    match q.callback() {
        Ok(Some(cb)) => assert!(valid_callback(cb), "accepted callback {cb:?}"),
        Ok(None) => {}
        Err(e) => check_error(&e, "callback"),
    }
});
