//! The typed BrainSTEM client.
//!
//! One generic API serves every model of the spec: [`Client::api`] (or the
//! accessors such as [`Client::sessions`]) gives an [`Api`] with `list`,
//! `get`, `create`, `update`, `replace`, `delete`, approvals and actions, all
//! typed by the generated record, create, patch, filter, sort and include
//! types.
//!
//! ```no_run
//! use brainstem::client::{Client, Saved};
//! use brainstem::models::{SessionFilter, SessionInclude, SessionSort};
//! use brainstem::query::SortField;
//! use brainstem::types::{NewSession, NewSessionRequired, Session};
//! use brainstem::Portal;
//!
//! # async fn demo() -> Result<(), brainstem::client::Error> {
//! let client = Client::from_env()?;
//! let page = client
//!     .sessions()
//!     .list()
//!     .portal(Portal::Public)
//!     .filter(SessionFilter::NameIcontains("rat".into()))
//!     .sort(SessionSort::Name.desc())
//!     .include(SessionInclude::Behaviors)
//!     .limit(10)
//!     .page()
//!     .await?;
//! for s in &page.records {
//!     println!("{} has {} behaviors", s.name, s.behaviors.len());
//! }
//!
//! let project = uuid::Uuid::nil();
//! let Saved::Applied(created) = client
//!     .api::<Session>()
//!     .create(&NewSession::new(NewSessionRequired { name: "rec-1".into(), projects: vec![project] }))
//!     .await?;
//! client.sessions().delete(created.id).await?;
//! # Ok(()) }
//! ```
//!
//! Configuration ([`Client::from_env`]): the base URL is `BRAINSTEM_URL` or
//! `https://www.brainstem.org/`; the token is, first found wins, the one given
//! to the builder, `BRAINSTEM_API_TOKEN` / `BRAINSTEM_TOKEN`, or the token
//! cache ([`TokenCache`], shared with the official Python tool). Without a
//! token only the public portal works; private requests fail with
//! [`Error::NotLoggedIn`], which says how to log in ([`Client::login`]).
//!
//! Schema drift: what the server sends that the pinned schema does not
//! describe is kept, never an error, and added up in [`Client::drift`];
//! [`Client::check_schema`] samples every readable model once.

mod accessors;
mod api;
mod approvals;
mod auth;
#[cfg(feature = "blocking")]
pub mod blocking;
mod body;
mod codec;
mod cursor;
mod decode;
mod drift;
mod error;
mod list;
mod retry;
mod tls;
mod token;
mod window;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use tracing::Instrument as _;

/// Logs with entries (see [`crate::LogModel`]), also here for the entry actions.
pub use crate::model::LogModel;
pub use accessors::ACCESSORS;
pub use api::{Api, GetRequest, Saved};
pub use approvals::{ApprovalList, Approvals};
pub use auth::{DevicePrompt, LoginOptions};
pub use body::DEFAULT_MAX_RESPONSE_BYTES;
pub use drift::CHECK_CONCURRENCY;
pub use error::{AppliedUndecodable, Error, LoginError};
#[cfg(feature = "mirror")]
pub(crate) use list::RawRecord;
pub use list::{
    ApprovalQueue, Async, JsonList, ListKind, ListRequest, Page, PageStyle, RecordKind, Records,
    UndecodedRecord,
};
pub use retry::RetryPolicy;
pub use token::{DEFAULT_BASE_URL, Token, TokenCache, TokenSource};
pub use window::MAX_IN_FLIGHT;

use crate::Model;
pub use crate::drift::Drift;

