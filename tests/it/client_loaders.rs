//! The official Python tool's `load_<model>` helpers as typed methods generated
//! from the spec's loader data: `client.load_session().by_name(..)`.

use brainstem::types::Session;
use brainstem_mock::MockServer;

#[tokio::test]
async fn load_session_by_name_and_project() {
    let srv = MockServer::start().await;
    let client = brainstem::Client::builder()
        .base_url(srv.url())
        .token(srv.token())
        .no_token_cache()
        .build()
        .unwrap();
    let page = client
        .load_session()
        .by_name("session_1".to_string())
        .limit(10)
        .page()
        .await
        .unwrap();
    assert!(!page.records.is_empty());
    assert!(page.records.iter().all(|s| s.name.contains("session_1")));
    // default includes: behaviors come back embedded (Related::Object) where present
    let with_behaviors = page
        .records
        .iter()
        .flat_map(|s| s.behaviors.iter())
        .all(|b| b.is_included());
    assert!(with_behaviors);

    let project = page.records[0].projects[0].id();
    let all: Vec<Session> = client
        .load_session()
        .by_projects(project)
        .no_includes()
        .all()
        .await
        .unwrap()
        .into_vec();
    assert!(!all.is_empty());
    assert!(
        all.iter()
            .all(|s| s.projects.iter().any(|p| p.id() == project))
    );

    // the keyword filter is what the Python tool sends
    let q = client.load_session().by_name("rat".into());
    assert!(
        q.as_query()
            .to_query_string()
            .contains("filter%7Bname.icontains%7D=rat")
    );
}

#[test]
fn every_python_loader_has_a_typed_twin() {
    // the Python tool v2.0.0 has 22 load_<model> helpers; each model with
    // loader data gets `Client::load_<model>()` (compile-checked below)
    let loaders: Vec<&str> = brainstem::MODELS
        .iter()
        .filter(|m| m.loader.is_some())
        .map(|m| m.name)
        .collect();
    assert_eq!(loaders.len(), 22, "{loaders:?}");
    fn _compiles(c: &brainstem::Client) {
        let _ = c.load_procedure().by_subject(uuid::Uuid::nil());
        let _ = c
            .load_strain()
            .by_species(uuid::Uuid::nil())
            .by_name("x".into());
        let _ = c.load_equipment().by_setup(uuid::Uuid::nil());
    }
}

#[cfg(feature = "blocking")]
#[test]
fn the_blocking_client_has_the_typed_loaders_too() {
    let srv =
        brainstem_mock::MockServer::start_background(brainstem_mock::MockOptions::new()).unwrap();
    let client = brainstem::client::blocking::Client::build(
        brainstem::Client::builder()
            .base_url(srv.url())
            .token(srv.token())
            .no_token_cache(),
    )
    .unwrap();
    // the same builder as the async list: keyword filters, paging, includes
    let page = client
        .load_session()
        .by_name("session_1".to_string())
        .limit(10)
        .page()
        .unwrap();
    assert!(!page.records.is_empty());
    assert!(page.records.iter().all(|s| s.name.contains("session_1")));
    let project = page.records[0].projects[0].id();
    let listed: Vec<Session> = client
        .sessions()
        .load()
        .by_projects(project)
        .no_includes()
        .iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!listed.is_empty());
    assert!(
        listed
            .iter()
            .all(|s| s.projects.iter().any(|p| p.id() == project))
    );
}
