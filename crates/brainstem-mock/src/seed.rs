//! The deterministic seed: every model gets records generated from its
//! typed schemas (enum values, lengths, formats, the documented examples of
//! typed payloads), checked by the same validator the server applies to
//! requests.
//! A few things are set on purpose: the users and their tokens, four
//! projects (one public) with their members, and who is invited where.

use serde_json::{Map, Value, json};

use super::catalog::{EntityId, Scope, catalog};
use super::store::{Store, TokenGrant, id_value, ref_key};
use brainstem::meta::FieldKind;
use brainstem::schema::{Bound, Format, Schema, Type, details_schema};
use brainstem::validate::{Mode, Shape, check_body};

/// The people in the seed, by user id.
pub(crate) const ALICE: i64 = 1;
pub(crate) const BOB: i64 = 2;
pub(crate) const CAROL: i64 = 3;

/// Tokens given to the seeded users.
#[derive(Debug, Clone)]
pub(crate) struct SeedTokens {
    pub full: String,
    pub read_only: String,
    pub no_access: String,
    pub carol: String,
}

const WORDS: &[&str] = &[
    "hippocampus",
    "prefrontal cortex",
    "CA1",
    "visual cortex",
    "striatum",
    "thalamus",
    "amygdala",
    "cerebellum",
    "entorhinal",
    "olfactory bulb",
    "barrel cortex",
    "medial septum",
    "V1",
    "dentate gyrus",
    "motor cortex",
    "superior colliculus",
];

const TAGS: &[&str] = &["pilot", "awake", "anesthetized", "sleep", "opto", "control"];

const PROJECTS: &[(&str, &str, bool)] = &[
    (
        "Hippocampal replay during sleep",
        "Replay of place-cell sequences in CA1 during slow-wave sleep.",
        false,
    ),
    (
        "Visual cortex mapping",
        "Retinotopic mapping of mouse V1 with two-photon imaging.",
        true,
    ),
    (
        "Motor learning in mice",
        "Skilled reaching and motor cortex plasticity.",
        false,
    ),
    (
        "Striatal dopamine and choice",
        "Dopamine release in the striatum during a two-armed bandit task.",
        false,
    ),
];

/// How many records of each model (the seed plan).
fn count_for(key: &str, sessions: usize) -> usize {
    match key {
        "stem/session" => sessions,
        "stem/subject" => 40,
        "modules/behavior" => 80,
        "modules/procedure" => 60,
        "modules/dataacquisition" => 60,
        "modules/manipulation" => 30,
        "modules/procedurelog" | "modules/subjectlog" => 12,
        "stem/project_membership_invitation"
        | "stem/project_group_membership_invitation"
        | "users/group_membership_invitation"
        | "users/group_membership_request" => 2,
        _ => 6,
    }
}

fn det_uuid(key: &str, i: usize) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("brainstem-seed/{key}/{i}").as_bytes(),
    )
    .to_string()
}

fn date(i: usize) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2021, 1, 4).unwrap_or_default()
        + chrono::Days::new((i as u64 * 5) % 1500)
}

fn datetime(i: usize) -> String {
    let base = date(i).and_hms_opt(9, 0, 0).unwrap_or_default();
    let t = base + chrono::Duration::minutes((i as i64 * 37) % 600);
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn word(i: usize) -> &'static str {
    WORDS[i % WORDS.len()]
}

