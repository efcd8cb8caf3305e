//! Envelope decoding: find the records under the model's key from the spec
//! (never "the first list in the body"), keep the pagination facts, skip
//! everything else (sideloaded lists) without building it.
//!
//! The fast path decodes without path tracking; only when it fails is the
//! body decoded again with `serde_path_to_error` to name the failing path.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::error::{DecodeError, snippet};

/// What a top-level key is.
#[derive(Clone, Copy)]
enum Key {
    Target(usize),
    Count,
    Next,
    Previous,
    Meta,
    Other,
}

struct KeySeed<'a> {
    targets: &'a [&'a str],
    list: bool,
    seen: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        if self.seen.len() < 32 {
            self.seen.push(v.to_string());
        }
        if let Some(i) = self.targets.iter().position(|t| *t == v) {
            return Ok(Key::Target(i));
        }
        if !self.list {
            return Ok(Key::Other);
        }
        Ok(match v {
            "count" => Key::Count,
            "next" => Key::Next,
            "previous" => Key::Previous,
            "meta" => Key::Meta,
            _ => Key::Other,
        })
    }
}

/// A decoded list body.
#[derive(Debug)]
pub(crate) struct RawPage<R> {
    pub records: Vec<R>,
    pub count: Option<u64>,
    pub next: Option<String>,
    pub next_present: bool,
    pub previous: Option<String>,
    pub meta: Option<serde_json::Map<String, Value>>,
}

/// A decoded single-record body: which target key matched, and the value.
#[derive(Debug)]
pub(crate) enum One<A, B> {
    First(A),
    Second(B),
}

struct ListVisitor<R> {
    key: &'static str,
    _r: PhantomData<R>,
}

fn missing<E: de::Error>(wanted: &[&str], seen: &[String]) -> E {
    let wanted: Vec<String> = wanted.iter().map(|w| format!("`{w}`")).collect();
    E::custom(format_args!(
        "missing the envelope key {} (the body has keys: {}); the server may be newer than this crate's schema, or the URL may point to another endpoint",
        wanted.join(" or "),
        if seen.is_empty() {
            "none".to_string()
        } else {
            seen.join(", ")
        }
    ))
}

