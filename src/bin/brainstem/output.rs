//! Printing records: JSON envelopes, NDJSON, tables and CSV.

use std::io::{IsTerminal, Write};

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

    /// One record (detail, create, change).
    pub fn one(&mut self, meta: &ModelMeta, key: &str, record: Value) -> std::io::Result<()> {
        match self.format {
            Format::Json => {
                let mut env = serde_json::Map::new();
                env.insert(key.to_string(), record);
                self.json(&Value::Object(env))
            }
            _ => self.many(meta, key, vec![record]),
        }
    }

    /// A list of records.
    pub fn many(
        &mut self,
        meta: &ModelMeta,
        key: &str,
        records: Vec<Value>,
    ) -> std::io::Result<()> {
        match self.format {
            Format::Json => {
                let mut env = serde_json::Map::new();
                env.insert(key.to_string(), Value::Array(records));
                self.json(&Value::Object(env))
            }
            Format::Ndjson => {
                for r in &records {
                    self.ndjson(r)?;
                }
                Ok(())
            }
            Format::Table => self.table(meta, &records),
            Format::Csv => self.csv(meta, &records),
        }
    }

    /// One page of a list: as JSON, the envelope also carries the total
    /// (`count`) when the server reported one.
    pub fn page(
        &mut self,
        meta: &ModelMeta,
        key: &str,
        records: Vec<Value>,
        total: Option<u64>,
    ) -> std::io::Result<()> {
        match (self.format, total) {
            (Format::Json, Some(total)) => {
                let mut env = serde_json::Map::new();
                env.insert(key.to_string(), Value::Array(records));
                env.insert("count".to_string(), total.into());
                self.json(&Value::Object(env))
            }
            _ => self.many(meta, key, records),
        }
    }

    /// One NDJSON line (for streaming as pages arrive).
    pub fn ndjson(&mut self, record: &Value) -> std::io::Result<()> {
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
