//! List requests and pagination.
//!
//! Pagination never loses or repeats a record, whatever list metadata the
//! server sends:
//!
//! * with a total (`count` or `meta.total_results`) it stops when the total is
//!   reached, and fetches the remaining pages concurrently (bounded, in order);
//! * with only `next` it stops when `next` is `null`;
//! * with neither, it stops on an empty page or a page shorter than an
//!   earlier one (a short first page is confirmed with one more request, in
//!   case the server caps the page size silently);
//! * a page that starts with the same record as the page before means the
//!   server ignores `offset`: [`Error::OffsetIgnored`] instead of a loop;
//! * records are read under the model's envelope key from the spec, so
//!   sideloaded lists next to it are never mistaken for it.
//!
//! Offsets advance by the number of records received, not by the requested
//! page size, so a server that caps `limit` loses nothing. A record that
//! shifts into the next page because another was inserted meanwhile is
//! dropped the second time.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::Arc;

use futures::FutureExt as _;
use futures::stream::{self, BoxStream, Stream, StreamExt, TryStreamExt};
use reqwest::Method;
use serde::de::DeserializeOwned;

use super::{Auth, Client, Error, Request, decode};
use crate::error::InvalidInput;
use crate::query::{Filter, ListQuery, MAX_LIMIT, QueryValue, RawFilter, SortKey};
use crate::{Model, Portal};

/// One page of a list, with the pagination facts the server gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<R> {
    /// The records, in server order.
    pub records: Vec<R>,
    /// The offset this page was requested at.
    pub offset: u64,
    /// The page size requested (`None`: the server's default).
    pub limit: Option<u32>,
    /// `count`, if the server sent it.
    pub count: Option<u64>,
    /// `next`, if the server sent a non-null one.
    pub next: Option<String>,
    /// Whether the body had a `next` key at all.
    pub next_present: bool,
    /// `previous`, if the server sent a non-null one.
    pub previous: Option<String>,
    /// `meta`, if the server sent it (dynamic-rest: `total_results`, ...).
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
}

impl<R> Page<R> {
    /// The total number of matching records, from `count` or
    /// `meta.total_results`.
    pub fn total(&self) -> Option<u64> {
        self.count.or_else(|| {
            self.meta
                .as_ref()
                .and_then(|m| m.get("total_results"))
                .and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                })
        })
    }

    /// Whether more records follow, if the metadata says.
    pub fn has_more(&self) -> Option<bool> {
        if let Some(t) = self.total() {
            return Some(self.offset + (self.records.len() as u64) < t);
        }
        if self.next_present {
            return Some(self.next.is_some());
        }
        None
    }
}

/// Where a list comes from: a path, an envelope key and a query.
pub(crate) struct Source<R, K> {
    pub client: Client,
    pub path: String,
    pub key: &'static str,
    pub auth: Auth,
    pub query: ListQuery,
    /// The record's id, for spotting repeated records (`None`: unknown).
    pub id_of: fn(&R) -> Option<K>,
}

impl<R: DeserializeOwned + Send + 'static, K> Source<R, K> {
    pub(crate) async fn fetch(
        &self,
        offset: Option<u64>,
        limit: Option<u32>,
    ) -> Result<Page<R>, Error> {
        let resp = self.fetch_body(offset, limit).await?;
        self.decode_body(&resp, offset, limit)
    }

    /// One page's response, not decoded yet.
    pub(crate) async fn fetch_body(
        &self,
        offset: Option<u64>,
        limit: Option<u32>,
    ) -> Result<super::Response, Error> {
        let mut q = self.query.clone();
        q.limit = limit;
        q.offset = offset;
        self.client
            .send(Request {
                method: Method::GET,
                path: self.path.clone(),
                query: Some(q.to_query_string()),
                body: None,
                auth: self.auth,
            })
            .await
    }

    /// Decode a page fetched by [`fetch_body`](Self::fetch_body).
    pub(crate) fn decode_body(
        &self,
        resp: &super::Response,
        offset: Option<u64>,
        limit: Option<u32>,
    ) -> Result<Page<R>, Error> {
        let raw = decode::list::<R>(&resp.body, resp.content_type(), self.key)?;
        Ok(Page {
            records: raw.records,
            offset: offset.unwrap_or(0),
            limit,
            count: raw.count,
            next: raw.next,
            next_present: raw.next_present,
            previous: raw.previous,
            meta: raw.meta,
        })
    }
}

type Planned<R> = BoxStream<'static, (u64, Result<Page<R>, Error>)>;

/// The pagination state machine behind `pages()`, `stream()` and `all()`.
struct Walker<R, K> {
    src: Arc<Source<R, K>>,
    limit: u32,
    next_offset: u64,
    concurrency: usize,
    prev_ids: Vec<Option<K>>,
    prev_len: usize,
    max_seen: usize,
    planned: Option<Planned<R>>,
    planned_once: bool,
    done: bool,
}

