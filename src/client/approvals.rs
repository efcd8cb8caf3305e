//! Approval queues of approval-gated models (species, strains, suppliers, ...).

use std::marker::PhantomData;

use futures::stream::{BoxStream, Stream};

use super::api::{checked_op, fill, method_of, send_action};
use super::list::{
    ApprovalQueue, ListRequest, Page, Records, Source, auth_for, collect, raw_key, records,
};
use super::{Client, Error, Request};
use crate::meta::ApprovalMeta;
use crate::types::ActionResult;
use crate::{Model, Operation, Portal};

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

/// An operation of the approval queue, if it may be used on `portal`.
fn approval_op<M: Model>(
    pick: fn(&ApprovalMeta) -> Option<Operation>,
    what: &str,
    portal: Portal,
) -> Result<Operation, Error> {
    let a = approval_meta::<M>()?;
    checked_op(M::META, pick(a), &format!("approval {what}"), portal)
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
        ListRequest::new(self.client.clone(), self.portal, ApprovalQueue)
    }

    /// One proposal.
    pub async fn get(&self, id: uuid::Uuid) -> Result<M::Approval, Error> {
        let a = approval_meta::<M>()?;
        let op = approval_op::<M>(|a| a.retrieve, "retrieve", self.portal)?;
        let resp = self
            .client
            .send(Request {
                method: method_of(op),
                path: fill(op.path(), self.portal, Some(&id.to_string())),
                query: None,
                body: None,
                auth: auth_for(self.portal),
            })
            .await?;
        let (out, seen) = crate::observe::collect(|| {
            (super::codec::of::<M>().approval)(&resp.body, resp.content_type(), a.one)
        });
        let name = a.model.rsplit('/').next().unwrap_or(a.model);
        self.client
            .note_drift(name, a.schema, &seen, out.as_ref().err());
        Ok(out?)
    }

    async fn decide(
        &self,
        id: uuid::Uuid,
        pick: fn(&ApprovalMeta) -> Option<Operation>,
        what: &str,
    ) -> Result<ActionResult, Error> {
        let op = approval_op::<M>(pick, what, self.portal)?;
        send_action(&self.client, op, self.portal, &id.to_string()).await
    }

    /// Accept a proposal (it is applied to the record).
    pub async fn accept(&self, id: uuid::Uuid) -> Result<ActionResult, Error> {
        self.decide(id, |a| a.accept, "accept").await
    }

    /// Reject a proposal.
    pub async fn reject(&self, id: uuid::Uuid) -> Result<ActionResult, Error> {
        self.decide(id, |a| a.reject, "reject").await
    }
}

/// A list of proposals: the [`ListRequest`] builder (paging, unchecked filters,
/// concurrency, strictness) over the approval queue.
pub type ApprovalList<M> = ListRequest<M, ApprovalQueue>;

/// Running a list of proposals.
impl<M: Model> ListRequest<M, ApprovalQueue> {
    fn source(&self) -> Result<Source<M::Approval>, Error> {
        self.check_input()?;
        let a = approval_meta::<M>()?;
        let op = approval_op::<M>(|a| a.list, "list", self.portal)?;
        self.source_with(
            op,
            a.many,
            super::codec::of::<M>().approval_record,
            raw_key::<M::Approval>(),
        )
    }

    /// One page.
    pub async fn page(self) -> Result<Page<M::Approval>, Error> {
        self.page_of(self.source()).await
    }

    /// Every page from `offset` on, as a stream.
    pub fn pages(self) -> BoxStream<'static, Result<Page<M::Approval>, Error>> {
        self.pages_of(self.source())
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
