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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// JSON path of the value that failed (`sessions[3].date_time`).
    pub path: String,
    /// What serde said.
    pub message: String,
    /// The start of the body (at most 200 characters).
    pub snippet: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not decode the response at `{}`: {} (body starts: {:?}); the server may be newer than this crate's schema",
            self.path, self.message, self.snippet
        )
    }
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
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| DecodeError {
        path: e.path().to_string(),
        message: e.inner().to_string(),
        snippet: snippet(bytes, 200),
    })
}
