//! The client's drift report: every decode it does (list pages, streams,
//! `all`, `get`, create and update answers, approval queues, log entries)
//! adds what it noticed to one [`Drift`] shared by the client's clones, and
//! [`Client::check_schema`] samples every readable model once.
//!
//! Recording is observation only: the records a call returns are the same
//! with or without it. It costs a lock only when something was seen.

use futures::future::BoxFuture;
use futures::{FutureExt as _, StreamExt as _};

use super::{Client, Error};
use crate::drift::Drift;
use crate::meta::ModelMeta;
use crate::observe::{self, Observation};
use crate::{DecodeError, Model, ModelVisitor, Portal};

/// How many models [`Client::check_schema`] samples at once.
pub const CHECK_CONCURRENCY: usize = 4;

impl Client {
    /// What the client has seen so far that the pinned schema does not
    /// describe (a snapshot; see [`Drift`]). Empty while everything the
    /// server sent matched the schema.
    ///
    /// ```no_run
    /// # async fn demo(client: brainstem::client::Client) -> Result<(), brainstem::client::Error> {
    /// let sessions = client.sessions().list().all().await?;
    /// let drift = client.drift();
    /// if !drift.is_empty() {
    ///     eprintln!("{}", drift.summary());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn drift(&self) -> Drift {
        self.inner
            .drift
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    /// The report so far, and start a new one.
    pub fn take_drift(&self) -> Drift {
        self.inner
            .drift
            .lock()
            .map(|mut d| std::mem::take(&mut *d))
            .unwrap_or_default()
    }

    /// Forget what was seen so far.
    pub fn reset_drift(&self) {
        self.take_drift();
    }

    /// Add what a decode of `model`'s answer noticed, and the records that
    /// did not decode (as record type `shape`).
    pub(crate) fn note_drift<'a>(
        &self,
        model: &str,
        shape: &str,
        seen: &[Observation],
        undecoded: impl IntoIterator<Item = &'a DecodeError>,
    ) {
        let mut undecoded = undecoded.into_iter().peekable();
        if seen.is_empty() && undecoded.peek().is_none() {
            return;
        }
        if let Ok(mut d) = self.inner.drift.lock() {
            d.record_all(model, seen);
            for e in undecoded {
                d.record_undecoded(model, shape, e);
            }
        }
    }

    /// Run a decode of `meta`'s answer with a collector installed and add
    /// what it noticed (and its decode error, if it failed) to the report.
    pub(crate) fn observed<T>(
        &self,
        meta: &'static ModelMeta,
        decode: impl FnOnce() -> Result<T, Error>,
    ) -> Result<T, Error> {
        let (out, seen) = observe::collect(decode);
        let failed = match &out {
            Err(Error::Decode(e)) => Some(e),
            Err(Error::AppliedUndecodable(a)) => Some(&a.error),
            _ => None,
        };
        self.note_drift(meta.name, meta.schema, &seen, failed);
        out
    }

    /// Sample every model readable on the client's portal (private with a
    /// token, public without) once: fetch one record of each, and report
    /// what the server sent that the pinned schema does not describe.
    ///
    /// The models come from the generated metadata: every model whose list
    /// operation the portal allows, and every approval queue it allows. At
    /// most [`CHECK_CONCURRENCY`] requests are in flight. A model that
    /// cannot be fetched (no permission, a server error) is listed in
    /// [`Drift::failed`] and the others are still sampled; the call fails
    /// only when no model could be sampled at all (with the first error:
    /// the server is down, the token is refused, ...). What is seen is also
    /// added to [`drift`](Self::drift).
    ///
    /// A count in the returned report is the number of sampled records
    /// that showed the entry.
    ///
    /// ```no_run
    /// # async fn demo(client: brainstem::client::Client) -> Result<(), brainstem::client::Error> {
    /// let report = client.check_schema().await?;
    /// println!("{report}");
    /// if !report.is_empty() {
    ///     std::process::exit(3);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn check_schema(&self) -> Result<Drift, Error> {
        let portal = if self.has_token() {
            Portal::Private
        } else {
            Portal::Public
        };
        self.check_schema_on(portal).await
    }

    /// [`check_schema`](Self::check_schema) on a given portal.
    pub async fn check_schema_on(&self, portal: Portal) -> Result<Drift, Error> {
        let mut samples: Vec<(String, BoxFuture<'static, Result<Drift, Error>>)> = Vec::new();
        for meta in crate::models::MODELS {
            let allowed = |op: Option<crate::Operation>| {
                op.is_some_and(|op| op.portals().is_empty() || op.portals().contains(&portal))
            };
            if allowed(meta.list)
                && let Some(f) = crate::models::with_model(
                    meta.name,
                    Sample {
                        client: self.clone(),
                        portal,
                        approvals: false,
                    },
                )
            {
                samples.push((meta.name.to_string(), f));
            }
            if let Some(a) = meta.approval.as_ref().filter(|a| allowed(a.list))
                && let Some(f) = crate::models::with_model(
                    meta.name,
                    Sample {
                        client: self.clone(),
                        portal,
                        approvals: true,
                    },
                )
            {
                samples.push((approval_name(a).to_string(), f));
            }
        }
        let tasks: Vec<Sampling> = samples
            .into_iter()
            .map(|(name, f)| async move { (name, f.await) }.boxed())
            .collect();
        let mut results = futures::stream::iter(tasks).buffered(CHECK_CONCURRENCY);
        let mut report = Drift::new();
        let mut first_error = None;
        while let Some((name, r)) = results.next().await {
            match r {
                Ok(d) => {
                    report.merge(&d);
                    report.sampled_ok(&name);
                }
                Err(e) => {
                    report.sample_failed(&name, &e.to_string());
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if report.sampled().is_empty() => Err(e),
            _ => Ok(report),
        }
    }
}

/// One model's sample, named.
type Sampling = BoxFuture<'static, (String, Result<Drift, Error>)>;

/// An approval queue's model name (`speciesapproval`).
fn approval_name(a: &crate::meta::ApprovalMeta) -> &'static str {
    a.model.rsplit('/').next().unwrap_or(a.model)
}

/// Fetch one record of a model (or of its approval queue).
struct Sample {
    client: Client,
    portal: Portal,
    approvals: bool,
}

impl ModelVisitor for Sample {
    type Output = BoxFuture<'static, Result<Drift, Error>>;
    fn visit<M: Model>(self) -> Self::Output {
        async move {
            let mut d = Drift::new();
            if self.approvals {
                let name = M::META
                    .approval
                    .as_ref()
                    .map_or(M::META.name, approval_name);
                let page = self
                    .client
                    .api::<M>()
                    .portal(self.portal)
                    .approvals()
                    .list()
                    .limit(1)
                    .page()
                    .await?;
                d.record_all(name, &page.observations);
                let shape = M::META
                    .approval
                    .as_ref()
                    .map_or(M::META.schema, |a| a.schema);
                for u in &page.undecoded {
                    d.record_undecoded(name, shape, &u.error);
                }
            } else {
                let page = self
                    .client
                    .api::<M>()
                    .portal(self.portal)
                    .list()
                    .limit(1)
                    .page()
                    .await?;
                d.record_all(M::META.name, &page.observations);
                for u in &page.undecoded {
                    d.record_undecoded(M::META.name, M::META.schema, &u.error);
                }
            }
            Ok(d)
        }
        .boxed()
    }
}
