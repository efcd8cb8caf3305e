//! A stand-in BrainSTEM server for tests, examples and offline work
//! (feature `server`).
//!
//! It serves every model of the spec, generically, from the same metadata the
//! client is generated from: `/api/{portal}/{app}/{model}/` and `/{id}/`
//! (trailing slash optional), approval queues, actions, relation routes and
//! the device sign-in. Lists speak dynamic-rest (`filter{...}`, `sort[]`,
//! `include[]`, `exclude[]`, and `limit` / `offset` or `page` / `per_page`
//! depending on the [`Dialect`]) with its error bodies; writes are validated
//! like DRF does, by [`brainstem::validate`] in server mode.
//!
//! ```no_run
//! # async fn demo() {
//! use brainstem_mock::MockServer;
//! let srv = MockServer::start().await;
//! let url = format!("{}api/private/stem/session/?limit=5", srv.url());
//! // send `Authorization: Bearer {srv.token()}` with each private request
//! # let _ = url;
//! # }
//! ```
//!
//! # The seed
//!
//! Unless told otherwise the server starts with a deterministic seed: three
//! users (Alice `alice@example.org`, id 1, also a reviewer of approval
//! queues; Bob, id 2, member of nothing; Carol, id 3), two groups, four
//! projects of which one ("Visual cortex mapping") is public, a few hundred
//! sessions ([`MockOptions::sessions`]), and records of every other model
//! generated from the spec and checked by the validator. Tokens:
//! [`MockServer::token`] (Alice), [`MockServer::readonly_token`] (Alice, every
//! write refused with 403), [`MockServer::noaccess_token`] (Bob).
//!
//! # Access rules
//!
//! * `private` needs a token (401 otherwise); `public` is read-only (405 for
//!   writes) and shows records of public projects, public personal records
//!   and all reference data. A token the server does not know is 401 on
//!   both portals, as DRF authenticates before anything else.
//! * Projects carry their members (`users` by e-mail, `groups` by group
//!   name); records naming projects follow them, records below those (a
//!   behavior of a session) follow their parent. Changing needs
//!   `can_change`, member maps need `is_manager`, deleting a project needs
//!   `is_owner`.
//! * Personal records (setups, data storages, ...) belong to their creator;
//!   reference data (taxonomies, resources, users) is readable by all and
//!   changed by its creator or a reviewer. Creating or changing a record of
//!   an approval-gated model files a proposal (`<key>_approval`) that a
//!   reviewer accepts or rejects, unless [`MockOptions::auto_approve`].
//!
//! # Dialects
//!
//! The documentation and the real server (Django REST framework with
//! dynamic-rest) do not answer alike. A [`Dialect`], given with
//! [`MockOptions::dialect`] or changed on a running server with
//! [`MockServer::set_dialect`], picks the shape switch by switch; the
//! presets are [`Dialect::docs`] (the default), [`Dialect::dynamic_rest`],
//! [`Dialect::dynamic_rest_countless`] and [`Dialect::drifted`]. On top of
//! any dialect, [`ListKnobs`] break list answers in ways no real server does
//! (no `count`, no `next`, no `meta`, `offset` ignored, added latency).
//!
//! What the dynamic-rest switches do, as read in dynamic-rest's source
//! (`pagination.py`, `paginator.py`, `processors.py`, `serializers.py`,
//! `links.py`, `viewsets.py`):
//!
//! * **Page numbers** ([`Pagination::PageNumber`]). `page` counts from 1
//!   and `per_page` sets the size; `limit` and `offset` are not read at
//!   all. The answer is the records and `meta`: `{"page", "per_page",
//!   "total_results", "total_pages"}` in that order, no `count`, `next` or
//!   `previous` (those only come from serializers that answer with a bare
//!   list). A page that is not a Python integer (`x`, `1.5`, an empty
//!   value), below 1, or after the last page is 404 `{"detail": "Invalid
//!   page."}`; `page=last` is the last page; page 1 of an empty list exists
//!   (`total_pages` is then 1). `per_page` of 0, negative or not a number
//!   falls back to the default size; a larger one than the maximum is cut
//!   to it. dynamic-rest itself has no default (it takes DRF's `PAGE_SIZE`)
//!   and no maximum; the presets use BrainSTEM's documented 20 and 100
//!   ([`Dialect::page_size`], [`Dialect::max_page_size`]).
//! * **`exclude_count`**: any non-empty value (even `0` or `false`; the
//!   server only tests the text) turns counting off. `meta` is then
//!   `{"page", "per_page", "more_pages"}`, pages are not checked against
//!   the end (a page past it is an empty list with `more_pages: false`),
//!   and `page=last` means page 1. [`Dialect::force_exclude_count`] answers
//!   every list that way.
//! * **Sideloading** ([`Dialect::sideloading`]). With `include[]=rel.*`
//!   the related records leave their parents, which keep the ids, and are
//!   listed under the related model's plural key before the primary key
//!   (and before `meta`). The tree is walked depth first, a record's
//!   relations before the record, so `include[]=behaviors.setup.*` gives
//!   `{"setups", "behaviors", "sessions", "meta"}`. A record is listed once
//!   per key: two include paths that reach one model share its key, and a
//!   record reached again has its fields merged into the first copy.
//!   Related records of the primary model go under `"+sessions"` (the key
//!   with a `+`), unless that record was already placed as a primary
//!   record earlier in the page; since a primary record is marked only after
//!   its own relations are walked, a behavior's own session does land in
//!   `"+sessions"`. A single record answers `{"<related>": [...],
//!   "session": {...}}`. `?sideloading=false` embeds instead, and
//!   `?sideloading=true` sideloads even in the documented dialect. Only
//!   `rel.*` (or a nested path) sideloads; `include[]=rel` keeps ids.
//! * **Links** ([`Dialect::omit_empty_links`]): a relation route gets a
//!   link unless the record shows that relation empty (an empty list,
//!   `null`) or the answer includes it (`rel.*`); with no link left there
//!   is no `links` key. `?exclude_links` drops every link.
//! * **Deferred fields** ([`Dialect::deferred_fields`]) are left out of
//!   read answers unless named by `include[]=field` (`include[]=rel.field`
//!   for a related record, which then is sideloaded or embedded); write
//!   answers carry every field, as dynamic-rest includes all fields when
//!   answering a write. The dynamic-rest presets defer `session.description`.
//! * **Relation routes** (`/project/{id}/sessions/`) are answered whole,
//!   without paging or `meta`, in page-number mode: dynamic-rest serves
//!   them outside its paginator.
//!
//! Drift and faults, not from dynamic-rest: [`Dialect::extra_field_every`]
//! adds `"x_server_note": {"n": 12, "big": 1e400, "tags": ["a"]}` to every
//! n-th record of each model (by creation order, in every answer that shows
//! the record, lists, single records, related records and writes); the
//! number is written as it stands, so the body does not parse into an
//! `f64`-based JSON value. [`Dialect::missing_field_every`] drops
//! [`Dialect::missing_fields`] from every n-th record. With
//! [`Dialect::undecodable_writes`] a create, `PUT` or `PATCH` that succeeds
//! is stored and answered with its usual status, but under the envelope key
//! the record keeps only its `id` as text: every other string value is the
//! number `12345` (`{"session": {"id": "…", "name": 12345, "description":
//! 12345, "projects": ["…"], …}}`).
//!
//! # Where this server is stricter or simpler than BrainSTEM
//!
//! * Filter lookups are those the spec lists per field; another lookup is a
//!   400 with a list body (`["Unsupported lookup 'gt' for field 'name'."]`)
//!   where Django might accept it. Sorting follows the `sortable` flags and
//!   to-one paths. Text sorts by code point.
//! * `include[]=rel.*` embeds or sideloads (see the dialects);
//!   `include[]=rel` keeps ids (dynamic-rest); `exclude[]=field` drops a
//!   field. Include paths deeper than 8 levels are refused, and relations
//!   more than 5 levels down stay ids. Filters do not narrow included
//!   records, and `include[]=*` / `exclude[]=*` have no special meaning.
//! * Which records the documented dialect's `links` name is fixed per
//!   model (every relation route the spec lists for it).
//! * Unique fields come from the spec's `x-brainstem-unique` flags. What
//!   accepting an invitation grants is not in the spec yet; the server uses
//!   the documented mapping (see `catalog.rs`).
//! * Invitation and request actions delete the invitation; `accept` adds the
//!   member to the project's or group's member map. `join` / `leave` edit the
//!   group's member map directly.
//! * The order of a session's data storages lives in its through table
//!   (`/stem/sessiondatastorage/`); writing either side updates the other.
//!
//! # Network
//!
//! On loopback every answer arrives at once; a real server is across a
//! network. Three knobs put one in between (all also flags of the
//! `mock_server` example and of `brainstem mock`):
//!
//! * **Latency** ([`MockOptions::latency_ms`], the same as
//!   [`ListKnobs::latency_ms`]): a wait before each request is served.
//! * **Bandwidth** ([`MockOptions::bandwidth`], bytes per second, off by
//!   default): the answers' bodies go out in chunks over one line of that
//!   rate, shared by every answer in flight, so `n` bytes take at least
//!   `n / rate` seconds however many requests carry them.
//! * **Compression** ([`MockOptions::compression`], on by default, as with
//!   a server behind nginx): gzip or brotli, whichever the request's
//!   `Accept-Encoding` prefers, for bodies of 32 bytes or more; a request
//!   that does not ask gets the plain body with its `Content-Length`.
//!
//! Compression comes before the pacing, so the bandwidth applies to the
//! bytes on the wire: a compressed answer arrives sooner.
//!
//! # Cost budget
//!
//! A list or a retrieve may ask for work without bound: each step of a
//! filter path through relations (`filter{projects.sessions.projects.
//! sessions.name.icontains}`) multiplies the records it reaches by the
//! fan-out, and so does each level of an `include[]`. Every request gets a
//! budget, and a query that would exceed it is answered 400 in DRF's shape,
//! naming the part that was too costly:
//!
//! ```json
//! {"detail": "This query visits more than 2000000 records (filter{projects.sessions.name.icontains}); narrow it (fewer relation steps, fewer or shallower includes, a smaller page)."}
//! ```
//!
//! * **Visits** ([`MockOptions::max_query_visits`], default
//!   [`DEFAULT_MAX_QUERY_VISITS`]): one per record a filter or sort path
//!   reaches through a relation, and one per record an `include[]`
//!   renders (a record included again, under another parent, counts
//!   again). A filter on the model's own fields costs none. Each step of a
//!   filter path reaches every record once, however many records of the
//!   step before name it, so a chain costs at most the sum of its steps'
//!   records per filtered record, not their product.
//! * **Time** ([`MockOptions::max_query_time`], default
//!   [`DEFAULT_MAX_QUERY_TIME`], 2 s): the wall time of the filtering,
//!   sorting and rendering, checked every few hundred visits and every 64
//!   records filtered.
//!
//! Whichever runs out first ends the work. The seed's queries stay far
//! below both (the chain above reaches about 36 000 records with 300
//! sessions). The work runs on tokio's blocking pool, not on the async
//! workers, and on a snapshot of the records: a costly query holds up
//! neither other clients nor writers. The `regex` lookup (which no field of
//! the current spec allows) compiles with the `regex` crate, which does not
//! backtrack, and refuses a pattern whose compiled form would pass 1 MiB.
//! Include paths deeper than 8 levels are refused before any work, and a
//! request body over 2 MiB (axum's default limit) is 413.
//!
//! # Inside
//!
//! One generic code path serves every model. `routes.rs` is the URL table
//! (axum's router); `dispatch.rs` turns an API route into its operation,
//! after authentication (`auth.rs`) and the permission checks, as DRF
//! orders them; `read.rs`, `write.rs` (bodies checked in `clean.rs`),
//! `approval.rs`, `membership.rs` and `history.rs` serve the operations,
//! `device.rs` the device sign-in. Handlers see the shared state
//! (`state.rs`) and one request (`request.rs`); who may see and change what
//! is in `access.rs`, the query language in `query.rs` and `paging.rs`,
//! answers in `render.rs` and `reply.rs`; `budget.rs` counts what one
//! request's query costs, `network.rs` paces answers to the bandwidth.

