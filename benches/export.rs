//! Export of 100,000 sessions to Parquet (`brainstem::table`, feature
//! `arrow`): records per second and peak memory, streaming pages from a
//! stateless in-process server (it generates each page on demand, so it holds
//! nothing) into a Zstd Parquet file. The full export runs once in a child
//! process, which reports its peak RSS (`VmHWM`, Linux) before and after;
//! criterion then times the conversion alone (1,000 typed sessions to an
//! in-memory Parquet file).
//!
//! ```text
//! cargo bench --features arrow --bench export            # 100,000 records
//! cargo bench --features arrow --bench export -- 20000   # another count
//! ```
//!
//! Target: memory flat in the number of records (the batch being filled and
//! the open row group, not the file).

use std::process::Command;
use std::time::Instant;

use brainstem::client::Client;
use brainstem::table::Layout;
use brainstem::table::arrow::TableWriter;
use brainstem::types::Session;
use criterion::{Criterion, Throughput};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A line of `/proc/self/status`.
fn status(key: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .map(|l| l[key.len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown (no /proc)".into())
}

fn session(i: u64) -> String {
    format!(
        r#"{{"id":"00000000-0000-4000-8000-{i:012}","name":"Session {i:06}","description":"Generated session number {i} for the memory measurement.","projects":["11111111-1111-4111-8111-111111111111"],"date_time":"2021-01-04T09:00:00Z","epochs":[],"datastorage":[],"extra_fields":{{"trial_count":{i}}},"download_links":[],"dataacquisition":[],"behaviors":[],"manipulations":[],"tags":["pilot"]}}"#
    )
}

fn page(total: u64, query: &str) -> String {
    let param = |k: &str| -> Option<u64> {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('=')?.parse().ok())
    };
    let limit = param("limit").unwrap_or(20).min(100);
    let offset = param("offset").unwrap_or(0);
    let end = (offset + limit).min(total);
    let records: Vec<String> = (offset.min(end)..end).map(session).collect();
    format!(r#"{{"sessions":[{}],"count":{total}}}"#, records.join(","))
}

async fn serve(listener: tokio::net::TcpListener, total: u64) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut buf = Vec::new();
            loop {
                let mut chunk = [0u8; 4096];
                let Ok(n) = sock.read(&mut chunk).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                    buf.drain(..end + 4);
                    let target = head.split(' ').nth(1).unwrap_or("/");
                    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
                    let body = page(total, query);
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if sock.write_all(resp.as_bytes()).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
}

/// kB from a `VmHWM:`-style value (`"12345 kB"`).
fn kb(v: &str) -> f64 {
    v.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(f64::NAN)
}

/// In the child: export `total` sessions to a Parquet file and print
/// `before_kb after_kb seconds records bytes`.
fn child(total: u64) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        tokio::spawn(serve(listener, total));
        let client = Client::builder()
            .base_url(&url)
            .token("export")
            .no_token_cache()
            .build()
            .expect("client");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sessions.parquet");
        let file = std::io::BufWriter::new(std::fs::File::create(&path).expect("file"));
        let before = kb(&status("VmHWM:"));
        let started = Instant::now();
        let mut out = TableWriter::parquet(file, Layout::of::<Session>()).expect("writer");
        let mut pages = client.sessions().list().limit(100).pages();
        while let Some(page) = pages.next().await {
            out.write_all(&page.expect("page").records).expect("write");
        }
        let (_, n) = out.finish().expect("finish");
        let secs = started.elapsed().as_secs_f64();
        let after = kb(&status("VmHWM:"));
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!("{before} {after} {secs} {n} {bytes}");
    });
}

/// The conversion alone: typed sessions to an in-memory Parquet file.
fn conversion(c: &mut Criterion) {
    let sessions: Vec<Session> = (0..1000)
        .map(|i| serde_json::from_str(&session(i)).expect("a session"))
        .collect();
    let mut g = c.benchmark_group("export");
    g.throughput(Throughput::Elements(sessions.len() as u64));
    g.sample_size(20);
    g.bench_function("1000 sessions to parquet", |b| {
        b.iter(|| {
            let mut w = TableWriter::parquet(Vec::new(), Layout::of::<Session>()).expect("writer");
            w.write_all(&sessions).expect("write");
            std::hint::black_box(w.finish().expect("finish"))
        })
    });
    g.finish();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(args[i + 1].parse().expect("count"));
        return;
    }
    let total: u64 = args
        .iter()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let exe = std::env::current_exe().expect("own path");
    let out = Command::new(&exe)
        .args(["--child", &total.to_string()])
        .output()
        .expect("child");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<f64> = text
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(f64::NAN))
        .collect();
    let (before, after, secs, n, bytes) = (f[0], f[1], f[2], f[3], f[4]);
    assert_eq!(n as u64, total, "every record");
    println!(
        "export of {total} sessions to parquet: {:.0} records/s ({secs:.2} s), peak RSS {:.1} MB \
         ({:.1} MB before; {:.0} bytes per record above it), file {:.1} MB",
        n / secs,
        after / 1024.0,
        before / 1024.0,
        (after - before) * 1024.0 / total as f64,
        bytes / 1e6,
    );
    let mut c = Criterion::default().configure_from_args();
    conversion(&mut c);
    c.final_summary();
}
