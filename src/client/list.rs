//! List requests and pagination.
//!
//! Pagination follows the server, whatever style it pages in (see
//! [`PageStyle`]): the first answer says how the server pages, and the
//! following pages are requested in that style, with the same ordered,
//! bounded prefetch. The decisions are made by a pure cursor (`cursor.rs`);
//! this module sends what it asks for and decodes what comes back:
//!
//! * each answer's envelope is scanned in the task that fetched it, so the
//!   cursor can plan the next requests before the records are decoded;
//! * the records of a page are then decoded in a task of their own (in
//!   parallel with the next fetches on a multi-threaded runtime), each on its
//!   own: a record that does not decode becomes an [`UndecodedRecord`] with
//!   its raw JSON, not a failed page (unless the request is
//!   [`strict`](ListRequest::strict));
//! * sideloaded includes are merged into the records by id (see `decode.rs`);
//! * once the end is known nothing more is requested, and requests in flight
//!   are dropped;
//! * a record that shifts into the next page because another was inserted
//!   meanwhile is dropped the second time.

use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt as _;
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, FuturesOrdered, Stream, StreamExt};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::cursor::{Cursor, CursorError, PageReq, Walk};
use super::decode::{self, Includes, Scanned, Sideloads};
use super::window::{Prefetch, Window};
use super::{Auth, Client, Error, Request};
use crate::error::{DecodeError, InvalidInput};
use crate::observe::{self, Observation};
use crate::query::{Filter, ListQuery, MAX_LIMIT, QueryValue, RawFilter, SortKey};
use crate::{Model, Operation, Portal};

pub use super::cursor::PageStyle;

/// A record of a list answer that could not be decoded, kept as the server
/// sent it.
#[derive(Clone, Debug, PartialEq)]
pub struct UndecodedRecord {
    /// Its position in the whole list (absolute index).
    pub index: u64,
    /// Its `id`, if the raw record has one.
    pub id: Option<String>,
    /// The record as the server sent it (with sideloaded includes merged in,
    /// if any were).
    pub raw: String,
    /// Why it did not decode, with the JSON path.
    pub error: DecodeError,
}

impl UndecodedRecord {
    /// The raw record as a JSON value (`None` if even that fails, e.g. for a
    /// number outside what `serde_json::Value` holds).
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.raw).ok()
    }
}

impl std::fmt::Display for UndecodedRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "record {} (id {}) could not be decoded: {}",
            self.index,
            self.id.as_deref().unwrap_or("unknown"),
            self.error
        )
    }
}

/// One page of a list, with the pagination facts the server gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<R> {
    /// The records, in server order.
    pub records: Vec<R>,
    /// Records of this page that could not be decoded, kept raw.
    pub undecoded: Vec<UndecodedRecord>,
    /// The position of the page's first record in the whole list: the window
    /// the page actually holds is `offset .. offset + records + undecoded`.
    pub offset: u64,
    /// The page size requested (`None`: the server's default).
    pub limit: Option<u32>,
    /// How the server pages, as recognised from its answers.
    pub style: PageStyle,
    /// `count`, if the server sent it.
    pub count: Option<u64>,
    /// `next`, if the server sent a non-null one.
    pub next: Option<String>,
    /// Whether the body had a `next` key at all.
    pub next_present: bool,
    /// `previous`, if the server sent a non-null one.
    pub previous: Option<String>,
    /// `meta`, if the server sent it (dynamic-rest: `page`, `per_page`,
    /// `total_results`, `total_pages` or `more_pages`).
    pub meta: Option<serde_json::Map<String, Value>>,
    /// What decoding the page noticed without failing (each once): fields the
    /// schema does not know, documented fields that were absent, embedded
    /// records that fell back to their id, values the schema does not list.
    pub observations: Vec<Observation>,
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
        let held = (self.records.len() + self.undecoded.len()) as u64;
        if let Some(t) = self.total() {
            return Some(self.offset + held < t);
        }
        if let Some(more) = self
            .meta
            .as_ref()
            .and_then(|m| m.get("more_pages"))
            .and_then(Value::as_bool)
        {
            return Some(more);
        }
        if self.next_present {
            return Some(self.next.is_some());
        }
        None
    }

    /// The records and the undecoded ones, in server order.
    pub fn items(&self) -> Vec<Result<&R, &UndecodedRecord>> {
        let mut out = Vec::with_capacity(self.records.len() + self.undecoded.len());
        let mut records = self.records.iter();
        let mut undecoded = self.undecoded.iter().peekable();
        let mut at = self.offset;
        loop {
            match undecoded.peek() {
                Some(u) if u.index <= at => {
                    out.push(Err(undecoded.next().expect("peeked")));
                }
                _ => match records.next() {
                    Some(r) => out.push(Ok(r)),
                    None => break,
                },
            }
            at += 1;
        }
        out.extend(undecoded.map(Err));
        out
    }

    /// The records and the undecoded ones, owned, in server order.
    pub fn into_items(self) -> Vec<Result<R, UndecodedRecord>> {
        let mut out = Vec::with_capacity(self.records.len() + self.undecoded.len());
        let mut undecoded = self.undecoded.into_iter().peekable();
        let mut at = self.offset;
        for r in self.records {
            while let Some(u) = undecoded.next_if(|u| u.index <= at) {
                out.push(Err(u));
                at += 1;
            }
            out.push(Ok(r));
            at += 1;
        }
        out.extend(undecoded.map(Err));
        out
    }

    fn empty(offset: u64, limit: Option<u32>, style: PageStyle) -> Page<R> {
        Page {
            records: Vec::new(),
            undecoded: Vec::new(),
            offset,
            limit,
            style,
            count: None,
            next: None,
            next_present: false,
            previous: None,
            meta: None,
            observations: Vec::new(),
        }
    }
}

/// Every record of a list: what [`ListRequest::all`] returns.
///
/// It dereferences to the `Vec` of decoded records; records that could not
/// be decoded are in [`undecoded`](Self::undecoded), raw, so nothing is lost.
#[derive(Clone, Debug, PartialEq)]
pub struct Records<R> {
    /// The decoded records, in server order.
    pub records: Vec<R>,
    /// The records that could not be decoded.
    pub undecoded: Vec<UndecodedRecord>,
    /// What decoding noticed without failing, each once (at most
    /// [`observe::LIMIT`](crate::observe::LIMIT)).
    pub observations: Vec<Observation>,
}

impl<R> Records<R> {
    /// The decoded records (dropping any undecoded ones: check
    /// [`undecoded`](Self::undecoded) first if they matter).
    pub fn into_vec(self) -> Vec<R> {
        self.records
    }
}

impl<R> std::ops::Deref for Records<R> {
    type Target = Vec<R>;
    fn deref(&self) -> &Vec<R> {
        &self.records
    }
}

