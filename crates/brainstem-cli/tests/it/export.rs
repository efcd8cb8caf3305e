//! `brainstem export`: every record of a query into a Parquet, CSV or Arrow
//! file with the columns of `brainstem::table`, read back here; and what it
//! refuses before sending anything.

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use brainstem::meta::ModelMeta;
use brainstem::table::Layout;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

use brainstem_mock::{MockOptions, MockServer};

use crate::{cmd, cmd_for};

/// A server of the test's own (others write to the shared one meanwhile).
fn own() -> MockServer {
    MockServer::start_background(MockOptions::new()).expect("mock server starts")
}

/// Every session id on the server, in `name` order.
fn session_ids(srv: &MockServer) -> Vec<String> {
    let out = cmd_for(srv)
        .args([
            "load", "session", "--all", "--sort", "name", "--format", "ndjson",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["id"].as_str().unwrap().to_string()
        })
        .collect()
}

fn read_parquet(path: &std::path::Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("a parquet file")
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

#[test]
fn csv_has_the_layout_columns_and_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.csv");
    let srv = own();
    cmd_for(&srv)
        .args([
            "export", "session", "--sort", "name", "--limit", "7", "--out",
        ])
        .arg(&path)
        .assert()
        .success();
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let layout = Layout::new(ModelMeta::find("session").unwrap());
    assert_eq!(header, layout.names(), "the layout's columns, in its order");
    let id = header.iter().position(|h| h == "id").unwrap();
    let ids: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[id].to_string())
        .collect();
    let want = session_ids(&srv);
    assert!(want.len() > 7, "more than one page");
    assert_eq!(ids, want);

    // the same columns as `load --format csv`
    let out = cmd()
        .args(["load", "session", "--limit", "3", "--format", "csv"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let load_header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(load_header[..header.len()], header[..]);
}

#[test]
fn parquet_with_an_included_relation_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sessions.parquet");
    let srv = own();
    cmd_for(&srv)
        .args([
            "export",
            "session",
            "--format",
            "parquet",
            "--sort",
            "name",
            "--include",
            "projects",
            "--out",
        ])
        .arg(&path)
        .assert()
        .success();
    let batches = read_parquet(&path);
    let ids: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            let c = b["id"].as_string::<i32>();
            (0..c.len())
                .map(|i| c.value(i).to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(ids, session_ids(&srv));
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let projects = names.iter().position(|n| *n == "projects").unwrap();
    assert_eq!(names[projects + 1], "projects.name");
    // every session has a project, and its name came with the include
    let named = batches.iter().all(|b| {
        let c = b["projects.name"].as_list::<i32>();
        (0..c.len()).all(|i| !c.is_null(i) && !c.value(i).is_empty())
    });
    assert!(named, "included names are in the file");
}

#[test]
fn arrow_ipc_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("projects.arrow");
    cmd()
        .args(["export", "project", "--out"])
        .arg(&path)
        .assert()
        .success();
    let reader = arrow_ipc::reader::FileReader::try_new(std::fs::File::open(&path).unwrap(), None)
        .expect("an Arrow IPC file");
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert!(rows > 0);
}

#[test]
fn refusals_send_nothing_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let cases: Vec<Vec<&str>> = vec![
        vec!["export", "session", "--format", "json"],
        vec!["export", "session"],
        vec!["export", "session", "--format", "csv", "--include", "name"],
        vec![
            "export",
            "procedure",
            "--format",
            "csv",
            "--filters",
            "type=NoSuchType",
        ],
        vec![
            "export",
            "session",
            "--format",
            "csv",
            "--details-type",
            "BrainSlice",
        ],
    ];
    for args in cases {
        let assert = cmd().args(&args).arg("--out").arg(&out).assert().code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(!stderr.is_empty(), "{args:?}");
    }
    cmd()
        .args(["load", "session", "--format", "parquet"])
        .assert()
        .code(2);
}
