//! The spec's schemas as typed, `'static` data.
//!
//! `build.rs` is the only reader of `schema/brainstem.openapi.json`. Besides
//! the types and the model metadata it writes every component schema of the
//! spec as static data of the types below: the subset of OpenAPI 3.0 / JSON
//! Schema the spec uses (types, `nullable`, formats, enumerations, lengths,
//! patterns, bounds, array and object structure, `$ref`, `oneOf` / `anyOf` /
//! `allOf`, `readOnly` / `writeOnly`, defaults) and the `x-brainstem-*`
//! extensions the validator and the stand-in server read. Prose
//! (`description`, `title`, notes) and annotations only the generator needs
//! are left out. Identical schemas are stored once and shared.
//!
//! ```
//! use brainstem::schema::{self, Type};
//! let session = schema::component("Session").unwrap();
//! let name = session.schema.property("name").unwrap();
//! assert_eq!(name.ty, Some(Type::String));
//! assert!(session.schema.required.contains(&"name"));
//! // a field's schema is also reachable from the model metadata
//! let meta = brainstem::meta::ModelMeta::find("session").unwrap();
//! assert!(std::ptr::eq(meta.field("name").unwrap().schema, name));
//! ```

use serde_json::Value;

/// The JSON type a schema allows (`type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    /// `"string"`.
    String,
    /// `"integer"`.
    Integer,
    /// `"number"`.
    Number,
    /// `"boolean"`.
    Boolean,
    /// `"array"`.
    Array,
    /// `"object"`.
    Object,
}

impl Type {
    /// The name the spec writes (`"string"`, `"integer"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Integer => "integer",
            Type::Number => "number",
            Type::Boolean => "boolean",
            Type::Array => "array",
            Type::Object => "object",
        }
    }
}

/// The `format` of a string schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `"uuid"`.
    Uuid,
    /// `"date"`: `YYYY-MM-DD`.
    Date,
    /// `"date-time"`: RFC 3339.
    DateTime,
    /// `"time"`.
    Time,
    /// `"email"`.
    Email,
    /// `"uri"`.
    Uri,
    /// Any other format, as written in the spec (not checked).
    Other(&'static str),
}

impl Format {
    /// The name the spec writes (`"uuid"`, `"date-time"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Uuid => "uuid",
            Format::Date => "date",
            Format::DateTime => "date-time",
            Format::Time => "time",
            Format::Email => "email",
            Format::Uri => "uri",
            Format::Other(other) => other,
        }
    }
}

/// The values an `enum` lists (the spec's enumerations are all strings or all
/// numbers).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Enumeration {
    /// String values.
    Strings(&'static [&'static str]),
    /// Integer values.
    Integers(&'static [i64]),
    /// Numbers, at least one of them not an integer.
    Numbers(&'static [f64]),
}

impl Enumeration {
    /// How many values are listed.
    pub fn len(&self) -> usize {
        match self {
            Enumeration::Strings(v) => v.len(),
            Enumeration::Integers(v) => v.len(),
            Enumeration::Numbers(v) => v.len(),
        }
    }

    /// Whether no value is listed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` as JSON (`None` past the end).
    pub fn get(&self, i: usize) -> Option<Value> {
        match self {
            Enumeration::Strings(v) => v.get(i).map(|s| Value::from(*s)),
            Enumeration::Integers(v) => v.get(i).map(|n| Value::from(*n)),
            Enumeration::Numbers(v) => v.get(i).map(|n| Value::from(*n)),
        }
    }

    /// The string values (empty for numeric enumerations).
    pub fn strings(&self) -> &'static [&'static str] {
        match self {
            Enumeration::Strings(v) => v,
            _ => &[],
        }
    }

    /// Whether `v` is one of the values (numbers compare by value: `1` and
    /// `1.0` are the same).
    pub fn contains(&self, v: &Value) -> bool {
        match (self, v) {
            (Enumeration::Strings(list), Value::String(s)) => list.contains(&s.as_str()),
            (Enumeration::Integers(list), Value::Number(n)) => list
                .iter()
                .any(|x| n.as_i64() == Some(*x) || n.as_f64() == Some(*x as f64)),
            (Enumeration::Numbers(list), Value::Number(n)) => {
                list.iter().any(|x| n.as_f64() == Some(*x))
            }
            _ => false,
        }
    }
}

/// A numeric bound (`minimum` / `maximum` with `exclusiveMinimum` /
/// `exclusiveMaximum`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bound {
    /// The bound.
    pub value: f64,
    /// The bound itself is not allowed.
    pub exclusive: bool,
}