/// Decode a list response body of model `M` exactly as the client does: the
/// records under the model's envelope key from the spec (sideloaded lists
/// beside them are not merged, as no includes are known here), plus the
/// pagination facts (for tools that read saved responses). Records that do
/// not decode are in [`Page::undecoded`].
///
/// ```
/// use brainstem::types::Project;
/// let page = brainstem::client::decode_page::<Project>(br#"{"projects": [], "count": 0}"#).unwrap();
/// assert_eq!(page.total(), Some(0));
/// assert!(brainstem::client::decode_page::<Project>(br#"{"sessions": []}"#).is_err());
/// ```
pub fn decode_page<M: Model>(body: &[u8]) -> Result<Page<M>, crate::DecodeError> {
    list::decode_body::<M>(body)
}

/// Decode a detail response body (`{"session": {...}}`) of model `M` as the client does.
pub fn decode_record<M: Model>(body: &[u8]) -> Result<M, crate::DecodeError> {
    (codec::of::<M>().one)(body, None, M::META.one)
}

/// Decode a create/update response body of model `M` as the client does:
/// the record, or for approval-gated models possibly the proposal.
pub fn decode_saved<M: Model>(body: &[u8]) -> Result<Saved<M>, Error> {
    api::decode_saved::<M>(body, None)
}

/// The default timeout of one request attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The number of list pages in flight a walk opens with after its first
/// page (which is fetched alone): the most a walk keeps in flight by
/// default. The window then adapts to the link: it steps back to half when
/// that many pages fetch no faster than the first did alone, and halves on
/// 429/503.
pub const DEFAULT_CONCURRENCY: usize = MAX_IN_FLIGHT;

type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Builds a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use brainstem::client::{Client, RetryPolicy, TokenCache};
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:8000")
///     .token("abc")
///     .timeout(Duration::from_secs(5))
///     .retry(RetryPolicy::default().max_attempts(5))
///     .user_agent("my-pipeline/1.0")
///     .no_token_cache()
///     .build()
///     .unwrap();
/// assert_eq!(client.base_url(), "http://127.0.0.1:8000/");
/// // The token never shows in Debug output:
/// assert!(!format!("{client:?}").contains("abc"));
/// ```
pub struct ClientBuilder {
    base_url: Option<String>,
    token: Option<Token>,
    timeout: Duration,
    retry: RetryPolicy,
    user_agent: String,
    allow_insecure_http: Option<bool>,
    cache: CacheChoice,
    env: Option<EnvLookup>,
    concurrency: Option<usize>,
    max_response_bytes: u64,
}

enum CacheChoice {
    Default,
    Custom(TokenCache),
    Off,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("token", &self.token)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field("reads_env", &self.env.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: None,
            token: None,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            user_agent: concat!("brainstem-rs/", env!("CARGO_PKG_VERSION")).to_string(),
            allow_insecure_http: None,
            cache: CacheChoice::Default,
            env: None,
            concurrency: None,
            max_response_bytes: body::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

impl ClientBuilder {
    /// A builder with the defaults (no environment variables read).
    pub fn new() -> Self {
        Self::default()
    }

    /// The server (default `https://www.brainstem.org/`).
    pub fn base_url(mut self, url: impl AsRef<str>) -> Self {
        self.base_url = Some(url.as_ref().to_string());
        self
    }

    /// The API token (wins over the environment and the cache).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Token::new(token));
        self
    }

    /// Timeout of each request attempt (default 30 s).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Retry policy (default: 3 attempts for GET, PUT and DELETE).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Allow sending the token over plain `http://` to a non-loopback host.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = Some(allow);
        self
    }

    /// Use this token cache instead of `~/.config/brainstem`.
    pub fn token_cache(mut self, cache: TokenCache) -> Self {
        self.cache = CacheChoice::Custom(cache);
        self
    }

    /// Neither read nor write a token cache.
    pub fn no_token_cache(mut self) -> Self {
        self.cache = CacheChoice::Off;
        self
    }

