//! A blocking facade over the async client, for scripts (feature `blocking`).
//!
//! It owns a small single-threaded Tokio runtime and shares every request
//! type with the async API: the same query builders, filters, sort keys,
//! includes, [`Page`], [`Saved`] and [`Error`].
//!
//! ```no_run
//! use brainstem::client::blocking::Client;
//! use brainstem::models::SessionFilter;
//! let client = Client::from_env()?;
//! let sessions = client
//!     .sessions()
//!     .list()
//!     .filter(SessionFilter::NameIcontains("rat".into()))
//!     .all()?;
//! for s in client.projects().list().iter() {
//!     println!("{}", s?.name);
//! }
//! # Ok::<(), brainstem::client::Error>(())
//! ```
//!
//! Called from inside an async runtime it still works (each call runs on a
//! helper thread) but blocks the calling task: use the async client there.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;

use super::{
    ClientBuilder, Drift, Error, ListRequest, LoginOptions, Page, Records, Saved, TokenSource,
};
use crate::types::ActionResult;
use crate::{Model, Portal};

/// The runtime, shut down without blocking when dropped (so dropping a
/// blocking client inside async code does not panic).
#[derive(Debug)]
struct Rt(Option<tokio::runtime::Runtime>);

impl Drop for Rt {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

fn run<T: Send>(rt: &Rt, f: impl Future<Output = Result<T, Error>> + Send) -> Result<T, Error> {
    let Some(rt) = &rt.0 else {
        return Err(Error::Config("the runtime is shut down".into()));
    };
    if tokio::runtime::Handle::try_current().is_err() {
        return rt.block_on(f);
    }
    // Inside an async context Tokio refuses to block the thread it runs on;
    // run the request on a helper thread instead (this still blocks the
    // caller, so prefer the async client there).
    std::thread::scope(|s| {
        s.spawn(|| rt.block_on(f))
            .join()
            .unwrap_or_else(|_| Err(Error::Config("the request thread panicked".into())))
    })
}

/// The blocking client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    inner: super::Client,
    rt: Arc<Rt>,
}

impl Client {
    /// Build from an async [`ClientBuilder`] (all its options apply).
    pub fn build(builder: ClientBuilder) -> Result<Client, Error> {
        Self::from_async(builder.build()?)
    }

    /// Configured from the environment, like [`super::Client::from_env`].
    pub fn from_env() -> Result<Client, Error> {
        Self::build(ClientBuilder::new().env())
    }

    /// Wrap an async client.
    pub fn from_async(inner: super::Client) -> Result<Client, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Config(format!("cannot start the runtime: {e}")))?;
        Ok(Client {
            inner,
            rt: Arc::new(Rt(Some(rt))),
        })
    }

    /// The async client underneath.
    pub fn as_async(&self) -> &super::Client {
        &self.inner
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        self.inner.base_url()
    }

    /// Where the token came from.
    pub fn token_source(&self) -> TokenSource {
        self.inner.token_source()
    }

    /// The API of one model.
    pub fn api<M: Model>(&self) -> Api<M> {
        Api {
            inner: self.inner.api::<M>(),
            rt: self.rt.clone(),
        }
    }

    /// Device-authorization login (see [`super::Client::login`]).
    pub fn login(&self, opts: LoginOptions) -> Result<Option<PathBuf>, Error> {
        run(&self.rt, self.inner.login(opts))
    }

    /// Forget the cached token (see [`super::Client::logout`]).
    pub fn logout(&self) -> Result<bool, Error> {
        self.inner.logout()
    }

    /// What the client has seen that the pinned schema does not describe
    /// (see [`super::Client::drift`]).
    pub fn drift(&self) -> Drift {
        self.inner.drift()
    }

    /// The drift report so far, and start a new one.
    pub fn take_drift(&self) -> Drift {
        self.inner.take_drift()
    }

    /// Forget the drift seen so far.
    pub fn reset_drift(&self) {
        self.inner.reset_drift()
    }

    /// Sample every readable model once and report the drift (see
    /// [`super::Client::check_schema`]).
    pub fn check_schema(&self) -> Result<Drift, Error> {
        run(&self.rt, self.inner.check_schema())
    }
}

/// The blocking API of one model.
#[derive(Debug)]
pub struct Api<M: Model> {
    inner: super::Api<M>,
    rt: Arc<Rt>,
}

impl<M: Model> Clone for Api<M> {
    fn clone(&self) -> Self {
        Api {
            inner: self.inner.clone(),
            rt: self.rt.clone(),
        }
    }
}

impl<M: Model> Api<M> {
    /// The same API on another portal.
    pub fn portal(mut self, portal: Portal) -> Self {
        self.inner = self.inner.portal(portal);
        self
    }

    /// The same API on the public portal.
    pub fn public(self) -> Self {
        self.portal(Portal::Public)
    }

