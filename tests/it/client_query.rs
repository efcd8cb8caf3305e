//! Every query feature, the loaders, actions and approvals: what goes on the
//! wire, and how the answers decode.

use crate::client_support;

use brainstem::Portal;
use brainstem::client::Saved;
use brainstem::models::{ProjectInclude, SessionFilter, SessionInclude, SessionSort};
use brainstem::query::{RawFilter, SortField};
use brainstem::types::{Behavior, ProcedureLog, Session, SessionPatch, SubjectLog};
use client_support::*;
use serde_json::{Value, json};

fn fixture(model: &str, file: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/models/{model}/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn behavior_json() -> Value {
    fixture("behavior", "detail.json")["behavior"].clone()
}

fn pid() -> uuid::Uuid {
    "11111111-1111-4111-8111-111111111111".parse().unwrap()
}

#[tokio::test]
async fn filters_sort_include_paging_on_the_wire() {
    let srv = TestServer::start(|hit, _| paging_reply(Paging::new(3, Meta::Count), hit)).await;
    let client = client_for(&srv.url);
    let day = chrono::DateTime::parse_from_rfc3339("2024-01-02T03:04:05Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    client
        .sessions()
        .list()
        .portal(Portal::Public)
        .filter(SessionFilter::NameIcontains("rat v1".into()))
        .filter(SessionFilter::DateTimeGte(day))
        .filter(SessionFilter::IdIn(vec![pid(), uuid::Uuid::nil()]))
        .exclude(SessionFilter::DescriptionIcontains("pilot".into()))
        .filter_unchecked(RawFilter::new("projects.name.icontains", "visual").unwrap())
        .sort(SessionSort::Name.desc())
        .sort(SessionSort::DateTime.asc())
        .include(SessionInclude::Behaviors)
        .include(SessionInclude::Projects)
        .limit(7)
        .offset(14)
        .page()
        .await
        .unwrap();
    let hit = &srv.hits()[0];
    assert_eq!(hit.path, "/api/public/stem/session/");
    assert_eq!(
        hit.pairs(),
        vec![
            ("filter{name.icontains}".to_string(), "rat v1".to_string()),
            (
                "filter{date_time.gte}".into(),
                "2024-01-02T03:04:05Z".into()
            ),
            ("filter{id.in}".into(), pid().to_string()),
            ("filter{id.in}".into(), uuid::Uuid::nil().to_string()),
            ("filter{-description.icontains}".into(), "pilot".into()),
            ("filter{projects.name.icontains}".into(), "visual".into()),
            ("sort[]".into(), "-name".into()),
            ("sort[]".into(), "date_time".into()),
            ("include[]".into(), "behaviors.*".into()),
            ("include[]".into(), "projects.*".into()),
            ("limit".into(), "7".into()),
            ("offset".into(), "14".into()),
        ]
    );
    // Encoded exactly as the Python client's `requests` would.
    assert!(
        hit.query.starts_with("filter%7Bname.icontains%7D=rat+v1&"),
        "{}",
        hit.query
    );
    assert!(
        hit.query.contains("include%5B%5D=behaviors.%2A"),
        "{}",
        hit.query
    );
}

#[tokio::test]
async fn included_relations_decode_as_typed_objects() {
    let srv = TestServer::start(|hit, _| {
        let mut s = session_json(0);
        if hit.param("include[]").as_deref() == Some("behaviors.*") {
            s["behaviors"] = json!([behavior_json()]);
        } else {
            s["behaviors"] = json!([behavior_json()["id"]]);
        }
        if hit.path.ends_with("/session/") {
            Reply::json(200, json!({"sessions": [s], "count": 1}))
        } else {
            Reply::json(200, json!({"session": s}))
        }
    })
    .await;
    let client = client_for(&srv.url);
    let with = client
        .sessions()
        .list()
        .include(SessionInclude::Behaviors)
        .all()
        .await
        .unwrap()
        .into_vec();
    let b: &Behavior = with[0].behaviors[0].object().expect("embedded");
    assert_eq!(b.id.to_string(), behavior_json()["id"].as_str().unwrap());
    let without = client.sessions().list().all().await.unwrap().into_vec();
    assert!(!without[0].behaviors[0].is_included());
    assert_eq!(without[0].behaviors[0].id(), b.id);

    // get() with include, awaited directly.
    let one: Session = client
        .sessions()
        .get(pid())
        .include(SessionInclude::Behaviors)
        .await
        .unwrap();
    assert!(one.behaviors[0].is_included());
    let hit = srv.hits().pop().unwrap();
    assert_eq!(hit.path, format!("/api/private/stem/session/{}/", pid()));
    assert_eq!(hit.param("include[]").as_deref(), Some("behaviors.*"));
}

#[tokio::test]
async fn loaders_come_from_the_spec() {
    let srv = TestServer::start(|hit, _| {
        if hit.path.contains("/project/") {
            Reply::json(200, json!({"projects": [], "count": 0}))
        } else if hit.path.ends_with("/session/") {
            Reply::json(200, json!({"sessions": [], "count": 0}))
        } else {
            Reply::json(200, json!({"session": session_json(0)}))
        }
    })
    .await;
    let client = client_for(&srv.url);
    client
        .sessions()
        .load()
        .by_name("rat".into())
        .by_projects(pid())
        .by_tags("pilot".into())
        .all()
        .await
        .unwrap()
        .into_vec();
    let hit = &srv.hits()[0];
    let pairs = hit.pairs();
    assert!(
        pairs.contains(&("filter{name.icontains}".into(), "rat".into())),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("filter{projects.id}".into(), pid().to_string())),
        "{pairs:?}"
    );
    assert!(
        pairs.contains(&("filter{tags}".into(), "pilot".into())),
        "{pairs:?}"
    );
    let includes: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "include[]")
        .map(|(_, v)| v.clone())
        .collect();
    // The Python tool's defaults, less `epochs` (plain ids, not a relation).
    assert_eq!(
        includes,
        ["dataacquisition.*", "behaviors.*", "manipulations.*"]
    );

    // An explicit include replaces the defaults; no_includes drops them.
    client
        .projects()
        .load()
        .include(ProjectInclude::Sessions)
        .all()
        .await
        .unwrap()
        .into_vec();
    let hit = &srv.hits()[1];
    assert_eq!(hit.param("include[]").as_deref(), Some("sessions.*"));
    assert_eq!(
        hit.pairs().iter().filter(|(k, _)| k == "include[]").count(),
        1
    );
    client
        .projects()
        .load()
        .no_includes()
        .all()
        .await
        .unwrap()
        .into_vec();
    assert!(srv.hits()[2].param("include[]").is_none());
    client.projects().load().all().await.unwrap().into_vec();
    let incl: Vec<String> = srv.hits()[3]
        .pairs()
        .into_iter()
        .filter(|(k, _)| k == "include[]")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(
        incl,
        ["sessions.*", "subjects.*", "collections.*", "cohorts.*"]
    );

    client.sessions().load_one(pid()).await.unwrap();
    let hit = srv.hits().pop().unwrap();
    assert_eq!(hit.path, format!("/api/private/stem/session/{}/", pid()));
    assert_eq!(
        hit.pairs().iter().filter(|(k, _)| k == "include[]").count(),
        3
    );
}

