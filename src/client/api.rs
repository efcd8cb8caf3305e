//! The generic per-model API: get, create, update, replace, delete, actions.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;

use bytes::Bytes;
use reqwest::Method;
use serde::Serialize;

use crate::model::LogModel;

use super::list::{ListRequest, auth_for, fmt_portals};
use super::{Approvals, Client, Error, Request, codec, decode};
use crate::meta::{HttpMethod, ModelMeta};
use crate::query::{IncludeField, ListQuery};
use crate::types::{ActionResult, LogEntryChange, LogEntryKey};
use crate::validate::Validate;
use crate::{Model, Operation, Portal};

/// The result of a create or update.
///
/// Models whose writes apply at once always give `Applied`; for them the
/// other variant holds an uninhabited type, so a plain `let` works:
///
/// ```no_run
/// # async fn demo(client: brainstem::client::Client) -> Result<(), brainstem::client::Error> {
/// use brainstem::client::Saved;
/// use brainstem::types::{NewProject, NewProjectRequired};
/// let Saved::Applied(project) = client.projects().create(&NewProject::new(NewProjectRequired { name: "p".into() })).await?;
/// # Ok(()) }
/// ```
///
/// Approval-gated models (species, strains, suppliers, ...) may answer with
/// the proposal waiting for review:
///
/// ```no_run
/// # async fn demo(client: brainstem::client::Client, new: brainstem::types::NewSpecies) -> Result<(), brainstem::client::Error> {
/// use brainstem::client::Saved;
/// match client.species().create(&new).await? {
///     Saved::Applied(species) => println!("created {}", species.name),
///     Saved::PendingApproval(proposal) => println!("proposal {} awaits review", proposal.id),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub enum Saved<M: Model> {
    /// The change was applied; the record as stored.
    Applied(M),
    /// The change awaits review; the approval proposal.
    PendingApproval(M::Approval),
}

impl<M: Model> Saved<M> {
    /// The record, if the change was applied.
    pub fn applied(self) -> Option<M> {
        match self {
            Saved::Applied(m) => Some(m),
            Saved::PendingApproval(_) => None,
        }
    }

    /// The proposal, if the change awaits review.
    pub fn pending(self) -> Option<M::Approval> {
        match self {
            Saved::Applied(_) => None,
            Saved::PendingApproval(a) => Some(a),
        }
    }

    /// Whether the change awaits review.
    pub fn is_pending(&self) -> bool {
        matches!(self, Saved::PendingApproval(_))
    }
}

/// The API of one model, on one portal (private unless changed).
///
/// ```
/// use brainstem::{Portal, client::Client, types::Session};
/// let client = Client::builder().base_url("http://127.0.0.1:1").no_token_cache().build().unwrap();
/// let api = client.api::<Session>().portal(Portal::Public);
/// assert_eq!(api.meta().name, "session");
/// ```
pub struct Api<M: Model> {
    pub(crate) client: Client,
    pub(crate) portal: Portal,
    _m: PhantomData<fn() -> M>,
}

impl<M: Model> Clone for Api<M> {
    fn clone(&self) -> Self {
        Api {
            client: self.client.clone(),
            portal: self.portal,
            _m: PhantomData,
        }
    }
}

impl<M: Model> std::fmt::Debug for Api<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("model", &M::META.name)
            .field("portal", &self.portal)
            .finish()
    }
}

pub(crate) fn fill(path: &str, portal: Portal, id: Option<&str>) -> String {
    let p = path.replace("{portal}", portal.as_str());
    match id {
        Some(id) => p.replace("{id}", id),
        None => p,
    }
}

/// The request method of an operation.
pub(crate) fn method_of(op: Operation) -> Method {
    match op.method() {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
    }
}