impl<R: DeserializeOwned + Send + 'static, K: Eq + std::hash::Hash + Send + Sync + 'static>
    Walker<R, K>
{
    async fn step(&mut self) -> Option<Result<Page<R>, Error>> {
        loop {
            if self.done {
                return None;
            }
            let (offset, res) = match &mut self.planned {
                Some(p) => match p.next().await {
                    Some(x) => x,
                    None => {
                        self.planned = None;
                        continue;
                    }
                },
                None => {
                    let off = self.next_offset;
                    (off, self.src.fetch(Some(off), Some(self.limit)).await)
                }
            };
            let mut page = match res {
                Ok(p) => p,
                Err(e) => {
                    self.done = true;
                    self.planned = None;
                    return Some(Err(e));
                }
            };
            let raw_len = page.records.len();
            if raw_len == 0 {
                self.done = true;
                self.planned = None;
                return None;
            }
            let ids: Vec<Option<K>> = page.records.iter().map(self.src.id_of).collect();
            if !self.prev_ids.is_empty() && ids[0].is_some() {
                if ids[0] == self.prev_ids[0] {
                    self.done = true;
                    self.planned = None;
                    // A short page repeated means the server sent everything
                    // the first time; otherwise paging on would loop.
                    if page.total().is_none() && self.prev_len < self.limit as usize {
                        return None;
                    }
                    return Some(Err(Error::OffsetIgnored { offset }));
                }
                let before: HashSet<&K> = self.prev_ids.iter().flatten().collect();
                if ids.iter().flatten().any(|id| before.contains(id)) {
                    let mut keep = ids
                        .iter()
                        .map(|id| id.as_ref().is_none_or(|id| !before.contains(id)));
                    page.records.retain(|_| keep.next().unwrap_or(true));
                }
            }
            self.next_offset = offset + raw_len as u64;
            let finished = if let Some(t) = page.total() {
                self.next_offset >= t
            } else if page.next_present {
                page.next.is_none()
            } else {
                raw_len < self.limit as usize && raw_len < self.max_seen
            };
            self.max_seen = self.max_seen.max(raw_len);
            self.prev_len = raw_len;
            self.prev_ids = ids;
            if finished {
                self.done = true;
                self.planned = None;
            } else if !self.planned_once
                && let Some(total) = page.total()
            {
                {
                    self.planned_once = true;
                    let step = raw_len as u64;
                    let start = self.next_offset;
                    let offsets: Vec<u64> = (0u64..)
                        .map(|k| start + k * step)
                        .take_while(|o| *o < total)
                        .collect();
                    let src = self.src.clone();
                    let limit = self.limit;
                    self.planned = Some(if self.concurrency == 1 {
                        // Sequential: one request at a time, but a page is
                        // decoded in a task of its own while the next one is
                        // fetched (up to two pages decoding), so decoding does
                        // not add to the time spent waiting for the server.
                        let fetch_src = src.clone();
                        stream::iter(offsets)
                            .then(move |o| {
                                let src = fetch_src.clone();
                                async move { (o, src.fetch_body(Some(o), Some(limit)).await) }
                            })
                            .map(move |(o, resp)| {
                                let src = src.clone();
                                AbortOnDrop(tokio::spawn(async move {
                                    src.decode_body(&resp?, Some(o), Some(limit))
                                }))
                                .map(move |r| (o, r))
                            })
                            .buffered(2)
                            .boxed()
                    } else {
                        stream::iter(offsets)
                            .map(move |o| {
                                // Each page is fetched and decoded in a task of
                                // its own, so on a multi-threaded runtime the
                                // decoding runs in parallel; `buffered` keeps
                                // the order and bounds the pages in flight.
                                let src = src.clone();
                                AbortOnDrop(tokio::spawn(async move {
                                    src.fetch(Some(o), Some(limit)).await
                                }))
                                .map(move |r| (o, r))
                            })
                            .buffered(self.concurrency)
                            .boxed()
                    });
                }
            }
            return Some(Ok(page));
        }
    }
}

/// A spawned page fetch that is cancelled when the stream drops it.
struct AbortOnDrop<T>(tokio::task::JoinHandle<Result<T, Error>>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> std::future::Future for AbortOnDrop<T> {
    type Output = Result<T, Error>;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|r| match r {
            Ok(r) => r,
            Err(e) => Err(Error::Transport {
                message: format!("the page fetch task failed: {e}"),
                source: None,
            }),
        })
    }
}

/// All pages of a source from `offset`, as a stream.
pub(crate) fn pages<
    R: DeserializeOwned + Send + 'static,
    K: Eq + std::hash::Hash + Send + Sync + 'static,
