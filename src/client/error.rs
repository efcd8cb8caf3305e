//! The one error type of the client.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::error::{DecodeError, InvalidInput, snippet};

/// Everything that can go wrong talking to BrainSTEM. Match on the variant;
/// every message says what to do next. No variant ever holds the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No token is configured, and the request needs one (private portal).
    #[error(
        "not logged in to {server}: run `brainstem login`, call `Client::login`, or set BRAINSTEM_API_TOKEN"
    )]
    NotLoggedIn {
        /// The server's base URL.
        server: String,
    },
    /// 401: the server refused the token.
    #[error(
        "401 Unauthorized: {detail}; the token is invalid or expired: log in again (`brainstem login` or `Client::login`) or set a new BRAINSTEM_API_TOKEN"
    )]
    Unauthorized {
        /// The server's explanation.
        detail: String,
    },
    /// 403: the token may not do this.
    #[error(
        "403 Forbidden: {detail}; check that your account has the needed permission on the project or resource (read-only tokens cannot write; the public portal is read-only)"
    )]
    Forbidden {
        /// The server's explanation.
        detail: String,
    },
    /// 404: no such record or endpoint (in this portal).
    #[error(
        "404 Not Found: {path}: {detail}; check the id, and that the record is visible in the portal you used"
    )]
    NotFound {
        /// The request path.
        path: String,
        /// The server's explanation.
        detail: String,
    },
    /// 400 with DRF field errors: field path -> messages (nested errors are
    /// flattened to paths like `download_links[0].url`).
    #[error("400 validation failed: {}; fix these fields and send again", fmt_fields(.fields))]
    Validation {
        /// Field path -> the server's messages (`non_field_errors` / `detail` for the whole body).
        fields: BTreeMap<String, Vec<String>>,
    },
    /// 400 for a list request: dynamic-rest refused the query (unknown filter
    /// field, bad value, malformed key, unknown include).
    #[error("400 bad query: {}; check the filter, sort and include names and values", .messages.join("; "))]
    BadQuery {
        /// The server's messages.
        messages: Vec<String>,
    },
    /// 429: too many requests, after the retries allowed.
    #[error("429 rate limited{}; wait and try again, or lower the request rate", fmt_retry_after(.retry_after))]
    RateLimited {
        /// How long the server asked to wait.
        retry_after: Option<Duration>,
    },
    /// 5xx: the server failed (after the retries allowed for the method).
    #[error("server error {status}: {snippet:?}; try again later")]
    Server {
        /// HTTP status.
        status: u16,
        /// The start of the body.
        snippet: String,
    },
    /// Another unexpected HTTP status.
    #[error("unexpected HTTP status {status}: {snippet:?}")]
    Http {
        /// HTTP status.
        status: u16,
        /// The start of the body.
        snippet: String,
    },
    /// No complete answer within the timeout.
    #[error(
        "timed out after {after:?} waiting for the server; try again, or raise the timeout with ClientBuilder::timeout"
    )]
    Timeout {
        /// The configured timeout.
        after: Duration,
    },
    /// The connection failed or broke (after the retries allowed for the method).
    #[error("transport error: {message}; check the URL and your network connection")]
    Transport {
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The response body did not match the expected type.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Input refused on our side; nothing was sent.
    #[error(transparent)]
    InvalidInput(#[from] InvalidInput),
    /// The server returned the same records for a later offset: it ignores
    /// `offset`, and paging on would loop or duplicate records.
    #[error(
        "the server ignored `offset={offset}` (it returned the records of an earlier page again); stopping instead of repeating records: fetch with one large page or a narrower filter"
    )]
    OffsetIgnored {
        /// The offset that was ignored.
        offset: u64,
    },
    /// A record of a list could not be decoded. It is kept raw (nothing is
    /// lost): a non-strict stream yields this as an item and goes on; a
    /// [`strict`](crate::client::ListRequest::strict) request ends with it.
    #[error(
        "{0}; its raw JSON is in the error (`UndecodedRecord::raw`), or read the list with `.json()`"
    )]
    UndecodedRecord(Box<crate::client::UndecodedRecord>),
    /// The server APPLIED the change (2xx) but its answer could not be
    /// decoded. Do not retry: that would apply the change again (a second
    /// record for a create). The raw body and the record's id, when the body
    /// names one, say what was stored.
    #[error(transparent)]
    AppliedUndecodable(Box<AppliedUndecodable>),
    /// The response body passed the client's limit
    /// ([`ClientBuilder::max_response_bytes`](crate::client::ClientBuilder::max_response_bytes),
    /// default 64 MiB); reading stopped there. When `applied` is true the
    /// request was a write the server accepted (2xx): the change is stored,
    /// do not retry it.
    #[error(
        "the answer to {method} {path} (HTTP {status}) is larger than the {limit}-byte limit; reading stopped{}",
        if *.applied { "; the server APPLIED the write (the change is stored): do NOT retry it" } else { ": ask for smaller pages (limit) or raise ClientBuilder::max_response_bytes" }
    )]
    ResponseTooLarge {
        /// The HTTP method.
        method: String,
        /// The request path.
        path: String,
        /// The HTTP status of the answer.
        status: u16,
        /// The limit in bytes.
        limit: u64,
        /// Whether a write was applied (a 2xx answer to a method other than GET/HEAD).
        applied: bool,
    },
    /// The server redirected the request somewhere the client does not
    /// follow: another host, scheme or port than the request's (or too many
    /// redirects). Nothing was sent there, the token least of all.
    #[error(
        "the server answered {status} redirecting to {location:?}, which is not the server the client is configured for; nothing was sent there: if that is the right server, set it as the base URL"
    )]
    Redirected {
        /// The HTTP status (3xx).
        status: u16,
        /// The `Location` header, if any.
        location: Option<String>,
    },
    /// The server's pagination cannot be followed safely.
    #[error("pagination: {0}")]
    Pagination(String),
    /// The model has no such operation, or not on this portal.
    #[error("not supported: {0}")]
    NotSupported(String),
    /// A token would be sent over plain HTTP to a non-loopback host.
    #[error(
        "refusing to send the API token over plain http:// to {url}: use https://, or allow it explicitly with ClientBuilder::allow_insecure_http(true) / BRAINSTEM_ALLOW_INSECURE_HTTP=1"
    )]
    InsecureUrl {
        /// The base URL.
        url: String,
    },
    /// The token cache file could not be used.
    #[error("token cache {}: {problem}", .path.display())]
    TokenCache {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// The device-authorization login did not produce a token.
    #[error(transparent)]
    Login(#[from] LoginError),
    /// The client configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
}

/// A write the server applied (2xx) whose answer could not be decoded
/// ([`Error::AppliedUndecodable`]). Do not retry it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the server applied the {method} (HTTP {status}{}) but its answer could not be decoded: {error}; do NOT retry (the change is stored); the raw answer is in the error",
    .id.as_deref().map(|i| format!(", record id {i}")).unwrap_or_default()
)]
pub struct AppliedUndecodable {
    /// The HTTP method (`POST`, `PATCH`, ...).
    pub method: String,
    /// The HTTP status (2xx).
    pub status: u16,
    /// The record's id, if the body has one.
    pub id: Option<String>,
    /// The body as received.
    pub body: bytes::Bytes,
    /// Why it did not decode.
    pub error: DecodeError,
}

