//! Fetching a model's records for the mirror: each as its id and its JSON
//! text as the server sent it, page by page, for a model chosen at run time.
//! No typed record is built: the mirror keeps the text and reads its columns
//! from it.

use futures::StreamExt;
use futures::stream::BoxStream;

use crate::client::{Client, Error, RawRecord};
use crate::meta::ModelMeta;
use crate::query::RawFilter;
use crate::{Model, ModelVisitor};

/// One fetched record.
#[derive(Debug)]
pub(crate) enum Item {
    /// Its id (canonical text: a UUID in lower case, an integer in decimal)
    /// and its JSON text as received.
    Record { id: String, raw: String },
    /// A record that cannot be mirrored (no readable id), with why.
    Skipped(String),
}

/// The pages of a model's list, each as its [`Item`]s.
pub(crate) type Pages = BoxStream<'static, Result<Vec<Item>, Error>>;

/// Start listing `meta`'s records; with `since`, only those whose
/// `field` is at least `value` (`filter{field.gte}=value`).
pub(crate) fn pages(
    client: &Client,
    meta: &'static ModelMeta,
    since: Option<(&'static str, String)>,
) -> Result<Pages, Error> {
    crate::models::with_model(
        meta.name,
        ListPages {
            client: client.clone(),
            since,
        },
    )
    .unwrap_or_else(|| {
        Err(Error::NotSupported(format!(
            "no model named {:?}",
            meta.name
        )))
    })
}

/// Pages fetched ahead by a task of their own: the list keeps its pages in
/// flight while the mirror reads the stored hashes and compares what came
/// (the list's own driver only runs while it is asked for a page). At most
/// [`AHEAD`] pages wait; dropping the stream stops the task and the list.
pub(crate) fn ahead(mut pages: Pages) -> Pages {
    let (tx, mut rx) = tokio::sync::mpsc::channel(AHEAD);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tx.closed() => break,
                page = pages.next() => match page {
                    Some(p) => {
                        if tx.send(p).await.is_err() {
                            break;
                        }
                    }
                    None => break,
                },
            }
        }
    });
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}

/// Pages that may wait fetched ahead of the mirror (see [`ahead`]).
const AHEAD: usize = 4;

/// How many records the model's list holds, as the server counts them
/// (`None` when it does not say).
pub(crate) async fn count(client: &Client, meta: &'static ModelMeta) -> Result<Option<u64>, Error> {
    let fut = crate::models::with_model(
        meta.name,
        Count {
            client: client.clone(),
        },
    )
    .ok_or_else(|| Error::NotSupported(format!("no model named {:?}", meta.name)))?;
    fut.await
}

struct ListPages {
    client: Client,
    since: Option<(&'static str, String)>,
}

impl ModelVisitor for ListPages {
    type Output = Result<Pages, Error>;

    fn visit<M: Model>(self) -> Self::Output {
        let mut req = self.client.api::<M>().list();
        if let Some((field, value)) = self.since {
            req = req.filter_unchecked(RawFilter::new(&format!("{field}.gte"), value)?);
        }
        Ok(req
            .raw_pages()
            .map(|page| {
                page.map(|p| {
                    p.into_items()
                        .into_iter()
                        .map(|i| match i {
                            Ok(rec) => record::<M>(rec),
                            // the raw reader keeps every record; should one
                            // come undecoded, it is read the same way
                            Err(u) => record::<M>(RawRecord::of::<M>(u.raw)),
                        })
                        .collect()
                })
            })
            .boxed())
    }
}

fn record<M: Model>(rec: RawRecord) -> Item {
    match rec.id {
        Some(id) => Item::Record { id, raw: rec.text },
        None => Item::Skipped(format!(
            "{} record has no readable id: {}",
            M::META.name,
            crate::error::snippet(rec.text.as_bytes(), 200)
        )),
    }
}

struct Count {
    client: Client,
}

impl ModelVisitor for Count {
    type Output = futures::future::BoxFuture<'static, Result<Option<u64>, Error>>;

    fn visit<M: Model>(self) -> Self::Output {
        let req = self.client.api::<M>().list().limit(1);
        Box::pin(async move { Ok(req.page().await?.total()) })
    }
}
