//! Checks the Rust types cannot express (lengths, bounds, patterns, list
//! sizes, key shapes, typed payloads), run against the spec itself.
//!
//! One interpreter serves three callers: the client checks create and patch
//! bodies before sending, the stand-in server checks what it receives (more
//! strictly, as the real server does), and the command-line tool checks
//! `--data`. The rules are the typed schemas build.rs wrote from the spec
//! ([`crate::schema`]), so they always agree with the generated types.
//!
//! ```
//! use brainstem::types::{NewProject, NewProjectRequired};
//! use brainstem::validate::Validate;
//! let p = NewProject::new(NewProjectRequired { name: "x".repeat(300) });
//! let err = p.validate().unwrap_err();
//! assert!(err.has("name"));
//! ```

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;

use crate::error::{FieldError, InvalidInput};
use crate::meta::ModelMeta;
use crate::schema::{self, Additional, Bound, Format, Schema, Type};

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

/// Whether `text` matches a schema `pattern` (a search, as JSON Schema means
/// it: anchor with `^` and `$` to match the whole text).
///
/// `None` when the pattern uses syntax the engine (`regex-lite`) does not
/// have; the generator refuses such a pattern in the spec, so every pattern in
/// [`crate::schema`] gives `Some`.
///
/// ```
/// use brainstem::validate::matches_pattern;
/// assert_eq!(matches_pattern("^[A-Z]{2}$", "NL"), Some(true));
/// assert_eq!(matches_pattern("^[A-Z]{2}$", "nl"), Some(false));
/// assert_eq!(matches_pattern("(", "x"), None);
/// ```
pub fn matches_pattern(pattern: &str, text: &str) -> Option<bool> {
    regex(pattern).map(|re| re.is_match(text))
}

