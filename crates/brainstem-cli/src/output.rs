//! Printing records: JSON envelopes, NDJSON, tables and CSV.
//!
//! Records reach the output as their exact JSON text ([`RawJson`]), so JSON
//! and NDJSON print every value as the server sent it (a number beyond what
//! a `serde_json::Value` holds included); only tables and CSV read values.
//!
//! Tables and CSV share one column order: the model's fields in metadata
//! order, then keys the schema does not list. A table shows the scalar
//! columns records have, each cell cut to [`MAX_CELL_WIDTH`] terminal
//! columns, laid out by `comfy-table` without color (its terminal support is
//! not compiled in, so no escape code is ever printed); CSV shows every
//! column of the model's `brainstem::table` layout (the flattening `brainstem
//! export` uses: lists joined with `;`, objects as JSON text), written by the
//! `csv` crate.

use std::io::{IsTerminal, Write};

use brainstem::RawJson;
use brainstem::meta::{FieldKind, ModelMeta};
use brainstem::table::Layout;
use comfy_table::presets::NOTHING;
use comfy_table::{ContentArrangement, Table};
use serde_json::Value;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::args::Format;

/// Where and how records are printed.
pub struct Output {
    format: Format,
    pretty: bool,
    out: std::io::StdoutLock<'static>,
}

impl Output {
    /// Standard output, in `format` (JSON when none is asked for; pretty
    /// JSON on a terminal).
    pub fn new(format: Option<Format>) -> Self {
        let stdout = std::io::stdout();
        let pretty = stdout.is_terminal();
        Output {
            format: format.unwrap_or(Format::Json),
            pretty,
            out: stdout.lock(),
        }
    }

    /// The format records are printed in.
    pub fn format(&self) -> Format {
        self.format
    }

    fn json(&mut self, v: &Value) -> std::io::Result<()> {
        if self.pretty {
            serde_json::to_writer_pretty(&mut self.out, v)?;
        } else {
            serde_json::to_writer(&mut self.out, v)?;
        }
        writeln!(self.out)
    }

    /// JSON text, indented on a terminal (tokens are kept as they are).
    fn text(&mut self, text: &str) -> std::io::Result<()> {
        if self.pretty {
            writeln!(self.out, "{}", indent(text))
        } else {
            writeln!(self.out, "{text}")
        }
    }

    /// `{"<key>": <value>, ...}` as text.
    fn envelope(entries: &[(&str, String)]) -> String {
        let mut out = String::from("{");
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(k).unwrap_or_default());
            out.push(':');
            out.push_str(v);
        }
        out.push('}');
        out
    }

    fn list(records: &[RawJson]) -> String {
        let mut out = String::from("[");
        for (i, r) in records.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(r.get());
        }
        out.push(']');
        out
    }

    /// One record (detail, create, change).
    pub fn one(
        &mut self,
        meta: &'static ModelMeta,
        key: &str,
        record: RawJson,
    ) -> std::io::Result<()> {
        match self.format {
            Format::Json => self.text(&Self::envelope(&[(key, record.get().to_string())])),
            _ => self.many(meta, key, vec![record]),
        }
    }

    /// A list of records.
    pub fn many(
        &mut self,
        meta: &'static ModelMeta,
        key: &str,
        records: Vec<RawJson>,
    ) -> std::io::Result<()> {
        match self.format {
            // text, markdown, parquet and arrow are refused for records before
            // anything runs
            Format::Json | Format::Text | Format::Markdown | Format::Parquet | Format::Arrow => {
                self.text(&Self::envelope(&[(key, Self::list(&records))]))
            }
            Format::Ndjson => {
                for r in &records {
                    self.ndjson(r)?;
                }
                Ok(())
            }
            Format::Table => records_table(&mut self.out, meta, &values(&records)),
            Format::Csv => records_csv(&mut self.out, meta, &values(&records)),
        }
    }

    /// One page of a list: as JSON, the envelope also carries the total
    /// (`count`) when the server reported one.
    pub fn page(
        &mut self,
        meta: &'static ModelMeta,
        key: &str,
        records: Vec<RawJson>,
        total: Option<u64>,
    ) -> std::io::Result<()> {
        match (self.format, total) {
            (Format::Json, Some(total)) => self.text(&Self::envelope(&[
                (key, Self::list(&records)),
                ("count", total.to_string()),
            ])),
            _ => self.many(meta, key, records),
        }
    }

    /// One NDJSON line (for streaming as pages arrive).
    pub fn ndjson(&mut self, record: &RawJson) -> std::io::Result<()> {
        // one line: a raw newline can only be whitespace in JSON
        writeln!(self.out, "{}", record.get().replace(['\n', '\r'], " "))?;
        self.out.flush()
    }

    /// One NDJSON line of a JSON value.
    pub fn ndjson_value(&mut self, record: &Value) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, record)?;
        writeln!(self.out)?;
        self.out.flush()
    }

    /// A plain message (delete, logout).
    pub fn message(&mut self, text: &str) -> std::io::Result<()> {
        writeln!(self.out, "{text}")
    }

    /// Any JSON document (describe, schema, models).
    pub fn document(&mut self, v: &Value) -> std::io::Result<()> {
        self.json(v)
    }

    /// Rows of named columns, as a table or CSV (`brainstem models`).
    pub fn rows(&mut self, columns: &[&str], rows: &[Vec<Value>]) -> std::io::Result<()> {
        let cols: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        let cells = rows
            .iter()
            .map(|r| r.iter().map(|v| cell(Some(v))).collect());
        match self.format {
            Format::Csv => write_csv(&mut self.out, &cols, cells),
            _ => write_table(&mut self.out, &cols, cells),
        }
    }
}