#[test]
fn every_loader_keyword_of_the_spec_maps_to_a_filter() {
    // 22 models have a loader in the spec (the Python tool's load_* helpers).
    let with_loader: Vec<&str> = brainstem::MODELS
        .iter()
        .filter(|m| m.loader.is_some())
        .map(|m| m.name)
        .collect();
    assert_eq!(with_loader.len(), 22, "{with_loader:?}");
    for m in brainstem::MODELS.iter() {
        if let Some(l) = &m.loader {
            for (kw, key) in l.filters {
                let f = RawFilter::new(key, "v").unwrap_or_else(|e| panic!("{}.{kw}: {e}", m.name));
                let _ = f;
            }
        }
    }
}

#[tokio::test]
async fn create_update_delete_on_the_wire() {
    let srv = TestServer::start(|hit, _| match hit.method.as_str() {
        "POST" => Reply::json(201, json!({"session": session_json(5)})),
        "PATCH" => {
            let mut s = session_json(5);
            s["description"] = hit.json()["description"].clone();
            Reply::json(200, json!({"session": s}))
        }
        "DELETE" => Reply::empty(204),
        _ => Reply::empty(500),
    })
    .await;
    let client = client_for(&srv.url);
    let mut new = brainstem::types::NewSession::new(brainstem::types::NewSessionRequired {
        name: "rec".into(),
        projects: vec![pid()],
    });
    new.description = Some("made here".into());
    let Saved::Applied(created) = client.sessions().create(&new).await.unwrap();
    assert_eq!(created.id.to_string(), sid(5));
    let patch = SessionPatch {
        description: Some("changed".into()),
        date_time: Some(brainstem::Nullable::Null),
        ..SessionPatch::default()
    };
    let Saved::Applied(updated) = client.sessions().update(created.id, &patch).await.unwrap();
    assert_eq!(updated.description, "changed");
    client.sessions().delete(created.id).await.unwrap();

    let hits = srv.hits();
    assert_eq!(hits[0].path, "/api/private/stem/session/");
    assert_eq!(hits[0].header("content-type"), Some("application/json"));
    assert_eq!(
        hits[0].json(),
        json!({"name": "rec", "projects": [pid()], "description": "made here"})
    );
    assert_eq!(
        hits[1].path,
        format!("/api/private/stem/session/{}/", sid(5))
    );
    assert_eq!(
        hits[1].json(),
        json!({"description": "changed", "date_time": null})
    );
    assert_eq!(hits[2].method, "DELETE");
}

