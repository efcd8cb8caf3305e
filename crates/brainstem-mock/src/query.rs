//! dynamic-rest's query language on the server side: `filter{...}`,
//! `sort[]`, `include[]` / `exclude[]`, with the error bodies dynamic-rest
//! and DRF give. Paging is in `paging.rs`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use super::budget::{Budget, Exhausted};
use super::catalog::{EntityId, catalog};
use super::reply::{ApiError, py_repr};
use super::store::{Store, ref_key, refs};
use brainstem::meta::{FieldKind, IdKind};

/// dynamic-rest's filter operators.
const OPERATORS: &[&str] = &[
    "in",
    "any",
    "all",
    "icontains",
    "contains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "year",
    "month",
    "day",
    "week_day",
    "regex",
    "range",
    "gt",
    "lt",
    "gte",
    "lte",
    "isnull",
    "eq",
    "iexact",
];

/// The deepest `include[]` path accepted (a guard, not a dynamic-rest rule).
const MAX_DEPTH: usize = 8;

/// The most relation steps a filter or sort path follows (deeper steps
/// match nothing).
const MAX_HOPS: usize = 9;

/// The compiled size a `regex` filter may take (the `regex` crate's
/// `size_limit`), and the lazy DFA's cache.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const REGEX_DFA_LIMIT: usize = 1 << 20;

/// Decode a query string (or a form body) into pairs, in order, as Django
/// does: `+` is a space, `%` escapes are decoded (text that is not UTF-8
/// afterwards is decoded lossily), empty pieces between `&`s are skipped, a
/// piece without `=` has an empty value, and repeated keys stay repeated.
pub(crate) fn parse_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    let Some(raw) = raw else { return vec![] };
    form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect()
}

/// A typed filter value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Str(String),
    Int(i64),
    Num(f64),
    Bool(bool),
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

impl Val {
    fn cmp(&self, other: &Val) -> Option<Ordering> {
        match (self, other) {
            (Val::Str(a), Val::Str(b)) => Some(a.cmp(b)),
            (Val::Int(a), Val::Int(b)) => Some(a.cmp(b)),
            (Val::Num(a), Val::Num(b)) => a.partial_cmp(b),
            (Val::Int(a), Val::Num(b)) => (*a as f64).partial_cmp(b),
            (Val::Num(a), Val::Int(b)) => a.partial_cmp(&(*b as f64)),
            (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
            (Val::Date(a), Val::Date(b)) => Some(a.cmp(b)),
            (Val::Time(a), Val::Time(b)) => Some(a.cmp(b)),
            (Val::Time(a), Val::Date(b)) => Some(a.date_naive().cmp(b)),
            (Val::Date(a), Val::Time(b)) => Some(a.cmp(&b.date_naive())),
            _ => None,
        }
    }
}

/// `true` unless the text is one of dynamic-rest's false strings.
pub(crate) fn is_truthy(s: &str) -> bool {
    !matches!(s.to_lowercase().as_str(), "0" | "false" | "")
}

fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let t = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    let spaced = t.replacen(' ', "T", 1);
    if let Ok(d) = DateTime::parse_from_rfc3339(&spaced) {
        return Some(d.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(&spaced, f) {
            return Some(n.and_utc());
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M%#z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(&spaced, f) {
            return Some(d.with_timezone(&Utc));
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc())
}

fn looks_like_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// Convert a query value for a field kind, with Django's messages.
fn convert(kind: FieldKind, id_kind: Option<IdKind>, s: &str) -> Result<Val, String> {
    let kind = match id_kind {
        Some(IdKind::Integer) => FieldKind::Integer,
        Some(IdKind::Uuid) => FieldKind::Uuid,
        None => kind,
    };
    match kind {
        FieldKind::Uuid => uuid::Uuid::parse_str(s.trim())
            .map(|u| Val::Str(u.to_string()))
            .map_err(|_| format!("“{s}” is not a valid UUID.")),
        FieldKind::Integer => s
            .trim()
            .parse::<i64>()
            .map(Val::Int)
            .map_err(|_| format!("“{s}” value must be an integer.")),
        FieldKind::Number => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Val::Num)
            .ok_or_else(|| format!("“{s}” value must be a float.")),
        FieldKind::Boolean => Ok(Val::Bool(is_truthy(s))),
        FieldKind::Date => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
            Ok(d) => Ok(Val::Date(d)),
            Err(_) if looks_like_date(s.trim()) => Err(format!(
                "“{s}” value has the correct format (YYYY-MM-DD) but it is an invalid date."
            )),
            Err(_) => Err(format!(
                "“{s}” value has an invalid date format. It must be in YYYY-MM-DD format."
            )),
        },
        FieldKind::DateTime => parse_datetime(s).map(Val::Time).ok_or_else(|| {
            format!(
                "“{s}” value has an invalid format. It must be in YYYY-MM-DD HH:MM[:ss[.uuuuuu]][TZ] format."
            )
        }),
        FieldKind::Text | FieldKind::Choice | FieldKind::Json => Ok(Val::Str(s.to_string())),
    }
}