mod access;
mod approval;
mod auth;
mod budget;
mod catalog;
mod clean;
mod device;
mod dialect;
mod dispatch;
mod history;
mod membership;
mod network;
mod paging;
mod query;
mod read;
mod render;
mod reply;
mod request;
mod routes;
mod seed;
mod state;
mod store;
mod write;

pub use dialect::{DIALECT_NAMES, Dialect, Pagination};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Map, Value};

use dialect::{Resolved, entity};
use state::{Settings, Shared};
use store::Store;

/// Fault knobs: list answers that no real server should give, so a client's
/// pagination can be tested against every shape it may meet. They apply on
/// top of the [`Dialect`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListKnobs {
    /// Leave out the top-level `count` (limit / offset pagination).
    pub omit_count: bool,
    /// Leave out `next` and `previous` (limit / offset pagination).
    pub omit_next: bool,
    /// Leave out the `meta` object.
    pub omit_meta: bool,
    /// Ignore the position in the list: `offset` (or, with page numbers,
    /// `page`); every request gets the first page.
    pub ignore_offset: bool,
    /// Sideload as [`Dialect::sideloading`] does, and, when a list request
    /// includes nothing, sideload the model's first relation (to another
    /// model) anyway, as a server with a default include would.
    pub sideload: bool,
    /// Wait this many milliseconds before answering each request, like a real
    /// server across a network (for benchmarks; 0, the default, answers at once).
    pub latency_ms: u64,
}

