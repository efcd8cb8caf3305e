//! Records as Arrow record batches, Parquet files (Zstd) and Arrow IPC files
//! (feature `arrow`), laid out by the column rules of [`crate::table`].
//!
//! | [`ColumnKind`] | Arrow type |
//! |---|---|
//! | `Bool` | `Boolean` |
//! | `Int` | `Int64` |
//! | `Float` | `Float64` |
//! | `Text` | `Utf8` |
//! | `Uuid` | `Utf8` (36 characters, see [the module docs](crate::table)) |
//! | `Timestamp` | `Timestamp(Microsecond, "UTC")` |
//! | `Date` | `Date32` |
//! | `Json` | `Utf8` holding compact JSON text |
//! | `List` | `List<Utf8>` |
//!
//! Every field carries the metadata key `brainstem:kind` with the column's
//! kind (`uuid`, `json`, ...), so readers can tell a UUID or JSON column from
//! plain text. Every Arrow field is nullable but the record id: a server may
//! leave out what the spec promises ([`Column::nullable`] keeps the promise).
//!
//! [`TableWriter`] writes batches as they fill, so memory stays flat in the
//! number of records:
//!
//! ```
//! use brainstem::table::Layout;
//! use brainstem::table::arrow::TableWriter;
//! let text = r#"{"id": "6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11", "name": "s1",
//!                "date_time": "2024-05-01T10:00:00Z", "projects": []}"#;
//! let session: brainstem::types::Session = serde_json::from_str(text)?;
//! let mut w = TableWriter::parquet(Vec::new(), Layout::of::<brainstem::types::Session>())?;
//! w.write(&session)?;
//! let (bytes, rows) = w.finish()?;
//! assert_eq!(rows, 1);
//! assert_eq!(&bytes[..4], b"PAR1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, ListBuilder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use serde_json::Value;

use super::{Cell, CellError, Column, ColumnKind, Layout};
use crate::Model;

/// The Arrow and Parquet crates this module writes with, for reading and
/// writing the same versions.
pub use {arrow_array, arrow_ipc, arrow_schema, parquet};

/// Rows per record batch unless chosen otherwise (also the Parquet row
/// group granularity of [`TableWriter`]).
pub const DEFAULT_BATCH_ROWS: usize = 8192;