fn title_case(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A name for record `i` of an entity (unique within the entity).
fn name_for(verbose: &str, key: &str, i: usize) -> String {
    if key == "stem/session" {
        let w = word(i);
        let n = i + 1;
        return match i % 5 {
            0 => format!("{} recording {n:03}", title_case(w)),
            1 => format!("{}_session_{n:03}", w.replace(' ', "_")),
            2 => format!("Day {n} - {w}"),
            3 => format!("{} pilot {n:03}", w.to_uppercase()),
            _ => format!("{w} sleep {n:03}"),
        };
    }
    format!("{} {} {}", title_case(verbose), word(i * 3 + 1), i + 1)
}

fn text_for(field: &str, verbose: &str, key: &str, i: usize) -> String {
    match field {
        "name" | "title" => name_for(verbose, key, i),
        "description" | "notes" | "abstract" | "comments" => {
            format!("Seeded {verbose} about the {} ({}).", word(i + 5), i + 1)
        }
        f if f.contains("website")
            || f.ends_with("_url")
            || f == "location" && i.is_multiple_of(2) =>
        {
            format!("https://example.org/{}/{}", key.replace('/', "-"), i + 1)
        }
        "doi" => format!("10.5555/brainstem.{}", i + 1),
        "first_name" => ["Alice", "Bob", "Carol", "Dan", "Eve"][i % 5].to_string(),
        "last_name" => ["Andersen", "Berg", "Chen", "Diaz", "Evans"][i % 5].to_string(),
        _ => format!("{} {}", word(i + 2), i + 1),
    }
}

/// A value that satisfies a schema (best effort; records are validated
/// afterwards and optional fields that fail are dropped).
fn sample(schema: &Schema, i: usize, depth: usize) -> Value {
    if depth > 6 {
        return Value::Null;
    }
    let s = schema.resolve();
    if let Some(ex) = s.example_value() {
        return ex;
    }
    if let Some(first) = s.one_of.first().or_else(|| s.any_of.first()) {
        return sample(first, i, depth + 1);
    }
    if let Some(values) = &s.enumeration
        && let Some(v) = values.get(i % values.len().max(1))
    {
        return v;
    }
    if let Some(d) = s.default_value() {
        return d;
    }
    // an integer bound, as the spec writes it
    let whole = |b: Option<Bound>| {
        b.map(|b| b.value)
            .filter(|x| x.fract() == 0.0 && x.abs() < 9.0e15)
            .map(|x| x as i64)
    };
    match s.ty {
        Some(Type::String) => {
            let text = match s.format {
                Some(Format::Uuid) => det_uuid("sample", i),
                Some(Format::Date) => date(i).format("%Y-%m-%d").to_string(),
                Some(Format::DateTime) => datetime(i),
                Some(Format::Email) => format!("person{}@example.org", i + 1),
                Some(Format::Uri) => format!("https://example.org/{}", i + 1),
                _ => match s.pattern {
                    Some(p) => ["https://example.org/data", "NL", "US", "x"]
                        .into_iter()
                        .find(|c| brainstem::validate::matches_pattern(p, c) == Some(true))
                        .unwrap_or("x")
                        .to_string(),
                    None => format!("{} {}", word(i), i + 1),
                },
            };
            let max = s.max_length.unwrap_or(u64::MAX) as usize;
            Value::String(text.chars().take(max).collect())
        }
        Some(Type::Integer) => {
            let min = whole(s.minimum).unwrap_or(0).max(0);
            let v = min + (i as i64 % 10);
            let v = whole(s.maximum).map_or(v, |m| v.min(m));
            Value::from(v)
        }
        Some(Type::Number) => {
            let min = s.minimum.map_or(0.0, |b| b.value).max(0.0);
            let v = min + 0.5 * (i % 10) as f64 + 0.25;
            let v = s.maximum.map_or(v, |m| v.min(m.value));
            json!(v)
        }
        Some(Type::Boolean) => Value::Bool(i.is_multiple_of(3)),
        Some(Type::Array) => {
            let n = s.min_items.unwrap_or(1).max(1) as usize;
            Value::Array(
                (0..n)
                    .map(|k| {
                        s.items
                            .map_or(Value::Null, |it| sample(it, i + k, depth + 1))
                    })
                    .collect(),
            )
        }
        Some(Type::Object) => {
            let mut out = Map::new();
            if !s.properties.is_empty() {
                for p in s.properties {
                    if s.required.contains(&p.name) || depth == 0 {
                        out.insert(p.name.to_string(), sample(p.schema, i, depth + 1));
                    }
                }
            } else if s.key_pattern.is_some() {
                out.insert("temperature".into(), json!("ambient"));
                out.insert("trial_count".into(), json!(i as u64 % 40 + 1));
            }
            Value::Object(out)
        }
        _ => Value::Null,
    }
}

struct Gen<'a> {
    store: &'a mut Store,
    skipped: usize,
    /// Ids of each entity, refreshed before each entity is generated.
    ids: Vec<Vec<Value>>,
}