/// A stored JSON value as a typed value of a field kind.
fn stored(kind: FieldKind, id_kind: Option<IdKind>, v: &Value) -> Val {
    if v.is_null() {
        return Val::Null;
    }
    if id_kind.is_some() {
        return match ref_key(v) {
            Some(k) => match v {
                Value::Number(n) => n.as_i64().map(Val::Int).unwrap_or(Val::Str(k)),
                _ => Val::Str(k),
            },
            None => Val::Null,
        };
    }
    match kind {
        FieldKind::Uuid => ref_key(v).map(Val::Str).unwrap_or(Val::Null),
        FieldKind::Integer => v.as_i64().map(Val::Int).unwrap_or(Val::Null),
        FieldKind::Number => v.as_f64().map(Val::Num).unwrap_or(Val::Null),
        FieldKind::Boolean => v.as_bool().map(Val::Bool).unwrap_or(Val::Null),
        FieldKind::Date => v
            .as_str()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .map(Val::Date)
            .unwrap_or(Val::Null),
        FieldKind::DateTime => v
            .as_str()
            .and_then(parse_datetime)
            .map(Val::Time)
            .unwrap_or(Val::Null),
        _ => match v {
            Value::String(s) => Val::Str(s.clone()),
            other => Val::Str(other.to_string()),
        },
    }
}

/// One step of a filter or sort path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    pub entity: EntityId,
    /// `None`: the primary key (`pk`).
    pub field: Option<usize>,
}

/// A filter operator with its values.
#[derive(Debug, Clone)]
pub(crate) enum Pred {
    Exact(Val),
    IExact(String),
    Contains(String, bool),
    StartsWith(String, bool),
    EndsWith(String, bool),
    In(Vec<Val>),
    IsNull(bool),
    Cmp(Ordering, bool),
    Range(Val, Val),
    Regex(regex::Regex),
    Part(fn(&Val) -> Option<i64>, i64),
}

/// One parsed filter.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    /// The key as written inside `filter{...}` (for messages).
    pub key: String,
    pub path: Vec<Step>,
    pub pred: Pred,
    /// For [`Pred::Cmp`]: the value compared against.
    pub operand: Val,
    pub negate: bool,
}

/// One sort key.
#[derive(Debug, Clone)]
pub(crate) struct Sort {
    /// The term as written in `sort[]` (for messages).
    pub term: String,
    pub path: Vec<Step>,
    pub descending: bool,
}

/// `include[]` / `exclude[]` as a tree.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fields {
    pub nodes: BTreeMap<String, Node>,
}

/// One node of [`Fields`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// Include (`true`) or exclude (`false`) the field.
    Flag(bool),
    /// Embed the related records, with these nested requests.
    Embed(Fields),
}

/// A parsed list request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    pub filters: Vec<Filter>,
    pub sort: Vec<Sort>,
    pub fields: Fields,
}

