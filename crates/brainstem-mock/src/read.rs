//! Reading: one record, a list (filtered, sorted, paged in the dialect's
//! pagination, with DRF's `next` / `previous` links), a relation route's
//! records, and the record a URL's id names if the viewer may see it.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Response, StatusCode};

use super::ListKnobs;
use super::access::{self, Viewer};
use super::budget::{Budget, Exhausted};
use super::catalog::{EntityId, catalog};
use super::dialect::{Pagination, Resolved};
use super::paging;
use super::query::{self, Fields, Node, Query};
use super::render::Renderer;
use super::reply::{ApiError, json_response};
use super::request::Req;
use super::state::Shared;
use super::store::{Rec, Store, refs};
use brainstem::meta::IdKind;
use brainstem::query::encode_component;

/// The canonical form of an id in a URL (`None`: it cannot name a record).
fn url_id(e: EntityId, raw: &str) -> Option<String> {
    match catalog().get(e).id_kind {
        IdKind::Uuid => uuid::Uuid::parse_str(raw).ok().map(|u| u.to_string()),
        IdKind::Integer => raw.parse::<i64>().ok().map(|n| n.to_string()),
    }
}

/// The record a URL's id names, if the viewer may see it (404 otherwise).
pub(crate) fn find_visible(
    store: &Store,
    e: EntityId,
    raw: &str,
    v: &Viewer,
) -> Result<Arc<Rec>, ApiError> {
    let id = url_id(e, raw).ok_or_else(ApiError::not_found)?;
    let rec = store.get(e, &id).ok_or_else(ApiError::not_found)?;
    if !access::visible(store, e, rec, v) {
        return Err(ApiError::not_found());
    }
    Ok(rec.clone())
}

/// `GET /{id}/`: one record.
pub(crate) fn retrieve(
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
    let rec = find_visible(&store, e, raw, v)?;
    let budget = Budget::new(st.settings.limits);
    let mut r = Renderer::new(&store, v, &d, e, true)
        .sideload(sideloading(&pairs, &d, &knobs))
        .no_links(has(&pairs, "exclude_links"))
        .budget(&budget);
    let text = r.primary(e, &rec, &fields);
    if let Some(x) = budget.exhausted() {
        return Err(x.refuse(&includes(&pairs)));
    }
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

/// The request's includes, as a budget refusal names them.
fn includes(pairs: &[(String, String)]) -> String {
    let list: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "include[]")
        .map(|(_, v)| format!("include[]={v}"))
        .collect();
    if list.is_empty() {
        "the included relations".to_string()
    } else {
        list.join(", ")
    }
}

/// The filter that has cost the most visits so far (`costs` in the order
/// of `q.filters`), as a budget refusal names it.
fn costliest_filter(q: &Query, costs: &[u64]) -> String {
    let best = costs
        .iter()
        .enumerate()
        .max_by_key(|(i, c)| (**c, std::cmp::Reverse(*i)))
        .map(|(i, _)| i);
    match best.and_then(|i| q.filters.get(i)) {
        Some(f) if costs.iter().any(|c| *c > 0) || q.filters.len() == 1 => {
            format!("filter{{{}}}", f.key)
        }
        _ => "the filters".to_string(),
    }
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

/// `GET /{id}/{relation}/`: the related records, as a list.
pub(crate) fn relation(
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
        let parent = find_visible(&store, e, raw, v)?;
        refs(&parent.value, &f.name).into_iter().collect()
    };
    list(st, req, target, v, Some(ids))
}

/// `GET /`: the visible records that pass the filters, sorted and paged
/// in the dialect's pagination (`only`: a relation route's records).
pub(crate) fn list(
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
    let budget = Budget::new(st.settings.limits);
    let all = st.visible(&store, e, v);
    // Each record against the filters in order, up to the first it fails;
    // what each filter has cost names the one to blame if the budget runs
    // out.
    let mut costs = vec![0u64; q.filters.len()];
    let mut rows: Vec<&Arc<Rec>> = Vec::new();
    for (n, r) in all.iter().enumerate() {
        if only.as_ref().is_some_and(|ids| !ids.contains(&r.id)) {
            continue;
        }
        if n % 64 == 63 {
            budget
                .tick()
                .map_err(|x| x.refuse(&costliest_filter(&q, &costs)))?;
        }
        let mut keep = true;
        for (i, f) in q.filters.iter().enumerate() {
            let before = budget.visits();
            let passed = query::passes(&store, f, &r.id, &r.value, &budget);
            costs[i] += budget.visits() - before;
            match passed {
                Ok(true) => {}
                Ok(false) => {
                    keep = false;
                    break;
                }
                Err(x) => return Err(x.refuse(&costliest_filter(&q, &costs))),
            }
        }
        if keep {
            rows.push(r);
        }
    }
    if !q.sort.is_empty() {
        let key = |r: &Arc<Rec>| -> Result<Vec<query::Val>, ApiError> {
            q.sort
                .iter()
                .map(|s| {
                    query::sort_key(&store, s, &r.id, &r.value, &budget)
                        .map_err(|x: Exhausted| x.refuse(&format!("sort[]={}", s.term)))
                })
                .collect()
        };
        let mut keyed: Vec<(Vec<query::Val>, &Arc<Rec>)> = rows
            .into_iter()
            .map(|r| key(r).map(|k| (k, r)))
            .collect::<Result<_, _>>()?;
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
        .no_links(has(&pairs, "exclude_links"))
        .budget(&budget);
    let texts: Vec<std::borrow::Cow<'_, str>> =
        page.iter().map(|x| r.primary(e, x, &fields)).collect();
    if let Some(x) = budget.exhausted() {
        return Err(x.refuse(&includes(&pairs)));
    }
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
