//! Schema drift: what the server sent that the pinned schema does not
//! describe, and what the schema promised that did not come, per model.
//!
//! Decoding never fails on drift (unknown fields are kept, unknown enum
//! values become `Unknown`, ...) and reports what it noticed through
//! [`observe`](crate::observe). A [`Drift`] adds those observations up: per
//! model (its URL name, `session`) and per shape, how often each unknown
//! field, enum value, details type, envelope key, missing field, embedded
//! fallback and undecodable record was seen.
//!
//! The [`Client`](crate::client::Client) keeps one for everything it decodes
//! ([`Client::drift`](crate::client::Client::drift)), and
//! [`Client::check_schema`](crate::client::Client::check_schema) samples one
//! record of every readable model into a fresh one. A report can also be
//! built by hand from observations:
//!
//! ```
//! use brainstem::drift::{Drift, DriftKind};
//! use brainstem::observe;
//! use brainstem::types::DownloadLink;
//!
//! let (_, seen) = observe::collect(|| {
//!     serde_json::from_str::<DownloadLink>(
//!         r#"{"repository": "OpenNeuro", "url": "https://x", "mirror": true}"#,
//!     )
//! });
//! let mut drift = Drift::new();
//! drift.record_all("dataset", &seen);
//! assert_eq!(drift.count(DriftKind::UnknownField), 1);
//! assert_eq!(drift.count(DriftKind::UnknownEnumValue), 1);
//! assert_eq!(
//!     drift.summary(),
//!     "schema drift: 1 unknown field, 1 unknown enum value in dataset; see `brainstem check-schema`"
//! );
//! ```
//!
//! Memory is bounded whatever the server sends: at most [`MAX_ENTRIES`]
//! distinct entries are kept (texts cut to 200 characters), and what does
//! not fit is only counted ([`Drift::not_kept`]).

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};

use crate::DecodeError;
use crate::observe::Observation;

/// At most this many distinct entries are kept; later ones are counted in
/// [`Drift::not_kept`].
pub const MAX_ENTRIES: usize = 512;

/// Texts (keys, values, errors) are cut to this many characters.
const MAX_TEXT: usize = 200;

/// At most this many models are named in [`Drift::summary`].
const SUMMARY_MODELS: usize = 3;

/// What kind of drift an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DriftKind {
    /// A field the schema does not list for the shape (kept in `unknown`).
    UnknownField,
    /// A value an enum of the schema does not list (kept as `Unknown`).
    UnknownEnumValue,
    /// A typed-payload selector the schema does not know.
    UnknownDetailsType,
    /// A typed payload that does not fit its schema.
    DetailsMismatch,
    /// A field the schema says is always returned was absent.
    MissingField,
    /// A response envelope key the schema does not know.
    UnknownEnvelopeKey,
    /// An embedded related record did not decode; its id was kept.
    EmbeddedFallback,
    /// A value of none of a union's documented kinds.
    UnexpectedValue,
    /// A record that could not be decoded at all (kept raw, or the request
    /// failed with [`DecodeError`]).
    Undecoded,
}

impl DriftKind {
    /// Every kind, in report order.
    pub const ALL: [DriftKind; 9] = [
        DriftKind::UnknownField,
        DriftKind::UnknownEnumValue,
        DriftKind::UnknownDetailsType,
        DriftKind::DetailsMismatch,
        DriftKind::MissingField,
        DriftKind::UnknownEnvelopeKey,
        DriftKind::EmbeddedFallback,
        DriftKind::UnexpectedValue,
        DriftKind::Undecoded,
    ];

