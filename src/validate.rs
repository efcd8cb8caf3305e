//! Checks the Rust types cannot express (lengths, bounds, patterns, list
//! sizes, key shapes, typed payloads), run against the spec itself.
//!
//! One interpreter serves three callers: the client checks create and patch
//! bodies before sending, the stand-in server checks what it receives (more
//! strictly, as the real server does), and the command-line tool checks
//! `--data`. The rules come from the spec build.rs embedded, so they always
//! agree with the generated types.
//!
//! ```
//! use brainstem::types::NewProject;
//! use brainstem::validate::Validate;
//! let p = NewProject::new("x".repeat(300));
//! let err = p.validate().unwrap_err();
//! assert!(err.has("name"));
//! ```

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;

use crate::error::{FieldError, InvalidInput};
use crate::meta::ModelMeta;

/// Which shape of a model a body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A create (POST / PUT) body: create-required fields must be present.
    Create,
    /// A PATCH body: only patch-required fields must be present.
    Patch,
}

/// How strict to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The client side: values a newer server may know (an enum value this
    /// schema does not list, a payload type it does not know) pass.
    Client,
    /// The server side: everything the schema does not allow is refused.
    Server,
}

/// A request body that can be checked against the spec before sending.
pub trait Validate: Serialize {
    /// The model the body belongs to.
    const MODEL: &'static ModelMeta;
    /// Create or patch.
    const SHAPE: Shape;

    /// Check everything the types cannot; every problem is reported with its JSON path.
    fn validate(&self) -> Result<(), InvalidInput> {
        let v = checkable_value(self)
            .map_err(|e| InvalidInput::one("", format!("cannot serialize the body: {e}")))?;
        check_body(Self::MODEL, Self::SHAPE, &v, Mode::Client)
    }
}

/// A body as a [`serde_json::Value`] to check. A number beyond `f64`'s range
/// (a [`Number`](crate::Number) kept from a response), which `Value` cannot
/// hold, is checked as `±f64::MAX`: it is still a number, and beyond every
/// bound the schema sets.
fn checkable_value<T: Serialize + ?Sized>(body: &T) -> Result<Value, serde_json::Error> {
    match serde_json::to_value(body) {
        Ok(v) => Ok(v),
        Err(first) => match serde_json::to_string(body) {
            Ok(text) => lenient_value(&text),
            Err(_) => Err(first),
        },
    }
}

fn lenient_value(text: &str) -> Result<Value, serde_json::Error> {
    use serde_json::value::RawValue;
    let raw: &RawValue = serde_json::from_str(text)?;
    let t = raw.get();
    Ok(match t.as_bytes().first() {
        Some(b'{') => {
            let m: std::collections::BTreeMap<String, &RawValue> = serde_json::from_str(t)?;
            Value::Object(
                m.into_iter()
                    .map(|(k, v)| Ok((k, lenient_value(v.get())?)))
                    .collect::<Result<_, serde_json::Error>>()?,
            )
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(t)?;
            Value::Array(
                items
                    .into_iter()
                    .map(|v| lenient_value(v.get()))
                    .collect::<Result<_, _>>()?,
            )
        }
        Some(b'-' | b'0'..=b'9') => serde_json::from_str(t).unwrap_or_else(|_| {
            let max = if t.starts_with('-') {
                -f64::MAX
            } else {
                f64::MAX
            };
            Value::from(max)
        }),
        _ => serde_json::from_str(t)?,
    })
}

/// The spec (without prose) as embedded at build time.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        serde_json::from_str(include_str!(concat!(env!("OUT_DIR"), "/spec.min.json")))
            .expect("build.rs embeds the spec it parsed")
    })
}

/// A component schema by name.
pub fn component(name: &str) -> Option<&'static Value> {
    spec().pointer("/components/schemas")?.get(name)
}

/// The schema of a typed payload: `group`/`type` -> component.
pub fn details_schema(group: &str, type_name: &str) -> Option<&'static Value> {
    static INDEX: OnceLock<HashMap<String, String>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut m = HashMap::new();
        if let Some(schemas) = spec()
            .pointer("/components/schemas")
            .and_then(Value::as_object)
        {
            for (name, s) in schemas {
                if let Some(id) = s.get("x-brainstem-schema").and_then(Value::as_str) {
                    m.insert(id.to_string(), name.clone());
                }
            }
        }
        m
    });
    index
        .get(&format!("{group}/{type_name}"))
        .and_then(|n| component(n))
}

/// A compiled pattern, compiled once per distinct pattern.
fn regex(pattern: &str) -> Option<std::sync::Arc<regress::Regex>> {
    static CACHE: OnceLock<
        std::sync::Mutex<HashMap<String, Option<std::sync::Arc<regress::Regex>>>>,
    > = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(pattern.to_string())
        .or_insert_with(|| regress::Regex::new(pattern).ok().map(std::sync::Arc::new))
        .clone()
}