/// Parse the include / exclude tree, checking every name.
pub(crate) fn parse_fields(e: EntityId, pairs: &[(String, String)]) -> Result<Fields, ApiError> {
    let mut root = Fields::default();
    for (key, include) in [("include[]", true), ("exclude[]", false)] {
        for (_, value) in pairs.iter().filter(|(k, _)| k == key) {
            let segs: Vec<&str> = value.split('.').collect();
            let n = segs.len();
            if n > MAX_DEPTH {
                return Err(ApiError::parse(format!(
                    "\"{value}\" nests more than {MAX_DEPTH} levels."
                )));
            }
            let mut cur = &mut root;
            for (i, seg) in segs.iter().enumerate() {
                let last = i == n - 1;
                if seg.is_empty() {
                    if last {
                        break;
                    }
                    return Err(ApiError::parse(format!(
                        "\"{value}\" is not a valid field."
                    )));
                }
                if last {
                    cur.nodes.insert(seg.to_string(), Node::Flag(include));
                } else {
                    let node = cur
                        .nodes
                        .entry(seg.to_string())
                        .or_insert_with(|| Node::Embed(Fields::default()));
                    if let Node::Flag(_) = node {
                        *node = Node::Embed(Fields::default());
                    }
                    let Node::Embed(next) = node else {
                        unreachable!("set just above")
                    };
                    cur = next;
                }
            }
        }
    }
    check_fields(e, &root)?;
    Ok(root)
}

fn check_fields(e: EntityId, f: &Fields) -> Result<(), ApiError> {
    let c = catalog();
    let ent = c.get(e);
    for (name, node) in &f.nodes {
        if name == "*" {
            continue;
        }
        let Some((_, field)) = ent.field(name) else {
            return Err(ApiError::parse(format!(
                "\"{name}\" is not a valid field name for \"{}\".",
                ent.one
            )));
        };
        if let (Node::Embed(sub), Some(t)) = (node, field.related) {
            check_fields(t, sub)?;
        }
    }
    Ok(())
}

/// Resolve a dotted path for a filter, with dynamic-rest's messages.
fn filter_path(e: EntityId, parts: &[&str]) -> Result<Vec<Step>, ApiError> {
    let c = catalog();
    let mut out = Vec::new();
    let mut cur = e;
    let last = parts.len().saturating_sub(1);
    for (i, part) in parts.iter().enumerate() {
        if *part == "pk" {
            out.push(Step {
                entity: cur,
                field: None,
            });
            if i == last {
                break;
            }
            return Err(ApiError::list(vec![format!(
                "Invalid nested filter field: {part}"
            )]));
        }
        let Some((fi, f)) = c.get(cur).field(part) else {
            return Err(ApiError::list(vec![format!(
                "Invalid filter field: {part}"
            )]));
        };
        out.push(Step {
            entity: cur,
            field: Some(fi),
        });
        if i == last {
            break;
        }
        match f.related {
            Some(t) => cur = t,
            None => {
                return Err(ApiError::list(vec![format!(
                    "Invalid nested filter field: {part}"
                )]));
            }
        }
    }
    Ok(out)
}

struct RawFilter {
    key: String,
    values: Vec<String>,
}

