//! Preparing the spec for typify/progenitor.
//!
//! typify turns JSON Schema into Rust types but knows nothing of our flags:
//! it ignores `readOnly`, closes every enum, and cannot tell an absent PATCH
//! field from a null one. So before handing the document over, this module
//! rewrites a copy of it, driven only by the spec's own flags:
//!
//! * every string enum becomes a reference to an open enum we generate
//!   ourselves (`x-rust-type`), with an `Unknown(String)` fallback;
//! * record schemas require exactly the fields the server always returns,
//!   and their relation fields become `Related<T>` (an id or, with
//!   `include[]`, the embedded record);
//! * a create shape `New<Model>` (writable fields, create-required fields not
//!   optional) and a patch shape `<Model>Patch` (every field optional, nullable
//!   fields as `Nullable<T>` so that absent and `null` differ) are added;
//! * request bodies point at those shapes;
//! * a log entry body's `details` (`x-brainstem-details-group` on a request
//!   shape) is `details::Payload<<Group>Details>`: the payload alone, typed;
//! * every `number` is `brainstem::Number` (kept exactly as written);
//! * validation keywords are removed (checked by generated `Validate` impls
//!   when a request is built, never when a response is read).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::names;
use super::spec::{Api, ref_name};

/// An open string enum to generate: its Rust name and its values.
#[derive(Clone, Debug)]
pub struct OpenEnum {
    pub name: String,
    pub values: Vec<String>,
    /// Variant names the spec gives (`x-enum-varnames`, one per value),
    /// else derived from the values.
    pub varnames: Option<Vec<String>>,
    pub description: Option<String>,
}

impl OpenEnum {
    /// The Rust variant names, one per value: the spec's
    /// `x-enum-varnames`, else derived from the values.
    pub fn variant_names(&self) -> Vec<String> {
        self.varnames
            .clone()
            .unwrap_or_else(|| names::variants(&self.values))
    }
}

/// Every open enum, by Rust name.
pub type Enums = BTreeMap<String, OpenEnum>;

const STRIP: &[&str] = &[
    "maxLength",
    "minLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "multipleOf",
    "uniqueItems",
    "default",
    "example",
];

pub fn rust_type(path: &str, params: Vec<Value>) -> Value {
    let mut ext =
        json!({"crate": "brainstem", "version": "*", "path": format!("brainstem::{path}")});
    if !params.is_empty() {
        ext["parameters"] = Value::Array(params);
    }
    json!({ "x-rust-type": ext })
}

fn is_string_enum(s: &Value) -> bool {
    s.get("enum")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty() && a.iter().all(|v| v.is_string() || v.is_null()))
        && s.get("x-rust-type").is_none()
}