/// `op`, if the model has it and it may be used on `portal`.
pub(crate) fn checked_op(
    meta: &ModelMeta,
    op: Option<Operation>,
    what: &str,
    portal: Portal,
) -> Result<Operation, Error> {
    let op = op.ok_or_else(|| {
        Error::NotSupported(format!(
            "`{}` has no {what} operation in the API",
            meta.name
        ))
    })?;
    if !op.portals().is_empty() && !op.portals().contains(&portal) {
        return Err(Error::NotSupported(format!(
            "`{}` {what} is not available on the {portal} portal (allowed: {})",
            meta.name,
            fmt_portals(op.portals())
        )));
    }
    Ok(op)
}

/// Send an action without a payload (invitation answers, group join/leave,
/// approval decisions) to a record: GET as documented, or `{}` for other
/// methods. Its undocumented answer is read leniently ([`action_result`]).
pub(crate) async fn send_action(
    client: &Client,
    op: Operation,
    portal: Portal,
    id: &str,
) -> Result<ActionResult, Error> {
    let method = method_of(op);
    let body = if method == Method::GET {
        None
    } else {
        Some(Bytes::from_static(b"{}"))
    };
    let resp = client
        .send(Request {
            method,
            path: fill(op.path(), portal, Some(id)),
            query: None,
            body,
            auth: auth_for(portal),
        })
        .await?;
    action_result(&resp.body).map_err(|e| match op.method() {
        HttpMethod::Get => e,
        m => applied_undecodable(m.as_str(), &resp, &[], e),
    })
}

/// Decode an action's undocumented body leniently: an object as it is,
/// an empty body as an empty object, anything else under `"result"`.
pub(crate) fn action_result(body: &[u8]) -> Result<ActionResult, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(ActionResult(serde_json::Map::new()));
    }
    let v: serde_json::Value = crate::decode(body)?;
    Ok(match v {
        serde_json::Value::Object(m) => ActionResult(m),
        other => {
            let mut m = serde_json::Map::new();
            m.insert("result".into(), other);
            ActionResult(m)
        }
    })
}

fn to_body<T: Serialize>(value: &T) -> Result<Bytes, Error> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|e| {
        Error::InvalidInput(crate::InvalidInput::one(
            "",
            format!("cannot serialize the body: {e}"),
        ))
    })
}

impl<M: Model> Api<M> {
    pub(crate) fn new(client: Client) -> Self {
        Api {
            client,
            portal: Portal::Private,
            _m: PhantomData,
        }
    }

    /// The same API on another portal.
    pub fn portal(mut self, portal: Portal) -> Self {
        self.portal = portal;
        self
    }

    /// The same API on the public portal.
    pub fn public(self) -> Self {
        self.portal(Portal::Public)
    }