impl<R> IntoIterator for Records<R> {
    type Item = R;
    type IntoIter = std::vec::IntoIter<R>;
    fn into_iter(self) -> Self::IntoIter {
        self.records.into_iter()
    }
}

impl<'a, R> IntoIterator for &'a Records<R> {
    type Item = &'a R;
    type IntoIter = std::slice::Iter<'a, R>;
    fn into_iter(self) -> Self::IntoIter {
        self.records.iter()
    }
}

/// Add observations to a list, each once, at most [`observe::LIMIT`];
/// embedded records that fell back to their id are also logged.
pub(crate) fn note(mut to: Vec<Observation>, seen: Vec<Observation>) -> Vec<Observation> {
    for o in seen {
        if to.len() >= observe::LIMIT {
            break;
        }
        if to.contains(&o) {
            continue;
        }
        if let Observation::EmbeddedFallback { model, id, error } = &o {
            tracing::warn!(
                model,
                id,
                error,
                "an included record did not decode; its id is kept"
            );
        }
        to.push(o);
    }
    to
}

/// Decode one record's text (`at`: its JSON path, for errors).
pub(crate) type DecodeFn<R> =
    fn(&str, &str, &Includes, &Sideloads<'_>) -> Result<R, (DecodeError, Option<String>)>;

/// A record's identity, for spotting a record sent twice (from the decoded
/// record, or its raw text).
pub(crate) type KeyFn<R> = fn(&R, &str) -> Option<u64>;

/// Where a list comes from: a path, an envelope key, a query, and how to
/// decode its records.
pub(crate) struct Source<R> {
    pub client: Client,
    pub path: String,
    pub key: &'static str,
    pub auth: Auth,
    /// The query without paging (the cursor adds it).
    pub query: ListQuery,
    pub includes: Includes,
    pub decode: DecodeFn<R>,
    pub key_of: KeyFn<R>,
    /// Decodes a whole list body in one pass, when the records need no
    /// sideloads merged (see [`decode::direct_list`]); only where `key_of`
    /// does not read the record's text.
    pub direct: Option<DirectFn<R>>,
}

/// Decodes a whole list body in one pass (`None`: scan it instead).
pub(crate) type DirectFn<R> = fn(&[u8], &str) -> Option<decode::Direct<R>>;

fn hash_key<T: Hash + ?Sized>(v: &T) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// A model's decoder: typed, sideloads merged, missing includes marked.
pub(crate) fn model_decoder<M: Model>() -> DecodeFn<M> {
    super::codec::of::<M>().record
}

/// A model's identity: its id.
pub(crate) fn model_key<M: Model>() -> KeyFn<M> {
    |m, _| Some(hash_key(&m.record_id()))
}

/// A record as the server sent it.
#[derive(Debug)]
#[cfg_attr(not(feature = "mirror"), allow(dead_code))]
pub(crate) struct RawRecord {
    /// Its id, spelled as the model's id type writes it (`None` when the
    /// record has no id that reads as one).
    pub id: Option<String>,
    /// Its JSON text, as received (included records that the server
    /// sideloaded merged in).
    pub text: String,
}

impl RawRecord {
    /// A record of `M` from its text: the id read, and spelled as `M`'s id
    /// type writes it.
    pub(crate) fn of<M: Model>(text: String) -> RawRecord {
        let id = decode::raw_id(&text)
            .and_then(|s| s.parse::<M::Id>().ok())
            .map(|id| id.to_string());
        RawRecord { id, text }
    }
}

/// A decoder that keeps each record's text and reads only its id.
fn raw_decoder<M: Model>() -> DecodeFn<RawRecord> {
    |t, _, inc, side| {
        let text = decode::merge(t, M::META, inc, side).unwrap_or_else(|| t.to_owned());
        Ok(RawRecord::of::<M>(text))
    }
}

/// A plain typed decoder (approval records): no includes.
pub(crate) fn plain_record<R: DeserializeOwned>(
    text: &str,
    at: &str,
    _: &Includes,
    _: &Sideloads<'_>,
) -> Result<R, (DecodeError, Option<String>)> {
    decode::value::<R>(text, at).map_err(|e| (e, None))
}

/// An identity read from the raw record's `id`.
pub(crate) fn raw_key<R>() -> KeyFn<R> {
    |_, t| decode::raw_id(t).map(|id| hash_key(&id))
}

/// One answer, fetched and scanned, or decoded in one pass.
struct Fetched<R> {
    body: Bytes,
    scanned: Scanned,
    /// The records, when decoded in one pass (then `scanned.records` is empty).
    direct: Option<decode::Direct<R>>,
}

impl<R> Fetched<R> {
    /// An answer with nothing in it.
    fn empty() -> Fetched<R> {
        Fetched {
            body: Bytes::new(),
            scanned: Scanned::default(),
            direct: None,
        }
    }

    /// The pagination facts.
    fn facts(&self) -> &super::cursor::Facts {
        match &self.direct {
            Some(d) => &d.scanned.facts,
            None => &self.scanned.facts,
        }
    }

    /// How many records the answer holds.
    fn len(&self) -> usize {
        match &self.direct {
            Some(d) => d.records.len(),
            None => self.scanned.records.len(),
        }
    }

    /// A fingerprint of the first record's text.
    fn first_fingerprint(&self) -> Option<u64> {
        match &self.direct {
            Some(d) => d.first_fingerprint,
            None => self.scanned.first_fingerprint(&self.body),
        }
    }
}

impl<R: Send + 'static> Source<R> {
    fn request(&self, req: &PageReq) -> Request {
        let (path, query) = match req {
            PageReq::Offset { offset, limit } => {
                let mut q = self.query.clone();
                q.limit = *limit;
                q.offset = Some(*offset);
                (self.path.clone(), q.to_query_string())
            }
            PageReq::Number { page, per_page } => {
                let mut q = self.query.to_query_string();
                if !q.is_empty() {
                    q.push('&');
                }
                q.push_str(&format!("page={page}&per_page={per_page}"));
                (self.path.clone(), q)
            }
            PageReq::Link(l) => match l.split_once('?') {
                Some((p, q)) => (p.to_string(), q.to_string()),
                None => (l.clone(), String::new()),
            },
        };
        Request {
            method: Method::GET,
            path,
            query: Some(query),
            body: None,
            auth: self.auth,
        }
    }

    /// Fetch and scan one page.
    async fn fetch(&self, req: PageReq) -> Result<Fetched<R>, Error> {
        let resp = match self.client.send(self.request(&req)).await {
            Ok(r) => r,
            // a page-numbered server answers a page past the end with 404
            Err(Error::NotFound { .. }) if matches!(req, PageReq::Number { page, .. } if page > 1) =>
            {
                return Ok(Fetched::empty());
            }
            Err(e) => return Err(e),
        };
        if let Some(direct) = self.direct.filter(|_| self.includes.is_empty())
            && let Some(d) = direct(&resp.body, self.key)
        {
            return Ok(Fetched {
                body: resp.body,
                scanned: Scanned::default(),
                direct: Some(d),
            });
        }
        let scanned = decode::scan_list(&resp.body, resp.content_type(), self.key)?;
        Ok(Fetched {
            body: resp.body,
            scanned,
            direct: None,
        })
    }

    /// Decode the records `take` of a fetched page at absolute `offset`.
    fn decode_page(
        &self,
        f: Fetched<R>,
        take: Range<usize>,
        offset: u64,
        limit: Option<u32>,
        style: PageStyle,
    ) -> (Page<R>, Vec<Option<u64>>) {
        let mut page = Page::empty(offset, limit, style);
        let keys = decode_into(
            &mut page,
            f,
            take,
            Decoding {
                key: self.key,
                decode: self.decode,
                key_of: self.key_of,
                includes: &self.includes,
                drift: Some(&self.client),
            },
        );
        (page, keys)
    }
}