    /// The kind in words, singular or plural (`unknown field`, `unknown fields`).
    pub fn noun(self, count: u64) -> &'static str {
        let one = count == 1;
        match self {
            DriftKind::UnknownField if one => "unknown field",
            DriftKind::UnknownField => "unknown fields",
            DriftKind::UnknownEnumValue if one => "unknown enum value",
            DriftKind::UnknownEnumValue => "unknown enum values",
            DriftKind::UnknownDetailsType if one => "unknown details type",
            DriftKind::UnknownDetailsType => "unknown details types",
            DriftKind::DetailsMismatch if one => "details mismatch",
            DriftKind::DetailsMismatch => "details mismatches",
            DriftKind::MissingField if one => "missing field",
            DriftKind::MissingField => "missing fields",
            DriftKind::UnknownEnvelopeKey if one => "unknown envelope key",
            DriftKind::UnknownEnvelopeKey => "unknown envelope keys",
            DriftKind::EmbeddedFallback if one => "embedded fallback",
            DriftKind::EmbeddedFallback => "embedded fallbacks",
            DriftKind::UnexpectedValue if one => "unexpected value",
            DriftKind::UnexpectedValue => "unexpected values",
            DriftKind::Undecoded if one => "undecodable record",
            DriftKind::Undecoded => "undecodable records",
        }
    }
}

/// One line of a [`Drift`] report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DriftEntry {
    /// The model whose answer showed it (its URL name: `session`; an
    /// approval queue's is `speciesapproval`).
    pub model: String,
    /// What kind of drift.
    pub kind: DriftKind,
    /// Where: the shape (`Session`, `DownloadLink`), the enum
    /// (`DownloadLinkRepository`), the details group (`Procedure`), the
    /// envelope (`SessionListEnvelope`), the related model of an embedded
    /// fallback, the union of an unexpected value, or the record type of an
    /// undecodable record.
    pub shape: String,
    /// What: the field or key, the enum value, the details type, the JSON
    /// kind of an unexpected value, or the JSON path (list indices as `[]`)
    /// of an undecodable record; empty for embedded fallbacks.
    pub name: String,
    /// How many times it was seen.
    pub count: u64,
    /// The first error or value text seen with it, if the kind has one.
    pub detail: Option<String>,
}

type Key = (String, DriftKind, String, String);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Stat {
    count: u64,
    detail: Option<String>,
}

/// What the client saw that the pinned schema does not describe, added up
/// per model: see the [module docs](self).
///
/// `Display` prints the whole report, one entry a line;
/// [`summary`](Self::summary) is one line for a warning.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drift {
    entries: BTreeMap<Key, Stat>,
    not_kept: u64,
    sampled: Vec<String>,
    failed: Vec<(String, String)>,
}

fn cut(s: &str) -> String {
    if s.len() <= MAX_TEXT {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX_TEXT).collect();
    out.push('…');
    out
}

/// A JSON path with list indices dropped (`sessions[3].tags[0]` gives
/// `sessions[].tags[]`), so one failing field of many records is one entry.
fn generic_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            c if in_index && c.is_ascii_digit() => {}
            c => out.push(c),
        }
    }
    out
}

/// The JSON kind of a value's text (`boolean`, `number`, ...).
fn json_kind(text: &str) -> &'static str {
    match text.trim_start().as_bytes().first() {
        Some(b'"') => "string",
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        Some(b'-' | b'0'..=b'9') => "number",
        _ => "other",
    }
}

impl Drift {
    /// An empty report.
    pub fn new() -> Drift {
        Drift::default()
    }