/// Parse a list request. Errors come in dynamic-rest's order: includes,
/// filter keys, filter values, sort keys.
pub(crate) fn parse(e: EntityId, pairs: &[(String, String)]) -> Result<Query, ApiError> {
    let c = catalog();
    let fields = parse_fields(e, pairs)?;
    // Group filter values by key, in first-seen order.
    let mut raw: Vec<RawFilter> = Vec::new();
    for (k, v) in pairs {
        if k == "filter{}" || !k.starts_with("filter{") {
            continue;
        }
        let inner = if let Some(s) = k.strip_suffix("}[]") {
            &s[7..]
        } else if let Some(s) = k.strip_suffix('}') {
            &s[7..]
        } else {
            return Err(ApiError::parse(format!(
                "\"{k}\" is not a well-formed filter key."
            )));
        };
        match raw.iter_mut().find(|r| r.key == inner) {
            Some(r) => r.values.push(v.clone()),
            None => raw.push(RawFilter {
                key: inner.to_string(),
                values: vec![v.clone()],
            }),
        }
    }
    // Keys.
    struct Resolved {
        key: String,
        path: Vec<Step>,
        op: Option<String>,
        values: Vec<String>,
        negate: bool,
    }
    let mut resolved = Vec::new();
    for r in raw {
        let (negate, spec) = match r.key.strip_prefix('-') {
            Some(s) => (true, s.to_string()),
            None => (false, r.key.clone()),
        };
        let mut parts: Vec<&str> = spec.split('.').collect();
        let mut op = None;
        if parts.len() > 1 && OPERATORS.contains(parts.last().unwrap_or(&"")) {
            op = parts.pop().map(str::to_string);
        }
        if op.as_deref() == Some("eq") {
            op = None;
        }
        let path = filter_path(e, &parts)?;
        resolved.push(Resolved {
            key: r.key,
            path,
            op,
            values: r.values,
            negate,
        });
    }
    // Lookups and values.
    let mut filters = Vec::new();
    for r in resolved {
        let step = *r.path.last().expect("paths have at least one step");
        let ent = c.get(step.entity);
        let (name, kind, lookups, id_kind): (&str, FieldKind, Vec<&str>, Option<IdKind>) =
            match step.field {
                None => (
                    "pk",
                    FieldKind::Uuid,
                    vec!["", "in", "isnull"],
                    Some(ent.id_kind),
                ),
                Some(fi) => {
                    let f = &ent.fields[fi];
                    let idk = if f.name == "id" {
                        Some(ent.id_kind)
                    } else {
                        f.related.map(|t| c.get(t).id_kind)
                    };
                    (&f.name, f.kind, f.lookups.clone(), idk)
                }
            };
        let op = r.op.as_deref().unwrap_or("");
        if !lookups.contains(&op) {
            let shown = if op.is_empty() { "exact" } else { op };
            return Err(ApiError::list(vec![format!(
                "Unsupported lookup '{shown}' for field '{name}'."
            )]));
        }
        let first = r.values.first().cloned().unwrap_or_default();
        let conv = |s: &str| convert(kind, id_kind, s).map_err(|m| ApiError::list(vec![m]));
        let text = |s: String| {
            if matches!(kind, FieldKind::Uuid) || id_kind.is_some() {
                s.to_lowercase()
            } else {
                s
            }
        };
        let mut operand = Val::Null;
        let pred = match op {
            "" => Pred::Exact(conv(&first)?),
            "iexact" => Pred::IExact(first.to_lowercase()),
            "contains" => Pred::Contains(text(first), false),
            "icontains" => Pred::Contains(first.to_lowercase(), true),
            "startswith" => Pred::StartsWith(text(first), false),
            "istartswith" => Pred::StartsWith(first.to_lowercase(), true),
            "endswith" => Pred::EndsWith(text(first), false),
            "iendswith" => Pred::EndsWith(first.to_lowercase(), true),
            "isnull" => Pred::IsNull(is_truthy(&first)),
            "in" => Pred::In(r.values.iter().map(|v| conv(v)).collect::<Result<_, _>>()?),
            "gt" | "gte" | "lt" | "lte" => {
                operand = conv(&first)?;
                match op {
                    "gt" => Pred::Cmp(Ordering::Greater, false),
                    "gte" => Pred::Cmp(Ordering::Greater, true),
                    "lt" => Pred::Cmp(Ordering::Less, false),
                    _ => Pred::Cmp(Ordering::Less, true),
                }
            }
            "range" => {
                let [a, b] = r.values.get(..2).unwrap_or_default() else {
                    return Err(ApiError::list(vec![
                        "A range filter needs two values: repeat the key (filter{field.range}=low&filter{field.range}=high).".to_string(),
                    ]));
                };
                Pred::Range(conv(a)?, conv(b)?)
            }
            "regex" => Pred::Regex(regex(&first)?),
            "year" | "month" | "day" => {
                let n = convert(FieldKind::Integer, None, &first)
                    .map_err(|m| ApiError::list(vec![m]))?;
                let Val::Int(n) = n else {
                    unreachable!("integers convert to Int")
                };
                let part: fn(&Val) -> Option<i64> = match op {
                    "year" => |v| date_of(v).map(|d| i64::from(chrono::Datelike::year(&d))),
                    "month" => |v| date_of(v).map(|d| i64::from(chrono::Datelike::month(&d))),
                    _ => |v| date_of(v).map(|d| i64::from(chrono::Datelike::day(&d))),
                };
                Pred::Part(part, n)
            }
            other => {
                return Err(ApiError::list(vec![format!(
                    "Unsupported lookup '{other}' for field '{name}'."
                )]));
            }
        };
        filters.push(Filter {
            key: r.key,
            path: r.path,
            pred,
            operand,
            negate: r.negate,
        });
    }
    // Sorting.
    let mut sort = Vec::new();
    let mut invalid = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "sort[]") {
        let term = v.trim();
        let stripped = term.trim_start_matches('-');
        let descending = stripped.len() != term.len();
        match sort_path(e, stripped) {
            Some(path) => sort.push(Sort {
                term: term.to_string(),
                path,
                descending,
            }),
            None => invalid.push(term.to_string()),
        }
    }
    if !invalid.is_empty() {
        let list: Vec<String> = invalid.iter().map(|s| py_repr(s)).collect();
        return Err(ApiError::list(vec![format!(
            "Invalid filter field: [{}]",
            list.join(", ")
        )]));
    }
    Ok(Query {
        filters,
        sort,
        fields,
    })
}

