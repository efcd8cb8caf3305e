//! Helpers shared by the fixture tests.

use serde_json::Value;

/// JSON equality for round trips. Numbers compare by value (`3` == `3.0`).
/// With `absent_is_empty`, a key missing on one side equals `null` or `[]` on
/// the other (the documented lossy cases of record types: a nullable or list
/// field the server does not always send).
pub fn same_json(a: &Value, b: &Value, absent_is_empty: bool) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| same_json(p, q, absent_is_empty))
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().all(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => same_json(p, q, absent_is_empty),
                (Some(Value::Null), None) | (None, Some(Value::Null)) => absent_is_empty,
                (Some(Value::Array(e)), None) | (None, Some(Value::Array(e))) => {
                    absent_is_empty && e.is_empty()
                }
                _ => false,
            })
        }
        _ => a == b,
    }
}
