//! Responses: JSON bodies with DRF's status codes and messages.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Map, Value, json};

/// An error answer.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub body: Value,
    /// `Allow` header (405).
    pub allow: Option<String>,
    /// Send `WWW-Authenticate` (401).
    pub challenge: bool,
}

impl ApiError {
    /// `{"detail": msg}`.
    pub fn detail(status: StatusCode, msg: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: json!({ "detail": msg.into() }),
            allow: None,
            challenge: false,
        }
    }

    /// A JSON list of messages (dynamic-rest's query errors).
    pub fn list(msgs: Vec<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            body: Value::Array(msgs.into_iter().map(Value::String).collect()),
            allow: None,
            challenge: false,
        }
    }

    /// Field errors `{"field": ["msg"]}`.
    pub fn fields(map: Map<String, Value>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            body: Value::Object(map),
            allow: None,
            challenge: false,
        }
    }

    /// One field error.
    pub fn field(name: &str, msg: impl Into<String>) -> ApiError {
        let mut m = Map::new();
        m.insert(name.to_string(), json!([msg.into()]));
        ApiError::fields(m)
    }

    /// 400 `{"detail": msg}` (DRF's ParseError).
    pub fn parse(msg: impl Into<String>) -> ApiError {
        ApiError::detail(StatusCode::BAD_REQUEST, msg)
    }

    /// 404.
    pub fn not_found() -> ApiError {
        ApiError::detail(StatusCode::NOT_FOUND, "Not found.")
    }

    /// 403.
    pub fn forbidden() -> ApiError {
        ApiError::detail(
            StatusCode::FORBIDDEN,
            "You do not have permission to perform this action.",
        )
    }

    /// 401 without credentials.
    pub fn no_credentials() -> ApiError {
        ApiError {
            challenge: true,
            ..ApiError::detail(
                StatusCode::UNAUTHORIZED,
                "Authentication credentials were not provided.",
            )
        }
    }

    /// 401 with a token the server does not know.
    pub fn bad_token() -> ApiError {
        ApiError {
            challenge: true,
            ..ApiError::detail(StatusCode::UNAUTHORIZED, "Invalid token.")
        }
    }

    /// 405.
    pub fn method(method: &str, allow: Vec<&str>) -> ApiError {
        ApiError {
            allow: Some(allow.join(", ")),
            ..ApiError::detail(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("Method \"{method}\" not allowed."),
            )
        }
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response<Body> {
        let mut r = json_response(self.status, body_bytes(&self.body));
        if let Some(a) = self.allow
            && let Ok(v) = HeaderValue::from_str(&a)
        {
            r.headers_mut().insert(header::ALLOW, v);
        }
        if self.challenge {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"api\""),
            );
        }
        r
    }
}

/// Serialize a value (never fails for `Value`).
pub(crate) fn body_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec())
}

/// `{"key": json}`, around a record already written as JSON text.
pub(crate) fn one_json(key: &str, json: &str) -> Vec<u8> {
    let mut out = String::with_capacity(json.len() + key.len() + 8);
    out.push('{');
    out.push_str(&serde_json::to_string(key).unwrap_or_default());
    out.push(':');
    out.push_str(json);
    out.push('}');
    out.into_bytes()
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// 204 with an empty body.
pub(crate) fn no_content() -> Response<Body> {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

/// Python's `repr` of a string (for dynamic-rest's sort error).
pub(crate) fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::py_repr;

    #[test]
    fn repr_matches_python() {
        assert_eq!(py_repr("bogus"), "'bogus'");
        assert_eq!(py_repr("-name"), "'-name'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'\"b"), "'a\\'\"b'");
        assert_eq!(py_repr("x\\y"), "'x\\\\y'");
    }
}
