//! Whatever JSON a server sends, no model's decoder panics: arbitrary JSON,
//! and documented records with fields replaced by arbitrary JSON, through the
//! record, list-envelope, detail-envelope and save decoders of every model.

use brainstem::{Model, ModelVisitor};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::common;

fn field_names() -> Vec<String> {
    let mut v: Vec<String> = brainstem::MODELS
        .iter()
        .flat_map(|m| m.fields.iter().map(|f| f.name.to_string()))
        .collect();
    v.extend(
        [
            "count",
            "next",
            "meta",
            "total_results",
            "status",
            "error",
            "token",
        ]
        .map(String::from),
    );
    v.sort();
    v.dedup();
    v
}

fn arb_json() -> impl Strategy<Value = Value> {
    let names = field_names();
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "[ -~]{0,16}".prop_map(Value::String),
        Just(json!("00000000-0000-4000-8000-000000000001")),
        Just(json!("2024-02-30T25:61:00Z")),
        Just(json!("2024-01-02T03:04:05Z")),
        Just(json!("2024-01-02")),
        Just(json!("\u{0}\u{ffff}")),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        let key = prop_oneof![
            3 => proptest::sample::select(names.clone()),
            1 => "[a-z_]{1,8}".prop_map(String::from),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// Decode `bytes` every way the client decodes model `M`; results are
/// ignored, panics fail the test.
struct DecodeAll<'a>(&'a [u8]);

impl ModelVisitor for DecodeAll<'_> {
    type Output = ();
    fn visit<M: Model>(self) {
        let _ = brainstem::decode::<M>(self.0);
        let _ = brainstem::client::decode_record::<M>(self.0);
        let _ = brainstem::client::decode_page::<M>(self.0);
        let _ = brainstem::client::decode_saved::<M>(self.0);
    }
}

struct Keys;

impl ModelVisitor for Keys {
    type Output = (&'static str, &'static str, Option<&'static str>);
    fn visit<M: Model>(self) -> Self::Output {
        (
            M::META.one,
            M::META.many,
            M::META.approval.as_ref().map(|a| a.one),
        )
    }
}

fn check(model: &str, body: &Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    brainstem::models::with_model(model, DecodeAll(&bytes)).expect("known model");
}

fn check_wrapped(model: &str, record: &Value) {
    let (one, many, approval) = brainstem::models::with_model(model, Keys).unwrap();
    check(model, record);
    check(model, &json!({ one: record }));
    check(
        model,
        &json!({ many: [record, record], "count": record, "meta": record, "next": record }),
    );
    if let Some(a) = approval {
        check(model, &json!({ a: record }));
    }
}

fn models() -> Vec<&'static str> {
    brainstem::MODELS.iter().map(|m| m.name).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(model in proptest::sample::select(models()), v in arb_json()) {
        check_wrapped(model, &v);
    }

    #[test]
    fn documented_records_with_arbitrary_fields_never_panic(
        model in proptest::sample::select(models()),
        picks in prop::collection::vec((any::<prop::sample::Index>(), arb_json(), any::<bool>()), 1..4),
    ) {
        let Some(Value::Object(mut rec)) = common::documented_record(model) else {
            return Ok(());
        };
        for (idx, v, remove) in picks {
            let meta = brainstem::meta::ModelMeta::find(model).unwrap();
            let field = meta.fields[idx.index(meta.fields.len())].name;
            if remove {
                rec.remove(field);
            } else {
                rec.insert(field.to_string(), v);
            }
        }
        check_wrapped(model, &Value::Object(rec));
    }
}

#[test]
fn documented_records_decode() {
    // The unmutated fixtures decode: the mutation test starts from valid data.
    let mut checked = 0;
    for model in models() {
        let Some(rec) = common::documented_record(model) else {
            continue;
        };
        let (one, _, _) = brainstem::models::with_model(model, Keys).unwrap();
        struct Strict<'a>(&'a [u8]);
        impl ModelVisitor for Strict<'_> {
            type Output = Result<(), String>;
            fn visit<M: Model>(self) -> Self::Output {
                brainstem::client::decode_record::<M>(self.0)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }
        let body = serde_json::to_vec(&json!({ one: rec })).unwrap();
        brainstem::models::with_model(model, Strict(&body))
            .unwrap()
            .unwrap_or_else(|e| panic!("{model}: {e}"));
        checked += 1;
    }
    assert!(checked >= 35, "fixtures found for {checked} models");
}