fn date_of(v: &Val) -> Option<NaiveDate> {
    match v {
        Val::Date(d) => Some(*d),
        Val::Time(t) => Some(t.date_naive()),
        _ => None,
    }
}

fn sort_path(e: EntityId, term: &str) -> Option<Vec<Step>> {
    let c = catalog();
    let parts: Vec<&str> = term.split('.').collect();
    let mut cur = e;
    let mut out = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let (fi, f) = c.get(cur).field(part)?;
        out.push(Step {
            entity: cur,
            field: Some(fi),
        });
        if i + 1 == parts.len() {
            return f.sortable.then_some(out);
        }
        if f.many {
            return None;
        }
        cur = f.related?;
    }
    None
}

/// The typed values at the end of a path, starting from a record.
///
/// The path is walked one relation step at a time, each step reaching
/// every record the previous step's records name, each record once per
/// step (a set of ids per step): `projects.sessions.projects.sessions`
/// then costs at most the records of each step, not the product of the
/// fan-outs. Every record reached costs one visit of the budget. Values
/// come in the order of a depth-first walk for to-one paths (sort keys);
/// for paths through lists only whether some value passes matters.
fn values_at(
    store: &Store,
    path: &[Step],
    id: &str,
    value: &Map<String, Value>,
    out: &mut Vec<Val>,
    budget: &Budget,
) -> Result<(), Exhausted> {
    let c = catalog();
    let Some((last, hops)) = path.split_last() else {
        return Ok(());
    };
    let mut frontier: Vec<(&str, &Map<String, Value>)> = vec![(id, value)];
    for (i, step) in hops.iter().enumerate() {
        let Some(f) = step.field.map(|fi| &c.get(step.entity).fields[fi]) else {
            return Ok(());
        };
        let Some(t) = f.related else { return Ok(()) };
        if i >= MAX_HOPS {
            return Ok(());
        }
        let mut seen: HashSet<String> = HashSet::new();
        let mut next = Vec::new();
        for (_, v) in &frontier {
            for rid in refs(v, &f.name) {
                if seen.contains(&rid) {
                    continue;
                }
                budget.spend(1)?;
                if let Some(r) = store.get(t, &rid) {
                    next.push((r.id.as_str(), &r.value));
                }
                seen.insert(rid);
            }
        }
        if next.is_empty() {
            return Ok(());
        }
        frontier = next;
    }
    let ent = c.get(last.entity);
    let Some(fi) = last.field else {
        for (id, _) in frontier {
            out.push(match ent.id_kind {
                IdKind::Integer => id.parse().map(Val::Int).unwrap_or(Val::Str(id.to_string())),
                IdKind::Uuid => Val::Str(id.to_string()),
            });
        }
        return Ok(());
    };
    let f = &ent.fields[fi];
    let idk = if f.name == "id" {
        Some(ent.id_kind)
    } else {
        f.related.map(|t| c.get(t).id_kind)
    };
    for (_, value) in frontier {
        match value.get(&f.name) {
            Some(Value::Array(a)) if f.many => out.extend(a.iter().map(|v| stored(f.kind, idk, v))),
            Some(v) => out.push(stored(f.kind, idk, v)),
            None => out.push(Val::Null),
        }
    }
    Ok(())
}

