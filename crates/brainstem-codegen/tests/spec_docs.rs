//! Documentation carried by the pinned spec: every property of every
//! component schema says what it holds, and every model links to its page in
//! the public BrainSTEM docs (the generated rustdoc shows both).

use serde_json::Value;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pinned() -> Value {
    let text = std::fs::read_to_string(brainstem_codegen::spec_path(&root())).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Every property (at any depth: nested objects, array items, map values,
/// `allOf`/`oneOf`/`anyOf` branches) under `node` that has no non-empty
/// `description`, as `Schema.path.to.property`.
fn undescribed(node: &Value, at: &str, out: &mut Vec<String>) {
    let Some(m) = node.as_object() else {
        return;
    };
    if let Some(props) = m.get("properties").and_then(Value::as_object) {
        for (name, p) in props {
            let here = format!("{at}.{name}");
            let text = p.get("description").and_then(Value::as_str).unwrap_or("");
            if text.trim().is_empty() {
                out.push(here.clone());
            }
            undescribed(p, &here, out);
        }
    }
    if let Some(items) = m.get("items") {
        undescribed(items, &format!("{at}[]"), out);
    }
    if let Some(values) = m.get("additionalProperties") {
        undescribed(values, &format!("{at}{{}}"), out);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for branch in m.get(key).and_then(Value::as_array).into_iter().flatten() {
            undescribed(branch, at, out);
        }
    }
}

fn missing_descriptions(spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        undescribed(schema, name, &mut out);
    }
    out
}

#[test]
fn every_property_of_every_component_schema_has_a_description() {
    let missing = missing_descriptions(&pinned());
    assert!(
        missing.is_empty(),
        "{} properties have no description:\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn the_description_check_names_what_it_misses() {
    let mut spec = pinned();
    let schemas = &mut spec["components"]["schemas"];
    schemas["Project"]["properties"]["name"]
        .as_object_mut()
        .unwrap()
        .remove("description");
    schemas["ProcedureAnesthesiaDetails"]["properties"]["duration"]["properties"]["unit"]["description"] =
        Value::String("  ".into());
    schemas["ManipulationOptogeneticStimulationDetails"]["items"]["properties"]["power"]
        .as_object_mut()
        .unwrap()
        .remove("description");
    let mut missing = missing_descriptions(&spec);
    missing.sort();
    assert_eq!(
        missing,
        [
            "ManipulationOptogeneticStimulationDetails[].power",
            "ProcedureAnesthesiaDetails.duration.unit",
            "Project.name",
        ]
    );
}

#[test]
fn every_model_links_to_its_docs_page_and_the_types_show_it() {
    let spec = pinned();
    let types = std::fs::read_to_string(root().join("generated").join("types.rs")).unwrap();
    let mut linked = 0;
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        let model = schema.get("x-brainstem-model").and_then(Value::as_str);
        let url = schema.get("x-brainstem-docs-url").and_then(Value::as_str);
        let typed = schema.get("x-brainstem-schema").is_some()
            || schema.get("x-brainstem-approval-for").is_some();
        match (model, url) {
            // documented models (the session/data-storage link table has no page)
            (Some(path), None) if path != "stem/sessiondatastorage" => {
                panic!("{name}: model without x-brainstem-docs-url")
            }
            (_, Some(url)) => {
                assert!(
                    url.starts_with("https://support.brainstem.org/api/") && url.ends_with('/'),
                    "{name}: {url}"
                );
                if model.is_some() {
                    let line = format!("BrainSTEM docs: <{url}>");
                    assert!(
                        types.contains(&line),
                        "{name}: generated/types.rs lacks {line}"
                    );
                }
                linked += 1;
            }
            (None, None) => assert!(!typed, "{name}: typed schema without x-brainstem-docs-url"),
            _ => {}
        }
    }
    assert!(linked >= 38, "{linked}");
}