/// Records as an aligned text table of their scalar columns.
fn records_table<W: Write>(
    out: &mut W,
    meta: &ModelMeta,
    records: &[Value],
) -> std::io::Result<()> {
    let cols = columns(meta, records, true);
    let rows = records
        .iter()
        .map(|r| cols.iter().map(|c| cell(r.get(c))).collect());
    write_table(out, &cols, rows)
}

/// Records as CSV: the columns of `brainstem::table` (the ones `brainstem
/// export` writes: every field, lists joined with `;`, timestamps in UTC,
/// objects as JSON text), then keys the schema does not list, as their text.
fn records_csv<W: Write>(
    out: &mut W,
    meta: &'static ModelMeta,
    records: &[Value],
) -> std::io::Result<()> {
    let layout = Layout::new(meta);
    let mut cols: Vec<String> = layout.names().into_iter().map(String::from).collect();
    let fields = cols.len();
    for r in records {
        if let Some(o) = r.as_object() {
            for k in o.keys() {
                if meta.field(k).is_none() && !cols[fields..].contains(k) {
                    cols.push(k.clone());
                }
            }
        }
    }
    let rows = records.iter().map(|r| {
        let mut row = layout.text_row(r);
        row.extend(cols[fields..].iter().map(|c| cell(r.get(c))));
        row
    });
    write_csv(out, &cols, rows)
}

/// The columns of a table or CSV, in a stable order: the model's fields in
/// metadata order (those at least one record has), then keys the schema does
/// not list (typed payload keys, newer fields) in the order records carry
/// them. A table keeps only scalar columns; CSV keeps every column.
fn columns(meta: &ModelMeta, records: &[Value], scalar_only: bool) -> Vec<String> {
    let mut cols: Vec<String> = meta
        .fields
        .iter()
        .filter(|f| !scalar_only || (!f.many && f.kind != FieldKind::Json))
        .filter(|f| records.iter().any(|r| r.get(f.name).is_some()))
        .map(|f| f.name.to_string())
        .collect();
    for r in records {
        if let Some(o) = r.as_object() {
            for (k, v) in o {
                let scalar = !(v.is_object() || v.is_array());
                if !cols.contains(k) && (!scalar_only || scalar) {
                    cols.push(k.clone());
                }
            }
        }
    }
    cols
}

