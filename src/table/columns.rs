//! The column rules: which columns a model's records make, and the cells of
//! one record, in that order (see the [module docs](crate::table) for the
//! table of rules).
//!
//! Everything here is derived from [`ModelMeta`] and the spec's schemas
//! ([`crate::schema`]); nothing is listed per model. Rows are read from a
//! record's JSON ([`Layout::row`]); a typed record is serialized to JSON
//! first ([`Layout::row_of`]), which costs one `serde_json::Value` tree per
//! record (about as much as decoding it did), kept only while its row is
//! built.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::Model;
use crate::meta::{FieldKind, FieldMeta, ModelMeta};
use crate::schema::{Format, Schema, Type};

/// The type of a column's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// `true` / `false`.
    Bool,
    /// A 64-bit integer.
    Int,
    /// A 64-bit float.
    Float,
    /// Text (free text, choices, units).
    Text,
    /// A UUID.
    Uuid,
    /// An instant, microseconds in UTC.
    Timestamp,
    /// A calendar date.
    Date,
    /// Any JSON value, kept whole (objects, lists of objects, mixed payloads).
    Json,
    /// A list of text values (ids of related records, tags, ...).
    List,
}

impl ColumnKind {
    /// A short name (`"timestamp"`), used in error messages and docs.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::Bool => "bool",
            ColumnKind::Int => "int",
            ColumnKind::Float => "float",
            ColumnKind::Text => "text",
            ColumnKind::Uuid => "uuid",
            ColumnKind::Timestamp => "timestamp",
            ColumnKind::Date => "date",
            ColumnKind::Json => "json",
            ColumnKind::List => "list",
        }
    }
}

impl fmt::Display for ColumnKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a column's values come from, within its [`Column::field`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The field's value.
    Value,
    /// A relation: the related record's id (ids, for a relation to many);
    /// an embedded record gives its `id`.
    Ids,
    /// A column of the included (embedded) related record(s).
    Included {
        /// The related model's field.
        column: &'static str,
    },
    /// One field of a typed payload of the chosen type.
    Detail {
        /// The payload's key.
        key: &'static str,
    },
    /// The number of a measured value (`{"value", "unit"}`) in a typed payload.
    QuantityValue {
        /// The payload's key.
        key: &'static str,
    },
    /// The unit of a measured value in a typed payload.
    QuantityUnit {
        /// The payload's key.
        key: &'static str,
    },
}

/// One column of a model's table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The column's name: the field's JSON name, or `<field>.<key>` for the
    /// columns derived from one field (`projects.name`,
    /// `details.thickness.value`).
    pub name: String,
    /// The type of its values.
    pub kind: ColumnKind,
    /// Whether a record may leave it empty, as far as the spec says (the
    /// field is nullable, not always sent, or optional in its payload).
    pub nullable: bool,
    /// The model field it comes from.
    pub field: &'static str,
    /// What of the field it holds.
    pub role: Role,
    /// The field holds a list: a `List` column gathers one value per element.
    pub many: bool,
}

/// The columns of a model's records with the default layout (no included
/// relations, typed payloads as JSON): [`Layout::new`]`(meta).columns()`.
///
/// ```
/// let meta = brainstem::meta::ModelMeta::find("procedure").unwrap();
/// let names: Vec<String> = brainstem::table::columns(meta).into_iter().map(|c| c.name).collect();
/// assert!(names.contains(&"details".to_string()));
/// ```
pub fn columns(meta: &'static ModelMeta) -> Vec<Column> {
    Layout::new(meta).columns
}

/// A typed payload slot laid out per field of one chosen type.
#[derive(Clone, Debug)]
struct FlatDetails {
    /// The payload field (`details`).
    content: &'static str,
    /// The selector field (`type`).
    tag: &'static str,
    /// The chosen type.
    type_name: String,
}