/// A compiled pattern, compiled once per distinct pattern.
fn regex(pattern: &str) -> Option<std::sync::Arc<regex_lite::Regex>> {
    static CACHE: OnceLock<
        std::sync::Mutex<HashMap<String, Option<std::sync::Arc<regex_lite::Regex>>>>,
    > = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(pattern.to_string())
        .or_insert_with(|| {
            regex_lite::Regex::new(pattern)
                .ok()
                .map(std::sync::Arc::new)
        })
        .clone()
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

    fn value(&mut self, schema: &Schema, v: &Value, path: &str, enforce_enum: bool) {
        let nullable = schema.nullable;
        let s = schema.resolve();
        if v.is_null() {
            if !(nullable || s.nullable) {
                self.err(path, "This field may not be null.");
            }
            return;
        }
        if !s.one_of.is_empty() {
            let ok = s.one_of.iter().any(|o| {
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
        if let Some(values) = &s.enumeration
            && !v.is_string()
            && !values.contains(v)
        {
            self.err(path, format!("\"{v}\" is not a valid choice."));
            return;
        }
        let quantity = s.quantity.is_some();
        match s.ty {
            Some(Type::String) => self.string(s, v, path, enforce_enum),
            Some(Type::Integer) => {
                if !(v.is_i64() || v.is_u64()) {
                    self.err(path, "A valid integer is required.");
                } else {
                    self.bounds(s, v, path);
                }
            }
            Some(Type::Number) => {
                if !v.is_number() {
                    self.err(path, "A valid number is required.");
                } else {
                    self.bounds(s, v, path);
                }
            }
            Some(Type::Boolean) if !v.is_boolean() => {
                self.err(path, "Must be a valid boolean.");
            }
            Some(Type::Array) => self.array(s, v, path, enforce_enum),
            Some(Type::Object) => self.object(s, v, path, enforce_enum || quantity),
            _ => {}
        }
    }

    fn string(&mut self, s: &Schema, v: &Value, path: &str, enforce_enum: bool) {
        let Some(text) = v.as_str() else {
            self.err(path, "Not a valid string.");
            return;
        };
        if let Some(values) = &s.enumeration
            && (enforce_enum || self.mode == Mode::Server)
            && !values.strings().contains(&text)
        {
            self.err(path, format!("\"{text}\" is not a valid choice."));
        }
        let len = text.chars().count() as u64;
        if let Some(max) = s.max_length
            && len > max
        {
            self.err(
                path,
                format!("Ensure this field has no more than {max} characters."),
            );
        }
        if let Some(min) = s.min_length
            && len < min
        {
            self.err(
                path,
                format!("Ensure this field has at least {min} characters."),
            );
        }
        if let Some(p) = s.pattern
            && let Some(re) = regex(p)
            && !re.is_match(text)
        {
            self.err(path, format!("Enter a valid value (it must match {p})."));
        }
        match s.format {
            Some(Format::Uuid) if uuid::Uuid::parse_str(text).is_err() => {
                self.err(path, format!("“{text}” is not a valid UUID."));
            }
            Some(Format::Date) if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() => {
                self.err(
                    path,
                    "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
                );
            }
            Some(Format::DateTime) if chrono::DateTime::parse_from_rfc3339(text).is_err() => {
                self.err(
                    path,
                    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
                );
            }
            _ => {}
        }
    }

    fn bounds(&mut self, s: &Schema, v: &Value, path: &str) {
        let Some(x) = v.as_f64() else { return };
        if let Some(Bound {
            value: min,
            exclusive: excl,
        }) = s.minimum
            && (x < min || (excl && x == min))
        {
            self.err(
                path,
                format!(
                    "Ensure this value is greater than {}{min}.",
                    if excl { "" } else { "or equal to " }
                ),
            );
        }
        if let Some(Bound {
            value: max,
            exclusive: excl,
        }) = s.maximum
            && (x > max || (excl && x == max))
        {
            self.err(
                path,
                format!(
                    "Ensure this value is less than {}{max}.",
                    if excl { "" } else { "or equal to " }
                ),
            );
        }
    }

    fn array(&mut self, s: &Schema, v: &Value, path: &str, enforce_enum: bool) {
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
        if let Some(min) = s.min_items
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
        if let Some(max) = s.max_items
            && n > max
        {
            self.err(
                path,
                format!("Ensure this field has no more than {max} elements."),
            );
        }
        if let Some(item_schema) = s.items {
            for (i, item) in items.iter().enumerate() {
                self.value(item_schema, item, &format!("{path}[{i}]"), enforce_enum);
            }
        }
    }

    fn object(&mut self, s: &Schema, v: &Value, path: &str, enforce_enum: bool) {
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
        for r in s.required {
            if !obj.contains_key(*r) {
                self.err(&join(path, r), "This field is required.");
            }
        }
        let key_pattern = s.key_pattern.and_then(regex);
        for (k, x) in obj {
            if let Some(re) = &key_pattern
                && !re.is_match(k)
            {
                self.err(
                    &join(path, k),
                    "Keys must start with a letter and contain only letters, digits and underscores.",
                );
            }
            match s.property(k) {
                Some(ps) => self.value(ps, x, &join(path, k), enforce_enum),
                None => {
                    if let Some(Additional::Schema(ap)) = s.additional_properties {
                        self.value(ap, x, &join(path, k), enforce_enum);
                    }
                }
            }
        }
    }
}

/// Check one model body (create or patch) against its model's schemas.
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
    for f in model.fields {
        let required = match shape {
            Shape::Create => f.create_required,
            Shape::Patch => f.patch_required,
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
        c.value(field.schema, v, k, false);
    }
    for slot in model.details {
        let (Some(tag), Some(content)) = (
            obj.get(slot.tag).and_then(Value::as_str),
            obj.get(slot.content),
        ) else {
            continue;
        };
        match schema::details_schema(slot.group, tag) {
            Some(ds) => {
                if !content.is_null() {
                    c.value(&ds.schema, content, slot.content, true);
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

/// Check any value against a named component schema ([`schema::component`]);
/// in [`Mode::Server`] every enumeration is enforced.
pub fn check_component(name: &str, v: &Value, path: &str, mode: Mode) -> Result<(), InvalidInput> {
    let Some(s) = schema::component(name) else {
        return Err(InvalidInput::one(path, format!("unknown schema {name}")));
    };
    let mut c = Checker {
        mode,
        errors: vec![],
    };
    c.value(&s.schema, v, path, mode == Mode::Server);
    if c.errors.is_empty() {
        Ok(())
    } else {
        Err(InvalidInput { errors: c.errors })
    }
}
