//! The stand-in server's URL table, over raw HTTP so that no client tidies
//! the path: trailing slashes, percent escapes and empty segments, the
//! device routes, the approval page, authentication before the method, and
//! the JSON 404 for everything else.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use brainstem_mock::{MockOptions, MockServer};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One answer: status, headers (names in lower case), body.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// The methods of `Allow`.
    fn allow(&self) -> BTreeSet<String> {
        self.header("allow")
            .unwrap_or_default()
            .split(", ")
            .map(str::to_string)
            .collect()
    }
}

/// Send `method path` exactly as written, with a bearer token if given.
async fn raw(addr: SocketAddr, method: &str, path: &str, token: Option<&str>) -> Raw {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("the server accepts");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let body = if method == "POST" { "{}" } else { "" };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request is sent");
    let mut out = Vec::new();
    stream
        .read_to_end(&mut out)
        .await
        .expect("the answer is read");
    let text = String::from_utf8(out).expect("a text answer");
    let (head, body) = text.split_once("\r\n\r\n").expect("a header block");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    Raw {
        status,
        headers,
        body: body.to_string(),
    }
}

async fn server() -> MockServer {
    MockServer::start_with(MockOptions::new().sessions(5))
        .await
        .expect("server starts")
}

#[tokio::test]
async fn trailing_slash_is_optional() {
    let srv = server().await;
    let (addr, t) = (srv.addr(), Some(srv.token()));
    let with = raw(addr, "GET", "/api/private/stem/session/", t).await;
    let without = raw(addr, "GET", "/api/private/stem/session", t).await;
    assert_eq!(with.status, 200, "{}", with.body);
    assert_eq!(without.status, 200, "{}", without.body);
    assert_eq!(with.json()["sessions"], without.json()["sessions"]);
    let id = with.json()["sessions"][0]["id"]
        .as_str()
        .expect("an id")
        .to_string();
    for path in [
        format!("/api/private/stem/session/{id}/"),
        format!("/api/private/stem/session/{id}"),
    ] {
        let a = raw(addr, "GET", &path, t).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert_eq!(a.json()["session"]["id"], json!(id), "{path}");
    }
    let project = with.json()["sessions"][0]["projects"][0]
        .as_str()
        .expect("a project")
        .to_string();
    for path in [
        format!("/api/private/stem/project/{project}/sessions/"),
        format!("/api/private/stem/project/{project}/sessions"),
    ] {
        let a = raw(addr, "GET", &path, t).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
    }
    // Only one trailing slash.
    let a = raw(addr, "GET", &format!("/api/private/stem/session/{id}//"), t).await;
    assert_eq!(a.status, 404);
}

#[tokio::test]
async fn segments_are_compared_as_sent() {
    let srv = server().await;
    let (addr, t) = (srv.addr(), Some(srv.token()));
    assert_eq!(
        raw(addr, "GET", "/api/private/users/user/1/", t)
            .await
            .status,
        200
    );
    // A percent escape is not decoded: `%73ession` is not `session`.
    for path in [
        "/api/private/stem/%73ession/",
        "/api/%70rivate/stem/session/",
        "/api/private/users/user/%31/",
        "/api/private/users/group/2/%6Aoin/",
        "/api/auth/%64evice/",
        "/api/private/stem/session/%FF/",
    ] {
        let a = raw(addr, "GET", path, t).await;
        assert_eq!(a.status, 404, "{path}: {}", a.body);
        assert_eq!(a.json(), json!({"detail": "Not found."}), "{path}");
    }
}

#[tokio::test]
async fn empty_segments_are_not_found_before_authentication() {
    let srv = server().await;
    let addr = srv.addr();
    for path in [
        "/api/private/stem/session//",
        "/api/private//stem/session/",
        "/api//private/stem/session/",
        "/api/private/stem/session//behaviors/",
        "/api/auth//device/",
        "/api/",
        "/api",
        "/",
    ] {
        let a = raw(addr, "GET", path, None).await;
        assert_eq!(a.status, 404, "{path}: {}", a.body);
        assert_eq!(a.json(), json!({"detail": "Not found."}), "{path}");
        assert!(a.header("www-authenticate").is_none(), "{path}");
    }
    // The same route with its segment is there, and asks for a token.
    let a = raw(addr, "GET", "/api/private/stem/session/", None).await;
    assert_eq!(a.status, 401);
    assert!(a.header("www-authenticate").is_some());
}