/// How a model's records are laid out as rows: the model, the relations
/// included (with the related columns shown), and the typed payloads laid
/// out per field. Build it, then read [`Layout::columns`] and one
/// [`Layout::row`] per record.
///
/// ```
/// use brainstem::table::{Cell, Layout};
/// let meta = brainstem::meta::ModelMeta::find("session").unwrap();
/// let layout = Layout::new(meta).include("projects", &["name"]).unwrap();
/// let record = serde_json::json!({
///     "id": "6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11",
///     "name": "s1",
///     "date_time": "2024-05-01T10:00:00Z",
///     "projects": [{"id": "0b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11", "name": "P"}],
/// });
/// let row = layout.row(&record).unwrap();
/// let at = |name: &str| layout.columns().iter().position(|c| c.name == name).unwrap();
/// assert_eq!(row[at("name")].to_text(), "s1");
/// assert_eq!(row[at("projects")].to_text(), "0b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11");
/// assert_eq!(row[at("projects.name")].to_text(), "P");
/// assert!(matches!(row[at("date_time")], Cell::Timestamp(_)));
/// assert!(matches!(row[at("description")], Cell::Null));
/// ```
#[derive(Clone, Debug)]
pub struct Layout {
    meta: &'static ModelMeta,
    includes: Vec<(&'static str, Vec<&'static str>)>,
    details: Vec<FlatDetails>,
    columns: Vec<Column>,
}

/// A layout that cannot be built: the error names the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// The model has no such field.
    #[error("`{model}` has no field `{field}`")]
    UnknownField {
        /// The model's URL name.
        model: &'static str,
        /// The name asked for.
        field: String,
    },
    /// The field is not a relation.
    #[error("`{model}.{field}` is not a relation, so it cannot be included")]
    NotRelation {
        /// The model's URL name.
        model: &'static str,
        /// The field.
        field: &'static str,
    },
    /// The related model has no such field, or it is not a single value.
    #[error("`{related}` has no single-valued field `{column}` to show for the included `{field}`")]
    UnknownColumn {
        /// The relation field.
        field: &'static str,
        /// `app/model` of the related model.
        related: &'static str,
        /// The column asked for.
        column: String,
    },
    /// The field is not a typed payload of the model.
    #[error("`{model}.{field}` is not a typed payload")]
    NotDetails {
        /// The model's URL name.
        model: &'static str,
        /// The field.
        field: String,
    },
    /// The payload group has no such type.
    #[error("`{field}` has no type `{type_name}` (schema group {group})")]
    UnknownType {
        /// The payload field.
        field: &'static str,
        /// The schema group.
        group: &'static str,
        /// The type asked for.
        type_name: String,
    },
}

/// A record whose value does not fit its column; the error names the column.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CellError {
    /// The record is not a JSON object.
    #[error("a record is not a JSON object")]
    NotObject,
    /// A typed record of another model than the layout's.
    #[error("the layout is for `{layout}` records, not `{record}`")]
    OtherModel {
        /// The layout's model.
        layout: &'static str,
        /// The record's model.
        record: &'static str,
    },
    /// A value of another type than the column's.
    #[error("column `{column}`: expected {expected}, found {found}")]
    Mismatch {
        /// The column.
        column: String,
        /// The column's kind.
        expected: ColumnKind,
        /// The value (shortened).
        found: String,
    },
    /// A typed payload of another type than the one laid out per field.
    #[error("column `{column}`: the record's `{tag}` is {found}, not {expected:?}")]
    OtherType {
        /// The column.
        column: String,
        /// The selector field.
        tag: &'static str,
        /// The chosen type.
        expected: String,
        /// The record's type (shortened JSON).
        found: String,
    },
    /// A serialization failure of a typed record (not expected for the
    /// generated types).
    #[error("a record did not serialize: {0}")]
    Serialize(String),
}