/// Where the records come from.
#[derive(Debug, Clone)]
enum SeedSource {
    Default,
    Empty,
    File(PathBuf),
    Json(Value),
}

/// How to start a [`MockServer`].
///
/// Besides the seed, the port and how the server answers, the options set
/// what one request's query may cost: [`MockOptions::max_query_visits`]
/// (records reached through relations, default 2 000 000) and
/// [`MockOptions::max_query_time`] (default 2 s); a query past either is
/// answered 400 (see the crate docs, "Cost budget").
#[derive(Debug, Clone)]
pub struct MockOptions {
    seed: SeedSource,
    sessions: usize,
    port: u16,
    device_interval: u64,
    device_expires_in: u64,
    auto_approve: bool,
    knobs: ListKnobs,
    dialect: Dialect,
    tokens: Option<[String; 3]>,
    max_query_visits: u64,
    max_query_time: Option<Duration>,
    bandwidth: Option<u64>,
    compression: bool,
}

/// The default of [`MockOptions::max_query_visits`].
pub const DEFAULT_MAX_QUERY_VISITS: u64 = 2_000_000;

/// The default of [`MockOptions::max_query_time`].
pub const DEFAULT_MAX_QUERY_TIME: Duration = Duration::from_secs(2);

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            seed: SeedSource::Default,
            sessions: 300,
            port: 0,
            device_interval: 5,
            device_expires_in: 900,
            auto_approve: false,
            knobs: ListKnobs::default(),
            dialect: Dialect::docs(),
            tokens: None,
            max_query_visits: DEFAULT_MAX_QUERY_VISITS,
            max_query_time: Some(DEFAULT_MAX_QUERY_TIME),
            bandwidth: None,
            compression: true,
        }
    }
}

