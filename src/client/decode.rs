//! Reading response bodies: envelopes, records, sideloaded includes.
//!
//! A list body is first *scanned*: the records under the model's envelope
//! key from the spec (never "the first list in the body") are located as raw
//! JSON text, the pagination facts are read, and every other top-level list
//! is kept as a candidate sideload (dynamic-rest puts included records there,
//! keyed by the related model's plural name). Nothing is built yet, so the
//! scan is cheap and tells the pagination cursor what it needs at once.
//!
//! Each record is then decoded on its own, so one record that does not
//! decode is reported with its raw JSON instead of failing its page. Before
//! decoding, included relations that the server sideloaded are merged into
//! the record by id, at the text level (nested includes too), so a record
//! reads the same whether the server embedded or sideloaded its includes.
//! After decoding, an included relation that is still a bare id is marked
//! [`Related::Missing`](crate::Related::Missing).
//!
//! A record that fails is not decoded again: the failing JSON path is read
//! off the error's position (see `json_path`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::cursor::Facts;
use crate::Model;
use crate::error::{DecodeError, snippet};
use crate::meta::ModelMeta;
use crate::related::Relations;
use crate::schema::Component;

/// Include paths as a tree: `behaviors.setup` and `projects` give
/// `{behaviors: {setup: {}}, projects: {}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Includes {
    children: Vec<(String, Includes)>,
}

impl Includes {
    /// From `include[]` values (`behaviors`, `behaviors.setup`, `rel.*`).
    pub fn from_paths<S: AsRef<str>>(paths: &[S]) -> Includes {
        let mut root = Includes::default();
        for p in paths {
            let p = p.as_ref().trim_end_matches(".*").trim_end_matches('.');
            if p.is_empty() {
                continue;
            }
            let mut node = &mut root;
            for seg in p.split('.').take(MAX_DEPTH) {
                let i = match node.children.iter().position(|(k, _)| k == seg) {
                    Some(i) => i,
                    None => {
                        node.children.push((seg.to_string(), Includes::default()));
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[i].1;
            }
        }
        root
    }

    /// Whether nothing is included.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    fn child(&self, field: &str) -> Option<&Includes> {
        self.children
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v)
    }
}

/// Include paths deeper than this are not followed.
const MAX_DEPTH: usize = 8;

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
    other: &'a mut Option<String>,
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
        let k = if self.list {
            match v {
                "count" => Key::Count,
                "next" => Key::Next,
                "previous" => Key::Previous,
                "meta" => Key::Meta,
                _ => Key::Other,
            }
        } else {
            Key::Other
        };
        if matches!(k, Key::Other) {
            *self.other = Some(v.to_string());
        }
        Ok(k)
    }
}

/// A scanned list body: where its records and sideloaded lists are, and
/// what it says about pagination.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    /// Byte ranges of the records, in order.
    pub records: Vec<Range<usize>>,
    /// Other top-level lists: (key, byte ranges of their elements).
    pub sideloads: Vec<(String, Vec<Range<usize>>)>,
    /// Pagination facts.
    pub facts: Facts,
    /// `previous`, if non-null.
    pub previous: Option<String>,
    /// `meta`, if an object.
    pub meta: Option<serde_json::Map<String, Value>>,
    /// The top-level keys that are neither the records nor the paging
    /// facts (sideloads, and keys the schema does not know), at most
    /// [`MAX_OTHER_KEYS`].
    pub other_keys: Vec<String>,
}

/// At most this many other top-level keys are kept per body.
const MAX_OTHER_KEYS: usize = 32;

impl Scanned {
    /// A fingerprint of the first record's text (to spot an ignored offset).
    pub fn first_fingerprint(&self, body: &[u8]) -> Option<u64> {
        let r = self.records.first()?;
        Some(fingerprint(body.get(r.clone())?))
    }
}

