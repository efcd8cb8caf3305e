//! Request handling: routing, authentication, the CRUD operations, lists,
//! actions and approvals. One generic code path serves every model.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri, header};
use serde_json::{Map, Value, json};

use super::ListKnobs;
use super::access::{self, Principal, Viewer};
use super::catalog::{Catalog, EntityId, GRANTS, OpKind, Scope, catalog};
use super::device;
use super::dialect::{Pagination, Resolved};
use super::paging;
use super::query::{self, Fields, Node, Query};
use super::render::{self, Renderer};
use super::reply::{ApiError, body_bytes, json_response, no_content};
use super::store::{Rec, Store, id_value, ref_key, refs};
use brainstem::Portal;
use brainstem::meta::{FieldKind, IdKind};
use brainstem::query::encode_component;
use brainstem::schema::{component, details_schema};
use brainstem::validate::{Mode, Shape, check_body, check_component};

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub device_interval: u64,
    pub device_expires_in: u64,
    pub auto_approve: bool,
    pub default_user: i64,
}

type VisibleKey = (EntityId, Portal, Option<i64>);
type VisibleCache = HashMap<VisibleKey, (u64, Arc<Vec<Arc<Rec>>>)>;

/// Shared server state.
#[derive(Debug)]
pub(crate) struct Shared {
    pub store: RwLock<Store>,
    pub knobs: RwLock<ListKnobs>,
    pub dialect: RwLock<Arc<Resolved>>,
    pub settings: Settings,
    pub requests: AtomicU64,
    visible: Mutex<VisibleCache>,
}

impl Shared {
    /// New state around a store.
    pub fn new(store: Store, knobs: ListKnobs, dialect: Resolved, settings: Settings) -> Shared {
        Shared {
            store: RwLock::new(store),
            knobs: RwLock::new(knobs),
            dialect: RwLock::new(Arc::new(dialect)),
            settings,
            requests: AtomicU64::new(0),
            visible: Mutex::new(HashMap::new()),
        }
    }

    /// Read access (a poisoned lock still holds consistent data: every
    /// write replaces whole records).
    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Write access.
    pub fn write(&self) -> std::sync::RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|e| e.into_inner())
    }

    fn knobs(&self) -> ListKnobs {
        self.knobs.read().map(|k| k.clone()).unwrap_or_default()
    }

    /// The dialect now in force.
    pub fn dialect(&self) -> Arc<Resolved> {
        self.dialect
            .read()
            .map(|d| d.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// The records of `e` the viewer may see, in creation order (cached per
    /// store version).
    fn visible(&self, store: &Store, e: EntityId, v: &Viewer) -> Arc<Vec<Arc<Rec>>> {
        let key = (e, v.portal, v.principal.as_ref().map(|p| p.user));
        if let Ok(cache) = self.visible.lock()
            && let Some((ver, list)) = cache.get(&key)
            && *ver == store.version
        {
            return list.clone();
        }
        let list: Arc<Vec<Arc<Rec>>> = Arc::new(
            store.tables[e]
                .iter()
                .filter(|r| access::visible(store, e, r, v))
                .cloned()
                .collect(),
        );
        if let Ok(mut cache) = self.visible.lock() {
            if cache.len() > 512 {
                cache.clear();
            }
            cache.insert(key, (store.version, list.clone()));
        }
        list
    }
}

/// The one handler behind every URL.
pub(crate) async fn dispatch(
    State(st): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    st.requests.fetch_add(1, AtomicOrdering::Relaxed);
    let latency = st.knobs().latency_ms;
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let req = Req {
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
    };
    match handle(&st, &req) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// One request.
pub(crate) struct Req<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
}

impl Req<'_> {
    /// `http://host/` as the client addressed us.
    pub fn base(&self) -> String {
        let host = self
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        format!("http://{host}/")
    }

    fn pairs(&self) -> Vec<(String, String)> {
        query::parse_pairs(self.uri.query())
    }

    /// The JSON body (DRF: empty means `{}`).
    pub fn json(&self) -> Result<Value, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Map::new()));
        }
        let ct = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let mime = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !(mime == "application/json" || mime.ends_with("+json")) {
            return Err(ApiError::detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported media type \"{ct}\" in request."),
            ));
        }
        serde_json::from_slice(self.body)
            .map_err(|e| ApiError::parse(format!("JSON parse error - {e}")))
    }
}

