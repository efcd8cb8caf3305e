//! Log entries of records that keep a history (procedure and subject
//! logs): `add_entry`, `change_entry` and `remove_entry`, the body checked
//! against the action's schema and the typed details, entries found by
//! their key timestamp compared as an instant.

use axum::body::Body;
use axum::http::{Response, StatusCode};
use serde_json::{Map, Value};

use super::access::{self, Principal, Viewer};
use super::catalog::{EntityId, OpKind, catalog};
use super::clean::field_errors;
use super::read::find_visible;
use super::reply::{ApiError, json_response, one_json};
use super::request::Req;
use super::state::Shared;
use brainstem::schema::{component, details_schema};
use brainstem::validate::{Mode, check_component};

/// Key fields of log entries: the properties of the remove_entry body.
fn entry_keys(e: EntityId) -> Vec<String> {
    let c = catalog();
    c.get(e)
        .ops
        .iter()
        .find(|o| o.kind == OpKind::Action("remove_entry".into()))
        .and_then(|o| o.body)
        .and_then(component)
        .map(|c| {
            c.schema
                .properties
                .iter()
                .map(|p| p.name.to_string())
                .collect()
        })
        .unwrap_or_else(|| vec!["date_time".to_string()])
}

/// Whether two timestamps are the same instant (text compared when either
/// does not parse).
fn same_instant(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => match (
            chrono::DateTime::parse_from_rfc3339(x),
            chrono::DateTime::parse_from_rfc3339(y),
        ) {
            (Ok(p), Ok(q)) => p == q,
            _ => x == y,
        },
        _ => false,
    }
}

#[allow(clippy::too_many_arguments)]
/// `add_entry` / `change_entry` / `remove_entry` on a log record.
pub(crate) fn log_entry(
    st: &Shared,
    req: &Req<'_>,
    e: EntityId,
    name: &str,
    body_schema: Option<&str>,
    raw: &str,
    v: &Viewer,
    p: &Principal,
) -> Result<Response<Body>, ApiError> {
    let c = catalog();
    let ent = c.get(e);
    let body = req.json()?;
    let mut store = st.write();
    let rec = find_visible(&store, e, raw, v)?;
    let anchor = access::anchor(&store, e, &rec);
    if !access::may_change(&store, e, &anchor, p, false) {
        return Err(ApiError::forbidden());
    }
    let Some(obj) = body.as_object() else {
        return Err(ApiError::field(
            "non_field_errors",
            "Invalid data. Expected a dictionary.",
        ));
    };
    if let Some(schema) = body_schema
        && let Err(err) = check_component(schema, &body, "", Mode::Server)
    {
        return Err(ApiError::fields(field_errors(ent, &err)));
    }
    let Some((_, entries_field)) = ent.field("entries") else {
        return Err(ApiError::not_found());
    };
    // Typed details: the group named on the entry schema, selected by the
    // record's field that $refs that group's type list.
    if let Some(details) = obj.get("details")
        && !details.is_null()
    {
        let group = body_schema
            .and_then(component)
            .and_then(|c| c.schema.property("details"))
            .and_then(|d| d.details_group);
        let tag = group.and_then(|g| ent.selector(g, &rec.value));
        if let (Some(g), Some(t)) = (group, tag)
            && let Some(ds) = details_schema(g, &t)
            && let Err(err) = check_component(ds.name, details, "details", Mode::Server)
        {
            return Err(ApiError::fields(field_errors(ent, &err)));
        }
    }
    let keys = entry_keys(e);
    let key = keys
        .iter()
        .find(|k| obj.get(*k).is_some_and(|x| !x.is_null()))
        .cloned();
    let Some(key) = key else {
        let k = keys.first().cloned().unwrap_or_else(|| "date_time".into());
        return Err(ApiError::field(&k, "This field is required."));
    };
    let key_val = obj.get(&key).cloned().unwrap_or(Value::Null);
    let mut entries: Vec<Value> = rec
        .value
        .get(&entries_field.name)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let pos = entries
        .iter()
        .position(|en| en.get(&key).is_some_and(|x| same_instant(x, &key_val)));
    let shown = key_val.as_str().unwrap_or_default().to_string();
    match (name, pos) {
        ("add_entry", Some(_)) => {
            return Err(ApiError::parse(format!(
                "An entry with {key} {shown} already exists."
            )));
        }
        ("add_entry", None) => {
            let mut en = Map::new();
            for (k, x) in obj {
                if keys.contains(k) || k.ends_with("date_time") {
                    en.insert(k.clone(), x.clone());
                }
            }
            en.insert(
                "notes".into(),
                obj.get("notes").cloned().unwrap_or(Value::Null),
            );
            en.insert(
                "details".into(),
                obj.get("details")
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Map::new())),
            );
            entries.push(Value::Object(en));
        }
        (_, None) => {
            return Err(ApiError::parse(format!("No entry with {key} {shown}.")));
        }
        ("change_entry", Some(i)) => {
            if let Some(Value::Object(en)) = entries.get_mut(i) {
                for (k, x) in obj {
                    if k != &key {
                        en.insert(k.clone(), x.clone());
                    }
                }
            }
        }
        (_, Some(i)) => {
            entries.remove(i);
        }
    }
    let mut nv = rec.value.clone();
    nv.insert(entries_field.name.clone(), Value::Array(entries));
    let rec = store
        .replace(e, &rec.id, nv)
        .ok_or_else(ApiError::not_found)?;
    Ok(json_response(StatusCode::OK, one_json(&ent.one, &rec.json)))
}