    /// Whether nothing was seen (models that could not be sampled by
    /// [`check_schema`](crate::client::Client::check_schema) are not drift:
    /// see [`failed`](Self::failed)).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.not_kept == 0
    }

    fn add(&mut self, key: Key, count: u64, detail: Option<String>) {
        if let Some(s) = self.entries.get_mut(&key) {
            s.count = s.count.saturating_add(count);
            return;
        }
        if self.entries.len() >= MAX_ENTRIES {
            self.not_kept = self.not_kept.saturating_add(count);
            return;
        }
        self.entries.insert(key, Stat { count, detail });
    }

    /// Add one observation of a decode of `model`'s answer.
    pub fn record(&mut self, model: &str, observation: &Observation) {
        let m = cut(model);
        let (kind, shape, name, detail) = match observation {
            Observation::UnknownField { shape, key } => (
                DriftKind::UnknownField,
                (*shape).to_string(),
                cut(key),
                None,
            ),
            Observation::MissingField { shape, field } => (
                DriftKind::MissingField,
                (*shape).to_string(),
                (*field).to_string(),
                None,
            ),
            Observation::EmbeddedFallback { model, id, error } => (
                DriftKind::EmbeddedFallback,
                (*model).to_string(),
                String::new(),
                Some(cut(&format!("{id}: {error}"))),
            ),
            Observation::UnknownEnumValue { enum_name, value } => (
                DriftKind::UnknownEnumValue,
                (*enum_name).to_string(),
                cut(value),
                None,
            ),
            Observation::UnknownDetailsType { group, type_name } => (
                DriftKind::UnknownDetailsType,
                (*group).to_string(),
                cut(type_name),
                None,
            ),
            Observation::DetailsMismatch {
                group,
                type_name,
                error,
            } => (
                DriftKind::DetailsMismatch,
                (*group).to_string(),
                cut(type_name),
                Some(cut(error)),
            ),
            Observation::UnexpectedValue { union, value } => (
                DriftKind::UnexpectedValue,
                (*union).to_string(),
                json_kind(value).to_string(),
                Some(cut(value)),
            ),
            Observation::UnknownEnvelopeKey { envelope, key } => (
                DriftKind::UnknownEnvelopeKey,
                (*envelope).to_string(),
                cut(key),
                None,
            ),
            Observation::Dropped { count } => {
                self.not_kept = self.not_kept.saturating_add(*count as u64);
                return;
            }
            // a kind added later: counted, not itemized
            #[allow(unreachable_patterns)]
            _ => {
                self.not_kept = self.not_kept.saturating_add(1);
                return;
            }
        };
        self.add((m, kind, shape, name), 1, detail);
    }

    /// Add every observation of a decode of `model`'s answer.
    pub fn record_all(&mut self, model: &str, observations: &[Observation]) {
        for o in observations {
            self.record(model, o);
        }
    }

    /// Add a record of `model` (of Rust type `shape`) that did not decode.
    pub fn record_undecoded(&mut self, model: &str, shape: &str, error: &DecodeError) {
        self.add(
            (
                cut(model),
                DriftKind::Undecoded,
                cut(shape),
                cut(&generic_path(&error.path)),
            ),
            1,
            Some(cut(&error.message)),
        );
    }

    /// Add everything of another report (its sampled and failed models too).
    pub fn merge(&mut self, other: &Drift) {
        for (k, s) in &other.entries {
            self.add(k.clone(), s.count, s.detail.clone());
        }
        self.not_kept = self.not_kept.saturating_add(other.not_kept);
        self.sampled.extend(other.sampled.iter().cloned());
        self.failed.extend(other.failed.iter().cloned());
    }

    #[cfg(feature = "client")]
    pub(crate) fn sampled_ok(&mut self, model: &str) {
        self.sampled.push(model.to_string());
    }

    #[cfg(feature = "client")]
    pub(crate) fn sample_failed(&mut self, model: &str, error: &str) {
        self.failed.push((model.to_string(), cut(error)));
    }

    /// Every entry, by model, kind, shape and name.
    pub fn entries(&self) -> Vec<DriftEntry> {
        self.entries
            .iter()
            .map(|((model, kind, shape, name), s)| DriftEntry {
                model: model.clone(),
                kind: *kind,
                shape: shape.clone(),
                name: name.clone(),
                count: s.count,
                detail: s.detail.clone(),
            })
            .collect()
    }

    /// How many times drift of `kind` was seen, over every model.
    pub fn count(&self, kind: DriftKind) -> u64 {
        self.entries
            .iter()
            .filter(|((_, k, _, _), _)| *k == kind)
            .map(|(_, s)| s.count)
            .sum()
    }

    /// How many times `model`'s answers showed drift of `kind` named `name`
    /// (a field, an enum value, ...; any shape).
    pub fn count_of(&self, model: &str, kind: DriftKind, name: &str) -> u64 {
        self.entries
            .iter()
            .filter(|((m, k, _, n), _)| m == model && *k == kind && n == name)
            .map(|(_, s)| s.count)
            .sum()
    }

    /// The models with drift, by name.
    pub fn models(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (m, _, _, _) in self.entries.keys() {
            if out.last() != Some(&m.as_str()) {
                out.push(m);
            }
        }
        out
    }

    /// Observations not itemized because the report was full
    /// ([`MAX_ENTRIES`]) or their decode saw more than
    /// [`observe::LIMIT`](crate::observe::LIMIT).
    pub fn not_kept(&self) -> u64 {
        self.not_kept
    }

    /// The models [`check_schema`](crate::client::Client::check_schema)
    /// sampled (empty for a report of ordinary use).
    pub fn sampled(&self) -> &[String] {
        &self.sampled
    }

    /// The models `check_schema` could not sample, with the error.
    pub fn failed(&self) -> &[(String, String)] {
        &self.failed
    }

    /// One line: how much of what kind, in which models (`schema drift: 2
    /// unknown fields, 1 unknown enum value in session; see `brainstem
    /// check-schema``); `no schema drift seen` when empty.
    pub fn summary(&self) -> String {
        if self.is_empty() {
            return "no schema drift seen".to_string();
        }
        let mut parts: Vec<String> = DriftKind::ALL
            .iter()
            .filter_map(|k| {
                let n = self.count(*k);
                (n > 0).then(|| format!("{n} {}", k.noun(n)))
            })
            .collect();
        if self.not_kept > 0 {
            parts.push(format!("{} more not itemized", self.not_kept));
        }
        let models = self.models();
        let mut named: Vec<&str> = models.iter().take(SUMMARY_MODELS).copied().collect();
        let more = models.len().saturating_sub(named.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        if named.is_empty() {
            named.push("the answers");
        }
        format!(
            "schema drift: {} in {}{more}; see `brainstem check-schema`",
            parts.join(", "),
            named.join(", ")
        )
    }

    /// The report as JSON: `{"drift": bool, "schema_version", "summary",
    /// "entries": [{model, kind, shape, name, count, detail}], "not_kept",
    /// "sampled": [model], "failed": [{model, error}]}`.
    pub fn to_json(&self) -> Value {
        let failed: Vec<Value> = self
            .failed
            .iter()
            .map(|(m, e)| json!({"model": m, "error": e}))
            .collect();
        json!({
            "drift": !self.is_empty(),
            "schema_version": crate::SCHEMA_VERSION,
            "summary": self.summary(),
            "entries": self.entries(),
            "not_kept": self.not_kept,
            "sampled": self.sampled,
            "failed": failed,
        })
    }
}

