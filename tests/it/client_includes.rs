//! Includes in both shapes (embedded, or sideloaded as dynamic-rest does by
//! default), a relation the server did not fill in, the JSON escape hatch,
//! and writes that were applied but answered with a body that does not
//! decode. Scripted servers, so each shape is exact.

use crate::client_support;

use brainstem::Related;
use brainstem::client::Error;
use brainstem::models::SessionInclude;
use client_support::*;
use serde_json::{Value, json};

fn fixture(model: &str, key: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/models/{model}/list.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v[key].as_array().unwrap().clone()
}

fn behaviors() -> Vec<Value> {
    fixture("behavior", "behaviors")
}

fn setups() -> Vec<Value> {
    // the behaviors of the fixture all use one setup: give it that id
    let mut s = fixture("setup", "setups");
    s[0]["id"] = behaviors()[0]["setup"].clone();
    s.truncate(1);
    s
}

/// Two sessions referring to the fixture's behaviors by id.
fn sessions_with_behavior_ids() -> Vec<Value> {
    let b = behaviors();
    let mut s0 = session_json(0);
    s0["behaviors"] = json!([b[0]["id"], b[1]["id"]]);
    let mut s1 = session_json(1);
    s1["behaviors"] = json!([b[2]["id"]]);
    vec![s0, s1]
}

#[tokio::test]
async fn sideloaded_includes_are_merged_by_id() {
    let srv = TestServer::start(|hit, _| {
        assert_eq!(hit.param("include[]").as_deref(), Some("behaviors.*"));
        Reply::json(
            200,
            json!({"sessions": sessions_with_behavior_ids(), "behaviors": behaviors(), "count": 2}),
        )
    })
    .await;
    let client = client_for(&srv.url);
    let page = client
        .sessions()
        .list()
        .include(SessionInclude::Behaviors)
        .page()
        .await
        .unwrap();
    assert!(page.undecoded.is_empty(), "{:?}", page.undecoded);
    let b = behaviors();
    assert_eq!(page.records.len(), 2);
    let got: Vec<(String, bool)> = page
        .records
        .iter()
        .flat_map(|s| s.behaviors.iter())
        .map(|r| (r.id().to_string(), r.is_included()))
        .collect();
    let want: Vec<(String, bool)> = b
        .iter()
        .map(|x| (x["id"].as_str().unwrap().to_string(), true))
        .collect();
    assert_eq!(got, want);
    // the merged record is the sideloaded one
    let first = page.records[0].behaviors[0].object().unwrap();
    assert_eq!(
        first.setup.id().to_string(),
        b[0]["setup"].as_str().unwrap()
    );

    // the same list read through the JSON escape hatch: merged the same way
    let json = client
        .sessions()
        .list()
        .include(SessionInclude::Behaviors)
        .json()
        .page()
        .await
        .unwrap();
    assert_eq!(json.records[0]["behaviors"][0], b[0]);
}

#[tokio::test]
async fn nested_sideloads_are_merged_at_every_level() {
    let srv = TestServer::start(|hit, _| {
        assert_eq!(
            hit.param("include[]").as_deref(),
            Some("behaviors.setup.*")
        );
        Reply::json(
            200,
            json!({"setups": setups(), "sessions": sessions_with_behavior_ids(), "behaviors": behaviors(), "count": 2}),
        )
    })
    .await;
    let sessions = client_for(&srv.url)
        .sessions()
        .list()
        .include_path("behaviors.setup")
        .all()
        .await
        .unwrap();
    assert!(sessions.undecoded.is_empty(), "{:?}", sessions.undecoded);
    for s in sessions.iter() {
        for b in &s.behaviors {
            let b = b.object().expect("behavior merged");
            let setup = b.setup.object().expect("setup merged");
            assert_eq!(setup.name, setups()[0]["name"].as_str().unwrap());
        }
    }
}

#[tokio::test]
async fn embedded_includes_read_the_same() {
    let srv = TestServer::start(|_, _| {
        let mut s = sessions_with_behavior_ids();
        let b = behaviors();
        s[0]["behaviors"] = json!([b[0], b[1]]);
        s[1]["behaviors"] = json!([b[2]]);
        Reply::json(200, json!({"sessions": s, "count": 2}))
    })
    .await;
    let sessions = client_for(&srv.url)
        .sessions()
        .list()
        .include(SessionInclude::Behaviors)
        .all()
        .await
        .unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(
        sessions
            .iter()
            .flat_map(|s| s.behaviors.iter())
            .all(Related::is_included)
    );
}

