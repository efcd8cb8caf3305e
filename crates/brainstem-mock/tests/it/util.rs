//! Helpers shared by the stand-in server's tests: a server with an HTTP
//! client, one request's answer, and small readers of list bodies.

use brainstem_mock::{MockOptions, MockServer};
use reqwest::Method;
use serde_json::Value;

/// A server and an HTTP client for it.
pub struct Srv {
    pub srv: MockServer,
    pub http: reqwest::Client,
}

/// The answer to one request.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a plain HTTP client")
}

impl Srv {
    pub async fn new() -> Srv {
        Srv {
            srv: MockServer::start().await,
            http: http(),
        }
    }

    pub async fn with(opts: MockOptions) -> Srv {
        Srv {
            srv: MockServer::start_with(opts).await.expect("server starts"),
            http: http(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.srv.url(), path.trim_start_matches('/'))
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(b).expect("json"));
        }
        let resp = req.send().await.expect("the server answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            body,
            text,
            headers,
        }
    }

    /// GET with the full token.
    pub async fn get(&self, path: &str) -> Answer {
        let t = self.srv.token().to_string();
        self.send(Method::GET, path, Some(&t), None).await
    }

    /// GET with no token.
    pub async fn get_anon(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        let t = self.srv.token().to_string();
        self.send(Method::POST, path, Some(&t), Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Answer {
        let t = self.srv.token().to_string();
        self.send(Method::PATCH, path, Some(&t), Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        let t = self.srv.token().to_string();
        self.send(Method::DELETE, path, Some(&t), None).await
    }

    /// Every record of a list, following `offset` pages of 100.
    pub async fn all(&self, path: &str, key: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let sep = if path.contains('?') { '&' } else { '?' };
        loop {
            let a = self
                .get(&format!("{path}{sep}limit=100&offset={}", out.len()))
                .await;
            assert_eq!(a.status, 200, "{}", a.text);
            let page = a.body[key].as_array().expect("records").clone();
            let n = page.len();
            out.extend(page);
            if n < 100 {
                return out;
            }
        }
    }

    /// The id of the first record of a list.
    pub async fn first_id(&self, path: &str, key: &str) -> String {
        let a = self.get(path).await;
        assert_eq!(a.status, 200, "{}", a.text);
        id_of(&a.body[key][0])
    }

    /// A project of Alice's (private, she owns it).
    pub async fn alice_project(&self) -> String {
        let a = self
            .get("api/private/stem/project/?filter{name}=Hippocampal replay during sleep")
            .await;
        id_of(&a.body["projects"][0])
    }
}

pub fn id_of(v: &Value) -> String {
    match &v["id"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("no id in {other}"),
    }
}

pub fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|r| r["name"].as_str().expect("a name").to_string())
        .collect()
}
