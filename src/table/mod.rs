//! Records as tables: one row per record, one typed column per field, derived
//! from the generated model metadata.
//!
//! The column rules live in [`columns`](mod@columns) (re-exported here) and need no
//! optional dependency: they are always compiled, so the Arrow / Parquet
//! writers (feature `arrow`), the command-line tool's CSV output and a SQLite
//! mirror all lay records out the same way.
//!
//! # The rules
//!
//! | field (from [`ModelMeta`](crate::meta::ModelMeta)) | column(s) | [`ColumnKind`] |
//! |---|---|---|
//! | boolean, integer, number, text, choice | the field's name | `Bool`, `Int`, `Float`, `Text` |
//! | UUID (the id too) | the field's name | `Uuid` (Arrow: UTF-8 text, see below) |
//! | date-time / date | the field's name | `Timestamp` (µs, UTC) / `Date` |
//! | relation to one record | the field's name: the related id | `Uuid` or `Int` |
//! | relation to many records, other lists of scalars | the field's name | `List` (of text) |
//! | included relation ([`Layout::include`]) | also `<field>.<column>` per chosen column of the related model | the related column's kind (`List` for a relation to many) |
//! | `extra_fields`, other JSON objects, lists of objects | the field's name | `Json` |
//! | typed payload (`details`) | its selector (`type`) as `Text`, the payload as `Json` | |
//! | typed payload of one chosen type ([`Layout::details_type`]) | `<content>.<key>` per field of that type's schema; a measured value as `<content>.<key>.value` (`Float`) and `<content>.<key>.unit` (`Text`) | per field |
//!
//! Columns come in the model's field order (the spec's), each field's
//! derived columns right after it: the order is stable for a model and a
//! layout. Keys the schema does not list (a record's `unknown`) have no
//! column.
//!
//! UUIDs are written to Arrow as 36-character text, not as 16-byte
//! fixed-size binary: DuckDB, pandas and spreadsheets show and filter them
//! as they appear in the API, and ids of relations (lists of text) compare
//! with them directly. [`ColumnKind::Uuid`] stays distinct from `Text` so a
//! writer can choose otherwise.
//!
//! ```
//! use brainstem::table::{ColumnKind, columns};
//! let meta = brainstem::meta::ModelMeta::find("session").unwrap();
//! let cols = columns(meta);
//! assert_eq!(cols[0].name, "id");
//! assert_eq!(cols[0].kind, ColumnKind::Uuid);
//! let projects = cols.iter().find(|c| c.name == "projects").unwrap();
//! assert_eq!(projects.kind, ColumnKind::List);
//! ```

pub mod columns;

#[cfg(feature = "arrow")]
pub mod arrow;

pub use columns::{
    Cell, CellError, Column, ColumnKind, Layout, LayoutError, Role, columns, split_list,
};