/// How the records of a page are decoded.
struct Decoding<'a, R> {
    key: &'static str,
    decode: DecodeFn<R>,
    key_of: KeyFn<R>,
    includes: &'a Includes,
    /// The client whose drift report gets what decoding saw.
    drift: Option<&'a Client>,
}

/// Decode the records `take` of a fetched answer into `page` (whose offset
/// is the absolute index of the first), with the answer's facts and what
/// decoding noticed; returns the records' identities.
fn decode_into<R>(
    page: &mut Page<R>,
    mut f: Fetched<R>,
    take: Range<usize>,
    how: Decoding<'_, R>,
) -> Vec<Option<u64>> {
    if let Some(d) = f.direct.take() {
        if !d.observations.is_empty() && take != (0..d.records.len()) {
            // what decoding noticed must be of the records taken only: read
            // those again, one by one
            if let Ok(s) = decode::scan_list(&f.body, None, how.key) {
                f.scanned = s;
                return decode_into(page, f, take, how);
            }
        }
        let mut records = d.records;
        records.truncate(take.end);
        records.drain(..take.start.min(records.len()));
        let keys = records.iter().map(|rec| (how.key_of)(rec, "")).collect();
        if page.records.is_empty() {
            // the usual case: the decoded vector becomes the page's, not
            // copied record by record into a second one
            page.records = records;
        } else {
            page.records.append(&mut records);
        }
        if let Some(client) = how.drift
            && !d.observations.is_empty()
        {
            let (model, shape) = decode::list_owner(how.key);
            client.note_drift(model, shape, &d.observations, std::iter::empty());
        }
        page.observations = note(std::mem::take(&mut page.observations), d.observations);
        set_facts(page, &d.scanned);
        return keys;
    }
    let side = if how.includes.is_empty() {
        Sideloads::default()
    } else {
        Sideloads::new(&f.body, &f.scanned, Some((how.key, &f.scanned.records)))
    };
    page.records.reserve(take.len());
    let mut keys = Vec::with_capacity(take.len());
    let offset = page.offset;
    let ((), seen) = observe::collect(|| {
        decode::report_envelope(&f.scanned, how.key, true);
        for (k, i) in take.enumerate() {
            let Some(r) = f.scanned.records.get(i) else {
                break;
            };
            let text = decode::text(&f.body, r.clone());
            let at = format!("{}[{i}]", how.key);
            match (how.decode)(text, &at, how.includes, &side) {
                Ok(rec) => {
                    keys.push((how.key_of)(&rec, text));
                    page.records.push(rec);
                }
                Err((error, merged)) => page.undecoded.push(UndecodedRecord {
                    index: offset + k as u64,
                    id: decode::raw_id(text),
                    raw: merged.unwrap_or_else(|| text.to_string()),
                    error,
                }),
            }
        }
    });
    if let Some(client) = how.drift
        && (!seen.is_empty() || !page.undecoded.is_empty())
    {
        let (model, shape) = decode::list_owner(how.key);
        client.note_drift(model, shape, &seen, page.undecoded.iter().map(|u| &u.error));
    }
    page.observations = note(std::mem::take(&mut page.observations), seen);
    set_facts(page, &f.scanned);
    keys
}

/// Copy an answer's pagination facts onto its page.
fn set_facts<R>(page: &mut Page<R>, s: &Scanned) {
    let facts = &s.facts;
    page.count = facts.count;
    page.next_present = facts.next.is_some();
    page.next = facts.next.clone().flatten();
    page.previous = s.previous.clone();
    page.meta = s.meta.clone();
}

/// A spawned task that is cancelled when dropped.
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
                message: format!("the page task failed: {e}"),
                source: None,
            }),
        })
    }
}

/// A decoded page and the identities of its records.
type Decoded<R> = (Page<R>, Vec<Option<u64>>);

/// How many decoded pages may wait to be taken.
const DECODE_AHEAD: usize = 2;

/// The walk over a list: sends what the cursor asks for, decodes pages in
/// order, drops repeated records.
struct Driver<R> {
    src: Arc<Source<R>>,
    cursor: Cursor,
    limit: Option<u32>,
    fetching: FuturesOrdered<AbortOnDrop<Fetched<R>>>,
    decoding: VecDeque<BoxFuture<'static, Result<Decoded<R>, Error>>>,
    prev_keys: HashSet<u64>,
    strict: bool,
    stopped: bool,
    /// How many pages to keep in flight, adapting to the link.
    window: Window,
    /// The client's 429/503 count when this walk last looked.
    throttled: u64,
}

