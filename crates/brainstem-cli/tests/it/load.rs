//! Loading: a page, one record, every record (in every dialect), filters and sort as the Python tool spells them.

use brainstem_mock::{MockOptions, MockServer};
use serde_json::Value;

use crate::{a_project_id, cmd, cmd_for, json_out};

#[test]
fn load_a_page_as_json_envelope() {
    let v = json_out(cmd().args(["load", "session", "--limit", "5"]));
    assert_eq!(v["sessions"].as_array().unwrap().len(), 5);
}

#[test]
fn filters_sort_and_limit_as_the_python_tool_spells_them() {
    let v = json_out(cmd().args([
        "load",
        "session",
        "--filters",
        "name.icontains=session_1",
        "--sort",
        "-name",
        "--limit",
        "10",
    ]));
    let names: Vec<&str> = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(!names.is_empty());
    assert!(
        names.iter().all(|n| n.to_lowercase().contains("session_1")),
        "{names:?}"
    );
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(names, sorted, "descending by name");
    // several filters AND, negation, `in` with commas
    let v = json_out(cmd().args([
        "load",
        "session",
        "--filters",
        "name.icontains=session",
        "-name.icontains=session_1",
        "--limit",
        "100",
    ]));
    assert!(
        v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !s["name"].as_str().unwrap().contains("session_1"))
    );
}

#[test]
fn all_returns_every_record_once() {
    let out = cmd()
        .args([
            "load", "session", "--all", "--limit", "37", "--format", "ndjson",
        ])
        .assert()
        .success();
    let output = out.get_output();
    let ids: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "no duplicates");
    let page = json_out(cmd().args(["load", "session", "--limit", "1"]));
    let total = page["count"].as_u64().expect("a page reports the total");
    assert!(total > 100, "enough sessions to need several pages");
    assert_eq!(ids.len() as u64, total, "every record exactly once");
    // stderr is not a terminal here: no progress bar
    assert!(
        output.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn one_record_by_id_with_include() {
    let pid = a_project_id();
    let v = json_out(cmd().args(["load", "project", "--id", &pid, "--include", "sessions"]));
    assert_eq!(v["project"]["id"], pid.as_str());
    let sessions = v["project"]["sessions"].as_array().unwrap();
    assert!(
        sessions.iter().all(Value::is_object),
        "sessions are embedded"
    );
}

/// `load --all` gives every record once in each dialect the real server
/// may speak (ids compared with the documented dialect's listing).
#[test]
fn load_all_in_every_dialect() {
    use brainstem_mock::Dialect;
    let own = MockServer::start_background(MockOptions::new()).expect("mock server starts");
    let ids_of = |out: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(out)
            .lines()
            .map(|l| {
                // raw values: a drifted record carries a number a Value cannot hold
                let rec: std::collections::HashMap<String, Box<serde_json::value::RawValue>> =
                    serde_json::from_str(l).unwrap();
                rec["id"].get().to_string()
            })
            .collect()
    };
    let load = |limit: &str| {
        cmd_for(&own)
            .args([
                "load", "session", "--all", "--limit", limit, "--format", "ndjson",
            ])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    let want = ids_of(&load("100"));
    assert!(want.len() > 100);
    for dialect in [
        Dialect::dynamic_rest(),
        Dialect::dynamic_rest_countless(),
        Dialect::drifted(),
    ] {
        own.set_dialect(dialect.clone());
        for limit in ["7", "13", "33", "100"] {
            assert_eq!(ids_of(&load(limit)), want, "{dialect:?} --limit {limit}");
        }
    }
}
