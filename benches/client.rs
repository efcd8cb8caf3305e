//! Client benchmarks (release, loopback, stand-in server on its own runtime):
//!
//! * `decode/100_sessions`: a 100-session list page decoded into typed
//!   records vs into `serde_json::Value` (throughput in bytes/s);
//! * `all_10k`: 10,000 sessions with `all()`, sequential and with concurrent
//!   prefetch, against the floor: a plain reqwest loop fetching the same
//!   pages without decoding.
//!
//! ```text
//! cargo bench --bench client
//! ```
//!
//! The ratios (targets: sequential within 1.25x of the floor, concurrent at
//! least 2x faster than sequential) are printed at the end from the medians,
//! twice: against the stand-in server answering at once (where decoding, not
//! the network, is the cost) and answering each page after 2 ms (`all_10k_latency_2ms`),
//! as a server across a network does.
//! Peak memory of `stream()` and `all()` is measured by `benches/memory.rs`.

use std::time::{Duration, Instant};

use brainstem::client::{Client, decode_page};
use brainstem::types::Session;
use brainstem_mock::{MockOptions, MockServer};
use criterion::{BenchmarkId, Criterion, Throughput};

const RECORDS: u64 = 10_000;
const PAGE: u64 = 100;

fn client_for(srv: &MockServer, concurrency: usize) -> Client {
    Client::builder()
        .base_url(srv.url())
        .token(srv.token())
        .no_token_cache()
        .concurrency(concurrency)
        .build()
        .expect("client")
}

fn plain_http() -> reqwest::Client {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .expect("reqwest")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The raw body of a 100-session page from the stand-in server.
fn page_bytes(srv: &MockServer, rt: &tokio::runtime::Runtime) -> Vec<u8> {
    let url = format!("{}api/private/stem/session/?limit=100", srv.url());
    rt.block_on(async {
        plain_http()
            .get(url)
            .bearer_auth(srv.token())
            .send()
            .await
            .expect("page")
            .bytes()
            .await
            .expect("body")
            .to_vec()
    })
}

fn bench_decode(c: &mut Criterion, srv: &MockServer, rt: &tokio::runtime::Runtime) -> usize {
    let body = page_bytes(srv, rt);
    let page = decode_page::<Session>(&body).expect("typed decode");
    assert_eq!(page.records.len(), 100);
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_with_input(
        BenchmarkId::new("typed", "100_sessions"),
        &body,
        |b, body| b.iter(|| decode_page::<Session>(std::hint::black_box(body)).expect("decode")),
    );
    g.bench_with_input(
        BenchmarkId::new("value", "100_sessions"),
        &body,
        |b, body| {
            b.iter(|| {
                serde_json::from_slice::<serde_json::Value>(std::hint::black_box(body))
                    .expect("decode")
            })
        },
    );
    g.finish();
    body.len()
}

/// The floor: the same pages, fetched one after the other, not decoded
/// (with `parse`, parsed into `serde_json::Value`, for comparison).
async fn floor(
    http: &reqwest::Client,
    srv: &MockServer,
    start: u64,
    total: u64,
    parse: bool,
) -> usize {
    let mut bytes = 0;
    let mut offset = start;
    while offset < total {
        let url = format!(
            "{}api/private/stem/session/?limit={PAGE}&offset={offset}",
            srv.url()
        );
        let body = http
            .get(url)
            .bearer_auth(srv.token())
            .send()
            .await
            .expect("page")
            .bytes()
            .await
            .expect("body");
        if parse {
            let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
            bytes += v["sessions"].as_array().map_or(0, Vec::len);
        } else {
            bytes += body.len();
        }
        offset += PAGE;
    }
    bytes
}

fn bench_all(c: &mut Criterion, srv: &MockServer, rt: &tokio::runtime::Runtime, group: &str) {
    let seq = client_for(srv, 1);
    let conc = client_for(srv, 4);
    let total = rt
        .block_on(seq.sessions().list().limit(1).page())
        .expect("total")
        .total()
        .expect("the server counts");
    assert!(total >= RECORDS, "the seed has {total} visible sessions");
    // Start so that exactly RECORDS records remain.
    let start = total - RECORDS;
    let http = plain_http();
    let got = rt
        .block_on(conc.sessions().list().offset(start).all())
        .expect("all");
    assert_eq!(got.len() as u64, RECORDS);

    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(RECORDS));
    g.bench_function("floor_reqwest_loop", |b| {
        b.to_async(rt)
            .iter(|| floor(&http, srv, start, total, false))
    });
    g.bench_function("reqwest_loop_value_parse", |b| {
        b.to_async(rt)
            .iter(|| floor(&http, srv, start, total, true))
    });
    g.bench_function("all_sequential", |b| {
        b.to_async(rt).iter(|| async {
            let v = seq
                .sessions()
                .list()
                .offset(start)
                .all()
                .await
                .expect("all");
            assert_eq!(v.len() as u64, RECORDS);
        })
    });
    g.bench_function("all_concurrent_4", |b| {
        b.to_async(rt).iter(|| async {
            let v = conc
                .sessions()
                .list()
                .offset(start)
                .all()
                .await
                .expect("all");
            assert_eq!(v.len() as u64, RECORDS);
        })
    });
    g.finish();
}