#[tokio::test]
async fn actions_and_log_entries() {
    let log = fixture("procedurelog", "detail.json");
    let srv = TestServer::start(move |hit, _| {
        if hit.path.contains("/procedurelog/") {
            Reply::json(200, log.clone())
        } else if hit.path.contains("/subjectlog/") {
            Reply::json(200, fixture("subjectlog", "detail.json"))
        } else {
            Reply::empty(200)
        }
    })
    .await;
    let client = client_for(&srv.url);
    let inv = uuid::Uuid::from_u128(7);
    let r = client
        .project_membership_invitations()
        .accept(inv)
        .await
        .unwrap();
    assert!(r.is_empty());
    client
        .project_membership_invitations()
        .reject(inv)
        .await
        .unwrap();
    client
        .group_membership_requests()
        .cancel(inv)
        .await
        .unwrap();
    client.groups().join(3).await.unwrap();
    client.groups().leave(3).await.unwrap();
    let entry: brainstem::types::ProcedureLogEntryInput = serde_json::from_value(json!({
        "date_time": "2024-05-01T10:00:00Z",
        "notes": "ok"
    }))
    .unwrap();
    let logged: ProcedureLog = client
        .procedure_logs()
        .add_entry(inv, &entry)
        .await
        .unwrap();
    assert_eq!(
        logged.id.to_string(),
        "72fddeee-1fc2-5ce9-a16b-84d97640d552"
    );
    let key: brainstem::types::LogEntryKey =
        serde_json::from_value(json!({"date_time": "2024-05-01T10:00:00Z"})).unwrap();
    client
        .procedure_logs()
        .remove_entry(inv, &key)
        .await
        .unwrap();
    let change: brainstem::types::LogEntryChange =
        serde_json::from_value(json!({"date_time": "2024-05-01T10:00:00Z", "notes": "better"}))
            .unwrap();
    let _: SubjectLog = client
        .subject_logs()
        .change_entry(inv, &change)
        .await
        .unwrap();

    let seen: Vec<(String, String)> = srv
        .hits()
        .iter()
        .map(|h| (h.method.clone(), h.path.clone()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "GET".into(),
                format!("/api/private/stem/projectmembershipinvitation/{inv}/accept/")
            ),
            (
                "GET".into(),
                format!("/api/private/stem/projectmembershipinvitation/{inv}/reject/")
            ),
            (
                "GET".into(),
                format!("/api/private/users/groupmembershiprequest/{inv}/cancel/")
            ),
            ("GET".into(), "/api/private/users/group/3/join/".to_string()),
            (
                "GET".into(),
                "/api/private/users/group/3/leave/".to_string()
            ),
            (
                "PATCH".into(),
                format!("/api/private/modules/procedurelog/{inv}/add_entry/")
            ),
            (
                "PATCH".into(),
                format!("/api/private/modules/procedurelog/{inv}/remove_entry/")
            ),
            (
                "PATCH".into(),
                format!("/api/private/modules/subjectlog/{inv}/change_entry/")
            ),
        ]
    );
    assert_eq!(srv.hits()[5].json()["notes"], "ok");
}

