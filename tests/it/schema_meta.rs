//! The typed schema metadata (`brainstem::schema`, `FieldMeta::schema`,
//! `ApprovalMeta::fields`) against the spec it was generated from. Tests may
//! read the spec; the SDK never does.

use brainstem::meta::{IdKind, ModelMeta};
use brainstem::schema::{self, Additional, Enumeration, Format, Schema, Type};
use serde_json::{Value, json};

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/brainstem.openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn components(spec: &Value) -> &serde_json::Map<String, Value> {
    spec["components"]["schemas"].as_object().unwrap()
}

/// Every keyword the typed node models, compared with the JSON node; every
/// other keyword of the JSON node must be prose or an `x-` annotation.
fn same(j: &Value, s: &Schema, at: &str) {
    let m = j
        .as_object()
        .unwrap_or_else(|| panic!("{at}: not an object"));
    for k in m.keys() {
        let modelled = [
            "$ref",
            "allOf",
            "oneOf",
            "anyOf",
            "type",
            "format",
            "nullable",
            "readOnly",
            "writeOnly",
            "enum",
            "minLength",
            "maxLength",
            "pattern",
            "minimum",
            "exclusiveMinimum",
            "maximum",
            "exclusiveMaximum",
            "items",
            "minItems",
            "maxItems",
            "uniqueItems",
            "properties",
            "required",
            "additionalProperties",
            "default",
        ];
        assert!(
            modelled.contains(&k.as_str())
                || k.starts_with("x-")
                || ["description", "title", "example"].contains(&k.as_str()),
            "{at}: keyword {k} is neither modelled nor prose"
        );
    }
    let flag = |k: &str| m.get(k).and_then(Value::as_bool).unwrap_or(false);
    let text = |k: &str| m.get(k).and_then(Value::as_str);
    let count = |k: &str| m.get(k).and_then(Value::as_u64);
    assert_eq!(
        s.reference.map(|c| c.name),
        text("$ref").map(|r| r.trim_start_matches("#/components/schemas/")),
        "{at}: $ref"
    );
    for (key, list) in [
        ("allOf", s.all_of),
        ("oneOf", s.one_of),
        ("anyOf", s.any_of),
    ] {
        let empty = vec![];
        let js = m.get(key).and_then(Value::as_array).unwrap_or(&empty);
        assert_eq!(js.len(), list.len(), "{at}: {key}");
        for (i, (x, y)) in js.iter().zip(list).enumerate() {
            same(x, y, &format!("{at}/{key}[{i}]"));
        }
    }
    let ty = s.ty.map(Type::as_str);
    assert_eq!(ty, text("type"), "{at}: type");
    let format = s.format.map(Format::as_str);
    assert_eq!(format, text("format"), "{at}: format");
    assert_eq!(s.nullable, flag("nullable"), "{at}: nullable");
    assert_eq!(s.read_only, flag("readOnly"), "{at}: readOnly");
    assert_eq!(s.write_only, flag("writeOnly"), "{at}: writeOnly");
    let values = s
        .enumeration
        .map(|e| Value::Array((0..e.len()).map(|i| e.get(i).unwrap()).collect()));
    assert_eq!(values.as_ref(), m.get("enum"), "{at}: enum");
    assert_eq!(s.min_length, count("minLength"), "{at}: minLength");
    assert_eq!(s.max_length, count("maxLength"), "{at}: maxLength");
    assert_eq!(s.pattern, text("pattern"), "{at}: pattern");
    for (bound, key, excl) in [
        (s.minimum, "minimum", "exclusiveMinimum"),
        (s.maximum, "maximum", "exclusiveMaximum"),
    ] {
        assert_eq!(
            bound.map(|b| b.value),
            m.get(key).and_then(Value::as_f64),
            "{at}: {key}"
        );
        if let Some(b) = bound {
            assert_eq!(b.exclusive, flag(excl), "{at}: {excl}");
        }
    }
    match (m.get("items"), s.items) {
        (Some(x), Some(y)) => same(x, y, &format!("{at}/items")),
        (None, None) => {}
        _ => panic!("{at}: items"),
    }
    assert_eq!(s.min_items, count("minItems"), "{at}: minItems");
    assert_eq!(s.max_items, count("maxItems"), "{at}: maxItems");
    assert_eq!(s.unique_items, flag("uniqueItems"), "{at}: uniqueItems");
    let empty = serde_json::Map::new();
    let props = m
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let names: Vec<&str> = s.properties.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        props.keys().map(String::as_str).collect::<Vec<_>>(),
        "{at}: properties (in order)"
    );
    for (p, (name, x)) in s.properties.iter().zip(props) {
        same(x, p.schema, &format!("{at}.{name}"));
    }
    let required: Vec<&str> = m
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(s.required, required.as_slice(), "{at}: required");
    match (m.get("additionalProperties"), s.additional_properties) {
        (None, None) => {}
        (Some(Value::Bool(a)), Some(Additional::Allowed(b))) => assert_eq!(*a, b, "{at}"),
        (Some(x), Some(Additional::Schema(y))) => same(x, y, &format!("{at}/additionalProperties")),
        other => panic!("{at}: additionalProperties {other:?}"),
    }
    assert_eq!(
        s.default_value().as_ref(),
        m.get("default"),
        "{at}: default"
    );
    assert_eq!(
        s.example_value().as_ref(),
        m.get("x-brainstem-example"),
        "{at}: x-brainstem-example"
    );
    assert_eq!(s.related, text("x-brainstem-related"), "{at}: related");
    assert_eq!(s.unique, flag("x-brainstem-unique"), "{at}: unique");
    assert_eq!(
        s.create_only,
        flag("x-brainstem-create-only"),
        "{at}: create-only"
    );
    assert_eq!(s.quantity, text("x-brainstem-quantity"), "{at}: quantity");
    assert_eq!(
        s.key_pattern,
        text("x-brainstem-key-pattern"),
        "{at}: key-pattern"
    );
    assert_eq!(
        s.details_group,
        text("x-brainstem-details-group"),
        "{at}: details-group"
    );
}

