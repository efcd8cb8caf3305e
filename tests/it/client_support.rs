//! A small scripted HTTP/1.1 server for the client tests: it can answer
//! anything, including what a well-behaved server never sends (dropped
//! connections, stalls, truncated bodies, HTML, wrong envelopes), and it
//! records every request it saw.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Hit {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Hit {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Query pairs, percent-decoded.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (decode(k), decode(v))
            })
            .collect()
    }

    pub fn param(&self, key: &str) -> Option<String> {
        self.pairs()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// What to answer.
pub enum Reply {
    /// A JSON (or any) body with a status and extra headers.
    Full {
        status: u16,
        content_type: &'static str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Close the connection without answering.
    Drop,
    /// Wait, then close without answering.
    Stall(Duration),
    /// Announce `declared` bytes but send only `body`, then close.
    Truncated { declared: usize, body: Vec<u8> },
    /// Wait, then answer.
    Delayed(Duration, Box<Reply>),
    /// A chunked body that never ends: `chunk` again and again, as fast as
    /// the peer reads; every byte written is added to `sent`.
    Endless {
        status: u16,
        chunk: Vec<u8>,
        sent: Arc<AtomicUsize>,
    },
    /// Announce `body.len()` bytes and send them one at a time, `every`
    /// apart.
    Drip { body: Vec<u8>, every: Duration },
}

impl Reply {
    pub fn json(status: u16, v: Value) -> Reply {
        Reply::Full {
            status,
            content_type: "application/json",
            headers: vec![],
            body: serde_json::to_vec(&v).unwrap(),
        }
    }

    pub fn raw(status: u16, content_type: &'static str, body: &str) -> Reply {
        Reply::Full {
            status,
            content_type,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply::Full {
            status,
            content_type: "application/json",
            headers: vec![],
            body: vec![],
        }
    }

    pub fn with_header(mut self, k: &str, v: &str) -> Reply {
        if let Reply::Full { headers, .. } = &mut self {
            headers.push((k.to_string(), v.to_string()));
        }
        self
    }
}

type Handler = dyn Fn(&Hit, usize) -> Reply + Send + Sync;

/// A running scripted server.
pub struct TestServer {
    pub url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    in_flight: Arc<(AtomicUsize, AtomicUsize)>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    /// Start on 127.0.0.1 with a handler called with each request and its
    /// index (0-based, over all connections).
    pub async fn start(
        handler: impl Fn(&Hit, usize) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let hits = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let counter = Arc::new(AtomicUsize::new(0));
        let in_flight = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let f2 = in_flight.clone();
        let h2 = hits.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let handler = handler.clone();
                let hits = h2.clone();
                let counter = counter.clone();
                let flight = f2.clone();
                tokio::spawn(async move {
                    let _ = serve(sock, handler, hits, counter, flight).await;
                });
            }
        });
        TestServer {
            url,
            hits,
            in_flight,
            task,
        }
    }

    /// The most requests the server was answering at once.
    pub fn max_in_flight(&self) -> usize {
        self.in_flight.1.load(Ordering::SeqCst)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.hits.lock().unwrap().len()
    }
}

async fn serve(
    mut sock: TcpStream,
    handler: Arc<Handler>,
    hits: Arc<Mutex<Vec<Hit>>>,
    counter: Arc<AtomicUsize>,
    flight: Arc<(AtomicUsize, AtomicUsize)>,
) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // Read one request head.
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i;
            }
            let mut chunk = [0u8; 8192];
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let start = lines.next().unwrap_or_default().to_string();
        let mut parts = start.split(' ');
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let body_start = head_end + 4;
        while buf.len() < body_start + len {
            let mut chunk = [0u8; 8192];
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = buf[body_start..body_start + len].to_vec();
        buf.drain(..body_start + len);
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (target.clone(), String::new()),
        };
        let hit = Hit {
            method,
            path,
            query,
            headers,
            body,
        };
        hits.lock().unwrap().push(hit.clone());
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let now = flight.0.fetch_add(1, Ordering::SeqCst) + 1;
        flight.1.fetch_max(now, Ordering::SeqCst);
        let mut reply = handler(&hit, n);
        while let Reply::Delayed(d, inner) = reply {
            tokio::time::sleep(d).await;
            reply = *inner;
        }
        flight.0.fetch_sub(1, Ordering::SeqCst);
        match reply {
            Reply::Full {
                status,
                content_type,
                headers,
                body,
            } => {
                let mut out = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                sock.write_all(out.as_bytes()).await?;
                sock.write_all(&body).await?;
                sock.flush().await?;
            }
            Reply::Drop => return Ok(()),
            Reply::Stall(d) => {
                tokio::time::sleep(d).await;
                return Ok(());
            }
            Reply::Truncated { declared, body } => {
                let out = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\n\r\n"
                );
                sock.write_all(out.as_bytes()).await?;
                sock.write_all(&body).await?;
                sock.flush().await?;
                return Ok(());
            }
            Reply::Endless {
                status,
                chunk,
                sent,
            } => {
                let out = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
                );
                sock.write_all(out.as_bytes()).await?;
                let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                framed.extend_from_slice(&chunk);
                framed.extend_from_slice(b"\r\n");
                loop {
                    sock.write_all(&framed).await?;
                    sent.fetch_add(chunk.len(), Ordering::SeqCst);
                }
            }
            Reply::Drip { body, every } => {
                let out = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                sock.write_all(out.as_bytes()).await?;
                for b in body {
                    sock.write_all(&[b]).await?;
                    sock.flush().await?;
                    tokio::time::sleep(every).await;
                }
            }
            Reply::Delayed(..) => unreachable!("unwrapped above"),
        }
    }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// A deterministic session id.