/// A fingerprint of a record's text.
fn fingerprint(text: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

fn range_of(body: &[u8], raw: &RawValue) -> Range<usize> {
    let start = raw.get().as_ptr() as usize - body.as_ptr() as usize;
    start..start + raw.get().len()
}

fn lenient_u64(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn missing<E: de::Error>(wanted: &[&str], seen: &[String]) -> E {
    let wanted: Vec<String> = wanted.iter().map(|w| format!("`{w}`")).collect();
    E::custom(format_args!(
        "missing the envelope key {} (the body has keys: {}); the URL may point to another endpoint, or the server names this list differently from the pinned schema",
        wanted.join(" or "),
        if seen.is_empty() {
            "none".to_string()
        } else {
            seen.join(", ")
        }
    ))
}

/// A list of raw elements, or nothing when the value is not a list.
struct MaybeList<'de>(Option<Vec<&'de RawValue>>);

impl<'de> de::Deserialize<'de> for MaybeList<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'de>(PhantomData<&'de ()>);
        impl<'de> Visitor<'de> for V<'de> {
            type Value = MaybeList<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(x) = seq.next_element::<&'de RawValue>()? {
                    out.push(x);
                }
                Ok(MaybeList(Some(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(MaybeList(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(MaybeList(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(MaybeList(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(MaybeList(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(MaybeList(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(MaybeList(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(MaybeList(None))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

struct ScanVisitor<'b> {
    body: &'b [u8],
    targets: &'b [&'b str],
    list: bool,
}

/// What a scan found: the target (which one, and its range) and the rest.
struct Found {
    target: Option<(usize, Range<usize>)>,
    list: Vec<Range<usize>>,
    scanned: Scanned,
}

impl<'de> Visitor<'de> for ScanVisitor<'_> {
    type Value = Found;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON object with `{}`", self.targets.join("` or `"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        let mut seen = Vec::new();
        let mut found = Found {
            target: None,
            list: Vec::new(),
            scanned: Scanned::default(),
        };
        loop {
            let mut other = None;
            let Some(k) = map.next_key_seed(KeySeed {
                targets: self.targets,
                list: self.list,
                seen: &mut seen,
                other: &mut other,
            })?
            else {
                break;
            };
            if let Some(key) = &other
                && found.scanned.other_keys.len() < MAX_OTHER_KEYS
            {
                found.scanned.other_keys.push(key.clone());
            }
            match k {
                Key::Target(i) if found.target.is_none() => {
                    if self.list {
                        let v: Vec<&'de RawValue> = map.next_value()?;
                        found.list = v.iter().map(|r| range_of(self.body, r)).collect();
                        found.target = Some((i, 0..0));
                    } else {
                        let v: &'de RawValue = map.next_value()?;
                        found.target = Some((i, range_of(self.body, v)));
                    }
                }
                Key::Count | Key::Next | Key::Previous | Key::Meta => {
                    read_fact(k, &mut map, &mut found.scanned)?
                }
                Key::Target(_) | Key::Other => {
                    let v: MaybeList<'de> = map.next_value()?;
                    if let (Some(items), Some(key)) = (v.0, other) {
                        found
                            .scanned
                            .sideloads
                            .push((key, items.iter().map(|r| range_of(self.body, r)).collect()));
                    }
                }
            }
        }
        if found.target.is_none() {
            return Err(missing(self.targets, &seen));
        }
        Ok(found)
    }
}

struct ScanSeed<'b>(ScanVisitor<'b>);

impl<'de> DeserializeSeed<'de> for ScanSeed<'_> {
    type Value = Found;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Found, D::Error> {
        d.deserialize_map(self.0)
    }
}

/// Read the value of a pagination key (`count`, `next`, `previous`, `meta`)
/// into `s`; other keys are not read.
fn read_fact<'de, A: MapAccess<'de>>(k: Key, map: &mut A, s: &mut Scanned) -> Result<(), A::Error> {
    let facts = &mut s.facts;
    match k {
        Key::Count => facts.count = lenient_u64(&map.next_value::<Value>()?),
        Key::Next => facts.next = Some(map.next_value::<Value>()?.as_str().map(str::to_string)),
        Key::Previous => s.previous = map.next_value::<Value>()?.as_str().map(str::to_string),
        Key::Meta => {
            if let Value::Object(m) = map.next_value::<Value>()? {
                facts.page = m.get("page").and_then(lenient_u64);
                facts.per_page = m.get("per_page").and_then(lenient_u64);
                facts.total_results = m.get("total_results").and_then(lenient_u64);
                facts.total_pages = m.get("total_pages").and_then(lenient_u64);
                facts.more_pages = m.get("more_pages").and_then(Value::as_bool);
                s.meta = Some(m);
            }
        }
        Key::Target(_) | Key::Other => {}
    }
    Ok(())
}

/// A list body decoded in one pass: the records, read straight from the
/// body, and what the body says about pagination.
pub(crate) struct Direct<R> {
    /// The records, in order.
    pub records: Vec<R>,
    /// The pagination facts (`records` and `sideloads` are left empty).
    pub scanned: Scanned,
    /// [`Scanned::first_fingerprint`] of the body.
    pub first_fingerprint: Option<u64>,
    /// What decoding noticed.
    pub observations: Vec<crate::observe::Observation>,
}

/// Decodes a list body in one pass when that is enough: the page needs no
/// sideloads merged (no includes) and every record decodes. `None` when any
/// of it fails: the caller then scans the body and decodes record by record,
/// which keeps a record that does not decode (with its raw JSON) and names
/// what went wrong. On success the result equals that path's: the same
/// records, facts and observations.
pub(crate) fn direct_list<R: DeserializeOwned>(body: &[u8], key: &str) -> Option<Direct<R>> {
    let (res, observations) = crate::observe::collect(|| {
        // one UTF-8 check of the whole body, instead of one per string
        let text = std::str::from_utf8(body).ok()?;
        let mut de = serde_json::Deserializer::from_str(text);
        let v = DirectSeed::<R> {
            key,
            body_len: body.len(),
            out: PhantomData,
        }
        .deserialize(&mut de)
        .ok()?;
        de.end().ok()?;
        report_envelope(&v.1, key, true);
        Some(v)
    });
    let (records, scanned, first_fingerprint) = res?;
    let observations = envelope_first(observations);
    Some(Direct {
        records,
        scanned,
        first_fingerprint,
        observations,
    })
}

/// Observations in the order the record-by-record path reports them: the
/// envelope's first (not generic: one copy of the sort).
fn envelope_first(
    mut observations: Vec<crate::observe::Observation>,
) -> Vec<crate::observe::Observation> {
    observations
        .sort_by_key(|o| !matches!(o, crate::observe::Observation::UnknownEnvelopeKey { .. }));
    observations
}

struct DirectSeed<'k, R> {
    key: &'k str,
    body_len: usize,
    out: PhantomData<fn() -> R>,
}

type DirectParts<R> = (Vec<R>, Scanned, Option<u64>);

impl<'de, R: DeserializeOwned> DeserializeSeed<'de> for DirectSeed<'_, R> {
    type Value = DirectParts<R>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, R: DeserializeOwned> Visitor<'de> for DirectSeed<'_, R> {
    type Value = DirectParts<R>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON object with `{}`", self.key)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found: Option<(Vec<R>, Option<u64>)> = None;
        let body_len = self.body_len;
        let scanned = envelope_keys(&mut map, self.key, &mut |map: &mut A| {
            found = Some(map.next_value_seed(RecordsSeed::<R> {
                body_len,
                out: PhantomData,
            })?);
            Ok(())
        })?;
        let Some((records, fp)) = found else {
            return Err(missing(&[self.key], &[]));
        };
        Ok((records, scanned, fp))
    }
}

/// Read a list envelope's keys: the records under `key` (the first time it
/// is seen) through `records`, the paging facts, the other keys' names.
/// Generic over the map only, not over the record type: one copy serves
/// every model.
fn envelope_keys<'de, A: MapAccess<'de>>(
    map: &mut A,
    key: &str,
    records: &mut dyn FnMut(&mut A) -> Result<(), A::Error>,
) -> Result<Scanned, A::Error> {
    let targets = [key];
    let mut seen = Vec::new();
    let mut scanned = Scanned::default();
    let mut read = false;
    loop {
        let mut other = None;
        let Some(k) = map.next_key_seed(KeySeed {
            targets: &targets,
            list: true,
            seen: &mut seen,
            other: &mut other,
        })?
        else {
            break;
        };
        match k {
            Key::Target(_) if !read => {
                records(map)?;
                read = true;
            }
            Key::Other | Key::Target(_)
                if scanned.other_keys.len() < MAX_OTHER_KEYS && other.is_some() =>
            {
                scanned.other_keys.extend(other);
                map.next_value::<IgnoredAny>()?;
            }
            Key::Count | Key::Next | Key::Previous | Key::Meta => read_fact(k, map, &mut scanned)?,
            Key::Target(_) | Key::Other => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    if !read {
        return Err(missing(&targets, &seen));
    }
    Ok(scanned)
}

/// The records of a list, decoded in place; the first one through its text,
/// for its fingerprint.
struct RecordsSeed<R> {
    /// The whole body's length: with the first record's, an estimate of
    /// how many records follow.
    body_len: usize,
    out: PhantomData<fn() -> R>,
}

/// At most this many records are reserved for up front.
const MAX_RESERVE: usize = 4096;

impl<'de, R: DeserializeOwned> DeserializeSeed<'de> for RecordsSeed<R> {
    type Value = (Vec<R>, Option<u64>);
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, R: DeserializeOwned> Visitor<'de> for RecordsSeed<R> {
    type Value = (Vec<R>, Option<u64>);
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of records")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        let Some(first) = seq.next_element::<&'de RawValue>()? else {
            return Ok((out, None));
        };
        let fp = fingerprint(first.get().as_bytes());
        // one allocation of about the right size instead of doubling: the
        // page holds at most as many records as the first one's length
        // fits in the body
        out.reserve((self.body_len / (first.get().len() + 1)).clamp(1, MAX_RESERVE));
        out.push(serde_json::from_str::<R>(first.get()).map_err(de::Error::custom)?);
        while let Some(r) = seq.next_element::<R>()? {
            out.push(r);
        }
        Ok((out, Some(fp)))
    }
}

fn with_content_type(message: String, content_type: Option<&str>) -> String {
    match content_type {
        Some(ct) if !ct.to_ascii_lowercase().contains("json") => {
            format!("expected a JSON body but the server sent `{ct}` ({message})")
        }
        _ => message,
    }
}

fn scan(
    body: &[u8],
    content_type: Option<&str>,
    targets: &[&str],
    list: bool,
) -> Result<Found, DecodeError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    ScanSeed(ScanVisitor {
        body,
        targets,
        list,
    })
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|_| v))
    .map_err(|e| {
        let path = if e.is_data() && list {
            targets.first().copied().unwrap_or(".").to_string()
        } else {
            ".".to_string()
        };
        DecodeError {
            path,
            message: with_content_type(e.to_string(), content_type),
            snippet: snippet(body, 200),
            found: None,
        }
    })
}

/// The envelope schemas of a body: the list envelope of the model or
/// approval queue whose list key is `key`, or the single-record envelopes
/// (and, for approval-gated models, the proposal's) of the one whose
/// record key is `key`.
pub(crate) fn envelopes(key: &str, list: bool) -> Vec<&'static Component> {
    let mut names: Vec<String> = Vec::new();
    for m in crate::models::MODELS {
        let a = m.approval.as_ref();
        if list {
            if m.many == key {
                names.push(format!("{}ListEnvelope", m.schema));
            }
            if let Some(a) = a.filter(|a| a.many == key) {
                names.push(format!("{}ListEnvelope", a.schema));
            }
        } else {
            if m.one == key {
                names.push(format!("{}Envelope", m.schema));
                if let Some(a) = a {
                    names.push(format!("{}Envelope", a.schema));
                }
            }
            if let Some(a) = a.filter(|a| a.one == key) {
                names.push(format!("{}Envelope", a.schema));
            }
        }
    }
    names
        .iter()
        .filter_map(|n| crate::schema::component(n))
        .collect()
}

/// The model (URL name; an approval queue's own name) and record type
/// whose list answers carry their records under `key`.
pub(crate) fn list_owner(key: &str) -> (&'static str, &'static str) {
    for m in crate::models::MODELS {
        if m.many == key {
            return (m.name, m.schema);
        }
        if let Some(a) = m.approval.as_ref().filter(|a| a.many == key) {
            return (a.model.rsplit('/').next().unwrap_or(a.model), a.schema);
        }
    }
    ("unknown", "unknown")
}

/// Whether `key` may stand beside the records as a sideload: a model's
/// plural key, or (dynamic-rest, records of the primary model) it with a
/// `+` in front.
fn sideload_key(key: &str) -> bool {
    let key = key.strip_prefix('+').unwrap_or(key);
    crate::models::MODELS
        .iter()
        .any(|m| m.many == key || m.approval.as_ref().is_some_and(|a| a.many == key))
}

/// Report the top-level keys of a scanned body (records under `key`, a
/// list or one record) that none of its envelope schemas lists and that are
/// no sideload
/// ([`Observation::UnknownEnvelopeKey`](crate::observe::Observation::UnknownEnvelopeKey)).
/// Costs nothing unless a collector is installed and the body has such keys.
pub(crate) fn report_envelope(scanned: &Scanned, key: &str, list: bool) {
    if scanned.other_keys.is_empty() || !crate::observe::is_collecting() {
        return;
    }
    let envelopes = envelopes(key, list);
    let Some(first) = envelopes.first() else {
        return;
    };
    for key in &scanned.other_keys {
        let known = envelopes
            .iter()
            .any(|c| c.schema.properties.iter().any(|p| p.name == key));
        if !known && !sideload_key(key) {
            crate::observe::report(|| crate::observe::Observation::UnknownEnvelopeKey {
                envelope: first.name,
                key: key.clone(),
            });
        }
    }
}

/// Scan a list body: the records under `key`, the facts, the sideloads.
pub(crate) fn scan_list(
    body: &[u8],
    content_type: Option<&str>,
    key: &str,
) -> Result<Scanned, DecodeError> {
    let found = scan(body, content_type, &[key], true)?;
    let mut s = found.scanned;
    s.records = found.list;
    Ok(s)
}

/// Scan a single-record body (`{"<key>": {...}}`, possibly with sideloads):
/// which of `keys` matched, the record's range, and the sideloads.
pub(crate) fn scan_one(
    body: &[u8],
    content_type: Option<&str>,
    keys: &[&str],
) -> Result<(usize, Range<usize>, Scanned), DecodeError> {
    let found = scan(body, content_type, keys, false)?;
    let (i, r) = found.target.unwrap_or((0, 0..0));
    Ok((i, r, found.scanned))
}

/// The text of a range of a body (ranges come from a scan of that body,
/// which checked it is UTF-8).
pub(crate) fn text(body: &[u8], r: Range<usize>) -> &str {
    std::str::from_utf8(body.get(r).unwrap_or_default()).unwrap_or_default()
}

/// Decode one value from its JSON text; a failure names the failing path
/// (prefixed with `at`), read off the error's position.
pub(crate) fn value<T: DeserializeOwned>(text: &str, at: &str) -> Result<T, DecodeError> {
    crate::json_path::clear();
    serde_json::from_str::<T>(text).map_err(|e| crate::error::decode_error(text, &e, at))
}

/// The `id` of a raw record, as text (a UUID string without quotes, or an
/// integer), if it has one. Reading stops at the first `id` key: the text
/// after it is not read (records come from a scanned body, already checked
/// to be JSON).
pub(crate) fn raw_id(text: &str) -> Option<String> {
    struct Seed<'s>(&'s mut Option<String>);
    impl<'de> DeserializeSeed<'de> for Seed<'_> {
        type Value = ();
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for Seed<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a record")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(k) = map.next_key::<Cow<'de, str>>()? {
                if k == "id" {
                    *self.0 = id_text(map.next_value::<&RawValue>()?.get());
                    // found: stop reading (the error is the way out)
                    return Err(de::Error::custom("found"));
                }
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }
    let mut id = None;
    let mut d = serde_json::Deserializer::from_str(text);
    let _ = Seed(&mut id).deserialize(&mut d);
    id
}

/// An id value's text: the string without quotes, or the integer.
fn id_text(raw: &str) -> Option<String> {
    let raw = raw.trim();
    match raw.as_bytes().first()? {
        b'"' => serde_json::from_str::<String>(raw).ok(),
        b'-' | b'0'..=b'9' => Some(raw.to_string()),
        _ => None,
    }
}

/// Sideloaded records by list key and id.
#[derive(Default)]
pub(crate) struct Sideloads<'a> {
    by_key: HashMap<&'a str, HashMap<String, &'a str>>,
}