/// One value of a row. Text, JSON and lists borrow from the record's JSON
/// where they can ([`Cell::into_owned`] detaches them).
#[derive(Clone, Debug, PartialEq)]
pub enum Cell<'a> {
    /// No value (null or absent).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Text(Cow<'a, str>),
    /// A UUID.
    Uuid(Uuid),
    /// An instant.
    Timestamp(DateTime<Utc>),
    /// A date.
    Date(NaiveDate),
    /// A JSON value.
    Json(Cow<'a, Value>),
    /// A list of text values.
    List(Vec<Cow<'a, str>>),
}

impl Cell<'_> {
    /// The cell with everything it borrows copied.
    pub fn into_owned(self) -> Cell<'static> {
        match self {
            Cell::Null => Cell::Null,
            Cell::Bool(b) => Cell::Bool(b),
            Cell::Int(i) => Cell::Int(i),
            Cell::Float(f) => Cell::Float(f),
            Cell::Text(t) => Cell::Text(Cow::Owned(t.into_owned())),
            Cell::Uuid(u) => Cell::Uuid(u),
            Cell::Timestamp(t) => Cell::Timestamp(t),
            Cell::Date(d) => Cell::Date(d),
            Cell::Json(v) => Cell::Json(Cow::Owned(v.into_owned())),
            Cell::List(l) => {
                Cell::List(l.into_iter().map(|s| Cow::Owned(s.into_owned())).collect())
            }
        }
    }

    /// Whether the cell is empty.
    pub fn is_null(&self) -> bool {
        matches!(self, Cell::Null)
    }

    /// The cell as CSV text: null is empty, a timestamp RFC 3339 in UTC
    /// (`2024-05-01T10:00:00Z`, fractions of a second when there are), a
    /// date `YYYY-MM-DD`, JSON compact, a list its items joined with `;`
    /// (a `;` or `\` inside an item escaped with `\`, see [`split_list`]).
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use brainstem::table::Cell;
    /// let list = Cell::List(vec![Cow::Borrowed("a"), Cow::Borrowed("b;c")]);
    /// assert_eq!(list.to_text(), r"a;b\;c");
    /// assert_eq!(brainstem::table::columns::split_list(&list.to_text()), ["a", "b;c"]);
    /// assert_eq!(Cell::Float(0.5).to_text(), "0.5");
    /// ```
    pub fn to_text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Bool(b) => b.to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => f.to_string(),
            Cell::Text(t) => t.to_string(),
            Cell::Uuid(u) => u.to_string(),
            Cell::Timestamp(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Json(v) => v.to_string(),
            Cell::List(items) => {
                let mut out = String::new();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(';');
                    }
                    for c in item.chars() {
                        if c == ';' || c == '\\' {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                }
                out
            }
        }
    }
}

/// The items of a list cell's text ([`Cell::to_text`]): split at `;`, `\`
/// escapes undone. The empty text is the empty list.
pub fn split_list(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    if text.is_empty() {
        return items;
    }
    let mut cur = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.extend(chars.next()),
            ';' => items.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    items.push(cur);
    items
}

/// The column kind of a single value of a field (its element, for a list).
fn scalar_kind(kind: FieldKind) -> ColumnKind {
    match kind {
        FieldKind::Uuid => ColumnKind::Uuid,
        FieldKind::Integer => ColumnKind::Int,
        FieldKind::Number => ColumnKind::Float,
        FieldKind::Boolean => ColumnKind::Bool,
        FieldKind::Text | FieldKind::Choice => ColumnKind::Text,
        FieldKind::Date => ColumnKind::Date,
        FieldKind::DateTime => ColumnKind::Timestamp,
        FieldKind::Json => ColumnKind::Json,
    }
}

/// The column kind of a whole field.
fn field_kind(f: &FieldMeta) -> ColumnKind {
    match (f.many, f.kind) {
        (true, FieldKind::Json) => ColumnKind::Json,
        (true, _) => ColumnKind::List,
        (false, k) => scalar_kind(k),
    }
}

/// Whether a record may leave the field empty.
fn field_nullable(f: &FieldMeta) -> bool {
    f.nullable || !f.response_required
}

/// What a field of a typed payload's schema becomes.
enum DetailShape {
    /// A measured value: two columns.
    Quantity,
    /// One column of this kind.
    One(ColumnKind),
}

fn detail_shape(s: &Schema) -> DetailShape {
    let r = s.resolve();
    if r.quantity.is_some() {
        return DetailShape::Quantity;
    }
    DetailShape::One(match r.ty {
        Some(Type::String) => match r.format {
            Some(Format::Uuid) => ColumnKind::Uuid,
            Some(Format::Date) => ColumnKind::Date,
            Some(Format::DateTime) => ColumnKind::Timestamp,
            _ => ColumnKind::Text,
        },
        Some(Type::Integer) => ColumnKind::Int,
        Some(Type::Number) => ColumnKind::Float,
        Some(Type::Boolean) => ColumnKind::Bool,
        Some(Type::Array) => match r.items.map(|i| i.resolve()) {
            Some(i) if matches!(i.ty, Some(Type::String | Type::Integer | Type::Number)) => {
                ColumnKind::List
            }
            _ => ColumnKind::Json,
        },
        Some(Type::Object) | None => ColumnKind::Json,
    })
}

