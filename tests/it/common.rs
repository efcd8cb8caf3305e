//! Helpers shared by the fixture and round-trip tests.

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::value::RawValue;

/// A JSON value with numbers kept as their text: two documents are equal
/// when they have the same objects (key order aside), lists, strings,
/// literals, and numbers written the same way (`3` is not `3.0`, `12.50` is
/// not `12.5`).
#[derive(Debug, PartialEq)]
pub enum Tree {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    List(Vec<Tree>),
    Object(BTreeMap<String, Tree>),
}

/// Read JSON text into a [`Tree`] (through serde_json's `RawValue`, so
/// numbers of any size keep their text).
pub fn tree(text: &str) -> Result<Tree, String> {
    let raw: &RawValue = serde_json::from_str(text).map_err(|e| format!("{e}: {text}"))?;
    let t = raw.get();
    Ok(match t.as_bytes()[0] {
        b'n' => Tree::Null,
        b't' => Tree::Bool(true),
        b'f' => Tree::Bool(false),
        b'"' => Tree::String(serde_json::from_str(t).map_err(|e| e.to_string())?),
        b'[' => {
            let items: Vec<&RawValue> = serde_json::from_str(t).map_err(|e| e.to_string())?;
            Tree::List(
                items
                    .iter()
                    .map(|r| tree(r.get()))
                    .collect::<Result<_, _>>()?,
            )
        }
        b'{' => {
            let entries: Vec<(String, &RawValue)> = object_entries(t)?;
            let mut m = BTreeMap::new();
            for (k, v) in entries {
                if m.insert(k.clone(), tree(v.get())?).is_some() {
                    return Err(format!("key {k:?} twice"));
                }
            }
            Tree::Object(m)
        }
        _ => Tree::Number(t.to_string()),
    })
}

fn object_entries(text: &str) -> Result<Vec<(String, &RawValue)>, String> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<(String, &'de RawValue)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut m: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(e) = m.next_entry()? {
                out.push(e);
            }
            Ok(out)
        }
    }
    use serde::Deserializer;
    serde_json::Deserializer::from_str(text)
        .deserialize_map(V)
        .map_err(|e| e.to_string())
}

/// Where two JSON texts differ (numbers compared by their text), or `None`.
pub fn difference(a: &str, b: &str) -> Option<String> {
    let (ta, tb) = match (tree(a), tree(b)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => return Some(format!("not JSON: {e}")),
    };
    diff(&ta, &tb, "")
}

fn diff(a: &Tree, b: &Tree, path: &str) -> Option<String> {
    match (a, b) {
        (Tree::List(x), Tree::List(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: {} items vs {}", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| diff(p, q, &format!("{path}[{i}]")))
        }
        (Tree::Object(x), Tree::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let at = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => {
                        if let Some(d) = diff(p, q, &at) {
                            return Some(d);
                        }
                    }
                    (Some(_), None) => return Some(format!("{at}: only in the first")),
                    (None, _) => return Some(format!("{at}: only in the second")),
                }
            }
            None
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a:?} vs {b:?}")),
    }
}

/// Panics with the first difference.
pub fn assert_same_json(what: &str, a: &str, b: &str) {
    if let Some(d) = difference(a, b) {
        panic!("{what}: re-encoded JSON differs at {d}\n  input:   {a}\n  encoded: {b}");
    }
}

/// The record of model `model`'s documented detail response
/// (`tests/fixtures/models/<model>/detail.json`), if the docs have one.
pub fn documented_record(model: &str) -> Option<serde_json::Value> {
    let path = format!(
        "{}/tests/fixtures/models/{model}/detail.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v.as_object()?.values().next().cloned()
}