#[tokio::test]
async fn authentication_comes_before_the_method() {
    let srv = server().await;
    let addr = srv.addr();
    let a = raw(addr, "OPTIONS", "/api/private/stem/session/", None).await;
    assert_eq!(a.status, 401, "{}", a.body);
    assert_eq!(
        a.json(),
        json!({"detail": "Authentication credentials were not provided."})
    );
    let a = raw(addr, "OPTIONS", "/api/private/stem/session/", Some("bogus")).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.json(), json!({"detail": "Invalid token."}));
    let a = raw(
        addr,
        "OPTIONS",
        "/api/private/stem/session/",
        Some(srv.token()),
    )
    .await;
    assert_eq!(a.status, 405);
    assert_eq!(
        a.json(),
        json!({"detail": "Method \"OPTIONS\" not allowed."})
    );
    assert_eq!(a.allow(), ["GET", "POST"].map(String::from).into());
    // The read-only token is refused an unsafe method before it learns the
    // method does not exist.
    let a = raw(
        addr,
        "PUT",
        "/api/private/stem/session/",
        Some(srv.readonly_token()),
    )
    .await;
    assert_eq!(a.status, 403, "{}", a.body);
    // The public portal has no token to check, only the methods it allows.
    let a = raw(addr, "POST", "/api/public/stem/project/", None).await;
    assert_eq!(a.status, 405);
    assert_eq!(a.allow(), ["GET".to_string()].into());
}

#[tokio::test]
async fn device_routes_and_the_approval_page() {
    let srv = server().await;
    let addr = srv.addr();
    for path in ["/api/auth/device/", "/api/auth/device/token"] {
        let a = raw(addr, "GET", path, None).await;
        assert_eq!(a.status, 405, "{path}");
        assert_eq!(a.json(), json!({"detail": "Method \"GET\" not allowed."}));
        assert_eq!(a.header("allow"), Some("POST"), "{path}");
    }
    let a = raw(addr, "POST", "/api/auth/device", None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.json()["device_code"].is_string());
    let a = raw(addr, "POST", "/api/auth/device/token/", None).await;
    assert_eq!(a.status, 400, "no device_code: {}", a.body);
    for path in [
        "/api/auth/",
        "/api/auth/device/x/",
        "/api/auth/device/token/x/",
    ] {
        let a = raw(addr, "POST", path, None).await;
        assert_eq!(a.status, 404, "{path}: {}", a.body);
    }
    for path in ["/account/authorize", "/account/authorize/"] {
        let a = raw(addr, "GET", path, None).await;
        assert_eq!(a.status, 200, "{path}");
        assert!(
            a.header("content-type")
                .is_some_and(|c| c.starts_with("text/html"))
        );
    }
    let a = raw(addr, "PUT", "/account/authorize/", None).await;
    assert_eq!(a.status, 405);
    assert_eq!(a.allow(), ["GET", "POST"].map(String::from).into());
    for path in ["/account/authorize/x", "/account/authorizex", "/account/"] {
        let a = raw(addr, "GET", path, None).await;
        assert_eq!(a.status, 404, "{path}");
        assert_eq!(a.json(), json!({"detail": "Not found."}), "{path}");
    }
}

#[tokio::test]
async fn every_request_is_counted_and_head_has_no_body() {
    let srv = server().await;
    let addr = srv.addr();
    let before = srv.requests();
    raw(addr, "GET", "/nothing/here", None).await;
    raw(addr, "GET", "/api/private/stem/session//", None).await;
    let a = raw(
        addr,
        "HEAD",
        "/api/private/stem/session/",
        Some(srv.token()),
    )
    .await;
    assert_eq!(a.status, 200);
    assert!(a.body.is_empty(), "HEAD answers no body");
    assert_eq!(srv.requests() - before, 3);
}
