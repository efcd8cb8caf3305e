//! The `brainstem` command against the stand-in server: every command and
//! flag, the refusals (and that they send nothing), each output format, and
//! exit codes 0 / 1 / 2.

use std::io::Write;
use std::sync::OnceLock;

use assert_cmd::Command;
use brainstem_mock::{MockOptions, MockServer};
use predicates::prelude::*;
use serde_json::Value;

fn server() -> &'static MockServer {
    static SRV: OnceLock<MockServer> = OnceLock::new();
    SRV.get_or_init(|| {
        MockServer::start_background(MockOptions::new()).expect("mock server starts")
    })
}

/// The command with the server's URL and token in its environment, and a
/// private HOME so no real token cache is touched.
fn cmd() -> Command {
    cmd_for(server())
}

/// The command against a given server.
fn cmd_for(srv: &MockServer) -> Command {
    let mut c = Command::cargo_bin("brainstem").expect("the cli feature builds the binary");
    c.env_clear()
        .env("HOME", home())
        .env("BRAINSTEM_URL", srv.url())
        .env("BRAINSTEM_API_TOKEN", srv.token());
    c
}

fn home() -> &'static std::path::Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn json_out(c: &mut Command) -> Value {
    let out = c.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out)
        )
    })
}

fn a_project_id() -> String {
    let v = json_out(cmd().args(["load", "project", "--limit", "1"]));
    v["projects"][0]["id"].as_str().unwrap().to_string()
}

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

