//! How fast the stand-in server answers a page of 100 sessions (release
//! build, loopback, one keep-alive connection; the client side is a bare
//! HTTP/1.1 exchange so the figure is the server's).
//!
//! `cargo bench -p brainstem-mock --bench server`

use std::time::Duration;

use brainstem_mock::{MockOptions, MockServer};
use criterion::{Criterion, criterion_group, criterion_main};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One request on a kept-alive connection; returns the body length.
async fn get(conn: &mut BufReader<TcpStream>, request: &[u8]) -> usize {
    conn.get_mut().write_all(request).await.expect("send");
    let mut len = 0usize;
    let mut status = String::new();
    conn.read_line(&mut status).await.expect("status line");
    assert!(
        status.starts_with("HTTP/1.1 200"),
        "unexpected answer: {status}"
    );
    loop {
        let mut line = String::new();
        conn.read_line(&mut line).await.expect("header");
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().expect("length");
        }
    }
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).await.expect("body");
    len
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let srv = MockServer::start_background(MockOptions::new().sessions(1000)).expect("server");
    let request = format!(
        "GET /api/private/stem/session/?limit=100&offset=200 HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\r\n",
        srv.addr(),
        srv.token()
    )
    .into_bytes();
    let mut conn = rt
        .block_on(async { BufReader::new(TcpStream::connect(srv.addr()).await.expect("connect")) });
    let size = rt.block_on(get(&mut conn, &request));
    assert!(size > 10_000, "a page of 100 sessions is {size} bytes");
    let mut group = c.benchmark_group("stand-in server");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("list 100 sessions (private, offset 200)", |b| {
        b.iter(|| rt.block_on(get(&mut conn, &request)))
    });
    let filtered = format!(
        "GET /api/private/stem/session/?filter%7Bname.icontains%7D=cortex&sort%5B%5D=-date_time&limit=100 HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\r\n",
        srv.addr(),
        srv.token()
    )
    .into_bytes();
    group.bench_function("list 100 sessions (filtered and sorted)", |b| {
        b.iter(|| rt.block_on(get(&mut conn, &filtered)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