/// Compile the pattern of a `regex` filter with the `regex` crate: no
/// backtracking (matching is linear in the text), and a pattern whose
/// compiled form would exceed [`REGEX_SIZE_LIMIT`] is refused (400), as is
/// one that does not parse.
pub(crate) fn regex(pattern: &str) -> Result<regex::Regex, ApiError> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_LIMIT)
        .build()
        .map_err(|e| {
            ApiError::list(vec![match e {
                regex::Error::CompiledTooBig(n) => format!(
                    "The regular expression is too big (its compiled form would exceed {n} bytes); simplify it."
                ),
                other => format!("Invalid regular expression: {other}"),
            }])
        })
}

fn as_text(v: &Val) -> Option<String> {
    match v {
        Val::Str(s) => Some(s.clone()),
        Val::Null => None,
        Val::Int(i) => Some(i.to_string()),
        Val::Num(n) => Some(n.to_string()),
        Val::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
        Val::Date(d) => Some(d.format("%Y-%m-%d").to_string()),
        Val::Time(t) => Some(t.to_rfc3339()),
    }
}

fn eq(a: &Val, b: &Val) -> bool {
    a.cmp(b) == Some(Ordering::Equal)
}

fn test(pred: &Pred, operand: &Val, v: &Val) -> bool {
    if let Val::Null = v {
        return matches!(pred, Pred::IsNull(true));
    }
    match pred {
        Pred::Exact(x) => eq(v, x),
        Pred::IExact(x) => as_text(v).is_some_and(|s| s.to_lowercase() == *x),
        Pred::Contains(x, ci) => as_text(v).is_some_and(|s| {
            if *ci {
                s.to_lowercase().contains(x.as_str())
            } else {
                s.contains(x.as_str())
            }
        }),
        Pred::StartsWith(x, ci) => as_text(v).is_some_and(|s| {
            if *ci {
                s.to_lowercase().starts_with(x.as_str())
            } else {
                s.starts_with(x.as_str())
            }
        }),
        Pred::EndsWith(x, ci) => as_text(v).is_some_and(|s| {
            if *ci {
                s.to_lowercase().ends_with(x.as_str())
            } else {
                s.ends_with(x.as_str())
            }
        }),
        Pred::In(xs) => xs.iter().any(|x| eq(v, x)),
        Pred::IsNull(b) => !*b,
        Pred::Cmp(ord, or_equal) => match v.cmp(operand) {
            Some(o) => o == *ord || (*or_equal && o == Ordering::Equal),
            None => false,
        },
        Pred::Range(lo, hi) => {
            matches!(v.cmp(lo), Some(Ordering::Greater | Ordering::Equal))
                && matches!(v.cmp(hi), Some(Ordering::Less | Ordering::Equal))
        }
        Pred::Regex(re) => as_text(v).is_some_and(|s| re.is_match(&s)),
        Pred::Part(f, n) => f(v) == Some(*n),
    }
}