impl<R: Send + Sync + 'static> Driver<R> {
    fn new(src: Source<R>, walk: Walk, strict: bool) -> Driver<R> {
        let origin = origin_of(src.client.base_url());
        Driver {
            limit: walk.page_size,
            window: Window::new(walk.prefetch),
            throttled: src.client.throttled(),
            cursor: Cursor::new(walk, &origin),
            src: Arc::new(src),
            fetching: FuturesOrdered::new(),
            decoding: VecDeque::new(),
            prev_keys: HashSet::new(),
            strict,
            stopped: false,
        }
    }

    fn send_requests(&mut self) {
        if self.stopped {
            return;
        }
        for req in self.cursor.next_requests() {
            self.window.on_first_request(std::time::Instant::now());
            let src = self.src.clone();
            self.fetching.push_back(AbortOnDrop(tokio::spawn(
                async move { src.fetch(req).await },
            )));
        }
    }

    /// Stop: nothing more is sent; requests in flight are dropped.
    fn stop(&mut self) {
        self.stopped = true;
        self.fetching = FuturesOrdered::new();
    }

    async fn next_page(&mut self) -> Option<Result<Page<R>, Error>> {
        loop {
            self.send_requests();
            let ready_to_yield = !self.decoding.is_empty()
                && (self.decoding.len() >= DECODE_AHEAD || self.fetching.is_empty());
            if ready_to_yield {
                let fut = self.decoding.pop_front()?;
                match fut.await {
                    Ok((page, keys)) => match self.finish(page, keys) {
                        Some(item) => return Some(item),
                        None => continue,
                    },
                    Err(e) => {
                        self.stop();
                        self.decoding.clear();
                        return Some(Err(e));
                    }
                }
            }
            let Some(fetched) = self.fetching.next().await else {
                if self.decoding.is_empty() {
                    return None;
                }
                continue;
            };
            let fetched = match fetched {
                Ok(f) => f,
                Err(e) => {
                    self.stop();
                    self.decoding.push_back(async move { Err(e) }.boxed());
                    continue;
                }
            };
            self.window.on_page(std::time::Instant::now());
            let throttled = self.src.client.throttled();
            if throttled != self.throttled {
                self.throttled = throttled;
                self.window.on_throttle();
            }
            self.cursor.set_window(self.window.size());
            let len = fetched.len();
            let fp = fetched.first_fingerprint();
            match self.cursor.observe(fetched.facts(), len, fp) {
                Err(e) => {
                    self.stop();
                    let e = cursor_error(e);
                    self.decoding.push_back(async move { Err(e) }.boxed());
                }
                Ok(step) => {
                    if step.replan {
                        self.fetching = FuturesOrdered::new();
                    }
                    if self.cursor.is_done() {
                        // nothing more is needed: drop what is in flight
                        self.fetching = FuturesOrdered::new();
                    }
                    if step.take.is_empty() {
                        continue;
                    }
                    let src = self.src.clone();
                    let style = self.cursor.style().unwrap_or(PageStyle::LimitOffset);
                    let limit = self.limit;
                    let task = AbortOnDrop(tokio::spawn(async move {
                        Ok(src.decode_page(fetched, step.take, step.offset, limit, style))
                    }));
                    self.decoding.push_back(task.boxed());
                }
            }
        }
    }

    /// Drop records seen in the previous page; in strict mode, fail on an
    /// undecoded record. `None`: nothing left to yield from this page.
    fn finish(
        &mut self,
        mut page: Page<R>,
        keys: Vec<Option<u64>>,
    ) -> Option<Result<Page<R>, Error>> {
        if self.strict
            && let Some(u) = page.undecoded.first()
        {
            self.stop();
            self.decoding.clear();
            return Some(Err(Error::UndecodedRecord(Box::new(u.clone()))));
        }
        if !self.prev_keys.is_empty() && keys.iter().flatten().any(|k| self.prev_keys.contains(k)) {
            let mut keep = keys
                .iter()
                .map(|k| k.is_none_or(|k| !self.prev_keys.contains(&k)));
            page.records.retain(|_| keep.next().unwrap_or(true));
        }
        self.prev_keys = keys.into_iter().flatten().collect();
        if page.records.is_empty() && page.undecoded.is_empty() {
            return None;
        }
        Some(Ok(page))
    }
}

fn cursor_error(e: CursorError) -> Error {
    match e {
        CursorError::OffsetIgnored { offset } => Error::OffsetIgnored { offset },
        CursorError::ForeignLink { link } => Error::Pagination(format!(
            "the server's `next` link points to another server ({link}); not following it, as it would get your token"
        )),
        CursorError::NoPageSize => Error::Pagination(
            "the server pages by page number but says no page size (`meta.per_page`)".into(),
        ),
        CursorError::RepeatedLink { link } => Error::Pagination(format!(
            "the server's `next` link repeats one already followed ({link}); stopping instead of looping"
        )),
    }
}

/// `scheme://host:port` of a base URL.
fn origin_of(base: &str) -> String {
    match reqwest::Url::parse(base) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => base.trim_end_matches('/').to_string(),
    }
}

/// Pages of a walk, as a stream.
pub(crate) fn walk<R: Send + Sync + 'static>(
    src: Source<R>,
    walk: Walk,
    strict: bool,
) -> BoxStream<'static, Result<Page<R>, Error>> {
    let driver = Driver::new(src, walk, strict);
    stream::unfold(driver, |mut d| async move {
        d.next_page().await.map(|item| (item, d))
    })
    .boxed()
}

/// All pages from `offset`, `limit` records per request.
pub(crate) fn pages<R: Send + Sync + 'static>(
    src: Source<R>,
    offset: u64,
    limit: u32,
    prefetch: Prefetch,
    strict: bool,
) -> BoxStream<'static, Result<Page<R>, Error>> {
    walk(
        src,
        Walk {
            offset,
            count: None,
            page_size: Some(limit),
            max_page_size: MAX_LIMIT,
            prefetch,
        },
        strict,
    )
}

/// One page: the window `offset .. offset + limit` (or, without a limit,
/// the rest of the server's page holding `offset`), assembled from as many
/// answers as the server's paging needs.
pub(crate) async fn window<R: Send + Sync + 'static>(
    src: Source<R>,
    offset: u64,
    limit: Option<u32>,
    strict: bool,
) -> Result<Page<R>, Error> {
    let mut s = walk(
        src,
        Walk {
            offset,
            count: limit.map(u64::from),
            page_size: limit,
            max_page_size: MAX_LIMIT,
            prefetch: Prefetch::fixed(1),
        },
        strict,
    );
    let mut out: Option<Page<R>> = None;
    while let Some(p) = s.next().await {
        let p = p?;
        match &mut out {
            None => out = Some(p),
            Some(o) => {
                o.records.extend(p.records);
                o.undecoded.extend(p.undecoded);
                o.observations = note(std::mem::take(&mut o.observations), p.observations);
                o.next = p.next;
                o.next_present = p.next_present;
                o.count = p.count.or(o.count);
                o.meta = p.meta.or(o.meta.take());
            }
        }
        if limit.is_none() {
            break;
        }
    }
    Ok(out.unwrap_or_else(|| Page::empty(offset, limit, PageStyle::LimitOffset)))
}

/// Decode a whole list body, without includes (see [`super::decode_page`]).
pub(crate) fn decode_body<M: Model>(body: &[u8]) -> Result<Page<M>, DecodeError> {
    let f = match (super::codec::of::<M>().direct)(body, M::META.many) {
        Some(d) => Fetched {
            body: Bytes::new(),
            scanned: Scanned::default(),
            direct: Some(d),
        },
        None => Fetched {
            scanned: decode::scan_list(body, None, M::META.many)?,
            body: Bytes::copy_from_slice(body),
            direct: None,
        },
    };
    let mut page = Page::empty(0, None, style_of(f.facts()));
    let take = 0..f.len();
    decode_into(
        &mut page,
        f,
        take,
        Decoding {
            key: M::META.many,
            decode: model_decoder::<M>(),
            key_of: model_key::<M>(),
            includes: &Includes::default(),
            drift: None,
        },
    );
    Ok(page)
}

