//! The SQLite mirror (`brainstem::mirror`, feature `mirror`) against the
//! stand-in server: first sync counts equal the server's, a change, an
//! addition and a deletion change exactly three rows, a second sync with
//! nothing changed writes nothing, key order and number spelling are not
//! changes, incremental fetches of models with `updated_at`, and a sync
//! cancelled mid-way leaves the file consistent. (The `kill -9` test of the
//! command-line tool is in `crates/brainstem-cli/tests/it/sync.rs`.)

use std::collections::BTreeMap;
use std::time::Duration;

use brainstem::client::{Client, Saved};
use brainstem::meta::ModelMeta;
use brainstem::mirror::rusqlite::Connection;
use brainstem::mirror::{Mirror, SyncMode, listable_models};
use brainstem::types::{NewSession, NewSessionRequired, SessionPatch};
use brainstem::{Model, ModelVisitor};
use brainstem_mock::{MockOptions, MockServer};
use serde_json::{Value, json};

use crate::client_support::{Hit, Reply, TestServer, client_for, session_json};

use crate::client_support::mock_client as client;

/// How many records the server lists for the client, by its own count.
struct ServerCount(Client);
impl ModelVisitor for ServerCount {
    type Output = futures::future::BoxFuture<'static, Result<u64, brainstem::Error>>;
    fn visit<M: Model>(self) -> Self::Output {
        let api = self.0.api::<M>();
        Box::pin(async move {
            // every record, counted here: what the server lists, not what it claims
            Ok(api
                .list()
                .all()
                .await
                .map(|r| r.len() + r.undecoded.len())? as u64)
        })
    }
}

async fn server_count(c: &Client, model: &str) -> Result<u64, brainstem::Error> {
    brainstem::models::with_model(model, ServerCount(c.clone()))
        .unwrap()
        .await
}

/// `id -> (hash, raw)` of every row of a model's table.
fn snapshot(conn: &Connection, table: &str) -> BTreeMap<String, (Vec<u8>, String)> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT CAST(id AS TEXT), _hash, _raw FROM \"{table}\""
        ))
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn count_rows(conn: &Connection, table: &str) -> u64 {
    conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
        r.get(0)
    })
    .unwrap()
}