fn median_ns(group: &str, id: &str) -> Option<f64> {
    let base = std::env::var_os("CRITERION_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| {
                    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target")
                });
            target.join("criterion")
        });
    let path = base.join(group).join(id).join("new").join("estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn report(page_len: usize) {
    let ms = |ns: f64| ns / 1e6;
    if let (Some(t), Some(v)) = (
        median_ns("decode", "typed/100_sessions"),
        median_ns("decode", "value/100_sessions"),
    ) {
        let mbs = |ns: f64| page_len as f64 / (ns / 1e9) / 1e6;
        println!(
            "decode of a 100-session page ({page_len} bytes): typed {:.1} us = {:.0} MB/s, serde_json::Value {:.1} us = {:.0} MB/s (typed takes {:.2}x the time of Value)",
            t / 1e3,
            mbs(t),
            v / 1e3,
            mbs(v),
            t / v
        );
    }
    for (group, what) in [
        ("all_10k", "the stand-in server answering at once"),
        (
            "all_10k_latency_2ms",
            "the stand-in server answering each page after 2 ms, like a server across a network",
        ),
    ] {
        if let (Some(f), Some(s), Some(c)) = (
            median_ns(group, "floor_reqwest_loop"),
            median_ns(group, "all_sequential"),
            median_ns(group, "all_concurrent_4"),
        ) {
            println!(
                "all() of 10,000 sessions, {what}: floor {:.1} ms, sequential {:.1} ms ({:.2}x the floor; target <= 1.25x), concurrent {:.1} ms ({:.2}x faster than sequential; target >= 2x)",
                ms(f),
                ms(s),
                s / f,
                ms(c),
                s / c
            );
            if let Some(v) = median_ns(group, "reqwest_loop_value_parse") {
                println!(
                    "  the same loop parsing each page into serde_json::Value: {:.1} ms (sequential typed all() is {:.2}x that)",
                    ms(v),
                    s / v
                );
            }
        }
    }
}

fn main() {
    // The floor's plain reqwest client needs a process-wide TLS provider
    // (the brainstem client brings its own).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut c = Criterion::default().configure_from_args();
    let rt = runtime();
    let started = Instant::now();
    let srv = MockServer::start_background(MockOptions::new().sessions(14_000)).expect("server");
    eprintln!("stand-in server seeded in {:?}", started.elapsed());
    let page_len = bench_decode(&mut c, &srv, &rt);
    bench_all(&mut c, &srv, &rt, "all_10k");
    srv.set_knobs(brainstem_mock::ListKnobs {
        latency_ms: 2,
        ..Default::default()
    });
    bench_all(&mut c, &srv, &rt, "all_10k_latency_2ms");
    c.final_summary();
    report(page_len);
}