impl<'a> Sideloads<'a> {
    /// Index the sideloaded lists of a scanned body, and its primary
    /// records under `primary` (a relation to the primary model may point at
    /// a record of the page itself).
    pub fn new(
        body: &'a [u8],
        scanned: &'a Scanned,
        primary: Option<(&'a str, &'a [Range<usize>])>,
    ) -> Sideloads<'a> {
        let mut by_key: HashMap<&'a str, HashMap<String, &'a str>> = HashMap::new();
        let lists = scanned
            .sideloads
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .chain(primary);
        for (key, items) in lists {
            let entry = by_key.entry(key).or_default();
            for r in items {
                let t = text(body, r.clone());
                if let Some(id) = raw_id(t) {
                    entry.entry(id).or_insert(t);
                }
            }
        }
        Sideloads { by_key }
    }

    /// Whether there is nothing to merge.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The sideloaded record of model `meta` with this id: under the model's
    /// plural key, or (dynamic-rest, for records of the primary model)
    /// `+<plural>`.
    fn find(&self, meta: &ModelMeta, id: &str) -> Option<&'a str> {
        if let Some(t) = self.by_key.get(meta.many).and_then(|m| m.get(id)) {
            return Some(t);
        }
        let plus = format!("+{}", meta.many);
        self.by_key
            .get(plus.as_str())
            .and_then(|m| m.get(id))
            .copied()
    }
}