>(
    src: Source<R, K>,
    offset: u64,
    limit: u32,
    concurrency: usize,
) -> BoxStream<'static, Result<Page<R>, Error>> {
    let walker = Walker {
        src: Arc::new(src),
        limit,
        next_offset: offset,
        concurrency: concurrency.max(1),
        prev_ids: Vec::new(),
        prev_len: 0,
        max_seen: 0,
        planned: None,
        planned_once: false,
        done: false,
    };
    stream::unfold(walker, |mut w| async move {
        w.step().await.map(|item| (item, w))
    })
    .boxed()
}

/// The records of a page stream, one by one.
pub(crate) fn records<R: Send + 'static>(
    pages: BoxStream<'static, Result<Page<R>, Error>>,
) -> BoxStream<'static, Result<R, Error>> {
    pages
        .map_ok(|p| stream::iter(p.records.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
}

/// Collect a page stream.
pub(crate) async fn collect<R: Send + 'static>(
    mut pages: BoxStream<'static, Result<Page<R>, Error>>,
) -> Result<Vec<R>, Error> {
    let mut out = Vec::new();
    while let Some(p) = pages.next().await {
        let p = p?;
        if out.is_empty()
            && let Some(t) = p.total()
        {
            out.reserve(usize::try_from(t).unwrap_or(0).min(1 << 20));
        }
        out.extend(p.records);
    }
    Ok(out)
}

/// A list request of one model: filters, sort, includes and paging, then
/// [`page`](Self::page), [`stream`](Self::stream) or [`all`](Self::all).
///
/// Built by [`Api::list`](super::Api::list) or [`Api::load`](super::Api::load).
#[must_use = "a list request does nothing until page(), stream() or all() is called"]
pub struct ListRequest<M: Model> {
    client: Client,
    portal: Portal,
    query: ListQuery,
    default_includes: bool,
    concurrency: usize,
    invalid: Option<InvalidInput>,
    _m: PhantomData<fn() -> M>,
}

impl<M: Model> Clone for ListRequest<M> {
    fn clone(&self) -> Self {
        ListRequest {
            client: self.client.clone(),
            portal: self.portal,
            query: self.query.clone(),
            default_includes: self.default_includes,
            concurrency: self.concurrency,
            invalid: self.invalid.clone(),
            _m: PhantomData,
        }
    }
}

impl<M: Model> std::fmt::Debug for ListRequest<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListRequest")
            .field("model", &M::META.name)
            .field("portal", &self.portal)
            .field("query", &self.query)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

impl<M: Model> ListRequest<M> {
    pub(crate) fn new(client: Client, portal: Portal) -> Self {
        let concurrency = client.concurrency();
        ListRequest {
            client,
            portal,
            query: ListQuery::new(),
            default_includes: false,
            concurrency,
            invalid: None,
            _m: PhantomData,
        }
    }

    pub(crate) fn with_default_includes(mut self, includes: Vec<String>) -> Self {
        self.query.include = includes;
        self.default_includes = true;
        self
    }

    fn invalid(&mut self, path: &str, message: String) {
        let e = self.invalid.get_or_insert(InvalidInput { errors: vec![] });
        e.errors.push(crate::FieldError {
            path: path.to_string(),
            message,
        });
    }

    /// The portal (default: private).
    pub fn portal(mut self, portal: Portal) -> Self {
        self.portal = portal;
        self
    }

    /// Add a filter; several filters AND together.
    pub fn filter(mut self, f: M::Filter) -> Self {
        self.query.filters.push(f.clause());
        self
    }

    /// Add a negated filter (`filter{-field...}`).
    pub fn exclude(mut self, f: M::Filter) -> Self {
        self.query.filters.push(f.not());
        self
    }

    /// Add a filter the generated enum does not cover, such as one through a
    /// relation ([`RawFilter`]`::new("projects.name.icontains", "visual")`).
    pub fn raw_filter(mut self, f: impl Filter) -> Self {
        self.query.filters.push(f.clause());
        self
    }

    /// Add a sort key (`SessionSort::Name.desc()`); the first is most significant.
    pub fn sort(mut self, key: SortKey) -> Self {
        self.query.sort.push(key);
        self
    }

    /// Embed a relation: its field then holds [`Related::Object`](crate::Related::Object)s.
    /// The first call replaces a loader's default includes.
    pub fn include(mut self, rel: M::Include) -> Self {
        if self.default_includes {
            self.query.include.clear();
            self.default_includes = false;
        }
        self.query
            .include
            .push(crate::query::IncludeField::field(&rel).to_string());
        self
    }

    /// Drop all includes (also a loader's defaults).
    pub fn no_includes(mut self) -> Self {
        self.query.include.clear();
        self.default_includes = false;
        self
    }