/// The related columns shown by default for an included relation: `name`
/// when the related model has one, else every single-valued field but the id.
fn default_included(related: &'static ModelMeta) -> Vec<&'static str> {
    if related.field("name").is_some_and(|f| !f.many) {
        return vec!["name"];
    }
    related
        .fields
        .iter()
        .filter(|f| f.name != "id" && !f.many && f.kind != FieldKind::Json)
        .map(|f| f.name)
        .collect()
}

impl Layout {
    /// The default layout of `meta`'s records: every field, relations as
    /// ids, typed payloads as JSON.
    pub fn new(meta: &'static ModelMeta) -> Layout {
        let mut layout = Layout {
            meta,
            includes: Vec::new(),
            details: Vec::new(),
            columns: Vec::new(),
        };
        layout.columns = layout.build();
        layout
    }

    /// The default layout of model `M`.
    pub fn of<M: Model>() -> Layout {
        Layout::new(M::META)
    }

    /// The model laid out.
    pub fn meta(&self) -> &'static ModelMeta {
        self.meta
    }

    /// The columns, in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The column names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// Also show `columns` of the records the relation `field` names, as
    /// `<field>.<column>` right after the ids (for a relation to many, a
    /// list per record). No columns: the related model's `name`, else its
    /// single-valued fields. The records must have been fetched with the
    /// relation included (`include[]`); a row whose relation was not
    /// filled in has empty related columns.
    pub fn include(mut self, field: &str, columns: &[&str]) -> Result<Layout, LayoutError> {
        let f = self.meta.field(field).ok_or(LayoutError::UnknownField {
            model: self.meta.name,
            field: field.to_string(),
        })?;
        let related = f
            .related
            .and_then(ModelMeta::find_path)
            .ok_or(LayoutError::NotRelation {
                model: self.meta.name,
                field: f.name,
            })?;
        let chosen = if columns.is_empty() {
            default_included(related)
        } else {
            columns
                .iter()
                .map(|c| match related.field(c) {
                    Some(rf) if !rf.many && rf.kind != FieldKind::Json => Ok(rf.name),
                    _ => Err(LayoutError::UnknownColumn {
                        field: f.name,
                        related: f.related.unwrap_or_default(),
                        column: c.to_string(),
                    }),
                })
                .collect::<Result<_, _>>()?
        };
        self.includes.retain(|(name, _)| *name != f.name);
        self.includes.push((f.name, chosen));
        self.columns = self.build();
        Ok(self)
    }

    /// Lay the typed payload `field` (`details`) out per field of the type
    /// `type_name` (`BrainSlice`): one column per field of its schema, a
    /// measured value as `.value` and `.unit`. Every record must then be of
    /// that type ([`CellError::OtherType`] otherwise; filter the query on
    /// the selector). A type whose payload is not an object with listed
    /// fields (lists of rows, free-form objects) stays one JSON column.
    pub fn details_type(mut self, field: &str, type_name: &str) -> Result<Layout, LayoutError> {
        let slot = self
            .meta
            .details
            .iter()
            .find(|d| d.content == field)
            .ok_or(LayoutError::NotDetails {
                model: self.meta.name,
                field: field.to_string(),
            })?;
        let component = crate::schema::details_schema(slot.group, type_name).ok_or(
            LayoutError::UnknownType {
                field: slot.content,
                group: slot.group,
                type_name: type_name.to_string(),
            },
        )?;
        self.details.retain(|d| d.content != slot.content);
        let payload = component.schema.resolve();
        if payload.ty == Some(Type::Object) && !payload.properties.is_empty() {
            self.details.push(FlatDetails {
                content: slot.content,
                tag: slot.tag,
                type_name: type_name.to_string(),
            });
        }
        self.columns = self.build();
        Ok(self)
    }

    /// The typed payload slot `field` laid out per field, if it is.
    fn flat(&self, field: &str) -> Option<&FlatDetails> {
        self.details.iter().find(|d| d.content == field)
    }

    fn build(&self) -> Vec<Column> {
        let mut cols = Vec::new();
        for f in self.meta.fields {
            let nullable = field_nullable(f);
            if let Some(flat) = self.flat(f.name) {
                let slot = self
                    .meta
                    .details
                    .iter()
                    .find(|d| d.content == f.name)
                    .expect("flat details are checked against the slots");
                let payload = crate::schema::details_schema(slot.group, &flat.type_name)
                    .expect("flat details are checked against the schemas")
                    .schema
                    .resolve();
                for p in payload.properties {
                    let optional = nullable
                        || !payload.required.contains(&p.name)
                        || p.schema.nullable
                        || p.schema.resolve().nullable;
                    match detail_shape(p.schema) {
                        DetailShape::Quantity => {
                            cols.push(Column {
                                name: format!("{}.{}.value", f.name, p.name),
                                kind: ColumnKind::Float,
                                nullable: optional,
                                field: f.name,
                                role: Role::QuantityValue { key: p.name },
                                many: false,
                            });
                            cols.push(Column {
                                name: format!("{}.{}.unit", f.name, p.name),
                                kind: ColumnKind::Text,
                                nullable: optional,
                                field: f.name,
                                role: Role::QuantityUnit { key: p.name },
                                many: false,
                            });
                        }
                        DetailShape::One(kind) => cols.push(Column {
                            name: format!("{}.{}", f.name, p.name),
                            kind,
                            nullable: optional,
                            field: f.name,
                            role: Role::Detail { key: p.name },
                            many: false,
                        }),
                    }
                }
                continue;
            }
            cols.push(Column {
                name: f.name.to_string(),
                kind: field_kind(f),
                nullable,
                field: f.name,
                role: if f.related.is_some() {
                    Role::Ids
                } else {
                    Role::Value
                },
                many: f.many,
            });
            let Some((_, shown)) = self.includes.iter().find(|(name, _)| *name == f.name) else {
                continue;
            };
            let Some(related) = f.related.and_then(ModelMeta::find_path) else {
                continue;
            };
            for column in shown {
                let Some(rf) = related.field(column) else {
                    continue;
                };
                cols.push(Column {
                    name: format!("{}.{}", f.name, rf.name),
                    kind: if f.many {
                        ColumnKind::List
                    } else {
                        scalar_kind(rf.kind)
                    },
                    // a relation left out or not filled in empties it
                    nullable: true,
                    field: f.name,
                    role: Role::Included { column: rf.name },
                    many: f.many,
                });
            }
        }
        cols
    }

    /// The cells of one record (its JSON object), in column order.
    pub fn row<'a>(&self, record: &'a Value) -> Result<Vec<Cell<'a>>, CellError> {
        let obj = record.as_object().ok_or(CellError::NotObject)?;
        self.check_types(obj)?;
        self.columns
            .iter()
            .map(|c| cell(c, obj.get(c.field)))
            .collect()
    }

    /// The cells of a typed record, in column order. The record is
    /// serialized to JSON first (see the module docs for the cost).
    pub fn row_of<M: Model>(&self, record: &M) -> Result<Vec<Cell<'static>>, CellError> {
        if !std::ptr::eq(M::META, self.meta) {
            return Err(CellError::OtherModel {
                layout: self.meta.name,
                record: M::META.name,
            });
        }
        let value =
            serde_json::to_value(record).map_err(|e| CellError::Serialize(e.to_string()))?;
        Ok(self
            .row(&value)?
            .into_iter()
            .map(Cell::into_owned)
            .collect())
    }

    /// The CSV text of one record's cells, in column order. Never fails: a
    /// value that does not fit its column is written as its JSON text.
    pub fn text_row(&self, record: &Value) -> Vec<String> {
        let obj = record.as_object();
        self.columns
            .iter()
            .map(|c| {
                let v = obj.and_then(|o| o.get(c.field));
                match cell(c, v) {
                    Ok(cell) => cell.to_text(),
                    Err(_) => raw_part(c, v).map(text_of).unwrap_or_default(),
                }
            })
            .collect()
    }

    /// Every payload laid out per field must be of the chosen type.
    fn check_types(&self, obj: &serde_json::Map<String, Value>) -> Result<(), CellError> {
        for flat in &self.details {
            let content = obj.get(flat.content);
            if content.is_none_or(Value::is_null) {
                continue;
            }
            match obj.get(flat.tag) {
                Some(Value::String(t)) if *t == flat.type_name => {}
                other => {
                    return Err(CellError::OtherType {
                        column: flat.content.to_string(),
                        tag: flat.tag,
                        expected: flat.type_name.clone(),
                        found: other.map_or("absent".into(), short),
                    });
                }
            }
        }
        Ok(())
    }
}