/// `additionalProperties` of an object schema.
#[derive(Clone, Copy, Debug)]
pub enum Additional {
    /// `true` (any other key) or `false` (no other key).
    Allowed(bool),
    /// Every other key's value follows this schema.
    Schema(&'static Schema),
}

/// One entry of an object schema's `properties`.
#[derive(Debug)]
pub struct Property {
    /// The key.
    pub name: &'static str,
    /// Its schema.
    pub schema: &'static Schema,
}

/// A named schema of `components.schemas`.
pub struct Component {
    /// Its name (`Session`, `ProcedureAnesthesiaDetails`, `DownloadLink`).
    pub name: &'static str,
    /// The schema.
    pub schema: Schema,
}

/// One schema node. Absent keywords are `None`, `false` or empty; a node that
/// `$ref`s a component keeps its sibling keywords (`nullable`, `readOnly`,
/// `x-brainstem-related`, ...) next to the reference.
pub struct Schema {
    /// `$ref`: the component this node refers to.
    pub reference: Option<&'static Component>,
    /// `allOf` (OpenAPI 3.0 wraps a `$ref` in a one-member `allOf` to put
    /// keywords next to it).
    pub all_of: &'static [&'static Schema],
    /// `oneOf`: the value must match one of these.
    pub one_of: &'static [&'static Schema],
    /// `anyOf`.
    pub any_of: &'static [&'static Schema],
    /// `type`.
    pub ty: Option<Type>,
    /// `format`.
    pub format: Option<Format>,
    /// `nullable: true`.
    pub nullable: bool,
    /// `readOnly: true`: set by the server only.
    pub read_only: bool,
    /// `writeOnly: true`: sent, never returned.
    pub write_only: bool,
    /// `enum`.
    pub enumeration: Option<Enumeration>,
    /// `minLength`.
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `pattern` (ECMA 262).
    pub pattern: Option<&'static str>,
    /// `minimum` (+ `exclusiveMinimum`).
    pub minimum: Option<Bound>,
    /// `maximum` (+ `exclusiveMaximum`).
    pub maximum: Option<Bound>,
    /// `items` of an array.
    pub items: Option<&'static Schema>,
    /// `minItems`.
    pub min_items: Option<u64>,
    /// `maxItems`.
    pub max_items: Option<u64>,
    /// `uniqueItems: true`.
    pub unique_items: bool,
    /// `properties` of an object, in spec order.
    pub properties: &'static [Property],
    /// `required` keys of an object.
    pub required: &'static [&'static str],
    /// `additionalProperties`.
    pub additional_properties: Option<Additional>,
    /// `default`, as JSON text (see [`Schema::default_value`]).
    pub default: Option<&'static str>,
    /// `x-brainstem-example`: the documented example of a typed payload, as
    /// JSON text (see [`Schema::example_value`]).
    pub example: Option<&'static str>,
    /// `x-brainstem-related`: `app/model` of the record(s) a relation names.
    pub related: Option<&'static str>,
    /// `x-brainstem-unique`: no two records may share the value.
    pub unique: bool,
    /// `x-brainstem-create-only`: writable on create, ignored on update.
    pub create_only: bool,
    /// `x-brainstem-quantity`: a measured value (`{value, unit}`) of this
    /// physical dimension (`Time`, `Length`, ...).
    pub quantity: Option<&'static str>,
    /// `x-brainstem-key-pattern`: the pattern every key of the object must match.
    pub key_pattern: Option<&'static str>,
    /// `x-brainstem-details-group`: the schema group of typed payloads this
    /// node lists the types of (`<Group>Type`) or holds a payload of.
    pub details_group: Option<&'static str>,
}

impl Schema {
    /// The node with every keyword absent (`{}`: anything goes).
    pub const EMPTY: Schema = Schema {
        reference: None,
        all_of: &[],
        one_of: &[],
        any_of: &[],
        ty: None,
        format: None,
        nullable: false,
        read_only: false,
        write_only: false,
        enumeration: None,
        min_length: None,
        max_length: None,
        pattern: None,
        minimum: None,
        maximum: None,
        items: None,
        min_items: None,
        max_items: None,
        unique_items: false,
        properties: &[],
        required: &[],
        additional_properties: None,
        default: None,
        example: None,
        related: None,
        unique: false,
        create_only: false,
        quantity: None,
        key_pattern: None,
        details_group: None,
    };

    /// Follow the node to its definition: through `$ref`s and the
    /// single-member `allOf` wrapper.
    pub fn resolve(&self) -> &Schema {
        let mut cur = self;
        for _ in 0..16 {
            if let Some(c) = cur.reference {
                cur = &c.schema;
                continue;
            }
            if let [only] = cur.all_of {
                cur = only;
                continue;
            }
            break;
        }
        cur
    }

