//! Schema drift from the command line: the one-line warning after a command
//! whose answers drifted, and `brainstem check-schema` (its report, its JSON
//! form and exit code 3 when it finds drift).

use brainstem_mock::{MockOptions, MockServer};
use serde_json::{Value, json};

use crate::{cmd, cmd_for};

/// A server of its own whose first subject has a field the schema does not
/// know and a `sex` outside its enum.
fn drifted_server() -> MockServer {
    let srv = MockServer::start_background(MockOptions::new().sessions(5)).unwrap();
    let store = srv.store();
    let id = store.records("subject")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let fields = json!({"x_new_field": 1, "sex": "X"});
    store
        .set_raw("subject", &id, fields.as_object().unwrap().clone())
        .unwrap();
    srv
}

fn stderr_lines(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_command_whose_answers_drifted_warns_in_one_line() {
    let srv = drifted_server();
    let out = cmd_for(&srv)
        .args(["load", "subject", "--all"])
        .assert()
        .success()
        .get_output()
        .clone();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // the output is unchanged: the record as the server sent it
    let subjects = v["subjects"].as_array().unwrap();
    assert!(
        subjects
            .iter()
            .any(|s| s["sex"] == "X" && s["x_new_field"] == 1)
    );
    let warnings: Vec<String> = stderr_lines(&out)
        .into_iter()
        .filter(|l| l.contains("schema drift"))
        .collect();
    assert_eq!(
        warnings,
        vec![
            "warning: schema drift: 1 unknown field, 1 unknown enum value in subject; see `brainstem check-schema`"
        ]
    );
}

#[test]
fn a_command_whose_answers_match_the_schema_does_not_warn() {
    let out = cmd()
        .args(["load", "session", "--limit", "3"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("drift"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_schema_exits_0_on_a_clean_server_and_3_on_drift() {
    let out = cmd()
        .arg("check-schema")
        .assert()
        .code(0)
        .get_output()
        .clone();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("no schema drift seen"), "{text}");
    assert!(text.contains("sampled "), "{text}");

    let srv = drifted_server();
    let out = cmd_for(&srv)
        .arg("check-schema")
        .assert()
        .code(3)
        .get_output()
        .clone();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("subject:\n"), "{text}");
    assert!(
        text.contains("  unknown field Subject.x_new_field: once"),
        "{text}"
    );
    assert!(
        text.contains("  unknown enum value SubjectSex \"X\": once"),
        "{text}"
    );
    // the report is the message: no warning line, no error line
    assert_eq!(stderr_lines(&out), Vec::<String>::new());

    let out = cmd_for(&srv)
        .args(["check-schema", "--format", "json"])
        .assert()
        .code(3)
        .get_output()
        .clone();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["drift"], true);
    assert_eq!(v["schema_version"], brainstem::SCHEMA_VERSION);
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{v}");
    assert!(entries.iter().any(|e| e["kind"] == "unknown_enum_value"
        && e["model"] == "subject"
        && e["name"] == "X"
        && e["count"] == 1));
    assert!(v["sampled"].as_array().unwrap().len() > 30);
}

#[test]
fn check_schema_refuses_record_formats_and_fails_when_nothing_answers() {
    cmd()
        .args(["check-schema", "--format", "csv"])
        .assert()
        .code(2);
    cmd()
        .env("BRAINSTEM_URL", "http://127.0.0.1:9/")
        .arg("check-schema")
        .assert()
        .code(1);
}