    /// The model's metadata.
    pub fn meta(&self) -> &'static ModelMeta {
        M::META
    }

    /// A list request (see [`ListRequest`]).
    pub fn list(&self) -> ListRequest<M> {
        ListRequest::new(self.client.clone(), self.portal, super::list::Async)
    }

    /// The official Python tool's `load_<model>`: a list request with the
    /// model's default includes, taking loader keywords with the generated
    /// `by_<keyword>` methods (typed per model: `by_name`, `by_projects`, ...).
    /// Everything comes from the spec's loader data.
    ///
    /// Default includes that are not includable relations of the typed record
    /// (the Python tool asks sessions for `epochs`, which are plain ids) are
    /// left out, so the typed decode cannot break on them.
    ///
    /// ```no_run
    /// # async fn demo(client: brainstem::client::Client) -> Result<(), brainstem::client::Error> {
    /// let sessions = client.sessions().load().by_name("rat".into()).by_tags("pilot".into()).all().await?;
    /// # Ok(()) }
    /// ```
    pub fn load(&self) -> ListRequest<M> {
        let req = self.list();
        match M::META.loader.as_ref() {
            Some(l) => req.with_default_includes(loader_includes(M::META, l.default_include)),
            // `by` reports that there is no loader; a plain list still works.
            None => req,
        }
    }

    /// One record by id, with the loader's default includes.
    pub fn load_one(&self, id: M::Id) -> GetRequest<M> {
        let mut g = self.get(id);
        if let Some(l) = M::META.loader.as_ref() {
            g.include = loader_includes(M::META, l.default_include);
            g.default_includes = true;
        }
        g
    }

    /// One record by id; add `.include(...)` before awaiting to embed relations.
    pub fn get(&self, id: M::Id) -> GetRequest<M> {
        GetRequest {
            client: self.client.clone(),
            portal: self.portal,
            id,
            include: Vec::new(),
            default_includes: false,
            invalid: None,
            _m: PhantomData,
        }
    }

    async fn save(
        &self,
        op: Operation,
        id: Option<String>,
        body: Bytes,
    ) -> Result<Saved<M>, Error> {
        let resp = self
            .client
            .send(Request {
                method: method_of(op),
                path: fill(op.path(), self.portal, id.as_deref()),
                query: None,
                body: Some(body),
                auth: auth_for(self.portal),
            })
            .await?;
        self.client.observed(M::META, || {
            decode_saved::<M>(&resp.body, resp.content_type()).map_err(|e| {
                let approval = M::META.approval.as_ref().map(|a| a.one);
                let keys: Vec<&str> = std::iter::once(M::META.one).chain(approval).collect();
                applied_undecodable(op.method().as_str(), &resp, &keys, e)
            })
        })
    }

    /// Create a record (POST). The body is checked against the spec first;
    /// nothing is sent if it is invalid. Never retried once sent.
    pub async fn create(&self, new: &M::New) -> Result<Saved<M>, Error> {
        let op = checked_op(M::META, M::META.create, "create", self.portal)?;
        new.validate()?;
        self.save(op, None, to_body(new)?).await
    }

    /// Change some fields (PATCH). Checked first; never retried once sent.
    pub async fn update(&self, id: M::Id, patch: &M::Patch) -> Result<Saved<M>, Error> {
        let op = checked_op(
            M::META,
            M::META.partial_update,
            "update (PATCH)",
            self.portal,
        )?;
        patch.validate()?;
        self.save(op, Some(id.to_string()), to_body(patch)?).await
    }

    /// Replace a whole record (PUT), where the API has it. The current spec
    /// documents no PUT operation, so this answers [`Error::NotSupported`]
    /// without sending anything until one is added.
    pub async fn replace(&self, id: M::Id, new: &M::New) -> Result<Saved<M>, Error> {
        let op = checked_op(M::META, M::META.update, "replace (PUT)", self.portal).map_err(
            |e| match e {
                Error::NotSupported(m) => {
                    Error::NotSupported(format!("{m}; use update() (PATCH) to change fields"))
                }
                e => e,
            },
        )?;
        new.validate()?;
        self.save(op, Some(id.to_string()), to_body(new)?).await
    }

    /// Delete a record (the server answers 204).
    pub async fn delete(&self, id: M::Id) -> Result<(), Error> {
        let op = checked_op(M::META, M::META.destroy, "delete", self.portal)?;
        self.client
            .send(Request {
                method: method_of(op),
                path: fill(op.path(), self.portal, Some(&id.to_string())),
                query: None,
                body: None,
                auth: auth_for(self.portal),
            })
            .await?;
        Ok(())
    }

    /// Run a named action of the spec on a record (`accept`, `reject`,
    /// `cancel`, `join`, `leave`). Its body is undocumented, so it comes back
    /// as a JSON object.
    pub async fn action(&self, id: M::Id, action: &str) -> Result<ActionResult, Error> {
        let op = M::META.action(action).ok_or_else(|| {
            let known: Vec<&str> = M::META.actions.iter().filter_map(|o| o.action()).collect();
            Error::NotSupported(format!(
                "`{}` has no `{action}` action (it has: {})",
                M::META.name,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })?;
        let op = checked_op(M::META, Some(op), action, self.portal)?;
        send_action(&self.client, op, self.portal, &id.to_string()).await
    }

    /// Accept an invitation or membership request.
    pub async fn accept(&self, id: M::Id) -> Result<ActionResult, Error> {
        self.action(id, "accept").await
    }

    /// Reject an invitation or membership request.
    pub async fn reject(&self, id: M::Id) -> Result<ActionResult, Error> {
        self.action(id, "reject").await
    }

    /// Cancel an invitation or membership request you sent.
    pub async fn cancel(&self, id: M::Id) -> Result<ActionResult, Error> {
        self.action(id, "cancel").await
    }

    /// Join a group.
    pub async fn join(&self, id: M::Id) -> Result<ActionResult, Error> {
        self.action(id, "join").await
    }

    /// Leave a group.
    pub async fn leave(&self, id: M::Id) -> Result<ActionResult, Error> {
        self.action(id, "leave").await
    }

    /// The approval queue of an approval-gated model.
    pub fn approvals(&self) -> Approvals<M> {
        Approvals::new(self.client.clone(), self.portal)
    }

    async fn entry_action<B: Serialize>(
        &self,
        id: M::Id,
        action: &str,
        body: &B,
    ) -> Result<M, Error> {
        let op = checked_op(M::META, M::META.action(action), action, self.portal)?;
        let resp = self
            .client
            .send(Request {
                method: method_of(op),
                path: fill(op.path(), self.portal, Some(&id.to_string())),
                query: None,
                body: Some(to_body(body)?),
                auth: auth_for(self.portal),
            })
            .await?;
        self.client.observed(M::META, || {
            (codec::of::<M>().one)(&resp.body, resp.content_type(), M::META.one).map_err(|e| {
                applied_undecodable(
                    op.method().as_str(),
                    &resp,
                    &[M::META.one],
                    Error::Decode(e),
                )
            })
        })
    }
}

/// A 2xx answer to a write that could not be decoded: the change was applied,
/// so this must not look like a failure that invites a retry.
pub(crate) fn applied_undecodable(
    method: &str,
    resp: &super::Response,
    keys: &[&str],
    e: Error,
) -> Error {
    let error = match e {
        Error::Decode(d) => d,
        other => return other,
    };
    // the record's id: under the envelope key, or at the top
    let id = decode::scan_one(&resp.body, None, keys)
        .ok()
        .and_then(|(_, r, _)| decode::raw_id(decode::text(&resp.body, r)))
        .or_else(|| {
            std::str::from_utf8(&resp.body)
                .ok()
                .and_then(decode::raw_id)
        });
    Error::AppliedUndecodable(Box::new(super::AppliedUndecodable {
        method: method.to_string(),
        status: resp.status,
        id,
        body: resp.body.clone(),
        error,
    }))
}

fn loader_includes(meta: &ModelMeta, defaults: &[&str]) -> Vec<String> {
    defaults
        .iter()
        .filter(|name| meta.field(name).is_some_and(|f| f.includable))
        .map(|s| s.to_string())
        .collect()
}

/// Decode a create/update answer: the record, or (approval-gated models) the proposal.
pub(crate) fn decode_saved<M: Model>(
    body: &[u8],
    content_type: Option<&str>,
) -> Result<Saved<M>, Error> {
    match M::META.approval.as_ref() {
        None => Ok(Saved::Applied((codec::of::<M>().one)(
            body,
            content_type,
            M::META.one,
        )?)),
        Some(a) => Ok(
            match (codec::of::<M>().saved)(body, content_type, M::META.one, a.one)? {
                decode::One::First(m) => Saved::Applied(m),
                decode::One::Second(p) => Saved::PendingApproval(p),
            },
        ),
    }
}

impl<M: LogModel> Api<M> {
    /// Add an entry to a log; answers the log with its entries.
    pub async fn add_entry(&self, id: M::Id, entry: &M::EntryInput) -> Result<M, Error> {
        self.entry_action(id, "add_entry", entry).await
    }

    /// Change an entry of a log.
    pub async fn change_entry(&self, id: M::Id, change: &LogEntryChange) -> Result<M, Error> {
        self.entry_action(id, "change_entry", change).await
    }

    /// Remove an entry from a log.
    pub async fn remove_entry(&self, id: M::Id, key: &LogEntryKey) -> Result<M, Error> {
        self.entry_action(id, "remove_entry", key).await
    }
}

/// A request for one record; await it (or call [`send`](Self::send)).
#[must_use = "a get request does nothing until awaited"]
pub struct GetRequest<M: Model> {
    client: Client,
    portal: Portal,
    id: M::Id,
    include: Vec<String>,
    default_includes: bool,
    invalid: Option<crate::InvalidInput>,
    _m: PhantomData<fn() -> M>,
}

impl<M: Model> std::fmt::Debug for GetRequest<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetRequest")
            .field("model", &M::META.name)
            .field("id", &self.id)
            .field("portal", &self.portal)
            .field("include", &self.include)
            .finish()
    }
}

