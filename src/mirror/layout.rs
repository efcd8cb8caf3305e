//! How a model's records are laid out in SQLite: one table per model, one join
//! table per to-many relation, all derived from the generated metadata.

use rusqlite::types::Value as Sql;
use serde_json::Value;

use crate::meta::{FieldKind, FieldMeta, IdKind, ModelMeta};

/// The column holding a record's JSON text as received.
pub const RAW_COLUMN: &str = "_raw";
/// The column holding the SHA-256 of a record's canonical JSON
/// ([`canonical::record_hash`](super::canonical::record_hash)).
pub const HASH_COLUMN: &str = "_hash";

/// One column of a model's table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlColumn {
    /// Column name (the field's JSON name).
    pub name: String,
    /// SQLite type: `TEXT`, `INTEGER`, `REAL`.
    pub sql_type: &'static str,
    /// May be `NULL` (always true for fields a response may leave out).
    pub nullable: bool,
}

/// A join table for a to-many relation: one row per (record, position).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinTable {
    /// Table name: `<model>__<field>` (`session__projects`).
    pub table: String,
    /// The relation field.
    pub field: String,
    /// `app/model` of the related model.
    pub related: &'static str,
    /// SQLite type of the related ids.
    pub value_type: &'static str,
}

/// The tables of one model.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The model.
    pub meta: &'static ModelMeta,
    /// Table name: the model's URL name (`session`).
    pub table: String,
    /// SQLite type of the `id` column.
    pub id_type: &'static str,
    /// The value columns besides `id`, [`RAW_COLUMN`] and [`HASH_COLUMN`], in
    /// spec order.
    pub columns: Vec<SqlColumn>,
    /// One join table per to-many relation.
    pub joins: Vec<JoinTable>,
}

fn id_type(kind: IdKind) -> &'static str {
    match kind {
        IdKind::Uuid => "TEXT",
        IdKind::Integer => "INTEGER",
    }
}

fn scalar_type(f: &FieldMeta) -> &'static str {
    if f.many {
        return "TEXT"; // a JSON list
    }
    match f.kind {
        FieldKind::Integer | FieldKind::Boolean => "INTEGER",
        FieldKind::Number => "REAL",
        FieldKind::Uuid
        | FieldKind::Text
        | FieldKind::Date
        | FieldKind::DateTime
        | FieldKind::Choice
        | FieldKind::Json => "TEXT",
    }
}

impl Layout {
    /// The layout of `meta`'s records.
    pub fn of(meta: &'static ModelMeta) -> Layout {
        let mut columns = Vec::new();
        let mut joins = Vec::new();
        for f in meta.fields {
            if f.name == "id" {
                continue;
            }
            match f.related {
                Some(rel) if f.many => {
                    let target = ModelMeta::find_path(rel).map_or(IdKind::Uuid, |m| m.id);
                    joins.push(JoinTable {
                        table: format!("{}__{}", meta.name, f.name),
                        field: f.name.to_string(),
                        related: rel,
                        value_type: id_type(target),
                    });
                }
                _ => columns.push(SqlColumn {
                    name: f.name.to_string(),
                    sql_type: scalar_type(f),
                    nullable: true,
                }),
            }
        }
        Layout {
            meta,
            table: meta.name.to_string(),
            id_type: id_type(meta.id),
            columns,
            joins,
        }
    }

    /// A text naming every table, column and type: when it changes, the
    /// model's tables are made again.
    pub fn fingerprint(&self) -> String {
        let mut s = format!("v1 {} id {};", self.table, self.id_type);
        for c in &self.columns {
            s.push_str(&format!(" {} {} {};", c.name, c.sql_type, c.nullable));
        }
        for j in &self.joins {
            s.push_str(&format!(
                " join {} {} {};",
                j.table, j.related, j.value_type
            ));
        }
        s
    }

    /// The value of each column, and the related ids of each join table, of
    /// one record's JSON (a column the record does not have is `NULL`).
    pub fn row(&self, record: &Value) -> (Vec<Sql>, Vec<Vec<Sql>>) {
        let cells = self
            .columns
            .iter()
            .map(|c| cell(c.sql_type, record.get(&c.name)))
            .collect();
        let joins = self
            .joins
            .iter()
            .map(|j| match record.get(&j.field) {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| match v {
                        // an embedded record: its id
                        Value::Object(o) => cell(j.value_type, o.get("id")),
                        v => cell(j.value_type, Some(v)),
                    })
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        (cells, joins)
    }
}

fn cell(sql_type: &str, v: Option<&Value>) -> Sql {
    match v {
        None | Some(Value::Null) => Sql::Null,
        Some(Value::Bool(b)) => Sql::Integer(i64::from(*b)),
        Some(Value::Number(n)) => match (sql_type, n.as_i64()) {
            ("INTEGER", Some(i)) => Sql::Integer(i),
            _ => n.as_f64().map_or(Sql::Text(n.to_string()), Sql::Real),
        },
        Some(Value::String(s)) => match sql_type {
            "INTEGER" => s
                .parse()
                .map_or_else(|_| Sql::Text(s.clone()), Sql::Integer),
            _ => Sql::Text(s.clone()),
        },
        Some(Value::Object(o)) if o.contains_key("id") && !o.contains_key("value") => {
            // an embedded related record: its id
            cell(sql_type, o.get("id"))
        }
        Some(v) => Sql::Text(v.to_string()),
    }
}