/// Why a table could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// A record's value does not fit its column.
    #[error(transparent)]
    Cell(#[from] CellError),
    /// A record without a value in a column that cannot be empty.
    #[error("column `{0}` is empty in a record, and cannot be")]
    Null(String),
    /// Arrow refused the batch.
    #[error("arrow: {0}")]
    Arrow(#[from] ArrowError),
    /// The Parquet writer failed.
    #[error("parquet: {0}")]
    Parquet(#[from] ParquetError),
}

/// The Arrow type of a column kind.
pub fn data_type(kind: ColumnKind) -> DataType {
    match kind {
        ColumnKind::Bool => DataType::Boolean,
        ColumnKind::Int => DataType::Int64,
        ColumnKind::Float => DataType::Float64,
        ColumnKind::Text | ColumnKind::Uuid | ColumnKind::Json => DataType::Utf8,
        ColumnKind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        ColumnKind::Date => DataType::Date32,
        ColumnKind::List => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
    }
}

/// Whether the Arrow field of a column is nullable: all but the record id.
fn arrow_nullable(c: &Column) -> bool {
    c.field != "id" || c.nullable
}

/// The Arrow schema of a layout.
///
/// ```
/// use brainstem::table::{Layout, arrow::schema};
/// use brainstem::table::arrow::arrow_schema::{DataType, TimeUnit};
/// let s = schema(&Layout::new(brainstem::meta::ModelMeta::find("session").unwrap()));
/// assert_eq!(
///     s.field_with_name("date_time").unwrap().data_type(),
///     &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
/// );
/// ```
pub fn schema(layout: &Layout) -> SchemaRef {
    let fields: Vec<Field> = layout
        .columns()
        .iter()
        .map(|c| {
            Field::new(&c.name, data_type(c.kind), arrow_nullable(c)).with_metadata(HashMap::from(
                [("brainstem:kind".to_string(), c.kind.as_str().to_string())],
            ))
        })
        .collect();
    let metadata = HashMap::from([
        ("brainstem:model".to_string(), layout.meta().path()),
        (
            "brainstem:schema_version".to_string(),
            crate::SCHEMA_VERSION.to_string(),
        ),
    ]);
    Arc::new(Schema::new_with_metadata(fields, metadata))
}

/// One column being filled.
enum Builder {
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Text(StringBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Date(Date32Builder),
    List(ListBuilder<StringBuilder>),
}

impl Builder {
    fn new(kind: ColumnKind) -> Builder {
        match kind {
            ColumnKind::Bool => Builder::Bool(BooleanBuilder::new()),
            ColumnKind::Int => Builder::Int(Int64Builder::new()),
            ColumnKind::Float => Builder::Float(Float64Builder::new()),
            ColumnKind::Text | ColumnKind::Uuid | ColumnKind::Json => {
                Builder::Text(StringBuilder::new())
            }
            ColumnKind::Timestamp => {
                Builder::Timestamp(TimestampMicrosecondBuilder::new().with_timezone("UTC"))
            }
            ColumnKind::Date => Builder::Date(Date32Builder::new()),
            ColumnKind::List => Builder::List(ListBuilder::new(StringBuilder::new())),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Float(b) => Arc::new(b.finish()),
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Timestamp(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::List(b) => Arc::new(b.finish()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Builder::Bool(b) => b.len(),
            Builder::Int(b) => b.len(),
            Builder::Float(b) => b.len(),
            Builder::Text(b) => b.len(),
            Builder::Timestamp(b) => b.len(),
            Builder::Date(b) => b.len(),
            Builder::List(b) => b.len(),
        }
    }

    /// Append a cell the column's kind produced (the layout guarantees the
    /// pairing; anything else is a mismatch named by `column`).
    fn append(&mut self, column: &Column, cell: &Cell<'_>) -> Result<(), TableError> {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
        match (self, cell) {
            (Builder::Bool(b), Cell::Null) => b.append_null(),
            (Builder::Int(b), Cell::Null) => b.append_null(),
            (Builder::Float(b), Cell::Null) => b.append_null(),
            (Builder::Text(b), Cell::Null) => b.append_null(),
            (Builder::Timestamp(b), Cell::Null) => b.append_null(),
            (Builder::Date(b), Cell::Null) => b.append_null(),
            (Builder::List(b), Cell::Null) => b.append_null(),
            (Builder::Bool(b), Cell::Bool(v)) => b.append_value(*v),
            (Builder::Int(b), Cell::Int(v)) => b.append_value(*v),
            (Builder::Float(b), Cell::Float(v)) => b.append_value(*v),
            (Builder::Text(b), Cell::Text(v)) => b.append_value(v),
            (Builder::Text(b), Cell::Uuid(v)) => b.append_value(
                v.hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer()),
            ),
            (Builder::Text(b), Cell::Json(v)) => b.append_value(v.to_string()),
            (Builder::Timestamp(b), Cell::Timestamp(t)) => b.append_value(t.timestamp_micros()),
            (Builder::Date(b), Cell::Date(d)) => {
                let days = d.signed_duration_since(epoch).num_days();
                let days = i32::try_from(days).map_err(|_| CellError::Mismatch {
                    column: column.name.clone(),
                    expected: column.kind,
                    found: d.to_string(),
                })?;
                b.append_value(days)
            }
            (Builder::List(b), Cell::List(items)) => {
                for item in items {
                    b.values().append_value(item);
                }
                b.append(true)
            }
            (_, other) => {
                return Err(CellError::Mismatch {
                    column: column.name.clone(),
                    expected: column.kind,
                    found: other.to_text(),
                }
                .into());
            }
        }
        Ok(())
    }
}

/// Fills one record batch at a time: [`push`](Self::push) records, then
/// [`finish`](Self::finish) takes the batch and starts the next.
pub struct BatchBuilder {
    layout: Layout,
    schema: SchemaRef,
    builders: Vec<Builder>,
}

impl BatchBuilder {
    /// An empty batch of `layout`'s columns.
    pub fn new(layout: Layout) -> BatchBuilder {
        let schema = schema(&layout);
        let builders = layout
            .columns()
            .iter()
            .map(|c| Builder::new(c.kind))
            .collect();
        BatchBuilder {
            layout,
            schema,
            builders,
        }
    }

    /// The layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The Arrow schema of the batches.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Rows pushed since the last batch.
    pub fn len(&self) -> usize {
        self.builders.first().map_or(0, Builder::len)
    }

    /// Whether no row was pushed since the last batch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Append a row of cells (in column order). On an error nothing of the
    /// row is kept.
    pub fn push_cells(&mut self, cells: &[Cell<'_>]) -> Result<(), TableError> {
        let columns = self.layout.columns();
        // check first, so a failing row leaves the columns aligned
        for ((c, cell), field) in columns.iter().zip(cells).zip(self.schema.fields()) {
            if cell.is_null() && !field.is_nullable() {
                return Err(TableError::Null(c.name.clone()));
            }
            let fits = matches!(
                (c.kind, cell),
                (_, Cell::Null)
                    | (ColumnKind::Bool, Cell::Bool(_))
                    | (ColumnKind::Int, Cell::Int(_))
                    | (ColumnKind::Float, Cell::Float(_))
                    | (ColumnKind::Text, Cell::Text(_))
                    | (ColumnKind::Uuid, Cell::Uuid(_))
                    | (ColumnKind::Json, Cell::Json(_))
                    | (ColumnKind::Timestamp, Cell::Timestamp(_))
                    | (ColumnKind::Date, Cell::Date(_))
                    | (ColumnKind::List, Cell::List(_))
            );
            if !fits {
                return Err(CellError::Mismatch {
                    column: c.name.clone(),
                    expected: c.kind,
                    found: cell.to_text(),
                }
                .into());
            }
        }
        if cells.len() != columns.len() {
            return Err(CellError::Mismatch {
                column: columns
                    .get(cells.len())
                    .map_or_else(String::new, |c| c.name.clone()),
                expected: ColumnKind::Json,
                found: format!(
                    "a row of {} cells for {} columns",
                    cells.len(),
                    columns.len()
                ),
            }
            .into());
        }
        for ((b, c), cell) in self.builders.iter_mut().zip(columns).zip(cells) {
            b.append(c, cell)?;
        }
        Ok(())
    }

    /// Append one record given as its JSON object.
    pub fn push_json(&mut self, record: &Value) -> Result<(), TableError> {
        let cells = self.layout.row(record)?;
        self.push_cells(&cells)
    }

    /// Append one typed record (serialized to JSON first).
    pub fn push<M: Model>(&mut self, record: &M) -> Result<(), TableError> {
        let cells = self.layout.row_of(record)?;
        self.push_cells(&cells)
    }

    /// The rows pushed so far as a record batch; the builder starts empty.
    pub fn finish(&mut self) -> Result<RecordBatch, TableError> {
        let arrays: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
        Ok(RecordBatch::try_new(self.schema.clone(), arrays)?)
    }
}

/// Typed records as one record batch, in the default layout of their model.
///
/// ```
/// let s: brainstem::types::Session = serde_json::from_str(
///     r#"{"id": "6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11", "name": "s1"}"#)?;
/// let batch = brainstem::table::arrow::record_batch(&[s])?;
/// assert_eq!(batch.num_rows(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn record_batch<M: Model>(records: &[M]) -> Result<RecordBatch, TableError> {
    record_batch_with(Layout::of::<M>(), records)
}

/// Typed records as one record batch, in `layout`.
pub fn record_batch_with<M: Model>(
    layout: Layout,
    records: &[M],
) -> Result<RecordBatch, TableError> {
    let mut b = BatchBuilder::new(layout);
    for r in records {
        b.push(r)?;
    }
    b.finish()
}

/// The file formats [`TableWriter`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// Parquet, Zstd-compressed, one row group per batch.
    Parquet,
    /// The Arrow IPC file format (`.arrow`, Feather v2), uncompressed.
    ArrowIpc,
}

enum Sink<W: Write + Send> {
    Parquet(ArrowWriter<W>),
    Ipc(arrow_ipc::writer::FileWriter<W>),
}

/// Writes records to a Parquet or Arrow IPC file batch by batch: every
/// [`batch_rows`](Self::batch_rows) records a batch is written out, so
/// memory does not grow with the number of records.
pub struct TableWriter<W: Write + Send> {
    batch: BatchBuilder,
    sink: Sink<W>,
    batch_rows: usize,
    rows: u64,
}

impl<W: Write + Send> TableWriter<W> {
    /// A writer of `format` to `out`.
    pub fn new(out: W, layout: Layout, format: FileFormat) -> Result<Self, TableError> {
        let batch = BatchBuilder::new(layout);
        let schema = batch.schema();
        let sink = match format {
            FileFormat::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::default()))
                    .set_max_row_group_row_count(Some(DEFAULT_BATCH_ROWS * 8))
                    .build();
                Sink::Parquet(ArrowWriter::try_new(out, schema, Some(props))?)
            }
            FileFormat::ArrowIpc => {
                Sink::Ipc(arrow_ipc::writer::FileWriter::try_new(out, &schema)?)
            }
        };
        Ok(TableWriter {
            batch,
            sink,
            batch_rows: DEFAULT_BATCH_ROWS,
            rows: 0,
        })
    }

    /// A Parquet (Zstd) writer.
    pub fn parquet(out: W, layout: Layout) -> Result<Self, TableError> {
        Self::new(out, layout, FileFormat::Parquet)
    }

    /// An Arrow IPC file writer.
    pub fn arrow_ipc(out: W, layout: Layout) -> Result<Self, TableError> {
        Self::new(out, layout, FileFormat::ArrowIpc)
    }

    /// Write a batch every `n` records (at least 1; default
    /// [`DEFAULT_BATCH_ROWS`]).
    pub fn batch_rows(mut self, n: usize) -> Self {
        self.batch_rows = n.max(1);
        self
    }

    /// The layout written.
    pub fn layout(&self) -> &Layout {
        self.batch.layout()
    }

    /// Records written (or buffered) so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Write one typed record.
    pub fn write<M: Model>(&mut self, record: &M) -> Result<(), TableError> {
        self.batch.push(record)?;
        self.pushed()
    }

    /// Write one record given as its JSON object.
    pub fn write_json(&mut self, record: &Value) -> Result<(), TableError> {
        self.batch.push_json(record)?;
        self.pushed()
    }

    /// Write typed records (a `Vec`, a page's `records`).
    pub fn write_all<'a, M: Model>(
        &mut self,
        records: impl IntoIterator<Item = &'a M>,
    ) -> Result<(), TableError> {
        for r in records {
            self.write(r)?;
        }
        Ok(())
    }

    fn pushed(&mut self) -> Result<(), TableError> {
        self.rows += 1;
        if self.batch.len() >= self.batch_rows {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<(), TableError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = self.batch.finish()?;
        match &mut self.sink {
            Sink::Parquet(w) => w.write(&batch)?,
            Sink::Ipc(w) => w.write(&batch)?,
        }
        Ok(())
    }

    /// Write what is buffered and the file's footer; gives back the output
    /// and the number of records written.
    pub fn finish(mut self) -> Result<(W, u64), TableError> {
        self.flush_batch()?;
        let out = match self.sink {
            Sink::Parquet(w) => w.into_inner()?,
            Sink::Ipc(mut w) => {
                w.finish()?;
                w.into_inner()?
            }
        };
        Ok((out, self.rows))
    }
}