impl<M: Model> GetRequest<M> {
    /// The portal.
    pub fn portal(mut self, portal: Portal) -> Self {
        self.portal = portal;
        self
    }

    /// Embed a relation (the first call replaces a loader's default includes).
    pub fn include(mut self, rel: M::Include) -> Self {
        if self.default_includes {
            self.include.clear();
            self.default_includes = false;
        }
        self.include.push(rel.field().to_string());
        self
    }

    /// Include a nested relation by its dotted path (`"behaviors.setup"`);
    /// see [`ListRequest::include_path`].
    pub fn include_path(mut self, path: &str) -> Self {
        if self.default_includes {
            self.include.clear();
            self.default_includes = false;
        }
        match super::list::check_include_path(M::META, path) {
            Ok(()) => self.include.push(path.to_string()),
            Err(message) => {
                self.invalid = Some(crate::InvalidInput::one(
                    format!("include[{path}]"),
                    message,
                ))
            }
        }
        self
    }

    async fn fetch(&self) -> Result<super::Response, Error> {
        if let Some(e) = &self.invalid {
            return Err(Error::InvalidInput(e.clone()));
        }
        let op = checked_op(M::META, M::META.retrieve, "get", self.portal)?;
        let q = ListQuery {
            include: self.include.clone(),
            ..ListQuery::default()
        };
        self.client
            .send(Request {
                method: method_of(op),
                path: fill(op.path(), self.portal, Some(&self.id.to_string())),
                query: Some(q.to_query_string()),
                body: None,
                auth: auth_for(self.portal),
            })
            .await
    }