#[tokio::test]
async fn an_include_the_server_did_not_fill_is_missing_not_an_id() {
    // the sideloaded list lacks the second session's behavior
    let srv = TestServer::start(|_, _| {
        let mut b = behaviors();
        b.truncate(2);
        Reply::json(
            200,
            json!({"sessions": sessions_with_behavior_ids(), "behaviors": b, "count": 2}),
        )
    })
    .await;
    let client = client_for(&srv.url);
    let sessions = client
        .sessions()
        .list()
        .include(SessionInclude::Behaviors)
        .all()
        .await
        .unwrap();
    assert!(sessions[0].behaviors.iter().all(Related::is_included));
    let missing = &sessions[1].behaviors[0];
    assert!(missing.is_missing(), "{missing:?}");
    assert_eq!(
        missing.id().to_string(),
        behaviors()[2]["id"].as_str().unwrap()
    );
    // without the include, an id is just an id
    let plain = client.sessions().list().all().await.unwrap();
    assert!(matches!(plain[1].behaviors[0], Related::Id(_)));
}

#[tokio::test]
async fn get_merges_sideloads_too() {
    let srv = TestServer::start(|_, _| {
        Reply::json(
            200,
            json!({"session": sessions_with_behavior_ids()[0], "behaviors": behaviors()}),
        )
    })
    .await;
    let id = sid(0).parse().unwrap();
    let s = client_for(&srv.url)
        .sessions()
        .get(id)
        .include(SessionInclude::Behaviors)
        .await
        .unwrap();
    assert_eq!(s.behaviors.len(), 2);
    assert!(s.behaviors.iter().all(Related::is_included));
    let v = client_for(&srv.url)
        .sessions()
        .get(id)
        .include(SessionInclude::Behaviors)
        .json()
        .await
        .unwrap();
    assert_eq!(v["behaviors"][1], behaviors()[1]);
}

#[tokio::test]
async fn a_wrong_include_path_is_refused_before_sending() {
    let srv = TestServer::start(|_, _| Reply::json(200, json!({"sessions": []}))).await;
    let err = client_for(&srv.url)
        .sessions()
        .list()
        .include_path("behaviors.nope")
        .all()
        .await
        .unwrap_err();
    match err {
        Error::InvalidInput(e) => assert!(e.to_string().contains("nope"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(srv.count(), 0);
}

/// A server that stores a write and answers with a body the typed record
/// cannot decode (a number where the name is).
fn undecodable_write(hit: &Hit, _: usize) -> Reply {
    let status = if hit.method == "POST" { 201 } else { 200 };
    Reply::json(
        status,
        json!({"session": {"id": sid(7), "name": 12345, "projects": []}}),
    )
}

#[tokio::test]
async fn an_applied_create_with_an_undecodable_answer_is_not_a_failure_to_retry() {
    let srv = TestServer::start(undecodable_write).await;
    let client = client_for(&srv.url);
    let new = brainstem::types::NewSession::new(brainstem::types::NewSessionRequired {
        name: "s".into(),
        projects: vec![uuid::Uuid::nil()],
    });
    let err = client.sessions().create(&new).await.unwrap_err();
    match &err {
        Error::AppliedUndecodable(a) => {
            assert_eq!(a.status, 201);
            assert_eq!(a.method, "POST");
            assert_eq!(a.id.as_deref(), Some(sid(7).as_str()));
            let body: Value = serde_json::from_slice(&a.body).unwrap();
            assert_eq!(body["session"]["name"], 12345);
            assert_eq!(a.error.path, "session.name");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("do NOT retry"), "{err}");
    assert_eq!(err.status(), Some(201));
    assert_eq!(srv.count(), 1, "sent once, never retried");

    let patch = brainstem::types::SessionPatch::default();
    let err = client
        .sessions()
        .update(sid(7).parse().unwrap(), &patch)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::AppliedUndecodable(a) if a.method == "PATCH" && a.status == 200),
        "{err:?}"
    );
    assert_eq!(srv.count(), 2);
}