fn authenticate(
    st: &Shared,
    store: &Store,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    let _ = st;
    let Some(h) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let h = h.to_str().map_err(|_| ApiError::bad_token())?;
    let mut parts = h.split_whitespace();
    let scheme = parts.next().unwrap_or("");
    if !(scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token")) {
        return Ok(None);
    }
    let Some(token) = parts.next() else {
        return Err(ApiError {
            challenge: true,
            ..ApiError::detail(
                StatusCode::UNAUTHORIZED,
                "Invalid token header. No credentials provided.",
            )
        });
    };
    if parts.next().is_some() {
        return Err(ApiError {
            challenge: true,
            ..ApiError::detail(
                StatusCode::UNAUTHORIZED,
                "Invalid token header. Token string should not contain spaces.",
            )
        });
    }
    let grant = store.tokens.get(token).ok_or_else(ApiError::bad_token)?;
    Ok(Some(access::principal(store, grant.user, grant.read_only)))
}

/// Which route an API path names.
enum Route {
    Collection,
    Detail(String),
    Sub(String, String),
}

fn handle(st: &Shared, req: &Req<'_>) -> Result<Response<Body>, ApiError> {
    let path = req.uri.path();
    if let Some(rest) = path.strip_prefix("/account/authorize") {
        if rest.is_empty() || rest == "/" {
            return device::authorize_page(st, req);
        }
        return Err(ApiError::not_found());
    }
    let Some(rest) = path.strip_prefix("/api/") else {
        return Err(ApiError::not_found());
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segs: Vec<&str> = rest.split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Err(ApiError::not_found());
    }
    if segs.first() == Some(&"auth") {
        return device::route(st, req, &segs[1..]);
    }
    let (portal, app, model, tail) = match segs.as_slice() {
        [portal, app, model, tail @ ..] => (*portal, *app, *model, tail),
        _ => return Err(ApiError::not_found()),
    };
    let portal: Portal = portal.parse().map_err(|_| ApiError::not_found())?;
    let c = catalog();
    let e = c.by_route(app, model).ok_or_else(ApiError::not_found)?;
    let route = match tail {
        [] => Route::Collection,
        [id] => Route::Detail(id.to_string()),
        [id, sub] => Route::Sub(id.to_string(), sub.to_string()),
        _ => return Err(ApiError::not_found()),
    };
    let ent = c.get(e);
    let ops: Vec<&super::catalog::Op> = ent
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
        authenticate(st, &store, req.headers)?
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
        (OpKind::List, Route::Collection) => list(st, req, e, &viewer, None),
        (OpKind::Create, Route::Collection) => create(st, req, e, &viewer),
        (OpKind::Retrieve, Route::Detail(id)) => retrieve(st, req, e, &id, &viewer),
        (OpKind::PartialUpdate, Route::Detail(id)) => update(st, req, e, &id, &viewer, true),
        (OpKind::Update, Route::Detail(id)) => update(st, req, e, &id, &viewer, false),
        (OpKind::Destroy, Route::Detail(id)) => destroy(st, e, &id, &viewer),
        (OpKind::Relation(fi), Route::Sub(id, _)) => relation(st, req, e, *fi, &id, &viewer),
        (OpKind::Action(a), Route::Sub(id, _)) => action(st, req, e, a, op.body, &id, &viewer),
        _ => Err(ApiError::not_found()),
    }
}

/// The canonical form of an id in a URL (`None`: it cannot name a record).
fn url_id(e: EntityId, raw: &str) -> Option<String> {
    match catalog().get(e).id_kind {
        IdKind::Uuid => uuid::Uuid::parse_str(raw).ok().map(|u| u.to_string()),
        IdKind::Integer => raw.parse::<i64>().ok().map(|n| n.to_string()),
    }
}