    /// Fix how many list pages [`ListRequest::stream`],
    /// [`ListRequest::pages`] and [`ListRequest::all`] keep in flight (1 is
    /// sequential). Without it the window adapts to the link: after the
    /// first page it opens at [`DEFAULT_CONCURRENCY`] (= [`MAX_IN_FLIGHT`]),
    /// steps back to half when that many in flight fetch no faster than the
    /// first page did alone, and halves when the server answers 429 or 503
    /// (a fixed window halves too).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n.max(1));
        self
    }

    /// The largest response body the client reads (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`], 64 MiB). A body past it, announced
    /// or not, stops being read at the limit and the request fails with
    /// [`Error::ResponseTooLarge`]; the client never buffers more than the
    /// limit, whatever the server sends.
    pub fn max_response_bytes(mut self, n: u64) -> Self {
        self.max_response_bytes = n;
        self
    }

    /// Read `BRAINSTEM_URL`, `BRAINSTEM_API_TOKEN` / `BRAINSTEM_TOKEN`,
    /// `BRAINSTEM_ALLOW_INSECURE_HTTP` and `HOME` (for the cache) from the
    /// process environment. Values given to the builder still win.
    pub fn env(self) -> Self {
        self.env_with(|k| std::env::var(k).ok())
    }

    /// Like [`env`](Self::env) with another source of variables (for tests
    /// and tools that hold their own environment).
    pub fn env_with(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.env = Some(Box::new(lookup));
        self
    }

    /// Build the client: resolve the base URL and the token, check that the
    /// token will not travel over plain HTTP and, for an https server, that
    /// this build has a TLS backend (the features `native-tls` or `rustls`).
    /// TLS itself is set up on the first request.
    pub fn build(self) -> Result<Client, Error> {
        let var = |k: &str| -> Option<String> {
            self.env
                .as_ref()
                .and_then(|f| f(k))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let base_raw = self
            .base_url
            .clone()
            .or_else(|| var("BRAINSTEM_URL"))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        let base = token::normalize_base(&base_raw);
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| Error::Config(format!("base URL {base_raw:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(Error::Config(format!(
                "base URL {base_raw:?} must be an http:// or https:// URL with a host"
            )));
        }
        tls::check(parsed.scheme() == "https")?;
        let allow_insecure = self.allow_insecure_http.unwrap_or_else(|| {
            var("BRAINSTEM_ALLOW_INSECURE_HTTP")
                .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
        });

        let cache = match &self.cache {
            CacheChoice::Off => None,
            CacheChoice::Custom(c) => Some(c.clone()),
            CacheChoice::Default => match &self.env {
                Some(_) => TokenCache::from_home(var("HOME").map(Into::into)),
                None => TokenCache::default_location(),
            },
        };

        let mut found: Option<(Token, TokenSource)> = self
            .token
            .clone()
            .filter(|t| !t.is_empty())
            .map(|t| (t, TokenSource::Explicit));
        if found.is_none() {
            for name in ["BRAINSTEM_API_TOKEN", "BRAINSTEM_TOKEN"] {
                if let Some(v) = var(name) {
                    found = Some((Token::new(v), TokenSource::Env(name)));
                    break;
                }
            }
        }
        if found.is_none()
            && let Some(c) = &cache
            && let Some((t, path)) = c.load(&base)?
        {
            found = Some((t, TokenSource::Cache(path)));
        }
        if found.is_some() && !allow_insecure && !secure_enough(&parsed) {
            return Err(Error::InsecureUrl { url: base });
        }

        reqwest::header::HeaderValue::from_str(&self.user_agent).map_err(|_| {
            Error::Config(format!(
                "user agent {:?} cannot be sent in an HTTP header",
                self.user_agent
            ))
        })?;
        let connection = Connection {
            https: parsed.scheme() == "https",
            timeout: self.timeout,
            user_agent: self.user_agent.clone(),
            pool: std::sync::OnceLock::new(),
        };

        let (token, source) = match found {
            Some((t, s)) => (Some(t), s),
            None => (None, TokenSource::None),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                connection,
                secure_enough: allow_insecure || secure_enough(&parsed),
                base,
                auth: RwLock::new(AuthState { token, source }),
                cache,
                timeout: self.timeout,
                retry: self.retry,
                prefetch: match self.concurrency {
                    Some(n) => window::Prefetch::fixed(n),
                    None => window::Prefetch::adaptive(DEFAULT_CONCURRENCY),
                },
                throttled: std::sync::atomic::AtomicU64::new(0),
                max_response_bytes: self.max_response_bytes,
                drift: std::sync::Mutex::new(Drift::new()),
            }),
        })
    }
}