/// A value as text for a cell that did not fit: a string as itself,
/// anything else as its JSON.
fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The part of the field's value a column shows (before conversion).
fn raw_part<'a>(c: &Column, v: Option<&'a Value>) -> Option<&'a Value> {
    let v = v?;
    match &c.role {
        Role::Value | Role::Ids | Role::Included { .. } => Some(v),
        Role::Detail { key } => v.get(key),
        Role::QuantityValue { key } => v.get(key).and_then(|q| q.get("value")),
        Role::QuantityUnit { key } => v.get(key).and_then(|q| q.get("unit")),
    }
}

/// A value shortened for an error message.
fn short(v: &Value) -> String {
    crate::snippet(v.to_string().as_bytes(), 80)
}

fn mismatch(c: &Column, v: &Value) -> CellError {
    CellError::Mismatch {
        column: c.name.clone(),
        expected: c.kind,
        found: short(v),
    }
}

/// The id of an embedded record, or the value itself.
fn id_of(v: &Value) -> &Value {
    match v {
        Value::Object(o) => o.get("id").unwrap_or(v),
        other => other,
    }
}

/// One cell of column `c`, from the value of its field.
fn cell<'a>(c: &Column, v: Option<&'a Value>) -> Result<Cell<'a>, CellError> {
    let Some(v) = v else {
        return Ok(Cell::Null);
    };
    match &c.role {
        Role::Value | Role::Ids => convert(c, c.kind, v),
        Role::Included { column } => {
            if c.many {
                let Value::Array(items) = v else {
                    return Err(mismatch(c, v));
                };
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item.get(column) {
                        // not embedded: the related columns are unknown
                        None if !item.is_object() => return Ok(Cell::Null),
                        None | Some(Value::Null) => out.push(Cow::Borrowed("")),
                        Some(x) => out.push(list_item(c, x)?),
                    }
                }
                Ok(Cell::List(out))
            } else {
                match v.get(column) {
                    None | Some(Value::Null) => Ok(Cell::Null),
                    Some(x) => convert(c, c.kind, x),
                }
            }
        }
        Role::Detail { .. } | Role::QuantityValue { .. } | Role::QuantityUnit { .. } => {
            match raw_part(c, Some(v)) {
                None | Some(Value::Null) => Ok(Cell::Null),
                Some(x) => convert(c, c.kind, x),
            }
        }
    }
}

