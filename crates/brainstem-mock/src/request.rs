//! One request as the handlers see it: the method, the URI as the client
//! sent it, the headers and the body, with the base URL the client used,
//! the query string's pairs, and the JSON body read the way DRF reads it.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use serde_json::{Map, Value};

use super::query;
use super::reply::ApiError;

/// One request.
pub(crate) struct Req<'a> {
    /// The method (`HEAD` included; the dispatcher answers it as `GET`).
    pub method: &'a Method,
    /// The URI as the client sent it (percent escapes as they were).
    pub uri: &'a Uri,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The body, whole.
    pub body: &'a Bytes,
}

impl Req<'_> {
    /// `http://host/` as the client addressed us.
    pub fn base(&self) -> String {
        let host = self
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        format!("http://{host}/")
    }

    /// The query string's pairs, in order (see [`query::parse_pairs`]).
    pub fn pairs(&self) -> Vec<(String, String)> {
        query::parse_pairs(self.uri.query())
    }

    /// The JSON body (DRF: empty means `{}`).
    pub fn json(&self) -> Result<Value, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Map::new()));
        }
        let ct = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !(mime == "application/json" || mime.ends_with("+json")) {
            return Err(ApiError::detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported media type \"{ct}\" in request."),
            ));
        }
        serde_json::from_slice(self.body)
            .map_err(|e| ApiError::parse(format!("JSON parse error - {e}")))
    }
}
