//! Saving and deleting: create, patch (`--data` inline, from a file, from standard input), delete, approval-gated models, and a write applied but answered undecodably.

use std::io::Write;

use brainstem_mock::{MockOptions, MockServer};
use predicates::prelude::*;
use serde_json::Value;

use crate::{a_project_id, cmd, cmd_for, json_out};

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
fn approval_gated_save_prints_the_pending_approval() {
    let v = json_out(cmd().args(["save", "species", "--data", r#"{"name":"CLI species"}"#]));
    assert_eq!(v["species_approval"]["name"], "CLI species");
    assert_eq!(v["species_approval"]["status"], "Pending");
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
