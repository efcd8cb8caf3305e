//! Approval queues: the proposal a write to an approval-gated model files
//! (a `<key>_approval` record with status `Pending`), and a reviewer's
//! `accept` (the proposed add or change is applied to the model) or
//! `reject`.

use axum::body::Body;
use axum::http::{Response, StatusCode};
use serde_json::{Map, Value};

use super::access::{Principal, Viewer};
use super::catalog::{EntityId, catalog};
use super::clean::{build_record, check_unique, now};
use super::read::find_visible;
use super::reply::{ApiError, json_response, one_json};
use super::state::Shared;
use super::store::ref_key;

/// The proposal record for queue `q`: the proposed `fields`, the record a
/// change is about (`instance_id`), the `action` (`Add` or `Change`), no
/// reviewer yet, status `Pending`.
pub(crate) fn proposal(
    q: EntityId,
    fields: &Map<String, Value>,
    instance: Option<&str>,
    action: &str,
) -> Map<String, Value> {
    let c = catalog();
    let qe = c.get(q);
    let mut v = Map::new();
    for f in &qe.fields {
        let val = match f.name.as_str() {
            "id" => Value::Null,
            "instance_id" => instance
                .map(|i| Value::String(i.to_string()))
                .unwrap_or(Value::Null),
            "action" => Value::String(action.to_string()),
            "reviewer" => Value::Null,
            "status" => Value::String("Pending".into()),
            name => match fields.get(name) {
                Some(x) => x.clone(),
                None if f.response_required => f.default.clone().unwrap_or(Value::Null),
                None => continue,
            },
        };
        v.insert(f.name.clone(), val);
    }
    v
}

/// `accept` / `reject` on a proposal of queue `q` for model `base`
/// (reviewers only; a proposal is reviewed once).
pub(crate) fn review(
    st: &Shared,
    q: EntityId,
    base: EntityId,
    accept: bool,
    raw: &str,
    v: &Viewer,
    p: &Principal,
) -> Result<Response<Body>, ApiError> {
    let c = catalog();
    let qe = c.get(q);
    let mut store = st.write();
    let prop = find_visible(&store, q, raw, v)?;
    if !p.admin {
        return Err(ApiError::forbidden());
    }
    if prop.value.get("status").and_then(Value::as_str) != Some("Pending") {
        return Err(ApiError::parse("This proposal has already been reviewed."));
    }
    let mut value = prop.value.clone();
    value.insert("reviewer".into(), Value::from(p.user));
    if !accept {
        value.insert("status".into(), Value::String("Rejected".into()));
        let rec = store
            .replace(q, &prop.id, value)
            .ok_or_else(ApiError::not_found)?;
        return Ok(json_response(StatusCode::OK, one_json(&qe.one, &rec.json)));
    }
    let be = c.get(base);
    let fields: Map<String, Value> = be
        .fields
        .iter()
        .filter(|f| !f.read_only)
        .filter_map(|f| prop.value.get(&f.name).map(|x| (f.name.clone(), x.clone())))
        .collect();
    let action = prop
        .value
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("Add");
    let instance = prop.value.get("instance_id").and_then(ref_key);
    match (action, instance) {
        ("Delete", Some(id)) => {
            store.delete(base, &id);
        }
        ("Change", Some(id)) => {
            let old = store.get(base, &id).cloned().ok_or_else(|| {
                ApiError::parse("The record this proposal changes no longer exists.")
            })?;
            check_unique(&store, base, &fields, Some(&id))?;
            let mut nv = old.value.clone();
            for (k, x) in fields {
                nv.insert(k, x);
            }
            store.replace(base, &id, nv);
        }
        _ => {
            check_unique(&store, base, &fields, None)?;
            let rec = build_record(be, &fields, &now());
            let made = store.insert(base, rec, prop.owner);
            value.insert("instance_id".into(), Value::String(made.id.clone()));
        }
    }
    value.insert("status".into(), Value::String("Accepted".into()));
    let rec = store
        .replace(q, &prop.id, value)
        .ok_or_else(ApiError::not_found)?;
    Ok(json_response(StatusCode::OK, one_json(&qe.one, &rec.json)))
}
