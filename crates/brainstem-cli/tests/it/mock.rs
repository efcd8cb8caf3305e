//! `brainstem mock`: the stand-in server it runs, the dialect and network
//! its flags ask for, and the values it refuses.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::process::{Child, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;

use crate::{home, json_out};

/// A running `brainstem mock`, with the variables it printed; stopped when
/// dropped (a failing test leaves no server behind).
struct Mock {
    child: Child,
    vars: HashMap<String, String>,
}

impl Mock {
    /// Start `brainstem mock --port 0 ARGS` and read the three
    /// `NAME=value` lines it prints first.
    fn start(args: &[&str]) -> Mock {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("brainstem"))
            .args(["mock", "--port", "0"])
            .args(args)
            .env_clear()
            .env("HOME", home())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut vars = HashMap::new();
        for _ in 0..3 {
            let line = lines.next().unwrap().unwrap();
            let (k, v) = line.split_once('=').unwrap();
            vars.insert(k.to_string(), v.to_string());
        }
        Mock { child, vars }
    }

    /// The command against this server, with the given token variable.
    fn cmd(&self, token: &str) -> Command {
        let mut c = Command::cargo_bin("brainstem").unwrap();
        c.env_clear()
            .env("HOME", home())
            .env("BRAINSTEM_URL", &self.vars["BRAINSTEM_URL"])
            .env("BRAINSTEM_TOKEN", &self.vars[token]);
        c
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn mock_serves_the_stand_in_server_until_stopped() {
    let mock = Mock::start(&[]);
    let url = &mock.vars["BRAINSTEM_URL"];
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let v = json_out(
        mock.cmd("BRAINSTEM_TOKEN")
            .args(["load", "session", "--limit", "2"]),
    );
    assert_eq!(v["sessions"].as_array().unwrap().len(), 2);
    mock.cmd("BRAINSTEM_READONLY_TOKEN")
        .args(["delete", "session", "--id", &uuid::Uuid::nil().to_string()])
        .assert()
        .code(1);
}

#[test]
fn mock_answers_in_the_dialect_its_flags_ask_for() {
    let mock = Mock::start(&[
        "--dialect",
        "dynamic-rest",
        "--page-size",
        "3",
        "--exclude-count",
        "--no-defer",
        "--extra-field-every",
        "1",
    ]);
    let addr = mock.vars["BRAINSTEM_URL"]
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    // Plain HTTP/1.1: the body holds a number no JSON library reads into an f64.
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "GET /api/private/stem/session/?page=2 HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        mock.vars["BRAINSTEM_TOKEN"]
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    drop(mock);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        body.ends_with(r#""meta":{"page":2,"per_page":3,"more_pages":true}}"#),
        "{body}"
    );
    assert_eq!(body.matches(r#""big":1e400"#).count(), 3, "{body}");
    assert!(body.contains(r#""description":"#), "--no-defer: {body}");
    assert!(!body.contains(r#""count":"#), "{body}");
}

#[test]
fn mock_refuses_fields_that_do_not_exist() {
    Command::cargo_bin("brainstem")
        .unwrap()
        .env_clear()
        .env("HOME", home())
        .args(["mock", "--port", "0", "--defer", "session.nope"])
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("session.nope"));
}

/// One plain HTTP/1.1 GET on its own connection: the head (lower-cased)
/// and the body bytes, and how long it took.
fn raw_get(addr: &str, path: &str, headers: &str) -> (String, Vec<u8>, std::time::Duration) {
    let start = std::time::Instant::now();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).unwrap();
    let took = start.elapsed();
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    (head, answer[split + 4..].to_vec(), took)
}

#[test]
fn mock_puts_a_network_in_between_when_asked() {
    let mock = Mock::start(&[
        "--latency-ms",
        "200",
        "--bandwidth",
        "50000",
        "--no-compression",
    ]);
    let addr = mock.vars["BRAINSTEM_URL"]
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let auth = format!(
        "Authorization: Bearer {}\r\nAccept-Encoding: gzip, br\r\n",
        mock.vars["BRAINSTEM_TOKEN"]
    );
    let (head, body, took) = raw_get(&addr, "/api/private/stem/session/?limit=20", &auth);
    drop(mock);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        !head.contains("content-encoding"),
        "--no-compression: {head}"
    );
    assert!(
        head.contains(&format!("content-length: {}", body.len())),
        "{head}"
    );
    assert!(body.len() > 5_000, "{} bytes", body.len());
    // 200 ms of latency, then the body at 50 000 bytes per second.
    let floor = std::time::Duration::from_millis(200)
        + std::time::Duration::from_secs_f64(body.len() as f64 / 50_000.0);
    assert!(took >= floor, "{} bytes took {took:?}", body.len());

    // By default the answer is compressed for a client that asks.
    let mock = Mock::start(&[]);
    let addr = mock.vars["BRAINSTEM_URL"]
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let auth = format!(
        "Authorization: Bearer {}\r\nAccept-Encoding: gzip\r\n",
        mock.vars["BRAINSTEM_TOKEN"]
    );
    let (head, _, _) = raw_get(&addr, "/api/private/stem/session/?limit=20", &auth);
    assert!(head.contains("content-encoding: gzip"), "{head}");
}

#[test]
fn mock_refuses_a_bandwidth_of_zero() {
    Command::cargo_bin("brainstem")
        .unwrap()
        .env_clear()
        .env("HOME", home())
        .args(["mock", "--port", "0", "--bandwidth", "0"])
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--bandwidth"));
}