impl MockOptions {
    /// The defaults: the seed with 300 sessions, a random port.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many sessions the seed makes (default 300).
    pub fn sessions(mut self, n: usize) -> Self {
        self.sessions = n;
        self
    }

    /// Listen on this port of 127.0.0.1 (0, the default, picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Start with no records, users or tokens (add them with a fixture).
    pub fn empty(mut self) -> Self {
        self.seed = SeedSource::Empty;
        self
    }

    /// Load records, users and tokens from a fixture file written by
    /// [`MockServer::save_fixture`].
    pub fn fixture(mut self, path: impl Into<PathBuf>) -> Self {
        self.seed = SeedSource::File(path.into());
        self
    }

    /// Load a fixture document (see [`MockServer::fixture`]).
    pub fn fixture_json(mut self, doc: Value) -> Self {
        self.seed = SeedSource::Json(doc);
        self
    }

    /// Seconds between device-sign-in polls the server asks for (default 5).
    pub fn device_interval(mut self, secs: u64) -> Self {
        self.device_interval = secs;
        self
    }

    /// Seconds until a device code expires (default 900).
    pub fn device_expires_in(mut self, secs: u64) -> Self {
        self.device_expires_in = secs;
        self
    }

    /// Apply writes to approval-gated models at once (answering with the
    /// record) and approve device sign-ins as soon as they start.
    pub fn auto_approve(mut self, yes: bool) -> Self {
        self.auto_approve = yes;
        self
    }

    /// List-response fault knobs (see [`ListKnobs`]).
    pub fn knobs(mut self, knobs: ListKnobs) -> Self {
        self.knobs = knobs;
        self
    }

