//! Members of projects and groups: resolving an invitation or membership
//! request (`accept` adds the member with the flags the invitation grants;
//! `reject` and `cancel` only delete it), and `join` / `leave` on a group.

use axum::body::Body;
use axum::http::{Response, StatusCode};
use serde_json::{Map, Value, json};

use super::access::{self, Principal, Viewer};
use super::catalog::{Catalog, EntityId, GRANTS, catalog};
use super::read::find_visible;
use super::reply::{ApiError, body_bytes, json_response};
use super::state::Shared;
use super::store::{Store, refs};

/// The record an invitation or request is about (a project or a group):
/// the first to-one relation to an entity with a member map.
fn membership_target(
    c: &Catalog,
    e: EntityId,
    value: &Map<String, Value>,
) -> Option<(EntityId, String)> {
    c.get(e).fields.iter().find_map(|f| {
        let t = f.related?;
        if f.many || !c.get(t).fields.iter().any(|g| g.membership.is_some()) || Some(t) == c.user {
            return None;
        }
        if Some(t) == c.group
            && c.get(e)
                .fields
                .iter()
                .any(|g| g.related == c.root && g.related.is_some() && !g.many)
        {
            // A project invitation naming a group invitee: the project is the target.
            return None;
        }
        refs(value, &f.name).into_iter().next().map(|id| (t, id))
    })
}

/// The member an invitation or request names: (is a user, key in the map).
fn membership_member(
    c: &Catalog,
    store: &Store,
    e: EntityId,
    value: &Map<String, Value>,
    target: EntityId,
) -> Option<(bool, String)> {
    c.get(e).fields.iter().find_map(|f| {
        let t = f.related?;
        if f.many || t == target {
            return None;
        }
        let id = refs(value, &f.name).into_iter().next()?;
        let rec = store.get(t, &id)?;
        if Some(t) == c.user {
            rec.value
                .get("email")
                .and_then(Value::as_str)
                .map(|s| (true, s.to_string()))
        } else if Some(t) == c.group {
            rec.value
                .get("name")
                .and_then(Value::as_str)
                .map(|s| (false, s.to_string()))
        } else {
            None
        }
    })
}

/// `accept` / `reject` / `cancel` on an invitation or membership request
/// (by whom it names, a manager of its project or group, or an admin); the
/// invitation is deleted, and `accept` adds the member first.
pub(crate) fn resolve_invitation(
    st: &Shared,
    e: EntityId,
    name: &str,
    raw: &str,
    v: &Viewer,
    p: &Principal,
) -> Result<Response<Body>, ApiError> {
    let c = catalog();
    let ent = c.get(e);
    let mut store = st.write();
    let rec = find_visible(&store, e, raw, v)?;
    let target = membership_target(c, e, &rec.value);
    let manages = target.as_ref().is_some_and(|(t, id)| {
        store
            .get(*t, id)
            .is_some_and(|r| access::rights_in(c, *t, &r.value, p).is_manager)
    });
    let addressed =
        access::names_user(c, e, &rec.value, p) || access::names_group(c, &store, e, &rec.value, p);
    let allowed = p.admin
        || match name {
            "cancel" => manages || addressed,
            _ => addressed || manages,
        };
    if !allowed {
        return Err(ApiError::forbidden());
    }
    if name == "accept"
        && let Some((t, tid)) = target
        && let Some((is_user, key)) = membership_member(c, &store, e, &rec.value, t)
        && let Some(trec) = store.get(t, &tid).cloned()
        && let Some(map_field) = c
            .get(t)
            .fields
            .iter()
            .find(|f| f.membership.as_ref().is_some_and(|m| m.by_user == is_user))
    {
        let flags = map_field
            .membership
            .as_ref()
            .map(|m| m.flags.clone())
            .unwrap_or_default();
        let mut granted = Map::new();
        for fl in &flags {
            let on = GRANTS
                .iter()
                .filter(|(from, to)| to == fl && ent.field(from).is_some())
                .any(|(from, _)| rec.value.get(*from).and_then(Value::as_bool) == Some(true));
            granted.insert(fl.clone(), Value::Bool(on));
        }
        let mut nv = trec.value.clone();
        let mut map = nv
            .get(&map_field.name)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        map.insert(key, Value::Object(granted));
        nv.insert(map_field.name.clone(), Value::Object(map));
        store.replace(t, &tid, nv);
    }
    store.delete(e, &rec.id);
    let done = match name {
        "accept" => "accepted",
        "reject" => "rejected",
        _ => "cancelled",
    };
    Ok(json_response(
        StatusCode::OK,
        body_bytes(&json!({ "detail": format!("The {} was {done}.", ent.verbose()) })),
    ))
}

/// `join` / `leave` on a group: the caller enters (without flags) or leaves
/// its member map.
pub(crate) fn join_or_leave(
    st: &Shared,
    e: EntityId,
    join: bool,
    raw: &str,
    v: &Viewer,
    p: &Principal,
) -> Result<Response<Body>, ApiError> {
    let c = catalog();
    let ent = c.get(e);
    let mut store = st.write();
    let rec = find_visible(&store, e, raw, v)?;
    let Some(f) = ent
        .fields
        .iter()
        .find(|f| f.membership.as_ref().is_some_and(|m| m.by_user))
    else {
        return Err(ApiError::not_found());
    };
    let flags = f
        .membership
        .as_ref()
        .map(|m| m.flags.clone())
        .unwrap_or_default();
    let mut map = rec
        .value
        .get(&f.name)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let detail = if join {
        if map.contains_key(&p.email) {
            return Err(ApiError::parse(format!(
                "You are already a member of this {}.",
                ent.verbose()
            )));
        }
        map.insert(
            p.email.clone(),
            Value::Object(
                flags
                    .iter()
                    .map(|k| (k.clone(), Value::Bool(false)))
                    .collect(),
            ),
        );
        format!("You joined the {}.", ent.verbose())
    } else {
        if map.remove(&p.email).is_none() {
            return Err(ApiError::parse(format!(
                "You are not a member of this {}.",
                ent.verbose()
            )));
        }
        format!("You left the {}.", ent.verbose())
    };
    let mut nv = rec.value.clone();
    nv.insert(f.name.clone(), Value::Object(map));
    store.replace(e, &rec.id, nv);
    Ok(json_response(
        StatusCode::OK,
        body_bytes(&json!({ "detail": detail })),
    ))
}
