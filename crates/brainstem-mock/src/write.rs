//! Writing records: create, update (`PUT` and `PATCH`, member maps
//! merged), destroy, the placement checks a new or changed record must
//! pass, and the answer to a successful write in the dialect's shape.
//! Writes to approval-gated models file a proposal instead (`approval.rs`).

use std::collections::HashSet;

use axum::body::Body;
use axum::http::{Response, StatusCode};
use serde_json::{Map, Value};

use super::access::{self, Principal, Viewer};
use super::approval::proposal;
use super::catalog::{EntityId, Scope, catalog};
use super::clean::{build_record, clean_body, now};
use super::query::Fields;
use super::read::find_visible;
use super::render::{self, Renderer};
use super::reply::{ApiError, json_response, no_content, one_json};
use super::request::Req;
use super::state::Shared;
use super::store::{Rec, Store, refs};
use brainstem::validate::Shape;

/// The answer to a successful write: the record under `key`, in the
/// dialect's shape (every field, as dynamic-rest answers writes), or
/// undecodable when the dialect says so.
fn write_answer(
    st: &Shared,
    store: &Store,
    e: EntityId,
    rec: &Rec,
    v: &Viewer,
    status: StatusCode,
) -> Response<Body> {
    let d = st.dialect();
    let key = &catalog().get(e).one;
    let mut r = Renderer::new(store, v, &d, e, false);
    let body = if d.dialect.undecodable_writes {
        let m = render::undecodable(r.primary_value(e, rec));
        one_json(key, &r.text(&m))
    } else {
        one_json(key, &r.primary(e, rec, &Fields::default()))
    };
    json_response(status, body)
}