impl fmt::Display for DriftEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let times = if self.count == 1 {
            "once".to_string()
        } else {
            format!("{} times", self.count)
        };
        match self.kind {
            DriftKind::UnknownField => write!(f, "unknown field {}.{}", self.shape, self.name)?,
            DriftKind::MissingField => write!(f, "missing field {}.{}", self.shape, self.name)?,
            DriftKind::UnknownEnumValue => {
                write!(f, "unknown enum value {} {:?}", self.shape, self.name)?
            }
            DriftKind::UnknownDetailsType => {
                write!(f, "unknown details type {} {:?}", self.shape, self.name)?
            }
            DriftKind::DetailsMismatch => write!(
                f,
                "{} details of type {:?} do not fit their schema",
                self.shape, self.name
            )?,
            DriftKind::UnknownEnvelopeKey => {
                write!(f, "unknown envelope key {}.{}", self.shape, self.name)?
            }
            DriftKind::EmbeddedFallback => {
                write!(f, "embedded {} did not decode (id kept)", self.shape)?
            }
            DriftKind::UnexpectedValue => write!(
                f,
                "{} value of no documented kind ({})",
                self.shape, self.name
            )?,
            DriftKind::Undecoded => {
                write!(f, "undecodable {} record at `{}`", self.shape, self.name)?
            }
        }
        write!(f, ": {times}")?;
        if let Some(d) = &self.detail {
            write!(f, " (first: {d})")?;
        }
        Ok(())
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            write!(f, "no schema drift seen (schema {})", crate::SCHEMA_VERSION)?;
        } else {
            writeln!(
                f,
                "schema drift against schema {}: {}",
                crate::SCHEMA_VERSION,
                self.summary()
                    .trim_start_matches("schema drift: ")
                    .trim_end_matches("; see `brainstem check-schema`")
            )?;
            let mut current: Option<String> = None;
            for e in self.entries() {
                if current.as_deref() != Some(e.model.as_str()) {
                    if current.is_some() {
                        writeln!(f)?;
                    }
                    writeln!(f, "{}:", e.model)?;
                    current = Some(e.model.clone());
                }
                writeln!(f, "  {e}")?;
            }
            if self.not_kept > 0 {
                writeln!(f, "{} more observations not itemized", self.not_kept)?;
            }
        }
        if !self.sampled.is_empty() || !self.failed.is_empty() {
            writeln!(f)?;
            write!(f, "sampled {} models", self.sampled.len())?;
            if !self.failed.is_empty() {
                write!(f, "; could not sample {}:", self.failed.len())?;
                for (m, e) in &self.failed {
                    write!(f, "\n  {m}: {e}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(shape: &'static str, key: &str) -> Observation {
        Observation::UnknownField {
            shape,
            key: key.into(),
        }
    }

    #[test]
    fn empty_is_empty_and_says_so() {
        let d = Drift::new();
        assert!(d.is_empty());
        assert_eq!(d.summary(), "no schema drift seen");
        assert!(d.to_string().starts_with("no schema drift seen"));
        assert_eq!(d.to_json()["drift"], false);
    }

    #[test]
    fn counts_per_model_and_name() {
        let mut d = Drift::new();
        for _ in 0..3 {
            d.record("session", &unknown("Session", "x_note"));
        }
        d.record(
            "session",
            &Observation::UnknownEnumValue {
                enum_name: "SessionKind",
                value: "hologram".into(),
            },
        );
        d.record("project", &unknown("Project", "x_note"));
        assert!(!d.is_empty());
        assert_eq!(d.count(DriftKind::UnknownField), 4);
        assert_eq!(d.count_of("session", DriftKind::UnknownField, "x_note"), 3);
        assert_eq!(
            d.count_of("session", DriftKind::UnknownEnumValue, "hologram"),
            1
        );
        assert_eq!(d.models(), vec!["project", "session"]);
        assert_eq!(
            d.summary(),
            "schema drift: 4 unknown fields, 1 unknown enum value in project, session; see `brainstem check-schema`"
        );
        let text = d.to_string();
        assert!(text.contains("session:\n"), "{text}");
        assert!(
            text.contains("  unknown field Session.x_note: 3 times"),
            "{text}"
        );
        assert!(
            text.contains("  unknown enum value SessionKind \"hologram\": once"),
            "{text}"
        );
        let j = d.to_json();
        assert_eq!(j["entries"].as_array().unwrap().len(), 3);
        assert_eq!(j["entries"][0]["kind"], "unknown_field");
    }

    #[test]
    fn bounded_on_any_input() {
        let mut d = Drift::new();
        let long = "k".repeat(10_000);
        for i in 0..MAX_ENTRIES + 100 {
            d.record("m", &unknown("S", &format!("{i}{long}")));
        }
        d.record("m", &Observation::Dropped { count: 7 });
        assert_eq!(d.entries().len(), MAX_ENTRIES);
        assert_eq!(d.not_kept(), 107);
        assert!(
            d.entries()
                .iter()
                .all(|e| e.name.chars().count() <= MAX_TEXT + 1)
        );
        assert!(
            d.summary().contains("107 more not itemized"),
            "{}",
            d.summary()
        );
    }

    #[test]
    fn undecoded_paths_are_generic() {
        let mut d = Drift::new();
        for i in 0..4 {
            d.record_undecoded(
                "session",
                "Session",
                &DecodeError {
                    path: format!("sessions[{i}].tags[{i}]"),
                    message: "invalid type".into(),
                    snippet: String::new(),
                    found: None,
                },
            );
        }
        assert_eq!(
            d.count_of("session", DriftKind::Undecoded, "sessions[].tags[]"),
            4
        );
    }

    #[test]
    fn merge_adds_up() {
        let mut a = Drift::new();
        a.record("m", &unknown("S", "x"));
        let mut b = Drift::new();
        b.record("m", &unknown("S", "x"));
        b.sample_failed("n", "403");
        a.merge(&b);
        assert_eq!(a.count_of("m", DriftKind::UnknownField, "x"), 2);
        assert_eq!(a.failed().len(), 1);
    }
}
