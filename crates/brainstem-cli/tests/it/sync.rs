//! `brainstem sync`: what it prints, that a second run writes nothing, and
//! that a run killed with SIGKILL mid-way leaves a sound file that the next
//! run completes.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use brainstem::mirror::rusqlite::Connection;
use brainstem_mock::{MockOptions, MockServer};

use crate::{cmd_for, home, server};

/// Every `sync_state` row agrees with its table, and the file is sound.
fn assert_consistent(conn: &Connection) {
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
        let n: u64 = conn
            .query_row(&format!("SELECT count(*) FROM \"{model}\""), [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, rows, "{model}: sync_state vs table");
    }
}

/// How many records of `model` the server lists for the test token.
fn server_count(srv: &MockServer, model: &str) -> u64 {
    let out = cmd_for(srv)
        .args(["load", model, "--all", "--format", "ndjson"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap().lines().count() as u64
}

fn stdout_of(c: &mut assert_cmd::Command) -> String {
    String::from_utf8(c.assert().success().get_output().stdout.clone()).unwrap()
}

#[test]
fn prints_counts_per_model_and_says_when_nothing_changed() {
    let srv = server();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.sqlite");
    let db = db.to_str().unwrap();
    let first = stdout_of(cmd_for(srv).args(["sync", "--db", db, "session", "project"]));
    let sessions = server_count(srv, "session");
    assert!(
        first.contains(&format!(
            "session: fetched {sessions}, inserted {sessions}, updated 0, deleted 0, unchanged 0 (full)"
        )),
        "{first}"
    );
    assert!(first.lines().any(|l| l.starts_with("project: fetched ")));
    assert!(first.trim_end().ends_with("rows written"), "{first}");
    assert!(!first.contains("nothing changed"));
    let second = stdout_of(cmd_for(srv).args(["sync", "--db", db, "session", "project"]));
    assert!(
        second.contains(&format!(
            "session: fetched {sessions}, inserted 0, updated 0, deleted 0, unchanged {sessions} (full)"
        )),
        "{second}"
    );
    assert_eq!(
        second.lines().last(),
        Some("nothing changed: 0 rows written")
    );
    // JSON lines on request
    let json = stdout_of(cmd_for(srv).args(["sync", "--db", db, "--format", "ndjson", "session"]));
    let first_line: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first_line["model"], "session");
    assert_eq!(first_line["unchanged"], sessions);
    // an unknown model: usage error, nothing created
    let bad = dir.path().join("bad.sqlite");
    cmd_for(srv)
        .args(["sync", "--db", bad.to_str().unwrap(), "sesion"])
        .assert()
        .code(2);
    assert!(!bad.exists());
}

#[test]
fn a_sync_killed_mid_way_recovers_on_the_next_run() {
    // 3,000 sessions answered after 100 ms a page: syncing them takes a while
    let srv =
        MockServer::start_background(MockOptions::new().sessions(3000).latency_ms(100)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.sqlite");
    let bin = assert_cmd::cargo::cargo_bin("brainstem");
    let mut child = std::process::Command::new(&bin)
        .env_clear()
        .env("HOME", home())
        .env("BRAINSTEM_URL", srv.url())
        .env("BRAINSTEM_API_TOKEN", srv.token())
        .args(["sync", "--db", db.to_str().unwrap(), "project", "session"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // wait until `project` has committed, then until the session transaction
    // holds the write lock (another connection cannot begin one) and more
    // session pages were asked for, and kill it (SIGKILL) while the rest are
    // in flight
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("project: fetched "), "{first}");
    let probe = Connection::open(&db).unwrap();
    probe.busy_timeout(Duration::ZERO).unwrap();
    let asked = srv.requests();
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no session transaction"
        );
        let locked = probe.execute_batch("BEGIN IMMEDIATE; ROLLBACK").is_err();
        if locked && srv.requests() >= asked + 5 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed before it finished: {status:?}");
    // nothing more was printed: the session sync had not committed
    assert!(lines.next().is_none());

    drop(probe);
    let conn = Connection::open(&db).unwrap();
    assert_consistent(&conn);
    let synced: Vec<String> = conn
        .prepare("SELECT model FROM sync_state ORDER BY model")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(synced, ["project"]);
    let session_rows: Option<u64> = conn
        .query_row("SELECT count(*) FROM session", [], |r| r.get(0))
        .ok();
    assert!(
        session_rows.is_none_or(|n| n == 0),
        "half-written sessions: {session_rows:?}"
    );
    drop(conn);

    // the next run completes it
    let out =
        stdout_of(cmd_for(&srv).args(["sync", "--db", db.to_str().unwrap(), "project", "session"]));
    let sessions = server_count(&srv, "session");
    assert!(
        out.contains(&format!(
            "session: fetched {sessions}, inserted {sessions}, updated 0, deleted 0, unchanged 0"
        )),
        "{out}"
    );
    assert!(
        out.contains("project: fetched ")
            && out.contains(", inserted 0, updated 0, deleted 0, unchanged ")
    );
    let conn = Connection::open(&db).unwrap();
    assert_consistent(&conn);
    let rows: u64 = conn
        .query_row(
            "SELECT rows FROM sync_state WHERE model = 'session'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, sessions);
}
