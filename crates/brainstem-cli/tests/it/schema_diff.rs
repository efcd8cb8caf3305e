//! `brainstem schema diff OLD NEW`: the pinned spec against edited copies;
//! exit 0 (nothing breaks), 1 (something does), 2 (a file is no spec).

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{Value, json};

use crate::home;

fn pinned_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/brainstem.openapi.json")
}

fn pinned() -> Value {
    serde_json::from_str(&std::fs::read_to_string(pinned_path()).unwrap()).unwrap()
}

/// The command with nothing from the environment (no server is needed).
fn diff_cmd() -> Command {
    let mut c = Command::cargo_bin("brainstem").unwrap();
    c.env_clear().env("HOME", home());
    c
}

#[test]
fn schema_diff_exit_codes_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let old = pinned_path();

    // identical: no changes, exit 0
    diff_cmd()
        .args(["schema", "diff"])
        .arg(&old)
        .arg(&old)
        .assert()
        .code(0)
        .stdout("no changes to the generated API\n");

    // a removed field and a new schema version: exit 1, one line per change
    let mut spec = pinned();
    spec["components"]["schemas"]["Subject"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("birth_date");
    spec["info"]["version"] = json!("1.4.0");
    let breaking = dir.path().join("breaking.json");
    std::fs::write(&breaking, spec.to_string()).unwrap();
    diff_cmd()
        .args(["schema", "diff"])
        .arg(&old)
        .arg(&breaking)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "breaking: field `Subject.birth_date` removed (was `Option<NaiveDate>`)\n",
        ))
        .stdout(predicate::str::contains(
            "compatible: version `SCHEMA_VERSION` changed `1.3.0` → `1.4.0`\n",
        ))
        .stderr(predicate::str::contains("changes are breaking"));

    // the same as Markdown release notes
    let out = diff_cmd()
        .args(["--format", "markdown", "schema", "diff"])
        .arg(&old)
        .arg(&breaking)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let md = String::from_utf8(out).unwrap();
    assert!(
        md.starts_with("## API changes (schema 1.3.0 → 1.4.0)\n"),
        "{md}"
    );
    assert!(
        md.contains(
            "### Breaking\n\n- field `Subject.birth_date` removed (was `Option<NaiveDate>`)\n"
        ),
        "{md}"
    );
    assert!(
        md.contains("### Compatible\n\n- version `SCHEMA_VERSION` changed"),
        "{md}"
    );

    // only compatible changes: exit 0
    let mut spec = pinned();
    spec["components"]["schemas"]["LengthUnit"]["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("km"));
    spec["components"]["schemas"]["LengthUnit"]["x-enum-varnames"]
        .as_array_mut()
        .unwrap()
        .push(json!("Kilometre"));
    let compatible = dir.path().join("compatible.json");
    std::fs::write(&compatible, spec.to_string()).unwrap();
    diff_cmd()
        .args(["schema", "diff", "--format", "markdown"])
        .arg(&old)
        .arg(&compatible)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "- variant `LengthUnit::Kilometre` added to open enum (`km`)\n",
        ));

    // bad input: exit 2, naming the file
    let missing = dir.path().join("missing.json");
    diff_cmd()
        .args(["schema", "diff"])
        .arg(&old)
        .arg(&missing)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("cannot read").and(predicate::str::contains("missing.json")),
        );
    let not_json = dir.path().join("not.json");
    std::fs::write(&not_json, "openapi: 3.0.3").unwrap();
    diff_cmd()
        .args(["schema", "diff"])
        .arg(&not_json)
        .arg(&old)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not.json is not JSON"));
    let no_spec = dir.path().join("nospec.json");
    std::fs::write(&no_spec, "{}").unwrap();
    diff_cmd()
        .args(["schema", "diff"])
        .arg(&old)
        .arg(&no_spec)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nospec.json is not a spec"));
    // a record format does not apply, and the diff formats apply nowhere else
    diff_cmd()
        .args(["--format", "csv", "schema", "diff"])
        .arg(&old)
        .arg(&old)
        .assert()
        .code(2);
    diff_cmd()
        .args(["--format", "markdown", "models"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`schema diff` only"));
    // `schema MODEL` is unchanged
    diff_cmd().args(["schema", "session"]).assert().success();
}
