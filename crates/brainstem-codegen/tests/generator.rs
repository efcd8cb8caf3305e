//! The generator itself (what the SDK's build.rs runs), on the pinned spec
//! and on edited copies of it.

use brainstem_codegen as codegen;

/// The workspace root (this crate is `crates/brainstem-codegen`).
fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pinned() -> serde_json::Value {
    let text = std::fs::read_to_string(codegen::spec_path(&root())).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn generate(spec: &serde_json::Value) -> Result<codegen::Files, String> {
    codegen::generate(&serde_json::to_string(spec).unwrap())
}

#[test]
fn the_pinned_spec_generates_what_build_rs_wrote() {
    let files = generate(&pinned()).unwrap();
    let types = files.iter().find(|(n, _)| *n == "types.rs").unwrap();
    // the reviewed copy, which the SDK's generated-copy test keeps equal to
    // what its build.rs wrote
    let built = std::fs::read_to_string(root().join("generated").join("types.rs")).unwrap();
    assert_eq!(types.1, built);
}

#[test]
fn a_property_named_like_an_added_field_is_refused() {
    for (schema, name) in [("Session", "missing"), ("DownloadLink", "unknown")] {
        let mut spec = pinned();
        spec["components"]["schemas"][schema]["properties"][name] =
            serde_json::json!({"type": "string"});
        let err = generate(&spec).unwrap_err();
        assert!(
            err.contains(schema) && err.contains(&format!("`{name}`")),
            "{schema}.{name}: {err}"
        );
    }
}

#[test]
fn the_pinned_spec_generates_the_reviewed_schema_data() {
    let files = generate(&pinned()).unwrap();
    let (_, schema) = files.iter().find(|(n, _)| *n == "schema.rs").unwrap();
    let built = std::fs::read_to_string(root().join("generated").join("schema.rs")).unwrap();
    assert_eq!(schema, &built);
    // no copy of the spec is written for run time
    assert!(files.iter().all(|(n, _)| n.ends_with(".rs")));
}

#[test]
fn a_keyword_the_runtime_does_not_model_is_refused() {
    let mut spec = pinned();
    spec["components"]["schemas"]["Session"]["properties"]["name"]["multipleOf"] =
        serde_json::json!(2);
    let err = generate(&spec).unwrap_err();
    assert!(
        err.contains("Session.name") && err.contains("multipleOf"),
        "{err}"
    );
    // prose and `x-` annotations are not refused
    let mut spec = pinned();
    spec["components"]["schemas"]["Session"]["properties"]["name"]["x-brainstem-hint"] =
        serde_json::json!("anything");
    assert!(generate(&spec).is_ok());
}

#[test]
fn a_reference_to_no_component_is_refused() {
    let mut spec = pinned();
    spec["components"]["schemas"]["DownloadLink"]["properties"]["mirror"] =
        serde_json::json!({"$ref": "#/components/schemas/NoSuchSchema"});
    let err = generate(&spec).unwrap_err();
    assert!(err.contains("NoSuchSchema"), "{err}");
}

#[test]
fn an_enum_mixing_strings_and_numbers_is_refused() {
    let mut spec = pinned();
    spec["components"]["schemas"]["Session"]["properties"]["description"]["enum"] =
        serde_json::json!(["a", 1]);
    let err = generate(&spec).unwrap_err();
    assert!(
        err.contains("Session.description") && err.contains("enum"),
        "{err}"
    );
}

#[test]
fn a_pattern_the_sdk_cannot_check_is_refused() {
    // look-ahead and a back-reference: ECMA 262 has them, regex-lite does not
    for (schema, path, key, pattern) in [
        (
            "DownloadLink",
            ["properties", "url"],
            "pattern",
            "^(?=https?://)",
        ),
        (
            "ExtraFields",
            ["", ""],
            "x-brainstem-key-pattern",
            r"^([a-z])\1$",
        ),
    ] {
        let mut spec = pinned();
        let mut node = &mut spec["components"]["schemas"][schema];
        for p in path.into_iter().filter(|p| !p.is_empty()) {
            node = &mut node[p];
        }
        assert!(node.get(key).is_some(), "{schema} has a {key}");
        node[key] = serde_json::json!(pattern);
        let err = generate(&spec).unwrap_err();
        assert!(
            err.contains(schema) && err.contains(key) && err.contains("regex-lite"),
            "{schema}: {err}"
        );
    }
    // the pinned spec's own patterns all compile (or generation would fail)
    assert!(generate(&pinned()).is_ok());
}