/// Whether a record passes one filter (`Err` when the budget ran out).
pub(crate) fn passes(
    store: &Store,
    f: &Filter,
    id: &str,
    value: &Map<String, Value>,
    budget: &Budget,
) -> Result<bool, Exhausted> {
    let mut vals = Vec::new();
    values_at(store, &f.path, id, value, &mut vals, budget)?;
    let last = f.path.last().and_then(|s| s.field.map(|fi| (s.entity, fi)));
    let many_last = last.is_some_and(|(e, fi)| catalog().get(e).fields[fi].many);
    let hit = match &f.pred {
        Pred::IsNull(true) if many_last || f.path.len() > 1 => {
            vals.is_empty() || vals.iter().all(|v| matches!(v, Val::Null))
        }
        Pred::IsNull(false) if many_last || f.path.len() > 1 => {
            vals.iter().any(|v| !matches!(v, Val::Null))
        }
        p => vals.iter().any(|v| test(p, &f.operand, v)),
    };
    Ok(hit != f.negate)
}

/// The sort key of a record (`Err` when the budget ran out).
pub(crate) fn sort_key(
    store: &Store,
    s: &Sort,
    id: &str,
    value: &Map<String, Value>,
    budget: &Budget,
) -> Result<Val, Exhausted> {
    let mut vals = Vec::new();
    values_at(store, &s.path, id, value, &mut vals, budget)?;
    Ok(vals.into_iter().next().unwrap_or(Val::Null))
}

