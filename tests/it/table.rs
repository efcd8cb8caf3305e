//! Records as tables (feature `arrow`): every model's records from the
//! stand-in server to Arrow and through Parquet and Arrow IPC files and back,
//! and a typed payload laid out per field with a measured value.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use brainstem::client::{Client, Saved};
use brainstem::table::arrow::{BatchBuilder, TableWriter, record_batch};
use brainstem::table::{ColumnKind, Layout};
use brainstem::{Model, ModelVisitor};
use brainstem_mock::MockServer;
use futures::future::BoxFuture;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn read_parquet(bytes: Vec<u8>) -> Vec<RecordBatch> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .expect("a parquet file")
        .build()
        .expect("a reader");
    reader.map(|b| b.expect("a batch")).collect()
}

fn text_column(batches: &[RecordBatch], name: &str) -> Vec<Option<String>> {
    batches
        .iter()
        .flat_map(|b| {
            let col = b
                .column_by_name(name)
                .unwrap_or_else(|| panic!("no {name}"));
            let col = col.as_string::<i32>();
            (0..col.len())
                .map(|i| (!col.is_null(i)).then(|| col.value(i).to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What one model's round trip saw.
#[derive(Debug, Default)]
struct Seen {
    rows: usize,
    timestamps: usize,
}

struct RoundTrip(Client);

impl ModelVisitor for RoundTrip {
    type Output = BoxFuture<'static, Seen>;
    fn visit<M: Model>(self) -> Self::Output {
        Box::pin(async move {
            let name = M::META.name;
            if M::META.list.is_none() {
                return Seen::default();
            }
            let records = self
                .0
                .api::<M>()
                .list()
                .all()
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(records.undecoded.is_empty(), "{name}");
            let records = records.into_vec();
            // to Arrow in memory
            let batch = record_batch(&records).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(batch.num_rows(), records.len(), "{name}");
            // through Parquet, several batches
            let mut w = TableWriter::parquet(Vec::new(), Layout::of::<M>())
                .unwrap()
                .batch_rows(7);
            w.write_all(&records)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let (bytes, rows) = w.finish().unwrap();
            assert_eq!(rows as usize, records.len());
            let back = read_parquet(bytes);
            let total: usize = back.iter().map(RecordBatch::num_rows).sum();
            assert_eq!(total, records.len(), "{name}");
            if records.is_empty() {
                return Seen::default();
            }
            let schema = back[0].schema();
            assert_eq!(
                schema.fields().len(),
                Layout::of::<M>().columns().len(),
                "{name}"
            );
            // ids, in order
            let ids: Vec<String> = records.iter().map(|r| r.record_id().to_string()).collect();
            match schema.field_with_name("id").unwrap().data_type() {
                DataType::Utf8 => {
                    let got: Vec<String> = text_column(&back, "id")
                        .into_iter()
                        .map(|i| i.expect("ids are never null"))
                        .collect();
                    assert_eq!(got, ids, "{name}");
                }
                DataType::Int64 => {
                    let got: Vec<String> = back
                        .iter()
                        .flat_map(|b| {
                            let c = b["id"].as_primitive::<arrow_array::types::Int64Type>();
                            c.values().iter().map(|v| v.to_string()).collect::<Vec<_>>()
                        })
                        .collect();
                    assert_eq!(got, ids, "{name}");
                }
                other => panic!("{name}: id column is {other}"),
            }
            // typed timestamp columns hold the records' instants
            let mut timestamps = 0;
            let json: Vec<serde_json::Value> = records
                .iter()
                .map(|r| serde_json::to_value(r).unwrap())
                .collect();
            for c in Layout::of::<M>().columns() {
                if c.kind != ColumnKind::Timestamp {
                    continue;
                }
                assert_eq!(
                    schema.field_with_name(&c.name).unwrap().data_type(),
                    &DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC"))),
                );
                let got: Vec<Option<i64>> = back
                    .iter()
                    .flat_map(|b| {
                        let col = b[c.name.as_str()].as_primitive::<TimestampMicrosecondType>();
                        (0..col.len())
                            .map(|i| (!col.is_null(i)).then(|| col.value(i)))
                            .collect::<Vec<_>>()
                    })
                    .collect();
                let want: Vec<Option<i64>> = json
                    .iter()
                    .map(|r| {
                        r.get(&c.name).and_then(|v| v.as_str()).map(|s| {
                            chrono::DateTime::parse_from_rfc3339(s)
                                .unwrap()
                                .timestamp_micros()
                        })
                    })
                    .collect();
                assert_eq!(got, want, "{name}.{}", c.name);
                timestamps += want.iter().flatten().count();
            }
            Seen {
                rows: records.len(),
                timestamps,
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_models_records_round_trip_through_parquet() {
    let srv = MockServer::start().await;
    let client = Client::builder()
        .base_url(srv.url())
        .token(srv.token())
        .build()
        .unwrap();
    let mut with_rows = 0;
    let mut timestamps = 0;
    for m in brainstem::MODELS {
        let seen = brainstem::models::with_model(m.name, RoundTrip(client.clone()))
            .unwrap()
            .await;
        if seen.rows > 0 {
            with_rows += 1;
        }
        timestamps += seen.timestamps;
    }
    // the stand-in server seeds records of (nearly) every model
    assert!(
        with_rows * 4 >= brainstem::MODELS.len() * 3,
        "{with_rows} of {} models had records",
        brainstem::MODELS.len()
    );
    assert!(timestamps > 0, "some timestamp was checked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_typed_payload_of_one_type_has_a_quantity_column() {
    use brainstem::enums::ProcedureBrainSliceDetailsOrientation as Orientation;
    use brainstem::types::{
        CoordinatesStereotaxicBregmaAbsoluteDetails, NewProcedure, NewProcedureRequired, Procedure,
        ProcedureBrainSliceDetails, ProcedureBrainSliceDetailsRequired, Subject,
    };

    let srv = MockServer::start().await;
    let client = Client::builder()
        .base_url(srv.url())
        .token(srv.token())
        .build()
        .unwrap();
    let subject = client.api::<Subject>().list().page().await.unwrap().records[0].id;
    // a unit taken from the documented example, whatever its enum variant is named
    let example = brainstem::schema::details_schema("Procedure", "BrainSlice")
        .unwrap()
        .schema
        .example_value()
        .unwrap();
    let thickness: brainstem::Quantity<_> =
        serde_json::from_value(example["thickness"].clone()).unwrap();
    let mut made = Vec::new();
    for i in 0..3 {
        let mut t = thickness.clone();
        t.value = (40.0 + 10.0 * f64::from(i)).into();
        let slice = ProcedureBrainSliceDetails::new(ProcedureBrainSliceDetailsRequired {
            orientation: Orientation::Coronal,
            thickness: t,
        });
        let new = NewProcedure::new(NewProcedureRequired {
            subject,
            details: slice.into(),
            coordinates_details: CoordinatesStereotaxicBregmaAbsoluteDetails::new().into(),
        });
        match client.api::<Procedure>().create(&new).await.unwrap() {
            Saved::Applied(p) => made.push(p.id),
            other => panic!("not applied: {other:?}"),
        }
    }
    let procedures: Vec<Procedure> = client
        .api::<Procedure>()
        .list()
        .filter(brainstem::models::ProcedureFilter::Type(
            brainstem::enums::ProcedureType::BrainSlice,
        ))
        .all()
        .await
        .unwrap()
        .into_vec();
    // whatever the server's filter did, only BrainSlice records go in
    let procedures: Vec<Procedure> = procedures
        .into_iter()
        .filter(|p| serde_json::to_value(p).unwrap()["type"] == "BrainSlice")
        .collect();
    assert!(procedures.len() >= 3);
    let layout = Layout::of::<Procedure>()
        .details_type("details", "BrainSlice")
        .unwrap();
    let mut b = BatchBuilder::new(layout.clone());
    for p in &procedures {
        b.push(p).unwrap();
    }
    let mut w = TableWriter::parquet(Vec::new(), layout).unwrap();
    w.write_all(&procedures).unwrap();
    let back = read_parquet(w.finish().unwrap().0);
    let ids = text_column(&back, "id");
    let units = text_column(&back, "details.thickness.unit");
    let values: Vec<f64> = back
        .iter()
        .flat_map(|b| {
            b["details.thickness.value"]
                .as_primitive::<Float64Type>()
                .values()
                .to_vec()
        })
        .collect();
    let unit = example["thickness"]["unit"].as_str().unwrap();
    for (i, id) in made.iter().enumerate() {
        let row = ids
            .iter()
            .position(|x| x.as_deref() == Some(&id.to_string()))
            .expect("the new procedure is in the file");
        assert_eq!(values[row], 40.0 + 10.0 * i as f64);
        assert_eq!(units[row].as_deref(), Some(unit));
    }
    assert_eq!(
        text_column(&back, "details.orientation")
            .iter()
            .filter(|o| o.as_deref() == Some("coronal"))
            .count()
            .min(3),
        3
    );

    // a record of another type in a per-field layout is refused, naming the column
    let mut other = procedures[0].clone();
    let mut v = serde_json::to_value(&other).unwrap();
    v["type"] = "Anesthesia".into();
    v["details"] = serde_json::json!({});
    other = serde_json::from_value(v).unwrap();
    let err = BatchBuilder::new(
        Layout::of::<Procedure>()
            .details_type("details", "BrainSlice")
            .unwrap(),
    )
    .push(&other)
    .unwrap_err();
    assert!(err.to_string().contains("details"), "{err}");
}

#[test]
fn arrow_ipc_files_read_back() {
    let text = r#"{"id": "6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11", "name": "s1",
                   "date_time": "2024-05-01T10:00:00Z", "projects": ["0b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11"],
                   "tags": ["a", "b"]}"#;
    let s: brainstem::types::Session = serde_json::from_str(text).unwrap();
    let mut w =
        TableWriter::arrow_ipc(Vec::new(), Layout::of::<brainstem::types::Session>()).unwrap();
    w.write(&s).unwrap();
    let (bytes, _) = w.finish().unwrap();
    let reader = arrow_ipc::reader::FileReader::try_new(std::io::Cursor::new(bytes), None).unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    assert_eq!(batches[0].num_rows(), 1);
    let tags = batches[0]["tags"].as_list::<i32>();
    assert_eq!(tags.value(0).as_string::<i32>().value(1), "b");
    assert_eq!(
        batches[0]
            .schema()
            .field_with_name("extra_fields")
            .unwrap()
            .metadata()["brainstem:kind"],
        "json"
    );
}