    /// The schema of one of the object's `properties` (this node's own, not
    /// resolved).
    pub fn property(&self, name: &str) -> Option<&'static Schema> {
        self.properties
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.schema)
    }

    /// [`Schema::default`] as a JSON value.
    pub fn default_value(&self) -> Option<Value> {
        self.default.map(json)
    }

    /// [`Schema::example`] as a JSON value.
    pub fn example_value(&self) -> Option<Value> {
        self.example.map(json)
    }
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component")
            .field("name", &self.name)
            .field("schema", &self.schema)
            .finish()
    }
}

/// The keywords a node sets; a `$ref` shows as the component's name (so
/// printing never walks into other components).
impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Schema");
        if let Some(c) = self.reference {
            d.field("reference", &c.name);
        }
        if !self.all_of.is_empty() {
            d.field("all_of", &self.all_of);
        }
        if !self.one_of.is_empty() {
            d.field("one_of", &self.one_of);
        }
        if !self.any_of.is_empty() {
            d.field("any_of", &self.any_of);
        }
        macro_rules! some {
            ($($name:ident),*) => {$(
                if let Some(v) = &self.$name {
                    d.field(stringify!($name), v);
                }
            )*};
        }
        macro_rules! set {
            ($($name:ident),*) => {$(
                if self.$name {
                    d.field(stringify!($name), &true);
                }
            )*};
        }
        some!(ty, format);
        set!(nullable, read_only, write_only);
        some!(
            enumeration,
            min_length,
            max_length,
            pattern,
            minimum,
            maximum,
            items
        );
        some!(min_items, max_items);
        set!(unique_items);
        if !self.properties.is_empty() {
            d.field("properties", &self.properties);
        }
        if !self.required.is_empty() {
            d.field("required", &self.required);
        }
        some!(additional_properties, default, example, related);
        set!(unique, create_only);
        some!(quantity, key_pattern, details_group);
        d.finish()
    }
}

impl Schema {
    /// The node written back as OpenAPI 3.0 JSON: the keywords it keeps (see
    /// the module docs), a `$ref` as `#/components/schemas/<name>`.
    ///
    /// ```
    /// let name = brainstem::schema::component("Session").unwrap().schema.property("name").unwrap();
    /// assert_eq!(name.to_json()["type"], "string");
    /// ```
    pub fn to_json(&self) -> Value {
        let mut o = serde_json::Map::new();
        if let Some(c) = self.reference {
            o.insert(
                "$ref".into(),
                format!("#/components/schemas/{}", c.name).into(),
            );
        }
        let list = |l: &[&Schema]| Value::Array(l.iter().map(|s| s.to_json()).collect());
        for (key, l) in [
            ("allOf", self.all_of),
            ("oneOf", self.one_of),
            ("anyOf", self.any_of),
        ] {
            if !l.is_empty() {
                o.insert(key.into(), list(l));
            }
        }
        if let Some(t) = self.ty {
            o.insert("type".into(), t.as_str().into());
        }
        if let Some(f) = self.format {
            o.insert("format".into(), f.as_str().into());
        }
        for (key, set) in [
            ("nullable", self.nullable),
            ("readOnly", self.read_only),
            ("writeOnly", self.write_only),
            ("uniqueItems", self.unique_items),
            ("x-brainstem-unique", self.unique),
            ("x-brainstem-create-only", self.create_only),
        ] {
            if set {
                o.insert(key.into(), true.into());
            }
        }
        if let Some(e) = &self.enumeration {
            o.insert(
                "enum".into(),
                (0..e.len()).filter_map(|i| e.get(i)).collect(),
            );
        }
        for (key, n) in [
            ("minLength", self.min_length),
            ("maxLength", self.max_length),
            ("minItems", self.min_items),
            ("maxItems", self.max_items),
        ] {
            if let Some(n) = n {
                o.insert(key.into(), n.into());
            }
        }
        for (key, exclusive, bound) in [
            ("minimum", "exclusiveMinimum", self.minimum),
            ("maximum", "exclusiveMaximum", self.maximum),
        ] {
            if let Some(b) = bound {
                o.insert(key.into(), number(b.value));
                if b.exclusive {
                    o.insert(exclusive.into(), true.into());
                }
            }
        }
        if let Some(items) = self.items {
            o.insert("items".into(), items.to_json());
        }
        if !self.properties.is_empty() {
            let props = self
                .properties
                .iter()
                .map(|p| (p.name.to_string(), p.schema.to_json()));
            o.insert("properties".into(), Value::Object(props.collect()));
        }
        if !self.required.is_empty() {
            o.insert("required".into(), self.required.iter().copied().collect());
        }
        match self.additional_properties {
            Some(Additional::Allowed(b)) => {
                o.insert("additionalProperties".into(), b.into());
            }
            Some(Additional::Schema(s)) => {
                o.insert("additionalProperties".into(), s.to_json());
            }
            None => {}
        }
        if let Some(d) = self.default_value() {
            o.insert("default".into(), d);
        }
        if let Some(x) = self.example_value() {
            o.insert("x-brainstem-example".into(), x);
        }
        for (key, text) in [
            ("pattern", self.pattern),
            ("x-brainstem-related", self.related),
            ("x-brainstem-quantity", self.quantity),
            ("x-brainstem-key-pattern", self.key_pattern),
            ("x-brainstem-details-group", self.details_group),
        ] {
            if let Some(t) = text {
                o.insert(key.into(), t.into());
            }
        }
        Value::Object(o)
    }

