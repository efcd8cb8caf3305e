//! Records as the answer shows them: `include[]` / `exclude[]`, deferred
//! fields, drift, `links`, and included relations embedded or sideloaded
//! the way dynamic-rest's `SideloadingProcessor` does it. Each included
//! record costs one visit of the request's budget; once it runs out the
//! renderer stops walking relations and the caller answers 400.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::access::{self, Viewer};
use super::budget::Budget;
use super::catalog::{EntityId, catalog};
use super::dialect::Resolved;
use super::query::{Fields, Node};
use super::store::{Rec, Store, id_value, ref_key};

/// The undocumented field of drifted records.
pub(crate) const NOTE_KEY: &str = "x_server_note";
/// Its value, as JSON text: `1e400` does not fit an `f64`, so it cannot
/// pass through a `serde_json::Value` and is spliced into the text.
pub(crate) const NOTE_TEXT: &str = r#"{"n":12,"big":1e400,"tags":["a"]}"#;
/// What stands for the note inside a `Value` until the text is written.
const SENTINEL: &str = "\u{1}brainstem-mock:x_server_note\u{1}";
static SENTINEL_JSON: LazyLock<String> =
    LazyLock::new(|| serde_json::to_string(SENTINEL).unwrap_or_default());

/// The number written in place of text in an undecodable write answer.
pub(crate) const UNDECODABLE_NUMBER: i64 = 12345;

/// Sideloaded records of one top-level key, in order, with their ids.
type Bucket = (String, Vec<(String, Map<String, Value>)>);

/// Renders the records of one answer.
pub(crate) struct Renderer<'a> {
    store: &'a Store,
    viewer: &'a Viewer,
    d: &'a Resolved,
    /// A read (deferred fields apply; writes answer with every field).
    read: bool,
    /// Sideload included relations (else embed them).
    sideload: bool,
    /// The request asked for no links (`exclude_links`).
    no_links: bool,
    primary_many: String,
    /// Ids already placed, per plural name (the primary records too).
    seen: HashMap<String, HashSet<String>>,
    buckets: Vec<Bucket>,
    /// What included records may cost (`None`: no limit).
    budget: Option<&'a Budget>,
}

/// dynamic-rest's (Python's) falsy values.
fn falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