/// The style one answer shows on its own.
fn style_of(f: &super::cursor::Facts) -> PageStyle {
    if f.count.is_some() {
        PageStyle::LimitOffset
    } else if f.page.is_some() && f.per_page.is_some() {
        PageStyle::PageNumber
    } else if f.next.is_some() {
        PageStyle::NextLink
    } else {
        PageStyle::Unpaged
    }
}

/// The records of a page stream, one by one, in server order; an undecoded
/// record is an [`Error::UndecodedRecord`] item that does not end the stream.
pub(crate) fn records<R: Send + 'static>(
    pages: BoxStream<'static, Result<Page<R>, Error>>,
) -> BoxStream<'static, Result<R, Error>> {
    pages
        .flat_map(|p| match p {
            Ok(p) => {
                let undecoded = p
                    .undecoded
                    .into_iter()
                    .map(|u| Err(Error::UndecodedRecord(Box::new(u))));
                stream::iter(
                    p.records
                        .into_iter()
                        .map(Ok)
                        .chain(undecoded)
                        .collect::<Vec<_>>(),
                )
            }
            Err(e) => stream::iter(vec![Err(e)]),
        })
        .boxed()
}

/// Collect a page stream.
pub(crate) async fn collect<R: Send + 'static>(
    mut pages: BoxStream<'static, Result<Page<R>, Error>>,
) -> Result<Records<R>, Error> {
    let mut out = Records {
        records: Vec::new(),
        undecoded: Vec::new(),
        observations: Vec::new(),
    };
    while let Some(p) = pages.next().await {
        let p = p?;
        let end = p.offset + (p.records.len() + p.undecoded.len()) as u64;
        let total = p.total();
        out.records.extend(p.records);
        out.undecoded.extend(p.undecoded);
        out.observations = note(std::mem::take(&mut out.observations), p.observations);
        if let Some(total) = total {
            reserve_rest(&mut out.records, total.saturating_sub(end));
        }
    }
    Ok(out)
}

/// Make room for the `rest` records the server says are still to come, once
/// they are no more than those already held: the list then ends at the size
/// it needs instead of the next doubling (at 100,000 records, 31,072 slots of
/// a record's size less). The server's count is not trusted further than
/// that: a lying count makes `all()` reserve at most as much again as it
/// already holds, never what the count claims.
fn reserve_rest<R>(records: &mut Vec<R>, rest: u64) {
    let held = records.len();
    match usize::try_from(rest) {
        Ok(rest) if rest > 0 && rest <= held && records.capacity() - held < rest => {
            records.reserve_exact(rest);
        }
        _ => {}
    }
}

mod sealed {
    use crate::Model;
    use crate::meta::FieldMeta;

    pub trait Sealed {
        /// What the listed records are called and their fields: the
        /// model's, or its approval schema's (`None` if it has none).
        fn listed<M: Model>() -> Option<(&'static str, &'static [FieldMeta])> {
            Some((M::META.name, M::META.fields))
        }
    }
}

/// What a [`ListRequest`] lists and how it runs: a model's records
/// ([`Async`], or `Blocking` with the blocking facade) or its approval queue
/// ([`ApprovalQueue`]). The builder methods they share (paging, raw filters,
/// concurrency, strictness, portal) are written once, on [`ListRequest`].
pub trait ListKind: sealed::Sealed + Clone + Send + Sync + 'static {}

/// The kinds that list a model's records, so filters, sort keys, includes and
/// the loader keywords are typed by the model.
pub trait RecordKind: ListKind {}

/// A list of a model's records, run asynchronously: the default kind of
/// [`ListRequest`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Async;

impl sealed::Sealed for Async {}
impl ListKind for Async {}
impl RecordKind for Async {}

/// A list of a model's approval queue: [`ApprovalList`](super::ApprovalList).
#[derive(Clone, Copy, Debug, Default)]
pub struct ApprovalQueue;

impl sealed::Sealed for ApprovalQueue {
    fn listed<M: Model>() -> Option<(&'static str, &'static [crate::meta::FieldMeta])> {
        M::META.approval.as_ref().map(|a| (a.schema, a.fields))
    }
}
impl ListKind for ApprovalQueue {}

#[cfg(feature = "blocking")]
impl sealed::Sealed for super::blocking::Blocking {}

/// A list request of one model: filters, sort, includes and paging, then
/// [`page`](Self::page), [`stream`](Self::stream) or [`all`](Self::all).
///
/// Built by [`Api::list`](super::Api::list) or [`Api::load`](super::Api::load).
/// The same builder, with another kind `K`, is the approval queue's
/// [`ApprovalList`](super::ApprovalList) and the blocking facade's `List`.
#[must_use = "a list request does nothing until it is run (page(), stream(), all() or iter())"]
pub struct ListRequest<M: Model, K: ListKind = Async> {
    pub(super) client: Client,
    pub(super) portal: Portal,
    pub(super) query: ListQuery,
    pub(super) default_includes: bool,
    /// A window the user fixed (`None`: the client's, adaptive by default).
    pub(super) concurrency: Option<usize>,
    pub(super) strict: bool,
    pub(super) invalid: Option<InvalidInput>,
    pub(super) kind: K,
    _m: PhantomData<fn() -> M>,
}

impl<M: Model, K: ListKind> Clone for ListRequest<M, K> {
    fn clone(&self) -> Self {
        ListRequest {
            client: self.client.clone(),
            portal: self.portal,
            query: self.query.clone(),
            default_includes: self.default_includes,
            concurrency: self.concurrency,
            strict: self.strict,
            invalid: self.invalid.clone(),
            kind: self.kind.clone(),
            _m: PhantomData,
        }
    }
}

impl<M: Model, K: ListKind> std::fmt::Debug for ListRequest<M, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListRequest")
            .field("model", &M::META.name)
            .field("kind", &std::any::type_name::<K>())
            .field("portal", &self.portal)
            .field("query", &self.query)
            .field("concurrency", &self.concurrency)
            .field("strict", &self.strict)
            .finish()
    }
}

/// The builder methods every kind of list shares.
impl<M: Model, K: ListKind> ListRequest<M, K> {
    pub(crate) fn new(client: Client, portal: Portal, kind: K) -> Self {
        let concurrency = None;
        ListRequest {
            client,
            portal,
            query: ListQuery::new(),
            default_includes: false,
            concurrency,
            strict: false,
            invalid: None,
            kind,
            _m: PhantomData,
        }
    }