fn lenient_u64(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

impl<'de, R: DeserializeOwned> Visitor<'de> for ListVisitor<R> {
    type Value = RawPage<R>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON object with the list under `{}`", self.key)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawPage<R>, A::Error> {
        let targets = [self.key];
        let mut seen = Vec::new();
        let mut page = RawPage {
            records: Vec::new(),
            count: None,
            next: None,
            next_present: false,
            previous: None,
            meta: None,
        };
        let mut found = false;
        while let Some(k) = map.next_key_seed(KeySeed {
            targets: &targets,
            list: true,
            seen: &mut seen,
        })? {
            match k {
                Key::Target(_) => {
                    page.records = map.next_value::<Vec<R>>()?;
                    found = true;
                }
                Key::Count => page.count = lenient_u64(&map.next_value::<Value>()?),
                Key::Next => {
                    page.next_present = true;
                    page.next = map.next_value::<Value>()?.as_str().map(str::to_string);
                }
                Key::Previous => {
                    page.previous = map.next_value::<Value>()?.as_str().map(str::to_string)
                }
                Key::Meta => {
                    if let Value::Object(m) = map.next_value::<Value>()? {
                        page.meta = Some(m);
                    }
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !found {
            return Err(missing(&targets, &seen));
        }
        Ok(page)
    }
}

struct ListSeed<R>(ListVisitor<R>);

impl<'de, R: DeserializeOwned> DeserializeSeed<'de> for ListSeed<R> {
    type Value = RawPage<R>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<RawPage<R>, D::Error> {
        d.deserialize_map(self.0)
    }
}

struct OneVisitor<A, B> {
    first: &'static str,
    second: Option<&'static str>,
    _t: PhantomData<(A, B)>,
}

impl<'de, A: DeserializeOwned, B: DeserializeOwned> Visitor<'de> for OneVisitor<A, B> {
    type Value = One<A, B>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON object with the record under `{}`", self.first)
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<One<A, B>, M::Error> {
        let mut targets = vec![self.first];
        if let Some(s) = self.second {
            targets.push(s);
        }
        let mut seen = Vec::new();
        let mut out = None;
        while let Some(k) = map.next_key_seed(KeySeed {
            targets: &targets,
            list: false,
            seen: &mut seen,
        })? {
            match k {
                Key::Target(0) if out.is_none() => out = Some(One::First(map.next_value::<A>()?)),
                Key::Target(1) if out.is_none() => out = Some(One::Second(map.next_value::<B>()?)),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        out.ok_or_else(|| missing(&targets, &seen))
    }
}

struct OneSeed<A, B>(OneVisitor<A, B>);

impl<'de, A: DeserializeOwned, B: DeserializeOwned> DeserializeSeed<'de> for OneSeed<A, B> {
    type Value = One<A, B>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<One<A, B>, D::Error> {
        d.deserialize_map(self.0)
    }
}

/// Run a seed on a body; on failure, again with path tracking.
fn run<'de, S, F>(
    body: &'de [u8],
    content_type: Option<&str>,
    make: F,
) -> Result<S::Value, DecodeError>
where
    S: DeserializeSeed<'de>,
    F: Fn() -> S,
{
    let mut de = serde_json::Deserializer::from_slice(body);
    let fast = make()
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|_| v));
    match fast {
        Ok(v) => Ok(v),
        Err(fast_err) => {
            let mut track = serde_path_to_error::Track::new();
            let mut de = serde_json::Deserializer::from_slice(body);
            let res =
                make().deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
            let (path, message) = match res {
                Err(e) => (track.path().to_string(), e.to_string()),
                Ok(_) => (".".to_string(), fast_err.to_string()),
            };
            let message = match content_type {
                Some(ct) if !ct.to_ascii_lowercase().contains("json") => {
                    format!("expected a JSON body but the server sent `{ct}` ({message})")
                }
                _ => message,
            };
            Err(DecodeError {
                path,
                message,
                snippet: snippet(body, 200),
            })
        }
    }
}

/// Decode a list body: the records under `key`, plus the pagination facts.
pub(crate) fn list<R: DeserializeOwned>(
    body: &[u8],
    content_type: Option<&str>,
    key: &'static str,
) -> Result<RawPage<R>, DecodeError> {
    run(body, content_type, || {
        ListSeed(ListVisitor {
            key,
            _r: PhantomData,
        })
    })
}

/// Decode `{"<key>": {...}}`.
pub(crate) fn one<T: DeserializeOwned>(
    body: &[u8],
    content_type: Option<&str>,
    key: &'static str,
) -> Result<T, DecodeError> {
    match run(body, content_type, || {
        OneSeed::<T, IgnoredAny>(OneVisitor {
            first: key,
            second: None,
            _t: PhantomData,
        })
    })? {
        One::First(t) => Ok(t),
        One::Second(_) => unreachable_second(body),
    }
}

fn unreachable_second<T>(body: &[u8]) -> Result<T, DecodeError> {
    Err(DecodeError {
        path: ".".into(),
        message: "internal: matched an envelope key that was not asked for".into(),
        snippet: snippet(body, 200),
    })
}

/// Decode `{"<first>": {...}}` or `{"<second>": {...}}`.
pub(crate) fn either<A: DeserializeOwned, B: DeserializeOwned>(
    body: &[u8],
    content_type: Option<&str>,
    first: &'static str,
    second: &'static str,
) -> Result<One<A, B>, DecodeError> {
    run(body, content_type, || {
        OneSeed::<A, B>(OneVisitor {
            first,
            second: Some(second),
            _t: PhantomData,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_ignores_sideloads_and_reads_meta() {
        let body = br#"{"projects": [{"id": 1}], "sessions": [{"id": 7}, {"id": 8}], "count": "2", "next": null, "meta": {"total_results": 2}}"#;
        let p: RawPage<Value> = list(body, None, "sessions").unwrap();
        assert_eq!(p.records.len(), 2);
        assert_eq!(p.count, Some(2));
        assert!(p.next_present && p.next.is_none());
        assert_eq!(p.meta.unwrap()["total_results"], 2);
    }

    #[test]
    fn wrong_envelope_names_the_key_and_what_was_there() {
        let err = list::<Value>(br#"{"projects": []}"#, None, "sessions").unwrap_err();
        assert!(err.message.contains("`sessions`"), "{err}");
        assert!(err.message.contains("projects"), "{err}");
    }

    #[test]
    fn path_of_failure() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct R {
            id: u32,
        }
        let err = list::<R>(
            br#"{"sessions": [{"id": 1}, {"id": "x"}]}"#,
            None,
            "sessions",
        )
        .unwrap_err();
        assert_eq!(err.path, "sessions[1].id");
    }

    #[test]
    fn html_is_named() {
        let err = one::<Value>(
            b"<html>oops</html>",
            Some("text/html; charset=utf-8"),
            "session",
        )
        .unwrap_err();
        assert!(err.message.contains("text/html"), "{err}");
    }
}