impl Gen<'_> {
    /// Pick a related id for record `i`.
    fn pick(&self, t: EntityId, i: usize, salt: usize) -> Option<Value> {
        let ids = self.ids.get(t)?;
        if ids.is_empty() {
            return None;
        }
        ids.get((i * 7 + salt * 3) % ids.len()).cloned()
    }

    /// Snapshot every entity's ids (for [`Gen::pick`]).
    fn refresh_ids(&mut self) {
        let c = catalog();
        self.ids = self
            .store
            .tables
            .iter()
            .enumerate()
            .map(|(e, t)| {
                t.iter()
                    .map(|r| id_value(c.get(e).id_kind, &r.id))
                    .collect()
            })
            .collect();
    }

    /// One generated record of entity `e` (not stored).
    fn record(&self, e: EntityId, i: usize) -> Map<String, Value> {
        let c = catalog();
        let ent = c.get(e);
        let verbose = ent.verbose();
        let mut v = Map::new();
        for (fi, f) in ent.fields.iter().enumerate() {
            if f.name == "id" {
                v.insert("id".into(), id_value(ent.id_kind, &det_uuid(&ent.key, i)));
                continue;
            }
            if f.read_only {
                continue;
            }
            if let Some(t) = f.related {
                if f.many {
                    let root_rel = Some(t) == c.root;
                    let n = if root_rel {
                        1 + usize::from(i.is_multiple_of(10))
                    } else if f.create_required || i.is_multiple_of(2) {
                        1
                    } else {
                        0
                    };
                    let items: Vec<Value> = if root_rel {
                        let table = &self.store.tables[t];
                        (0..n)
                            .filter_map(|k| table.iter().nth((i + k) % table.len().max(1)))
                            .map(|r| id_value(c.get(t).id_kind, &r.id))
                            .collect()
                    } else {
                        (0..n).filter_map(|k| self.pick(t, i + k, fi)).collect()
                    };
                    v.insert(f.name.clone(), Value::Array(items));
                } else if let Some(id) = self
                    .pick(t, i, fi)
                    .filter(|_| f.create_required || i % 3 != 2 || !f.nullable)
                {
                    v.insert(f.name.clone(), id);
                } else if f.create_required {
                    // No target yet: the caller skips this record.
                    v.insert(f.name.clone(), Value::Null);
                }
                continue;
            }
            if f.membership.is_some() {
                continue;
            }
            let val = match f.kind {
                FieldKind::Text if f.schema.resolve().pattern.is_none() => {
                    let max = f.schema.resolve().max_length.unwrap_or(u64::MAX) as usize;
                    let t = text_for(&f.name, &verbose, &ent.key, i);
                    if f.many {
                        Value::Array(vec![
                            json!(TAGS[i % TAGS.len()]),
                            json!(TAGS[(i / 2 + 3) % TAGS.len()]),
                        ])
                    } else {
                        Value::String(t.chars().take(max).collect())
                    }
                }
                FieldKind::DateTime if !f.many => Value::String(datetime(i)),
                _ => sample(f.schema, i, 0),
            };
            v.insert(f.name.clone(), val);
        }
        // Typed payloads follow their selector.
        for (tag, content, group) in &ent.details {
            if let Some(t) = v.get(tag).and_then(Value::as_str)
                && let Some(ds) = details_schema(group, t)
            {
                v.insert(content.clone(), sample(&ds.schema, i, 0));
            }
        }
        v
    }

    /// Check a generated record; drop optional fields that fail.
    fn validate(&mut self, e: EntityId, mut v: Map<String, Value>) -> Option<Map<String, Value>> {
        let c = catalog();
        let ent = c.get(e);
        let meta = ent.meta?;
        for _ in 0..4 {
            let body = Value::Object(v.clone());
            let Err(err) = check_body(meta, Shape::Create, &body, Mode::Server) else {
                return Some(v);
            };
            let mut fixed = false;
            for fe in &err.errors {
                let top = fe.path.split(['.', '[']).next().unwrap_or("");
                if let Some((_, f)) = ent.field(top)
                    && !f.create_required
                    && v.remove(top).is_some()
                {
                    fixed = true;
                }
                if let Some((tag, content, _)) = ent.details.iter().find(|(_, c, _)| c == top)
                    && v.remove(content).is_some()
                {
                    let _ = tag;
                    fixed = true;
                }
            }
            if !fixed {
                break;
            }
        }
        self.skipped += 1;
        None
    }
}