#[test]
fn every_component_is_there_in_name_order() {
    let spec = spec();
    let all = components(&spec);
    let names: Vec<&str> = schema::components().iter().map(|c| c.name).collect();
    let mut expected: Vec<&str> = all.keys().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(names, expected);
    for name in all.keys() {
        assert_eq!(schema::component(name).map(|c| c.name), Some(name.as_str()));
    }
    assert!(schema::component("NoSuchSchema").is_none());
    assert!(schema::component("").is_none());
}

#[test]
fn every_component_matches_the_spec_keyword_by_keyword() {
    let spec = spec();
    for (name, j) in components(&spec) {
        same(j, &schema::component(name).unwrap().schema, name);
    }
}

#[test]
fn a_few_schemas_by_hand() {
    let session = schema::component("Session").unwrap();
    let name = session.schema.property("name").unwrap();
    assert_eq!(name.ty, Some(Type::String));
    assert_eq!(name.max_length, Some(100));
    assert!(name.unique);
    let projects = session.schema.property("projects").unwrap();
    assert_eq!(projects.ty, Some(Type::Array));
    assert_eq!(projects.related, Some("stem/project"));
    assert_eq!(projects.items.unwrap().format, Some(Format::Uuid));

    // `allOf` around a `$ref` to put `nullable` next to it
    let extra = schema::component("Subject")
        .unwrap()
        .schema
        .property("extra_fields")
        .unwrap();
    assert!(extra.nullable);
    assert_eq!(extra.all_of.len(), 1);
    assert_eq!(extra.all_of[0].reference.unwrap().name, "ExtraFields");
    let resolved = extra.resolve();
    assert!(std::ptr::eq(
        resolved,
        &schema::component("ExtraFields").unwrap().schema
    ));
    assert_eq!(resolved.key_pattern, Some("^[A-Za-z][A-Za-z0-9_]*$"));
    let Some(Additional::Schema(value)) = resolved.additional_properties else {
        panic!("ExtraFields values have a schema");
    };
    assert_eq!(value.one_of.len(), 2);

    // integer enumerations stay integers
    let score = schema::component("SubjectLogHargreavesTestDetails")
        .unwrap()
        .schema
        .property("responseScore")
        .unwrap();
    assert_eq!(
        score.enumeration,
        Some(Enumeration::Integers(&[0, 1, 2, 3]))
    );
    assert_eq!(
        score.maximum.map(|b| (b.value, b.exclusive)),
        Some((3.0, false))
    );

    // defaults and examples are JSON
    let sr = schema::component("DataAcquisitionElectroencephalographyDetails")
        .unwrap()
        .schema
        .property("sr")
        .unwrap();
    assert_eq!(
        sr.default_value(),
        Some(json!({"unit": "Hz", "value": 20000}))
    );
    assert_eq!(sr.quantity, Some("Frequency"));
    let anesthesia = schema::details_schema("Procedure", "Anesthesia").unwrap();
    assert_eq!(anesthesia.name, "ProcedureAnesthesiaDetails");
    assert!(anesthesia.schema.example_value().unwrap().is_object());

    // identical nodes are stored once
    let id = |c: &str| schema::component(c).unwrap().schema.property("id").unwrap();
    assert!(std::ptr::eq(id("Session"), id("Project")));
}