/// Every `sync_state` row agrees with its table, and the file is sound.
pub fn assert_consistent(conn: &Connection) {
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let mut stmt = conn.prepare("SELECT model, rows FROM sync_state").unwrap();
    let states: Vec<(String, u64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (model, rows) in states {
        assert_eq!(
            count_rows(conn, &model),
            rows,
            "{model}: sync_state vs table"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_equals_the_server_and_a_second_writes_nothing() {
    let srv = MockServer::start().await;
    let c = client(&srv);
    let dir = tempfile::tempdir().unwrap();
    let mut m = Mirror::open(dir.path().join("m.sqlite")).unwrap();
    let report = m.sync(&c, &[]).await.unwrap();

    // every listable model was synced or reported unreadable
    let listable = listable_models();
    assert_eq!(
        report.models.len() + report.unreadable.len(),
        listable.len()
    );
    assert!(report.models.len() > 30, "{} models", report.models.len());
    for r in &report.models {
        let n = server_count(&c, r.model).await.unwrap();
        assert_eq!(r.rows, n, "{}: mirrored rows vs the server's", r.model);
        assert_eq!(r.fetched, n, "{}", r.model);
        assert_eq!(r.inserted, n, "{}", r.model);
        assert_eq!(
            (r.updated, r.deleted, r.unchanged),
            (0, 0, 0),
            "{}",
            r.model
        );
        assert!(r.skipped.is_empty(), "{}: {:?}", r.model, r.skipped);
        assert_eq!(count_rows(m.connection(), r.model), n, "{}", r.model);
        assert_eq!(m.state(r.model).unwrap().unwrap().rows, n);
    }
    for u in &report.unreadable {
        // what the mirror left out, the server indeed refuses to list
        assert!(server_count(&c, u.model).await.is_err(), "{}", u.model);
    }
    let sessions = report.models.iter().find(|r| r.model == "session").unwrap();
    assert!(sessions.rows >= 100, "{}", sessions.rows);
    // relations: one join row per listed project
    let joins: u64 = m
        .connection()
        .query_row("SELECT count(*) FROM session__projects", [], |r| r.get(0))
        .unwrap();
    let expected: usize = c
        .sessions()
        .list()
        .all()
        .await
        .unwrap()
        .iter()
        .map(|s| s.projects.len())
        .sum();
    assert_eq!(joins, expected as u64);
    // the columns hold the record's values
    let (name, raw): (String, String) = m
        .connection()
        .query_row("SELECT name, _raw FROM session LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&raw).unwrap()["name"], name);
    assert_consistent(m.connection());

    // nothing changed: no record or join row is written
    let before: BTreeMap<_, _> = report
        .models
        .iter()
        .map(|r| (r.model, snapshot(m.connection(), r.model)))
        .collect();
    let changes = m.connection().total_changes();
    let again = m.sync(&c, &[]).await.unwrap();
    assert_eq!(again.rows_written(), 0);
    for r in &again.models {
        assert_eq!((r.inserted, r.updated, r.deleted), (0, 0, 0), "{}", r.model);
        assert_eq!(r.unchanged, r.fetched, "{}", r.model);
        assert_eq!(r.join_rows_written, 0, "{}", r.model);
        assert_eq!(snapshot(m.connection(), r.model), before[r.model]);
    }
    // SQLite's own count: one `sync_state` row per model, nothing else
    assert_eq!(
        m.connection().total_changes() - changes,
        again.models.len() as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_add_delete_changes_exactly_three_rows() {
    let srv = MockServer::start().await;
    let c = client(&srv);
    let mut m = Mirror::open_in_memory().unwrap();
    let first = m.sync(&c, &["session"]).await.unwrap();
    let n = first.models[0].rows;
    let before = snapshot(m.connection(), "session");

    let all = c.sessions().list().all().await.unwrap();
    let (changed, gone) = (all[0].id, all[1].id);
    let patch = SessionPatch {
        description: Some("changed by the mirror test".into()),
        ..Default::default()
    };
    c.sessions().update(changed, &patch).await.unwrap();
    let Saved::Applied(added) = c
        .sessions()
        .create(&NewSession::new(NewSessionRequired {
            name: "added by the mirror test".into(),
            projects: all[0].projects.iter().map(|p| p.id()).collect(),
        }))
        .await
        .unwrap();
    c.sessions().delete(gone).await.unwrap();

    let changes = m.connection().total_changes();
    let r = m.sync(&c, &["session"]).await.unwrap().models.remove(0);
    assert_eq!((r.inserted, r.updated, r.deleted), (1, 1, 1), "{r}");
    assert_eq!(r.unchanged, n - 2);
    assert_eq!(r.rows, n);
    assert_eq!(r.rows_written(), 3);
    // the rows themselves: exactly three differ
    let after = snapshot(m.connection(), "session");
    let mut differ: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect();
    differ.sort();
    differ.dedup();
    let mut expect = vec![changed.to_string(), gone.to_string(), added.id.to_string()];
    expect.sort();
    assert_eq!(differ, expect);
    assert!(
        after[&changed.to_string()]
            .1
            .contains("changed by the mirror test")
    );
    // SQLite's count: 3 session rows, the added and deleted sessions' join
    // rows (the changed one's relations did not change), 1 sync_state row
    let join_rows = |s: &Value| -> u64 {
        ModelMeta::find("session")
            .unwrap()
            .fields
            .iter()
            .filter(|f| f.many && f.related.is_some())
            .map(|f| s[f.name].as_array().map_or(0, Vec::len) as u64)
            .sum()
    };
    let added_json: Value = serde_json::from_str(&after[&added.id.to_string()].1).unwrap();
    let gone_json: Value = serde_json::from_str(&before[&gone.to_string()].1).unwrap();
    assert_eq!(
        r.join_rows_written,
        join_rows(&added_json) + join_rows(&gone_json)
    );
    assert_eq!(
        m.connection().total_changes() - changes,
        3 + r.join_rows_written + 1
    );
    let row: String = m
        .connection()
        .query_row(
            "SELECT description FROM session WHERE id = ?1",
            [changed.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(row, "changed by the mirror test");
    assert_consistent(m.connection());

    // and once more: nothing
    let r = m.sync(&c, &["session"]).await.unwrap();
    assert_eq!(r.rows_written(), 0);
}

/// The issue's nightly sync: the same 315 sessions, answered the second time
/// with keys in another order, numbers spelled otherwise, strings escaped
/// otherwise and relation ids in another order. Nothing may be rewritten; a
/// real change still is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_order_and_spelling_are_not_changes() {
    fn record(i: usize, variant: usize) -> String {
        let mut s = session_json(i);
        s["projects"] = json!([
            "11111111-1111-4111-8111-111111111111",
            "22222222-2222-4222-8222-222222222222"
        ]);
        s["name"] = json!(format!("séance {i}"));
        if i.is_multiple_of(3) {
            s["extra_fields"] = json!({"rate": 12.5, "gain": 100, "note": "a/b"});
        }
        let text = s.to_string();
        match variant {
            0 => text,
            // reversed keys (top level and nested), 12.50 and 1e2, `\u00e9`,
            // `\/`, the relation ids reversed
            1 => {
                let obj = s.as_object().unwrap();
                let mut parts: Vec<String> = obj
                    .iter()
                    .rev()
                    .map(|(k, v)| {
                        let v = match k.as_str() {
                            "extra_fields" if i.is_multiple_of(3) => {
                                r#"{ "note" : "a\/b", "gain": 1e2, "rate": 12.50 }"#.to_string()
                            }
                            "projects" => r#"["22222222-2222-4222-8222-222222222222","11111111-1111-4111-8111-111111111111"]"#.to_string(),
                            "name" => format!("\"s\\u00e9ance {i}\""),
                            _ => v.to_string(),
                        };
                        format!("{:?} :  {v}", k)
                    })
                    .collect();
                parts.rotate_left(i % 5);
                format!("{{ {} }}", parts.join(" ,\n "))
            }
            // a real change: the rate of session 3
            _ => {
                if i == 3 {
                    s["extra_fields"]["rate"] = json!(12.6);
                }
                s.to_string()
            }
        }
    }
    // The variant is chosen per sync: the server answers with the variant
    // the test sets.
    let variant = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let v2 = variant.clone();
    let srv = TestServer::start(move |hit: &Hit, _| {
        const TOTAL: usize = 315;
        let limit: usize = hit
            .param("limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(20)
            .min(100);
        let offset: usize = hit
            .param("offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let end = (offset + limit).min(TOTAL);
        let v = v2.load(std::sync::atomic::Ordering::SeqCst);
        let records: Vec<String> = (offset.min(end)..end).map(|i| record(i, v)).collect();
        let body = format!(
            "{{\"sessions\": [{}], \"count\": {TOTAL}}}",
            records.join(",")
        );
        Reply::raw(200, "application/json", &body)
    })
    .await;
    let c = client_for(&srv.url);
    let mut m = Mirror::open_in_memory().unwrap();
    let r = m.sync(&c, &["session"]).await.unwrap().models.remove(0);
    assert_eq!((r.fetched, r.inserted, r.rows), (315, 315, 315));
    variant.store(1, std::sync::atomic::Ordering::SeqCst);
    let changes = m.connection().total_changes();
    let r = m.sync(&c, &["session"]).await.unwrap().models.remove(0);
    assert_eq!((r.fetched, r.unchanged), (315, 315), "{r}");
    assert_eq!(r.rows_written(), 0, "{r}");
    assert_eq!(m.connection().total_changes() - changes, 1); // sync_state
    variant.store(2, std::sync::atomic::Ordering::SeqCst);
    let r = m.sync(&c, &["session"]).await.unwrap().models.remove(0);
    assert_eq!((r.updated, r.unchanged), (1, 314), "{r}");
    // `_raw` is the server's text, byte for byte: an unchanged record keeps
    // the text first mirrored, a changed one has its new text
    let raw_of = |name: &str| -> String {
        m.connection()
            .query_row("SELECT _raw FROM session WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .unwrap()
    };
    assert_eq!(raw_of("séance 7"), record(7, 0));
    assert_eq!(raw_of("séance 3"), record(3, 2));
    assert_ne!(record(3, 2), record(3, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updated_at_models_sync_incrementally() {
    use brainstem::types::Procedure;
    let srv = MockServer::start().await;
    let c = client(&srv);
    let mut m = Mirror::open_in_memory().unwrap();
    let first = m.sync(&c, &["procedure"]).await.unwrap().models.remove(0);
    assert_eq!(first.mode, SyncMode::Full);
    let n = server_count(&c, "procedure").await.unwrap();
    assert_eq!(first.rows, n);
    assert!(n > 1);
    let watermark = m.state("procedure").unwrap().unwrap().watermark.unwrap();

    // nothing changed: only the records at the watermark come again
    let r = m.sync(&c, &["procedure"]).await.unwrap().models.remove(0);
    assert_eq!(r.mode, SyncMode::Incremental);
    assert!(r.fetched < n, "fetched {} of {n}", r.fetched);
    assert_eq!(r.unchanged, r.fetched);
    assert_eq!(r.rows_written(), 0);

    // a new record (its updated_at is now): fetched alone
    let all = c.api::<Procedure>().list().all().await.unwrap();
    let template = serde_json::to_value(&all[0]).unwrap();
    let mut body = serde_json::Map::new();
    let meta = ModelMeta::find("procedure").unwrap();
    for (k, v) in template.as_object().unwrap() {
        let writable = meta.field(k).is_none_or(|f| !f.read_only);
        if writable && !v.is_null() {
            body.insert(k.clone(), v.clone());
        }
    }
    let new: <Procedure as Model>::New = serde_json::from_value(Value::Object(body)).unwrap();
    c.api::<Procedure>().create(&new).await.unwrap();
    let r = m.sync(&c, &["procedure"]).await.unwrap().models.remove(0);
    assert_eq!(r.mode, SyncMode::Incremental, "{r}");
    assert_eq!((r.inserted, r.updated, r.deleted), (1, 0, 0), "{r}");
    assert!(r.fetched < n);
    assert!(m.state("procedure").unwrap().unwrap().watermark.unwrap() > watermark);

    // a deletion does not show in an incremental fetch: the count finds it
    c.api::<Procedure>().delete(all[1].id).await.unwrap();
    let r = m.sync(&c, &["procedure"]).await.unwrap().models.remove(0);
    assert_eq!(r.mode, SyncMode::IncrementalThenFull, "{r}");
    assert_eq!((r.inserted, r.updated, r.deleted), (0, 0, 1), "{r}");
    assert_eq!(r.rows, server_count(&c, "procedure").await.unwrap());
    assert_consistent(m.connection());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_cancelled_mid_way_leaves_the_file_consistent() {
    let srv = MockServer::start_with(MockOptions::new().sessions(3000).latency_ms(300))
        .await
        .unwrap();
    let c = client(&srv);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.sqlite");
    let mut m = Mirror::open(&path).unwrap();
    m.sync(&c, &["project"]).await.unwrap();
    // Sessions are cut off while their pages arrive (each answered after
    // 300 ms): once the session transaction holds the write lock (another
    // connection cannot begin one) and more pages were asked for, or at the
    // latest once 8 of the 23 pages were asked for, the sync future is
    // dropped.
    let probe = Connection::open(&path).unwrap();
    probe.busy_timeout(Duration::ZERO).unwrap();
    let asked = srv.requests();
    {
        let sync = m.sync(&c, &["session"]);
        tokio::pin!(sync);
        loop {
            tokio::select! {
                r = &mut sync => panic!("the sync finished before it was cut off: {r:?}"),
                () = tokio::time::sleep(Duration::from_millis(5)) => {
                    let locked = probe.execute_batch("BEGIN IMMEDIATE; ROLLBACK").is_err();
                    if (locked && srv.requests() >= asked + 3) || srv.requests() >= asked + 8 {
                        break;
                    }
                }
            }
        }
    }
    // another connection sees project synced and no trace of sessions
    let other = Connection::open(&path).unwrap();
    assert_consistent(&other);
    assert!(m.state("project").unwrap().is_some());
    assert!(m.state("session").unwrap().is_none());
    // the same mirror goes on
    let r = m.sync(&c, &["session"]).await.unwrap().models.remove(0);
    assert_eq!(r.rows, server_count(&c, "session").await.unwrap());
    assert_eq!(r.inserted, r.rows);
    assert_consistent(&other);
}
