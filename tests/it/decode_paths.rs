//! A record that fails to decode names the failing JSON path, read off the
//! error's position in one decode. These tests hold that path to the one a
//! path-tracking decode (`serde_path_to_error`, a dev-dependency only) finds,
//! over every documented record with each of its values, at every depth,
//! swapped for values of other kinds.

use brainstem::{Model, ModelVisitor};
use serde_json::Value;

use crate::common;

/// What a documented record of each model becomes when one value is
/// swapped; collects the cases where the two decoders disagree.
struct Compare<'a> {
    texts: &'a [String],
}

impl ModelVisitor for Compare<'_> {
    type Output = (usize, Vec<String>);
    fn visit<M: Model>(self) -> Self::Output {
        let mut failed = 0;
        let mut differ = Vec::new();
        for text in self.texts {
            let ours = brainstem::decode::<M>(text.as_bytes());
            let tracked: Result<M, _> =
                serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text));
            match (ours, tracked) {
                (Err(ours), Err(tracked)) => {
                    failed += 1;
                    let complete = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
                    // the tracking decode names serde_json's raw-value
                    // token as a step: it is not in the body
                    let want = tracked
                        .path()
                        .to_string()
                        .replace(".$serde_json::private::RawValue", "");
                    // in a key cut short, the tracking decode knows no path (`?`)
                    // in a text cut short inside a value kept raw (`details`),
                    // the tracking decode stops at that value; ours goes on
                    let deeper = !complete
                        && (ours.path.starts_with(&format!("{want}."))
                            || ours.path.starts_with(&format!("{want}[")));
                    if ours.path != want && !want.contains('?') && !deeper {
                        differ.push(format!(
                            "{}: ours `{}`, tracked `{want}` ({})\n  {text}",
                            M::META.name,
                            ours.path,
                            tracked.inner()
                        ));
                    }
                    // what was there: the text at the path, described
                    if complete && ours.found.is_none() {
                        differ.push(format!(
                            "{}: nothing found at `{}`\n  {text}",
                            M::META.name,
                            ours.path
                        ));
                    }
                }
                (Ok(_), Ok(_)) => {}
                (ours, tracked) => differ.push(format!(
                    "{}: ours {:?}, tracked {:?}\n  {text}",
                    M::META.name,
                    ours.err(),
                    tracked.err().map(|e| e.to_string())
                )),
            }
        }
        (failed, differ)
    }
}

/// Every value in `v` (the whole too), by its pointer.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                pointers(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// The record with the value at `pointer` replaced by `with`.
fn swapped(record: &Value, pointer: &str, with: &Value) -> Value {
    let mut r = record.clone();
    if let Some(slot) = r.pointer_mut(pointer) {
        *slot = with.clone();
    }
    r
}

#[test]
fn failing_paths_match_a_path_tracking_decode() {
    let swaps = [
        serde_json::json!({"zz": [1, {"y": null}]}),
        serde_json::json!([1, "two"]),
        serde_json::json!("not a valid value"),
        serde_json::json!(-12.5),
        serde_json::json!(true),
        serde_json::json!(null),
        serde_json::json!([]),
    ];
    let mut failed = 0;
    let mut differ = Vec::new();
    let mut models = 0;
    for meta in brainstem::MODELS {
        let Some(record) = common::documented_record(meta.name) else {
            continue;
        };
        models += 1;
        let mut at = Vec::new();
        pointers(&record, String::new(), &mut at);
        let mut texts = Vec::new();
        for p in &at {
            for s in &swaps {
                let r = swapped(&record, p, s);
                texts.push(serde_json::to_string(&r).unwrap());
                // the same, pretty-printed: lines and columns count too
                let pretty = serde_json::to_string_pretty(&r).unwrap();
                // and cut short (syntax errors)
                if s.is_null() {
                    for cut in [pretty.len() / 3, pretty.len() / 2, pretty.len() * 3 / 4] {
                        let cut = (0..=cut)
                            .rev()
                            .find(|c| pretty.is_char_boundary(*c))
                            .unwrap();
                        texts.push(pretty[..cut].to_string());
                    }
                }
                texts.push(pretty);
            }
        }
        let (f, d) = brainstem::models::with_model(meta.name, Compare { texts: &texts }).unwrap();
        failed += f;
        differ.extend(d);
    }
    assert!(models >= 30, "documented records of {models} models only");
    // the swaps must make plenty of records fail, or this proves nothing
    assert!(
        failed > 1000,
        "only {failed} swapped records failed to decode"
    );
    assert!(
        differ.is_empty(),
        "{} of {failed} failures differ:\n{}",
        differ.len(),
        differ
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn failing_paths_of_broken_and_odd_texts() {
    use brainstem::types::Project;
    let path = |t: &str| brainstem::decode::<Project>(t.as_bytes()).unwrap_err().path;
    // not JSON at all, or cut short: the value being read
    assert_eq!(path(""), ".");
    assert_eq!(
        path("{\"name\": \"x\", \"description\": [1, 2"),
        "description"
    );
    assert_eq!(path("{\"name\": tru}"), "name");
    // a key with an escape is named unescaped
    assert_eq!(path(r#"{"na\u006de": 5}"#), "name");
    // not an object at all
    assert_eq!(path("[1]"), ".");
    // nesting deeper than any decoder follows stops, without a panic
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(path(&deep), ".");
}