    /// A list request.
    pub fn list(&self) -> List<M> {
        self.run_list(self.inner.list())
    }

    /// The Python tool's `load_<model>` (see [`super::Api::load`]).
    pub fn load(&self) -> List<M> {
        self.run_list(self.inner.load())
    }

    /// Run a list request built with the async API.
    pub fn run_list(&self, req: ListRequest<M>) -> List<M> {
        req.with_kind(Blocking {
            rt: self.rt.clone(),
        })
    }

    /// One record.
    pub fn get(&self, id: M::Id) -> Result<M, Error> {
        run(&self.rt, self.inner.get(id).send())
    }

    /// One record with relations embedded.
    pub fn get_including(&self, id: M::Id, include: &[M::Include]) -> Result<M, Error> {
        let mut g = self.inner.get(id);
        for i in include {
            g = g.include(*i);
        }
        run(&self.rt, g.send())
    }

    /// Create (POST), checked before sending.
    pub fn create(&self, new: &M::New) -> Result<Saved<M>, Error> {
        run(&self.rt, self.inner.create(new))
    }

    /// Update (PATCH), checked before sending.
    pub fn update(&self, id: M::Id, patch: &M::Patch) -> Result<Saved<M>, Error> {
        run(&self.rt, self.inner.update(id, patch))
    }

    /// Replace (PUT) where the API has it.
    pub fn replace(&self, id: M::Id, new: &M::New) -> Result<Saved<M>, Error> {
        run(&self.rt, self.inner.replace(id, new))
    }

    /// Delete.
    pub fn delete(&self, id: M::Id) -> Result<(), Error> {
        run(&self.rt, self.inner.delete(id))
    }

    /// A named action (`accept`, `reject`, `cancel`, `join`, `leave`).
    pub fn action(&self, id: M::Id, action: &str) -> Result<ActionResult, Error> {
        run(&self.rt, self.inner.action(id, action))
    }

    /// All proposals awaiting review (approval-gated models).
    pub fn approvals(&self) -> Result<Records<M::Approval>, Error> {
        run(&self.rt, self.inner.approvals().list().all())
    }

    /// Accept a proposal.
    pub fn accept_approval(&self, id: uuid::Uuid) -> Result<ActionResult, Error> {
        run(&self.rt, async { self.inner.approvals().accept(id).await })
    }

    /// Reject a proposal.
    pub fn reject_approval(&self, id: uuid::Uuid) -> Result<ActionResult, Error> {
        run(&self.rt, async { self.inner.approvals().reject(id).await })
    }
}

/// How a blocking list runs: on the blocking client's runtime.
#[derive(Clone, Debug)]
pub struct Blocking {
    rt: Arc<Rt>,
}

impl super::list::ListKind for Blocking {}
impl super::list::RecordKind for Blocking {}

/// A blocking list request: the async [`ListRequest`]'s builder, with
/// blocking [`page`](ListRequest::page), [`all`](ListRequest::all) and
/// [`iter`](ListRequest::iter).
pub type List<M> = ListRequest<M, Blocking>;

/// Running a blocking list of records.
impl<M: Model> ListRequest<M, Blocking> {
    fn split(self) -> (Arc<Rt>, ListRequest<M>) {
        let rt = self.kind.rt.clone();
        (rt, self.with_kind(super::list::Async))
    }

    /// One page.
    pub fn page(self) -> Result<Page<M>, Error> {
        let (rt, req) = self.split();
        run(&rt, req.page())
    }

    /// Every record (those that do not decode are kept raw in
    /// [`Records::undecoded`], unless [`strict`](ListRequest::strict)).
    pub fn all(self) -> Result<Records<M>, Error> {
        let (rt, req) = self.split();
        run(&rt, req.all())
    }

    /// Every record, one at a time, fetching pages as needed.
    pub fn iter(self) -> Iter<M> {
        let (rt, req) = self.split();
        Iter {
            stream: Some(req.stream().boxed()),
            rt,
        }
    }
}

/// A blocking iterator over the records of a list.
pub struct Iter<M> {
    stream: Option<BoxStream<'static, Result<M, Error>>>,
    rt: Arc<Rt>,
}

impl<M> std::fmt::Debug for Iter<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iter")
            .field("done", &self.stream.is_none())
            .finish()
    }
}

impl<M: Send> Iterator for Iter<M> {
    type Item = Result<M, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        let stream = self.stream.as_mut()?;
        let item = match run(&self.rt, async { Ok(stream.next().await) }) {
            Ok(item) => item,
            Err(e) => Some(Err(e)),
        };
        // an undecoded record is an item, not the end
        if !matches!(item, Some(Ok(_)) | Some(Err(Error::UndecodedRecord(_)))) {
            self.stream = None;
        }
        item
    }
}