/// https, or http to a loopback address.
fn secure_enough(url: &reqwest::Url) -> bool {
    if url.scheme() == "https" {
        return true;
    }
    url.host_str().is_some_and(loopback_host)
}

/// `localhost` or a loopback address (`127.0.0.1`, `[::1]`).
pub(crate) fn loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// How reading one answer failed.
enum Fail {
    /// Final: report as is, no retry.
    Done(Error),
    /// The connection: the retry rule decides.
    Transport(reqwest::Error),
}

struct AuthState {
    token: Option<Token>,
    source: TokenSource,
}

/// How the client connects, and the connection pool, made on the first
/// request: for an `https` server that is when the certificate store is
/// loaded; a plain-`http` client (the stand-in server) never loads one.
struct Connection {
    https: bool,
    timeout: Duration,
    user_agent: String,
    pool: std::sync::OnceLock<reqwest::Client>,
}

impl Connection {
    fn client(&self) -> Result<reqwest::Client, Error> {
        if let Some(c) = self.pool.get() {
            return Ok(c.clone());
        }
        let builder = tls::configure(reqwest::Client::builder(), self.https)?;
        // The codecs asked for are the crate's features, whatever another
        // dependency turned on in reqwest: gzip and deflate always, brotli
        // and zstd with the features of those names.
        #[cfg(not(feature = "brotli"))]
        let builder = builder.no_brotli();
        #[cfg(not(feature = "zstd"))]
        let builder = builder.no_zstd();
        let c = builder
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .user_agent(self.user_agent.clone())
            .tcp_nodelay(true)
            .redirect(body::redirect_policy())
            .build()
            .map_err(|e| Error::Config(format!("cannot set up the HTTP client: {e}")))?;
        // Two first requests at once may both build one; either is fine.
        Ok(self.pool.get_or_init(|| c).clone())
    }

    /// Whether the connection pool (and, for https, the certificate store)
    /// has been set up.
    #[cfg(test)]
    fn ready(&self) -> bool {
        self.pool.get().is_some()
    }
}

struct Inner {
    connection: Connection,
    base: String,
    secure_enough: bool,
    auth: RwLock<AuthState>,
    cache: Option<TokenCache>,
    timeout: Duration,
    retry: RetryPolicy,
    prefetch: window::Prefetch,
    /// How many 429 / 503 answers the server gave (list walks shrink their
    /// window when it moves).
    throttled: std::sync::atomic::AtomicU64,
    max_response_bytes: u64,
    /// What decoding saw that the schema does not describe (see `drift.rs`).
    drift: std::sync::Mutex<Drift>,
}

/// A BrainSTEM API client. Cheap to clone (the clones share connections,
/// the token and the [`drift`](Client::drift) report).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base)
            .field("token_source", &self.token_source())
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// Whether a request carries the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Auth {
    /// Private portal: the token is required.
    Required,
    /// Public portal and login endpoints: no token is sent.
    None,
}

/// One request, before the retry loop.
pub(crate) struct Request {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub body: Option<Bytes>,
    pub auth: Auth,
}

/// A response: 2xx (or, from `send_raw`, also 4xx).
pub(crate) struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    pub(crate) fn content_type(&self) -> Option<&str> {
        self.headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }
}