    /// Answer in this dialect (default [`Dialect::docs`]). Starting fails
    /// when it names fields that do not exist ([`Dialect::check`]).
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Use these tokens for the full, read-only and no-access users of the
    /// seed instead of random ones.
    pub fn tokens(mut self, full: &str, read_only: &str, no_access: &str) -> Self {
        self.tokens = Some([full.into(), read_only.into(), no_access.into()]);
        self
    }

    /// How many records one request's query may reach through relations
    /// (default [`DEFAULT_MAX_QUERY_VISITS`]; `u64::MAX` for no limit).
    /// Each record a filter or sort path reaches after its first step, and
    /// each record an `include[]` renders, is one visit; a filter on the
    /// model's own fields costs none. A query that needs more is answered
    /// 400 (see the crate docs, "Cost budget").
    pub fn max_query_visits(mut self, n: u64) -> Self {
        self.max_query_visits = n;
        self
    }

    /// How long one request's query work (filtering, sorting, rendering
    /// included records) may take before it is refused with 400 (default
    /// [`DEFAULT_MAX_QUERY_TIME`], 2 s; `None` for no limit). Whichever of
    /// this and [`MockOptions::max_query_visits`] is reached first ends the
    /// work.
    pub fn max_query_time(mut self, limit: Option<Duration>) -> Self {
        self.max_query_time = limit;
        self
    }

    /// Wait this many milliseconds before serving each request (0, the
    /// default, serves at once): the round trip of a network. This is
    /// [`ListKnobs::latency_ms`], so a later [`MockOptions::knobs`]
    /// replaces it, and [`MockServer::set_knobs`] changes it while the
    /// server runs.
    pub fn latency_ms(mut self, ms: u64) -> Self {
        self.knobs.latency_ms = ms;
        self
    }

    /// Send the answers' bodies at this many bytes per second in total, in
    /// chunks of a twentieth of a second's worth, as a slow line would
    /// (`None`, the default: as fast as the loopback goes). Answers in
    /// flight together share the line, chunk by chunk. The rate applies to
    /// the bytes on the wire, after compression; `n` bytes take at least
    /// `n / rate` seconds. Headers are not delayed.
    pub fn bandwidth(mut self, bytes_per_sec: Option<u64>) -> Self {
        self.bandwidth = bytes_per_sec;
        self
    }

    /// Compress answers with gzip or brotli when the request's
    /// `Accept-Encoding` names one (on by default, as a server behind nginx
    /// does; answers to requests that do not ask are never compressed, and
    /// bodies under 32 bytes are sent as they are).
    pub fn compression(mut self, on: bool) -> Self {
        self.compression = on;
        self
    }
}

/// A device sign-in waiting for a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDevice {
    /// The code a person types at the verification URL.
    pub user_code: String,
    /// The code the client polls with.
    pub device_code: String,
    /// The `client_name` the client sent.
    pub client_name: String,
}

/// A running stand-in server on 127.0.0.1.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tokens: [String; 3],
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    runtime: Option<tokio::runtime::Runtime>,
}

fn build_store(opts: &MockOptions) -> std::io::Result<(Store, [String; 3])> {
    let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
    let (store, tokens) = match &opts.seed {
        SeedSource::Default => {
            let mut store = Store::new();
            let given = opts.tokens.clone().map(|[a, b, c]| seed::SeedTokens {
                full: a,
                read_only: b,
                no_access: c,
                carol: device::new_token(),
            });
            let (t, _) = seed::seed(&mut store, opts.sessions, given);
            (store, [t.full, t.read_only, t.no_access])
        }
        SeedSource::Empty => (Store::new(), Default::default()),
        SeedSource::File(p) => {
            let text = std::fs::read_to_string(p)?;
            let doc: Value = serde_json::from_str(&text)
                .map_err(|e| invalid(format!("{}: {e}", p.display())))?;
            let store =
                Store::from_fixture(&doc).map_err(|e| invalid(format!("{}: {e}", p.display())))?;
            let t = fixture_tokens(&store);
            (store, t)
        }
        SeedSource::Json(doc) => {
            let store = Store::from_fixture(doc).map_err(invalid)?;
            let t = fixture_tokens(&store);
            (store, t)
        }
    };
    Ok((store, tokens))
}

