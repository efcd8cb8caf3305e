//! Every example response of the API docs (converted to JSON under
//! `tests/fixtures/models/`) deserializes into the typed record and
//! re-serializes to equal JSON.
//!
//! Documented lossy cases, which `same_json` treats as equal:
//! * a `null` value and an absent key, for nullable fields the server does
//!   not always send (the record holds `None` either way and omits it);
//! * an empty list and an absent key, for list fields the server does not
//!   always send (the record holds an empty `Vec` either way and omits it);
//! * numbers are compared by value (`3` and `3.0` are equal).

use std::path::{Path, PathBuf};

use brainstem::{Model, ModelVisitor, decode};
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models")
}

mod common;

/// JSON equality modulo the documented lossy cases.
fn same_json(a: &Value, b: &Value) -> bool {
    common::same_json(a, b, true)
}

/// Decode `value` as `T`, re-encode, compare; the error names file and path.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(
    what: &str,
    value: &Value,
) -> Result<(), String> {
    let bytes = serde_json::to_vec(value).unwrap();
    let typed: T = decode(&bytes).map_err(|e| format!("{what}: {e}"))?;
    let back = serde_json::to_value(&typed).unwrap();
    if same_json(value, &back) {
        Ok(())
    } else {
        Err(format!(
            "{what}: re-serialized JSON differs\n  fixture: {value}\n  typed:   {back}"
        ))
    }
}

struct CheckEnvelope<'a> {
    file: &'a str,
    body: &'a Value,
}

impl ModelVisitor for CheckEnvelope<'_> {
    type Output = Result<usize, String>;
    fn visit<M: Model>(self) -> Self::Output {
        let meta = M::META;
        let obj = self
            .body
            .as_object()
            .ok_or_else(|| format!("{}: not an object", self.file))?;
        let mut checked = 0;
        for (key, v) in obj {
            let what = format!("{} [{key}]", self.file);
            // `species` is both the one and the many key: the value's shape decides
            let list = v.is_array();
            if key == meta.one && !list {
                round_trip::<M>(&what, v)?;
                checked += 1;
            } else if key == meta.many && list {
                round_trip::<Vec<M>>(&what, v)?;
                checked += v.as_array().map_or(0, Vec::len);
            } else if meta.approval.as_ref().is_some_and(|a| a.one == key) && !list {
                round_trip::<M::Approval>(&what, v)?;
                checked += 1;
            } else if meta.approval.as_ref().is_some_and(|a| a.many == key) && list {
                round_trip::<Vec<M::Approval>>(&what, v)?;
                checked += v.as_array().map_or(0, Vec::len);
            } else {
                return Err(format!(
                    "{what}: key is not an envelope key of {} ({} / {})",
                    meta.name, meta.one, meta.many
                ));
            }
        }
        Ok(checked)
    }
}

#[test]
fn every_documented_example_round_trips() {
    let mut failures = Vec::new();
    let mut files = 0;
    let mut records = 0;
    let mut models_seen = std::collections::BTreeSet::new();
    let mut dirs: Vec<_> = std::fs::read_dir(fixtures_dir())
        .expect("tests/fixtures/models exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let model = dir.file_name().unwrap().to_string_lossy().to_string();
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let file = format!("{model}/{}", path.file_name().unwrap().to_string_lossy());
            let body: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
            let out = brainstem::models::with_model(
                &model,
                CheckEnvelope {
                    file: &file,
                    body: &body,
                },
            );
            files += 1;
            match out {
                None => failures.push(format!("{file}: no model named {model}")),
                Some(Err(e)) => failures.push(e),
                Some(Ok(n)) => {
                    records += n;
                    models_seen.insert(model.clone());
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {files} fixtures failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(files >= 150, "only {files} fixture files found");
    assert!(records >= 150, "only {records} records checked");
    assert_eq!(
        models_seen.len(),
        38,
        "fixtures should cover all 38 documented models"
    );
}

#[test]
fn lossy_comparison_is_not_trivially_true() {
    let a: Value = serde_json::json!({"a": 1, "b": [1, 2], "c": null});
    assert!(same_json(&a, &serde_json::json!({"a": 1.0, "b": [1, 2]})));
    assert!(!same_json(&a, &serde_json::json!({"a": 2, "b": [1, 2]})));
    assert!(!same_json(&a, &serde_json::json!({"a": 1, "b": [2, 1]})));
    assert!(!same_json(
        &a,
        &serde_json::json!({"a": 1, "b": [1, 2], "c": 0})
    ));
    assert!(!same_json(&a, &serde_json::json!({"b": [1, 2]})));
    assert!(same_json(
        &serde_json::json!({"t": []}),
        &serde_json::json!({})
    ));
    assert!(!same_json(
        &serde_json::json!({"t": [1]}),
        &serde_json::json!({})
    ));
}