impl Client {
    /// A builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from the environment (`BRAINSTEM_URL`,
    /// `BRAINSTEM_API_TOKEN` / `BRAINSTEM_TOKEN`) and the token cache.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::new().env().build()
    }

    /// The base URL, with a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Where the current token came from.
    pub fn token_source(&self) -> TokenSource {
        self.inner
            .auth
            .read()
            .map(|a| a.source.clone())
            .unwrap_or(TokenSource::None)
    }

    /// Whether a token is configured.
    pub fn has_token(&self) -> bool {
        self.inner
            .auth
            .read()
            .map(|a| a.token.is_some())
            .unwrap_or(false)
    }

    /// The token cache in use, if any.
    pub fn token_cache(&self) -> Option<&TokenCache> {
        self.inner.cache.as_ref()
    }

    /// The generic API of one model.
    pub fn api<M: Model>(&self) -> Api<M> {
        Api::new(self.clone())
    }

    pub(crate) fn prefetch(&self) -> window::Prefetch {
        self.inner.prefetch
    }

    /// How many 429 / 503 answers this client has met so far.
    pub(crate) fn throttled(&self) -> u64 {
        self.inner
            .throttled
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn set_token(&self, token: Option<Token>, source: TokenSource) {
        if let Ok(mut a) = self.inner.auth.write() {
            a.token = token;
            a.source = source;
        }
    }

    fn auth_header(&self) -> Result<HeaderValue, Error> {
        let guard = self
            .inner
            .auth
            .read()
            .map_err(|_| Error::Config("the token lock was poisoned".into()))?;
        let Some(token) = guard.token.as_ref() else {
            return Err(Error::NotLoggedIn {
                server: self.inner.base.clone(),
            });
        };
        if !self.inner.secure_enough {
            return Err(Error::InsecureUrl {
                url: self.inner.base.clone(),
            });
        }
        let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
            Error::Config(
                "the API token contains characters that cannot be sent in an HTTP header".into(),
            )
        })?;
        v.set_sensitive(true);
        Ok(v)
    }

    /// Send one request with the retry policy; `Ok` only for 2xx.
    pub(crate) async fn send(&self, req: Request) -> Result<Response, Error> {
        self.send_inner(req, false).await
    }

    /// Like [`send`](Self::send), but a 4xx answer comes back as a response
    /// (for endpoints whose error bodies carry the protocol, like the device
    /// login poll).
    pub(crate) async fn send_raw(&self, req: Request) -> Result<Response, Error> {
        self.send_inner(req, true).await
    }

    async fn send_inner(&self, req: Request, raw_4xx: bool) -> Result<Response, Error> {
        let mut url = String::with_capacity(self.inner.base.len() + req.path.len() + 64);
        url.push_str(&self.inner.base);
        url.push_str(req.path.trim_start_matches('/'));
        if let Some(q) = req.query.as_deref().filter(|q| !q.is_empty()) {
            url.push('?');
            url.push_str(q);
        }
        let auth = match req.auth {
            Auth::Required => Some(self.auth_header()?),
            Auth::None => None,
        };
        let policy = &self.inner.retry;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let span = tracing::debug_span!(
                "brainstem.request",
                method = %req.method,
                path = %req.path,
                attempt,
                status = tracing::field::Empty,
                duration_ms = tracing::field::Empty,
            );
            let started = Instant::now();
            let mut rb = self
                .inner
                .connection
                .client()?
                .request(req.method.clone(), &url)
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(a) = &auth {
                rb = rb.header(reqwest::header::AUTHORIZATION, a.clone());
            }
            if let Some(b) = &req.body {
                rb = rb
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(b.clone());
            }
            let limit = self.inner.max_response_bytes;
            let outcome = async {
                let resp = rb.send().await.map_err(Fail::Transport)?;
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                match body::read_limited(resp, limit).await {
                    Ok(body) => Ok((status, headers, body)),
                    Err(body::ReadError::Transport(e)) => Err(Fail::Transport(e)),
                    Err(body::ReadError::TooLarge) => Err(Fail::Done(Error::ResponseTooLarge {
                        method: req.method.to_string(),
                        path: req.path.clone(),
                        status,
                        limit,
                        applied: (200..300).contains(&status)
                            && !matches!(req.method, Method::GET | Method::HEAD),
                    })),
                }
            }
            .instrument(span.clone())
            .await;
            // A body past the limit is final: retrying would read it again.
            let outcome = match outcome {
                Ok(ok) => Ok(ok),
                Err(Fail::Done(e)) => return Err(e),
                Err(Fail::Transport(e)) => Err(e),
            };
            span.record("duration_ms", started.elapsed().as_secs_f64() * 1e3);
            let failure = match &outcome {
                Ok((status, headers, _)) => {
                    let status = *status;
                    span.record("status", status);
                    if status == 429 || status == 503 {
                        self.inner
                            .throttled
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    tracing::debug!(parent: &span, status, "response");
                    if (200..300).contains(&status)
                        || (raw_4xx && (400..500).contains(&status) && status != 429)
                    {
                        let (status, headers, body) = outcome.expect("matched Ok");
                        return Ok(Response {
                            status,
                            headers,
                            body,
                        });
                    }
                    retry::Outcome::Status(status, headers)
                }
                Err(e) => retry::Outcome::Transport(retry::TransportKind::of(e)),
            };
            match retry::decide(&req.method, attempt, failure, policy, retry::random_u64()) {
                retry::Decision::Retry { after } => {
                    tracing::debug!(parent: &span, delay_ms = after.as_millis() as u64, "retrying");
                    tokio::time::sleep(after).await;
                    continue;
                }
                retry::Decision::GiveUp => {}
            }
            return Err(match outcome {
                Ok((status, headers, _)) if (300..400).contains(&status) => Error::Redirected {
                    status,
                    location: headers
                        .get(reqwest::header::LOCATION)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string),
                },
                Ok((status, headers, body)) => error::from_response(
                    &req.method,
                    &req.path,
                    status,
                    retry::retry_after(&headers),
                    &body,
                ),
                Err(e) if e.is_timeout() => {
                    tracing::debug!(parent: &span, "timed out");
                    Error::Timeout {
                        after: self.inner.timeout,
                    }
                }
                Err(e) => {
                    tracing::debug!(parent: &span, "transport error");
                    Error::transport(e)
                }
            });
        }
    }
}