impl<'a> Renderer<'a> {
    /// A renderer for an answer whose primary records are of `primary`.
    pub fn new(
        store: &'a Store,
        viewer: &'a Viewer,
        d: &'a Resolved,
        primary: EntityId,
        read: bool,
    ) -> Renderer<'a> {
        Renderer {
            store,
            viewer,
            d,
            read,
            sideload: false,
            no_links: false,
            primary_many: catalog().get(primary).many.clone(),
            seen: HashMap::new(),
            buckets: Vec::new(),
            budget: None,
        }
    }

    /// Count every included record against this budget; once it has run
    /// out no further relation is walked (the caller checks
    /// [`Budget::exhausted`] and refuses the answer).
    pub fn budget(mut self, budget: &'a Budget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Sideload (`true`) or embed included relations.
    pub fn sideload(mut self, yes: bool) -> Self {
        self.sideload = yes;
        self
    }

    /// Leave every link out (the request's `exclude_links`).
    pub fn no_links(mut self, yes: bool) -> Self {
        self.no_links = yes;
        self
    }

    fn has_note(&self, rec: &Rec) -> bool {
        let n = self.d.dialect.extra_field_every as u64;
        n > 0 && rec.nth.is_multiple_of(n)
    }

    fn lacks(&self, e: EntityId, rec: &Rec) -> Option<&'a Vec<String>> {
        let n = self.d.dialect.missing_field_every as u64;
        if n == 0 || !rec.nth.is_multiple_of(n) {
            return None;
        }
        self.d.missing.get(&e)
    }

    fn dynamic_links(&self, e: EntityId) -> bool {
        let ent = catalog().get(e);
        self.d.dialect.omit_empty_links && !ent.links.is_empty() && ent.field("links").is_some()
    }

    /// Whether the stored text is the answer as it stands.
    fn plain(&self, e: EntityId, rec: &Rec, fields: &Fields) -> bool {
        fields.nodes.is_empty()
            && !(self.read && self.d.deferred.contains_key(&e))
            && !self.has_note(rec)
            && self.lacks(e, rec).is_none()
            && !self.dynamic_links(e)
    }

    /// JSON text of a record, with the note spliced in.
    pub fn text(&self, m: &Map<String, Value>) -> String {
        let s = serde_json::to_string(m).unwrap_or_else(|_| "{}".to_string());
        if self.d.dialect.extra_field_every > 0 && s.contains(SENTINEL_JSON.as_str()) {
            s.replace(SENTINEL_JSON.as_str(), NOTE_TEXT)
        } else {
            s
        }
    }

    /// A primary record of the answer, as JSON text (the stored text when
    /// nothing changes it).
    pub fn primary<'r>(&mut self, e: EntityId, rec: &'r Rec, fields: &Fields) -> Cow<'r, str> {
        let out = if self.plain(e, rec, fields) {
            Cow::Borrowed(&*rec.json)
        } else {
            let m = self.record(e, rec, fields, 0);
            Cow::Owned(self.text(&m))
        };
        if self.sideload {
            self.seen
                .entry(self.primary_many.clone())
                .or_default()
                .insert(rec.id.clone());
        }
        out
    }

    /// A primary record as a value (no note spliced in; for write answers
    /// that are rewritten before they are sent).
    pub fn primary_value(&mut self, e: EntityId, rec: &Rec) -> Map<String, Value> {
        self.record(e, rec, &Fields::default(), 0)
    }

    /// The sideloaded lists as `"key":[...],` text, each followed by a comma.
    pub fn sideload_text(&self) -> String {
        let mut out = String::new();
        for (key, items) in &self.buckets {
            let _ = write!(out, "{}:[", serde_json::to_string(key).unwrap_or_default());
            for (i, (_, m)) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&self.text(m));
            }
            out.push_str("],");
        }
        out
    }

    /// One record with everything applied; included relations are embedded
    /// or moved to the sideload buckets (children before their parent, as
    /// dynamic-rest walks the tree).
    fn record(
        &mut self,
        e: EntityId,
        rec: &Rec,
        fields: &Fields,
        depth: usize,
    ) -> Map<String, Value> {
        let c = catalog();
        let ent = c.get(e);
        let mut out = rec.value.clone();
        if self.read
            && let Some(list) = self.d.deferred.get(&e)
        {
            for f in list {
                if !matches!(fields.nodes.get(f), Some(Node::Flag(true) | Node::Embed(_))) {
                    out.shift_remove(f);
                }
            }
        }
        for (name, node) in &fields.nodes {
            if let Node::Flag(false) = node {
                out.shift_remove(name);
            }
        }
        if let Some(list) = self.lacks(e, rec) {
            for f in list {
                out.shift_remove(f);
            }
        }
        if self.dynamic_links(e) && out.contains_key("links") {
            let mut links = Map::new();
            if !self.no_links {
                for l in &ent.links {
                    if matches!(fields.nodes.get(l), Some(Node::Embed(_)))
                        || out.get(l).is_some_and(falsy)
                    {
                        continue;
                    }
                    links.insert(l.clone(), Value::String(format!("{l}/")));
                }
            }
            if links.is_empty() {
                out.shift_remove("links");
            } else {
                out.insert("links".into(), Value::Object(links));
            }
        }
        // Included relations, in the record's field order.
        let names: Vec<String> = out
            .keys()
            .filter(|k| matches!(fields.nodes.get(*k), Some(Node::Embed(_))))
            .cloned()
            .collect();
        for name in names {
            let Some(Node::Embed(sub)) = fields.nodes.get(&name) else {
                continue;
            };
            let Some((_, f)) = ent.field(&name) else {
                continue;
            };
            let Some(t) = f.related else { continue };
            if depth > 4 {
                continue;
            }
            let new = match out.get(&name) {
                Some(Value::Array(a)) => Value::Array(
                    a.iter()
                        .filter_map(|x| self.related(t, x, sub, depth))
                        .collect(),
                ),
                Some(x) => self.related(t, x, sub, depth).unwrap_or_else(|| x.clone()),
                None => continue,
            };
            out.insert(name, new);
        }
        if self.has_note(rec) {
            out.insert(NOTE_KEY.into(), Value::String(SENTINEL.into()));
        }
        out
    }

    /// A related record embedded, or sideloaded and replaced by its id
    /// (`None`: it does not exist or the viewer may not see it).
    fn related(&mut self, t: EntityId, x: &Value, sub: &Fields, depth: usize) -> Option<Value> {
        if let Some(b) = self.budget
            && b.spend(1).is_err()
        {
            return None;
        }
        let key = ref_key(x)?;
        let r = self.store.get(t, &key)?;
        if !access::visible(self.store, t, r, self.viewer) {
            return None;
        }
        let m = self.record(t, r, sub, depth + 1);
        if !self.sideload {
            return Some(Value::Object(m));
        }
        let c = catalog();
        let name = c.get(t).many.clone();
        let first = self
            .seen
            .entry(name.clone())
            .or_default()
            .insert(r.id.clone());
        // Other records of the primary type go under a prefixed key.
        let key = if name == self.primary_many {
            format!("+{name}")
        } else {
            name
        };
        let pos = self.buckets.iter().position(|(k, _)| *k == key);
        if first {
            let i = pos.unwrap_or_else(|| {
                self.buckets.push((key, Vec::new()));
                self.buckets.len() - 1
            });
            self.buckets[i].1.push((r.id.clone(), m));
        } else if let Some(i) = pos
            && let Some((_, old)) = self.buckets[i].1.iter_mut().find(|(id, _)| *id == r.id)
        {
            // Reached again, maybe with other fields: merge.
            for (k, v) in m {
                old.insert(k, v);
            }
        }
        Some(id_value(c.get(t).id_kind, &r.id))
    }
}

/// The body of an undecodable write answer: the record with its id, every
/// other string value replaced by a number (the drift note stays).
pub(crate) fn undecodable(mut m: Map<String, Value>) -> Map<String, Value> {
    let mut changed = false;
    for (k, v) in m.iter_mut() {
        if k != "id" && k != NOTE_KEY && v.is_string() {
            *v = Value::from(UNDECODABLE_NUMBER);
            changed = true;
        }
    }
    if !changed {
        for (k, v) in m.iter_mut() {
            if k != "id" {
                *v = Value::from(UNDECODABLE_NUMBER);
            }
        }
    }
    m
}
