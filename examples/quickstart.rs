//! The Python tool guide's quick start, as typed Rust: load public and
//! private records, filter, sort, create, update and delete.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! With no configuration it starts the stand-in BrainSTEM server in this
//! process and runs there. With `BRAINSTEM_URL` and a token
//! (`BRAINSTEM_API_TOKEN` / `BRAINSTEM_TOKEN`, or a cached login) it runs
//! against that server instead; the create / update / delete steps then run
//! only when `BRAINSTEM_PROJECT` names a project you may write to.

use brainstem::client::{Client, Error, Saved};
use brainstem::models::{ProjectFilter, SessionFilter, SessionSort};
use brainstem::query::SortField;
use brainstem::types::{NewSession, NewSessionRequired, Project, Session, SessionPatch};
use brainstem::{Portal, models::ProjectSort};

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("quickstart failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Error> {
    let configured = std::env::var("BRAINSTEM_URL").is_ok_and(|v| !v.trim().is_empty());
    // Keep the stand-in server alive for the whole run.
    let _server;
    let (client, project) = if configured {
        let client = Client::from_env()?;
        println!(
            "Using {} (token: {:?})",
            client.base_url(),
            client.token_source()
        );
        let project = match std::env::var("BRAINSTEM_PROJECT") {
            Ok(p) => Some(p.parse::<uuid::Uuid>().map_err(|e| {
                Error::Config(format!("BRAINSTEM_PROJECT is not a project id: {e}"))
            })?),
            Err(_) => None,
        };
        (client, project)
    } else {
        let srv = brainstem_mock::MockServer::start().await;
        println!(
            "No BRAINSTEM_URL set: running against the stand-in server at {}",
            srv.url()
        );
        let client = Client::builder()
            .base_url(srv.url())
            .token(srv.token())
            .no_token_cache()
            .build()?;
        let first: Vec<Project> = client.projects().list().limit(1).page().await?.records;
        _server = srv;
        (client, first.first().map(|p| p.id))
    };

    // --- Quick start ------------------------------------------------------
    section("Quick start");
    let public_projects = client
        .projects()
        .list()
        .portal(Portal::Public)
        .page()
        .await?;
    println!("Loaded {} public projects", public_projects.records.len());
    if let Some(p) = public_projects.records.first() {
        println!("  first: {}", p.name);
    }
    if client.has_token() {
        let private_sessions = client.sessions().list().page().await?;
        if let Some(s) = private_sessions.records.first() {
            println!("First private session: {}", s.name);
        }
    } else {
        println!("No token: skipping the private portal (log in with `brainstem login`)");
    }

    // --- Filtering ----------------------------------------------------------
    section("Filtering");
    let filtered = client
        .projects()
        .public()
        .list()
        .filter(ProjectFilter::NameIcontains("visual".into()))
        .all()
        .await?;
    println!(
        "Projects whose name contains \"visual\": {}",
        filtered.len()
    );
    // Several filters AND together.
    let both = client
        .projects()
        .public()
        .list()
        .filter(ProjectFilter::NameIcontains("allen".into()))
        .filter(ProjectFilter::DescriptionIcontains("neuropixels".into()))
        .all()
        .await?;
    println!(
        "Matching both \"allen\" and \"neuropixels\": {}",
        both.len()
    );

    // --- Sorting -------------------------------------------------------------
    section("Sorting");
    let alpha = client
        .projects()
        .public()
        .list()
        .sort(ProjectSort::Name.asc())
        .limit(3)
        .page()
        .await?;
    println!("Alphabetically:");
    for (i, p) in alpha.records.iter().enumerate() {
        println!("  {}. {}", i + 1, p.name);
    }
    let reverse = client
        .projects()
        .public()
        .list()
        .sort(ProjectSort::Name.desc())
        .limit(3)
        .page()
        .await?;
    println!("Reverse alphabetically:");
    for (i, p) in reverse.records.iter().enumerate() {
        println!("  {}. {}", i + 1, p.name);
    }

    if client.has_token() {
        let latest = client
            .sessions()
            .list()
            .sort(SessionSort::Name.desc())
            .limit(3)
            .page()
            .await?;
        println!("Your sessions, reverse alphabetically:");
        for (i, s) in latest.records.iter().enumerate() {
            println!("  {}. {}", i + 1, s.name);
        }
    }

    let Some(project) = project else {
        println!(
            "\nSkipping create / update / delete: set BRAINSTEM_PROJECT=<uuid> of a project you may write to."
        );
        return Ok(());
    };

    // --- Creating ---------------------------------------------------------------
    section("Creating records");
    // `projects` is a list of project ids: a single string does not compile.
    let mut payload = NewSession::new(NewSessionRequired {
        name: "Example Session".into(),
        projects: vec![project],
    });
    payload.description = Some("Created via the Rust client".into());
    // Sessions are not approval-gated, so the answer is always `Applied`.
    let Saved::Applied(created): Saved<Session> = client.sessions().create(&payload).await?;
    println!("Created session {} ({})", created.name, created.id);

    // --- Updating ---------------------------------------------------------------
    section("Updating records");
    // Find the session by name, then change what should change.
    let found = client
        .sessions()
        .list()
        .filter(SessionFilter::NameIexact("example session".into()))
        .all()
        .await?;
    let target = found
        .iter()
        .find(|s| s.id == created.id)
        .map(|s| s.id)
        .ok_or_else(|| Error::Config("the new session is not found by its name".into()))?;
    let patch = SessionPatch {
        description: Some("Updated via the Rust client".into()),
        ..SessionPatch::default()
    };
    let Saved::Applied(updated) = client.sessions().update(target, &patch).await?;
    println!("Session description is now {:?}", updated.description);

    // --- Deleting ---------------------------------------------------------------
    section("Deleting records");
    client.sessions().delete(created.id).await?;
    match client.sessions().get(created.id).await {
        Err(Error::NotFound { .. }) => println!("Session deleted (it is gone: 404)"),
        Ok(_) => println!("Session still readable after delete?"),
        Err(e) => return Err(e),
    }
    Ok(())
}

fn section(title: &str) {
    println!("\n== {title} ==");
}