#[cfg(test)]
mod connection_tests {
    use super::Client;

    #[test]
    #[cfg(any(feature = "native-tls", feature = "rustls"))]
    fn certificates_are_loaded_on_the_first_request_not_in_build() {
        let c = Client::builder()
            .base_url("https://www.brainstem.org/")
            .no_token_cache()
            .build()
            .unwrap();
        assert!(c.inner.connection.https);
        assert!(!c.inner.connection.ready(), "build() set up TLS");
        c.inner.connection.client().unwrap();
        assert!(c.inner.connection.ready());
    }

    #[test]
    #[cfg(not(any(feature = "native-tls", feature = "rustls")))]
    fn without_a_tls_backend_an_https_client_is_refused_in_build() {
        let e = Client::builder()
            .base_url("https://www.brainstem.org/")
            .no_token_cache()
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("no TLS backend"), "{e}");
    }

    #[test]
    fn a_plain_http_client_never_sets_up_certificates() {
        let c = Client::builder()
            .base_url("http://127.0.0.1:8000/")
            .no_token_cache()
            .build()
            .unwrap();
        assert!(!c.inner.connection.https);
        assert!(!c.inner.connection.ready());
    }

    #[test]
    fn a_user_agent_that_cannot_be_a_header_is_refused_in_build() {
        let e = Client::builder()
            .base_url("http://127.0.0.1:8000/")
            .user_agent("bad\nagent")
            .no_token_cache()
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("user agent"), "{e}");
    }
}
