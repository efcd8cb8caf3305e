//! `brainstem export MODEL --format parquet|csv|arrow --out FILE`: every
//! record a query matches, streamed page by page into a table file laid out
//! by `brainstem::table` (the same columns as `load --format csv`).
//!
//! Pages are written as they arrive (a Parquet or Arrow batch every
//! `brainstem::table::arrow::DEFAULT_BATCH_ROWS` records), so memory stays flat in the number of
//! records; a progress bar shows on a terminal.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use brainstem::client::Client;
use brainstem::meta::ModelMeta;
use brainstem::query::ListQuery;
use brainstem::table::Layout;
use brainstem::table::arrow::{FileFormat, TableError, TableWriter};
use brainstem::{Model, ModelVisitor, Portal};
use clap::Args;
use futures::StreamExt;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use crate::CliError;
use crate::args::{Format, PortalArg};
use crate::query;

/// The file formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExportFormat {
    /// Parquet, Zstd-compressed.
    Parquet,
    /// Comma-separated values (lists joined with `;`).
    Csv,
    /// The Arrow IPC file format (Feather v2).
    Arrow,
}

/// `brainstem export`: the query and the file (the global `--format` chooses
/// parquet, csv or arrow; by default the extension of `--out` does: `.parquet`,
/// `.csv`, `.arrow` / `.feather`).
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Model name (`session`, `project`, ...; `brainstem models` lists them).
    pub model: String,
    /// The file to write (replaced if it exists).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Portal: your own data, or data made public by its owners.
    #[arg(long, value_enum, default_value = "private")]
    pub portal: PortalArg,
    /// Filters `FIELD[.LOOKUP]=VALUE`, all of which must hold (as for `load`). An
    /// exact filter on a typed payload's selector (`type=BrainSlice`) lays the
    /// payload out one column per field.
    #[arg(long, num_args = 1.., value_name = "FIELD.LOOKUP=VALUE")]
    pub filters: Vec<String>,
    /// Sort keys, the first one first; prefix with `-` for descending.
    #[arg(long, num_args = 1.., value_name = "[-]FIELD")]
    pub sort: Vec<String>,
    /// Relations to include: their records' `name` (or chosen columns, `RELATION=COL,COL`)
    /// become columns `RELATION.COL` next to the ids.
    #[arg(long, num_args = 1.., value_name = "RELATION[=COL,...]")]
    pub include: Vec<String>,
    /// Lay typed payloads out per field of this type (`BrainSlice`): every record must
    /// be of it.
    #[arg(long, value_name = "TYPE")]
    pub details_type: Option<String>,
    /// Records per request (the API's maximum is 100).
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
}

/// The format `--format` names, or the one the extension of `--out` says.
fn format_of(format: Option<Format>, out: &Path) -> Result<ExportFormat, CliError> {
    match format {
        Some(Format::Parquet) => return Ok(ExportFormat::Parquet),
        Some(Format::Csv) => return Ok(ExportFormat::Csv),
        Some(Format::Arrow) => return Ok(ExportFormat::Arrow),
        _ => {}
    }
    match out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("parquet") => Ok(ExportFormat::Parquet),
        Some("csv") => Ok(ExportFormat::Csv),
        Some("arrow" | "feather" | "ipc") => Ok(ExportFormat::Arrow),
        _ => Err(CliError::usage(
            "--format: say parquet, csv or arrow (the extension of --out does not tell)",
        )),
    }
}

/// The layout the arguments ask for: includes with their columns, typed
/// payloads per field when one type is named or filtered on exactly.
fn layout(meta: &'static ModelMeta, a: &ExportArgs) -> Result<(Layout, Vec<String>), CliError> {
    let bad = |e: brainstem::table::LayoutError| CliError::usage(e.to_string());
    let mut layout = Layout::new(meta);
    let mut includes = Vec::new();
    for i in &a.include {
        let (rel, cols) = match i.split_once('=') {
            Some((rel, cols)) => (rel, cols.split(',').filter(|c| !c.is_empty()).collect()),
            None => (i.as_str(), Vec::new()),
        };
        includes.push(query::parse_include(meta, rel)?);
        layout = layout.include(rel, &cols).map_err(bad)?;
    }
    for slot in meta.details {
        let named = a.details_type.as_deref().or_else(|| {
            a.filters
                .iter()
                .find_map(|f| f.strip_prefix(slot.tag)?.strip_prefix('='))
        });
        if let Some(t) = named {
            layout = layout.details_type(slot.content, t).map_err(bad)?;
        }
    }
    if a.details_type.is_some() && meta.details.is_empty() {
        return Err(CliError::usage(format!(
            "--details-type: {} has no typed payload",
            meta.name
        )));
    }
    Ok((layout, includes))
}

