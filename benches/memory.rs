//! Peak memory of a 100,000-session walk: `stream()` (records dropped as
//! they arrive) and `all()` (every record held). Each runs in its own child
//! process against a stateless in-process server that generates each page
//! on demand (so the server holds nothing), and reports the child's peak RSS
//! (`VmHWM`, Linux) before and after the walk.
//!
//! ```text
//! cargo bench --bench memory            # 100,000 records
//! cargo bench --bench memory -- 20000   # another count
//! ```
//!
//! Targets: `stream()` stays flat (at most 12 MB at 100k), `all()` at most
//! 100 MB at 100k.

use std::process::Command;
use std::time::Instant;

use brainstem::client::Client;
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

/// In the child: walk `total` records with `mode` and print
/// `before_kb after_kb seconds records`.
fn child(mode: &str, total: u64) {
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
            .token("memory")
            .no_token_cache()
            .build()
            .expect("client");
        let before = kb(&status("VmHWM:"));
        let started = Instant::now();
        let n = match mode {
            "stream" => {
                let mut stream = Box::pin(client.sessions().list().limit(100).stream());
                let mut n = 0u64;
                while let Some(s) = stream.next().await {
                    std::hint::black_box(s.expect("record"));
                    n += 1;
                }
                n
            }
            _ => {
                let all = client
                    .sessions()
                    .list()
                    .limit(100)
                    .all()
                    .await
                    .expect("all");
                let n = all.len() as u64;
                let after = kb(&status("VmHWM:"));
                std::hint::black_box(&all);
                println!("{before} {after} {} {n}", started.elapsed().as_secs_f64());
                return;
            }
        };
        let after = kb(&status("VmHWM:"));
        println!("{before} {after} {} {n}", started.elapsed().as_secs_f64());
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1], args[i + 2].parse().expect("count"));
        return;
    }
    let total: u64 = args
        .iter()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let exe = std::env::current_exe().expect("own path");
    println!("peak memory of a walk over {total} sessions (one child process each):");
    for mode in ["stream", "all"] {
        let out = Command::new(&exe)
            .args(["--child", mode, &total.to_string()])
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
        let (before, after, secs, n) = (f[0], f[1], f[2], f[3]);
        assert_eq!(n as u64, total, "every record");
        println!(
            "  {mode}(): peak RSS {:.1} MB ({:.1} MB before the walk; {:.0} bytes per record above it), {:.2} s",
            after / 1024.0,
            before / 1024.0,
            (after - before) * 1024.0 / total as f64,
            secs
        );
    }
}