#[test]
fn details_and_request_bodies_are_indexed() {
    let spec = spec();
    let mut n = 0;
    for (name, j) in components(&spec) {
        if let Some(s) = j.get("x-brainstem-schema").and_then(Value::as_str) {
            let (g, t) = s.split_once('/').unwrap();
            assert_eq!(
                schema::details_schema(g, t).map(|c| c.name),
                Some(name.as_str())
            );
            n += 1;
        }
    }
    assert_eq!(n, 179);
    assert!(schema::details_schema("Procedure", "NoSuchType").is_none());
    assert!(schema::details_schema("NoSuchGroup", "Anesthesia").is_none());
    let mut bodies = 0;
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let expected = op
                .pointer("/requestBody/content/application~1json/schema/$ref")
                .and_then(Value::as_str)
                .map(|r| r.trim_start_matches("#/components/schemas/"));
            assert_eq!(schema::request_body(id).map(|c| c.name), expected, "{id}");
            bodies += usize::from(expected.is_some());
        }
    }
    assert!(bodies > 70, "{bodies}");
    assert_eq!(
        schema::request_body("procedurelog_remove_entry").map(|c| c.name),
        Some("LogEntryKey")
    );
}

#[test]
fn field_metadata_points_at_the_property_schemas() {
    let spec = spec();
    let all = components(&spec);
    let check = |component: &str, fields: &[brainstem::meta::FieldMeta]| {
        let c = schema::component(component).unwrap();
        let j = &all[component];
        let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
        let props: Vec<&str> = c.schema.properties.iter().map(|p| p.name).collect();
        assert_eq!(names, props, "{component}");
        let patch: Vec<&str> = j
            .get("x-brainstem-patch-required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for f in fields {
            assert!(
                std::ptr::eq(f.schema, c.schema.property(f.name).unwrap()),
                "{component}.{}",
                f.name
            );
            let p = &j["properties"][f.name];
            let flag = |k: &str| p.get(k).and_then(Value::as_bool).unwrap_or(false);
            assert_eq!(
                f.unique,
                flag("x-brainstem-unique"),
                "{component}.{}",
                f.name
            );
            assert_eq!(
                f.create_only,
                flag("x-brainstem-create-only"),
                "{component}.{}",
                f.name
            );
            assert_eq!(f.patch_required, patch.contains(&f.name));
        }
    };
    let mut approvals = 0;
    for m in brainstem::MODELS.iter() {
        check(m.schema, m.fields);
        assert!(std::ptr::eq(
            m.component(),
            schema::component(m.schema).unwrap()
        ));
        if let Some(a) = &m.approval {
            approvals += 1;
            check(a.schema, a.fields);
            assert_eq!(a.id, IdKind::Uuid);
            assert_eq!(
                all[a.schema]["x-brainstem-approval-for"].as_str(),
                Some(m.path().as_str())
            );
        }
    }
    assert_eq!(approvals, 10);
    let species = ModelMeta::find("species")
        .unwrap()
        .approval
        .as_ref()
        .unwrap();
    let status = species.fields.iter().find(|f| f.name == "status").unwrap();
    assert_eq!(status.choices, ["Pending", "Accepted", "Rejected"]);
    assert!(status.read_only && !status.create_required);
    let reviewer = species
        .fields
        .iter()
        .find(|f| f.name == "reviewer")
        .unwrap();
    assert_eq!(reviewer.related, Some("users/user"));
    assert_eq!(reviewer.lookups, ["", "in", "isnull"]);
    let log_type = ModelMeta::find("procedurelog")
        .unwrap()
        .field("type")
        .unwrap();
    assert!(log_type.create_only);
    assert_eq!(log_type.schema.reference.unwrap().name, "ProcedureLogType");
}

#[test]
fn enumerations_compare_like_json() {
    let ints = Enumeration::Integers(&[0, 1, 2]);
    assert!(ints.contains(&json!(1)));
    assert!(ints.contains(&json!(1.0)));
    assert!(!ints.contains(&json!(1.5)));
    assert!(!ints.contains(&json!("1")));
    let strs = Enumeration::Strings(&["a", "b"]);
    assert!(strs.contains(&json!("b")));
    assert!(!strs.contains(&json!("c")));
    assert!(!strs.contains(&json!(0)));
    assert_eq!(strs.get(1), Some(json!("b")));
    assert_eq!(strs.get(2), None);
    assert_eq!(ints.strings(), &[] as &[&str]);
    let nums = Enumeration::Numbers(&[0.5, 2.0]);
    assert!(nums.contains(&json!(2)));
    assert!(!nums.contains(&json!(1)));
}

#[test]
fn debug_shows_set_keywords_and_names_references() {
    let ptr = schema::component("Project")
        .unwrap()
        .schema
        .property("extra_fields")
        .unwrap();
    let shown = format!("{ptr:?}");
    assert!(shown.contains("reference: \"ExtraFields\""), "{shown}");
    assert!(!shown.contains("key_pattern"), "{shown}");
}
