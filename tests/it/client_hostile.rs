//! A hostile peer: a server that lies (count, next, envelope), drips, never
//! ends, sends huge or deeply nested bodies, or redirects elsewhere. Each
//! case asserts the client's typed error, that what the client read stayed
//! bounded (by what the server managed to send, or by the number of requests
//! it made), and that no write was sent twice.

use crate::client_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use brainstem::client::{Client, Error};
use brainstem::types::{NewSession, NewSessionRequired};
use client_support::*;
use serde_json::{Value, json};

fn pid() -> uuid::Uuid {
    "11111111-1111-4111-8111-111111111111".parse().unwrap()
}

fn new_session() -> NewSession {
    NewSession::new(NewSessionRequired {
        name: "s".into(),
        projects: vec![pid()],
    })
}

/// A client with a small body limit, so the bounds are quick to reach.
fn small_client(url: &str, limit: u64, timeout: Duration) -> Client {
    Client::builder()
        .base_url(url)
        .token("test-token-value")
        .no_token_cache()
        .timeout(timeout)
        .max_response_bytes(limit)
        .build()
        .unwrap()
}

fn page_of(n: usize, from: usize) -> Vec<Value> {
    (from..from + n).map(session_json).collect()
}

#[tokio::test]
async fn a_count_of_a_quadrillion_costs_a_few_requests() {
    // 100 real records, then empty pages, all claiming 10^15 records.
    let srv = TestServer::start(|hit, _| {
        let offset: usize = hit
            .param("offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let records = if offset == 0 { page_of(100, 0) } else { vec![] };
        Reply::json(
            200,
            json!({"sessions": records, "count": 1_000_000_000_000_000u64}),
        )
    })
    .await;
    let client = client_for(&srv.url);
    let started = Instant::now();
    let all = client.sessions().list().limit(100).all().await.unwrap();
    assert_eq!(all.len(), 100, "what arrived, not what was claimed");
    assert!(
        srv.count() <= 2 + brainstem::client::DEFAULT_CONCURRENCY,
        "{} requests",
        srv.count()
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // The same lie through stream() and pages().
    let n = futures::StreamExt::count(client.sessions().list().limit(100).stream()).await;
    assert_eq!(n, 100);
}

#[tokio::test]
async fn a_next_link_that_loops_ends_with_a_typed_error() {
    // Next-link style (a cursor token), always pointing at the same page.
    let srv = TestServer::start(|hit, _| {
        let next = format!("{}?cursor=again", hit.path);
        Reply::json(200, json!({"sessions": page_of(3, 0), "next": next}))
    })
    .await;
    let client = client_for(&srv.url);
    let err = client.sessions().list().all().await.unwrap_err();
    assert!(
        matches!(&err, Error::Pagination(m) if m.contains("repeats")),
        "{err:?}"
    );
    assert!(srv.count() <= 3, "{} requests", srv.count());
}

#[tokio::test]
async fn a_next_link_to_another_server_is_not_followed() {
    let elsewhere = TestServer::start(|_, _| Reply::json(200, json!({"sessions": []}))).await;
    let target = format!("{}api/private/stem/session/?cursor=x", elsewhere.url);
    let srv = TestServer::start(move |_, _| {
        Reply::json(
            200,
            json!({"sessions": page_of(3, 0), "next": target.clone()}),
        )
    })
    .await;
    let err = client_for(&srv.url)
        .sessions()
        .list()
        .all()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Pagination(m) if m.contains("another server")),
        "{err:?}"
    );
    assert_eq!(elsewhere.count(), 0, "nothing sent to the other server");
}

#[tokio::test]
async fn a_lying_envelope_is_a_decode_error() {
    // The list key holds one object; the record key holds a list.
    let srv = TestServer::start(|hit, _| {
        if hit.path.ends_with("session/") {
            Reply::json(200, json!({"sessions": session_json(1)}))
        } else {
            Reply::json(200, json!({"session": [session_json(1)]}))
        }
    })
    .await;
    let client = client_for(&srv.url);
    let err = client.sessions().list().page().await.unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    let err = client.sessions().get(pid()).await.unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
}

