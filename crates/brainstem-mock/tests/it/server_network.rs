//! The network knobs: compression when the client asks for it, a body
//! paced to a bandwidth (the compressed bytes, as on the wire), and the
//! latency before each answer.

use std::io::Read;
use std::time::{Duration, Instant};

use brainstem_mock::{Dialect, MockOptions, MockServer};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH};

use crate::util::Srv;

/// A client that decodes nothing by itself and sends no `Accept-Encoding`
/// unless told to.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .no_brotli()
        .no_deflate()
        .build()
        .expect("a plain HTTP client")
}

/// One GET: status, headers, body bytes, and how long it took.
async fn fetch(
    http: &reqwest::Client,
    srv: &MockServer,
    path: &str,
    accept: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>, Duration) {
    let start = Instant::now();
    let mut req = http
        .get(format!("{}{path}", srv.url()))
        .bearer_auth(srv.token());
    if let Some(a) = accept {
        req = req.header(ACCEPT_ENCODING, a);
    }
    let resp = req.send().await.expect("an answer");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("a body").to_vec();
    (status, headers, body, start.elapsed())
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip stream");
    out
}

const PAGE: &str = "api/private/stem/session/?limit=50";

#[tokio::test]
async fn answers_are_compressed_when_asked_and_only_then() {
    let s = Srv::new().await;
    let http = raw_client();
    let (status, headers, plain, _) = fetch(&http, &s.srv, PAGE, None).await;
    assert_eq!(status, 200);
    assert!(headers.get(CONTENT_ENCODING).is_none(), "{headers:?}");
    assert_eq!(
        headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()),
        Some(plain.len().to_string().as_str()),
        "an answer not compressed keeps its length"
    );
    assert!(plain.len() > 10_000, "{} bytes", plain.len());
    serde_json::from_slice::<serde_json::Value>(&plain).expect("JSON");

    let (status, headers, gz, _) = fetch(&http, &s.srv, PAGE, Some("gzip")).await;
    assert_eq!(status, 200);
    assert_eq!(headers[CONTENT_ENCODING], "gzip");
    assert_eq!(gz[..2], [0x1f, 0x8b], "a gzip stream");
    assert!(
        gz.len() < plain.len() / 2,
        "{} of {}",
        gz.len(),
        plain.len()
    );
    assert!(gunzip(&gz) == plain, "gzip decodes to the plain answer");

    // Brotli when preferred; a client that decodes it reads the same body.
    let (_, headers, br, _) = fetch(&http, &s.srv, PAGE, Some("br, gzip;q=0.5")).await;
    assert_eq!(headers[CONTENT_ENCODING], "br");
    assert!(br != plain, "brotli is not the plain answer");
    let decoding = reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .no_deflate()
        .build()
        .expect("client");
    let (_, _, decoded, _) = fetch(&decoding, &s.srv, PAGE, None).await;
    assert!(decoded == plain, "brotli decodes to the plain answer");

    // An encoding the server does not speak, or a tiny body: as they are.
    let (_, headers, body, _) = fetch(&http, &s.srv, PAGE, Some("compress")).await;
    assert!(headers.get(CONTENT_ENCODING).is_none(), "{headers:?}");
    assert!(body == plain, "an unknown encoding gets the plain answer");
    let (status, headers, body, _) =
        fetch(&http, &s.srv, "api/private/stem/nomodel/", Some("gzip")).await;
    assert_eq!(status, 404);
    assert!(headers.get(CONTENT_ENCODING).is_none(), "{headers:?}");
    assert_eq!(body, br#"{"detail":"Not found."}"#);

    // Switched off: never compressed (the same records; the links name
    // another port).
    let s = Srv::with(MockOptions::new().compression(false)).await;
    let (_, headers, body, _) = fetch(&http, &s.srv, PAGE, Some("gzip, br")).await;
    assert!(headers.get(CONTENT_ENCODING).is_none(), "{headers:?}");
    let records = |b: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(b).expect("JSON")["sessions"].clone()
    };
    assert!(records(&body) == records(&plain), "the same records");
}

#[tokio::test]
async fn bandwidth_paces_the_bytes_on_the_wire() {
    // Every session Alice sees in one page (no page-size cap): about 120 KB.
    let rate = 200_000;
    let s = Srv::with(
        MockOptions::new()
            .dialect(Dialect::docs().max_page_size(None))
            .bandwidth(Some(rate)),
    )
    .await;
    let http = raw_client();
    let path = "api/private/stem/session/?limit=1000";
    let (status, headers, plain, took) = fetch(&http, &s.srv, path, None).await;
    assert_eq!(status, 200);
    assert!(plain.len() > 100_000, "{} bytes", plain.len());
    assert_eq!(
        headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()),
        Some(plain.len().to_string().as_str()),
        "pacing keeps the length"
    );
    let floor = Duration::from_secs_f64(plain.len() as f64 / rate as f64);
    assert!(
        took >= floor,
        "{} bytes at {rate} bytes/s took {took:?}",
        plain.len()
    );
    // The rate applies after compression: the gzip answer is a fraction of
    // the size, so it arrives well before the plain bytes could have.
    let (_, headers, gz, gz_took) = fetch(&http, &s.srv, path, Some("gzip")).await;
    assert_eq!(headers[CONTENT_ENCODING], "gzip");
    assert!(gunzip(&gz) == plain, "gzip decodes to the plain answer");
    let gz_floor = Duration::from_secs_f64(gz.len() as f64 / rate as f64);
    assert!(gz_took >= gz_floor, "{gz_took:?}");
    assert!(
        gz_took < floor,
        "{} compressed bytes took {gz_took:?}, {} plain ones {took:?}",
        gz.len(),
        plain.len()
    );
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let s = Srv::with(MockOptions::new().latency_ms(300)).await;
    let http = raw_client();
    for path in [PAGE, "api/private/stem/nomodel/"] {
        let (_, _, _, took) = fetch(&http, &s.srv, path, None).await;
        assert!(took >= Duration::from_millis(300), "{path}: {took:?}");
    }
    assert_eq!(s.srv.knobs().latency_ms, 300, "the latency knob");
}