#[tokio::test]
async fn approval_queues() {
    let list = fixture("species", "approval_list.json");
    let one = fixture("species", "approval_detail.json");
    let srv = TestServer::start(move |hit, _| {
        if hit.path.ends_with("/speciesapproval/") {
            Reply::json(200, list.clone())
        } else if hit.method == "GET" {
            Reply::json(200, one.clone())
        } else {
            Reply::json(200, json!({"status": "accepted"}))
        }
    })
    .await;
    let client = client_for(&srv.url);
    let pending = client
        .species()
        .approvals()
        .list()
        .all()
        .await
        .unwrap()
        .into_vec();
    assert!(!pending.is_empty());
    let id = pending[0].id;
    let got = client.species().approvals().get(id).await.unwrap();
    assert!(!got.name.is_empty());
    let r = client.species().approvals().accept(id).await.unwrap();
    assert_eq!(r["status"], "accepted");
    client.species().approvals().reject(id).await.unwrap();
    let seen: Vec<(String, String)> = srv
        .hits()
        .iter()
        .map(|h| (h.method.clone(), h.path.clone()))
        .collect();
    // The fixture list has no count: one more (empty) page confirms the end.
    let n = seen
        .iter()
        .filter(|s| s.1 == "/api/private/taxonomies/speciesapproval/")
        .count();
    assert!((1..=2).contains(&n), "{seen:?}");
    let rest = &seen[n..];
    assert_eq!(
        rest[0],
        (
            "GET".into(),
            format!("/api/private/taxonomies/speciesapproval/{id}/")
        )
    );
    assert_eq!(
        rest[1],
        (
            "PATCH".into(),
            format!("/api/private/taxonomies/speciesapproval/{id}/accept/")
        )
    );
    assert_eq!(
        rest[2],
        (
            "PATCH".into(),
            format!("/api/private/taxonomies/speciesapproval/{id}/reject/")
        )
    );
}

#[test]
fn there_is_an_accessor_for_every_model() {
    let mut names: Vec<&str> = brainstem::client::ACCESSORS
        .iter()
        .map(|(_, m)| *m)
        .collect();
    names.sort();
    let mut models: Vec<&str> = brainstem::MODELS.iter().map(|m| m.name).collect();
    models.sort();
    assert_eq!(names, models);
    // the accessors' names are named from the spec, and stay what users call
    let mut methods: Vec<&str> = brainstem::client::ACCESSORS
        .iter()
        .map(|(a, _)| *a)
        .collect();
    methods.sort();
    assert_eq!(
        methods,
        [
            "behavioral_assays",
            "behavioral_categories",
            "behavioral_paradigms",
            "behaviors",
            "brain_regions",
            "breedings",
            "cohorts",
            "collections",
            "consumable_stocks",
            "consumables",
            "data_acquisitions",
            "data_storages",
            "equipment",
            "group_membership_invitations",
            "group_membership_requests",
            "groups",
            "hardware_devices",
            "inventories",
            "journals",
            "laboratories",
            "licenses",
            "manipulations",
            "procedure_logs",
            "procedures",
            "project_group_membership_invitations",
            "project_membership_invitations",
            "projects",
            "publications",
            "regulatory_authorities",
            "session_data_storages",
            "sessions",
            "setup_types",
            "setups",
            "species",
            "strains",
            "subject_logs",
            "subjects",
            "suppliers",
            "users",
        ]
    );
}
