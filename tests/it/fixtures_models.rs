//! Every example response of the API docs (converted to JSON under
//! `tests/fixtures/models/`) deserializes into the typed record and
//! re-serializes to the same JSON: same keys (nothing dropped, nothing
//! added), numbers written the same way (`3` stays `3`, `3.0` stays `3.0`),
//! and encoding twice gives the same bytes.

use std::path::{Path, PathBuf};

use brainstem::{Model, ModelVisitor, decode};
use serde_json::value::RawValue;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models")
}

use crate::common;

/// Decode `text` as `T`, re-encode, compare exactly; the error names file and path.
fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(
    what: &str,
    text: &str,
) -> Result<(), String> {
    let typed: T = decode(text.as_bytes()).map_err(|e| format!("{what}: {e}"))?;
    let back = serde_json::to_string(&typed).unwrap();
    if serde_json::to_string(&typed).unwrap() != back {
        return Err(format!("{what}: two encodings differ"));
    }
    match common::difference(text, &back) {
        None => Ok(()),
        Some(d) => Err(format!(
            "{what}: re-serialized JSON differs at {d}\n  fixture: {text}\n  typed:   {back}"
        )),
    }
}

struct CheckEnvelope<'a> {
    file: &'a str,
    body: &'a str,
}

impl ModelVisitor for CheckEnvelope<'_> {
    type Output = Result<usize, String>;
    fn visit<M: Model>(self) -> Self::Output {
        let meta = M::META;
        let obj: std::collections::BTreeMap<String, &RawValue> = serde_json::from_str(self.body)
            .map_err(|e| format!("{}: not an object ({e})", self.file))?;
        let mut checked = 0;
        for (key, v) in obj {
            let what = format!("{} [{key}]", self.file);
            let text = v.get();
            // `species` is both the one and the many key: the value's shape decides
            let list = text.starts_with('[');
            let count = || {
                serde_json::from_str::<Vec<&RawValue>>(text)
                    .map(|v| v.len())
                    .unwrap_or(0)
            };
            if key == meta.one && !list {
                round_trip::<M>(&what, text)?;
                checked += 1;
            } else if key == meta.many && list {
                round_trip::<Vec<M>>(&what, text)?;
                checked += count();
            } else if meta.approval.as_ref().is_some_and(|a| a.one == key) && !list {
                round_trip::<M::Approval>(&what, text)?;
                checked += 1;
            } else if meta.approval.as_ref().is_some_and(|a| a.many == key) && list {
                round_trip::<Vec<M::Approval>>(&what, text)?;
                checked += count();
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
            let body = std::fs::read_to_string(&path).unwrap();
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
fn the_comparison_is_exact() {
    let a = r#"{"a": 1, "b": [1, 2.50], "c": null}"#;
    assert_eq!(
        common::difference(a, r#"{"c":null,"b":[1,2.50],"a":1}"#),
        None
    );
    for other in [
        r#"{"a": 1.0, "b": [1, 2.50], "c": null}"#,
        r#"{"a": 1, "b": [1, 2.5], "c": null}"#,
        r#"{"a": 1, "b": [2.50, 1], "c": null}"#,
        r#"{"a": 1, "b": [1, 2.50]}"#,
        r#"{"a": 1, "b": [1, 2.50], "c": []}"#,
        r#"{"a": 1, "b": [1, 2.50], "c": null, "d": 0}"#,
    ] {
        assert!(common::difference(a, other).is_some(), "{other}");
    }
    let huge = format!("[1{}]", "0".repeat(5000));
    assert_eq!(common::difference(&huge, &huge), None);
    assert!(common::difference(&huge, &format!("[1{}]", "0".repeat(4999))).is_some());
}
