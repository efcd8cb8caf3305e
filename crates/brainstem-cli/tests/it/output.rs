//! Output formats: tables and CSV (CSV read back with the `csv` crate and
//! compared with the JSON of the same records).

use brainstem::meta::{FieldKind, ModelMeta};
use brainstem::table::split_list;
use brainstem_mock::{MockOptions, MockServer};
use predicates::prelude::*;
use serde_json::Value;

use crate::{cmd, cmd_for, json_out};

fn stdout(c: &mut assert_cmd::Command) -> Vec<u8> {
    c.assert().success().get_output().stdout.clone()
}

/// CSV text as its header and rows.
fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader
        .headers()
        .expect("a header line")
        .iter()
        .map(String::from)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("a CSV record").iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// The columns CSV shows for these records: every field of the model, in
/// metadata order, then the keys the schema does not list.
fn expected_columns(model: &str, records: &[Value]) -> Vec<String> {
    let meta = ModelMeta::find(model).unwrap();
    let mut cols: Vec<String> = meta.fields.iter().map(|f| f.name.to_string()).collect();
    for r in records {
        for k in r.as_object().unwrap().keys() {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    cols
}

/// Check one CSV row against the record's JSON: null and absent empty, text
/// as it is, a list its items joined with `;`, a date-time the same instant,
/// anything else (objects, numbers) its JSON text.
fn assert_row_is(model: Option<&str>, record: &Value, columns: &[String], row: &[String]) {
    let meta = model.map(|m| ModelMeta::find(m).unwrap());
    assert_eq!(row.len(), columns.len());
    for (c, cell) in columns.iter().zip(row) {
        let field = meta.and_then(|m| m.field(c));
        match record.get(c) {
            None | Some(Value::Null) => assert_eq!(cell, "", "{c}"),
            Some(Value::Array(items)) if field.is_some_and(|f| f.kind != FieldKind::Json) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|i| match i.get("id").unwrap_or(i) {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                assert_eq!(split_list(cell), items, "{c}");
            }
            Some(Value::String(s)) if field.is_some_and(|f| f.kind == FieldKind::DateTime) => {
                let a = chrono::DateTime::parse_from_rfc3339(s).unwrap();
                let b = chrono::DateTime::parse_from_rfc3339(cell).unwrap();
                assert_eq!(a, b, "{c}");
            }
            Some(Value::String(s)) => assert_eq!(cell, s, "{c}"),
            Some(v) => {
                let parsed: Value = serde_json::from_str(cell)
                    .unwrap_or_else(|e| panic!("{c}: {cell:?} is not JSON: {e}"));
                assert_eq!(&parsed, v, "{c}");
            }
        }
    }
}

#[test]
fn public_portal_and_table_and_csv() {
    cmd()
        .args(["load", "project", "--portal", "public", "--format", "table"])
        .assert()
        .success()
        .stdout(
            predicate::str::starts_with("id")
                .and(predicate::str::contains("name"))
                // not a terminal: no color or other escape codes
                .and(predicate::str::contains("\x1b").not()),
        );
    let out = stdout(cmd().args(["load", "project", "--portal", "public", "--format", "csv"]));
    let text = String::from_utf8_lossy(&out);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("id,name"));
    assert!(lines.next().is_some(), "at least one public project");
}

#[test]
fn csv_parses_back_to_the_columns_and_rows_of_the_json() {
    let own = MockServer::start_background(MockOptions::new()).expect("mock server starts");
    let load = |format: &str| {
        stdout(cmd_for(&own).args([
            "load", "session", "--limit", "20", "--sort", "name", "--format", format,
        ]))
    };
    let json: Value = serde_json::from_slice(&load("json")).unwrap();
    let records = json["sessions"].as_array().unwrap();
    assert_eq!(records.len(), 20);
    assert!(
        records
            .iter()
            .any(|r| r["projects"].as_array().is_some_and(|p| !p.is_empty())),
        "some cells hold lists"
    );
    let (header, rows) = parse_csv(&load("csv"));
    let columns = expected_columns("session", records);
    assert_eq!(header, columns);
    assert_eq!(rows.len(), records.len());
    for (record, row) in records.iter().zip(&rows) {
        assert_row_is(Some("session"), record, &columns, row);
    }
}

#[test]
fn a_cell_with_commas_quotes_and_newlines_round_trips() {
    let own = MockServer::start_background(MockOptions::new()).expect("mock server starts");
    let project = json_out(cmd_for(&own).args(["load", "project", "--limit", "1"]))["projects"][0]
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    let name = "Smith, \"J.\"\nsecond line, \"quoted\"";
    let description = "a,b\r\n\"\"\n,";
    let data = serde_json::json!({
        "name": name,
        "description": description,
        "projects": [project],
        "extra_fields": {"note": "x, \"y\"\nz"},
    });
    let saved = json_out(cmd_for(&own).args(["save", "session", "--data", &data.to_string()]));
    let id = saved["session"]["id"].as_str().unwrap().to_string();
    let record = json_out(cmd_for(&own).args(["load", "session", "--id", &id]))["session"].clone();
    assert_eq!(record["name"], name);
    assert_eq!(record["description"], description);

    let (header, rows) = parse_csv(&stdout(
        cmd_for(&own).args(["load", "session", "--id", &id, "--format", "csv"]),
    ));
    assert_eq!(rows.len(), 1);
    let columns = expected_columns("session", std::slice::from_ref(&record));
    assert_eq!(header, columns);
    assert_row_is(Some("session"), &record, &columns, &rows[0]);
    let cell = |c: &str| &rows[0][header.iter().position(|h| h == c).unwrap()];
    assert_eq!(cell("name"), name);
    assert_eq!(cell("description"), description);
    let extra: Value = serde_json::from_str(cell("extra_fields")).unwrap();
    assert_eq!(extra["note"], "x, \"y\"\nz");

    // the table keeps each record on one line
    let table = stdout(cmd_for(&own).args(["load", "session", "--id", &id, "--format", "table"]));
    let table = String::from_utf8(table).unwrap();
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(table.contains("Smith, \"J.\" second line"), "{table}");
}

#[test]
fn models_as_table_and_csv() {
    let json = json_out(cmd().args(["models"]));
    let models = json["models"].as_array().unwrap();
    let (header, rows) = parse_csv(&stdout(cmd().args(["models", "--format", "csv"])));
    assert_eq!(
        header,
        ["model", "app", "type", "approval_gated", "description"]
    );
    assert_eq!(rows.len(), models.len());
    for (m, row) in models.iter().zip(&rows) {
        assert_row_is(None, m, &header, row);
    }
    let table = stdout(cmd().args(["models", "--format", "table"]));
    let table = String::from_utf8(table).unwrap();
    assert!(table.starts_with("model "), "{table}");
    assert_eq!(table.lines().count(), models.len() + 1);
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    // `brainstem schema session | head -c 0`: the pipe's reader is closed
    // before the command writes; it stops without an error, as other tools do.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("brainstem"))
        .args(["schema", "session"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