/// Follow a schema to its definition: through local `$ref`s and the
/// single-member `allOf` wrapper OpenAPI 3.0 needs to put keywords (such as
/// `nullable`) next to a reference.
pub fn resolve(schema: &Value) -> &Value {
    let mut cur = schema;
    for _ in 0..16 {
        if let Some(next) = cur
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .and_then(component)
        {
            cur = next;
            continue;
        }
        if let Some(first) = cur
            .get("allOf")
            .and_then(Value::as_array)
            .filter(|a| a.len() == 1)
            .and_then(|a| a.first())
        {
            cur = first;
            continue;
        }
        break;
    }
    cur
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

struct Checker {
    mode: Mode,
    errors: Vec<FieldError>,
}

impl Checker {
    fn err(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            path: path.to_string(),
            message: message.into(),
        });
    }

    fn value(&mut self, schema: &Value, v: &Value, path: &str, enforce_enum: bool) {
        let nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
        let s = resolve(schema);
        if v.is_null() {
            if !(nullable || s.get("nullable").and_then(Value::as_bool) == Some(true)) {
                self.err(path, "This field may not be null.");
            }
            return;
        }
        if let Some(options) = s.get("oneOf").and_then(Value::as_array) {
            let ok = options.iter().any(|o| {
                let mut c = Checker {
                    mode: self.mode,
                    errors: vec![],
                };
                c.value(o, v, path, enforce_enum);
                c.errors.is_empty()
            });
            if !ok {
                self.err(
                    path,
                    format!("A value of type \"{}\" is not allowed here.", type_name(v)),
                );
            }
            return;
        }
        if let Some(values) = s.get("enum").and_then(Value::as_array)
            && !v.is_string()
            && !values
                .iter()
                .any(|x| x == v || (x.as_f64().is_some() && x.as_f64() == v.as_f64()))
        {
            self.err(path, format!("\"{v}\" is not a valid choice."));
            return;
        }
        let quantity = s.get("x-brainstem-quantity").is_some();
        match s.get("type").and_then(Value::as_str) {
            Some("string") => self.string(s, v, path, enforce_enum),
            Some("integer") => {
                if !(v.is_i64() || v.is_u64()) {
                    self.err(path, "A valid integer is required.");
                } else {
                    self.bounds(s, v, path);
                }
            }
            Some("number") => {
                if !v.is_number() {
                    self.err(path, "A valid number is required.");
                } else {
                    self.bounds(s, v, path);
                }
            }
            Some("boolean") if !v.is_boolean() => {
                self.err(path, "Must be a valid boolean.");
            }
            Some("array") => self.array(s, v, path, enforce_enum),
            Some("object") => self.object(s, v, path, enforce_enum || quantity),
            _ => {}
        }
    }

    fn string(&mut self, s: &Value, v: &Value, path: &str, enforce_enum: bool) {
        let Some(text) = v.as_str() else {
            self.err(path, "Not a valid string.");
            return;
        };
        if let Some(values) = s.get("enum").and_then(Value::as_array)
            && (enforce_enum || self.mode == Mode::Server)
            && !values.iter().any(|x| x.as_str() == Some(text))
        {
            self.err(path, format!("\"{text}\" is not a valid choice."));
        }
        let len = text.chars().count() as u64;
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
            && len > max
        {
            self.err(
                path,
                format!("Ensure this field has no more than {max} characters."),
            );
        }
        if let Some(min) = s.get("minLength").and_then(Value::as_u64)
            && len < min
        {
            self.err(
                path,
                format!("Ensure this field has at least {min} characters."),
            );
        }
        if let Some(p) = s.get("pattern").and_then(Value::as_str)
            && let Some(re) = regex(p)
            && re.find(text).is_none()
        {
            self.err(path, format!("Enter a valid value (it must match {p})."));
        }
        match s.get("format").and_then(Value::as_str) {
            Some("uuid") if uuid::Uuid::parse_str(text).is_err() => {
                self.err(path, format!("“{text}” is not a valid UUID."));
            }
            Some("date") if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() => {
                self.err(
                    path,
                    "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
                );
            }
            Some("date-time") if chrono::DateTime::parse_from_rfc3339(text).is_err() => {
                self.err(
                    path,
                    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
                );
            }
            _ => {}
        }
    }

    fn bounds(&mut self, s: &Value, v: &Value, path: &str) {
        let Some(x) = v.as_f64() else { return };
        if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
            let excl = s.get("exclusiveMinimum").and_then(Value::as_bool) == Some(true);
            if x < min || (excl && x == min) {
                self.err(
                    path,
                    format!(
                        "Ensure this value is greater than {}{min}.",
                        if excl { "" } else { "or equal to " }
                    ),
                );
            }
        }
        if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
            let excl = s.get("exclusiveMaximum").and_then(Value::as_bool) == Some(true);
            if x > max || (excl && x == max) {
                self.err(
                    path,
                    format!(
                        "Ensure this value is less than {}{max}.",
                        if excl { "" } else { "or equal to " }
                    ),
                );
            }
        }
    }

    fn array(&mut self, s: &Value, v: &Value, path: &str, enforce_enum: bool) {
        let Some(items) = v.as_array() else {
            self.err(
                path,
                format!(
                    "Expected a list of items but got type \"{}\".",
                    type_name(v)
                ),
            );
            return;
        };
        let n = items.len() as u64;
        if let Some(min) = s.get("minItems").and_then(Value::as_u64)
            && n < min
        {
            self.err(
                path,
                if min == 1 {
                    "This list may not be empty.".to_string()
                } else {
                    format!("Ensure this field has at least {min} elements.")
                },
            );
        }
        if let Some(max) = s.get("maxItems").and_then(Value::as_u64)
            && n > max
        {
            self.err(
                path,
                format!("Ensure this field has no more than {max} elements."),
            );
        }
        if let Some(item_schema) = s.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.value(item_schema, item, &format!("{path}[{i}]"), enforce_enum);
            }
        }
    }

    fn object(&mut self, s: &Value, v: &Value, path: &str, enforce_enum: bool) {
        let Some(obj) = v.as_object() else {
            self.err(
                path,
                format!(
                    "Expected a dictionary of items but got type \"{}\".",
                    type_name(v)
                ),
            );
            return;
        };
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    self.err(&join(path, r), "This field is required.");
                }
            }
        }
        let key_pattern = s
            .get("x-brainstem-key-pattern")
            .and_then(Value::as_str)
            .and_then(regex);
        for (k, x) in obj {
            if let Some(re) = &key_pattern
                && re.find(k).is_none()
            {
                self.err(
                    &join(path, k),
                    "Keys must start with a letter and contain only letters, digits and underscores.",
                );
            }
            match props.and_then(|p| p.get(k)) {
                Some(ps) => self.value(ps, x, &join(path, k), enforce_enum),
                None => {
                    if let Some(ap) = s.get("additionalProperties")
                        && ap.is_object()
                    {
                        self.value(ap, x, &join(path, k), enforce_enum);
                    }
                }
            }
        }
    }
}