#[tokio::test]
async fn an_endless_body_stops_at_the_limit() {
    const LIMIT: u64 = 1 << 20;
    let sent = Arc::new(AtomicUsize::new(0));
    let s2 = sent.clone();
    let srv = TestServer::start(move |_, _| Reply::Endless {
        status: 200,
        chunk: vec![b' '; 64 * 1024],
        sent: s2.clone(),
    })
    .await;
    let client = small_client(&srv.url, LIMIT, Duration::from_secs(20));
    let started = Instant::now();
    let err = client.sessions().list().page().await.unwrap_err();
    match &err {
        Error::ResponseTooLarge {
            limit,
            status,
            applied,
            ..
        } => {
            assert_eq!((*limit, *status, *applied), (LIMIT, 200, false));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("max_response_bytes"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(srv.count(), 1, "a body past the limit is not fetched again");
    // What the client took in is bounded by what the server could push
    // into the socket buffers before the client hung up: far below what an
    // unbounded reader would have read by now.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pushed = sent.load(Ordering::SeqCst);
    assert!(pushed < 32 << 20, "{pushed} bytes pushed");
}

#[tokio::test]
async fn an_applied_write_with_an_endless_answer_says_it_was_applied() {
    let sent = Arc::new(AtomicUsize::new(0));
    let s2 = sent.clone();
    let srv = TestServer::start(move |_, _| Reply::Endless {
        status: 201,
        chunk: vec![b' '; 64 * 1024],
        sent: s2.clone(),
    })
    .await;
    let client = small_client(&srv.url, 1 << 20, Duration::from_secs(20));
    let err = client.sessions().create(&new_session()).await.unwrap_err();
    match &err {
        Error::ResponseTooLarge {
            status: 201,
            applied: true,
            method,
            ..
        } => assert_eq!(method, "POST"),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("do NOT retry"), "{err}");
    assert_eq!(srv.count(), 1, "the POST was sent once");
}

#[tokio::test]
async fn an_announced_huge_body_is_refused_before_reading() {
    // Claims 10 GiB and sends a few bytes.
    let srv = TestServer::start(|_, _| Reply::Truncated {
        declared: 10 << 30,
        body: br#"{"sessions": ["#.to_vec(),
    })
    .await;
    let client = small_client(&srv.url, 64 << 20, Duration::from_secs(20));
    let err = client.sessions().list().page().await.unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit, .. } if limit == 64 << 20),
        "{err:?}"
    );
    assert_eq!(srv.count(), 1);
}

#[test]
fn the_default_limit_is_64_mib() {
    assert_eq!(brainstem::client::DEFAULT_MAX_RESPONSE_BYTES, 64 << 20);
}