/// A value as cell text: absent and null are empty, a string is its text,
/// anything else (numbers, booleans, lists, objects) its JSON text.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The widest a table cell gets, in terminal columns; wider text is cut and
/// ends with `…`.
const MAX_CELL_WIDTH: usize = 40;

/// A cell as one table line: line breaks and tabs become spaces, and text
/// wider than [`MAX_CELL_WIDTH`] terminal columns is cut.
fn table_cell(text: &str) -> String {
    let text = text.replace(['\n', '\r', '\t'], " ");
    if text.width() <= MAX_CELL_WIDTH {
        return text;
    }
    let mut out = String::new();
    let mut width = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        // one column is left for the ellipsis
        if width + w >= MAX_CELL_WIDTH {
            break;
        }
        width += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// An aligned text table: a header line, then one line per row; columns two
/// spaces apart, no borders, no color, no trailing spaces.
fn write_table<W: Write>(
    out: &mut W,
    columns: &[String],
    rows: impl Iterator<Item = Vec<String>>,
) -> std::io::Result<()> {
    let mut table = Table::new();
    table
        .load_style(NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(columns.iter().map(|c| table_cell(c)).collect::<Vec<_>>());
    for row in rows {
        table.add_row(row.iter().map(|c| table_cell(c)).collect::<Vec<_>>());
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    for line in table.lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Comma-separated values with a header line, quoted by the `csv` crate (a
/// cell with a comma, a quote or a line break is quoted, quotes doubled).
fn write_csv<W: Write>(
    out: &mut W,
    columns: &[String],
    rows: impl Iterator<Item = Vec<String>>,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(columns)?;
    for row in rows {
        w.write_record(&row)?;
    }
    w.flush()
}

/// Records as JSON values, for tables and CSV (a value a `Value` cannot hold
/// shows as its text).
fn values(records: &[RawJson]) -> Vec<Value> {
    records
        .iter()
        .map(|r| {
            r.value()
                .unwrap_or_else(|| Value::String(r.get().to_string()))
        })
        .collect()
}

/// Indent JSON text two spaces per level, keeping every token as it is.
pub fn indent(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // an empty container stays on one line
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.push(chars.next().unwrap_or(']'));
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// A progress bar on standard error for a walk over pages (`template`: its
/// indicatif template), hidden when standard error is not a terminal.
pub fn progress_bar(template: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(0);
    b.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn session() -> &'static ModelMeta {
        ModelMeta::find("session").expect("the session model")
    }

    /// Records whose keys come in another order than the schema's, one with
    /// a key the schema does not list.
    fn records() -> Vec<Value> {
        vec![
            json!({"projects": ["p1", "p\"2"], "name": "a, \"quoted\"\nsecond line", "id": "1",
                   "extra_fields": {"k": "v, w"}, "x_new": 7}),
            json!({"id": "2", "name": "plain", "projects": [], "description": null}),
        ]
    }

    #[test]
    fn columns_follow_the_metadata_then_unlisted_keys() {
        let cols = columns(session(), &records(), false);
        assert_eq!(
            cols,
            [
                "id",
                "name",
                "description",
                "projects",
                "extra_fields",
                "x_new"
            ]
        );
        // a table keeps the scalar columns only
        assert_eq!(
            columns(session(), &records(), true),
            ["id", "name", "description", "x_new"]
        );
    }

    #[test]
    fn csv_parses_back_with_the_same_cells() {
        let records = vec![
            json!({"projects": ["p1", "p;2"], "name": "a, \"quoted\"\nsecond line",
                   "id": "6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11",
                   "date_time": "2024-05-01T12:00:00+02:00",
                   "extra_fields": {"k": "v, w"}, "x_new": 7}),
            json!({"id": "2", "name": "plain", "projects": [], "description": null}),
        ];
        let mut out = Vec::new();
        records_csv(&mut out, session(), &records).unwrap();
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        // every column of the layout, whatever the records hold, then unlisted keys
        let mut expected: Vec<String> = session()
            .fields
            .iter()
            .map(|f| f.name.to_string())
            .collect();
        expected.push("x_new".into());
        assert_eq!(header, expected);
        let at = |c: &str| header.iter().position(|h| h == c).unwrap();
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][at("name")], "a, \"quoted\"\nsecond line");
        // lists joined with `;` (escaped inside items), objects their JSON text
        assert_eq!(
            brainstem::table::split_list(&rows[0][at("projects")]),
            ["p1", "p;2"]
        );
        let extra: Value = serde_json::from_str(&rows[0][at("extra_fields")]).unwrap();
        assert_eq!(extra, json!({"k": "v, w"}));
        assert_eq!(rows[0][at("date_time")], "2024-05-01T10:00:00Z");
        assert_eq!(rows[0][at("x_new")], "7");
        // null and absent are empty, an empty list too; a value that does not
        // fit its column is kept as sent
        assert_eq!(rows[1][at("description")], "");
        assert_eq!(rows[1][at("extra_fields")], "");
        assert_eq!(rows[1][at("projects")], "");
        assert_eq!(rows[1][at("id")], "2");
    }

    #[test]
    fn tables_align_cut_long_cells_and_print_no_escape_codes() {
        let long = "x".repeat(100);
        let wide = "漢".repeat(30);
        let records = vec![
            json!({"id": "1", "name": long, "description": "two\nlines"}),
            json!({"id": "22", "name": wide, "description": "short"}),
        ];
        let mut out = Vec::new();
        records_table(&mut out, session(), &records).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\x1b'), "no color: {text:?}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("id  "), "{text}");
        assert!(
            lines.iter().all(|l| l == &l.trim_end()),
            "no trailing spaces"
        );
        // columns start at the same terminal column on every line
        let col_of = |line: &str, i: usize| -> usize {
            line[..line.char_indices().nth(i).map_or(line.len(), |(b, _)| b)].width()
        };
        let name_at = lines[0].find("name").unwrap();
        assert_eq!(name_at, 4, "{text}");
        let description_at = lines[0].find("description").unwrap();
        for line in &lines[1..] {
            let chars: Vec<char> = line.chars().collect();
            // the description column: after the name cell and two spaces
            let start = (0..chars.len())
                .find(|&i| col_of(line, i) == description_at)
                .unwrap_or_else(|| panic!("no cell starts at {description_at}: {line}"));
            assert!(chars[start - 1] == ' ' && chars[start] != ' ', "{line}");
        }
        // long cells are cut to the widest a cell gets, ending with an ellipsis
        let cut = format!("{}…", "x".repeat(MAX_CELL_WIDTH - 1));
        assert!(lines[1].contains(&format!("{cut}  ")), "{text}");
        assert!(!lines[1].contains(&"x".repeat(MAX_CELL_WIDTH)), "{text}");
        let wide_cut = format!("{}…", "漢".repeat((MAX_CELL_WIDTH - 1) / 2));
        assert!(lines[2].contains(&wide_cut), "{text}");
        // wide characters count twice: 19 of them and the ellipsis, 39 columns
        assert_eq!(wide_cut.width(), MAX_CELL_WIDTH - 1);
        assert!(
            !lines[2].contains(&"漢".repeat(MAX_CELL_WIDTH / 2)),
            "{text}"
        );
        assert!(lines[1].ends_with("two lines"), "{text}");
    }

    #[test]
    fn a_cell_that_fits_is_kept() {
        let fits = "y".repeat(MAX_CELL_WIDTH);
        assert_eq!(table_cell(&fits), fits);
        assert_eq!(table_cell("a\tb\r\nc"), "a b  c");
    }
    #[test]
    fn indent_keeps_tokens() {
        let text = r#"{"a": [1, 12.50, 1e400], "b": {}, "c": "x, {y}: \"z\"", "d": []}"#;
        let pretty = super::indent(text);
        assert_eq!(
            pretty,
            "{\n  \"a\": [\n    1,\n    12.50,\n    1e400\n  ],\n  \"b\": {},\n  \"c\": \"x, {y}: \\\"z\\\"\",\n  \"d\": []\n}"
        );
    }
}