/// The tokens of a loaded fixture: its `roles`, else the first full token
/// of an admin, the first read-only token, the first full token of someone
/// else.
fn fixture_tokens(store: &Store) -> [String; 3] {
    let mut list: Vec<(&String, &store::TokenGrant)> = store.tokens.iter().collect();
    list.sort();
    let find = |role: &str, pred: &dyn Fn(&store::TokenGrant) -> bool| {
        store
            .roles
            .get(role)
            .filter(|t| store.tokens.contains_key(*t))
            .cloned()
            .or_else(|| {
                list.iter()
                    .find(|(_, g)| pred(g))
                    .map(|(t, _)| (*t).clone())
            })
            .unwrap_or_default()
    };
    [
        find("full", &|g| !g.read_only && store.admins.contains(&g.user)),
        find("read_only", &|g| g.read_only),
        find("no_access", &|g| {
            !g.read_only && !store.admins.contains(&g.user)
        }),
    ]
}

impl MockServer {
    /// Start with the default seed on a random port, inside the current
    /// tokio runtime.
    ///
    /// # Panics
    /// If no port on 127.0.0.1 can be bound; use
    /// [`MockServer::start_with`] to handle that.
    pub async fn start() -> MockServer {
        match MockServer::start_with(MockOptions::default()).await {
            Ok(s) => s,
            Err(e) => panic!("the stand-in BrainSTEM server could not start: {e}"),
        }
    }

    /// Start with options, inside the current tokio runtime.
    pub async fn start_with(opts: MockOptions) -> std::io::Result<MockServer> {
        let (shared, tokens) = prepare(&opts)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await?;
        let addr = listener.local_addr()?;
        let (stop, task) = serve(listener, shared.clone());
        Ok(MockServer {
            addr,
            shared,
            tokens,
            stop: Some(stop),
            task: Some(task),
            runtime: None,
        })
    }

