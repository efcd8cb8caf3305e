//! The generator itself (`codegen/`, what build.rs runs), on the pinned spec
//! and on edited copies of it. (Including the module also runs its own unit
//! tests, `codegen::names::tests`.)

#[path = "../codegen/mod.rs"]
#[allow(dead_code)]
mod codegen;

fn pinned() -> serde_json::Value {
    let text = std::fs::read_to_string(codegen::spec_path(std::path::Path::new(env!(
        "CARGO_MANIFEST_DIR"
    ))))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn generate(spec: &serde_json::Value) -> Result<codegen::Files, String> {
    codegen::generate(&serde_json::to_string(spec).unwrap())
}

#[test]
fn the_pinned_spec_generates_what_build_rs_wrote() {
    let files = generate(&pinned()).unwrap();
    let types = files.iter().find(|(n, _)| *n == "types.rs").unwrap();
    let built =
        std::fs::read_to_string(std::path::Path::new(env!("OUT_DIR")).join("types.rs")).unwrap();
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
