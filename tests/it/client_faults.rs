//! Faults from a misbehaving server: each gives the right typed error, no
//! panic, the right number of attempts, and never the token.

use crate::client_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use brainstem::client::{Client, Error, RetryPolicy, Saved};
use brainstem::types::{
    NewProject, NewProjectRequired, NewSession, NewSessionRequired, SessionPatch,
};
use brainstem::{Portal, models::SessionFilter};
use client_support::*;
use serde_json::json;

const TOKEN: &str = "test-token-value";

fn no_token(e: &Error) {
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(TOKEN), "token leaked: {shown}");
}

fn pid() -> uuid::Uuid {
    "11111111-1111-4111-8111-111111111111".parse().unwrap()
}

fn new_session() -> NewSession {
    NewSession::new(NewSessionRequired {
        name: "s".into(),
        projects: vec![pid()],
    })
}

#[tokio::test]
async fn server_errors_are_retried_for_get_only_where_allowed() {
    for status in [502u16, 503, 504] {
        let srv = TestServer::start(move |_, _| {
            Reply::raw(status, "text/html", "<html>bad gateway</html>")
        })
        .await;
        let err = client_for(&srv.url)
            .sessions()
            .list()
            .page()
            .await
            .unwrap_err();
        match &err {
            Error::Server { status: s, snippet } => {
                assert_eq!(*s, status);
                assert!(snippet.contains("bad gateway"));
            }
            other => panic!("{status}: {other:?}"),
        }
        assert_eq!(srv.count(), 3, "{status}: 3 attempts by default");
        no_token(&err);
    }
    // 500 is not a transient status: one attempt.
    let srv = TestServer::start(|_, _| Reply::json(500, json!({"detail": "boom"}))).await;
    let err = client_for(&srv.url)
        .sessions()
        .list()
        .page()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { status: 500, .. }), "{err:?}");
    assert_eq!(srv.count(), 1);
    assert!(err.to_string().contains("try again later"));
}

#[tokio::test]
async fn a_transient_failure_then_success_recovers() {
    let srv = TestServer::start(|hit, n| {
        if n == 0 {
            Reply::empty(503)
        } else {
            paging_reply(Paging::new(3, Meta::Count), hit)
        }
    })
    .await;
    let page = client_for(&srv.url).sessions().list().page().await.unwrap();
    assert_eq!(page.records.len(), 3);
    assert_eq!(srv.count(), 2);
}

#[tokio::test]
async fn writes_that_met_a_503_are_sent_once() {
    let srv = TestServer::start(|_, _| Reply::empty(503)).await;
    let client = client_for(&srv.url);
    let err = client.sessions().create(&new_session()).await.unwrap_err();
    assert!(matches!(err, Error::Server { status: 503, .. }), "{err:?}");
    assert_eq!(srv.count(), 1, "POST not repeated");

    let patch = SessionPatch {
        name: Some("x".into()),
        ..SessionPatch::default()
    };
    let err = client.sessions().update(pid(), &patch).await.unwrap_err();
    assert!(matches!(err, Error::Server { status: 503, .. }));
    assert_eq!(srv.count(), 2, "PATCH not repeated");

    let err = client.sessions().delete(pid()).await.unwrap_err();
    assert!(matches!(err, Error::Server { status: 503, .. }));
    assert_eq!(srv.count(), 5, "DELETE retried (3 attempts)");
    let methods: Vec<String> = srv.hits().iter().map(|h| h.method.clone()).collect();
    assert_eq!(methods, ["POST", "PATCH", "DELETE", "DELETE", "DELETE"]);
}

#[tokio::test]
async fn rate_limits_honour_retry_after() {
    // 429 then success: waits about Retry-After.
    let srv = TestServer::start(|hit, n| {
        if n == 0 {
            Reply::json(429, json!({"detail": "slow down"})).with_header("Retry-After", "1")
        } else {
            paging_reply(Paging::new(1, Meta::Count), hit)
        }
    })
    .await;
    let started = Instant::now();
    client_for(&srv.url).sessions().list().page().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(srv.count(), 2);

    // Always 429: the typed error carries Retry-After.
    let srv =
        TestServer::start(|_, _| Reply::json(429, json!({})).with_header("Retry-After", "0")).await;
    let err = client_for(&srv.url)
        .sessions()
        .list()
        .page()
        .await
        .unwrap_err();
    match err {
        Error::RateLimited { retry_after } => assert_eq!(retry_after, Some(Duration::ZERO)),
        other => panic!("{other:?}"),
    }
    assert_eq!(srv.count(), 3);

    // A Retry-After beyond the policy's limit ends at once.
    let srv =
        TestServer::start(|_, _| Reply::json(429, json!({})).with_header("Retry-After", "3600"))
            .await;
    let err = client_for(&srv.url)
        .sessions()
        .list()
        .page()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(3600))
    );
    assert_eq!(srv.count(), 1);
    assert!(err.to_string().contains("3600s"), "{err}");
}