#[tokio::test]
async fn a_dripping_server_times_out_and_the_write_is_not_repeated() {
    let body = serde_json::to_vec(&json!({"session": session_json(1)})).unwrap();
    let srv = TestServer::start(move |_, _| Reply::Drip {
        body: body.clone(),
        every: Duration::from_millis(50),
    })
    .await;
    let client = small_client(&srv.url, 1 << 20, Duration::from_millis(600));
    let started = Instant::now();
    let err = client.sessions().create(&new_session()).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(srv.count(), 1, "the POST was sent once");
    let err = client.sessions().get(pid()).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

fn deep(n: usize) -> String {
    let mut s = String::with_capacity(2 * n);
    s.push_str(&"[".repeat(n));
    s.push_str(&"]".repeat(n));
    s
}

#[tokio::test]
async fn deeply_nested_bodies_are_decode_errors_not_stack_overflows() {
    // A million levels: as the list itself, in a record's unknown field, as
    // a record's id, and in an error body.
    let d = deep(1_000_000);
    let d2 = d.clone();
    let srv = TestServer::start(move |hit, _| {
        let list = hit.path.ends_with("/session/");
        let body = if hit.method == "POST" {
            return Reply::raw(400, "application/json", &format!(r#"{{"name": {d2}}}"#));
        } else if list && hit.param("limit").as_deref() == Some("7") {
            let mut rec = session_json(1).to_string();
            rec.pop();
            format!(r#"{{"sessions": [{rec}, "deep": {d2}}}]}}"#)
        } else if list {
            format!(r#"{{"sessions": {d2}}}"#)
        } else {
            format!(r#"{{"session": {{"id": {d2}}}}}"#)
        };
        Reply::raw(200, "application/json", &body)
    })
    .await;
    let client = client_for(&srv.url);
    // The list's one element is not a record: kept raw, reported, not lost.
    let page = client.sessions().list().page().await.unwrap();
    assert!(page.records.is_empty());
    assert_eq!(page.undecoded.len(), 1);
    assert_eq!(page.undecoded[0].raw, d[1..d.len() - 1]);
    // Deep but well-formed JSON in a field the schema does not know is kept,
    // byte for byte.
    let page = client.sessions().list().limit(7).page().await.unwrap();
    assert_eq!(page.records.len(), 1);
    let kept = page.records[0].unknown.get("deep").expect("kept");
    assert_eq!(kept.get(), d.as_str());
    let err = client.sessions().get(pid()).await.unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    let err = client.sessions().create(&new_session()).await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err:?}");
}

#[tokio::test]
async fn redirects_to_another_server_are_not_followed() {
    let elsewhere = TestServer::start(|_, _| Reply::json(200, json!({"sessions": []}))).await;
    let to = format!("{}api/private/stem/session/", elsewhere.url);
    let srv = TestServer::start(move |_, _| Reply::empty(302).with_header("location", &to)).await;
    let client = client_for(&srv.url);
    let err = client.sessions().list().page().await.unwrap_err();
    match &err {
        Error::Redirected {
            status: 302,
            location,
        } => {
            assert!(location.as_deref().unwrap().starts_with(&elsewhere.url))
        }
        other => panic!("{other:?}"),
    }
    // A write answered with 307 (which would re-send the body) neither.
    let err = client.sessions().create(&new_session()).await.unwrap_err();
    assert!(matches!(err, Error::Redirected { .. }), "{err:?}");
    assert_eq!(elsewhere.count(), 0, "nothing reached the other server");
    let posts = srv.hits().iter().filter(|h| h.method == "POST").count();
    assert_eq!(posts, 1, "the POST was sent once");
}

#[tokio::test]
async fn redirects_to_other_schemes_and_loops_are_not_followed() {
    for location in [
        "file:///etc/passwd",
        "https://127.0.0.1:1/api/private/stem/session/",
        "ftp://example.org/x",
    ] {
        let srv =
            TestServer::start(move |_, _| Reply::empty(301).with_header("location", location))
                .await;
        let err = client_for(&srv.url)
            .sessions()
            .list()
            .page()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Redirected { status: 301, location: Some(l) } if l == location),
            "{location}: {err:?}"
        );
        assert_eq!(srv.count(), 1);
    }
    // A loop on the same server is followed a few times, then refused.
    let srv = TestServer::start(|hit, _| {
        Reply::empty(302).with_header("location", &format!("{}?again=1", hit.path))
    })
    .await;
    let err = client_for(&srv.url)
        .sessions()
        .list()
        .page()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Redirected { .. }), "{err:?}");
    assert!(srv.count() <= 7, "{} requests", srv.count());
}

#[tokio::test]
async fn a_redirect_within_the_server_is_followed_with_the_token() {
    let srv = TestServer::start(|hit, _| {
        if hit.path.starts_with("/moved/") {
            Reply::json(200, json!({"sessions": page_of(2, 0), "count": 2}))
        } else {
            Reply::empty(301).with_header("location", "/moved/api/private/stem/session/")
        }
    })
    .await;
    let page = client_for(&srv.url).sessions().list().page().await.unwrap();
    assert_eq!(page.records.len(), 2);
    let hits = srv.hits();
    assert_eq!(hits.len(), 2);
    assert!(hits[1].header("authorization").is_some());
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn compressed_answers_are_asked_for_and_decoded() {
    let body =
        gzip(&serde_json::to_vec(&json!({"sessions": page_of(50, 0), "count": 50})).unwrap());
    let srv = TestServer::start(move |_, _| Reply::Full {
        status: 200,
        content_type: "application/json",
        headers: vec![("content-encoding".into(), "gzip".into())],
        body: body.clone(),
    })
    .await;
    let page = client_for(&srv.url).sessions().list().page().await.unwrap();
    assert_eq!(page.records.len(), 50);
    let asked = srv.hits()[0]
        .header("accept-encoding")
        .unwrap_or("")
        .to_string();
    assert!(asked.contains("gzip"), "{asked}");
    // brotli only with the feature that compiles it
    assert_eq!(asked.contains("br"), cfg!(feature = "brotli"), "{asked}");
}

#[tokio::test]
async fn a_compression_bomb_stops_at_the_limit() {
    // Under 1 MiB on the wire, 64 MiB once inflated: the limit counts what the
    // client would hold, not what crossed the wire.
    let inflated = {
        let mut v = br#"{"sessions": ["#.to_vec();
        v.resize(64 << 20, b' ');
        v
    };
    let body = gzip(&inflated);
    drop(inflated);
    assert!(body.len() < 1 << 20);
    let srv = TestServer::start(move |_, _| Reply::Full {
        status: 200,
        content_type: "application/json",
        headers: vec![("content-encoding".into(), "gzip".into())],
        body: body.clone(),
    })
    .await;
    let client = small_client(&srv.url, 4 << 20, Duration::from_secs(20));
    let err = client.sessions().list().page().await.unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { limit, .. } if limit == 4 << 20),
        "{err:?}"
    );
}