fn find_visible(
    st: &Shared,
    store: &Store,
    e: EntityId,
    raw: &str,
    v: &Viewer,
) -> Result<Arc<Rec>, ApiError> {
    let _ = st;
    let id = url_id(e, raw).ok_or_else(ApiError::not_found)?;
    let rec = store.get(e, &id).ok_or_else(ApiError::not_found)?;
    if !access::visible(store, e, rec, v) {
        return Err(ApiError::not_found());
    }
    Ok(rec.clone())
}

fn one_json(key: &str, json: &str) -> Vec<u8> {
    let mut out = String::with_capacity(json.len() + key.len() + 8);
    out.push('{');
    out.push_str(&serde_json::to_string(key).unwrap_or_default());
    out.push(':');
    out.push_str(json);
    out.push('}');
    out.into_bytes()
}

// ---------------------------------------------------------------- reading

fn retrieve(
    st: &Shared,
    req: &Req<'_>,
    e: EntityId,
    raw: &str,
    v: &Viewer,
) -> Result<Response<Body>, ApiError> {
    let pairs = req.pairs();
    let fields = query::parse_fields(e, &pairs)?;
    let knobs = st.knobs();
    let d = st.dialect();
    let store = st.read();
    let rec = find_visible(st, &store, e, raw, v)?;
    let mut r = Renderer::new(&store, v, &d, e, true)
        .sideload(sideloading(&pairs, &d, &knobs))
        .no_links(has(&pairs, "exclude_links"));
    let text = r.primary(e, &rec, &fields);
    let mut out = String::with_capacity(text.len() + 64);
    out.push('{');
    out.push_str(&r.sideload_text());
    let _ = write!(
        out,
        "{}:{text}}}",
        serde_json::to_string(&catalog().get(e).one).unwrap_or_default()
    );
    Ok(json_response(StatusCode::OK, out.into_bytes()))
}

/// Whether a query parameter is present.
fn has(pairs: &[(String, String)], name: &str) -> bool {
    pairs.iter().any(|(k, _)| k == name)
}

/// Sideload or embed: the request's `sideloading` (dynamic-rest reads it
/// as a boolean), else the dialect; the legacy knob forces it on.
fn sideloading(pairs: &[(String, String)], d: &Resolved, knobs: &ListKnobs) -> bool {
    knobs.sideload
        || pairs
            .iter()
            .rev()
            .find(|(k, _)| k == "sideloading")
            .map_or(d.dialect.sideloading, |(_, x)| query::is_truthy(x))
}

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

fn relation(
    st: &Shared,
    req: &Req<'_>,
    e: EntityId,
    fi: usize,
    raw: &str,
    v: &Viewer,
) -> Result<Response<Body>, ApiError> {
    let c = catalog();
    let f = &c.get(e).fields[fi];
    let target = f.related.ok_or_else(ApiError::not_found)?;
    let ids: HashSet<String> = {
        let store = st.read();
        let parent = find_visible(st, &store, e, raw, v)?;
        refs(&parent.value, &f.name).into_iter().collect()
    };
    list(st, req, target, v, Some(ids))
}

