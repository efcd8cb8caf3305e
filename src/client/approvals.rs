//! Approval queues of approval-gated models (species, strains, suppliers, ...).

use std::marker::PhantomData;

use futures::stream::{BoxStream, Stream};
use reqwest::Method;

use super::api::{checked_op, fill, send_action};
use super::decode::Includes;
use super::list::{
    Page, Records, Source, auth_for, collect, pages, plain_decoder, raw_key, records, window,
};
use super::{Client, Error, Request, decode};
use crate::meta::{ApprovalMeta, OpMeta};
use crate::query::{Filter, ListQuery, MAX_LIMIT};
use crate::types::ActionResult;
use crate::{Model, Portal};

/// The approval queue of model `M`: proposals awaiting review.
///
/// ```no_run
/// # async fn demo(client: brainstem::client::Client) -> Result<(), brainstem::client::Error> {
/// for proposal in client.species().approvals().list().all().await? {
///     client.species().approvals().accept(proposal.id).await?;
/// }
/// # Ok(()) }
/// ```
pub struct Approvals<M: Model> {
    client: Client,
    portal: Portal,
    _m: PhantomData<fn() -> M>,
}

impl<M: Model> std::fmt::Debug for Approvals<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approvals")
            .field("model", &M::META.name)
            .field("portal", &self.portal)
            .finish()
    }
}

fn approval_meta<M: Model>() -> Result<&'static ApprovalMeta, Error> {
    M::META.approval.as_ref().ok_or_else(|| {
        Error::NotSupported(format!(
            "`{}` is not approval-gated, so it has no approval queue",
            M::META.name
        ))
    })
}

fn approval_op<M: Model>(suffix: &str, portal: Portal) -> Result<&'static OpMeta, Error> {
    let a = approval_meta::<M>()?;
    let name = a.model.rsplit('/').next().unwrap_or(a.model);
    let id = format!("{name}_{suffix}");
    let op = crate::models::OPERATIONS
        .iter()
        .find(|(m, o)| *m == Some(a.model) && o.id == id)
        .map(|(_, o)| o);
    checked_op(M::META, op, &format!("approval {suffix}"), portal)
}

impl<M: Model> Approvals<M> {
    pub(crate) fn new(client: Client, portal: Portal) -> Self {
        Approvals {
            client,
            portal,
            _m: PhantomData,
        }
    }

    /// The list of proposals.
    pub fn list(&self) -> ApprovalList<M> {
        ApprovalList {
            client: self.client.clone(),
            portal: self.portal,
            query: ListQuery::new(),
            concurrency: self.client.concurrency(),
            _m: PhantomData,
        }
    }

    /// One proposal.
    pub async fn get(&self, id: uuid::Uuid) -> Result<M::Approval, Error> {
        let a = approval_meta::<M>()?;
        let op = approval_op::<M>("retrieve", self.portal)?;
        let resp = self
            .client
            .send(Request {
                method: Method::GET,
                path: fill(op.path, self.portal, Some(&id.to_string())),
                query: None,
                body: None,
                auth: auth_for(self.portal),
            })
            .await?;
        Ok(decode::one::<M::Approval>(
            &resp.body,
            resp.content_type(),
            a.one,
        )?)
    }

    async fn decide(&self, id: uuid::Uuid, what: &str) -> Result<ActionResult, Error> {
        let op = approval_op::<M>(what, self.portal)?;
        send_action(&self.client, op, self.portal, &id.to_string()).await
    }

    /// Accept a proposal (it is applied to the record).
    pub async fn accept(&self, id: uuid::Uuid) -> Result<ActionResult, Error> {
        self.decide(id, "accept").await
    }

    /// Reject a proposal.
    pub async fn reject(&self, id: uuid::Uuid) -> Result<ActionResult, Error> {
        self.decide(id, "reject").await
    }
}

/// A list of proposals, paged like [`ListRequest`](super::ListRequest).
#[must_use = "a list request does nothing until page(), stream() or all() is called"]
pub struct ApprovalList<M: Model> {
    client: Client,
    portal: Portal,
    query: ListQuery,
    concurrency: usize,
    _m: PhantomData<fn() -> M>,
}

impl<M: Model> std::fmt::Debug for ApprovalList<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApprovalList")
            .field("model", &M::META.name)
            .field("query", &self.query)
            .finish()
    }
}

impl<M: Model> ApprovalList<M> {
    /// Add a filter (e.g. a [`RawFilter`](crate::query::RawFilter) on `status`).
    pub fn filter(mut self, f: impl Filter) -> Self {
        self.query.filters.push(f.clause());
        self
    }

    /// Page size (1..=100).
    pub fn limit(mut self, n: u32) -> Self {
        self.query.limit = Some(n);
        self
    }

    /// Records to skip.
    pub fn offset(mut self, n: u64) -> Self {
        self.query.offset = Some(n);
        self
    }

    fn source(&self) -> Result<Source<M::Approval>, Error> {
        self.query.check()?;
        let a = approval_meta::<M>()?;
        let op = approval_op::<M>("list", self.portal)?;
        let mut query = self.query.clone();
        query.limit = None;
        query.offset = None;
        Ok(Source {
            client: self.client.clone(),
            path: fill(op.path, self.portal, None),
            key: a.many,
            auth: auth_for(self.portal),
            query,
            includes: Includes::default(),
            decode: plain_decoder::<M::Approval>(),
            key_of: raw_key::<M::Approval>(),
        })
    }

    /// One page.
    pub async fn page(self) -> Result<Page<M::Approval>, Error> {
        let src = self.source()?;
        window(src, self.query.offset.unwrap_or(0), self.query.limit, false).await
    }

    fn pages(self) -> BoxStream<'static, Result<Page<M::Approval>, Error>> {
        use futures::StreamExt;
        match self.source() {
            Ok(src) => pages(
                src,
                self.query.offset.unwrap_or(0),
                self.query.limit.unwrap_or(MAX_LIMIT),
                self.concurrency,
                false,
            ),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    }

    /// Every proposal, as a stream.
    pub fn stream(self) -> impl Stream<Item = Result<M::Approval, Error>> + Send + 'static {
        records(self.pages())
    }

    /// Every proposal (those that do not decode are kept raw in
    /// [`Records::undecoded`]).
    pub async fn all(self) -> Result<Records<M::Approval>, Error> {
        collect(self.pages()).await
    }
}
