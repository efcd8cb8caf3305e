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
    assert_eq!(v["$ref"], "#/components/schemas/Session", "{v}");
    let schemas = &v["components"]["schemas"];
    assert!(
        schemas["Session"]["properties"]["projects"].is_object(),
        "{v}"
    );
    // what the record refers to comes along, so the document stands alone
    assert!(schemas.as_object().unwrap().len() > 1, "{v}");
    for (name, s) in schemas.as_object().unwrap() {
        let text = s.to_string();
        for r in text.split("#/components/schemas/").skip(1) {
            let target = r.split('"').next().unwrap();
            assert!(
                schemas.get(target).is_some(),
                "{name} refers to {target}, not in the document"
            );
        }
    }
    cmd()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("brainstem"));
    cmd().args(["describe", "nope"]).assert().code(2);
}