/// Check one model body (create or patch) against the spec.
///
/// Read-only fields are ignored, as the server ignores them. Typed payloads
/// (`type` + `details`) are checked against the schema their selector names.
pub fn check_body(
    model: &ModelMeta,
    shape: Shape,
    body: &Value,
    mode: Mode,
) -> Result<(), InvalidInput> {
    let mut c = Checker {
        mode,
        errors: vec![],
    };
    let Some(obj) = body.as_object() else {
        return Err(InvalidInput::one(
            "",
            format!(
                "Expected a JSON object but got type \"{}\".",
                type_name(body)
            ),
        ));
    };
    let schema = component(model.schema);
    let props = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object);
    let patch_required: Vec<&str> = schema
        .and_then(|s| s.get("x-brainstem-patch-required"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for f in model.fields {
        let required = match shape {
            Shape::Create => f.create_required,
            Shape::Patch => patch_required.contains(&f.name),
        };
        if required && !f.read_only && !obj.contains_key(f.name) {
            c.err(f.name, "This field is required.");
        }
    }
    let content_fields: Vec<&str> = model.details.iter().map(|d| d.content).collect();
    for (k, v) in obj {
        let Some(field) = model.field(k) else {
            continue;
        };
        if field.read_only || content_fields.contains(&k.as_str()) {
            continue;
        }
        if let Some(ps) = props.and_then(|p| p.get(k)) {
            c.value(ps, v, k, false);
        }
    }
    for slot in model.details {
        let (Some(tag), Some(content)) = (
            obj.get(slot.tag).and_then(Value::as_str),
            obj.get(slot.content),
        ) else {
            continue;
        };
        match details_schema(slot.group, tag) {
            Some(ds) => {
                if !content.is_null() {
                    c.value(ds, content, slot.content, true);
                }
            }
            None => {
                if mode == Mode::Server && !c.errors.iter().any(|e| e.path == slot.tag) {
                    c.err(slot.tag, format!("\"{tag}\" is not a valid choice."));
                }
            }
        }
    }
    if c.errors.is_empty() {
        Ok(())
    } else {
        Err(InvalidInput { errors: c.errors })
    }
}

/// Check any value against a named component schema (server side: strict).
pub fn check_component(name: &str, v: &Value, path: &str, mode: Mode) -> Result<(), InvalidInput> {
    let Some(s) = component(name) else {
        return Err(InvalidInput::one(path, format!("unknown schema {name}")));
    };
    let mut c = Checker {
        mode,
        errors: vec![],
    };
    c.value(s, v, path, mode == Mode::Server);
    if c.errors.is_empty() {
        Ok(())
    } else {
        Err(InvalidInput { errors: c.errors })
    }
}
