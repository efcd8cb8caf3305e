//! The mirror's cost when nothing changed (issue 14): `Mirror::sync` of every
//! session the token sees (about 10,500 of the 14,000 seeded), into a file that
//! already holds them, against fetching the same sessions with `all()`.
//! Release build; the stand-in server on its own runtime, over loopback.
//!
//! `cargo bench --features mirror --bench mirror` prints both medians and
//! their ratio (target: the sync within 1.2x of the fetch), and checks that
//! the sync wrote no row: once with the stand-in server answering at once
//! (the mirror's CPU cost against decoding alone) and once with 20 ms per
//! answer (a network in between).

use std::time::Duration;

mod common;

use brainstem::client::Client;
use brainstem::mirror::Mirror;
use brainstem_mock::{MockOptions, MockServer};
use common::Results;
use criterion::{Criterion, SamplingMode, Throughput};

/// Both measurements against one server: `all()` of every session, and a
/// sync into a mirror that already holds them all (so nothing is written).
/// Returns the two medians (ns) when criterion measured them in this run.
fn measure(
    results: &Results,
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    group: &str,
    options: MockOptions,
) -> (u64, Option<(f64, f64)>) {
    let srv = MockServer::start_background(options).expect("server");
    let client = Client::builder()
        .base_url(srv.url())
        .token(srv.token())
        .no_token_cache()
        .build()
        .expect("client");
    let n = rt
        .block_on(client.sessions().list().all())
        .expect("sessions")
        .len() as u64;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mirror.sqlite");
    let mut mirror = Mirror::open(&path).expect("mirror");
    let first = rt
        .block_on(mirror.sync(&client, &["session"]))
        .expect("first sync");
    assert_eq!(first.models[0].rows, n);
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    eprintln!("{group}: mirror of {n} sessions: {bytes} bytes");

    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(n));
    g.bench_function("fetch_all", |b| {
        b.to_async(rt).iter(|| async {
            let v = client.sessions().list().all().await.expect("all");
            assert_eq!(v.len() as u64, n);
        })
    });
    g.bench_function("sync_unchanged", |b| {
        b.iter(|| {
            let r = rt
                .block_on(mirror.sync(&client, &["session"]))
                .expect("sync");
            assert_eq!(r.rows_written(), 0, "nothing changed, nothing written");
            assert_eq!(r.models[0].unchanged, n);
        })
    });
    g.finish();
    let medians = results
        .median_ns(group, "fetch_all")
        .zip(results.median_ns(group, "sync_unchanged"));
    (n, medians)
}

fn main() {
    let results = Results::since_now();
    let mut c = Criterion::default().configure_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // the server answering at once: the mirror's own CPU cost shows fully
    let instant = measure(
        &results,
        &mut c,
        &rt,
        "mirror_10k",
        MockOptions::new().sessions(14_000),
    );
    // 20 ms per answer, as over the internet: the comparing overlaps the waiting
    let net = measure(
        &results,
        &mut c,
        &rt,
        "mirror_10k_20ms",
        MockOptions::new().sessions(14_000).latency_ms(20),
    );
    c.final_summary();
    println!("\n== issue 14 figures (medians of this run)");
    for (label, (n, m)) in [
        ("server answering at once", instant),
        ("20 ms per answer", net),
    ] {
        if let Some((f, s)) = m {
            println!(
                "{label} ({n} sessions): fetch all() {:.0} ms, sync with nothing changed {:.0} ms = {:.2}x (target <= 1.2: {}); 0 rows written",
                f / 1e6,
                s / 1e6,
                s / f,
                if s / f <= 1.2 { "met" } else { "NOT met" }
            );
        }
    }
}