    /// Start on a runtime of its own (for blocking code and plain `#[test]`s).
    pub fn start_background(opts: MockOptions) -> std::io::Result<MockServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("brainstem-mock")
            .enable_all()
            .build()?;
        let (shared, tokens) = prepare(&opts)?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind(("127.0.0.1", opts.port)))?;
        let addr = listener.local_addr()?;
        let (stop, task) = {
            let _guard = runtime.enter();
            serve(listener, shared.clone())
        };
        Ok(MockServer {
            addr,
            shared,
            tokens,
            stop: Some(stop),
            task: Some(task),
            runtime: Some(runtime),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A token with full rights (Alice, owner of two projects, reviewer).
    pub fn token(&self) -> &str {
        &self.tokens[0]
    }

    /// A token of the same user that may only read.
    pub fn readonly_token(&self) -> &str {
        &self.tokens[1]
    }

    /// A token of a user who is a member of no project (Bob).
    pub fn noaccess_token(&self) -> &str {
        &self.tokens[2]
    }

    /// A full-rights token of any user, by e-mail (the seed also has
    /// `carol@example.org`, owner of two projects).
    pub fn token_of(&self, email: &str) -> Option<String> {
        let store = self.shared.read();
        let c = catalog::catalog();
        let user = store.tables[c.user?]
            .iter()
            .find(|r| r.value.get("email").and_then(Value::as_str) == Some(email))?
            .value
            .get("id")?
            .as_i64()?;
        let mut found: Vec<&String> = store
            .tokens
            .iter()
            .filter(|(_, g)| g.user == user && !g.read_only)
            .map(|(t, _)| t)
            .collect();
        found.sort();
        found.first().map(|t| (*t).clone())
    }

    /// How many requests the server has answered.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// The dialect now in force.
    pub fn dialect(&self) -> Dialect {
        self.shared.dialect().dialect.clone()
    }

    /// Answer in another dialect from the next request on. Field names that
    /// match nothing are ignored (see [`Dialect::check`]).
    pub fn set_dialect(&self, dialect: Dialect) {
        let resolved = Arc::new(Resolved::new(dialect));
        match self.shared.dialect.write() {
            Ok(mut d) => *d = resolved,
            Err(e) => *e.into_inner() = resolved,
        }
    }

    /// The list-response fault knobs now in force.
    pub fn knobs(&self) -> ListKnobs {
        self.shared
            .knobs
            .read()
            .map(|k| k.clone())
            .unwrap_or_default()
    }

    /// Body bytes the bandwidth line has carried so far, after compression:
    /// what a client moved over the emulated network (always 0 without
    /// [`MockOptions::bandwidth`]).
    pub fn line_bytes(&self) -> u64 {
        self.shared
            .line_bytes
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Change the list-response fault knobs (takes effect for the next request).
    pub fn set_knobs(&self, knobs: ListKnobs) {
        if let Ok(mut k) = self.shared.knobs.write() {
            *k = knobs;
        }
    }

    /// Device sign-ins that wait for a decision.
    pub fn pending_devices(&self) -> Vec<PendingDevice> {
        let now = std::time::Instant::now();
        self.shared
            .read()
            .devices
            .iter()
            .filter(|d| d.state == store::DeviceState::Pending && d.expires > now)
            .map(|d| PendingDevice {
                user_code: d.user_code.clone(),
                device_code: d.device_code.clone(),
                client_name: d.client_name.clone(),
            })
            .collect()
    }

    /// Approve a pending sign-in (by user code or device code) as the full
    /// user. Returns whether the code was found.
    pub fn approve_device(&self, code: &str) -> bool {
        let user = self.shared.settings.default_user;
        device::decide(
            &mut self.shared.write(),
            code,
            device::Decision::Approve(user),
        )
    }

    /// Deny a pending sign-in.
    pub fn deny_device(&self, code: &str) -> bool {
        device::decide(&mut self.shared.write(), code, device::Decision::Deny)
    }

    /// Make a sign-in's code expire now.
    pub fn expire_device(&self, code: &str) -> bool {
        device::decide(&mut self.shared.write(), code, device::Decision::Expire)
    }

    /// Direct access to the records.
    pub fn store(&self) -> StoreHandle<'_> {
        StoreHandle {
            shared: &self.shared,
        }
    }

    /// Everything the server holds (records, users, tokens) as a fixture
    /// document: `{"format", "admins", "roles", "tokens", "records":
    /// {"app/model": [record, ...]}}`. A record's creator is kept in
    /// `"_owner"`; `roles` names the `full`, `read_only` and `no_access`
    /// tokens; derived lists (`sessions` of a project, `links`, ...) are
    /// recomputed on load.
    pub fn fixture(&self) -> Value {
        self.shared.read().to_fixture()
    }

    /// Write [`MockServer::fixture`] to a file (atomically).
    pub fn save_fixture(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let path = path.as_ref();
        let text = serde_json::to_string_pretty(&self.fixture())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, path)
    }

    /// Stop serving and wait until the listener is closed.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn prepare(opts: &MockOptions) -> std::io::Result<(Arc<Shared>, [String; 3])> {
    opts.dialect
        .check()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let (store, tokens) = build_store(opts)?;
    let settings = Settings {
        device_interval: opts.device_interval.max(1),
        device_expires_in: opts.device_expires_in,
        auto_approve: opts.auto_approve,
        default_user: store
            .tokens
            .get(&tokens[0])
            .map(|g| g.user)
            .unwrap_or(seed::ALICE),
        limits: budget::Limits {
            max_visits: opts.max_query_visits,
            max_time: opts.max_query_time,
        },
        bandwidth: opts.bandwidth.map(|b| b.max(1)),
        compression: opts.compression,
    };
    Ok((
        Arc::new(Shared::new(
            store,
            opts.knobs.clone(),
            Resolved::new(opts.dialect.clone()),
            settings,
        )),
        tokens,
    ))
}

fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let app = routes::router(shared);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // answers leave in several writes (headers, then paced chunks): without
        // TCP_NODELAY, Nagle holds each small write until the client's delayed
        // ACK, some 40 ms per answer that no real server adds
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    (tx, task)
}

/// Read and write access to the server's records, bypassing HTTP.
#[derive(Debug)]
pub struct StoreHandle<'a> {
    shared: &'a Shared,
}

