//! Reading the OpenAPI document into the facts the generator needs.
//!
//! Everything here is read from the spec's standard keywords and its
//! `x-brainstem-*` extensions (see `schema/CONVENTIONS.md`). Nothing is
//! known about any particular model.

use serde_json::{Map, Value};

use super::names;

pub type Result<T> = std::result::Result<T, String>;

/// The whole API as the generator sees it.
pub struct Api {
    pub version: String,
    pub docs_revision: String,
    pub models: Vec<Model>,
    pub ops: Vec<Op>,
}

/// How a model's records are identified.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IdKind {
    Uuid,
    Integer,
}

pub struct Approval {
    pub model: String,
    pub schema: String,
    pub one: String,
    pub many: String,
    /// `x-brainstem-id` of the approval schema.
    pub id: IdKind,
    /// The approval schema's own properties, read like a model's.
    pub fields: Vec<Field>,
}

pub struct Loader {
    pub default_include: Vec<String>,
    /// (keyword, dynamic-rest filter key)
    pub filters: Vec<(String, String)>,
}

/// One typed payload slot of a model: a selector field and the payload it picks.
pub struct DetailsSlot {
    pub group: String,
    pub tag: String,
    pub content: String,
}

pub struct Model {
    pub schema: String,
    pub app: String,
    pub url: String,
    pub one: String,
    pub many: String,
    pub id: IdKind,
    pub approval: Option<Approval>,
    pub loader: Option<Loader>,
    pub details: Vec<DetailsSlot>,
    pub description: String,
    /// The model's page in the public BrainSTEM docs (`x-brainstem-docs-url`).
    pub docs_url: Option<String>,
    pub fields: Vec<Field>,
}

/// The scalar (or element) kind of a field.
#[derive(Clone, PartialEq, Debug)]
pub enum Kind {
    Uuid,
    Integer,
    Number,
    Boolean,
    Text,
    Date,
    DateTime,
    /// A string enum, with its values.
    Choice(Vec<String>),
    /// A JSON object or anything structured.
    Json,
}

pub struct Field {
    pub json: String,
    pub rust: String,
    pub kind: Kind,
    /// An array of `kind`.
    pub many: bool,
    pub read_only: bool,
    pub nullable: bool,
    pub create_required: bool,
    pub response_required: bool,
    pub patch_required: bool,
    /// No two records may share the value.
    pub unique: bool,
    /// Writable on create only (`x-brainstem-create-only`).
    pub create_only: bool,
    /// `app/model` of the related model, for relation fields.
    pub related: Option<String>,
    pub filterable: bool,
    pub sortable: bool,
    pub includable: bool,
    pub schema: Value,
}

pub struct Op {
    pub id: String,
    pub method: String,
    pub path: String,
    pub model: Option<String>,
    pub portals: Vec<String>,
    pub action: Option<String>,
    /// The component the request body refers to (`SubjectLogEntryInput`).
    pub body: Option<String>,
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn get_str(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Follow a local `$ref` to the schema it names.
pub fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    let mut cur = schema;
    for _ in 0..16 {
        match cur.get("$ref").and_then(Value::as_str) {
            Some(r) => match r
                .strip_prefix("#/components/schemas/")
                .and_then(|n| spec.pointer(&format!("/components/schemas/{n}")))
            {
                Some(next) => cur = next,
                None => return cur,
            },
            None => return cur,
        }
    }
    cur
}

/// The component name a `$ref` points at.
pub fn ref_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")?
        .as_str()?
        .strip_prefix("#/components/schemas/")
}

fn kind_of(spec: &Value, schema: &Value) -> Kind {
    let s = resolve(spec, schema);
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        return Kind::Choice(
            values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        );
    }
    match s.get("type").and_then(Value::as_str) {
        Some("string") => match s.get("format").and_then(Value::as_str) {
            Some("uuid") => Kind::Uuid,
            Some("date") => Kind::Date,
            Some("date-time") => Kind::DateTime,
            _ => Kind::Text,
        },
        Some("integer") => Kind::Integer,
        Some("number") => Kind::Number,
        Some("boolean") => Kind::Boolean,
        _ => Kind::Json,
    }
}

impl Api {
    pub fn read(spec: &Value) -> Result<Api> {
        let info = spec.get("info").ok_or("spec has no info")?;
        let version = get_str(info, "version").ok_or("info.version is missing")?;
        let docs_revision = get_str(info, "x-brainstem-docs-revision").unwrap_or_default();
        let schemas = spec
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .ok_or("spec has no components.schemas")?;
        let mut models = Vec::new();
        for (name, schema) in schemas {
            if schema.get("x-brainstem-model").is_some() {
                models.push(Model::read(spec, name, schema)?);
            }
        }
        models.sort_by(|a, b| a.url.cmp(&b.url));
        let mut ops = Vec::new();
        if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let Some(item) = item.as_object() else {
                    continue;
                };
                for method in ["get", "post", "put", "patch", "delete"] {
                    if let Some(op) = item.get(method) {
                        ops.push(Op::read(path, method, op)?);
                    }
                }
            }
        }
        ops.sort_by(|a, b| a.id.cmp(&b.id));
        for w in ops.windows(2) {
            if w[0].id == w[1].id {
                return Err(format!("operationId {} is used twice", w[0].id));
            }
        }
        Ok(Api {
            version,
            docs_revision,
            models,
            ops,
        })
    }

    pub fn model_by_path(&self, path: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.path() == path)
    }

    /// Operations on a model (`app/url`), in operationId order.
    pub fn ops_of<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a Op> + 'a {
        self.ops
            .iter()
            .filter(move |o| o.model.as_deref() == Some(path))
    }
}