#[test]
fn public_portal_and_table_and_csv() {
    cmd()
        .args(["load", "project", "--portal", "public", "--format", "table"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("id").and(predicate::str::contains("name")));
    let out = cmd()
        .args(["load", "project", "--portal", "public", "--format", "csv"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("id,name"));
    assert!(lines.next().is_some(), "at least one public project");
}

#[test]
fn save_create_then_patch_then_delete() {
    let pid = a_project_id();
    let v = json_out(cmd().args([
        "save",
        "session",
        "--data",
        &format!(r#"{{"name":"cli-created","projects":["{pid}"]}}"#),
    ]));
    let id = v["session"]["id"].as_str().unwrap().to_string();
    assert_eq!(v["session"]["name"], "cli-created");

    let v = json_out(cmd().args([
        "save",
        "session",
        "--id",
        &id,
        "--data",
        r#"{"description":"patched"}"#,
    ]));
    assert_eq!(v["session"]["description"], "patched");
    assert_eq!(v["session"]["name"], "cli-created");

    // --data from a file and from standard input
    let mut f = tempfile::NamedTempFile::new().unwrap();
    write!(f, r#"{{"description":"from file"}}"#).unwrap();
    let v = json_out(cmd().args([
        "save",
        "session",
        "--id",
        &id,
        "--data",
        &format!("@{}", f.path().display()),
    ]));
    assert_eq!(v["session"]["description"], "from file");
    let v = json_out(
        cmd()
            .args(["save", "session", "--id", &id, "--data", "-"])
            .write_stdin(r#"{"description":"from stdin"}"#),
    );
    assert_eq!(v["session"]["description"], "from stdin");

    cmd()
        .args(["delete", "session", "--id", &id])
        .assert()
        .success()
        .stdout(predicate::str::contains("Deleted"));
    cmd()
        .args(["load", "session", "--id", &id])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("404"));
}

#[test]
fn wrong_types_are_refused_before_sending() {
    // a server of its own: other tests send requests to the shared one meanwhile
    let own = MockServer::start_background(MockOptions::new()).expect("mock server starts");
    let cmd = || cmd_for(&own);
    let before = own.requests();
    cmd()
        .args([
            "save",
            "session",
            "--data",
            r#"{"name":"x","projects":"abc"}"#,
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("projects").and(predicate::str::contains("nothing was sent")),
        );
    cmd()
        .args(["save", "session", "--data", "{not json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not valid JSON"));
    cmd()
        .args([
            "save",
            "session",
            "--data",
            r#"{"name":"x","projects":[],"nmae":"typo"}"#,
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nmae"));
    cmd()
        .args([
            "save",
            "session",
            "--data",
            &format!(
                r#"{{"name":"{}","projects":["{}"]}}"#,
                "x".repeat(101),
                uuid::Uuid::nil()
            ),
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("name"));
    cmd()
        .args(["load", "session", "--filters", "bogus=1"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("valid filters")
                .and(predicate::str::contains("name.icontains")),
        );
    cmd()
        .args(["load", "session", "--filters", "name.gte=a"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("valid lookups"));
    cmd()
        .args(["load", "session", "--filters", "date_time.gte=yesterday"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("date-time"));
    cmd()
        .args(["load", "session", "--sort", "projects"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sortable fields"));
    cmd()
        .args(["load", "session", "--include", "bogus"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("includable"));
    cmd()
        .args(["load", "sesion"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown model").and(predicate::str::contains("session")));
    cmd()
        .args(["load", "session", "--id", "not-a-uuid"])
        .assert()
        .code(2);
    assert_eq!(
        own.requests(),
        before,
        "no refused command reached the server"
    );
}

#[test]
fn the_api_refusing_exits_1() {
    cmd()
        .args(["--token", "wrong", "load", "session", "--limit", "1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("401").and(predicate::str::contains("log in")));
    let pid = a_project_id();
    cmd()
        .env("BRAINSTEM_API_TOKEN", server().readonly_token())
        .args([
            "save",
            "session",
            "--data",
            &format!(r#"{{"name":"ro","projects":["{pid}"]}}"#),
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("403"));
    // the token never appears in output
    let out = cmd()
        .args(["--token", "secret-token-value", "load", "session"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("secret-token-value"));
}

#[test]
fn approval_gated_save_prints_the_pending_approval() {
    let v = json_out(cmd().args(["save", "species", "--data", r#"{"name":"CLI species"}"#]));
    assert_eq!(v["species_approval"]["name"], "CLI species");
    assert_eq!(v["species_approval"]["status"], "Pending");
}

#[test]
fn models_describe_schema_completions() {
    let v = json_out(cmd().args(["models"]));
    assert!(v["models"].as_array().unwrap().len() >= 38);
    let v = json_out(cmd().args(["describe", "session"]));
    assert_eq!(v["envelope"]["many"], "sessions");
    assert!(
        v["filters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "name.icontains")
    );
    assert!(
        v["include"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "projects")
    );
    let v = json_out(cmd().args(["schema", "session"]));
    assert!(v["properties"]["projects"].is_object(), "{v}");
    cmd()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("brainstem"));
    cmd().args(["describe", "nope"]).assert().code(2);
}

#[test]
fn login_and_logout_with_the_device_flow() {
    let srv = MockServer::start_background(
        MockOptions::new()
            .sessions(5)
            .auto_approve(true)
            .device_interval(1),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut c = Command::cargo_bin("brainstem").unwrap();
        c.env_clear()
            .env("HOME", home.path())
            .env("BRAINSTEM_URL", srv.url())
            .args(args);
        c
    };
    run(&["login", "--headless"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Logged in"));
    // the cached token now works without any token in the environment
    run(&["load", "session", "--limit", "1"]).assert().success();
    run(&["logout"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Logged out"));
    run(&["load", "session", "--limit", "1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("login"));
}

#[test]
fn mock_serves_the_stand_in_server_until_stopped() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("brainstem"))
        .args(["mock", "--port", "0"])
        .env_clear()
        .env("HOME", home())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut vars = std::collections::HashMap::new();
    for _ in 0..3 {
        let line = lines.next().unwrap().unwrap();
        let (k, v) = line.split_once('=').unwrap();
        vars.insert(k.to_string(), v.to_string());
    }
    let url = &vars["BRAINSTEM_URL"];
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let mut c = Command::cargo_bin("brainstem").unwrap();
    c.env_clear()
        .env("HOME", home())
        .env("BRAINSTEM_URL", url)
        .env("BRAINSTEM_TOKEN", &vars["BRAINSTEM_TOKEN"]);
    let v = json_out(c.args(["load", "session", "--limit", "2"]));
    assert_eq!(v["sessions"].as_array().unwrap().len(), 2);
    let mut ro = Command::cargo_bin("brainstem").unwrap();
    ro.env_clear()
        .env("HOME", home())
        .env("BRAINSTEM_URL", url)
        .env("BRAINSTEM_TOKEN", &vars["BRAINSTEM_READONLY_TOKEN"])
        .args(["delete", "session", "--id", &uuid::Uuid::nil().to_string()])
        .assert()
        .code(1);
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn mock_answers_in_the_dialect_its_flags_ask_for() {
    use std::io::{BufRead, Read};
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("brainstem"))
        .args([
            "mock",
            "--port",
            "0",
            "--dialect",
            "dynamic-rest",
            "--page-size",
            "3",
            "--exclude-count",
            "--no-defer",
            "--extra-field-every",
            "1",
        ])
        .env_clear()
        .env("HOME", home())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut vars = std::collections::HashMap::new();
    for _ in 0..3 {
        let line = lines.next().unwrap().unwrap();
        let (k, v) = line.split_once('=').unwrap();
        vars.insert(k.to_string(), v.to_string());
    }
    let addr = vars["BRAINSTEM_URL"]
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    // Plain HTTP/1.1: the body holds a number no JSON library reads into an f64.
    let mut conn = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "GET /api/private/stem/session/?page=2 HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        vars["BRAINSTEM_TOKEN"]
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        body.ends_with(r#""meta":{"page":2,"per_page":3,"more_pages":true}}"#),
        "{body}"
    );
    assert_eq!(body.matches(r#""big":1e400"#).count(), 3, "{body}");
    assert!(body.contains(r#""description":"#), "--no-defer: {body}");
    assert!(!body.contains(r#""count":"#), "{body}");
}

#[test]
fn mock_refuses_fields_that_do_not_exist() {
    Command::cargo_bin("brainstem")
        .unwrap()
        .env_clear()
        .env("HOME", home())
        .args(["mock", "--port", "0", "--defer", "session.nope"])
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("session.nope"));
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

/// A write the server applied but answered with a body that does not
/// decode: the body is printed, the exit code is 1 and the message says the
/// change was applied.
#[test]
fn an_applied_write_with_an_undecodable_answer_says_so() {
    use brainstem_mock::Dialect;
    let own = MockServer::start_background(MockOptions::new()).expect("mock server starts");
    let project = json_out(cmd_for(&own).args(["load", "project", "--limit", "1"]))["projects"][0]
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    own.set_dialect(Dialect::docs().undecodable_writes(true));
    let before = own.store().count("session");
    let out = cmd_for(&own)
        .args([
            "save",
            "session",
            "--data",
            &format!(r#"{{"name":"stored anyway","projects":["{project}"]}}"#),
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("applied").and(predicate::str::contains("NOT retry")));
    assert_eq!(own.store().count("session"), before + 1, "stored once");
    let printed: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let id = printed["session"]["id"].as_str().unwrap();
    assert!(
        own.store().get("session", id).is_some(),
        "the printed body names the record"
    );
}
