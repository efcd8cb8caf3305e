//! Checking a write body the way DRF and dynamic-rest do (its shape, the
//! spec's rules through [`brainstem::validate`], relations that must name
//! existing records, unique fields) with DRF's field-error bodies, and
//! building a new record from the checked fields.

use serde_json::{Map, Value, json};

use super::catalog::{Entity, EntityId, catalog};
use super::reply::ApiError;
use super::store::{Rec, Store, id_value, ref_key};
use brainstem::meta::FieldKind;
use brainstem::validate::{Mode, Shape, check_body};

/// DRF-style field errors from the validator's findings.
pub(crate) fn field_errors(ent: &Entity, err: &brainstem::InvalidInput) -> Map<String, Value> {
    let mut out = Map::new();
    for fe in &err.errors {
        let (top, rest) = match fe.path.find(['.', '[']) {
            Some(i) => (&fe.path[..i], fe.path[i..].trim_start_matches('.')),
            None => (fe.path.as_str(), ""),
        };
        let key = if top.is_empty() {
            "non_field_errors"
        } else {
            top
        };
        let relation = ent.field(top).is_some_and(|(_, f)| f.related.is_some());
        let msg = if rest.is_empty() || relation {
            fe.message.clone()
        } else {
            format!("{rest}: {}", fe.message)
        };
        if let Value::Array(a) = out
            .entry(key.to_string())
            .or_insert_with(|| Value::Array(vec![]))
            && !a.iter().any(|x| x.as_str() == Some(&msg))
        {
            a.push(Value::String(msg));
        }
    }
    out
}

fn add_error(map: &mut Map<String, Value>, key: &str, msg: String) {
    if let Value::Array(a) = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Array(vec![]))
    {
        a.push(Value::String(msg));
    }
}

/// Check a body the way DRF and dynamic-rest do; returns the writable part,
/// with relation ids in canonical form.
pub(crate) fn clean_body(
    store: &Store,
    e: EntityId,
    body: &Value,
    shape: Shape,
    existing: Option<&Rec>,
) -> Result<Map<String, Value>, ApiError> {
    let c = catalog();
    let ent = c.get(e);
    let Some(obj) = body.as_object() else {
        let got = match body {
            Value::Array(_) => "list",
            Value::String(_) => "str",
            Value::Number(_) => "int",
            Value::Bool(_) => "bool",
            _ => "NoneType",
        };
        return Err(ApiError::fields(
            [(
                "non_field_errors".to_string(),
                json!([format!(
                    "Invalid data. Expected a dictionary, but got {got}."
                )]),
            )]
            .into_iter()
            .collect(),
        ));
    };
    // dynamic-rest refuses a list relation given as a single value outright.
    for f in &ent.fields {
        if f.related.is_some()
            && f.many
            && !f.read_only
            && let Some(v) = obj.get(&f.name)
            && !v.is_array()
        {
            return Err(ApiError::parse(format!(
                "'{}' value must be a list",
                f.name
            )));
        }
    }
    let mut clean = Map::new();
    for f in &ent.fields {
        if f.read_only || (shape == Shape::Patch && f.create_only) {
            continue;
        }
        if let Some(v) = obj.get(&f.name) {
            clean.insert(f.name.clone(), v.clone());
        }
    }
    // Spec rules (required, types, lengths, enums, patterns, typed payloads).
    let meta = ent
        .meta
        .or_else(|| ent.approval_of.and_then(|b| c.get(b).meta));
    let mut errors = Map::new();
    if let Some(meta) = meta {
        let mut probe = clean.clone();
        if let Some(old) = existing {
            for (tag, content, _) in &ent.details {
                if probe.contains_key(content)
                    && !probe.contains_key(tag)
                    && let Some(t) = old.value.get(tag)
                {
                    probe.insert(tag.clone(), t.clone());
                }
            }
        }
        if let Err(err) = check_body(meta, shape, &Value::Object(probe), Mode::Server) {
            errors = field_errors(ent, &err);
        }
    }
    // Relations must name existing records.
    for f in &ent.fields {
        let (Some(t), Some(v)) = (f.related, clean.get(&f.name)) else {
            continue;
        };
        if errors.contains_key(&f.name) {
            continue;
        }
        let target = c.get(t);
        let items: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            Value::Null => vec![],
            x => vec![x],
        };
        let mut normal = Vec::new();
        for item in items {
            let key = ref_key(item).unwrap_or_default();
            if store.get(t, &key).is_none() {
                let shown = match item {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                add_error(
                    &mut errors,
                    &f.name,
                    format!(
                        "Invalid value for '{}': {} object with ID={} not found",
                        f.name, target.class, shown
                    ),
                );
                break;
            }
            normal.push(id_value(target.id_kind, &key));
        }
        if !errors.contains_key(&f.name) {
            let nv = if v.is_array() {
                Value::Array(normal)
            } else if v.is_null() {
                Value::Null
            } else {
                normal.pop().unwrap_or(Value::Null)
            };
            clean.insert(f.name.clone(), nv);
        }
    }
    // Unique fields.
    let base = ent.approval_of.unwrap_or(e);
    let except = existing.map(|r| r.id.clone()).or_else(|| {
        existing
            .and_then(|r| r.value.get("instance_id"))
            .and_then(ref_key)
    });
    for &ui in &c.get(base).unique {
        let name = &c.get(base).fields[ui].name;
        if errors.contains_key(name) {
            continue;
        }
        if let Some(v) = clean.get(name)
            && store.taken(base, name, v, except.as_deref())
        {
            add_error(
                &mut errors,
                name,
                format!(
                    "{} with this {} already exists.",
                    c.get(base).verbose(),
                    name.replace('_', " ")
                ),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::fields(errors));
    }
    Ok(clean)
}

/// 400 naming the first unique field whose value another record of `e`
/// (other than `except`) already has.
pub(crate) fn check_unique(
    store: &Store,
    e: EntityId,
    fields: &Map<String, Value>,
    except: Option<&str>,
) -> Result<(), ApiError> {
    let c = catalog();
    let ent = c.get(e);
    for &ui in &ent.unique {
        let name = &ent.fields[ui].name;
        if let Some(v) = fields.get(name)
            && store.taken(e, name, v, except)
        {
            return Err(ApiError::field(
                name,
                format!(
                    "{} with this {} already exists.",
                    ent.verbose(),
                    name.replace('_', " ")
                ),
            ));
        }
    }
    Ok(())
}

/// A new record: the body's fields plus defaults, in spec order.
pub(crate) fn build_record(
    ent: &Entity,
    clean: &Map<String, Value>,
    now: &str,
) -> Map<String, Value> {
    let mut v = Map::new();
    for f in &ent.fields {
        if f.name == "id" {
            v.insert("id".into(), Value::Null);
            continue;
        }
        if let Some(x) = clean.get(&f.name) {
            v.insert(f.name.clone(), x.clone());
        } else if f.read_only && f.kind == FieldKind::DateTime && !f.many {
            v.insert(f.name.clone(), Value::String(now.to_string()));
        } else if f.response_required || f.reverse.is_some() {
            v.insert(f.name.clone(), f.default.clone().unwrap_or(Value::Null));
        }
    }
    v
}

/// Now, as the server writes timestamps (RFC 3339, microseconds, `Z`).
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