impl StoreHandle<'_> {
    /// The records of a model (`"stem/session"` or `"session"`), in creation order.
    pub fn records(&self, model: &str) -> Vec<Value> {
        let Some(e) = entity(model) else {
            return vec![];
        };
        self.shared.read().tables[e]
            .iter()
            .map(|r| Value::Object(r.value.clone()))
            .collect()
    }

    /// How many records a model has.
    pub fn count(&self, model: &str) -> usize {
        entity(model).map_or(0, |e| self.shared.read().tables[e].len())
    }

    /// One record by id.
    pub fn get(&self, model: &str, id: &str) -> Option<Value> {
        let e = entity(model)?;
        let key = store::ref_key(&Value::String(id.to_string()))?;
        self.shared
            .read()
            .get(e, &key)
            .map(|r| Value::Object(r.value.clone()))
    }

    /// Add a record as if `owner` (a user id) had created it, after the
    /// same checks a create request gets. Returns the stored record.
    pub fn insert(&self, model: &str, body: Value, owner: i64) -> Result<Value, String> {
        let e = entity(model).ok_or_else(|| format!("unknown model {model:?}"))?;
        let c = catalog::catalog();
        let ent = c.get(e);
        let meta = ent.meta.ok_or_else(|| format!("{model} is not a model"))?;
        brainstem::validate::check_body(
            meta,
            brainstem::validate::Shape::Create,
            &body,
            brainstem::validate::Mode::Server,
        )
        .map_err(|e| e.to_string())?;
        let obj = body.as_object().cloned().unwrap_or_default();
        let mut v = Map::new();
        for f in &ent.fields {
            if let Some(x) = obj.get(&f.name) {
                v.insert(f.name.clone(), x.clone());
            } else if f.response_required || f.reverse.is_some() {
                v.insert(f.name.clone(), f.default.clone().unwrap_or(Value::Null));
            }
        }
        let rec = self.shared.write().insert(e, v, Some(owner));
        Ok(Value::Object(rec.value.clone()))
    }

    /// Set fields of a stored record exactly as given, without any check,
    /// so every answer that shows the record carries them from now on: a
    /// field the schema does not know, a value outside a documented enum, a
    /// value of the wrong kind. This is how a test shows a client a server
    /// that drifted from the pinned schema in one chosen place (for drift
    /// on every n-th record see [`Dialect::extra_field_every`]). The `id`
    /// cannot be changed. Returns the record as now stored, or `None` when
    /// there is no such record.
    ///
    /// ```no_run
    /// # async fn demo() {
    /// use brainstem_mock::MockServer;
    /// use serde_json::json;
    /// let srv = MockServer::start().await;
    /// let store = srv.store();
    /// let id = store.records("session")[0]["id"].as_str().unwrap().to_string();
    /// let fields = json!({"x_new_field": 1, "name": "drifted"});
    /// store.set_raw("session", &id, fields.as_object().unwrap().clone()).unwrap();
    /// # }
    /// ```
    pub fn set_raw(&self, model: &str, id: &str, fields: Map<String, Value>) -> Option<Value> {
        let e = entity(model)?;
        let key = store::ref_key(&Value::String(id.to_string()))?;
        let mut w = self.shared.write();
        let mut value = w.get(e, &key)?.value.clone();
        for (k, v) in fields {
            if k != "id" {
                value.insert(k, v);
            }
        }
        let rec = w.overwrite(e, &key, value)?;
        Some(Value::Object(rec.value.clone()))
    }

    /// Delete a record (with what depends on it). Returns whether it existed.
    pub fn delete(&self, model: &str, id: &str) -> bool {
        let Some(e) = entity(model) else { return false };
        let Some(key) = store::ref_key(&Value::String(id.to_string())) else {
            return false;
        };
        !self.shared.write().delete(e, &key).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_is_valid_and_deterministic() {
        let mut a = Store::new();
        let (_, skipped) = seed::seed(&mut a, 50, None);
        assert_eq!(skipped, 0, "every generated record passes the validator");
        let c = catalog::catalog();
        for (i, e) in c.entities.iter().enumerate() {
            if e.meta.is_some() && !c.through_of.contains_key(&i) {
                assert!(a.tables[i].len() > 0, "{} has records", e.key);
            }
        }
        let mut b = Store::new();
        seed::seed(&mut b, 50, None);
        let strip = |mut v: Value| {
            v["tokens"] = Value::Null;
            v["roles"] = Value::Null;
            v
        };
        let (fa, fb) = (strip(a.to_fixture()), strip(b.to_fixture()));
        for (k, v) in fa["records"].as_object().expect("records") {
            assert!(fb["records"][k] == *v, "{k} differs between two seeds");
        }
        assert!(fa == fb, "two seeds differ outside their records");
    }

    #[test]
    fn fixture_round_trips() {
        let mut a = Store::new();
        seed::seed(&mut a, 30, None);
        let doc = a.to_fixture();
        let b = Store::from_fixture(&doc).expect("loads");
        let again = b.to_fixture();
        for (k, v) in doc["records"].as_object().expect("records") {
            assert!(again["records"][k] == *v, "{k} differs after a round trip");
        }
        assert!(again == doc, "a round trip changed more than records");
    }
}