    /// The same request, run as another kind (async <-> blocking).
    #[cfg(feature = "blocking")]
    pub(crate) fn with_kind<L: ListKind>(self, kind: L) -> ListRequest<M, L> {
        ListRequest {
            client: self.client,
            portal: self.portal,
            query: self.query,
            default_includes: self.default_includes,
            concurrency: self.concurrency,
            strict: self.strict,
            invalid: self.invalid,
            kind,
            _m: PhantomData,
        }
    }

    fn invalid(&mut self, path: &str, message: String) {
        let e = self.invalid.get_or_insert(InvalidInput { errors: vec![] });
        e.errors.push(crate::FieldError {
            path: path.to_string(),
            message,
        });
    }

    /// The portal (default: the API's, private unless changed).
    pub fn portal(mut self, portal: Portal) -> Self {
        self.portal = portal;
        self
    }

    /// Add a filter the typed filters cannot express, such as one through a
    /// relation ([`RawFilter`]`::new("projects.name.icontains", "visual")`);
    /// on an approval queue, any filter on the proposals' fields.
    ///
    /// Unchecked by the compiler, so checked here against the metadata of
    /// what is listed: each step of the path must be a relation to a known
    /// model, the last a field of the model reached, and the lookup one that
    /// field has. A wrong one is reported, naming it, when the request is
    /// sent ([`Error::InvalidInput`]).
    pub fn filter_unchecked(mut self, f: RawFilter) -> Self {
        let clause = f.clause();
        self.check_clause(&clause);
        self.query.filters.push(clause);
        self
    }

    fn check_clause(&mut self, clause: &crate::query::FilterClause) {
        let Some((name, fields)) = K::listed::<M>() else {
            return;
        };
        if let Err(message) = crate::query::check_clause(name, fields, clause) {
            self.invalid(&clause.key(), message);
        }
    }

    /// Page size (1..=100). For `stream` and `all` it is the size of each
    /// page fetched (default 100).
    pub fn limit(mut self, n: u32) -> Self {
        self.query.limit = Some(n);
        self
    }

    /// Records to skip.
    pub fn offset(mut self, n: u64) -> Self {
        self.query.offset = Some(n);
        self
    }

    /// Fix the pages kept in flight (1 = sequential) for this request; by
    /// default the window adapts (see [`ClientBuilder::concurrency`](super::ClientBuilder::concurrency)).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n.max(1));
        self
    }

    /// Fail on the first record that does not decode
    /// ([`Error::UndecodedRecord`]) instead of keeping it raw in
    /// [`Page::undecoded`] / [`Records::undecoded`] and going on.
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Replace the whole query with a prepared [`ListQuery`] (for tools that
    /// build queries from text). Unchecked by the compiler, so checked here
    /// against the metadata of what is listed: every filter as in
    /// [`filter_unchecked`](Self::filter_unchecked), every sort key a
    /// sortable field, every include a path of includable relations. A wrong
    /// one is reported, naming it, when the request is sent; the values
    /// themselves are sent as they are.
    pub fn query_unchecked(mut self, q: ListQuery) -> Self {
        for clause in &q.filters {
            self.check_clause(clause);
        }
        if let Some((name, fields)) = K::listed::<M>() {
            for s in &q.sort {
                if !fields.iter().any(|f| f.name == s.field && f.sortable) {
                    let sortable: Vec<&str> = fields
                        .iter()
                        .filter(|f| f.sortable)
                        .map(|f| f.name)
                        .collect();
                    self.invalid(
                        &format!("sort[{}]", s.value()),
                        format!(
                            "`{}` is not a sortable field of `{name}`; sortable: {}",
                            s.field,
                            sortable.join(", ")
                        ),
                    );
                }
            }
            for path in &q.include {
                if let Err(message) = check_include_fields(name, fields, path) {
                    self.invalid(&format!("include[{path}]"), message);
                }
            }
        }
        self.query = q;
        self.default_includes = false;
        self
    }

    /// The query as it stands.
    pub fn as_query(&self) -> &ListQuery {
        &self.query
    }

    /// Input errors noted while building, then the query's own checks:
    /// they say what to fix before anything else is looked at.
    pub(super) fn check_input(&self) -> Result<(), Error> {
        if let Some(e) = &self.invalid {
            return Err(Error::InvalidInput(e.clone()));
        }
        Ok(self.query.check()?)
    }

    /// Where the records come from: operation `op` on this request's portal,
    /// records under `key`, the query without paging (the cursor adds it).
    pub(super) fn source_with<R>(
        &self,
        op: Operation,
        key: &'static str,
        decode: DecodeFn<R>,
        key_of: KeyFn<R>,
    ) -> Result<Source<R>, Error> {
        let mut query = self.query.clone();
        query.limit = None;
        query.offset = None;
        Ok(Source {
            client: self.client.clone(),
            path: op.path().replace("{portal}", self.portal.as_str()),
            key,
            auth: auth_for(self.portal),
            includes: Includes::from_paths(&query.include),
            query,
            decode,
            key_of,
            direct: None,
        })
    }

    /// One page of `src` (see [`ListRequest::page`]).
    pub(super) async fn page_of<R: Send + Sync + 'static>(
        &self,
        src: Result<Source<R>, Error>,
    ) -> Result<Page<R>, Error> {
        window(
            src?,
            self.query.offset.unwrap_or(0),
            self.query.limit,
            self.strict,
        )
        .await
    }

    /// Every page of `src` from `offset` on (see [`ListRequest::pages`]).
    pub(super) fn pages_of<R: Send + Sync + 'static>(
        &self,
        src: Result<Source<R>, Error>,
    ) -> BoxStream<'static, Result<Page<R>, Error>> {
        match src {
            Ok(src) => {
                let prefetch = match self.concurrency {
                    Some(n) => Prefetch::fixed(n),
                    None => src.client.prefetch(),
                };
                pages(
                    src,
                    self.query.offset.unwrap_or(0),
                    self.query.limit.unwrap_or(MAX_LIMIT),
                    prefetch,
                    self.strict,
                )
            }
            Err(e) => stream::once(async move { Err(e) }).boxed(),
        }
    }
}