/// Where rows go.
enum Sink {
    Table(TableWriter<BufWriter<File>>),
    Csv(csv::Writer<BufWriter<File>>, Layout),
}

fn table_error(e: TableError) -> CliError {
    CliError {
        code: 1,
        message: format!("export: {e}"),
    }
}

impl Sink {
    fn write<M: Model>(&mut self, r: &M) -> Result<(), CliError> {
        match self {
            Sink::Table(w) => w.write(r).map_err(table_error),
            Sink::Csv(w, layout) => {
                let v = serde_json::to_value(r).map_err(|e| CliError::usage(e.to_string()))?;
                w.write_record(layout.text_row(&v))
                    .map_err(std::io::Error::from)?;
                Ok(())
            }
        }
    }

    /// A record that did not decode: written from its JSON when its values
    /// fit the columns; `false` when they do not.
    fn write_raw(&mut self, v: &Value) -> Result<bool, CliError> {
        match self {
            Sink::Table(w) => Ok(w.write_json(v).is_ok()),
            Sink::Csv(w, layout) => {
                w.write_record(layout.text_row(v))
                    .map_err(std::io::Error::from)?;
                Ok(true)
            }
        }
    }

    fn finish(self) -> Result<(), CliError> {
        match self {
            Sink::Table(w) => {
                let (mut out, _) = w.finish().map_err(table_error)?;
                out.flush()?;
            }
            Sink::Csv(mut w, _) => w.flush()?,
        }
        Ok(())
    }
}

/// Runs `export` for the chosen model.
pub struct ExportCmd<'a> {
    /// The client.
    pub client: &'a Client,
    /// The arguments.
    pub args: &'a ExportArgs,
    /// The global `--format`.
    pub format: Option<Format>,
}

impl<'a> ModelVisitor for ExportCmd<'a> {
    type Output = LocalBoxFuture<'a, Result<(), CliError>>;

    fn visit<M: Model>(self) -> Self::Output {
        Box::pin(async move {
            let ExportCmd {
                client,
                args,
                format,
            } = self;
            let meta = M::META;
            let format = format_of(format, &args.out)?;
            let (layout, includes) = layout(meta, args)?;
            let mut q = ListQuery::new();
            for f in &args.filters {
                q.filters.push(query::parse_filter(meta, f)?);
            }
            for s in &args.sort {
                q.sort.push(query::parse_sort(meta, s)?);
            }
            q.include = includes;
            q.limit = args.limit;
            q.check()?;
            let portal: Portal = args.portal.into();
            let file = File::create(&args.out)
                .map_err(|e| CliError::usage(format!("--out {}: {e}", args.out.display())))?;
            let file = BufWriter::new(file);
            let mut sink = match format {
                ExportFormat::Parquet => Sink::Table(
                    TableWriter::new(file, layout, FileFormat::Parquet).map_err(table_error)?,
                ),
                ExportFormat::Arrow => Sink::Table(
                    TableWriter::new(file, layout, FileFormat::ArrowIpc).map_err(table_error)?,
                ),
                ExportFormat::Csv => {
                    let mut w = csv::Writer::from_writer(file);
                    w.write_record(layout.names())
                        .map_err(std::io::Error::from)?;
                    Sink::Csv(w, layout)
                }
            };
            let bar = crate::output::progress_bar(
                "{spinner} {pos}/{len} records {wide_bar} {per_sec} {elapsed}",
            );
            let mut pages = client
                .api::<M>()
                .portal(portal)
                .list()
                .query_unchecked(q)
                .pages();
            let mut skipped = 0u64;
            while let Some(page) = pages.next().await {
                let page = page?;
                if let Some(t) = page.total() {
                    bar.set_length(t);
                }
                for r in &page.records {
                    sink.write(r)?;
                }
                for u in &page.undecoded {
                    let written = match u.json() {
                        Some(v) => sink.write_raw(&v)?,
                        None => false,
                    };
                    if !written {
                        skipped += 1;
                    }
                }
                bar.inc((page.records.len() + page.undecoded.len()) as u64);
            }
            bar.finish_and_clear();
            sink.finish()?;
            if skipped > 0 {
                eprintln!(
                    "warning: {skipped} record(s) did not decode and did not fit the columns; \
                     left out (`brainstem load {} --all --format ndjson` shows them)",
                    meta.name
                );
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_comes_from_the_extension_unless_named() {
        let p = Path::new("x.PARQUET");
        assert_eq!(format_of(None, p).unwrap(), ExportFormat::Parquet);
        assert_eq!(
            format_of(None, Path::new("a.feather")).unwrap(),
            ExportFormat::Arrow
        );
        assert_eq!(format_of(Some(Format::Csv), p).unwrap(), ExportFormat::Csv);
        assert!(format_of(None, Path::new("x.txt")).is_err());
    }
}
