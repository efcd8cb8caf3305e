//! Errors raised before anything is sent, and decode errors.

use std::fmt;

/// One problem with one field, named by its JSON path (`name`,
/// `download_links[0].url`, `details.depth`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// JSON path of the offending value (empty for the whole body).
    pub path: String,
    /// What is wrong, in the server's words where there are some.
    pub message: String,
}

/// Input refused on our side, before anything was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidInput {
    /// Every problem found (not just the first).
    pub errors: Vec<FieldError>,
}

impl InvalidInput {
    /// A single problem.
    pub fn one(path: impl Into<String>, message: impl Into<String>) -> Self {
        InvalidInput {
            errors: vec![FieldError {
                path: path.into(),
                message: message.into(),
            }],
        }
    }

    /// Whether a problem was found at `path`.
    pub fn has(&self, path: &str) -> bool {
        self.errors.iter().any(|e| e.path == path)
    }

    /// The problems as DRF shapes them: `{"field": ["message", ...]}`, keyed by
    /// the top-level field (nested paths keep the rest of the path in the message).
    pub fn to_field_errors(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut out = serde_json::Map::new();
        for e in &self.errors {
            let (top, rest) = split_top(&e.path);
            let key = if top.is_empty() {
                "non_field_errors"
            } else {
                top
            };
            let msg = if rest.is_empty() {
                e.message.clone()
            } else {
                format!("{rest}: {}", e.message)
            };
            out.entry(key.to_string())
                .or_insert_with(|| serde_json::Value::Array(vec![]))
                .as_array_mut()
                .expect("inserted as array")
                .push(msg.into());
        }
        out
    }
}

fn split_top(path: &str) -> (&str, &str) {
    match path.find(['.', '[']) {
        Some(i) => (&path[..i], path[i..].trim_start_matches('.')),
        None => (path, ""),
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid input, nothing was sent: ")?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            if e.path.is_empty() {
                write!(f, "{}", e.message)?;
            } else {
                write!(f, "{}: {}", e.path, e.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for InvalidInput {}

/// A response body that did not match the expected type.
///
/// Its message says what was seen: where (`path`), what the decoder wanted
/// (`message`, serde's words: `invalid type: string "x", expected u32`) and
/// what the server sent there (`found`).
///
/// ```
/// use brainstem::types::Project;
/// let err = brainstem::decode::<Project>(br#"{"id": 5}"#).unwrap_err();
/// assert_eq!(err.found.as_deref(), Some("the number 5"));
/// assert!(err.to_string().contains("the server sent the number 5"), "{err}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// JSON path of the value that failed (`sessions[3].date_time`).
    pub path: String,
    /// What serde said.
    pub message: String,
    /// The start of the body (at most 200 characters).
    pub snippet: String,
    /// What the server sent at `path`, described briefly (`the string
    /// "yesterday"`, `an object with keys id, name`, `null`); `None` when the
    /// body is not JSON there (a syntax error, a truncated body).
    pub found: Option<String>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() || self.path == "." {
            f.write_str("could not decode the response: ")?;
        } else {
            write!(f, "could not decode the response at `{}`: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(found) = &self.found {
            write!(f, "; the server sent {found} there")?;
        }
        write!(f, " (body starts: {:?})", self.snippet)
    }
}

/// How long a quoted value may be in [`describe_json`].
const SHOWN: usize = 60;

/// A short description of a JSON value's text: its kind and a bounded
/// excerpt (`the string "x"`, `the number 12`, `an object with keys a, b`,
/// `a list of 3 items`, `null`); `None` when it is not JSON.
pub(crate) fn describe_json(text: &str) -> Option<String> {
    let t = text.trim();
    let cut = |s: &str| -> String {
        let mut out: String = s.chars().take(SHOWN).collect();
        if s.chars().count() > SHOWN {
            out.push('…');
        }
        out
    };
    Some(match t.as_bytes().first()? {
        b'"' => {
            let s: String = serde_json::from_str(t).ok()?;
            format!("the string {:?}", cut(&s))
        }
        b'{' => {
            let m: std::collections::BTreeMap<String, &serde_json::value::RawValue> =
                serde_json::from_str(t).ok()?;
            if m.is_empty() {
                "an empty object".to_string()
            } else {
                let keys: Vec<&str> = m.keys().take(6).map(String::as_str).collect();
                let more = if m.len() > keys.len() { ", …" } else { "" };
                format!("an object with keys {}{more}", cut(&keys.join(", ")))
            }
        }
        b'[' => {
            let v: Vec<&serde_json::value::RawValue> = serde_json::from_str(t).ok()?;
            match v.len() {
                0 => "an empty list".to_string(),
                1 => "a list of 1 item".to_string(),
                n => format!("a list of {n} items"),
            }
        }
        b't' | b'f' => format!("the boolean {}", serde_json::from_str::<bool>(t).ok()?),
        b'n' if t == "null" => "null".to_string(),
        b'-' | b'0'..=b'9' => {
            serde_json::from_str::<&serde_json::value::RawValue>(t).ok()?;
            format!("the number {}", cut(t))
        }
        _ => return None,
    })
}

impl std::error::Error for DecodeError {}

/// A bounded, character-safe prefix of a body, for error messages.
pub fn snippet(bytes: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(bytes);
    let mut out: String = s.chars().take(max).collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}

/// Decode JSON into `T`, naming the JSON path that failed.
///
/// ```
/// use brainstem::types::Project;
/// let err = brainstem::decode::<Project>(br#"{"id": 5}"#).unwrap_err();
/// assert_eq!(err.path, "id");
/// ```
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    crate::json_path::clear();
    serde_json::from_slice(bytes).map_err(|e| match std::str::from_utf8(bytes) {
        Ok(text) => decode_error(text, &e, ""),
        Err(_) => DecodeError {
            path: ".".into(),
            message: e.to_string(),
            snippet: snippet(bytes, 200),
            found: None,
        },
    })
}

/// The error for a failed decode of `text`: the failing path (under `at`,
/// the path of `text` itself in a larger body) and what was there.
pub(crate) fn decode_error(text: &str, err: &serde_json::Error, at: &str) -> DecodeError {
    let located = crate::json_path::locate(text, err);
    let found = located
        .value
        .and_then(|r| text.get(r))
        .and_then(describe_json);
    let path = match (at.is_empty(), located.path.as_str()) {
        (true, _) => located.path,
        (false, ".") => at.to_string(),
        (false, p) if p.starts_with('[') => format!("{at}{p}"),
        (false, p) => format!("{at}.{p}"),
    };
    DecodeError {
        path,
        message: err.to_string(),
        snippet: snippet(text.as_bytes(), 200),
        found,
    }
}