pub fn sid(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

/// A valid session record as the server returns it.
pub fn session_json(i: usize) -> Value {
    json!({
        "id": sid(i),
        "name": format!("session {i:05}"),
        "description": "",
        "epochs": [],
        "projects": ["11111111-1111-4111-8111-111111111111"],
        "date_time": null,
        "datastorage": [],
        "extra_fields": {},
        "download_links": [],
        "dataacquisition": [],
        "behaviors": [],
        "manipulations": [],
        "tags": []
    })
}

/// How a paging test server describes its lists.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Meta {
    Count,
    Next,
    TotalResults,
    None,
}

/// Options of the paging server.
#[derive(Clone, Copy, Debug)]
pub struct Paging {
    pub total: usize,
    pub meta: Meta,
    pub sideload: bool,
    pub ignore_offset: bool,
    pub cap: usize,
    pub delay: Duration,
}

impl Paging {
    pub fn new(total: usize, meta: Meta) -> Self {
        Paging {
            total,
            meta,
            sideload: false,
            ignore_offset: false,
            cap: 100,
            delay: Duration::ZERO,
        }
    }
}

/// A list of `total` sessions, paged by limit/offset, described as `meta` says.
pub fn paging_reply(p: Paging, hit: &Hit) -> Reply {
    let limit: usize = hit
        .param("limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
        .min(p.cap);
    let offset: usize = if p.ignore_offset {
        0
    } else {
        hit.param("offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let end = (offset + limit).min(p.total);
    let records: Vec<Value> = (offset.min(end)..end).map(session_json).collect();
    let mut body = serde_json::Map::new();
    if p.sideload {
        // dynamic-rest puts sideloaded lists next to the records.
        body.insert(
            "projects".into(),
            json!([{"id": "11111111-1111-4111-8111-111111111111", "name": "p"}]),
        );
    }
    body.insert("sessions".into(), Value::Array(records));
    match p.meta {
        Meta::Count => {
            body.insert("count".into(), json!(p.total));
        }
        Meta::Next => {
            let next = if end < p.total {
                json!(format!(
                    "http://elsewhere.invalid/api/private/stem/session/?limit={limit}&offset={end}"
                ))
            } else {
                Value::Null
            };
            body.insert("next".into(), next);
            body.insert("previous".into(), Value::Null);
        }
        Meta::TotalResults => {
            body.insert(
                "meta".into(),
                json!({"page": 1, "per_page": limit, "total_pages": 1, "total_results": p.total}),
            );
        }
        Meta::None => {}
    }
    Reply::json(200, Value::Object(body))
}

/// A client for a stand-in server, with its token (no cache, default retries).
pub fn mock_client(srv: &brainstem_mock::MockServer) -> brainstem::client::Client {
    brainstem::client::Client::builder()
        .base_url(srv.url())
        .token(srv.token())
        .no_token_cache()
        .build()
        .unwrap()
}

/// A client for a test server (no cache, fast retries).
pub fn client_for(url: &str) -> brainstem::client::Client {
    brainstem::client::Client::builder()
        .base_url(url)
        .token("test-token-value")
        .no_token_cache()
        .retry(
            brainstem::client::RetryPolicy::default()
                .base_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(20)),
        )
        .build()
        .unwrap()
}
