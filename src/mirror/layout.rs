//! How a model's records are laid out in SQLite: the column rules of
//! [`crate::table`] (the same columns the CSV, Arrow and Parquet outputs
//! have), mapped to SQLite types, with one join table per to-many relation.
//!
//! | [`ColumnKind`] | SQLite | stored as |
//! |---|---|---|
//! | `Bool` | `INTEGER` | `0` / `1` |
//! | `Int` | `INTEGER` | the integer |
//! | `Float` | `REAL` | the number (as an `f64`; the exact text is in `_raw`) |
//! | `Text` | `TEXT` | the text |
//! | `Uuid` | `TEXT` | 36 characters, lower case |
//! | `Timestamp` | `TEXT` | RFC 3339 in UTC (`2024-05-01T10:00:00.5Z`), which SQLite's date functions read |
//! | `Date` | `TEXT` | `YYYY-MM-DD` |
//! | `Json` | `TEXT` | compact JSON (`json_extract` reads it) |
//! | `List`, a relation to many | a join table `<model>__<field>` | one row per related id: `owner` (the record's id), `position` (from 0, in the record's order), `value` (the related id: `TEXT`, or `INTEGER` for integer-id models) |
//! | `List`, other lists (tags, ...) | `TEXT` | a JSON array of strings |
//!
//! Every table also has `id` (the primary key: `TEXT` for UUIDs, `INTEGER`
//! for integer ids), [`RAW_COLUMN`], [`RAW_HASH_COLUMN`] and [`HASH_COLUMN`].
//! The table is named by the model (`session`).

use rusqlite::types::Value as Sql;
use serde_json::Value;

use crate::meta::{IdKind, ModelMeta};
use crate::table::{self, Cell, ColumnKind, Role};

/// The column holding a record's JSON text as the server sent it.
pub const RAW_COLUMN: &str = "_raw";
/// The column holding the SHA-256 of [`RAW_COLUMN`]'s text, 32 bytes: a
/// record sent again with the same text is known unchanged without reading
/// its JSON.
pub const RAW_HASH_COLUMN: &str = "_raw_hash";
/// The column holding the SHA-256 of a record's canonical JSON
/// ([`canonical::record_hash`](super::canonical::record_hash)), 32 bytes.
pub const HASH_COLUMN: &str = "_hash";

/// The SQLite type of a column of `kind` (see the [module docs](self)).
///
/// ```
/// use brainstem::mirror::layout::sql_type;
/// use brainstem::table::ColumnKind;
/// assert_eq!(sql_type(ColumnKind::Bool), "INTEGER");
/// assert_eq!(sql_type(ColumnKind::Float), "REAL");
/// assert_eq!(sql_type(ColumnKind::Timestamp), "TEXT");
/// ```
pub fn sql_type(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Bool | ColumnKind::Int => "INTEGER",
        ColumnKind::Float => "REAL",
        ColumnKind::Text
        | ColumnKind::Uuid
        | ColumnKind::Timestamp
        | ColumnKind::Date
        | ColumnKind::Json
        | ColumnKind::List => "TEXT",
    }
}

fn id_type(kind: IdKind) -> &'static str {
    match kind {
        IdKind::Uuid => "TEXT",
        IdKind::Integer => "INTEGER",
    }
}

/// One column of a model's table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlColumn {
    /// Column name ([`table::Column::name`]).
    pub name: String,
    /// The kind of its values.
    pub kind: ColumnKind,
    /// SQLite type ([`sql_type`]).
    pub sql_type: &'static str,
    /// Where it is in the [`table::Layout`]'s columns.
    at: usize,
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
    /// Where its column is in the [`table::Layout`]'s columns.
    at: usize,
}

/// The tables of one model.
#[derive(Clone, Debug)]
pub struct Tables {
    /// The model.
    pub meta: &'static ModelMeta,
    /// Table name: the model's URL name (`session`).
    pub table: String,
    /// SQLite type of the `id` column.
    pub id_type: &'static str,
    /// The value columns besides `id`, [`RAW_COLUMN`], [`RAW_HASH_COLUMN`]
    /// and [`HASH_COLUMN`], in the column rules' order.
    pub columns: Vec<SqlColumn>,
    /// One join table per to-many relation.
    pub joins: Vec<JoinTable>,
    layout: table::Layout,
}

