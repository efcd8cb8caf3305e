//! The client's list / get / create / include suite against the stand-in
//! server in each dialect the real server may speak: BrainSTEM's documented
//! limit/offset, dynamic-rest's page numbers (with and without counts) with
//! sideloaded includes, deferred fields and links omitted when empty, and a
//! drifted server (undocumented extra fields, documented fields missing).
//! Every listing is compared, by id, with what the server holds.

use std::collections::HashSet;

use brainstem::Related;
use brainstem::client::PageStyle;
use brainstem::models::SessionInclude;
use brainstem::types::{NewSession, NewSessionRequired, Session};
use brainstem_mock::{Dialect, MockOptions, MockServer};
use futures::StreamExt;

use crate::client_support::mock_client as client;

fn dialects() -> Vec<(&'static str, Dialect)> {
    vec![
        ("docs", Dialect::docs()),
        ("dynamic-rest", Dialect::dynamic_rest()),
        ("dynamic-rest-countless", Dialect::dynamic_rest_countless()),
        ("drifted", Dialect::drifted()),
    ]
}

fn ids(records: &[Session]) -> Vec<String> {
    records.iter().map(|s| s.id.to_string()).collect()
}

/// The sessions the token can see, in server order, read in the documented
/// dialect with the largest pages.
async fn reference(srv: &MockServer) -> Vec<String> {
    let before = srv.dialect();
    srv.set_dialect(Dialect::docs());
    let all = client(srv).sessions().list().strict().all().await.unwrap();
    srv.set_dialect(before);
    let ids = ids(&all);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        ids.len(),
        "the reference has no duplicates"
    );
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_stream_and_pages_return_exactly_the_servers_records() {
    let srv = MockServer::start_with(MockOptions::new().sessions(300))
        .await
        .unwrap();
    let want = reference(&srv).await;
    assert!(
        want.len() > 200,
        "the seed has the sessions: {}",
        want.len()
    );
    let c = client(&srv);
    for (name, dialect) in dialects() {
        srv.set_dialect(dialect);
        for size in [7u32, 13, 33, 100] {
            for prefetch in [1usize, 4] {
                let what = format!("{name} size {size} prefetch {prefetch}");
                let all = c
                    .sessions()
                    .list()
                    .limit(size)
                    .concurrency(prefetch)
                    .all()
                    .await
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(all.undecoded.is_empty(), "{what}: {:?}", all.undecoded);
                assert_eq!(ids(&all), want, "{what}: all()");

                let streamed: Vec<Session> = c
                    .sessions()
                    .list()
                    .limit(size)
                    .concurrency(prefetch)
                    .stream()
                    .map(|r| r.unwrap_or_else(|e| panic!("{what}: {e}")))
                    .collect()
                    .await;
                assert_eq!(ids(&streamed), want, "{what}: stream()");
            }
        }
        // pages(): each page says its style and the window it holds
        let mut next = 0u64;
        let mut pages = c.sessions().list().limit(33).pages();
        while let Some(p) = pages.next().await {
            let p = p.unwrap();
            assert_eq!(p.offset, next, "{name}: windows follow each other");
            let expected_style = match name {
                "dynamic-rest" | "dynamic-rest-countless" => PageStyle::PageNumber,
                _ => PageStyle::LimitOffset,
            };
            assert_eq!(p.style, expected_style, "{name}");
            next += p.records.len() as u64;
        }
        assert_eq!(next as usize, want.len(), "{name}: pages()");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_and_limit_windows_are_exact() {
    let srv = MockServer::start_with(MockOptions::new().sessions(300))
        .await
        .unwrap();
    let want = reference(&srv).await;
    assert!(
        want.len() > 200,
        "the seed has the sessions: {}",
        want.len()
    );
    let c = client(&srv);
    for (name, dialect) in dialects() {
        srv.set_dialect(dialect);
        for (offset, limit) in [
            (13u64, 7u32),
            (200, 4),
            (222, 9),
            (240, 4),
            (0, 1),
            (95, 10),
            (3, 100),
            (19, 2),
        ] {
            let page = c
                .sessions()
                .list()
                .offset(offset)
                .limit(limit)
                .page()
                .await
                .unwrap();
            let from = (offset as usize).min(want.len());
            let to = (from + limit as usize).min(want.len());
            assert_eq!(
                ids(&page.records),
                want[from..to],
                "{name}: offset {offset} limit {limit}"
            );
            assert_eq!(page.offset, offset, "{name}: the window held");
        }
        // all() from an offset
        let rest = c
            .sessions()
            .list()
            .offset(240)
            .limit(4)
            .all()
            .await
            .unwrap();
        assert_eq!(ids(&rest), want[240.min(want.len())..], "{name}: from 240");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn includes_are_filled_in_both_shapes_flat_and_nested() {
    let srv = MockServer::start().await;
    let c = client(&srv);
    for (name, dialect) in dialects() {
        srv.set_dialect(dialect);
        let sessions = c
            .sessions()
            .list()
            .include(SessionInclude::Behaviors)
            .all()
            .await
            .unwrap();
        assert!(
            sessions.undecoded.is_empty(),
            "{name}: {:?}",
            sessions.undecoded
        );
        let behaviors: Vec<&Related<_>> =
            sessions.iter().flat_map(|s| s.behaviors.iter()).collect();
        assert!(!behaviors.is_empty(), "{name}: the seed has behaviors");
        // filled, or (a record the token may not see) missing: never a bare id
        assert!(
            behaviors.iter().all(|b| !matches!(b, Related::Id(_))),
            "{name}: every behavior filled or missing"
        );
        assert!(
            behaviors.iter().filter(|b| b.is_included()).count() * 2 > behaviors.len(),
            "{name}: most behaviors filled"
        );

        let nested = c
            .sessions()
            .list()
            .include_path("behaviors.setup")
            .all()
            .await
            .unwrap();
        let mut setups = 0;
        for s in nested.iter() {
            for b in s.behaviors.iter().filter_map(Related::object) {
                assert!(
                    !matches!(b.setup, Related::Id(_)),
                    "{name}: setup of {} neither filled nor missing",
                    b.id
                );
                setups += usize::from(b.setup.is_included());
            }
        }
        assert!(setups > 0, "{name}");

        // a single record, with its includes
        let with = nested
            .iter()
            .find(|s| !s.behaviors.is_empty())
            .expect("a session with behaviors");
        let one = c
            .sessions()
            .get(with.id)
            .include(SessionInclude::Behaviors)
            .await
            .unwrap();
        assert_eq!(one.behaviors.len(), with.behaviors.len(), "{name}");
        assert!(
            one.behaviors.iter().all(|b| !matches!(b, Related::Id(_))),
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_and_read_back_in_every_dialect() {
    let srv = MockServer::start().await;
    let c = client(&srv);
    let project = c.projects().list().limit(1).page().await.unwrap().records[0].id;
    for (name, dialect) in dialects() {
        srv.set_dialect(dialect);
        let new = NewSession::new(NewSessionRequired {
            name: format!("made in {name}"),
            projects: vec![project],
        });
        let made = c
            .sessions()
            .create(&new)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .applied()
            .unwrap();
        assert_eq!(made.name, format!("made in {name}"));
        let back = c.sessions().get(made.id).await.unwrap();
        assert_eq!(back.id, made.id);
        assert_eq!(back.name, made.name);
        c.sessions().delete(made.id).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applied_write_with_an_undecodable_answer_carries_the_id() {
    let srv = MockServer::start().await;
    let c = client(&srv);
    let project = c.projects().list().limit(1).page().await.unwrap().records[0].id;
    srv.set_dialect(Dialect::docs().undecodable_writes(true));
    let before = srv.store().count("session");
    let requests = srv.requests();
    let err = c
        .sessions()
        .create(&NewSession::new(NewSessionRequired {
            name: "stored anyway".into(),
            projects: vec![project],
        }))
        .await
        .unwrap_err();
    let brainstem::client::Error::AppliedUndecodable(a) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(a.status, 201);
    let id = a.id.clone().expect("the id is in the answer");
    assert_eq!(srv.store().count("session"), before + 1, "stored once");
    assert_eq!(srv.requests(), requests + 1, "sent once, never retried");
    assert!(
        srv.store().get("session", &id).is_some(),
        "the id is the stored one"
    );
    assert!(!a.body.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drifted_records_decode_keep_what_is_unknown_and_say_what_is_missing() {
    use brainstem::observe::Observation;
    let srv = MockServer::start().await;
    srv.set_dialect(Dialect::drifted());
    let page = client(&srv)
        .sessions()
        .list()
        .limit(30)
        .page()
        .await
        .unwrap();
    assert!(page.undecoded.is_empty(), "{:?}", page.undecoded);
    let with_note: Vec<&Session> = page
        .records
        .iter()
        .filter(|s| s.unknown.contains_key("x_server_note"))
        .collect();
    assert!(
        !with_note.is_empty(),
        "some records carry the undocumented field"
    );
    // kept exactly, the number a Value cannot hold included
    let note = with_note[0].unknown.get("x_server_note").unwrap().get();
    assert!(note.contains("1e400"), "{note}");
    let text = serde_json::to_string(with_note[0]).unwrap();
    assert!(
        text.contains("1e400") && text.contains("\"x_server_note\""),
        "{text}"
    );

    let lacking: Vec<&Session> = page
        .records
        .iter()
        .filter(|s| s.missing.contains("description"))
        .collect();
    assert!(!lacking.is_empty(), "some records lack description");
    let text = serde_json::to_string(lacking[0]).unwrap();
    assert!(
        !text.contains("\"description\""),
        "a missing field stays missing: {text}"
    );

    assert!(page.observations.iter().any(|o| matches!(
        o,
        Observation::UnknownField { shape: "Session", key } if key == "x_server_note"
    )));
    assert!(page.observations.iter().any(|o| matches!(
        o,
        Observation::MissingField {
            shape: "Session",
            field: "description"
        }
    )));
}