/// Checks a principal must pass to place a new or changed record.
fn check_placement(
    store: &Store,
    e: EntityId,
    value: &Map<String, Value>,
    old: Option<&Map<String, Value>>,
    p: &Principal,
) -> Result<(), ApiError> {
    let c = catalog();
    let ent = c.get(e);
    match &ent.scope {
        Scope::Projects(fields) => {
            let before: HashSet<String> = old
                .map(|o| {
                    fields
                        .iter()
                        .flat_map(|&f| refs(o, &ent.fields[f].name))
                        .collect()
                })
                .unwrap_or_default();
            let added: Vec<String> = fields
                .iter()
                .flat_map(|&f| refs(value, &ent.fields[f].name))
                .filter(|x| !before.contains(x))
                .collect();
            if !access::may_use_projects(store, &added, p) {
                return Err(ApiError::forbidden());
            }
        }
        Scope::Parent(f) => {
            let name = &ent.fields[*f].name;
            let changed = old.is_none_or(|o| refs(o, name) != refs(value, name));
            if changed {
                let a = access::anchor_of(store, e, "", value, Some(p.user), 0);
                if !access::may_change(store, e, &a, p, false) {
                    return Err(ApiError::forbidden());
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// `POST /`: a new record, or a proposal for an approval-gated model.
pub(crate) fn create(
    st: &Shared,
    req: &Req<'_>,
    e: EntityId,
    v: &Viewer,
) -> Result<Response<Body>, ApiError> {
    let c = catalog();
    let ent = c.get(e);
    let p = v.principal.as_ref().ok_or_else(ApiError::no_credentials)?;
    let body = req.json()?;
    let mut store = st.write();
    let clean = clean_body(&store, e, &body, Shape::Create, None)?;
    let mut value = build_record(ent, &clean, &now());
    check_placement(&store, e, &value, None, p)?;
    if ent.scope == Scope::Root {
        for f in &ent.fields {
            if let Some(m) = &f.membership {
                let mut map = Map::new();
                if m.by_user {
                    let flags: Map<String, Value> = m
                        .flags
                        .iter()
                        .map(|k| (k.clone(), Value::Bool(true)))
                        .collect();
                    map.insert(p.email.clone(), Value::Object(flags));
                }
                value.insert(f.name.clone(), Value::Object(map));
            }
        }
    }
    if let Some(q) = ent.approval
        && !st.settings.auto_approve
    {
        let proposal = proposal(q, &clean, None, "Add");
        let rec = store.insert(q, proposal, Some(p.user));
        return Ok(write_answer(st, &store, q, &rec, v, StatusCode::CREATED));
    }
    let rec = store.insert(e, value, Some(p.user));
    Ok(write_answer(st, &store, e, &rec, v, StatusCode::CREATED))
}

/// A member map after a write: entries with `"remove": true` leave, the
/// others are set to the given flags.
fn merge_membership(old: Option<&Value>, patch: &Value, flags: &[String]) -> Value {
    let mut map = old.and_then(Value::as_object).cloned().unwrap_or_default();
    if let Some(p) = patch.as_object() {
        for (member, change) in p {
            if change.get("remove").and_then(Value::as_bool) == Some(true) {
                map.remove(member);
                continue;
            }
            let entry: Map<String, Value> = flags
                .iter()
                .map(|k| {
                    (
                        k.clone(),
                        Value::Bool(change.get(k).and_then(Value::as_bool).unwrap_or(false)),
                    )
                })
                .collect();
            map.insert(member.clone(), Value::Object(entry));
        }
    }
    Value::Object(map)
}

/// `PUT` / `PATCH /{id}/` (`partial`): the changed record, or a proposal
/// for an approval-gated model.
pub(crate) fn update(
    st: &Shared,
    req: &Req<'_>,
    e: EntityId,
    raw: &str,
    v: &Viewer,
    partial: bool,
) -> Result<Response<Body>, ApiError> {
    let c = catalog();
    let ent = c.get(e);
    let p = v.principal.as_ref().ok_or_else(ApiError::no_credentials)?;
    let body = req.json()?;
    let mut store = st.write();
    let old = find_visible(&store, e, raw, v)?;
    let anchor = access::anchor(&store, e, &old);
    if !access::may_change(&store, e, &anchor, p, false) {
        return Err(ApiError::forbidden());
    }
    if ent.scope == Scope::Root
        && body.as_object().is_some_and(|o| {
            ent.fields
                .iter()
                .any(|f| f.membership.is_some() && o.contains_key(&f.name))
        })
        && !access::manages_project(&store, &old.id, p)
    {
        return Err(ApiError::forbidden());
    }
    let shape = if partial { Shape::Patch } else { Shape::Create };
    let clean = clean_body(&store, e, &body, shape, Some(&old))?;
    let mut value = old.value.clone();
    for (k, x) in &clean {
        let membership = ent.field(k).and_then(|(_, f)| f.membership.clone());
        match membership {
            Some(m) => {
                value.insert(k.clone(), merge_membership(old.value.get(k), x, &m.flags));
            }
            None => {
                value.insert(k.clone(), x.clone());
            }
        }
    }
    check_placement(&store, e, &value, Some(&old.value), p)?;
    if let Some(q) = ent.approval
        && !st.settings.auto_approve
    {
        let fields: Map<String, Value> = value
            .iter()
            .filter(|(k, _)| {
                clean.contains_key(*k) || ent.field(k).is_some_and(|(_, f)| !f.read_only)
            })
            .map(|(k, x)| (k.clone(), x.clone()))
            .collect();
        let proposal = proposal(q, &fields, Some(&old.id), "Change");
        let rec = store.insert(q, proposal, Some(p.user));
        return Ok(write_answer(st, &store, q, &rec, v, StatusCode::OK));
    }
    let rec = store
        .replace(e, &old.id, value)
        .ok_or_else(ApiError::not_found)?;
    Ok(write_answer(st, &store, e, &rec, v, StatusCode::OK))
}

/// `DELETE /{id}/`: 204, with what depends on the record deleted too.
pub(crate) fn destroy(
    st: &Shared,
    e: EntityId,
    raw: &str,
    v: &Viewer,
) -> Result<Response<Body>, ApiError> {
    let p = v.principal.as_ref().ok_or_else(ApiError::no_credentials)?;
    let mut store = st.write();
    let old = find_visible(&store, e, raw, v)?;
    let anchor = access::anchor(&store, e, &old);
    if !access::may_change(&store, e, &anchor, p, true) {
        return Err(ApiError::forbidden());
    }
    store.delete(e, &old.id);
    Ok(no_content())
}