/// Fill an empty store with the seed; returns the tokens it made.
pub(crate) fn seed(
    store: &mut Store,
    sessions: usize,
    tokens: Option<SeedTokens>,
) -> (SeedTokens, usize) {
    let c = catalog();
    let mut g = Gen {
        store,
        skipped: 0,
        ids: Vec::new(),
    };
    let tokens = tokens.unwrap_or_else(|| SeedTokens {
        full: super::device::new_token(),
        read_only: super::device::new_token(),
        no_access: super::device::new_token(),
        carol: super::device::new_token(),
    });
    // Users.
    g.refresh_ids();
    let people = [
        (ALICE, "alice@example.org", "Alice", "Andersen"),
        (BOB, "bob@example.org", "Bob", "Berg"),
        (CAROL, "carol@example.org", "Carol", "Chen"),
    ];
    if let Some(u) = c.user {
        for (k, (id, email, first, last)) in people.iter().enumerate() {
            let mut v = g.record(u, k);
            v.insert("id".into(), json!(id));
            v.insert("email".into(), json!(email));
            v.insert("first_name".into(), json!(first));
            v.insert("last_name".into(), json!(last));
            v.insert("active_projects".into(), json!([]));
            let mut full = Map::new();
            for f in &c.get(u).fields {
                if let Some(x) = v.get(&f.name) {
                    full.insert(f.name.clone(), x.clone());
                } else if f.response_required {
                    full.insert(f.name.clone(), f.default.clone().unwrap_or(Value::Null));
                }
            }
            g.store.insert_raw(u, full, Some(*id));
        }
    }
    g.store.admins.insert(ALICE);
    for (role, t) in [
        ("full", &tokens.full),
        ("read_only", &tokens.read_only),
        ("no_access", &tokens.no_access),
    ] {
        g.store.roles.insert(role.to_string(), t.clone());
    }
    for (t, user, ro) in [
        (&tokens.full, ALICE, false),
        (&tokens.read_only, ALICE, true),
        (&tokens.no_access, BOB, false),
        (&tokens.carol, CAROL, false),
    ] {
        g.store.tokens.insert(
            t.clone(),
            TokenGrant {
                user,
                read_only: ro,
            },
        );
    }
    // Groups.
    g.refresh_ids();
    if let Some(gr) = c.group {
        for (k, (name, members)) in [
            (
                "Alice lab",
                vec![("alice@example.org", true), ("carol@example.org", false)],
            ),
            ("Carol lab", vec![("carol@example.org", true)]),
        ]
        .into_iter()
        .enumerate()
        {
            let mut v = g.record(gr, k);
            v.insert("id".into(), json!(k + 1));
            v.insert("name".into(), json!(name));
            for f in &c.get(gr).fields {
                if let Some(m) = &f.membership {
                    let map: Map<String, Value> = members
                        .iter()
                        .map(|(email, owner)| {
                            let flags: Map<String, Value> = m
                                .flags
                                .iter()
                                .map(|fl| (fl.clone(), Value::Bool(*owner)))
                                .collect();
                            (email.to_string(), Value::Object(flags))
                        })
                        .collect();
                    v.insert(f.name.clone(), Value::Object(map));
                }
            }
            let owner = if k == 0 { ALICE } else { CAROL };
            put(g.store, gr, v, owner);
        }
    }
    // Projects.
    g.refresh_ids();
    if let Some(root) = c.root {
        for (k, (name, description, public)) in PROJECTS.iter().enumerate() {
            let mut v = g.record(root, k);
            v.insert("name".into(), json!(name));
            v.insert("description".into(), json!(description));
            v.insert("is_public".into(), json!(public));
            let alice_owns = k < 2;
            for f in &c.get(root).fields {
                let Some(m) = &f.membership else { continue };
                let flags = |on: &[&str]| -> Value {
                    Value::Object(
                        m.flags
                            .iter()
                            .map(|fl| (fl.clone(), Value::Bool(on.contains(&fl.as_str()))))
                            .collect(),
                    )
                };
                let all: Vec<&str> = m.flags.iter().map(String::as_str).collect();
                let mut map = Map::new();
                if m.by_user {
                    match (alice_owns, k) {
                        (true, _) => {
                            map.insert("alice@example.org".into(), flags(&all));
                        }
                        (false, 2) => {
                            map.insert("carol@example.org".into(), flags(&all));
                            map.insert("alice@example.org".into(), flags(&["can_change"]));
                        }
                        _ => {
                            map.insert("carol@example.org".into(), flags(&all));
                        }
                    }
                } else if k == 2 {
                    map.insert("Alice lab".into(), flags(&["can_change"]));
                }
                v.insert(f.name.clone(), Value::Object(map));
            }
            v.insert("publications".into(), json!([]));
            put(g.store, root, v, if alice_owns { ALICE } else { CAROL });
        }
    }
    // Everything else, in dependency order.
    let mut done: Vec<bool> = c
        .entities
        .iter()
        .enumerate()
        .map(|(i, e)| {
            Some(i) == c.user
                || Some(i) == c.group
                || Some(i) == c.root
                || e.approval_of.is_some()
                || c.through_of.contains_key(&i)
        })
        .collect();
    loop {
        let mut progress = false;
        for (e, ent) in c.entities.iter().enumerate() {
            if done[e] {
                continue;
            }
            let ready = ent
                .fields
                .iter()
                .filter(|f| f.create_required && !f.read_only)
                .filter_map(|f| f.related)
                .all(|t| t == e || done[t]);
            if !ready {
                continue;
            }
            done[e] = true;
            progress = true;
            g.refresh_ids();
            let n = count_for(&ent.key, sessions);
            // Invitations and requests (records with an accept action) are
            // addressed to Bob or Carol, about Alice's first project or group.
            let resolvable = ent
                .ops
                .iter()
                .any(|o| o.kind == super::catalog::OpKind::Action("accept".into()));
            for i in 0..n {
                let mut v = g.record(e, i);
                if resolvable {
                    let who = if i % 2 == 0 { BOB } else { CAROL };
                    let first_project = c
                        .root
                        .and_then(|r| g.store.tables[r].iter().next().map(|r| r.id.clone()));
                    for f in ent.fields.iter().filter(|f| !f.many && !f.read_only) {
                        if f.related.is_some() && f.related == c.user {
                            v.insert(f.name.clone(), json!(who));
                        } else if f.related.is_some() && f.related == c.root {
                            if let Some(id) = &first_project {
                                v.insert(f.name.clone(), json!(id));
                            }
                        } else if f.related.is_some() && f.related == c.group {
                            v.insert(f.name.clone(), json!(1));
                        }
                    }
                }
                if ent.fields.iter().any(|f| {
                    f.create_required
                        && f.related.is_some()
                        && !f.many
                        && v.get(&f.name).is_none_or(Value::is_null)
                }) {
                    g.skipped += 1;
                    continue;
                }
                let Some(mut v) = g.validate(e, v) else {
                    continue;
                };
                fill_entries(e, &mut v, i);
                let owner = match ent.scope {
                    Scope::Owned => {
                        if i % 3 == 2 {
                            CAROL
                        } else {
                            ALICE
                        }
                    }
                    _ => ALICE,
                };
                put(g.store, e, v, owner);
            }
        }
        if !progress {
            break;
        }
    }
    // One pending proposal per approval queue.
    g.refresh_ids();
    for (q, ent) in c.entities.iter().enumerate() {
        let Some(base) = ent.approval_of else {
            continue;
        };
        let Some(mut v) = g.validate(base, g.record(base, 100)) else {
            continue;
        };
        if let Some((_, f)) = c.get(base).field("name") {
            let _ = f;
            v.insert(
                "name".into(),
                json!(format!("Proposed {} 1", c.get(base).verbose())),
            );
        }
        let mut out = Map::new();
        for f in &ent.fields {
            let val = match f.name.as_str() {
                "id" => json!(det_uuid(&ent.key, 0)),
                "instance_id" | "reviewer" => Value::Null,
                "action" => json!("Add"),
                "status" => json!("Pending"),
                name => match v.get(name) {
                    Some(x) => x.clone(),
                    None if f.response_required => f.default.clone().unwrap_or(Value::Null),
                    None => continue,
                },
            };
            out.insert(f.name.clone(), val);
        }
        g.store.insert_raw(q, out, Some(CAROL));
    }
    let skipped = g.skipped;
    store.rebuild();
    (tokens, skipped)
}

