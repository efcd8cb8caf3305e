//! The client against the stand-in server (feature `server`): a
//! metadata-driven create -> get -> list with a filter -> patch -> delete for
//! every model that allows it, reads on both portals, approval queues,
//! pagination with every knob, the device login, and the quick start's flow.

use std::collections::HashSet;
use std::time::Duration;

use brainstem::client::{Client, Error, LoginError, LoginOptions, Saved, TokenCache, TokenSource};
use brainstem::meta::FieldKind;
use brainstem::query::{RawFilter, SortField};
use brainstem::{Model, ModelVisitor, Portal};
use brainstem_mock::{ListKnobs, MockOptions, MockServer};
use serde_json::{Map, Value};

use crate::client_support::mock_client as client;

/// A create body made from an existing record: read-only fields dropped,
/// embedded relations replaced by ids, text that may have to be unique made
/// fresh.
fn create_body<M: Model>(existing: &M, tag: &str) -> Value {
    let Value::Object(rec) = serde_json::to_value(existing).unwrap() else {
        panic!("{}: a record is an object", M::META.name)
    };
    let mut body = Map::new();
    for f in M::META.fields {
        if f.read_only {
            continue;
        }
        let Some(v) = rec.get(f.name) else { continue };
        if v.is_null() && !f.create_required {
            continue;
        }
        let v = match (f.kind, f.name) {
            (FieldKind::Text, "name") => Value::String(format!("{tag} {}", M::META.name)),
            (FieldKind::Text, _) if f.choices.is_empty() && f.name.contains("email") => {
                Value::String(format!("{tag}@example.org"))
            }
            _ => v.clone(),
        };
        body.insert(f.name.to_string(), v);
    }
    Value::Object(body)
}

/// A patch that changes one writable free-text field (or the name).
fn patch_body<M: Model>() -> (Map<String, Value>, Option<&'static str>) {
    let field = M::META
        .fields
        .iter()
        .filter(|f| !f.read_only && !f.many && f.kind == FieldKind::Text && f.choices.is_empty())
        .filter(|f| !f.name.contains("email") && !f.name.contains("url") && !f.name.contains("doi"))
        .find(|f| f.name == "description" || f.name == "notes" || f.name == "comments")
        .or_else(|| M::META.field("name").filter(|f| !f.read_only));
    let mut m = Map::new();
    if let Some(f) = field {
        m.insert(
            f.name.to_string(),
            Value::String(format!("patched {}", M::META.name)),
        );
    }
    (m, field.map(|f| f.name))
}

#[derive(Debug)]
enum Outcome {
    Done,
    Skipped(&'static str),
}

struct Crud<'a> {
    client: &'a Client,
    approver: &'a Client,
}

impl ModelVisitor for Crud<'_> {
    type Output = futures::future::BoxFuture<'static, Result<Outcome, String>>;
    fn visit<M: Model>(self) -> Self::Output {
        let client = self.client.clone();
        let approver = self.approver.clone();
        Box::pin(async move { crud::<M>(&client, &approver).await })
    }
}