    /// Every component this node refers to, directly or through others.
    fn references(&'static self, seen: &mut Vec<&'static Component>) {
        if let Some(c) = self.reference
            && !seen.iter().any(|s| std::ptr::eq(*s, c))
        {
            seen.push(c);
            c.schema.references(seen);
        }
        let nested = self
            .all_of
            .iter()
            .chain(self.one_of)
            .chain(self.any_of)
            .copied();
        let more = self
            .items
            .into_iter()
            .chain(self.properties.iter().map(|p| p.schema));
        let extra = match self.additional_properties {
            Some(Additional::Schema(s)) => Some(s),
            _ => None,
        };
        for s in nested.chain(more).chain(extra) {
            s.references(seen);
        }
    }
}

impl Component {
    /// A self-contained JSON document for this component: a `$ref` to it and,
    /// under `components.schemas`, it and every component it refers to (the
    /// spec's own schemas, as [`Schema::to_json`] writes them).
    ///
    /// ```
    /// let doc = brainstem::schema::component("Session").unwrap().document();
    /// assert_eq!(doc["$ref"], "#/components/schemas/Session");
    /// assert!(doc["components"]["schemas"]["Session"]["properties"]["name"].is_object());
    /// ```
    pub fn document(&'static self) -> Value {
        let mut seen = vec![self];
        self.schema.references(&mut seen);
        seen.sort_by_key(|c| c.name);
        let schemas = seen
            .iter()
            .map(|c| (c.name.to_string(), c.schema.to_json()));
        serde_json::json!({
            "$ref": format!("#/components/schemas/{}", self.name),
            "components": { "schemas": Value::Object(schemas.collect()) },
        })
    }
}

/// A bound as JSON: integral values as integers (`0`, not `0.0`).
fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

/// JSON text the generator wrote from a JSON value.
fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("build.rs writes defaults and examples as JSON")
}

/// The generated data: one `static` per component and per distinct nested
/// node, and the lookup tables below.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub(crate) mod data {
    use super::{Additional, Bound, Component, Enumeration, Format, Property, Schema, Type};
    include!(concat!(env!("OUT_DIR"), "/schema.rs"));
}

/// Every component schema of the spec, ordered by name.
pub fn components() -> &'static [&'static Component] {
    &data::COMPONENTS
}

/// A component schema by name (`Session`, `ProcedureAnesthesiaDetails`).
pub fn component(name: &str) -> Option<&'static Component> {
    data::COMPONENTS
        .binary_search_by(|c| c.name.cmp(name))
        .ok()
        .map(|i| data::COMPONENTS[i])
}

/// The schema of a typed payload: the component whose `x-brainstem-schema`
/// is `<group>/<type_name>` (`details_schema("Procedure", "Anesthesia")`).
pub fn details_schema(group: &str, type_name: &str) -> Option<&'static Component> {
    data::DETAILS
        .binary_search_by(|(g, t, _)| (*g, *t).cmp(&(group, type_name)))
        .ok()
        .map(|i| data::DETAILS[i].2)
}

/// The component an operation's JSON request body `$ref`s, by `operationId`
/// (`procedurelog_add_entry` -> `ProcedureLogEntryInput`).
pub fn request_body(operation_id: &str) -> Option<&'static Component> {
    data::REQUEST_BODIES
        .binary_search_by(|(id, _)| (*id).cmp(operation_id))
        .ok()
        .map(|i| data::REQUEST_BODIES[i].1)
}
