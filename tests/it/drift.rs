//! Run-time schema drift: what the client records when the stand-in server
//! sends what the pinned schema does not describe (a field it does not
//! know, a value outside an enum, an envelope key, a record that does not
//! decode), `check_schema` over every readable model, and the wording of
//! decode errors.

use std::collections::BTreeSet;

use brainstem::Portal;
use brainstem::client::{Client, Error};
use brainstem::drift::DriftKind;
use brainstem::enums::SubjectSex;
use brainstem::types::{NewSession, NewSessionRequired};
use brainstem_mock::{Dialect, MockOptions, MockServer};
use futures::StreamExt;
use serde_json::json;

use crate::client_support::{Reply, TestServer, client_for, session_json};

use crate::client_support::mock_client as client;

async fn small() -> MockServer {
    MockServer::start_with(MockOptions::new().sessions(12))
        .await
        .unwrap()
}

/// Give one subject a field the schema does not know and a `sex` outside
/// its enum; returns its id.
fn drift_one_subject(srv: &MockServer) -> String {
    let store = srv.store();
    let id = store.records("subject")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let fields = json!({"x_new_field": {"a": 1}, "sex": "X"});
    let stored = store
        .set_raw("subject", &id, fields.as_object().unwrap().clone())
        .expect("the subject exists");
    assert_eq!(stored["sex"], "X");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_names_the_model_the_field_and_the_enum_value_with_counts() {
    let srv = small().await;
    let id = drift_one_subject(&srv);
    let c = client(&srv);
    assert!(c.drift().is_empty());

    let all = c.subjects().list().all().await.unwrap();
    // observation only: the record is decoded as always, drift kept in it
    let s = all.iter().find(|s| s.id.to_string() == id).unwrap();
    assert_eq!(s.sex, SubjectSex::Unknown("X".into()));
    assert!(s.unknown.get("x_new_field").is_some());

    let d = c.drift();
    assert_eq!(d.models(), vec!["subject"], "{d}");
    assert_eq!(
        d.count_of("subject", DriftKind::UnknownField, "x_new_field"),
        1
    );
    assert_eq!(d.count_of("subject", DriftKind::UnknownEnumValue, "X"), 1);
    let e = d
        .entries()
        .into_iter()
        .find(|e| e.kind == DriftKind::UnknownEnumValue)
        .unwrap();
    assert_eq!(e.shape, "SubjectSex");
    assert_eq!(
        d.summary(),
        "schema drift: 1 unknown field, 1 unknown enum value in subject; see `brainstem check-schema`"
    );
    let text = d.to_string();
    assert!(
        text.contains("subject:\n  unknown field Subject.x_new_field: once"),
        "{text}"
    );
    assert!(
        text.contains("unknown enum value SubjectSex \"X\": once"),
        "{text}"
    );

    // get, stream and a clone of the client add to the same report
    let one = c.subjects().get(s.id).await.unwrap();
    assert_eq!(one.sex, SubjectSex::Unknown("X".into()));
    let streamed: Vec<_> = c
        .clone()
        .subjects()
        .list()
        .limit(5)
        .stream()
        .collect()
        .await;
    assert!(streamed.iter().all(Result::is_ok));
    let d = c.drift();
    assert_eq!(
        d.count_of("subject", DriftKind::UnknownField, "x_new_field"),
        3
    );
    assert_eq!(d.count_of("subject", DriftKind::UnknownEnumValue, "X"), 3);

    // a snapshot does not change; take_drift starts a new report
    let taken = c.take_drift();
    assert_eq!(taken, d);
    assert!(c.drift().is_empty());
    c.subjects().get(s.id).await.unwrap();
    assert!(!c.drift().is_empty());
    c.reset_drift();
    assert!(c.drift().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_matches_the_schema_gives_an_empty_report_in_every_dialect() {
    let srv = small().await;
    let c = client(&srv);
    // dynamic-rest defers fields the schema says are always there: that is
    // drift (below), so these dialects defer none
    let none = Vec::<String>::new;
    for (name, d) in [
        ("docs", Dialect::docs()),
        (
            "dynamic-rest",
            Dialect::dynamic_rest().deferred_fields(none()),
        ),
        (
            "dynamic-rest-countless",
            Dialect::dynamic_rest_countless().deferred_fields(none()),
        ),
    ] {
        srv.set_dialect(d);
        let sessions = c
            .sessions()
            .load()
            .include_path("behaviors.setup")
            .all()
            .await
            .unwrap();
        assert!(!sessions.is_empty());
        c.sessions().load_one(sessions[0].id).await.unwrap();
        c.subjects().list().all().await.unwrap();
        c.species().approvals().list().all().await.unwrap();
        let project = c.projects().list().limit(1).page().await.unwrap().records[0].id;
        c.sessions()
            .create(&NewSession::new(NewSessionRequired {
                name: format!("drift-{name}"),
                projects: vec![project],
            }))
            .await
            .unwrap();
        let d = c.drift();
        assert!(d.is_empty(), "{name}: {d}");
    }
    srv.set_dialect(Dialect::dynamic_rest());
    let page = c.sessions().list().limit(3).page().await.unwrap();
    assert_eq!(
        c.drift()
            .count_of("session", DriftKind::MissingField, "description"),
        page.records.len() as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drifted_dialect_shows_an_extra_field_and_missing_fields() {
    let srv = MockServer::start_with(MockOptions::new().sessions(30).dialect(Dialect::drifted()))
        .await
        .unwrap();
    let c = client(&srv);
    let all = c.sessions().list().all().await.unwrap();
    let d = c.drift();
    let noted = all
        .iter()
        .filter(|s| s.unknown.get("x_server_note").is_some())
        .count() as u64;
    assert!(noted > 0);
    assert_eq!(
        d.count_of("session", DriftKind::UnknownField, "x_server_note"),
        noted,
        "{d}"
    );
    assert!(d.count(DriftKind::MissingField) > 0, "{d}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_schema_samples_every_readable_model() {
    let srv = small().await;
    let c = client(&srv);
    let report = c.check_schema().await.unwrap();
    assert!(report.is_empty(), "{report}");
    assert!(report.failed().is_empty(), "{report}");
    // every model whose list the private portal allows, and every approval
    // queue, from the metadata
    let mut want = BTreeSet::new();
    for m in brainstem::MODELS {
        if m.list
            .is_some_and(|op| op.portals().contains(&Portal::Private))
        {
            want.insert(m.name.to_string());
        }
        if let Some(a) = &m.approval
            && a.list
                .is_some_and(|op| op.portals().contains(&Portal::Private))
        {
            want.insert(a.model.rsplit('/').next().unwrap().to_string());
        }
    }
    let got: BTreeSet<String> = report.sampled().iter().cloned().collect();
    assert_eq!(got, want);
    assert!(got.len() > 30, "{got:?}");
    assert!(
        report
            .to_string()
            .contains(&format!("sampled {} models", want.len()))
    );

    drift_one_subject(&srv);
    let report = c.check_schema().await.unwrap();
    assert_eq!(report.models(), vec!["subject"], "{report}");
    // the first subject is the one sampled
    assert_eq!(
        report.count_of("subject", DriftKind::UnknownField, "x_new_field"),
        1
    );
    assert_eq!(
        report.count_of("subject", DriftKind::UnknownEnumValue, "X"),
        1
    );
    // and the client's own report has it too
    assert!(
        c.drift()
            .count_of("subject", DriftKind::UnknownEnumValue, "X")
            >= 1
    );

    // the public portal: fewer models, none failing
    let public = c.check_schema_on(Portal::Public).await.unwrap();
    assert!(public.failed().is_empty(), "{public}");
    assert!(!public.sampled().is_empty());
    assert!(public.sampled().len() <= want.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_schema_lists_models_it_cannot_fetch_and_fails_only_when_none_answer() {
    // a server that refuses subjects only
    let srv = TestServer::start(|hit, _| {
        if hit.path.contains("/subject/") {
            return Reply::json(500, json!({"detail": "boom"}));
        }
        let at = |op: Option<brainstem::Operation>| {
            op.is_some_and(|op| op.path().replace("{portal}", "private") == hit.path)
        };
        let key = brainstem::MODELS
            .iter()
            .find_map(|m| {
                if at(m.list) {
                    return Some(m.many);
                }
                let a = m.approval.as_ref()?;
                at(a.list).then_some(a.many)
            })
            .unwrap_or("nothing");
        Reply::json(200, json!({ key: [], "count": 0, "next": null }))
    })
    .await;
    let c = Client::builder()
        .base_url(&srv.url)
        .token("t")
        .no_token_cache()
        .retry(brainstem::client::RetryPolicy::default().max_attempts(1))
        .build()
        .unwrap();
    let report = c.check_schema().await.unwrap();
    assert_eq!(report.failed().len(), 1, "{report}");
    assert_eq!(report.failed()[0].0, "subject");
    assert!(report.is_empty(), "{report}");
    assert!(
        report
            .to_string()
            .contains("could not sample 1:\n  subject: "),
        "{report}"
    );

    // nothing answers: the call fails
    let down = Client::builder()
        .base_url("http://127.0.0.1:9/")
        .token("t")
        .no_token_cache()
        .retry(brainstem::client::RetryPolicy::default().max_attempts(1))
        .build()
        .unwrap();
    assert!(down.check_schema().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_envelope_keys_are_drift_sideloads_are_not() {
    let srv = TestServer::start(|_, _| {
        Reply::json(
            200,
            json!({
                "sessions": [session_json(1)],
                "projects": [],
                "+sessions": [],
                "count": 1,
                "next": null,
                "facets": {"tags": 3},
            }),
        )
    })
    .await;
    let c = client_for(&srv.url);
    let page = c.sessions().list().page().await.unwrap();
    assert_eq!(page.records.len(), 1);
    let d = c.drift();
    assert_eq!(d.entries().len(), 1, "{d}");
    let e = &d.entries()[0];
    assert_eq!(
        (e.model.as_str(), e.kind, e.shape.as_str(), e.name.as_str()),
        (
            "session",
            DriftKind::UnknownEnvelopeKey,
            "SessionListEnvelope",
            "facets"
        )
    );
    assert!(
        page.observations
            .iter()
            .any(|o| o.to_string().contains("facets"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decode_error_says_what_the_server_sent() {
    let srv = MockServer::start_with(
        MockOptions::new()
            .sessions(5)
            .dialect(Dialect::docs().undecodable_writes(true)),
    )
    .await
    .unwrap();
    let c = client(&srv);
    let project = c.projects().list().limit(1).page().await.unwrap().records[0].id;
    let err = c
        .sessions()
        .create(&NewSession::new(NewSessionRequired {
            name: "n".into(),
            projects: vec![project],
        }))
        .await
        .unwrap_err();
    let Error::AppliedUndecodable(a) = &err else {
        panic!("{err}")
    };
    assert_eq!(a.error.found.as_deref(), Some("the number 12345"), "{err}");
    let text = a.error.to_string();
    assert!(
        text.starts_with(&format!(
            "could not decode the response at `{}`: ",
            a.error.path
        )),
        "{text}"
    );
    assert!(
        text.contains("the server sent the number 12345 there"),
        "{text}"
    );
    assert!(!text.contains("newer"), "{text}");
    // and the record that did not decode is drift
    let d = c.drift();
    assert_eq!(d.count(DriftKind::Undecoded), 1, "{d}");
    assert_eq!(d.entries()[0].model, "session");

    // a whole body: where, what was expected, what came
    let e = brainstem::client::decode_record::<brainstem::types::Session>(
        br#"{"session": {"id": "not-a-uuid", "name": "x"}}"#,
    )
    .unwrap_err();
    assert_eq!(e.path, "session.id");
    assert_eq!(e.found.as_deref(), Some("the string \"not-a-uuid\""));
    assert!(
        e.to_string()
            .contains("the server sent the string \"not-a-uuid\" there"),
        "{e}"
    );
    // a body that is not JSON has nothing to show but its start
    let e = brainstem::client::decode_record::<brainstem::types::Session>(b"{\"session\": ")
        .unwrap_err();
    assert_eq!(e.found, None);
}

#[test]
fn the_blocking_facade_reports_drift_and_checks_the_schema() {
    let srv = MockServer::start_background(MockOptions::new().sessions(5)).unwrap();
    drift_one_subject(&srv);
    let c = brainstem::client::blocking::Client::from_async(
        Client::builder()
            .base_url(srv.url())
            .token(srv.token())
            .no_token_cache()
            .build()
            .unwrap(),
    )
    .unwrap();
    c.subjects().list().all().unwrap();
    assert_eq!(
        c.drift()
            .count_of("subject", DriftKind::UnknownEnumValue, "X"),
        1
    );
    c.reset_drift();
    assert!(c.drift().is_empty());
    let report = c.check_schema().unwrap();
    assert_eq!(report.models(), vec!["subject"]);
}
