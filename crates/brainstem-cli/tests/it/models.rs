//! What the schema says: `models`, `describe`, `schema`, and `completions`.

use predicates::prelude::*;

use crate::{cmd, json_out};

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
