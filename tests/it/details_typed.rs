//! Typed `details` payloads: every documented example of all 179 types parses
//! into its typed variant and re-serializes to the same JSON (numbers written
//! the same way); unknown types, unknown fields and missing payloads never
//! fail a record and are written back as received; checks the types cannot
//! express run before sending and name the JSON path.

use std::path::Path;

use brainstem::details::{
    ConsumableStockDetails, CoordinatesDetails, DataAcquisitionDetails, DetailsGroup,
    EquipmentDetails, ManipulationDetails, ProcedureDetails, ProcedureLogDetails,
    SubjectLogDetails,
};
use brainstem::types::{NewProcedure, NewProcedureRequired, Procedure, ProcedureBrainSliceDetails};
use brainstem::validate::Validate;
use serde_json::{Value, json};

use crate::common;

fn check_group<G: DetailsGroup>(dir: &Path) -> Result<usize, String> {
    let mut n = 0;
    let mut seen = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
        .collect();
    files.sort();
    for path in files {
        let what = format!(
            "{}/{}",
            G::GROUP,
            path.file_name().unwrap().to_string_lossy()
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let typed: G = brainstem::decode(text.as_bytes()).map_err(|e| format!("{what}: {e}"))?;
        if !typed.is_typed() {
            return Err(format!("{what}: parsed as Unknown, not its typed variant"));
        }
        if typed.type_name() != v[G::TAG].as_str().unwrap_or_default() {
            return Err(format!("{what}: type name {}", typed.type_name()));
        }
        if typed.schema_version().is_none_or(str::is_empty) {
            return Err(format!("{what}: no schema version"));
        }
        let back = serde_json::to_string(&typed).unwrap();
        if let Some(d) = common::difference(&text, &back) {
            return Err(format!(
                "{what}: re-serialized differs at {d}\n  fixture: {text}\n  typed:   {back}"
            ));
        }
        seen.push(typed.type_name().to_string());
        n += 1;
    }
    let mut missing: Vec<&&str> = G::TYPES
        .iter()
        .filter(|t| !seen.iter().any(|s| s == **t))
        .collect();
    missing.sort();
    if !missing.is_empty() {
        return Err(format!("{}: no fixture for {missing:?}", G::GROUP));
    }
    Ok(n)
}

#[test]
fn every_type_example_round_trips_through_its_typed_variant() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/details");
    let results = [
        check_group::<CoordinatesDetails>(&root.join("Coordinates")),
        check_group::<ConsumableStockDetails>(&root.join("ConsumableStock")),
        check_group::<DataAcquisitionDetails>(&root.join("DataAcquisition")),
        check_group::<EquipmentDetails>(&root.join("Equipment")),
        check_group::<ManipulationDetails>(&root.join("Manipulation")),
        check_group::<ProcedureDetails>(&root.join("Procedure")),
        check_group::<ProcedureLogDetails>(&root.join("ProcedureLog")),
        check_group::<SubjectLogDetails>(&root.join("SubjectLog")),
    ];
    let mut total = 0;
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(n) => total += n,
            Err(e) => errors.push(e),
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(total, 179, "all 179 documented types");
    let types: usize = [
        CoordinatesDetails::TYPES.len(),
        ConsumableStockDetails::TYPES.len(),
        DataAcquisitionDetails::TYPES.len(),
        EquipmentDetails::TYPES.len(),
        ManipulationDetails::TYPES.len(),
        ProcedureDetails::TYPES.len(),
        ProcedureLogDetails::TYPES.len(),
        SubjectLogDetails::TYPES.len(),
    ]
    .iter()
    .sum();
    assert_eq!(types, 179);
}

#[test]
fn unknown_type_unknown_field_and_missing_details() {
    let d: ProcedureDetails =
        serde_json::from_value(json!({"type": "Teleportation", "details": {"distance": 3}}))
            .unwrap();
    assert_eq!(
        d,
        ProcedureDetails::Unknown {
            type_name: "Teleportation".into(),
            details: json!({"distance": 3}).into()
        }
    );
    assert_eq!(d.schema_version(), None);
    assert_eq!(
        serde_json::to_value(&d).unwrap(),
        json!({"type": "Teleportation", "details": {"distance": 3}})
    );

    // a field the schema does not list inside known details: still typed,
    // and written back
    let text = r#"{"type": "Anesthesia", "details": {
        "anestheticAgent": "Isoflurane", "route": "Inhalation", "fromTheFuture": 1.50}}"#;
    let d: ProcedureDetails = serde_json::from_str(text).unwrap();
    assert!(d.is_typed());
    assert_eq!(d.schema_version(), Some("1.1.0"));
    let ProcedureDetails::Anesthesia(p) = &d else {
        panic!("typed as {d:?}")
    };
    assert_eq!(p.unknown.get("fromTheFuture").unwrap().get(), "1.50");
    common::assert_same_json("anesthesia", text, &serde_json::to_string(&d).unwrap());
    // the payload alone, as JSON: typed and unknown alike
    let payload =
        json!({"anestheticAgent": "Isoflurane", "route": "Inhalation", "fromTheFuture": 1.5});
    assert_eq!(d.details_json(), payload);
    assert_eq!(d.details_raw().value(), Some(payload));
    let unknown = ProcedureDetails::from_parts("Teleportation", json!({"distance": 3}));
    assert_eq!(unknown.details_json(), json!({"distance": 3}));

    // no details at all: the record still parses, the payload is kept as null
    let d: ProcedureDetails = serde_json::from_value(json!({"type": "Anesthesia"})).unwrap();
    assert!(!d.is_typed());
    assert_eq!(d.type_name(), "Anesthesia");

    // details that do not fit their schema (a bare number for a measured value)
    let d: ProcedureDetails = serde_json::from_value(json!({"type": "BrainSlice", "details": {
        "orientation": "coronal", "thickness": 50}}))
    .unwrap();
    assert!(!d.is_typed());

    // no selector at all is an error naming it
    let err = serde_json::from_value::<ProcedureDetails>(json!({"details": {}})).unwrap_err();
    assert!(err.to_string().contains("type"), "{err}");
}