fn list(
    st: &Shared,
    req: &Req<'_>,
    e: EntityId,
    v: &Viewer,
    only: Option<HashSet<String>>,
) -> Result<Response<Body>, ApiError> {
    let c = catalog();
    let ent = c.get(e);
    let pairs = req.pairs();
    let q: Query = query::parse(e, &pairs)?;
    let knobs = st.knobs();
    let store = st.read();
    let all = st.visible(&store, e, v);
    let mut rows: Vec<&Arc<Rec>> = all
        .iter()
        .filter(|r| only.as_ref().is_none_or(|ids| ids.contains(&r.id)))
        .filter(|r| {
            q.filters
                .iter()
                .all(|f| query::passes(&store, f, &r.id, &r.value))
        })
        .collect();
    if !q.sort.is_empty() {
        let mut keyed: Vec<(Vec<query::Val>, &Arc<Rec>)> = rows
            .into_iter()
            .map(|r| {
                (
                    q.sort
                        .iter()
                        .map(|s| query::sort_key(&store, s, &r.id, &r.value))
                        .collect(),
                    r,
                )
            })
            .collect();
        keyed.sort_by(|(ka, ra), (kb, rb)| {
            for (i, s) in q.sort.iter().enumerate() {
                let o = query::compare(&ka[i], &kb[i], s.descending);
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            ra.seq.cmp(&rb.seq)
        });
        rows = keyed.into_iter().map(|(_, r)| r).collect();
    }
    let count = rows.len();
    let d = st.dialect();
    let dialect = &d.dialect;
    // Which records, and what the answer says about paging.
    enum Paged {
        Offset { limit: usize, offset: usize },
        Pages(paging::Page),
        All,
    }
    let paged = match dialect.pagination {
        Pagination::LimitOffset => {
            let (limit, offset) = paging::limit_offset(&pairs, dialect);
            let offset = if knobs.ignore_offset { 0 } else { offset };
            Paged::Offset { limit, offset }
        }
        // dynamic-rest serves relation routes whole, without paging.
        Pagination::PageNumber if only.is_some() => Paged::All,
        Pagination::PageNumber => Paged::Pages(paging::page_number(
            &pairs,
            dialect,
            count,
            knobs.ignore_offset,
        )?),
    };
    let (start, end) = match &paged {
        Paged::Offset { limit, offset } => {
            let s = (*offset).min(count);
            (s, s.saturating_add(*limit).min(count))
        }
        Paged::Pages(p) => (p.start, p.end),
        Paged::All => (0, count),
    };
    let page = &rows[start..end];

    let mut fields = q.fields.clone();
    // The legacy knob: with nothing included, include the first relation.
    if knobs.sideload
        && !fields.nodes.values().any(|n| matches!(n, Node::Embed(_)))
        && let Some(f) = ent
            .fields
            .iter()
            .find(|f| f.related.is_some_and(|t| c.get(t).many != ent.many))
    {
        let mut star = Fields::default();
        star.nodes.insert("*".into(), Node::Flag(true));
        fields.nodes.insert(f.name.clone(), Node::Embed(star));
    }
    let mut r = Renderer::new(&store, v, &d, e, true)
        .sideload(sideloading(&pairs, &d, &knobs))
        .no_links(has(&pairs, "exclude_links"));
    let texts: Vec<std::borrow::Cow<'_, str>> =
        page.iter().map(|x| r.primary(e, x, &fields)).collect();
    let side = r.sideload_text();
    drop(r);
    drop(store);

    let mut out =
        String::with_capacity(side.len() + texts.iter().map(|t| t.len() + 1).sum::<usize>() + 256);
    out.push('{');
    out.push_str(&side);
    let _ = write!(
        out,
        "{}:[",
        serde_json::to_string(&ent.many).unwrap_or_default()
    );
    for (i, t) in texts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(t);
    }
    out.push(']');
    match paged {
        Paged::Offset { limit, offset } => {
            if !knobs.omit_count {
                let _ = write!(out, ",\"count\":{count}");
            }
            if !knobs.omit_next {
                let next = (offset.saturating_add(limit) < count)
                    .then(|| page_link(req, &pairs, limit, Some(offset + limit)));
                let previous = (offset > 0).then(|| {
                    let prev = offset.saturating_sub(limit);
                    page_link(req, &pairs, limit, (prev > 0).then_some(prev))
                });
                let _ = write!(
                    out,
                    ",\"next\":{},\"previous\":{}",
                    serde_json::to_string(&next).unwrap_or_default(),
                    serde_json::to_string(&previous).unwrap_or_default()
                );
            }
            if !knobs.omit_meta {
                let pages = count.div_ceil(limit.max(1));
                let _ = write!(
                    out,
                    ",\"meta\":{{\"page\":{},\"per_page\":{},\"total_pages\":{},\"total_results\":{}}}",
                    offset / limit.max(1) + 1,
                    limit,
                    pages,
                    count
                );
            }
        }
        Paged::Pages(p) => {
            if !knobs.omit_meta {
                let _ = write!(
                    out,
                    ",\"meta\":{{\"page\":{},\"per_page\":{}",
                    p.number, p.per_page
                );
                match (p.more_pages, p.total_pages) {
                    (Some(more), _) => {
                        let _ = write!(out, ",\"more_pages\":{more}}}");
                    }
                    (None, pages) => {
                        let _ = write!(
                            out,
                            ",\"total_results\":{count},\"total_pages\":{}}}",
                            pages.unwrap_or(1)
                        );
                    }
                }
            }
        }
        Paged::All => {}
    }
    out.push('}');
    Ok(json_response(StatusCode::OK, out.into_bytes()))
}

