//! `brainstem sync --db FILE [MODEL ...]`: mirror the readable models into a
//! local SQLite file with `brainstem::mirror`, printing per model what was
//! fetched and written as soon as its transaction commits.

use std::io::Write;
use std::path::PathBuf;

use brainstem::mirror::{Mirror, MirrorError, ModelReport};
use clap::Args;
use serde_json::json;

use crate::args::{Format, Global};
use crate::{CliError, client};

/// What `brainstem sync --help` prints after its options.
const SYNC_AFTER_HELP: &str = "\
Each model is synced in one transaction, which also records the run in the
table `sync_state`: a sync that is interrupted leaves every model as it was or
fully synced, and the next run completes it. Models with a server-set
`updated_at` are fetched incrementally once mirrored; the others are fetched
whole and compared by a hash of each record's canonical JSON, so an unchanged
record is never rewritten and a deleted one is removed.

Exit codes:
  0  every model synced (models the token may not read are listed and skipped)
  1  the server or the database failed (models synced before stay synced)
  2  usage error (an unknown model, a --db that cannot be opened)";

/// `brainstem sync`.
#[derive(Debug, Args)]
#[command(after_help = SYNC_AFTER_HELP)]
pub struct SyncArgs {
    /// The SQLite file of the mirror (created if missing).
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,
    /// Models to sync (`session`, ...; `brainstem models` lists them) [default: every readable model].
    pub models: Vec<String>,
}

fn line(r: &ModelReport) -> String {
    let mut s = format!(
        "{}: fetched {}, inserted {}, updated {}, deleted {}, unchanged {}",
        r.model, r.fetched, r.inserted, r.updated, r.deleted, r.unchanged
    );
    if !r.skipped.is_empty() {
        s.push_str(&format!(", skipped {}", r.skipped.len()));
    }
    s.push_str(&format!(" ({})", r.mode.as_str()));
    s
}

fn record(r: &ModelReport) -> serde_json::Value {
    json!({
        "model": r.model, "mode": r.mode.as_str(), "fetched": r.fetched,
        "inserted": r.inserted, "updated": r.updated, "deleted": r.deleted,
        "unchanged": r.unchanged, "skipped": r.skipped.len(), "rows": r.rows,
    })
}

/// Run `brainstem sync`.
pub async fn sync(a: &SyncArgs, global: &Global) -> Result<(), CliError> {
    let json_lines = match global.format {
        None => false,
        Some(Format::Json | Format::Ndjson) => true,
        Some(_) => {
            return Err(CliError::usage(
                "`sync` prints text, or one JSON object per model with --format json or ndjson",
            ));
        }
    };
    for m in &a.models {
        crate::model_meta(m)?;
    }
    let c = client(global)?;
    let mut mirror = Mirror::open(&a.db)
        .map_err(|e| CliError::usage(format!("cannot open the mirror {}: {e}", a.db.display())))?;
    let names: Vec<&str> = a.models.iter().map(String::as_str).collect();
    let stdout = std::io::stdout();
    let report = mirror
        .sync_with(&c, &names, |r| {
            for why in &r.skipped {
                eprintln!("warning: {why}; not mirrored");
            }
            let mut out = stdout.lock();
            let text = if json_lines {
                record(r).to_string()
            } else {
                line(r)
            };
            // the reader may have gone; the sync goes on
            let _ = writeln!(out, "{text}").and_then(|()| out.flush());
        })
        .await
        .map_err(|e| match e {
            MirrorError::UnknownModel(_) | MirrorError::NotListable(_) => {
                CliError::usage(e.to_string())
            }
            MirrorError::Client { ref source, .. } => CliError {
                code: match source {
                    brainstem::client::Error::InvalidInput(_)
                    | brainstem::client::Error::Config(_)
                    | brainstem::client::Error::InsecureUrl { .. } => 2,
                    _ => 1,
                },
                message: e.to_string(),
            },
            e => CliError {
                code: 1,
                message: e.to_string(),
            },
        })?;
    for u in &report.unreadable {
        eprintln!(
            "note: {} is not readable with this token ({}); skipped",
            u.model, u.error
        );
    }
    let written = report.rows_written();
    let mut out = stdout.lock();
    let text = if json_lines {
        json!({"models": report.models.len(), "rows_written": written}).to_string()
    } else if written == 0 {
        "nothing changed: 0 rows written".to_string()
    } else {
        format!("{written} rows written")
    };
    writeln!(out, "{text}")?;
    Ok(())
}