    /// Page size (1..=100). For [`stream`](Self::stream) and [`all`](Self::all)
    /// it is the size of each page fetched (default 100).
    pub fn limit(mut self, n: u32) -> Self {
        self.query.limit = Some(n);
        self
    }

    /// Records to skip.
    pub fn offset(mut self, n: u64) -> Self {
        self.query.offset = Some(n);
        self
    }

    /// Pages fetched at once when the total is known (1 = sequential).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Replace the whole query with a prepared [`ListQuery`] (for tools that
    /// build queries from text; the values are not checked against the model).
    pub fn query(mut self, q: ListQuery) -> Self {
        self.query = q;
        self.default_includes = false;
        self
    }

    /// The query as it stands.
    pub fn as_query(&self) -> &ListQuery {
        &self.query
    }

    /// A loader keyword filter (`"name"`, `"projects"`, `"tags"`, ...), as the
    /// official Python tool's `load_<model>(name=...)`: the keyword maps to a
    /// dynamic-rest filter through the model's loader data in the spec. An
    /// unknown keyword is reported, with the valid ones, when the request is
    /// sent.
    pub fn by(mut self, keyword: &str, value: impl QueryValue) -> Self {
        let Some(loader) = M::META.loader.as_ref() else {
            self.invalid(
                keyword,
                format!(
                    "`{}` has no convenience loader, so no loader keywords",
                    M::META.name
                ),
            );
            return self;
        };
        match loader.filters.iter().find(|(k, _)| *k == keyword) {
            Some((_, key)) => match RawFilter::new(key, value.query_value()) {
                Ok(f) => self.query.filters.push(f.clause()),
                Err(e) => self.invalid = Some(merge(self.invalid.take(), e)),
            },
            None => {
                let valid: Vec<&str> = loader.filters.iter().map(|(k, _)| *k).collect();
                self.invalid(
                    keyword,
                    format!(
                        "`{keyword}` is not a loader keyword of `{}`; use one of: {}",
                        M::META.name,
                        valid.join(", ")
                    ),
                );
            }
        }
        self
    }

    fn check(&self) -> Result<(), Error> {
        if let Some(e) = &self.invalid {
            return Err(Error::InvalidInput(e.clone()));
        }
        self.query.check()?;
        let op = M::META.op("list").ok_or_else(|| {
            Error::NotSupported(format!("`{}` has no list operation", M::META.name))
        })?;
        if !op.portals.contains(&self.portal) {
            return Err(Error::NotSupported(format!(
                "`{}` cannot be listed on the {} portal (allowed: {})",
                M::META.name,
                self.portal,
                fmt_portals(op.portals)
            )));
        }
        Ok(())
    }

    fn source(&self) -> Result<Source<M, M::Id>, Error> {
        self.check()?;
        let op = M::META.op("list").expect("checked");
        let mut query = self.query.clone();
        query.limit = None;
        query.offset = None;
        Ok(Source {
            client: self.client.clone(),
            path: op.path.replace("{portal}", self.portal.as_str()),
            key: M::META.many,
            auth: auth_for(self.portal),
            query,
            id_of: |r: &M| Some(r.record_id()),
        })
    }

    /// One page, with its pagination facts. Without `limit` the server's
    /// default page size applies.
    pub async fn page(self) -> Result<Page<M>, Error> {
        let src = self.source()?;
        src.fetch(self.query.offset, self.query.limit).await
    }

    /// Every page from `offset` on, as a stream.
    pub fn pages(self) -> BoxStream<'static, Result<Page<M>, Error>> {
        match self.source() {
            Ok(src) => pages(
                src,
                self.query.offset.unwrap_or(0),
                self.query.limit.unwrap_or(MAX_LIMIT),
                self.concurrency,
            ),
            Err(e) => stream::once(async move { Err(e) }).boxed(),
        }
    }

    /// Every record from `offset` on, as a stream; memory stays bounded by
    /// `concurrency` pages. An error ends the stream.
    pub fn stream(self) -> impl Stream<Item = Result<M, Error>> + Send + 'static {
        records(self.pages())
    }

    /// Every record from `offset` on.
    pub async fn all(self) -> Result<Vec<M>, Error> {
        collect(self.pages()).await
    }
}

fn merge(a: Option<InvalidInput>, b: InvalidInput) -> InvalidInput {
    match a {
        Some(mut a) => {
            a.errors.extend(b.errors);
            a
        }
        None => b,
    }
}

pub(crate) fn auth_for(portal: Portal) -> Auth {
    match portal {
        Portal::Private => Auth::Required,
        Portal::Public => Auth::None,
    }
}

pub(crate) fn fmt_portals(p: &[Portal]) -> String {
    if p.is_empty() {
        return "none".into();
    }
    p.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
}