/// The entries of a JSON object, one level deep, values as raw text.
fn entries(text: &str) -> Option<Vec<(Cow<'_, str>, &RawValue)>> {
    struct E<'de>(Vec<(Cow<'de, str>, &'de RawValue)>);
    impl<'de> de::Deserialize<'de> for E<'de> {
        fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<'de>(PhantomData<&'de ()>);
            impl<'de> Visitor<'de> for V<'de> {
                type Value = E<'de>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<E<'de>, A::Error> {
                    let mut out = Vec::new();
                    while let Some(k) = map.next_key::<Cow<'de, str>>()? {
                        out.push((k, map.next_value::<&'de RawValue>()?));
                    }
                    Ok(E(out))
                }
            }
            d.deserialize_map(V(PhantomData))
        }
    }
    serde_json::from_str::<E<'_>>(text).ok().map(|e| e.0)
}

/// Merge sideloaded records into `record` (a record of `meta`) along the
/// include tree. `None`: nothing changed.
pub(crate) fn merge(
    record: &str,
    meta: &'static ModelMeta,
    inc: &Includes,
    side: &Sideloads<'_>,
) -> Option<String> {
    if inc.is_empty() || side.is_empty() {
        return None;
    }
    merge_object(record, meta, inc, side)
}

fn merge_object(
    text: &str,
    meta: &'static ModelMeta,
    inc: &Includes,
    side: &Sideloads<'_>,
) -> Option<String> {
    let entries = entries(text)?;
    let mut changed: Vec<Option<String>> = Vec::with_capacity(entries.len());
    let mut any = false;
    for (k, v) in &entries {
        let new = inc.child(k).and_then(|sub| {
            let rel = meta.field(k)?.related?;
            let rmeta = ModelMeta::find_path(rel)?;
            merge_value(v.get(), rmeta, sub, side)
        });
        any |= new.is_some();
        changed.push(new);
    }
    if !any {
        return None;
    }
    let mut out = String::with_capacity(text.len() * 2);
    out.push('{');
    for (i, ((k, v), new)) in entries.iter().zip(changed).enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(k.as_ref()).unwrap_or_default());
        out.push(':');
        out.push_str(new.as_deref().unwrap_or(v.get()));
    }
    out.push('}');
    Some(out)
}