/// Log entries for log models (their `entries` are read-only).
fn fill_entries(e: EntityId, v: &mut Map<String, Value>, i: usize) {
    let c = catalog();
    let ent = c.get(e);
    let Some((_, f)) = ent.field("entries") else {
        return;
    };
    // the group named on the entry schema's payload
    let group = f
        .schema
        .items
        .map(Schema::resolve)
        .and_then(|item| item.property("details"))
        .and_then(|d| d.details_group);
    let tag = group.and_then(|g| ent.selector(g, v));
    let details = match (group, tag) {
        (Some(g), Some(t)) => details_schema(g, &t).map(|c| sample(&c.schema, i, 0)),
        _ => None,
    }
    .unwrap_or_else(|| json!({}));
    let entries: Vec<Value> = (0..2)
        .map(|k| {
            json!({
                "date_time": datetime(i * 2 + k),
                "notes": if k == 0 { Value::Null } else { json!(format!("check {}", i + 1)) },
                "details": details,
            })
        })
        .collect();
    v.insert(f.name.clone(), Value::Array(entries));
}

/// Store a generated record with every response field present.
fn put(store: &mut Store, e: EntityId, v: Map<String, Value>, owner: i64) {
    let c = catalog();
    let ent = c.get(e);
    let mut full = Map::new();
    for f in &ent.fields {
        if let Some(x) = v.get(&f.name) {
            full.insert(f.name.clone(), x.clone());
        } else if f.read_only && f.kind == FieldKind::DateTime && !f.many {
            full.insert(f.name.clone(), json!(datetime(store.tables[e].len())));
        } else if f.response_required || f.reverse.is_some() {
            full.insert(f.name.clone(), f.default.clone().unwrap_or(Value::Null));
        }
    }
    if full.get("id").and_then(ref_key).is_none() {
        full.insert("id".into(), id_value(ent.id_kind, &store.fresh_id(e)));
    }
    store.insert_raw(e, full, Some(owner));
}