/// The builder methods of lists of a model's records (async and blocking).
impl<M: Model, K: RecordKind> ListRequest<M, K> {
    pub(crate) fn with_default_includes(mut self, includes: Vec<String>) -> Self {
        self.query.include = includes;
        self.default_includes = true;
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

    /// Add a sort key of this model: `SessionSort::Name.desc()`, or a bare
    /// `SessionSort::Name` (ascending); the first is most significant. A
    /// field of another model does not compile:
    ///
    /// ```compile_fail,E0277
    /// fn f(c: &brainstem::Client) {
    ///     use brainstem::query::SortField;
    ///     let _ = c.sessions().list().sort(brainstem::models::ProjectSort::Name.desc());
    /// }
    /// ```
    pub fn sort(mut self, key: impl Into<SortKey<M::Sort>>) -> Self {
        self.query.sort.push(key.into().into());
        self
    }

    /// Include a relation: its field then holds
    /// [`Related::Object`](crate::Related::Object)s, whether the server embeds
    /// the records or sideloads them (dynamic-rest's default); a record the
    /// server did not send is [`Related::Missing`](crate::Related::Missing).
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

    /// Include a nested relation by its dotted path (`"behaviors.setup"`: the
    /// behaviors, each with its setup). Every step must be an includable
    /// relation of the model before it; a wrong path is reported, naming it,
    /// when the request is sent.
    pub fn include_path(mut self, path: &str) -> Self {
        if self.default_includes {
            self.query.include.clear();
            self.default_includes = false;
        }
        match check_include_path(M::META, path) {
            Ok(()) => self.query.include.push(path.to_string()),
            Err(message) => self.invalid(&format!("include[{path}]"), message),
        }
        self
    }

    /// Drop all includes (also a loader's defaults).
    pub fn no_includes(mut self) -> Self {
        self.query.include.clear();
        self.default_includes = false;
        self
    }

    /// A loader keyword filter (`"name"`, `"projects"`, `"tags"`, ...), as the
    /// official Python tool's `load_<model>(name=...)`: the keyword maps to a
    /// dynamic-rest filter through the model's loader data in the spec. Only
    /// the generated `by_<keyword>` methods call it (typed per model, so a
    /// misspelt keyword does not compile); an unknown keyword is still
    /// reported, with the valid ones, when the request is sent.
    pub(crate) fn by(mut self, keyword: &str, value: impl QueryValue) -> Self {
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

    /// The model's list operation, if it may be used on this portal.
    fn list_op(&self) -> Result<Operation, Error> {
        let op = M::META.list.ok_or_else(|| {
            Error::NotSupported(format!("`{}` has no list operation", M::META.name))
        })?;
        if !op.portals().contains(&self.portal) {
            return Err(Error::NotSupported(format!(
                "`{}` cannot be listed on the {} portal (allowed: {})",
                M::META.name,
                self.portal,
                fmt_portals(op.portals())
            )));
        }
        Ok(op)
    }

    fn records_source<R>(&self, decode: DecodeFn<R>, key_of: KeyFn<R>) -> Result<Source<R>, Error> {
        self.check_input()?;
        self.source_with(self.list_op()?, M::META.many, decode, key_of)
    }
}

/// Running an async list of records.
impl<M: Model> ListRequest<M, Async> {
    fn source(&self) -> Result<Source<M>, Error> {
        let mut src = self.records_source(model_decoder::<M>(), model_key::<M>())?;
        src.direct = Some(super::codec::of::<M>().direct);
        Ok(src)
    }

    /// Every page from `offset` on, each record as the server sent it (its
    /// text, sideloads merged in) with its id: for callers that keep the
    /// text and need no typed record (the mirror).
    #[cfg_attr(not(feature = "mirror"), allow(dead_code))]
    pub(crate) fn raw_pages(self) -> BoxStream<'static, Result<Page<RawRecord>, Error>> {
        let src = self.records_source(raw_decoder::<M>(), |r, _| r.id.as_deref().map(hash_key));
        self.pages_of(src)
    }

    /// The same request, reading records as plain JSON values instead of
    /// typed records: the escape hatch when a typed decode is in the way.
    /// Paging, includes (sideloads merged in) and checks are the same.
    pub fn json(self) -> JsonList<M> {
        JsonList { inner: self }
    }

    /// One page, with its pagination facts: the records from `offset`, at
    /// most `limit` of them (without `limit`, the rest of the server's page).
    /// On a page-numbered server the window is assembled from the pages that
    /// hold it, so the records are exactly those asked for.
    pub async fn page(self) -> Result<Page<M>, Error> {
        self.page_of(self.source()).await
    }

    /// Every page from `offset` on, as a stream.
    pub fn pages(self) -> BoxStream<'static, Result<Page<M>, Error>> {
        self.pages_of(self.source())
    }

    /// Every record from `offset` on, as a stream; memory stays bounded by
    /// the pages in flight (at most [`MAX_IN_FLIGHT`](super::MAX_IN_FLIGHT)). A record that does not decode is an
    /// [`Error::UndecodedRecord`] item (carrying its raw JSON) and the stream
    /// goes on, unless [`strict`](Self::strict); any other error ends it.
    pub fn stream(self) -> impl Stream<Item = Result<M, Error>> + Send + 'static {
        records(self.pages())
    }

    /// Every record from `offset` on. Records that do not decode are kept raw
    /// in [`Records::undecoded`] (or fail the call, if [`strict`](Self::strict)).
    pub async fn all(self) -> Result<Records<M>, Error> {
        collect(self.pages()).await
    }
}

/// Check a dotted include path against the metadata.
pub(crate) fn check_include_path(
    meta: &'static crate::meta::ModelMeta,
    path: &str,
) -> Result<(), String> {
    check_include_fields(meta.name, meta.fields, path)
}

/// Check a dotted include path against the fields of `name`.
pub(crate) fn check_include_fields(
    name: &'static str,
    fields: &'static [crate::meta::FieldMeta],
    path: &str,
) -> Result<(), String> {
    let (mut name, mut fields) = (name, fields);
    for seg in path.trim_end_matches(".*").split('.') {
        let f = fields
            .iter()
            .find(|f| f.name == seg && f.includable)
            .ok_or_else(|| format!("`{seg}` is not an includable relation of `{name}`"))?;
        let m = f
            .related
            .and_then(crate::meta::ModelMeta::find_path)
            .ok_or_else(|| format!("`{seg}` of `{name}` names no known model"))?;
        (name, fields) = (m.name, m.fields);
    }
    Ok(())
}

/// A list request that reads records as JSON values (see [`ListRequest::json`]).
#[must_use = "a list request does nothing until page(), stream() or all() is called"]
#[derive(Clone, Debug)]
pub struct JsonList<M: Model> {
    inner: ListRequest<M>,
}

fn json_decoder<M: Model>() -> DecodeFn<Value> {
    |t, at, inc, side| decode::json_record(t, M::META, at, inc, side)
}

impl<M: Model> JsonList<M> {
    fn source(&self) -> Result<Source<Value>, Error> {
        self.inner
            .records_source(json_decoder::<M>(), raw_key::<Value>())
    }

    /// One page (see [`ListRequest::page`]).
    pub async fn page(self) -> Result<Page<Value>, Error> {
        self.inner.page_of(self.source()).await
    }