impl Op {
    fn read(path: &str, method: &str, op: &Value) -> Result<Op> {
        let id = get_str(op, "operationId")
            .ok_or_else(|| format!("{method} {path} has no operationId"))?;
        let mut portals = Vec::new();
        if let Some(params) = op.get("parameters").and_then(Value::as_array) {
            for p in params {
                if p.get("name").and_then(Value::as_str) == Some("portal") {
                    portals = str_list(p.pointer("/schema/enum"));
                }
            }
        }
        Ok(Op {
            id,
            method: method.to_uppercase(),
            path: path.to_string(),
            model: get_str(op, "x-brainstem-model"),
            portals,
            action: get_str(op, "x-brainstem-action"),
            body: op
                .pointer("/requestBody/content/application~1json/schema/$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .map(str::to_string),
        })
    }
}

/// `x-brainstem-id` of a schema (UUID when absent).
fn id_kind(name: &str, schema: &Value) -> Result<IdKind> {
    match schema.get("x-brainstem-id").and_then(Value::as_str) {
        Some("integer") => Ok(IdKind::Integer),
        Some("uuid") | None => Ok(IdKind::Uuid),
        Some(other) => Err(format!("{name}: unknown x-brainstem-id {other:?}")),
    }
}

/// The fields of a record schema (a model's, or an approval schema's), in
/// spec order, classified by the one rule.
fn read_fields(spec: &Value, schema: &Value) -> Vec<Field> {
    let required = str_list(schema.get("required"));
    let response_required = match schema.get("x-brainstem-response-required") {
        Some(v) => str_list(Some(v)),
        None => required.clone(),
    };
    let patch_required = str_list(schema.get("x-brainstem-patch-required"));
    let empty = Map::new();
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut fields = Vec::new();
    for (json, p) in props {
        let read_only = p.get("readOnly").and_then(Value::as_bool).unwrap_or(false);
        let resolved = resolve(spec, p);
        let is_array = resolved.get("type").and_then(Value::as_str) == Some("array");
        let (kind, many) = if is_array {
            let items = resolved.get("items").cloned().unwrap_or(Value::Null);
            (kind_of(spec, &items), true)
        } else {
            (kind_of(spec, p), false)
        };
        let related = get_str(p, "x-brainstem-related");
        let flag = |k: &str| p.get(k).and_then(Value::as_bool);
        let scalar = !matches!(kind, Kind::Json);
        fields.push(Field {
            json: json.clone(),
            rust: names::field(json),
            kind,
            many,
            read_only,
            nullable: flag("nullable").unwrap_or(false),
            create_required: required.contains(json) && !read_only,
            response_required: response_required.contains(json),
            patch_required: patch_required.contains(json),
            unique: flag("x-brainstem-unique").unwrap_or(false),
            create_only: flag("x-brainstem-create-only").unwrap_or(false),
            filterable: flag("x-brainstem-filter").unwrap_or(scalar),
            sortable: flag("x-brainstem-sort").unwrap_or(scalar && !many && related.is_none()),
            includable: flag("x-brainstem-include").unwrap_or(true) && related.is_some(),
            related,
            schema: p.clone(),
        });
    }
    fields
}

impl Model {
    fn read(spec: &Value, name: &str, schema: &Value) -> Result<Model> {
        let path = get_str(schema, "x-brainstem-model").unwrap_or_default();
        let (app, url) = path
            .split_once('/')
            .ok_or_else(|| format!("{name}: x-brainstem-model must be app/model, got {path:?}"))?;
        let env = schema
            .get("x-brainstem-envelope")
            .ok_or_else(|| format!("{name}: x-brainstem-envelope is missing"))?;
        let one = get_str(env, "one").ok_or_else(|| format!("{name}: envelope.one missing"))?;
        let many = get_str(env, "many").ok_or_else(|| format!("{name}: envelope.many missing"))?;
        let id = id_kind(name, schema)?;
        let approval = match schema.get("x-brainstem-approval") {
            Some(a) => {
                let a_schema =
                    get_str(a, "schema").ok_or_else(|| format!("{name}: approval.schema"))?;
                let component = spec
                    .pointer("/components/schemas")
                    .and_then(|s| s.get(&a_schema))
                    .ok_or_else(|| format!("{name}: no approval schema {a_schema}"))?;
                Some(Approval {
                    model: get_str(a, "model").ok_or_else(|| format!("{name}: approval.model"))?,
                    one: get_str(a, "one").ok_or_else(|| format!("{name}: approval.one"))?,
                    many: get_str(a, "many").ok_or_else(|| format!("{name}: approval.many"))?,
                    id: id_kind(&a_schema, component)?,
                    fields: read_fields(spec, component),
                    schema: a_schema,
                })
            }
            None => None,
        };
        let loader = schema.get("x-brainstem-loader").map(|l| Loader {
            default_include: str_list(l.get("default_include")),
            filters: l
                .get("filters")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
        });
        let details = schema
            .get("x-brainstem-details")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|d| {
                        Some(DetailsSlot {
                            group: get_str(d, "group")?,
                            tag: get_str(d, "tag")?,
                            content: get_str(d, "content")?,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let fields = read_fields(spec, schema);
        Ok(Model {
            schema: name.to_string(),
            app: app.to_string(),
            url: url.to_string(),
            one,
            many,
            id,
            approval,
            loader,
            details,
            description: get_str(schema, "description").unwrap_or_default(),
            docs_url: get_str(schema, "x-brainstem-docs-url"),
            fields,
        })
    }

    pub fn path(&self) -> String {
        format!("{}/{}", self.app, self.url)
    }

    pub fn new_name(&self) -> String {
        format!("New{}", self.schema)
    }

    pub fn patch_name(&self) -> String {
        format!("{}Patch", self.schema)
    }
}