async fn crud<M: Model>(client: &Client, approver: &Client) -> Result<Outcome, String> {
    let name = M::META.name;
    let err = |step: &str, e: Error| format!("{name}: {step}: {e}");
    if M::META.create.is_none() {
        return Ok(Outcome::Skipped("no create operation"));
    }
    let api = client.api::<M>();
    let existing = api
        .list()
        .limit(5)
        .page()
        .await
        .map_err(|e| err("list", e))?;
    let Some(template) = existing.records.first() else {
        return Err(format!("{name}: the seed has no record to copy"));
    };
    let tag = format!("crud-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let body = create_body::<M>(template, &tag);
    let new: M::New = serde_json::from_value(body.clone())
        .map_err(|e| format!("{name}: create shape from {body}: {e}"))?;

    // create
    let created: M = match api.create(&new).await.map_err(|e| err("create", e))? {
        Saved::Applied(r) => r,
        Saved::PendingApproval(p) => {
            // Approval-gated: the reviewer accepts the proposal, then the record exists.
            let pid: uuid::Uuid = serde_json::to_value(&p).unwrap()["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("{name}: proposal without id"))?;
            let queue = approver.api::<M>().approvals();
            let listed = queue
                .list()
                .all()
                .await
                .map_err(|e| err("approvals list", e))?;
            if !listed
                .iter()
                .any(|a| serde_json::to_value(a).unwrap()["id"] == Value::String(pid.to_string()))
            {
                return Err(format!("{name}: proposal {pid} not in the queue"));
            }
            queue.get(pid).await.map_err(|e| err("approval get", e))?;
            queue
                .accept(pid)
                .await
                .map_err(|e| err("approval accept", e))?;
            let found = api
                .list()
                .filter_unchecked(
                    RawFilter::new("name", format!("{tag} {name}"))
                        .map_err(|e| format!("{name}: {e}"))?,
                )
                .all()
                .await
                .map_err(|e| err("list after accept", e))?;
            found
                .into_iter()
                .next()
                .ok_or_else(|| format!("{name}: accepted proposal made no record"))?
        }
    };
    let id = created.record_id();

    // get
    let got = api.get(id).await.map_err(|e| err("get", e))?;
    if got != created {
        return Err(format!(
            "{name}: get differs from create:\n{got:?}\n{created:?}"
        ));
    }

    // list with a filter
    let listed = api
        .list()
        .filter_unchecked(RawFilter::new("id", id.to_string()).map_err(|e| format!("{name}: {e}"))?)
        .all()
        .await
        .map_err(|e| err("list filtered", e))?;
    if listed.len() != 1 || listed[0].record_id() != id {
        return Err(format!(
            "{name}: filter by id gave {} records",
            listed.len()
        ));
    }

    // patch
    if M::META.partial_update.is_some() {
        let (patch, field) = patch_body::<M>();
        let patch_v: M::Patch = serde_json::from_value(Value::Object(patch.clone()))
            .map_err(|e| format!("{name}: patch shape from {patch:?}: {e}"))?;
        let saved = api
            .update(id, &patch_v)
            .await
            .map_err(|e| err("patch", e))?;
        let after = match saved {
            Saved::Applied(after) => serde_json::to_value(&after).unwrap(),
            Saved::PendingApproval(p) => {
                // The change applies once the reviewer accepts it.
                if M::META.approval.is_none() {
                    return Err(format!(
                        "{name}: a proposal from a model that is not approval-gated"
                    ));
                }
                let pid: uuid::Uuid = serde_json::to_value(&p).unwrap()["id"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| format!("{name}: change proposal without id"))?;
                approver
                    .api::<M>()
                    .approvals()
                    .accept(pid)
                    .await
                    .map_err(|e| err("accept change", e))?;
                serde_json::to_value(api.get(id).await.map_err(|e| err("get after accept", e))?)
                    .unwrap()
            }
        };
        if let Some(field) = field {
            if after[field] != patch[field] {
                return Err(format!(
                    "{name}: patched {field} reads back as {}",
                    after[field]
                ));
            }
            let again =
                serde_json::to_value(api.get(id).await.map_err(|e| err("get after patch", e))?)
                    .unwrap();
            if again[field] != patch[field] {
                return Err(format!(
                    "{name}: get after patch shows {field} = {}",
                    again[field]
                ));
            }
        }
    }

    // delete
    if M::META.destroy.is_some() {
        api.delete(id).await.map_err(|e| err("delete", e))?;
        match api.get(id).await {
            Err(Error::NotFound { .. }) => {}
            other => return Err(format!("{name}: get after delete: {:?}", other.map(|_| ()))),
        }
    }
    Ok(Outcome::Done)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_list_patch_delete_for_every_model() {
    let srv = MockServer::start().await;
    let c = client(&srv);
    let mut failures = Vec::new();
    let mut done = Vec::new();
    let mut skipped = Vec::new();
    for m in brainstem::MODELS.iter() {
        let fut = brainstem::models::with_model(
            m.name,
            Crud {
                client: &c,
                approver: &c,
            },
        )
        .unwrap();
        match fut.await {
            Ok(Outcome::Done) => done.push(m.name),
            Ok(Outcome::Skipped(why)) => skipped.push((m.name, why)),
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every model with a create operation went through the whole cycle.
    let creatable = brainstem::MODELS
        .iter()
        .filter(|m| m.create.is_some())
        .count();
    assert_eq!(
        done.len(),
        creatable,
        "done: {done:?}; skipped: {skipped:?}"
    );
    assert!(creatable >= 30, "{creatable}");
}

struct PublicReads<'a>(&'a Client);

impl ModelVisitor for PublicReads<'_> {
    type Output = futures::future::BoxFuture<'static, Result<usize, String>>;
    fn visit<M: Model>(self) -> Self::Output {
        let client = self.0.clone();
        Box::pin(async move {
            let name = M::META.name;
            let api = client.api::<M>().public();
            let all = api
                .list()
                .all()
                .await
                .map_err(|e| format!("{name}: public list: {e}"))?;
            if let Some(first) = all.first()
                && M::META
                    .retrieve
                    .is_some_and(|o| o.portals().contains(&Portal::Public))
            {
                let got = api
                    .get(first.record_id())
                    .await
                    .map_err(|e| format!("{name}: public get: {e}"))?;
                if &got != first {
                    return Err(format!("{name}: public get differs from list"));
                }
            }
            Ok(all.len())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_model_reads_on_the_public_portal_without_a_token() {
    let srv = MockServer::start().await;
    let anon = Client::builder()
        .base_url(srv.url())
        .no_token_cache()
        .build()
        .unwrap();
    let mut failures = Vec::new();
    let mut nonempty = 0;
    for m in brainstem::MODELS.iter().filter(|m| {
        m.list
            .is_some_and(|o| o.portals().contains(&Portal::Public))
    }) {
        match brainstem::models::with_model(m.name, PublicReads(&anon))
            .unwrap()
            .await
        {
            Ok(n) if n > 0 => nonempty += 1,
            Ok(_) => {}
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(nonempty >= 10, "public records found for {nonempty} models");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_features_against_the_server() {
    use brainstem::models::{ProjectFilter, SessionFilter, SessionInclude, SessionSort};
    use brainstem::types::{Project, Session};
    let srv = MockServer::start().await;
    let c = client(&srv);

    // Public projects, filtered by name.
    let public: Vec<Project> = c.projects().public().list().all().await.unwrap().into_vec();
    assert!(!public.is_empty());
    let visual = c
        .projects()
        .public()
        .list()
        .filter(ProjectFilter::NameIcontains("visual".into()))
        .all()
        .await
        .unwrap()
        .into_vec();
    assert!(
        !visual.is_empty()
            && visual
                .iter()
                .all(|p| p.name.to_lowercase().contains("visual"))
    );

    // Sorting both ways over several pages.
    let asc: Vec<Session> = c
        .sessions()
        .list()
        .sort(SessionSort::Name.asc())
        .all()
        .await
        .unwrap()
        .into_vec();
    let desc: Vec<Session> = c
        .sessions()
        .list()
        .sort(SessionSort::Name.desc())
        .all()
        .await
        .unwrap()
        .into_vec();
    assert!(asc.len() > 100, "{}", asc.len());
    assert!(asc.windows(2).all(|w| w[0].name <= w[1].name));
    assert!(desc.windows(2).all(|w| w[0].name >= w[1].name));
    let ids: HashSet<_> = asc.iter().map(|s| s.id).collect();
    assert_eq!(ids.len(), asc.len(), "every record once");

    // Several filters AND together; a negated one excludes.
    let some = &asc[asc.len() / 2];
    let project = some.projects[0].id();
    let both = c
        .sessions()
        .list()
        .filter(SessionFilter::Projects(project))
        .filter(SessionFilter::NameIexact(some.name.clone()))
        .all()
        .await
        .unwrap()
        .into_vec();
    assert!(both.iter().any(|s| s.id == some.id));
    assert!(both.iter().all(|s| s.name.eq_ignore_ascii_case(&some.name)));
    let without = c
        .sessions()
        .list()
        .exclude(SessionFilter::NameIexact(some.name.clone()))
        .all()
        .await
        .unwrap()
        .into_vec();
    assert!(
        without
            .iter()
            .all(|s| !s.name.eq_ignore_ascii_case(&some.name))
    );

    // Include embeds typed records.
    let with = c
        .sessions()
        .list()
        .include(SessionInclude::Projects)
        .limit(5)
        .page()
        .await
        .unwrap();
    assert!(
        with.records
            .iter()
            .all(|s| s.projects.iter().all(|p| p.is_included()))
    );
    let one = c
        .sessions()
        .get(some.id)
        .include(SessionInclude::Projects)
        .await
        .unwrap();
    assert_eq!(one.projects[0].object().unwrap().id, project);

    // An unchecked filter on a field the model lacks is refused before
    // sending, naming the field.
    let e = c
        .sessions()
        .list()
        .filter_unchecked(RawFilter::new("bogus", "x").unwrap())
        .page()
        .await
        .unwrap_err();
    match &e {
        Error::InvalidInput(i) => {
            assert!(i.has("filter{bogus}"), "{i}");
            assert!(
                i.to_string()
                    .contains("`bogus` is not a field of `session`"),
                "{i}"
            );
        }
        other => panic!("{other:?}"),
    }

    // Server-side query errors are typed (a value the server cannot read).
    let e = c
        .sessions()
        .list()
        .filter_unchecked(RawFilter::new("date_time.gte", "not a date").unwrap())
        .page()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::BadQuery { .. }), "{e:?}");

    // Loaders.
    let loaded = c
        .sessions()
        .load()
        .by_name(some.name[..4].to_string())
        .all()
        .await
        .unwrap()
        .into_vec();
    assert!(loaded.iter().any(|s| s.id == some.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_with_every_knob() {
    use brainstem::types::Session;
    let srv = MockServer::start_with(MockOptions::new().sessions(437))
        .await
        .unwrap();
    let c = client(&srv);
    let reference: Vec<Session> = c
        .sessions()
        .list()
        .concurrency(1)
        .all()
        .await
        .unwrap()
        .into_vec();
    // Alice sees the sessions of her projects: several pages of them.
    assert!(reference.len() > 250, "{}", reference.len());
    let want: Vec<_> = reference.iter().map(|s| s.id).collect();
    for omit_count in [false, true] {
        for omit_next in [false, true] {
            for omit_meta in [false, true] {
                for sideload in [false, true] {
                    srv.set_knobs(ListKnobs {
                        omit_count,
                        omit_next,
                        omit_meta,
                        sideload,
                        ignore_offset: false,
                        latency_ms: 0,
                    });
                    for concurrency in [1, 4] {
                        for limit in [100u32, 33] {
                            let got: Vec<_> = c
                                .sessions()
                                .list()
                                .limit(limit)
                                .concurrency(concurrency)
                                .all()
                                .await
                                .unwrap_or_else(|e| panic!("{:?}: {e}", srv.knobs()))
                                .into_iter()
                                .map(|s| s.id)
                                .collect();
                            assert_eq!(
                                got,
                                want,
                                "{:?} conc {concurrency} limit {limit}",
                                srv.knobs()
                            );
                        }
                    }
                }
            }
        }
    }
    srv.set_knobs(ListKnobs {
        ignore_offset: true,
        ..ListKnobs::default()
    });
    let e = c.sessions().list().all().await.unwrap_err();
    assert!(matches!(e, Error::OffsetIgnored { offset: 100 }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_rights() {
    use brainstem::types::{NewSession, NewSessionRequired};
    let srv = MockServer::start().await;
    let ro = Client::builder()
        .base_url(srv.url())
        .token(srv.readonly_token())
        .no_token_cache()
        .build()
        .unwrap();
    let project = client(&srv)
        .projects()
        .list()
        .limit(1)
        .page()
        .await
        .unwrap()
        .records[0]
        .id;
    let e = ro
        .sessions()
        .create(&NewSession::new(NewSessionRequired {
            name: "ro".into(),
            projects: vec![project],
        }))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
    let bad = Client::builder()
        .base_url(srv.url())
        .token("not-a-token")
        .no_token_cache()
        .build()
        .unwrap();
    let e = bad.sessions().list().page().await.unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    assert!(!format!("{e:?}").contains("not-a-token"));
    let e = client(&srv)
        .sessions()
        .get(uuid::Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
}

async fn login_against(
    srv: &MockServer,
    dir: &std::path::Path,
) -> (
    Client,
    tokio::task::JoinHandle<Result<Option<std::path::PathBuf>, Error>>,
) {
    let c = Client::builder()
        .base_url(srv.url())
        .token_cache(TokenCache::in_dir(dir))
        .build()
        .unwrap();
    let c2 = c.clone();
    let task = tokio::spawn(async move {
        c2.login(
            LoginOptions::new()
                .headless(true)
                .output(std::io::sink())
                .poll_interval(Duration::from_millis(50))
                .deadline(Duration::from_secs(10)),
        )
        .await
    });
    (c, task)
}

async fn pending(srv: &MockServer) -> String {
    // Up to 10 s: the login task starts the sign-in almost at once, but CI
    // machines can be busy.
    for _ in 0..1000 {
        if let Some(p) = srv.pending_devices().first() {
            return p.user_code.clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no device sign-in started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_login_against_the_server() {
    let srv = MockServer::start().await;

    // Approved: the token works for private requests and is cached.
    let dir = tempfile::tempdir().unwrap();
    let (c, task) = login_against(&srv, dir.path()).await;
    let code = pending(&srv).await;
    assert_eq!(srv.pending_devices()[0].client_name, "brainstem-rs");
    assert!(srv.approve_device(&code));
    let path = task.await.unwrap().unwrap().unwrap();
    assert_eq!(c.token_source(), TokenSource::Login);
    c.sessions().list().limit(1).page().await.unwrap();
    let again = Client::builder()
        .base_url(srv.url())
        .token_cache(TokenCache::in_dir(dir.path()))
        .build()
        .unwrap();
    assert!(matches!(again.token_source(), TokenSource::Cache(p) if p == path));
    again.sessions().list().limit(1).page().await.unwrap();
    assert!(again.logout().unwrap());
    assert!(matches!(
        again.sessions().list().page().await,
        Err(Error::NotLoggedIn { .. })
    ));

    // Denied and expired.
    for (decide, want) in [
        ("deny", LoginError::AccessDenied),
        ("expire", LoginError::Expired),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (_c, task) = login_against(&srv, dir.path()).await;
        let code = pending(&srv).await;
        match decide {
            "deny" => assert!(srv.deny_device(&code)),
            _ => assert!(srv.expire_device(&code)),
        }
        match task.await.unwrap() {
            Err(Error::Login(e)) => assert_eq!(e, want),
            other => panic!("{decide}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_gated_models_answer_with_proposals() {
    use brainstem::types::{NewSpecies, NewSpeciesRequired, Species};
    let srv = MockServer::start().await;
    let c = client(&srv);
    let new = NewSpecies::new(NewSpeciesRequired {
        name: format!("Testus {}", uuid::Uuid::new_v4().simple()),
    });
    let saved = c.api::<Species>().create(&new).await.unwrap();
    let proposal = saved.pending().expect("a proposal awaiting review");
    let queue = c.species().approvals();
    assert!(
        queue
            .list()
            .all()
            .await
            .unwrap()
            .into_vec()
            .iter()
            .any(|p| p.id == proposal.id)
    );
    queue.reject(proposal.id).await.unwrap();

    let auto = MockServer::start_with(MockOptions::new().auto_approve(true))
        .await
        .unwrap();
    let saved = client(&auto).species().create(&new).await.unwrap();
    assert!(
        matches!(saved, Saved::Applied(ref s) if s.name == new.name),
        "{saved:?}"
    );
}

#[cfg(feature = "blocking")]
#[test]
fn blocking_client_against_the_server() {
    use brainstem::models::{SessionFilter, SessionInclude};
    use brainstem::types::{NewSession, NewSessionRequired};
    let srv = MockServer::start_background(MockOptions::new()).unwrap();
    let c = brainstem::client::blocking::Client::build(
        Client::builder()
            .base_url(srv.url())
            .token(srv.token())
            .no_token_cache(),
    )
    .unwrap();
    let project = c.projects().list().limit(1).page().unwrap().records[0].id;
    let name = format!(
        "blocking {}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let Saved::Applied(s) = c
        .sessions()
        .create(&NewSession::new(NewSessionRequired {
            name: name.clone(),
            projects: vec![project],
        }))
        .unwrap();
    assert_eq!(c.sessions().get(s.id).unwrap(), s);
    let with = c
        .sessions()
        .get_including(s.id, &[SessionInclude::Projects])
        .unwrap();
    assert_eq!(with.projects[0].object().unwrap().id, project);
    let found: Vec<_> = c
        .sessions()
        .list()
        .filter(SessionFilter::NameIexact(name))
        .iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(found.len(), 1);
    c.sessions().delete(s.id).unwrap();
    assert!(matches!(
        c.sessions().get(s.id),
        Err(Error::NotFound { .. })
    ));
    let e = c
        .sessions()
        .replace(
            s.id,
            &NewSession::new(NewSessionRequired {
                name: "x".into(),
                projects: vec![project],
            }),
        )
        .unwrap_err();
    assert!(matches!(e, Error::NotSupported(_)));
}