fn merge_value(
    text: &str,
    meta: &'static ModelMeta,
    inc: &Includes,
    side: &Sideloads<'_>,
) -> Option<String> {
    match text.trim_start().as_bytes().first()? {
        b'[' => {
            let items: Vec<&RawValue> = serde_json::from_str(text).ok()?;
            let merged: Vec<Option<String>> = items
                .iter()
                .map(|x| merge_value(x.get(), meta, inc, side))
                .collect();
            if merged.iter().all(Option::is_none) {
                return None;
            }
            let mut out = String::with_capacity(text.len() * 8);
            out.push('[');
            for (i, (x, m)) in items.iter().zip(merged).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(m.as_deref().unwrap_or(x.get()));
            }
            out.push(']');
            Some(out)
        }
        b'{' => merge_object(text, meta, inc, side),
        _ => {
            let id = id_text(text)?;
            let found = side.find(meta, &id)?;
            Some(merge_object(found, meta, inc, side).unwrap_or_else(|| found.to_string()))
        }
    }
}

/// Mark the included relations of a decoded record that are still bare ids
/// as [`Related::Missing`](crate::Related::Missing), at every depth.
pub(crate) fn mark_missing(record: &mut dyn Relations, inc: &Includes) {
    for (field, sub) in &inc.children {
        record.visit_related_mut(field, &mut |slot| {
            slot.mark_missing();
            if !sub.is_empty()
                && let Some(r) = slot.record_mut()
            {
                mark_missing(r, sub);
            }
        });
    }
}