    /// Send the request. Included relations the server sideloaded are merged
    /// into the record; those it did not send are
    /// [`Related::Missing`](crate::Related::Missing).
    pub async fn send(self) -> Result<M, Error> {
        let resp = self.fetch().await?;
        self.client.observed(M::META, || {
            let (_, r, scanned) =
                decode::scan_one(&resp.body, resp.content_type(), &[M::META.one])?;
            decode::report_envelope(&scanned, M::META.one, false);
            let inc = decode::Includes::from_paths(&self.include);
            let one = [r.clone()];
            let side = decode::Sideloads::new(&resp.body, &scanned, Some((M::META.many, &one)));
            (codec::of::<M>().record)(decode::text(&resp.body, r), M::META.one, &inc, &side)
                .map_err(|(e, _)| Error::Decode(e))
        })
    }

    /// The record as a JSON value (sideloads merged), for when the typed
    /// decode is in the way.
    pub async fn json(self) -> Result<serde_json::Value, Error> {
        let resp = self.fetch().await?;
        let (_, r, scanned) = decode::scan_one(&resp.body, resp.content_type(), &[M::META.one])?;
        let ((), seen) = crate::observe::collect(|| {
            decode::report_envelope(&scanned, M::META.one, false);
        });
        self.client
            .note_drift(M::META.name, M::META.schema, &seen, None);
        let inc = decode::Includes::from_paths(&self.include);
        let one = [r.clone()];
        let side = decode::Sideloads::new(&resp.body, &scanned, Some((M::META.many, &one)));
        decode::json_record(
            decode::text(&resp.body, r),
            M::META,
            M::META.one,
            &inc,
            &side,
        )
        .map_err(|(e, _)| Error::Decode(e))
    }
}

impl<M: Model> IntoFuture for GetRequest<M> {
    type Output = Result<M, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<M, Error>> + Send + 'static>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