impl Tables {
    /// The tables of `meta`'s records, from [`table::Layout::new`].
    ///
    /// ```
    /// use brainstem::mirror::layout::Tables;
    /// let t = Tables::of(brainstem::meta::ModelMeta::find("session").unwrap());
    /// assert_eq!(t.table, "session");
    /// assert!(t.joins.iter().any(|j| j.table == "session__projects"));
    /// assert!(t.columns.iter().any(|c| c.name == "name" && c.sql_type == "TEXT"));
    /// ```
    pub fn of(meta: &'static ModelMeta) -> Tables {
        let layout = table::Layout::new(meta);
        let mut columns = Vec::new();
        let mut joins = Vec::new();
        for (at, c) in layout.columns().iter().enumerate() {
            if c.name == "id" {
                continue;
            }
            let related = meta.field(c.field).and_then(|f| f.related);
            match (c.kind, &c.role, related) {
                (ColumnKind::List, Role::Ids, Some(rel)) => {
                    let target = ModelMeta::find_path(rel).map_or(IdKind::Uuid, |m| m.id);
                    joins.push(JoinTable {
                        table: format!("{}__{}", meta.name, c.name),
                        field: c.name.clone(),
                        related: rel,
                        value_type: id_type(target),
                        at,
                    });
                }
                _ => columns.push(SqlColumn {
                    name: c.name.clone(),
                    kind: c.kind,
                    sql_type: sql_type(c.kind),
                    at,
                }),
            }
        }
        Tables {
            meta,
            table: meta.name.to_string(),
            id_type: id_type(meta.id),
            columns,
            joins,
            layout,
        }
    }

    /// A text naming every table, column and type: when it changes (a new
    /// spec), the model's tables are made again and fetched whole.
    pub fn fingerprint(&self) -> String {
        let mut s = format!("v2 {} id {};", self.table, self.id_type);
        for c in &self.columns {
            s.push_str(&format!(" {} {} {};", c.name, c.kind, c.sql_type));
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
    /// one record's JSON. A record whose values do not fit their columns (a
    /// server sending a type the spec does not say) is stored with each
    /// column's text ([`table::Layout::text_row`]) instead.
    pub fn row(&self, record: &Value) -> (Vec<Sql>, Vec<Vec<Sql>>) {
        match self.layout.row(record) {
            Ok(cells) => {
                let columns = self.columns.iter().map(|c| sql(&cells[c.at])).collect();
                let joins = self
                    .joins
                    .iter()
                    .map(|j| match &cells[j.at] {
                        Cell::List(items) => items.iter().map(|i| id(j.value_type, i)).collect(),
                        _ => Vec::new(),
                    })
                    .collect();
                (columns, joins)
            }
            Err(_) => {
                let text = self.layout.text_row(record);
                let columns = self
                    .columns
                    .iter()
                    .map(|c| match text[c.at].as_str() {
                        "" => Sql::Null,
                        t => Sql::Text(t.to_string()),
                    })
                    .collect();
                let joins = self
                    .joins
                    .iter()
                    .map(|j| {
                        table::split_list(&text[j.at])
                            .iter()
                            .map(|i| id(j.value_type, i))
                            .collect()
                    })
                    .collect();
                (columns, joins)
            }
        }
    }
}

/// A related id as stored in a join table.
fn id(value_type: &str, text: &str) -> Sql {
    match value_type {
        "INTEGER" => text
            .parse()
            .map_or_else(|_| Sql::Text(text.to_string()), Sql::Integer),
        _ => Sql::Text(text.to_string()),
    }
}

/// A cell as an SQLite value (see the [module docs](self)).
fn sql(cell: &Cell<'_>) -> Sql {
    match cell {
        Cell::Null => Sql::Null,
        Cell::Bool(b) => Sql::Integer(i64::from(*b)),
        Cell::Int(i) => Sql::Integer(*i),
        Cell::Float(f) => Sql::Real(*f),
        Cell::Text(t) => Sql::Text(t.to_string()),
        Cell::Json(v) => Sql::Text(v.to_string()),
        Cell::List(items) => {
            Sql::Text(serde_json::to_string(items).unwrap_or_else(|_| cell.to_text()))
        }
        Cell::Uuid(_) | Cell::Timestamp(_) | Cell::Date(_) => Sql::Text(cell.to_text()),
    }
}