#[tokio::test]
async fn dropped_connections() {
    let srv = TestServer::start(|_, _| Reply::Drop).await;
    let client = client_for(&srv.url);
    let err = client.sessions().list().page().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(srv.count(), 3, "GET retried");
    no_token(&err);
    assert!(err.to_string().contains("check the URL"), "{err}");

    let before = srv.count();
    let err = client.sessions().create(&new_session()).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(
        srv.count() - before,
        1,
        "POST that may have reached the server is not repeated"
    );
}

#[tokio::test]
async fn a_stalled_response_times_out() {
    let srv = TestServer::start(|_, _| Reply::Stall(Duration::from_secs(5))).await;
    let client = Client::builder()
        .base_url(&srv.url)
        .token(TOKEN)
        .no_token_cache()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.sessions().list().page().await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after } if after == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(err.to_string().contains("timeout"), "{err}");
}

#[test]
fn the_default_timeout_is_30_seconds() {
    let client = Client::builder().no_token_cache().build().unwrap();
    assert!(format!("{client:?}").contains("timeout: 30s"), "{client:?}");
    assert_eq!(brainstem::client::DEFAULT_TIMEOUT, Duration::from_secs(30));
}

#[tokio::test]
async fn truncated_bodies() {
    // The connection closes before the announced length: a transport error.
    let srv = TestServer::start(|_, _| Reply::Truncated {
        declared: 5000,
        body: br#"{"sessions": [{"id": "#.to_vec(),
    })
    .await;
    let err = client_for(&srv.url)
        .sessions()
        .list()
        .page()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");

    // A complete response whose JSON is cut: a decode error with a snippet.
    let srv = TestServer::start(|_, _| {
        Reply::raw(200, "application/json", r#"{"sessions": [{"id": "abc""#)
    })
    .await;
    let err = client_for(&srv.url)
        .sessions()
        .list()
        .page()
        .await
        .unwrap_err();
    match err {
        Error::Decode(d) => assert!(d.snippet.starts_with("{\"sessions\""), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn html_instead_of_json() {
    let srv = TestServer::start(|_, _| {
        Reply::raw(
            200,
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html>login</html>",
        )
    })
    .await;
    let err = client_for(&srv.url)
        .sessions()
        .get(pid())
        .await
        .unwrap_err();
    match err {
        Error::Decode(d) => {
            assert!(d.message.contains("text/html"), "{d}");
            assert!(d.snippet.contains("<!DOCTYPE html>"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn wrong_envelope_key() {
    let srv = TestServer::start(|_, _| Reply::json(200, json!({"project": session_json(1)}))).await;
    match client_for(&srv.url)
        .sessions()
        .get(pid())
        .await
        .unwrap_err()
    {
        Error::Decode(d) => {
            assert!(
                d.message.contains("`session`") && d.message.contains("project"),
                "{d}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn status_errors_are_typed_and_say_what_to_do() {
    let srv = TestServer::start(|_, n| match n {
        0 => Reply::json(401, json!({"detail": "Invalid token."})),
        1 => Reply::json(403, json!({"detail": "You do not have permission to perform this action."})),
        2 => Reply::json(404, json!({"detail": "Not found."})),
        3 => Reply::json(418, json!({"detail": "teapot"})),
        4 => Reply::json(400, json!(["Invalid filter field: bogus"])),
        5 => Reply::json(400, json!({"detail": "\"filter{name\" is not a well-formed filter key."})),
        _ => Reply::json(
            400,
            json!({"name": ["This field is required."], "download_links": [{"url": ["Enter a valid URL."]}]}),
        ),
    })
    .await;
    let client = client_for(&srv.url);
    let sessions = client.sessions();

    let e = sessions.get(pid()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Unauthorized { detail } if detail == "Invalid token."),
        "{e:?}"
    );
    assert!(e.to_string().contains("log in again"), "{e}");
    assert_eq!(e.status(), Some(401));
    no_token(&e);

    let e = sessions.get(pid()).await.unwrap_err();
    assert!(matches!(&e, Error::Forbidden { .. }), "{e:?}");
    assert!(e.to_string().contains("permission"), "{e}");

    let e = sessions.get(pid()).await.unwrap_err();
    assert!(
        matches!(&e, Error::NotFound { path, .. } if path.ends_with(&format!("/{}/", pid()))),
        "{e:?}"
    );
    assert!(e.to_string().contains("check the id"), "{e}");

    let e = sessions.get(pid()).await.unwrap_err();
    assert!(matches!(&e, Error::Http { status: 418, .. }), "{e:?}");

    let e = sessions
        .list()
        .filter(SessionFilter::NameIcontains("x".into()))
        .page()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::BadQuery { messages } if messages == &["Invalid filter field: bogus"]),
        "{e:?}"
    );

    let e = sessions.list().page().await.unwrap_err();
    assert!(
        matches!(&e, Error::BadQuery { messages } if messages[0].contains("well-formed")),
        "{e:?}"
    );

    let e = sessions.create(&new_session()).await.unwrap_err();
    match &e {
        Error::Validation { fields } => {
            assert_eq!(fields["name"], ["This field is required."]);
            assert_eq!(fields["download_links[0].url"], ["Enter a valid URL."]);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string().contains("name: This field is required."),
        "{e}"
    );
    assert_eq!(srv.count(), 7, "4xx answers are not retried");
}

#[tokio::test]
async fn the_token_goes_in_a_header_only_and_only_to_the_private_portal() {
    let srv = TestServer::start(|hit, _| paging_reply(Paging::new(1, Meta::Count), hit)).await;
    let client = client_for(&srv.url);
    client.sessions().list().page().await.unwrap();
    client
        .sessions()
        .list()
        .portal(Portal::Public)
        .page()
        .await
        .unwrap();
    let hits = srv.hits();
    assert_eq!(
        hits[0].header("authorization"),
        Some("Bearer test-token-value")
    );
    assert_eq!(hits[0].path, "/api/private/stem/session/");
    assert_eq!(hits[1].header("authorization"), None);
    assert_eq!(hits[1].path, "/api/public/stem/session/");
    assert!(!hits[0].query.contains(TOKEN));
    assert!(
        hits[0]
            .header("user-agent")
            .unwrap()
            .starts_with("brainstem-rs/")
    );
    assert!(!format!("{client:?}").contains(TOKEN));
}

#[tokio::test]
async fn nothing_is_sent_for_invalid_or_unsupported_requests() {
    let srv = TestServer::start(|_, _| Reply::empty(500)).await;
    let client = client_for(&srv.url);

    let e = client
        .projects()
        .create(&NewProject::new(NewProjectRequired {
            name: "x".repeat(300),
        }))
        .await
        .unwrap_err();
    match &e {
        Error::InvalidInput(i) => assert!(i.has("name"), "{i}"),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("nothing was sent"), "{e}");

    let e = client
        .sessions()
        .replace(pid(), &new_session())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::NotSupported(m) if m.contains("PUT") && m.contains("update()")),
        "{e:?}"
    );

    let e = client
        .sessions()
        .public()
        .create(&new_session())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::NotSupported(m) if m.contains("public")),
        "{e:?}"
    );

    let e = client
        .sessions()
        .list()
        .limit(500)
        .page()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidInput(i) if i.has("limit")),
        "{e:?}"
    );

    let e = client.sessions().accept(pid()).await.unwrap_err();
    assert!(
        matches!(&e, Error::NotSupported(m) if m.contains("accept")),
        "{e:?}"
    );

    let e = client
        .sessions()
        .approvals()
        .list()
        .all()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::NotSupported(m) if m.contains("approval")),
        "{e:?}"
    );

    // a misspelt loader keyword does not compile (`by_<keyword>` methods);
    // a misspelt field in the unchecked filter is refused before sending
    let e = client
        .sessions()
        .load()
        .filter_unchecked(brainstem::query::RawFilter::new("projets", "x").unwrap())
        .all()
        .await
        .unwrap_err();
    match &e {
        Error::InvalidInput(i) => {
            assert!(i.has("filter{projets}"), "{i}");
            assert!(
                i.to_string()
                    .contains("`projets` is not a field of `session`"),
                "{i}"
            );
        }
        other => panic!("{other:?}"),
    }
    // a lookup the field lacks, through a relation
    let e = client
        .sessions()
        .list()
        .filter_unchecked(
            brainstem::query::RawFilter::new("projects.is_public.icontains", "x").unwrap(),
        )
        .all()
        .await
        .unwrap_err();
    match &e {
        Error::InvalidInput(i) => {
            assert!(i.has("filter{projects.is_public.icontains}"), "{i}");
            assert!(
                i.to_string()
                    .contains("`is_public` of `project` has no lookup `icontains`"),
                "{i}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(srv.count(), 0, "nothing reached the server");
}

#[tokio::test]
async fn no_token_means_public_only() {
    let srv = TestServer::start(|hit, _| paging_reply(Paging::new(2, Meta::Count), hit)).await;
    let client = Client::builder()
        .base_url(&srv.url)
        .no_token_cache()
        .build()
        .unwrap();
    assert_eq!(
        client
            .sessions()
            .public()
            .list()
            .all()
            .await
            .unwrap()
            .into_vec()
            .len(),
        2
    );
    let e = client.sessions().list().all().await.unwrap_err();
    assert!(matches!(&e, Error::NotLoggedIn { .. }), "{e:?}");
    assert!(e.to_string().contains("brainstem login"), "{e}");
    assert_eq!(srv.count(), 1);
}

#[tokio::test]
async fn approval_gated_saves() {
    // The documented answers: the record itself, or the proposal.
    let applied: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/models/species/detail.json")).unwrap();
    let proposal: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/models/species/create.json")).unwrap();
    let srv = TestServer::start(move |_, n| {
        if n == 0 {
            Reply::json(201, applied.clone())
        } else {
            Reply::json(201, proposal.clone())
        }
    })
    .await;
    let client = client_for(&srv.url);
    let new = brainstem::types::NewSpecies::new(brainstem::types::NewSpeciesRequired {
        name: "Mus musculus".into(),
    });
    match client.species().create(&new).await.unwrap() {
        Saved::Applied(s) => assert!(!s.name.is_empty()),
        Saved::PendingApproval(p) => panic!("{p:?}"),
    }
    let saved = client.species().create(&new).await.unwrap();
    assert!(saved.is_pending());
    let p = saved.pending().unwrap();
    assert_eq!(p.id.to_string(), "fb7a3a19-8811-51df-bb17-97b63c8c8fb1");
    assert_eq!(p.name, "MyNewSpecies");
}

#[derive(Default, Clone)]
struct Captured(Arc<Mutex<Vec<String>>>);

struct Grab<'a>(&'a mut String);

impl tracing::field::Visit for Grab<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl tracing::Subscriber for Captured {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut s = format!("span {} ", span.metadata().name());
        span.record(&mut Grab(&mut s));
        self.0.lock().unwrap().push(s);
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut s = "record ".to_string();
        values.record(&mut Grab(&mut s));
        self.0.lock().unwrap().push(s);
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut s = "event ".to_string();
        event.record(&mut Grab(&mut s));
        self.0.lock().unwrap().push(s);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn tracing_spans_name_the_request_never_the_token() {
    let srv = TestServer::start(|hit, n| {
        // Every other request fails, so each `page()` below is a 503 and a retry.
        if n % 2 == 0 {
            Reply::empty(503)
        } else {
            paging_reply(Paging::new(1, Meta::Count), hit)
        }
    })
    .await;
    let client = client_for(&srv.url);
    // tracing caches each call site's interest globally. A call site that another test's
    // thread registers for the first time while `set_default` below runs can keep the
    // interest "never" computed without our subscriber, and then drop our events (CI saw
    // attempt=2 missing once). Running the same path first, on this thread and with no
    // subscriber, registers every call site it uses before the subscriber is installed,
    // and installing it then recomputes their interest.
    client.sessions().list().page().await.unwrap();
    let captured = Captured::default();
    let guard = tracing::subscriber::set_default(captured.clone());
    client.sessions().list().page().await.unwrap();
    drop(guard);
    let lines = captured.0.lock().unwrap().clone();
    let all = lines.join("\n");
    assert!(all.contains("span brainstem.request"), "{all}");
    assert!(all.contains("method=GET"), "{all}");
    assert!(all.contains("path=/api/private/stem/session/"), "{all}");
    assert!(
        all.contains("attempt=1") && all.contains("attempt=2"),
        "{all}"
    );
    assert!(
        all.contains("status=503") && all.contains("status=200"),
        "{all}"
    );
    assert!(all.contains("duration_ms="), "{all}");
    assert!(!all.contains(TOKEN), "{all}");
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let client = Client::builder()
        .base_url(&url)
        .token(TOKEN)
        .no_token_cache()
        .retry(RetryPolicy::default().base_delay(Duration::from_millis(1)))
        .build()
        .unwrap();
    let e = client.sessions().list().page().await.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
    no_token(&e);
}

#[test]
fn errors_are_send_sync_and_static() {
    fn check<T: Send + Sync + 'static + std::error::Error>() {}
    check::<Error>();
    check::<brainstem::client::LoginError>();
    fn shared<T: Send + Sync + Clone + 'static>() {}
    shared::<Client>();
    shared::<brainstem::client::Api<brainstem::types::Session>>();
    shared::<brainstem::client::ListRequest<brainstem::types::Session>>();
}