/// Compare sort keys (nulls last ascending, first descending, as PostgreSQL).
pub(crate) fn compare(a: &Val, b: &Val, descending: bool) -> Ordering {
    let o = match (a, b) {
        (Val::Null, Val::Null) => Ordering::Equal,
        (Val::Null, _) => Ordering::Greater,
        (_, Val::Null) => Ordering::Less,
        _ => a.cmp(b).unwrap_or(Ordering::Equal),
    };
    if descending { o.reverse() } else { o }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(e: &str, s: &str) -> Result<Query, ApiError> {
        let c = catalog();
        parse(c.by_key(e).expect("entity"), &parse_pairs(Some(s)))
    }

    #[test]
    fn pairs_decode_like_django() {
        assert_eq!(
            parse_pairs(Some("filter%7Bname.icontains%7D=a+b&sort%5B%5D=-name&x")),
            vec![
                ("filter{name.icontains}".to_string(), "a b".to_string()),
                ("sort[]".to_string(), "-name".to_string()),
                ("x".to_string(), String::new()),
            ]
        );
    }

    #[test]
    fn pairs_keep_their_edges() {
        let pairs = |s: &str| -> Vec<(String, String)> { parse_pairs(Some(s)) };
        let p = |k: &str, v: &str| (k.to_string(), v.to_string());
        // `+` is a space but an escaped `+` is a plus; escapes in keys too.
        assert_eq!(pairs("a%2Bb=c+d%20e"), vec![p("a+b", "c d e")]);
        // Repeated keys stay, in order, written raw or escaped.
        assert_eq!(
            pairs("include[]=a.*&include%5B%5D=b&filter{name.icontains}=x"),
            vec![
                p("include[]", "a.*"),
                p("include[]", "b"),
                p("filter{name.icontains}", "x")
            ]
        );
        // Empty pieces are skipped; the first `=` splits; an empty key stays.
        assert_eq!(pairs("&&a=1=2&=y&"), vec![p("a", "1=2"), p("", "y")]);
        // A broken escape stays as written; bytes that are not UTF-8 once
        // decoded become U+FFFD instead of failing.
        assert_eq!(
            pairs("%zz=%ff&b=%E2%82"),
            vec![p("%zz", "\u{fffd}"), p("b", "\u{fffd}")]
        );
        assert_eq!(parse_pairs(None), vec![]);
        assert_eq!(pairs(""), vec![]);
    }

    #[test]
    fn errors_match_dynamic_rest() {
        let body = |r: Result<Query, ApiError>| r.map(|_| ()).unwrap_err().body.to_string();
        assert_eq!(
            body(q("stem/session", "filter{bogus}=1")),
            r#"["Invalid filter field: bogus"]"#
        );
        assert_eq!(
            body(q("stem/session", "filter{name.bogus}=1")),
            r#"["Invalid nested filter field: name"]"#
        );
        assert_eq!(
            body(q("stem/session", "filter{id}=x")),
            r#"["“x” is not a valid UUID."]"#
        );
        assert_eq!(
            body(q("stem/session", "filter{name=x")),
            r#"{"detail":"\"filter{name\" is not a well-formed filter key."}"#
        );
        assert_eq!(
            body(q("stem/session", "include[]=bogus.*")),
            r#"{"detail":"\"bogus\" is not a valid field name for \"session\"."}"#
        );
        assert_eq!(
            body(q("stem/session", "sort[]=bogus&sort[]=-x")),
            r#"["Invalid filter field: ['bogus', '-x']"]"#
        );
    }

    #[test]
    fn predicates_the_spec_does_not_list_yet_still_work() {
        // regex and the date parts are dynamic-rest operators no field of the
        // current spec allows; the evaluator handles them for when one does.
        let re = Pred::Regex(regex("^ca[0-9]$").expect("regex"));
        assert!(test(&re, &Val::Null, &Val::Str("ca1".into())));
        assert!(!test(&re, &Val::Null, &Val::Str("ca12".into())));
        let d = Val::Date(NaiveDate::from_ymd_opt(2023, 4, 5).expect("date"));
        let year: fn(&Val) -> Option<i64> =
            |v| date_of(v).map(|d| i64::from(chrono::Datelike::year(&d)));
        assert!(test(&Pred::Part(year, 2023), &Val::Null, &d));
        assert!(!test(&Pred::Part(year, 2022), &Val::Null, &d));
        let gt = Pred::Cmp(Ordering::Greater, false);
        assert!(test(&gt, &Val::Int(3), &Val::Num(3.5)));
        assert!(!test(&gt, &Val::Int(3), &Val::Null), "null never compares");
        assert!(test(&Pred::IsNull(true), &Val::Null, &Val::Null));
        assert_eq!(
            compare(&Val::Null, &Val::Int(1), false),
            Ordering::Greater,
            "nulls last ascending"
        );
        assert_eq!(
            compare(&Val::Null, &Val::Int(1), true),
            Ordering::Less,
            "nulls first descending"
        );
    }

    #[test]
    fn regex_filters_do_not_backtrack_and_have_a_size_limit() {
        // `(a+)+$` against a long run of `a`s that ends in a mismatch is
        // exponential for a backtracking engine; here it is linear.
        let re = Pred::Regex(regex("(a+)+$").expect("compiles"));
        let long = Val::Str(format!("{}!", "a".repeat(200_000)));
        let start = std::time::Instant::now();
        for _ in 0..10 {
            assert!(!test(&re, &Val::Null, &long));
        }
        let took = start.elapsed();
        assert!(took.as_secs() < 2, "ten matches took {took:?}");
        assert!(test(&re, &Val::Null, &Val::Str("baaa".into())));
        // A pattern whose compiled form is huge is refused, as is one that
        // does not parse; both as dynamic-rest's list of messages.
        let big = regex(r"\w{1000}\w{1000}\w{1000}").map(|_| ()).unwrap_err();
        assert_eq!(big.status, 400);
        assert!(
            big.body[0].as_str().unwrap().contains("too big"),
            "{}",
            big.body
        );
        let bad = regex("(a").map(|_| ()).unwrap_err();
        assert_eq!(bad.status, 400);
        assert!(
            bad.body[0]
                .as_str()
                .unwrap()
                .starts_with("Invalid regular expression"),
            "{}",
            bad.body
        );
    }

    #[test]
    fn deep_includes_are_refused_not_recursed() {
        let deep = vec!["projects.sessions"; 20_000].join(".");
        let r = q("stem/session", &format!("include[]={deep}"));
        assert_eq!(r.map(|_| ()).unwrap_err().status, 400);
        let r = q("stem/session", "include[]=projects.sessions.projects.*");
        assert!(r.is_ok());
    }
}