/// Why a device-authorization login failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The user clicked Deny.
    #[error("login denied in the browser (access_denied); run the login again and approve it")]
    AccessDenied,
    /// The code expired before it was approved.
    #[error("the login code expired before it was approved (expired_token); run the login again")]
    Expired,
    /// The token for this code was already collected.
    #[error("this login code was already used (already_used); run the login again")]
    AlreadyUsed,
    /// The local deadline passed while waiting for approval.
    #[error("no approval within {0:?}; run the login again and approve it in the browser")]
    TimedOut(Duration),
    /// The server answered something the flow does not know.
    #[error("unexpected answer from the login endpoint: {0}")]
    Unexpected(String),
}

fn fmt_fields(fields: &BTreeMap<String, Vec<String>>) -> String {
    let mut s = String::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        let _ = write!(s, "{k}: {}", v.join(" "));
    }
    s
}

fn fmt_retry_after(d: &Option<Duration>) -> String {
    match d {
        Some(d) => format!(" (the server asked to wait {}s)", d.as_secs()),
        None => String::new(),
    }
}

impl Error {
    /// The HTTP status behind this error, if it came from a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { .. } => Some(401),
            Error::Forbidden { .. } => Some(403),
            Error::NotFound { .. } => Some(404),
            Error::Validation { .. } | Error::BadQuery { .. } => Some(400),
            Error::RateLimited { .. } => Some(429),
            Error::Server { status, .. } | Error::Http { status, .. } => Some(*status),
            Error::AppliedUndecodable(a) => Some(a.status),
            Error::ResponseTooLarge { status, .. } | Error::Redirected { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    pub(crate) fn transport(e: reqwest::Error) -> Error {
        // reqwest's message names the URL, which holds no secret (the token
        // travels in a header only).
        let mut message = e.to_string();
        let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&e);
        while let Some(s) = src {
            let _ = write!(message, ": {s}");
            src = s.source();
        }
        Error::Transport {
            message,
            source: Some(Box::new(e)),
        }
    }
}