#[test]
fn a_record_with_an_unknown_type_still_parses() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models/procedure/detail.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let rec = v["procedure"].as_object_mut().unwrap();
    rec.insert("type".into(), json!("Teleportation"));
    rec.insert("details".into(), json!({"distance": 3}));
    let p: Procedure = serde_json::from_value(v["procedure"].clone()).unwrap();
    assert_eq!(p.details.type_name(), "Teleportation");
    assert!(!p.details.is_typed());
    assert_eq!(
        serde_json::to_value(&p).unwrap()["details"],
        json!({"distance": 3})
    );
}

#[test]
fn documented_model_examples_carry_typed_details() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models");
    for model in [
        "procedure",
        "equipment",
        "dataacquisition",
        "manipulation",
        "consumablestock",
    ] {
        for entry in std::fs::read_dir(root.join(model)).unwrap() {
            let path = entry.unwrap().path();
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for (_, body) in v.as_object().unwrap() {
                let records: Vec<&Value> = match body {
                    Value::Array(a) => a.iter().collect(),
                    o => vec![o],
                };
                for r in records {
                    if r.get("type").is_none() || r.get("details").is_none() {
                        continue;
                    }
                    let typed = match r["details"].is_array() {
                        true => ManipulationDetails::from_parts(
                            r["type"].as_str().unwrap(),
                            r["details"].clone(),
                        )
                        .is_typed(),
                        false => match model {
                            "procedure" => ProcedureDetails::from_parts(
                                r["type"].as_str().unwrap(),
                                r["details"].clone(),
                            )
                            .is_typed(),
                            "equipment" => EquipmentDetails::from_parts(
                                r["type"].as_str().unwrap(),
                                r["details"].clone(),
                            )
                            .is_typed(),
                            "dataacquisition" => DataAcquisitionDetails::from_parts(
                                r["type"].as_str().unwrap(),
                                r["details"].clone(),
                            )
                            .is_typed(),
                            "consumablestock" => ConsumableStockDetails::from_parts(
                                r["type"].as_str().unwrap(),
                                r["details"].clone(),
                            )
                            .is_typed(),
                            _ => ManipulationDetails::from_parts(
                                r["type"].as_str().unwrap(),
                                r["details"].clone(),
                            )
                            .is_typed(),
                        },
                    };
                    assert!(
                        typed,
                        "{}: {} details are not typed",
                        path.display(),
                        r["type"]
                    );
                }
            }
        }
    }
}

#[test]
fn bounds_the_types_cannot_express_are_checked_before_sending() {
    let mut slice: ProcedureBrainSliceDetails = serde_json::from_value(json!({
        "orientation": "coronal", "thickness": {"value": 50.0, "unit": "µm"}}))
    .unwrap();
    slice.n_slices = Some(-1);
    let coords: CoordinatesDetails = serde_json::from_value(json!({
        "coordinates_system": "StereotaxicBregmaAbsolute", "coordinates_details": {}}))
    .unwrap_or_else(|_| CoordinatesDetails::from_parts(CoordinatesDetails::TYPES[0], json!({})));
    let mut p = NewProcedure::new(NewProcedureRequired {
        subject: uuid::Uuid::nil(),
        details: ProcedureDetails::from(slice.clone()),
        coordinates_details: coords,
    });
    let err = p.validate().unwrap_err();
    assert!(err.has("details.nSlices"), "{err}");

    // a unit of the right kind that this field does not allow
    slice.n_slices = Some(3);
    slice.thickness.unit = brainstem::enums::LengthUnit::Centimetre;
    p.details = ProcedureDetails::from(slice);
    let err = p.validate().unwrap_err();
    assert!(err.has("details.thickness.unit"), "{err}");
}

#[test]
fn log_entries_are_typed_by_the_logs_type() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models");
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("procedurelog/list.json")).unwrap(),
    )
    .unwrap();
    let logs: Vec<brainstem::types::ProcedureLog> =
        serde_json::from_value(v["procedure_logs"].clone()).unwrap();
    let mut n = 0;
    for log in &logs {
        for d in log.entry_details() {
            assert!(d.is_typed(), "{} entry not typed: {d:?}", log.type_);
            assert_eq!(d.type_name(), log.type_.as_str());
            n += 1;
        }
    }
    assert!(n > 0, "the documented logs have entries");
}