/// One item of a list column as text: a string as itself, an embedded
/// record as its id, a number or boolean as its JSON.
fn list_item<'a>(c: &Column, v: &'a Value) -> Result<Cow<'a, str>, CellError> {
    match id_of(v) {
        Value::String(s) => Ok(Cow::Borrowed(s)),
        n @ (Value::Number(_) | Value::Bool(_)) => Ok(Cow::Owned(n.to_string())),
        _ => Err(mismatch(c, v)),
    }
}

/// A JSON value as a cell of `kind`.
fn convert<'a>(c: &Column, kind: ColumnKind, v: &'a Value) -> Result<Cell<'a>, CellError> {
    if v.is_null() {
        return Ok(Cell::Null);
    }
    let bad = || mismatch(c, v);
    Ok(match kind {
        ColumnKind::Json => Cell::Json(Cow::Borrowed(v)),
        ColumnKind::List => {
            let Value::Array(items) = v else {
                return Err(bad());
            };
            Cell::List(
                items
                    .iter()
                    .map(|i| list_item(c, i))
                    .collect::<Result<_, _>>()?,
            )
        }
        ColumnKind::Bool => Cell::Bool(v.as_bool().ok_or_else(bad)?),
        ColumnKind::Int => Cell::Int(id_of(v).as_i64().ok_or_else(bad)?),
        ColumnKind::Float => Cell::Float(v.as_f64().ok_or_else(bad)?),
        ColumnKind::Text => Cell::Text(Cow::Borrowed(v.as_str().ok_or_else(bad)?)),
        ColumnKind::Uuid => Cell::Uuid(
            id_of(v)
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(bad)?,
        ),
        ColumnKind::Timestamp => Cell::Timestamp(
            v.as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .ok_or_else(bad)?
                .with_timezone(&Utc),
        ),
        ColumnKind::Date => Cell::Date(
            v.as_str()
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .ok_or_else(bad)?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(name: &str) -> &'static ModelMeta {
        ModelMeta::find(name).unwrap()
    }

    fn at(layout: &Layout, name: &str) -> usize {
        layout
            .columns()
            .iter()
            .position(|c| c.name == name)
            .unwrap_or_else(|| panic!("no column {name}: {:?}", layout.names()))
    }

    #[test]
    fn every_model_has_one_column_per_field_in_field_order() {
        for m in crate::MODELS {
            let cols = columns(m);
            let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
            let fields: Vec<&str> = m.fields.iter().map(|f| f.name).collect();
            assert_eq!(names, fields, "{}", m.name);
            assert_eq!(columns(m), cols, "stable");
        }
    }

    #[test]
    fn kinds_follow_the_metadata() {
        let cols = columns(meta("session"));
        let kind = |n: &str| cols.iter().find(|c| c.name == n).unwrap().kind;
        assert_eq!(kind("id"), ColumnKind::Uuid);
        assert_eq!(kind("name"), ColumnKind::Text);
        assert_eq!(kind("date_time"), ColumnKind::Timestamp);
        assert_eq!(kind("projects"), ColumnKind::List);
        assert_eq!(kind("tags"), ColumnKind::List);
        assert_eq!(kind("extra_fields"), ColumnKind::Json);
        assert_eq!(kind("download_links"), ColumnKind::Json);
        let date_time = cols.iter().find(|c| c.name == "date_time").unwrap();
        assert!(date_time.nullable);
        assert!(!cols[0].nullable);
        // integer ids
        let user = columns(meta("user"));
        assert_eq!(user[0].name, "id");
        assert_eq!(user[0].kind, ColumnKind::Int);
    }

    #[test]
    fn cells_of_a_session() {
        let layout = Layout::new(meta("session"));
        let r = json!({
            "id": "6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11",
            "name": "s;1",
            "description": "",
            "date_time": "2024-05-01T12:00:00.250+02:00",
            "projects": ["0b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11", {"id": "1b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11", "name": "P"}],
            "tags": ["a;b", "c\\d"],
            "extra_fields": {"rate": 12.5},
            "unknown_key": 1,
        });
        let row = layout.row(&r).unwrap();
        assert_eq!(row.len(), layout.columns().len());
        assert_eq!(
            row[at(&layout, "id")],
            Cell::Uuid("6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11".parse().unwrap())
        );
        assert_eq!(
            row[at(&layout, "date_time")].to_text(),
            "2024-05-01T10:00:00.250Z"
        );
        assert_eq!(
            row[at(&layout, "projects")].to_text(),
            "0b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11;1b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11"
        );
        let tags = row[at(&layout, "tags")].to_text();
        assert_eq!(tags, r"a\;b;c\\d");
        assert_eq!(split_list(&tags), ["a;b", "c\\d"]);
        assert_eq!(
            row[at(&layout, "extra_fields")].to_text(),
            r#"{"rate":12.5}"#
        );
        assert_eq!(row[at(&layout, "epochs")], Cell::Null);
        assert_eq!(layout.text_row(&r)[at(&layout, "name")], "s;1");
    }

    #[test]
    fn a_typed_record_gives_the_cells_of_its_json() {
        let text = r#"{"id": "6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11", "name": "s1",
            "date_time": "2024-05-01T10:00:00Z", "extra_fields": {"rate": 12.50}}"#;
        let session: crate::types::Session = serde_json::from_str(text).unwrap();
        let layout = Layout::of::<crate::types::Session>();
        let row = layout.row_of(&session).unwrap();
        assert_eq!(row[at(&layout, "name")].to_text(), "s1");
        assert_eq!(
            row[at(&layout, "extra_fields")].to_text(),
            r#"{"rate":12.5}"#
        );
        assert_eq!(
            row[at(&layout, "date_time")],
            Cell::Timestamp("2024-05-01T10:00:00Z".parse().unwrap())
        );
        let other = Layout::new(meta("project"));
        assert!(matches!(
            other.row_of(&session).unwrap_err(),
            CellError::OtherModel { .. }
        ));
    }

    #[test]
    fn a_value_of_another_type_names_its_column() {
        let layout = Layout::new(meta("session"));
        let err = layout
            .row(&json!({"id": "x", "date_time": "yesterday"}))
            .unwrap_err();
        assert!(
            matches!(&err, CellError::Mismatch { column, .. } if column == "id"),
            "{err}"
        );
        let err = layout.row(&json!({"date_time": "yesterday"})).unwrap_err();
        assert!(err.to_string().contains("date_time"), "{err}");
        assert_eq!(layout.row(&json!([1])).unwrap_err(), CellError::NotObject);
        // the lenient text form keeps what was sent
        let text = layout.text_row(&json!({"date_time": "yesterday"}));
        assert_eq!(text[at(&layout, "date_time")], "yesterday");
    }

    #[test]
    fn included_relations_add_related_columns() {
        let layout = Layout::new(meta("session"))
            .include("projects", &[])
            .unwrap();
        let i = at(&layout, "projects.name");
        assert_eq!(i, at(&layout, "projects") + 1);
        assert_eq!(layout.columns()[i].kind, ColumnKind::List);
        let r = json!({"projects": [{"id": "0b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11", "name": "A"}, {"id": "1b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11", "name": "B"}]});
        assert_eq!(layout.row(&r).unwrap()[i].to_text(), "A;B");
        // not filled in: unknown, not a shorter list
        let r = json!({"projects": ["0b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11"]});
        assert_eq!(layout.row(&r).unwrap()[i], Cell::Null);

        let err = Layout::new(meta("session"))
            .include("name", &[])
            .unwrap_err();
        assert!(matches!(
            err,
            LayoutError::NotRelation { field: "name", .. }
        ));
        let err = Layout::new(meta("session"))
            .include("projects", &["nope"])
            .unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        let err = Layout::new(meta("session"))
            .include("nope", &[])
            .unwrap_err();
        assert!(matches!(err, LayoutError::UnknownField { .. }));
    }

    #[test]
    fn a_to_one_included_relation_keeps_the_related_kind() {
        let m = crate::MODELS
            .iter()
            .find(|m| {
                m.fields
                    .iter()
                    .any(|f| !f.many && f.related == Some("stem/session"))
            })
            .expect("some model names one session");
        let f = m
            .fields
            .iter()
            .find(|f| !f.many && f.related == Some("stem/session"))
            .unwrap();
        let layout = Layout::new(m).include(f.name, &["date_time"]).unwrap();
        let i = at(&layout, &format!("{}.date_time", f.name));
        assert_eq!(layout.columns()[i].kind, ColumnKind::Timestamp);
        let r = json!({ f.name: {"id": "0b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11", "date_time": "2024-01-02T03:04:05Z"} });
        let row = layout.row(&r).unwrap();
        assert_eq!(row[i].to_text(), "2024-01-02T03:04:05Z");
        assert_eq!(
            row[at(&layout, f.name)].to_text(),
            "0b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11"
        );
    }

    #[test]
    fn one_details_type_gives_one_column_per_field_and_quantities_two() {
        let layout = Layout::new(meta("procedure"))
            .details_type("details", "BrainSlice")
            .unwrap();
        let v = at(&layout, "details.thickness.value");
        let u = at(&layout, "details.thickness.unit");
        assert_eq!(u, v + 1);
        assert_eq!(layout.columns()[v].kind, ColumnKind::Float);
        assert_eq!(layout.columns()[u].kind, ColumnKind::Text);
        assert!(!layout.names().contains(&"details"));
        let r = json!({"type": "BrainSlice", "details": {"orientation": "coronal", "thickness": {"value": 50, "unit": "µm"}}});
        let row = layout.row(&r).unwrap();
        assert_eq!(row[v], Cell::Float(50.0));
        assert_eq!(row[u].to_text(), "µm");
        assert_eq!(row[at(&layout, "details.orientation")].to_text(), "coronal");
        assert_eq!(row[at(&layout, "details.nSlices")], Cell::Null);

        let other = json!({"type": "Anesthesia", "details": {}});
        assert!(matches!(
            layout.row(&other).unwrap_err(),
            CellError::OtherType { .. }
        ));
        let err = Layout::new(meta("procedure"))
            .details_type("details", "Nope")
            .unwrap_err();
        assert!(matches!(err, LayoutError::UnknownType { .. }));
        let err = Layout::new(meta("session"))
            .details_type("details", "BrainSlice")
            .unwrap_err();
        assert!(matches!(err, LayoutError::NotDetails { .. }));
    }

    #[test]
    fn split_list_undoes_to_text() {
        for items in [vec![], vec!["a"], vec!["", ""], vec!["x;y", "\\", ";;"]] {
            let cell = Cell::List(items.iter().map(|s| Cow::Borrowed(*s)).collect());
            let text = cell.to_text();
            if items.len() == 1 && items[0].is_empty() {
                continue;
            }
            assert_eq!(split_list(&text), items, "{text}");
        }
    }
}
