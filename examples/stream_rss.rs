//! Peak memory of `stream()`: streams N sessions (default 100,000) from a
//! stateless in-process server that generates each page on demand (so the
//! server holds nothing), and prints the process's peak RSS (`VmHWM` from
//! `/proc/self/status`, Linux) before streaming, after 10,000 records and at
//! the end.
//!
//! ```text
//! cargo run --release --example stream_rss -- 100000
//! ```

use std::time::Instant;

use brainstem::client::Client;
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
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

    println!("before streaming: peak RSS {}", status("VmHWM:"));
    let started = Instant::now();
    let mut stream = Box::pin(client.sessions().list().stream());
    let mut n: u64 = 0;
    let mut checksum: u64 = 0;
    while let Some(s) = stream.next().await {
        let s = s.expect("record");
        checksum = checksum.wrapping_add(s.name.len() as u64);
        n += 1;
        if n == 10_000 {
            println!("after 10,000 records: peak RSS {}", status("VmHWM:"));
        }
    }
    assert_eq!(n, total, "every record streamed");
    println!(
        "after {n} records: peak RSS {} (current {}), {:.2} s, checksum {checksum}",
        status("VmHWM:"),
        status("VmRSS:"),
        started.elapsed().as_secs_f64()
    );
}