/// The messages of a JSON error value: strings as they are, lists flattened.
fn messages(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(messages).collect(),
        Value::Null => vec![],
        Value::Object(m) => m
            .iter()
            .flat_map(|(k, v)| messages(v).into_iter().map(move |m| format!("{k}: {m}")))
            .collect(),
        other => vec![other.to_string()],
    }
}

/// Flatten DRF's (possibly nested) field errors to path -> messages.
fn flatten_fields(prefix: &str, v: &Value, out: &mut BTreeMap<String, Vec<String>>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_fields(&p, v, out);
            }
        }
        Value::Array(a) if a.iter().any(|x| x.is_object() || x.is_array()) => {
            for (i, x) in a.iter().enumerate() {
                match x {
                    Value::Object(_) | Value::Array(_) => {
                        flatten_fields(&format!("{prefix}[{i}]"), x, out)
                    }
                    other => out
                        .entry(prefix.to_string())
                        .or_default()
                        .extend(messages(other)),
                }
            }
        }
        other => {
            let key = if prefix.is_empty() {
                "non_field_errors".to_string()
            } else {
                prefix.to_string()
            };
            let ms = messages(other);
            if !ms.is_empty() {
                out.entry(key).or_default().extend(ms);
            }
        }
    }
}

fn detail_of(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => match m.get("detail") {
            Some(d) => messages(d).join(" "),
            None => messages(&Value::Object(m)).join("; "),
        },
        Ok(v) => messages(&v).join("; "),
        Err(_) => snippet(body, 200),
    }
}

/// Turn a non-success response into the matching error.
pub(crate) fn from_response(
    method: &reqwest::Method,
    path: &str,
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Error {
    match status {
        401 => Error::Unauthorized {
            detail: detail_of(body),
        },
        403 => Error::Forbidden {
            detail: detail_of(body),
        },
        404 => Error::NotFound {
            path: path.to_string(),
            detail: detail_of(body),
        },
        429 => Error::RateLimited { retry_after },
        400 => match serde_json::from_slice::<Value>(body) {
            Ok(Value::Array(a)) => Error::BadQuery {
                messages: a.iter().flat_map(messages).collect(),
            },
            Ok(Value::Object(m))
                if *method == reqwest::Method::GET
                    && m.keys().all(|k| k == "detail" || k == "non_field_errors") =>
            {
                Error::BadQuery {
                    messages: messages(&Value::Object(m)),
                }
            }
            Ok(v @ Value::Object(_)) => {
                let mut fields = BTreeMap::new();
                flatten_fields("", &v, &mut fields);
                Error::Validation { fields }
            }
            Ok(Value::String(s)) => Error::BadQuery { messages: vec![s] },
            _ => Error::Http {
                status,
                snippet: snippet(body, 300),
            },
        },
        s if s >= 500 => Error::Server {
            status: s,
            snippet: snippet(body, 300),
        },
        s => Error::Http {
            status: s,
            snippet: snippet(body, 300),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_validation_is_flattened() {
        let body = br#"{"name": ["This field is required."], "download_links": [{}, {"url": ["Enter a valid URL."]}], "details": {"depth": ["too deep"]}}"#;
        let Error::Validation { fields } =
            from_response(&reqwest::Method::POST, "/x", 400, None, body)
        else {
            panic!("not validation")
        };
        assert_eq!(fields["name"], vec!["This field is required."]);
        assert_eq!(fields["download_links[1].url"], vec!["Enter a valid URL."]);
        assert_eq!(fields["details.depth"], vec!["too deep"]);
    }

    #[test]
    fn list_body_is_bad_query() {
        let e = from_response(
            &reqwest::Method::GET,
            "/x",
            400,
            None,
            br#"["Invalid filter field: bogus"]"#,
        );
        assert!(
            matches!(e, Error::BadQuery { ref messages } if messages == &["Invalid filter field: bogus"])
        );
        let e = from_response(
            &reqwest::Method::GET,
            "/x",
            400,
            None,
            br#"{"detail": "\"filter{name\" is not a well-formed filter key."}"#,
        );
        assert!(matches!(e, Error::BadQuery { .. }));
        let e = from_response(
            &reqwest::Method::POST,
            "/x",
            400,
            None,
            br#"{"detail": "'projects' value must be a list"}"#,
        );
        assert!(matches!(e, Error::Validation { ref fields } if fields.contains_key("detail")));
    }
}
