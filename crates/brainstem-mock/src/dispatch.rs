//! From a matched API route to the code that serves it: the operations the
//! spec gives the model on this portal for that route (none: 404), then
//! authentication and permissions before the method, as DRF checks them
//! (401 without a token on the private portal, 403 for a read-only token's
//! unsafe request), then the operation for the method (405 with `Allow`
//! naming the methods there are; `HEAD` is `GET`), then its handler.

use axum::body::Body;
use axum::http::{Method, Response};

use super::access::Viewer;
use super::catalog::{EntityId, Op, OpKind, catalog};
use super::reply::ApiError;
use super::request::Req;
use super::state::Shared;
use super::{approval, auth, history, membership, read, write};
use brainstem::Portal;

/// Which route an API path names.
pub(crate) enum Route {
    /// `/api/{portal}/{app}/{model}/`: list and create.
    Collection,
    /// `/api/{portal}/{app}/{model}/{id}/`: retrieve, update and destroy.
    Detail(String),
    /// `/api/{portal}/{app}/{model}/{id}/{sub}/`: an action or a relation
    /// route, by the name `sub`.
    Sub(String, String),
}

/// Serve an API route whose path names `portal`, `app` and `model`.
pub(crate) fn api(
    st: &Shared,
    req: &Req<'_>,
    portal: &str,
    app: &str,
    model: &str,
    route: Route,
) -> Result<Response<Body>, ApiError> {
    let portal: Portal = portal.parse().map_err(|_| ApiError::not_found())?;
    let c = catalog();
    let e = c.by_route(app, model).ok_or_else(ApiError::not_found)?;
    let ent = c.get(e);
    let ops: Vec<&Op> = ent
        .ops
        .iter()
        .filter(|o| match (&route, &o.kind) {
            (Route::Collection, OpKind::List | OpKind::Create) => true,
            (
                Route::Detail(_),
                OpKind::Retrieve | OpKind::Update | OpKind::PartialUpdate | OpKind::Destroy,
            ) => true,
            (Route::Sub(_, s), OpKind::Action(a)) => a == s,
            (Route::Sub(_, s), OpKind::Relation(fi)) => &ent.fields[*fi].name == s,
            _ => false,
        })
        .filter(|o| o.portals.contains(&portal))
        .collect();
    if ops.is_empty() {
        return Err(ApiError::not_found());
    }
    // Authentication and permissions come before method dispatch (DRF).
    let principal = {
        let store = st.read();
        auth::authenticate(&store, req.headers)?
    };
    if portal == Portal::Private && principal.is_none() {
        return Err(ApiError::no_credentials());
    }
    let method = if req.method == Method::HEAD {
        "GET"
    } else {
        req.method.as_str()
    };
    let safe = method == "GET" && !matches!(ops.first().map(|o| &o.kind), Some(OpKind::Action(_)));
    if let Some(p) = &principal
        && p.read_only
        && portal == Portal::Private
        && !safe
    {
        return Err(ApiError::forbidden());
    }
    let Some(op) = ops.iter().find(|o| o.method == method) else {
        let mut allow: Vec<&str> = ops.iter().map(|o| o.method).collect();
        allow.dedup();
        return Err(ApiError::method(req.method.as_str(), allow));
    };
    let viewer = Viewer { portal, principal };
    match (&op.kind, route) {
        (OpKind::List, Route::Collection) => read::list(st, req, e, &viewer, None),
        (OpKind::Create, Route::Collection) => write::create(st, req, e, &viewer),
        (OpKind::Retrieve, Route::Detail(id)) => read::retrieve(st, req, e, &id, &viewer),
        (OpKind::PartialUpdate, Route::Detail(id)) => write::update(st, req, e, &id, &viewer, true),
        (OpKind::Update, Route::Detail(id)) => write::update(st, req, e, &id, &viewer, false),
        (OpKind::Destroy, Route::Detail(id)) => write::destroy(st, e, &id, &viewer),
        (OpKind::Relation(fi), Route::Sub(id, _)) => read::relation(st, req, e, *fi, &id, &viewer),
        (OpKind::Action(a), Route::Sub(id, _)) => action(st, req, e, a, op.body, &id, &viewer),
        _ => Err(ApiError::not_found()),
    }
}

/// An action (`/{id}/{name}/`), by its name and whether the model is an
/// approval queue.
fn action(
    st: &Shared,
    req: &Req<'_>,
    e: EntityId,
    name: &str,
    body_schema: Option<&str>,
    raw: &str,
    v: &Viewer,
) -> Result<Response<Body>, ApiError> {
    let c = catalog();
    let ent = c.get(e);
    let p = v.principal.clone().ok_or_else(ApiError::no_credentials)?;
    match (ent.approval_of, name) {
        (Some(base), "accept" | "reject") => {
            approval::review(st, e, base, name == "accept", raw, v, &p)
        }
        (None, "accept" | "reject" | "cancel") => {
            membership::resolve_invitation(st, e, name, raw, v, &p)
        }
        (None, "join" | "leave") => membership::join_or_leave(st, e, name == "join", raw, v, &p),
        (None, "add_entry" | "change_entry" | "remove_entry") => {
            history::log_entry(st, req, e, name, body_schema, raw, v, &p)
        }
        _ => Err(ApiError::not_found()),
    }
}