/// A pagination link as DRF builds it: every parameter kept, `limit` and
/// `offset` replaced, keys sorted, encoded like Python's `urlencode`.
fn page_link(
    req: &Req<'_>,
    pairs: &[(String, String)],
    limit: usize,
    offset: Option<usize>,
) -> String {
    let mut keys: Vec<String> = Vec::new();
    let mut values: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in pairs {
        if k == "limit" || k == "offset" {
            continue;
        }
        if !values.contains_key(k) {
            keys.push(k.clone());
        }
        values.entry(k.clone()).or_default().push(v.clone());
    }
    keys.push("limit".into());
    values.insert("limit".into(), vec![limit.to_string()]);
    if let Some(o) = offset {
        keys.push("offset".into());
        values.insert("offset".into(), vec![o.to_string()]);
    }
    keys.sort();
    let mut qs = String::new();
    for k in &keys {
        for v in &values[k] {
            if !qs.is_empty() {
                qs.push('&');
            }
            let _ = write!(qs, "{}={}", encode_component(k), encode_component(v));
        }
    }
    let base = req.base();
    format!("{}{}?{qs}", base.trim_end_matches('/'), req.uri.path())
}

// ---------------------------------------------------------------- writing

/// DRF-style field errors from the validator's findings.
fn field_errors(ent: &super::catalog::Entity, err: &brainstem::InvalidInput) -> Map<String, Value> {
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
fn clean_body(
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

/// A new record: the body's fields plus defaults, in spec order.
fn build_record(
    ent: &super::catalog::Entity,
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

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
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

fn create(st: &Shared, req: &Req<'_>, e: EntityId, v: &Viewer) -> Result<Response<Body>, ApiError> {
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

/// An approval proposal record.
fn proposal(
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

fn update(
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
    let old = find_visible(st, &store, e, raw, v)?;
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

fn destroy(st: &Shared, e: EntityId, raw: &str, v: &Viewer) -> Result<Response<Body>, ApiError> {
    let p = v.principal.as_ref().ok_or_else(ApiError::no_credentials)?;
    let mut store = st.write();
    let old = find_visible(st, &store, e, raw, v)?;
    let anchor = access::anchor(&store, e, &old);
    if !access::may_change(&store, e, &anchor, p, true) {
        return Err(ApiError::forbidden());
    }
    store.delete(e, &old.id);
    Ok(no_content())
}

// ---------------------------------------------------------------- actions

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
        (Some(base), "accept" | "reject") => review(st, e, base, name == "accept", raw, v, &p),
        (None, "accept" | "reject" | "cancel") => resolve_invitation(st, e, name, raw, v, &p),
        (None, "join" | "leave") => membership_action(st, e, name == "join", raw, v, &p),
        (None, "add_entry" | "change_entry" | "remove_entry") => {
            log_entry(st, req, e, name, body_schema, raw, v, &p)
        }
        _ => Err(ApiError::not_found()),
    }
}

fn review(
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
    let prop = find_visible(st, &store, q, raw, v)?;
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

fn check_unique(
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

fn resolve_invitation(
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
    let rec = find_visible(st, &store, e, raw, v)?;
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

fn membership_action(
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
    let rec = find_visible(st, &store, e, raw, v)?;
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
fn log_entry(
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
    let rec = find_visible(st, &store, e, raw, v)?;
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