/// Decode one record of model `M` from its text: merge sideloads, decode,
/// mark includes the server did not fill in.
pub(crate) fn model_record<M: Model>(
    text: &str,
    at: &str,
    inc: &Includes,
    side: &Sideloads<'_>,
) -> Result<M, (DecodeError, Option<String>)> {
    let merged = merge(text, M::META, inc, side);
    let text = merged.as_deref().unwrap_or(text);
    match value::<M>(text, at) {
        Ok(mut m) => {
            if !inc.is_empty() {
                mark_missing(&mut m, inc);
            }
            Ok(m)
        }
        Err(e) => Err((e, merged)),
    }
}

/// Decode one record as a JSON value, with sideloads merged the same way.
pub(crate) fn json_record(
    text: &str,
    meta: &'static ModelMeta,
    at: &str,
    inc: &Includes,
    side: &Sideloads<'_>,
) -> Result<Value, (DecodeError, Option<String>)> {
    let merged = merge(text, meta, inc, side);
    let text = merged.as_deref().unwrap_or(text);
    value::<Value>(text, at).map_err(|e| (e, merged))
}

/// Decode `{"<key>": {...}}`.
pub(crate) fn one<T: DeserializeOwned>(
    body: &[u8],
    content_type: Option<&str>,
    key: &'static str,
) -> Result<T, DecodeError> {
    let (_, r, scanned) = scan_one(body, content_type, &[key])?;
    report_envelope(&scanned, key, false);
    value::<T>(text(body, r), key)
}