    /// Every page from `offset` on (see [`ListRequest::pages`]).
    pub fn pages(self) -> BoxStream<'static, Result<Page<Value>, Error>> {
        self.inner.pages_of(self.source())
    }

    /// Every record from `offset` on, as a stream (see [`ListRequest::stream`]).
    pub fn stream(self) -> impl Stream<Item = Result<Value, Error>> + Send + 'static {
        records(self.pages())
    }

    /// Every record from `offset` on (see [`ListRequest::all`]).
    pub async fn all(self) -> Result<Records<Value>, Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A page decoded in one pass and the same page scanned and decoded
    /// record by record, as JSON text of everything a caller can see.
    struct BothWays<'a>(&'a [u8]);

    impl crate::ModelVisitor for BothWays<'_> {
        type Output = Option<(String, String)>;
        fn visit<M: Model>(self) -> Self::Output {
            let show = |page: &Page<M>, fp: Option<u64>| {
                format!(
                    "{} | {:?} | {:?} {:?} {:?} {:?} {:?} | {fp:?}",
                    serde_json::to_string(&page.records).unwrap_or_default(),
                    page.observations,
                    page.count,
                    page.next,
                    page.next_present,
                    page.previous,
                    page.meta,
                )
            };
            let none = Includes::default();
            let how = || Decoding {
                key: M::META.many,
                decode: model_decoder::<M>(),
                key_of: model_key::<M>(),
                includes: &none,
                drift: None,
            };
            let direct = decode::direct_list::<M>(self.0, M::META.many)?;
            let f = Fetched {
                body: Bytes::new(),
                scanned: Scanned::default(),
                direct: Some(direct),
            };
            let fp = f.first_fingerprint();
            let mut one = Page::empty(0, None, PageStyle::LimitOffset);
            let n = f.len();
            decode_into(&mut one, f, 0..n, how());
            let f = Fetched {
                scanned: decode::scan_list(self.0, None, M::META.many).ok()?,
                body: Bytes::copy_from_slice(self.0),
                direct: None,
            };
            let fp2 = f.first_fingerprint();
            let mut two = Page::empty(0, None, PageStyle::LimitOffset);
            decode_into(&mut two, f, 0..n, how());
            assert!(two.undecoded.is_empty());
            Some((show(&one, fp), show(&two, fp2)))
        }
    }

    #[test]
    fn one_pass_decoding_equals_record_by_record_for_every_model() {
        let mut checked = 0;
        for meta in crate::MODELS {
            let path = format!(
                "{}/tests/fixtures/models/{}/list.json",
                env!("CARGO_MANIFEST_DIR"),
                meta.name
            );
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let mut body: Value = serde_json::from_str(&text).unwrap();
            let plain = serde_json::to_vec(&body).unwrap();
            // and with what the schema does not know, and paging facts
            if let Some(list) = body.get_mut(meta.many).and_then(Value::as_array_mut) {
                for r in list.iter_mut().filter_map(Value::as_object_mut) {
                    r.insert("zz_new".into(), serde_json::json!({"a": [1, 2.5]}));
                    r.remove("name");
                }
            }
            body["count"] = serde_json::json!("7");
            body["next"] = serde_json::json!("http://x/?offset=2");
            body["meta"] = serde_json::json!({"page": 1, "per_page": 2});
            body["projects_extra"] = serde_json::json!([{"id": 1}]);
            let tweaked = serde_json::to_vec(&body).unwrap();
            for b in [&plain, &tweaked] {
                let (one, two) = crate::models::with_model(meta.name, BothWays(b))
                    .flatten()
                    .unwrap_or_else(|| panic!("{}: the one-pass decode gave up", meta.name));
                assert_eq!(one, two, "{}", meta.name);
            }
            checked += 1;
        }
        assert!(checked >= 20, "only {checked} models have list fixtures");
    }

    #[test]
    fn a_record_that_does_not_decode_falls_back_to_the_scan() {
        let body = br#"{"sessions": [{"id": "fe7ea03a-ecef-56a9-8317-20c31169773e", "name": "a"}, {"id": {"no": 1}}], "count": 2}"#;
        assert!(decode::direct_list::<crate::types::Session>(body, "sessions").is_none());
        let page = decode_body::<crate::types::Session>(body).unwrap();
        assert_eq!(page.records.len(), 1);
        assert_eq!(page.undecoded.len(), 1);
        assert_eq!(page.undecoded[0].index, 1);
        assert_eq!(page.count, Some(2));
        // not UTF-8: the scan names it
        assert!(decode_body::<crate::types::Session>(b"{\"sessions\": [\"\xff\"]}").is_err());
    }

    #[test]
    fn all_reserves_the_rest_only_up_to_what_it_holds() {
        // halfway through 100,000: room for exactly the rest
        let mut v: Vec<u8> = vec![0; 50_000];
        v.shrink_to_fit();
        reserve_rest(&mut v, 50_000);
        assert_eq!(v.capacity(), 100_000);
        // a count claiming 10^15 more reserves nothing
        let mut v: Vec<u8> = vec![0; 1_000];
        v.shrink_to_fit();
        reserve_rest(&mut v, 1_000_000_000_000_000);
        assert_eq!(v.capacity(), 1_000);
        // nor before anything is held, nor when there is room already
        let mut v: Vec<u8> = Vec::new();
        reserve_rest(&mut v, 10);
        assert_eq!(v.capacity(), 0);
        let mut v: Vec<u8> = Vec::with_capacity(64);
        v.extend([1, 2, 3]);
        reserve_rest(&mut v, 3);
        assert_eq!(v.capacity(), 64);
    }

    fn undecoded(index: u64) -> UndecodedRecord {
        UndecodedRecord {
            index,
            id: None,
            raw: format!("{{\"n\": {index}}}"),
            error: DecodeError {
                path: ".".into(),
                message: "bad".into(),
                snippet: String::new(),
                found: None,
            },
        }
    }

    #[test]
    fn items_keep_server_order() {
        let mut p: Page<u64> = Page::empty(10, Some(5), PageStyle::LimitOffset);
        p.records = vec![10, 12, 14];
        p.undecoded = vec![undecoded(11), undecoded(13)];
        let order: Vec<u64> = p
            .items()
            .into_iter()
            .map(|i| i.map_or_else(|u| u.index, |r| *r))
            .collect();
        assert_eq!(order, vec![10, 11, 12, 13, 14]);
        let owned: Vec<u64> = p
            .into_items()
            .into_iter()
            .map(|i| i.unwrap_or_else(|u| u.index))
            .collect();
        assert_eq!(owned, vec![10, 11, 12, 13, 14]);
        // undecoded first and last
        let mut p: Page<u64> = Page::empty(0, None, PageStyle::Unpaged);
        p.records = vec![1];
        p.undecoded = vec![undecoded(0), undecoded(2)];
        let order: Vec<u64> = p
            .into_items()
            .into_iter()
            .map(|i| i.unwrap_or_else(|u| u.index))
            .collect();
        assert_eq!(order, vec![0, 1, 2]);
    }
}
