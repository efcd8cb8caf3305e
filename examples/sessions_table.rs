//! The sessions of one project, with their projects and behaviors included,
//! written to a Parquet file page by page (`brainstem::table`, feature
//! `arrow`).
//!
//! ```text
//! cargo run --example sessions_table --features arrow [-- sessions.parquet]
//! ```
//!
//! With no `BRAINSTEM_URL` it runs against the bundled stand-in server. With
//! `BRAINSTEM_URL` and a token set it reads the project `BRAINSTEM_PROJECT`
//! (or the first project it can see). Read the file with DuckDB
//! (`SELECT * FROM 'sessions.parquet'`) or pandas
//! (`pandas.read_parquet("sessions.parquet")`).

use brainstem::client::{Client, Error};
use brainstem::models::{SessionFilter, SessionInclude};
use brainstem::table::Layout;
use brainstem::table::arrow::TableWriter;
use brainstem::types::Session;
use futures::StreamExt;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("sessions_table failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sessions.parquet".into());
    let configured = std::env::var("BRAINSTEM_URL").is_ok_and(|v| !v.trim().is_empty());
    // keep the stand-in server alive for the whole run
    let _server;
    let client = if configured {
        Client::from_env()?
    } else {
        let srv = brainstem_mock::MockServer::start().await;
        println!("No BRAINSTEM_URL set: using the stand-in server at {}", srv.url());
        let client = Client::builder()
            .base_url(srv.url())
            .token(srv.token())
            .no_token_cache()
            .build()?;
        _server = srv;
        client
    };
    let project = match std::env::var("BRAINSTEM_PROJECT") {
        Ok(p) => p.parse::<uuid::Uuid>()?,
        Err(_) => {
            let first = client.projects().list().limit(1).page().await?.records;
            first
                .first()
                .ok_or_else(|| Error::Config("no project is visible".into()))?
                .id
        }
    };

    // columns: every session field, plus the included projects' and
    // behaviors' names next to their ids
    let layout = Layout::of::<Session>()
        .include("projects", &["name"])?
        .include("behaviors", &["name"])?;
    let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let mut out = TableWriter::parquet(file, layout)?;
    let mut pages = client
        .sessions()
        .list()
        .filter(SessionFilter::Projects(project))
        .include(SessionInclude::Projects)
        .include(SessionInclude::Behaviors)
        .pages();
    while let Some(page) = pages.next().await {
        let page = page?;
        // records that did not decode are kept raw in the page; say so
        if !page.undecoded.is_empty() {
            eprintln!("{} record(s) did not decode", page.undecoded.len());
        }
        out.write_all(&page.records)?;
    }
    let (_, rows) = out.finish()?;
    println!("Wrote {rows} sessions of project {project} to {path}");
    Ok(())
}