fn enum_values(s: &Value) -> Vec<String> {
    s["enum"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `x-enum-varnames`: one Rust identifier per value, unique, none `Unknown`.
fn varnames(name: &str, s: &Value, values: &[String]) -> Result<Option<Vec<String>>, String> {
    let Some(v) = s.get("x-enum-varnames") else {
        return Ok(None);
    };
    let list: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if list.len() != values.len() || v.as_array().map(Vec::len) != Some(list.len()) {
        return Err(format!(
            "{name}: x-enum-varnames must list one name (a string) per enum value"
        ));
    }
    for (i, n) in list.iter().enumerate() {
        let ident = n.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && n.chars().all(|c| c.is_ascii_alphanumeric());
        if !ident || n == "Unknown" || list[..i].contains(n) {
            return Err(format!(
                "{name}: x-enum-varnames entry {n:?} is not a unique PascalCase identifier (other than `Unknown`)"
            ));
        }
    }
    Ok(Some(list))
}

fn register(enums: &mut Enums, name: String, s: &Value) -> Result<Value, String> {
    let values = enum_values(s);
    let varnames = varnames(&name, s, &values)?;
    if let Some(existing) = enums.get(&name) {
        if existing.values != values || existing.varnames != varnames {
            return Err(format!("two different enums want the name {name}"));
        }
    } else {
        enums.insert(
            name.clone(),
            OpenEnum {
                name: name.clone(),
                values,
                varnames,
                description: s
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            },
        );
    }
    let mut r = rust_type(&format!("enums::{name}"), vec![]);
    if s.get("nullable").and_then(Value::as_bool) == Some(true) {
        // keep nullability visible to typify
        r = rust_type_option(r);
    }
    if let Some(d) = s.get("description") {
        r["description"] = d.clone();
    }
    Ok(r)
}

/// A schema description followed by a link to its page in the BrainSTEM docs
/// (`x-brainstem-docs-url`), written so rustdoc renders it as a link.
pub fn with_docs_link(description: &str, url: &str) -> String {
    let link = format!("BrainSTEM docs: <{url}>");
    if description.trim().is_empty() {
        link
    } else {
        format!("{}\n\n{link}", description.trim_end())
    }
}

fn rust_type_option(inner: Value) -> Value {
    json!({"x-rust-type": {"crate": "std", "version": "*", "path": "std::option::Option", "parameters": [inner]}})
}

/// Replace string enums in `s` (named after `base`) by open-enum references.
fn replace_enums(s: &mut Value, base: &str, enums: &mut Enums) -> Result<(), String> {
    if is_string_enum(s) {
        *s = register(enums, base.to_string(), s)?;
        return Ok(());
    }
    if let Some(props) = s.get_mut("properties").and_then(Value::as_object_mut) {
        for (k, v) in props.iter_mut() {
            replace_enums(v, &format!("{base}{}", names::pascal(k)), enums)?;
        }
    }
    if let Some(items) = s.get_mut("items") {
        replace_enums(items, &format!("{base}Item"), enums)?;
    }
    if let Some(ap) = s.get_mut("additionalProperties")
        && ap.is_object()
    {
        replace_enums(ap, &format!("{base}Value"), enums)?;
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = s.get_mut(key).and_then(Value::as_array_mut) {
            for (i, v) in list.iter_mut().enumerate() {
                replace_enums(v, &format!("{base}Variant{i}"), enums)?;
            }
        }
    }
    Ok(())
}

/// Mark every optional array property (at any depth) nullable in the copy
/// handed to typify, so it becomes `Option<Vec<T>>` and `[]` survives a round
/// trip. The validator reads the original spec, where `null` stays refused.
fn optional_lists_as_options(s: &mut Value) {
    let required: Vec<String> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if let Some(props) = s.get_mut("properties").and_then(Value::as_object_mut) {
        for (k, p) in props.iter_mut() {
            if !required.contains(k) && p.get("type").and_then(Value::as_str) == Some("array") {
                p["nullable"] = Value::Bool(true);
            }
            optional_lists_as_options(p);
        }
    }
    if let Some(items) = s.get_mut("items") {
        optional_lists_as_options(items);
    }
}

fn replace_quantities(s: &mut Value) {
    if let Some(kind) = s.get("x-brainstem-quantity").and_then(Value::as_str) {
        let mut q = rust_type(
            "Quantity",
            vec![json!({"$ref": format!("#/components/schemas/{kind}Unit")})],
        );
        if let Some(d) = s.get("description") {
            q["description"] = d.clone();
        }
        *s = q;
        return;
    }
    match s {
        Value::Object(m) => m.values_mut().for_each(replace_quantities),
        Value::Array(a) => a.iter_mut().for_each(replace_quantities),
        _ => {}
    }
}

/// Every `number` becomes `brainstem::Number`, which keeps a number exactly
/// as written (integer, trailing zeros, beyond `f64`).
fn replace_numbers(s: &mut Value) {
    if s.get("type").and_then(Value::as_str) == Some("number") {
        let mut n = rust_type("Number", vec![]);
        if s.get("nullable").and_then(Value::as_bool) == Some(true) {
            n = rust_type_option(n);
        }
        if let Some(d) = s.get("description") {
            n["description"] = d.clone();
        }
        *s = n;
        return;
    }
    match s {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if !matches!(k.as_str(), "x-rust-type" | "enum" | "example" | "default") {
                    replace_numbers(v);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(replace_numbers),
        _ => {}
    }
}

fn strip(s: &mut Value) {
    match s {
        Value::Object(m) => {
            for k in STRIP {
                m.remove(*k);
            }
            // typify's newtypes for non-string enums do not build in edition 2024;
            // the validator checks those values instead
            if m.get("enum")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|v| !v.is_string() && !v.is_null()))
            {
                m.remove("enum");
            }
            if let Some(Value::String(f)) = m.get("format")
                && !matches!(f.as_str(), "uuid" | "date" | "date-time")
            {
                m.remove("format");
            }
            let ext: Vec<String> = m
                .keys()
                .filter(|k| k.starts_with("x-brainstem"))
                .cloned()
                .collect();
            for k in ext {
                m.remove(&k);
            }
            for (k, v) in m.iter_mut() {
                if k != "enum" {
                    strip(v);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

fn set_required(schema: &mut Value, required: &[String]) {
    let props: Vec<String> = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let req: Vec<Value> = required
        .iter()
        .filter(|r| props.contains(r))
        .map(|r| Value::String(r.clone()))
        .collect();
    if let Some(m) = schema.as_object_mut() {
        if req.is_empty() {
            m.remove("required");
        } else {
            m.insert("required".into(), Value::Array(req));
        }
    }
}

/// Rewrite `doc` (a copy of the spec) for typify/progenitor. Returns the open enums.
pub fn prepare(doc: &mut Value, api: &Api) -> Result<Enums, String> {
    let mut enums = Enums::new();
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .ok_or("no components.schemas")?;

    // 0. measured values -> Quantity<<Kind>Unit> (before their inline unit lists
    //    would become enums of their own); the allowed subset of units stays in
    //    the spec for the validator
    for name in schemas.keys().cloned().collect::<Vec<_>>() {
        replace_quantities(schemas.get_mut(&name).expect("listed"));
    }

    for name in schemas.keys().cloned().collect::<Vec<_>>() {
        replace_numbers(schemas.get_mut(&name).expect("listed"));
    }

    // optional lists inside typed payloads keep `[]` apart from absent
    for schema in schemas.values_mut() {
        if schema.get("x-brainstem-schema").is_some() {
            optional_lists_as_options(schema);
        }
    }

    // 1. open enums, named after where they are defined
    let names: Vec<String> = schemas.keys().cloned().collect();
    for name in &names {
        let s = schemas.get_mut(name).expect("listed");
        replace_enums(s, name, &mut enums)?;
    }

    // the public docs page of a model, approval or typed payload, under its description
    for schema in schemas.values_mut() {
        if let Some(url) = schema.get("x-brainstem-docs-url").and_then(Value::as_str) {
            let text = schema
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("");
            schema["description"] = Value::String(with_docs_link(text, url));
        }
    }

    // 2. create and patch shapes, from the flags (before relations turn into Related<T>)
    let mut added = Map::new();
    for m in &api.models {
        let schema = schemas
            .get(&m.schema)
            .ok_or_else(|| format!("model schema {} vanished", m.schema))?;
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut new_props = Map::new();
        let mut patch_props = Map::new();
        for f in m.fields.iter().filter(|f| !f.read_only) {
            let Some(p) = props.get(&f.json) else {
                continue;
            };
            new_props.insert(f.json.clone(), p.clone());
            // an optional list in a patch must be able to say "[]" (clear it):
            // Option<Vec<T>>, not a Vec that skips itself when empty
            let p = &if f.many && !f.nullable {
                let mut q = p.clone();
                q["nullable"] = Value::Bool(true);
                q
            } else {
                p.clone()
            };
            let pp = if f.nullable {
                let mut inner = p.clone();
                if let Some(o) = inner.as_object_mut() {
                    o.remove("nullable");
                }
                // an open enum reference already carries its own Option
                if let Some(params) = inner.pointer("/x-rust-type/parameters/0")
                    && inner.pointer("/x-rust-type/path") == Some(&json!("std::option::Option"))
                {
                    inner = params.clone();
                }
                let mut w = rust_type("Nullable", vec![inner]);
                if let Some(d) = p.get("description") {
                    w["description"] = d.clone();
                }
                w
            } else {
                p.clone()
            };
            patch_props.insert(f.json.clone(), pp);
        }
        let docs_url = schema.get("x-brainstem-docs-url").and_then(Value::as_str);
        let desc = |what: &str| {
            let text = format!("{what} a {} (`{}`).", m.schema, m.path());
            match docs_url {
                Some(url) => with_docs_link(&text, url),
                None => text,
            }
        };
        let mut new_schema = json!({
            "type": "object",
            "description": desc("The fields to send to create"),
            "properties": Value::Object(new_props),
        });
        let create_required: Vec<String> = m
            .fields
            .iter()
            .filter(|f| f.create_required)
            .map(|f| f.json.clone())
            .collect();
        set_required(&mut new_schema, &create_required);
        let mut patch_schema = json!({
            "type": "object",
            "description": desc("The fields to change in"),
            "properties": Value::Object(patch_props),
        });
        let patch_required: Vec<String> = m
            .fields
            .iter()
            .filter(|f| f.patch_required)
            .map(|f| f.json.clone())
            .collect();
        set_required(&mut patch_schema, &patch_required);
        // typify turns an object without properties into a map; keep empty shapes structs
        for shape in [&mut new_schema, &mut patch_schema] {
            if shape["properties"].as_object().is_some_and(Map::is_empty) {
                shape["additionalProperties"] = Value::Bool(false);
            }
        }
        added.insert(m.new_name(), new_schema);
        added.insert(m.patch_name(), patch_schema);
    }

    // 3. records: required = always returned; relations -> Related<T>
    for m in &api.models {
        let schema = schemas.get_mut(&m.schema).expect("checked above");
        let required: Vec<String> = m
            .fields
            .iter()
            .filter(|f| f.response_required)
            .map(|f| f.json.clone())
            .collect();
        set_required(schema, &required);
        for f in &m.fields {
            let Some(target) = f.related.as_deref().and_then(|t| api.model_by_path(t)) else {
                continue;
            };
            let related = rust_type(
                "Related",
                vec![json!({"$ref": format!("#/components/schemas/{}", target.schema)})],
            );
            let Some(p) = schema.pointer_mut(&format!("/properties/{}", f.json)) else {
                continue;
            };
            if f.many {
                p["items"] = related;
            } else {
                let description = p.get("description").cloned();
                *p = if f.nullable {
                    rust_type_option(related)
                } else {
                    related
                };
                if let Some(d) = description {
                    p["description"] = d;
                }
            }
        }
    }
    // other response shapes (approval records, nested structures) with the same flag
    let model_schemas: Vec<&str> = api.models.iter().map(|m| m.schema.as_str()).collect();
    for (name, schema) in schemas.iter_mut() {
        if model_schemas.contains(&name.as_str()) {
            continue;
        }
        if let Some(rr) = schema
            .get("x-brainstem-response-required")
            .and_then(Value::as_array)
        {
            let rr: Vec<String> = rr
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            set_required(schema, &rr);
        }
    }
    // request shapes (log entry bodies): a `details` chosen by the log's
    // type is the payload alone of its group's typed enum
    for (name, schema) in schemas.iter_mut() {
        if model_schemas.contains(&name.as_str())
            || schema.get("x-brainstem-response-required").is_some()
        {
            continue;
        }
        let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for p in props.values_mut() {
            let Some(group) = p
                .get("x-brainstem-details-group")
                .and_then(Value::as_str)
                .filter(|_| p.get("type") == Some(&json!("object")))
            else {
                continue;
            };
            let mut typed = rust_type(
                "details::Payload",
                vec![rust_type(&format!("details::{group}Details"), vec![])],
            );
            if let Some(d) = p.get("description") {
                typed["description"] = d.clone();
            }
            *p = typed;
        }
    }
    for (k, v) in added {
        schemas.insert(k, v);
    }

    // 4. request bodies point at the derived shapes
    let by_schema: BTreeMap<&str, &super::spec::Model> =
        api.models.iter().map(|m| (m.schema.as_str(), m)).collect();
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                let Some(body) = op.get_mut("requestBody") else {
                    continue;
                };
                let patch = method == "patch"
                    || body.get("x-brainstem-body").and_then(Value::as_str) == Some("patch");
                let Some(schema) = body.pointer_mut("/content/application~1json/schema") else {
                    continue;
                };
                let Some(m) = ref_name(schema).and_then(|n| by_schema.get(n)) else {
                    continue;
                };
                let target = if patch { m.patch_name() } else { m.new_name() };
                *schema = json!({"$ref": format!("#/components/schemas/{target}")});
            }
        }
    }

    strip(doc);
    Ok(enums)
}

/// Name of the shared portal parameter schema added for progenitor.
pub const PORTAL_COMPONENT: &str = "BrainstemPortal";

/// Point every operation's `portal` parameter at one shared schema.
pub fn share_portal_parameter(doc: &mut Value) {
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.insert(
            PORTAL_COMPONENT.to_string(),
            json!({"type": "string", "enum": ["private", "public"]}),
        );
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            for p in params.iter_mut() {
                if p.get("name").and_then(Value::as_str) == Some("portal") {
                    p["schema"] =
                        json!({"$ref": format!("#/components/schemas/{PORTAL_COMPONENT}")});
                }
            }
        }
    }
}