/// A decoded single-record body: which target key matched, and the value.
#[derive(Debug)]
pub(crate) enum One<A, B> {
    First(A),
    Second(B),
}

/// Decode `{"<first>": {...}}` or `{"<second>": {...}}`.
pub(crate) fn either<A: DeserializeOwned, B: DeserializeOwned>(
    body: &[u8],
    content_type: Option<&str>,
    first: &'static str,
    second: &'static str,
) -> Result<One<A, B>, DecodeError> {
    let (i, r, scanned) = scan_one(body, content_type, &[first, second])?;
    report_envelope(&scanned, first, false);
    let t = text(body, r);
    if i == 0 {
        value::<A>(t, first).map(One::First)
    } else {
        value::<B>(t, second).map(One::Second)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_scan_reads_facts_and_keeps_sideloads() {
        let body = br#"{"projects": [{"id": 1}], "sessions": [{"id": 7}, {"id": 8}], "count": "2", "next": null, "meta": {"total_results": 2, "page": 1, "per_page": 20}}"#;
        let s = scan_list(body, None, "sessions").unwrap();
        assert_eq!(s.records.len(), 2);
        assert_eq!(text(body, s.records[1].clone()), r#"{"id": 8}"#);
        assert_eq!(s.facts.count, Some(2));
        assert_eq!(s.facts.next, Some(None));
        assert_eq!(s.facts.total_results, Some(2));
        assert_eq!(s.facts.page, Some(1));
        assert_eq!(s.sideloads.len(), 1);
        assert_eq!(s.sideloads[0].0, "projects");
    }

    #[test]
    fn wrong_envelope_names_the_key_and_what_was_there() {
        let err = scan_list(br#"{"projects": []}"#, None, "sessions").unwrap_err();
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
        let err = value::<R>(r#"{"id": "x"}"#, "sessions[1]").unwrap_err();
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

    #[test]
    fn ids_as_text() {
        assert_eq!(
            raw_id(r#"{"a": [1, {"id": 3}], "id": "x-1"}"#).as_deref(),
            Some("x-1")
        );
        assert_eq!(raw_id(r#"{"id": 12}"#).as_deref(), Some("12"));
        assert_eq!(raw_id(r#"{"name": 12}"#), None);
    }

    #[test]
    fn include_tree() {
        let t = Includes::from_paths(&["behaviors.*", "behaviors.setup.*", "projects"]);
        assert_eq!(t.children.len(), 2);
        assert_eq!(t.child("behaviors").unwrap().children.len(), 1);
        assert!(t.child("projects").unwrap().is_empty());
    }

    #[test]
    fn sideloads_merge_by_id_nested_and_keep_everything_else() {
        let session = crate::meta::ModelMeta::find("session").unwrap();
        let behavior_key = crate::meta::ModelMeta::find("behavior").unwrap().many;
        let setup_rel = crate::meta::ModelMeta::find("behavior")
            .unwrap()
            .field("setup")
            .and_then(|f| f.related)
            .and_then(crate::meta::ModelMeta::find_path)
            .expect("behaviors have a setup");
        let body = format!(
            r#"{{"sessions": [{{"id": "s1", "behaviors": ["b1", "b2", "b9"], "n": 1e400}}],
               "{behavior_key}": [{{"id": "b1", "setup": "u1"}}, {{"id": "b2", "setup": null}}],
               "{}": [{{"id": "u1", "name": "rig"}}]}}"#,
            setup_rel.many
        );
        let scanned = scan_list(body.as_bytes(), None, "sessions").unwrap();
        let side = Sideloads::new(body.as_bytes(), &scanned, None);
        let inc = Includes::from_paths(&["behaviors.setup"]);
        let rec = text(body.as_bytes(), scanned.records[0].clone());
        let merged = merge(rec, session, &inc, &side).unwrap();
        assert_eq!(
            merged,
            r#"{"id":"s1","behaviors":[{"id":"b1","setup":{"id": "u1", "name": "rig"}},{"id": "b2", "setup": null},"b9"],"n":1e400}"#
        );
        // nothing included: nothing merged
        assert!(merge(rec, session, &Includes::default(), &side).is_none());
    }
}
