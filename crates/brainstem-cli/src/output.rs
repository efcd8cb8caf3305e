//! Printing records: JSON envelopes, NDJSON, tables and CSV.
//!
//! Records reach the output as their exact JSON text ([`RawJson`]), so JSON
//! and NDJSON print every value as the server sent it (a number beyond what
//! a `serde_json::Value` holds included); only tables and CSV read values.

use std::io::{IsTerminal, Write};

use brainstem::RawJson;
use brainstem::meta::{FieldKind, ModelMeta};
use serde_json::Value;

use crate::args::Format;

/// Where and how records are printed.
pub struct Output {
    format: Format,
    pretty: bool,
    out: std::io::StdoutLock<'static>,
}

impl Output {
    pub fn new(format: Option<Format>) -> Self {
        let stdout = std::io::stdout();
        let pretty = stdout.is_terminal();
        Output {
            format: format.unwrap_or(Format::Json),
            pretty,
            out: stdout.lock(),
        }
    }

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
    pub fn one(&mut self, meta: &ModelMeta, key: &str, record: RawJson) -> std::io::Result<()> {
        match self.format {
            Format::Json => self.text(&Self::envelope(&[(key, record.get().to_string())])),
            _ => self.many(meta, key, vec![record]),
        }
    }

    /// A list of records.
    pub fn many(
        &mut self,
        meta: &ModelMeta,
        key: &str,
        records: Vec<RawJson>,
    ) -> std::io::Result<()> {
        match self.format {
            Format::Json => self.text(&Self::envelope(&[(key, Self::list(&records))])),
            Format::Ndjson => {
                for r in &records {
                    self.ndjson(r)?;
                }
                Ok(())
            }
            Format::Table => self.table(meta, &values(&records)),
            Format::Csv => self.csv(meta, &values(&records)),
        }
    }

    /// One page of a list: as JSON, the envelope also carries the total
    /// (`count`) when the server reported one.
    pub fn page(
        &mut self,
        meta: &ModelMeta,
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

    fn columns(meta: &ModelMeta, records: &[Value], scalar_only: bool) -> Vec<String> {
        let mut cols: Vec<String> = meta
            .fields
            .iter()
            .filter(|f| !scalar_only || (!f.many && f.kind != FieldKind::Json))
            .filter(|f| records.iter().any(|r| r.get(f.name).is_some()))
            .map(|f| f.name.to_string())
            .collect();
        // fields the schema does not list (typed payload keys, newer fields)
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

    fn cell(v: Option<&Value>) -> String {
        match v {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }
    }

    fn table(&mut self, meta: &ModelMeta, records: &[Value]) -> std::io::Result<()> {
        const MAX: usize = 40;
        let cols = Self::columns(meta, records, true);
        let rows: Vec<Vec<String>> = records
            .iter()
            .map(|r| {
                cols.iter()
                    .map(|c| {
                        let s = Self::cell(r.get(c)).replace(['\n', '\t'], " ");
                        if s.chars().count() > MAX {
                            let mut t: String = s.chars().take(MAX - 1).collect();
                            t.push('…');
                            t
                        } else {
                            s
                        }
                    })
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([c.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| -> String {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}", w = *w))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        writeln!(self.out, "{}", line(&cols))?;
        for r in &rows {
            writeln!(self.out, "{}", line(r))?;
        }
        Ok(())
    }

    fn csv(&mut self, meta: &ModelMeta, records: &[Value]) -> std::io::Result<()> {
        let cols = Self::columns(meta, records, false);
        let quote = |s: &str| -> String {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        writeln!(
            self.out,
            "{}",
            cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(",")
        )?;
        for r in records {
            let cells: Vec<String> = cols.iter().map(|c| quote(&Self::cell(r.get(c)))).collect();
            writeln!(self.out, "{}", cells.join(","))?;
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
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
