//! Response shapes are tolerant and exact: whatever a server sends that the
//! schema allows or does not know decodes, and encodes back to the same JSON
//! (numbers written the same way, unknown keys kept in order, absent fields
//! left out); what decoding noticed is reported through `observe`.

use brainstem::details::ProcedureDetails;
use brainstem::observe::{self, Observation};
use brainstem::types::{
    ExtraFieldsValue, NewSession, NewSessionRequired, Procedure, Project, Session,
    SpeciesSaveEnvelope,
};
use brainstem::validate::Validate;
use brainstem::{Model, Number, RawJson, Related};

use crate::common;

const SESSION_ID: &str = "6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11";
const PROJECT_ID: &str = "0b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11";

fn huge_integer() -> String {
    format!("1{}", "0".repeat(5000))
}

/// A session with every kind of number in `extra_fields` and unknown keys
/// (one of them a nested object holding a huge number), as (key, JSON text)
/// pairs: `serde_json::Value` could not hold it.
fn session_fields() -> Vec<(&'static str, String)> {
    let huge = huge_integer();
    vec![
        ("id", format!("\"{SESSION_ID}\"")),
        ("name", "\"s1\"".into()),
        ("description", "\"\"".into()),
        ("projects", format!("[\"{PROJECT_ID}\"]")),
        ("date_time", "null".into()),
        ("epochs", "[]".into()),
        ("datastorage", "[]".into()),
        (
            "extra_fields",
            format!(
                r#"{{"trials": 12, "rate": 12.50, "gain": -0.0, "big": {huge}, "far": 1e400, "zeros": 1.0E+2, "label": "a \"quoted\" b"}}"#
            ),
        ),
        (
            "download_links",
            r#"[{"repository": "DANDI", "url": "https://dandiarchive.org/dandiset/1", "version": 3}]"#.into(),
        ),
        ("dataacquisition", "[]".into()),
        ("behaviors", "[]".into()),
        ("manipulations", "[]".into()),
        ("name_used_in_storage", "null".into()),
        ("tags", r#"["pilot"]"#.into()),
        (
            "links",
            format!(r#"{{"self": "/api/private/stem/session/{SESSION_ID}/", "projects": "x"}}"#),
        ),
        (
            "a_field_from_the_future",
            format!(r#"{{"nested": {{"n": {huge}, "f": 2.50}}, "list": [1, 1.0, null, true]}}"#),
        ),
        ("zz_last", "7".into()),
    ]
}

fn join(fields: &[(&str, String)]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v}"))
        .collect();
    format!("{{{}}}", body.join(",\n  "))
}

fn session_text() -> String {
    join(&session_fields())
}

/// The session with some fields replaced (or, with `None`, removed).
fn session_with(changes: &[(&'static str, Option<String>)]) -> String {
    let mut fields = session_fields();
    for (k, v) in changes {
        match (fields.iter().position(|(f, _)| f == k), v) {
            (Some(i), Some(v)) => fields[i].1 = v.clone(),
            (Some(i), None) => {
                fields.remove(i);
            }
            (None, Some(v)) => fields.push((k, v.clone())),
            (None, None) => {}
        }
    }
    join(&fields)
}

/// A procedure whose `Injection` details carry a key their schema does not list.
fn procedure_text() -> String {
    r#"{
  "id": "88c7f06d-15a5-5e8e-b43a-baf6d7fb2b4e",
  "type": "Injection",
  "notes": "",
  "subject": "6a7737d8-5e80-5d7b-af1c-16dd26acb7f1",
  "date_time": null,
  "consumablestock": null,
  "equipment": [],
  "licenses": [],
  "details": {
    "injectionVolume": {"unit": "mL", "value": 0.50},
    "injectionRate": {"unit": "mL/s", "value": 2, "note": "pump"},
    "anesthesia": "isoflurane",
    "injectionMethod": "Intracerebroventricular (ICV)",
    "dose": 1e400
  },
  "type_schema_version": "1.1.0",
  "brain_region": null,
  "coordinates_system": "Stereotaxic_BregmaAbsolute",
  "coordinates_details": {
    "apCoordinate": {"value": -2.80, "unit": "mm"},
    "mlCoordinate": {"value": 1, "unit": "mm"},
    "dvCoordinate": {"value": -2.5, "unit": "mm"}
  },
  "coordinates_schema_version": "0.0.0",
  "created_at": "2024-03-12T09:00:00Z",
  "updated_at": "2024-03-12T09:00:00Z",
  "server_extra": [1e400, 3]
}"#
    .to_string()
}

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(what: &str, text: &str) -> T {
    let from_str: T = serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: {e}"));
    let from_slice: T = serde_json::from_slice(text.as_bytes()).unwrap();
    let from_reader: T = serde_json::from_reader(text.as_bytes()).unwrap();
    let once = serde_json::to_string(&from_str).unwrap();
    common::assert_same_json(what, text, &once);
    assert_eq!(
        once,
        serde_json::to_string(&from_str).unwrap(),
        "{what}: two encodings differ"
    );
    assert_eq!(
        once,
        serde_json::to_string(&from_slice).unwrap(),
        "{what}: from_slice"
    );
    assert_eq!(
        once,
        serde_json::to_string(&from_reader).unwrap(),
        "{what}: from_reader"
    );
    from_str
}

#[test]
fn a_session_with_every_kind_of_number_and_unknown_fields_round_trips() {
    let text = session_text();
    let s: Session = round_trip("session", &text);
    let extra = &s.extra_fields.0;
    assert_eq!(extra["trials"], ExtraFieldsValue::Number(Number::from(12)));
    assert_eq!(
        extra["rate"],
        ExtraFieldsValue::Number("12.50".parse().unwrap())
    );
    match &extra["big"] {
        ExtraFieldsValue::Number(n) => {
            assert!(n.is_integer() && !n.is_finite() && n.as_i64().is_none());
            assert_eq!(n.to_string(), huge_integer());
        }
        other => panic!("big: {other:?}"),
    }
    assert_eq!(extra["label"], ExtraFieldsValue::from("a \"quoted\" b"));
    // unknown keys are kept in order, values exactly as received
    assert_eq!(
        s.unknown.keys().collect::<Vec<_>>(),
        ["a_field_from_the_future", "zz_last"]
    );
    assert!(
        s.unknown
            .get("a_field_from_the_future")
            .unwrap()
            .get()
            .contains("2.50")
    );
    assert!(
        s.unknown.value("a_field_from_the_future").is_none(),
        "beyond serde_json::Value"
    );
    assert_eq!(s.unknown.value("zz_last"), Some(serde_json::json!(7)));
    assert_eq!(
        s.download_links[0].unknown.get("version").unwrap().get(),
        "3"
    );
    assert!(s.missing.is_empty(), "{:?}", s.missing);
    // the unknown keys come after the documented ones
    let out = serde_json::to_string(&s).unwrap();
    assert!(out.find("\"links\"").unwrap() < out.find("a_field_from_the_future").unwrap());
    assert!(out.ends_with(r#""zz_last":7}"#), "{out}");
}

#[test]
fn a_procedure_keeps_unknown_keys_inside_its_typed_details() {
    let text = procedure_text();
    let p: Procedure = round_trip("procedure", &text);
    let ProcedureDetails::Injection(d) = &p.details else {
        panic!("not typed: {:?}", p.details)
    };
    assert_eq!(d.unknown.get("anesthesia").unwrap().get(), "\"isoflurane\"");
    assert_eq!(d.unknown.get("dose").unwrap().get(), "1e400");
    let rate = d.injection_rate.as_ref().unwrap();
    assert_eq!(rate.value.as_i64(), Some(2));
    assert_eq!(rate.unknown.get("note").unwrap().get(), "\"pump\"");
    assert_eq!(
        d.injection_volume.as_ref().unwrap().value.to_string(),
        "0.50"
    );
    assert!(p.coordinates_details.is_typed());
    assert_eq!(p.unknown.get("server_extra").unwrap().get(), "[1e400, 3]");
}

#[test]
fn numbers_in_typed_payload_fields_keep_their_form() {
    let text = r#"{"type": "PhysiologicalSolution", "details": {"pH": 7.40, "osmolality": "300 mOsm/kg", "temperatureC": 37.0}}"#;
    let d: brainstem::details::ConsumableStockDetails = serde_json::from_str(text).unwrap();
    assert!(d.is_typed(), "{d:?}");
    common::assert_same_json("solution", text, &serde_json::to_string(&d).unwrap());
}

#[test]
fn absent_documented_fields_decode_are_listed_and_stay_absent() {
    let text = session_with(&[
        ("links", None),
        ("description", None),
        ("projects", None),
        ("extra_fields", None),
        ("a_field_from_the_future", None),
    ]);
    let (s, seen) = observe::collect(|| serde_json::from_str::<Session>(&text).unwrap());
    let missing: Vec<&str> = s.missing.iter().collect();
    assert_eq!(
        missing,
        ["description", "projects", "extra_fields", "links"]
    );
    assert!(s.missing.contains("links") && !s.missing.contains("name"));
    assert!(s.projects.is_empty() && s.description.is_empty() && s.links.is_empty());
    // re-encoding leaves them out
    common::assert_same_json("session", &text, &serde_json::to_string(&s).unwrap());
    // fields the server always sends are reported; `links` is documented as
    // omitted when empty, so its absence is not news
    for f in ["description", "projects", "extra_fields"] {
        assert!(
            seen.contains(&Observation::MissingField {
                shape: "Session",
                field: f
            }),
            "{f}: {seen:?}"
        );
    }
    assert!(
        !seen
            .iter()
            .any(|o| matches!(o, Observation::MissingField { field: "links", .. }))
    );
    // a field set again is written again
    let mut s = s;
    s.description = "now set".into();
    let out: serde_json::Value = serde_json::to_value(&s).unwrap();
    assert_eq!(out["description"], "now set");
    assert!(out.get("projects").is_none());
}

#[test]
fn a_session_of_nothing_but_unknown_keys_still_decodes() {
    let (s, seen) = observe::collect(|| serde_json::from_str::<Session>(r#"{"x": 1}"#).unwrap());
    assert_eq!(s.missing.len(), Session::FIELD_NAMES.len());
    assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"x":1}"#);
    assert!(seen.contains(&Observation::UnknownField {
        shape: "Session",
        key: "x".into()
    }));
    // a documented field of the wrong type still fails the record
    let err = serde_json::from_str::<Session>(r#"{"name": 5}"#).unwrap_err();
    assert!(err.to_string().contains("invalid type"), "{err}");
}

fn project_json(extra: serde_json::Value) -> serde_json::Value {
    let mut p = serde_json::json!({
        "id": PROJECT_ID,
        "name": "p1", "description": "", "sessions": [], "subjects": [], "publications": [],
        "collections": [], "cohorts": [], "extra_fields": {}, "is_public": true, "tags": [],
        "users": {}, "groups": {}
    });
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

fn session_with_projects(projects: serde_json::Value) -> String {
    session_with(&[("projects", Some(projects.to_string()))])
}

#[test]
fn an_embedded_record_that_does_not_decode_falls_back_to_its_id() {
    // `is_public` of the wrong type: the project does not decode, the session does
    let bad = project_json(serde_json::json!({"is_public": "yes", "new_key": 1}));
    let text = session_with_projects(serde_json::json!([bad]));
    let (s, seen) = observe::collect(|| serde_json::from_str::<Session>(&text).unwrap());
    assert_eq!(s.projects.len(), 1);
    assert!(matches!(s.projects[0], Related::Id(id) if id.to_string() == PROJECT_ID));
    let fallback = seen
        .iter()
        .find_map(|o| match o {
            Observation::EmbeddedFallback { model, id, error } => Some((*model, id, error)),
            _ => None,
        })
        .expect("the fallback is reported");
    assert_eq!(fallback.0, "project");
    assert_eq!(fallback.1, PROJECT_ID);
    assert!(fallback.2.contains("invalid type"), "{}", fallback.2);
    // what the abandoned attempt noticed is not reported
    assert!(
        !seen
            .iter()
            .any(|o| matches!(o, Observation::UnknownField { key, .. } if key == "new_key"))
    );

    // a project that lacks documented fields is embedded all the same
    let mut thin = project_json(serde_json::json!({}));
    thin.as_object_mut().unwrap().remove("users");
    let text = session_with_projects(serde_json::json!([thin]));
    let s: Session = serde_json::from_str(&text).unwrap();
    let p: &Project = s.projects[0].object().expect("embedded");
    assert!(p.missing.contains("users"));

    // without a usable id the record fails, naming the relation
    let no_id = serde_json::json!([{"name": 3}]);
    let err = serde_json::from_str::<Session>(&session_with_projects(no_id)).unwrap_err();
    assert!(err.to_string().contains("no usable `id`"), "{err}");
}

#[test]
fn relation_fields_are_visited_by_name() {
    let embedded = project_json(serde_json::json!({}));
    let text = session_with_projects(serde_json::json!([embedded, PROJECT_ID]));
    let mut s: Session = serde_json::from_str(&text).unwrap();
    let mut seen = 0;
    assert!(s.visit_related_mut("projects", &mut |slot| {
        seen += 1;
        slot.mark_missing();
    }));
    assert_eq!(seen, 2);
    assert!(s.projects[0].is_included(), "an embedded record stays");
    assert!(s.projects[1].is_missing(), "a bare id becomes Missing");
    assert!(!s.visit_related_mut("name", &mut |_| panic!("not a relation")));
    assert!(!s.visit_related_mut("nope", &mut |_| panic!("no such field")));
    let mut calls = 0;
    assert!(s.visit_related_mut("behaviors", &mut |_| calls += 1));
    assert_eq!(calls, 0, "an empty to-many relation");

    // to-one relations, nullable or not
    let mut p: Procedure = serde_json::from_str(&procedure_text()).unwrap();
    let mut n = 0;
    assert!(p.visit_related_mut("subject", &mut |_| n += 1));
    assert!(p.visit_related_mut("brain_region", &mut |_| n += 1));
    assert_eq!(n, 1, "brain_region is null");
    // nested: the embedded project's relations are reachable through the slot
    let mut s: Session = serde_json::from_str(&text).unwrap();
    let mut inner = None;
    s.visit_related_mut("projects", &mut |slot| {
        if let Some(rec) = slot.record_mut() {
            inner = Some(rec.visit_related_mut("sessions", &mut |_| {}));
        }
    });
    assert_eq!(inner, Some(true));
}

#[test]
fn values_outside_the_documented_sets_are_kept_and_reported() {
    let text = session_with(&[
        (
            "extra_fields",
            Some(r#"{"flag": true, "obj": {"a": 1}}"#.into()),
        ),
        (
            "download_links",
            Some(r#"[{"repository": "OpenNeuro", "url": "https://openneuro.org/x"}]"#.into()),
        ),
    ]);
    let (s, seen) = observe::collect(|| serde_json::from_str::<Session>(&text).unwrap());
    assert_eq!(
        s.extra_fields.0["flag"],
        ExtraFieldsValue::Other(RawJson::new("true").unwrap())
    );
    common::assert_same_json("session", &text, &serde_json::to_string(&s).unwrap());
    assert!(seen.contains(&Observation::UnexpectedValue {
        union: "ExtraFieldsValue",
        value: "true".into()
    }));
    assert!(seen.contains(&Observation::UnknownEnumValue {
        enum_name: "DownloadLinkRepository",
        value: "OpenNeuro".into()
    }));

    // such a value is refused in a request
    let mut new = NewSession::new(NewSessionRequired {
        name: "s".into(),
        projects: vec![uuid::Uuid::nil()],
    });
    new.extra_fields = Some(s.extra_fields.clone());
    let err = new.validate().unwrap_err();
    assert!(err.has("extra_fields.flag"), "{err}");
    let extra = &mut new.extra_fields.as_mut().unwrap().0;
    extra.retain(|_, v| !matches!(v, ExtraFieldsValue::Other(_)));
    extra.insert("n".into(), Number::from(3).into());
    new.validate().unwrap();
    // a number kept from a response that serde_json::Value cannot hold is
    // still checked and sent exactly
    let mut huge = new.clone();
    let far: Number = "-1e400".parse().unwrap();
    huge.extra_fields
        .as_mut()
        .unwrap()
        .0
        .insert("far".into(), far.into());
    huge.validate().unwrap();
    assert!(
        serde_json::to_string(&huge)
            .unwrap()
            .contains(r#""far":-1e400"#)
    );
    assert_eq!(
        serde_json::to_value(&new).unwrap()["extra_fields"],
        serde_json::json!({"n": 3})
    );
}

#[test]
fn payloads_that_do_not_fit_are_kept_exactly_and_reported() {
    let text = format!(
        r#"{{"type": "BrainSlice", "details": {{"orientation": "coronal", "thickness": {}}}}}"#,
        huge_integer()
    );
    let (d, seen) = observe::collect(|| serde_json::from_str::<ProcedureDetails>(&text).unwrap());
    assert!(!d.is_typed());
    assert!(d.details_raw().get().contains(&huge_integer()));
    common::assert_same_json("details", &text, &serde_json::to_string(&d).unwrap());
    assert!(
        matches!(&seen[..], [Observation::DetailsMismatch { group: "Procedure", type_name, .. }] if type_name == "BrainSlice"),
        "{seen:?}"
    );

    let (d, seen) = observe::collect(|| {
        serde_json::from_str::<ProcedureDetails>(
            r#"{"type": "Teleportation", "details": {"d": 1e400}}"#,
        )
        .unwrap()
    });
    assert_eq!(d.details_raw().get(), r#"{"d": 1e400}"#);
    assert_eq!(
        seen,
        [Observation::UnknownDetailsType {
            group: "Procedure",
            type_name: "Teleportation".into()
        }]
    );
}

#[test]
fn maps_keep_the_order_received() {
    let text = session_text();
    let a: Session = serde_json::from_str(&text).unwrap();
    let b: Session = serde_json::from_str(&text).unwrap();
    let (ea, eb) = (
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap(),
    );
    assert_eq!(ea, eb);
    // keys of maps come out in the order they came in
    let keys: Vec<&String> = a.extra_fields.0.keys().collect();
    let received = ["trials", "rate", "gain", "big", "far", "zeros", "label"];
    assert_eq!(keys, received);
    let written: Vec<usize> = received
        .iter()
        .map(|k| ea.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(written.is_sorted(), "written in the order received: {ea}");
    // links too: "self" came first
    assert!(ea.find(r#""self":"#).unwrap() < ea.find(r#""projects":"x""#).unwrap());
}

#[test]
fn save_envelopes_pick_their_alternative_by_key() {
    let species = serde_json::json!({"id": "00000000-0000-4000-8000-000000000001", "name": "Rat"});
    let e: SpeciesSaveEnvelope =
        serde_json::from_value(serde_json::json!({"species": species})).unwrap();
    assert!(matches!(e, SpeciesSaveEnvelope::Envelope(_)));
    let err =
        serde_json::from_value::<SpeciesSaveEnvelope>(serde_json::json!({"other": 1})).unwrap_err();
    assert!(err.to_string().contains("species_approval"), "{err}");
    let t: brainstem::types::DeviceTokenResponse =
        serde_json::from_str(r#"{"status": "authorization_pending"}"#).unwrap();
    assert!(matches!(
        t,
        brainstem::types::DeviceTokenResponse::Pending(_)
    ));
    let t: brainstem::types::DeviceTokenResponse =
        serde_json::from_str(r#"{"status": "success", "token": "t"}"#).unwrap();
    assert!(matches!(
        t,
        brainstem::types::DeviceTokenResponse::Success(_)
    ));
}

#[test]
fn constructed_shapes_send_only_what_was_set() {
    let link = brainstem::types::DownloadLink::new(brainstem::types::DownloadLinkRequired {
        repository: brainstem::enums::DownloadLinkRepository::Zenodo,
        url: "https://zenodo.org/1".into(),
    });
    assert!(link.missing.is_empty());
    assert_eq!(
        serde_json::to_string(&link).unwrap(),
        r#"{"repository":"Zenodo","url":"https://zenodo.org/1"}"#
    );
    let mut d = brainstem::types::ProcedureInjectionDetails::default();
    assert_eq!(serde_json::to_string(&d).unwrap(), "{}");
    d.injection_side = Some("left".into());
    assert_eq!(
        serde_json::to_string(&d).unwrap(),
        r#"{"injectionSide":"left"}"#
    );
}

#[test]
fn related_ids_decode_from_every_source() {
    let id: Related<Project> = serde_json::from_str(&format!("\"{PROJECT_ID}\"")).unwrap();
    assert_eq!(id.id().to_string(), PROJECT_ID);
    let v: Related<Project> = serde_json::from_value(serde_json::json!(PROJECT_ID)).unwrap();
    assert_eq!(v, id);
    let g: Related<brainstem::types::Group> = serde_json::from_str("42").unwrap();
    assert_eq!(g.id(), 42);
    assert!(serde_json::from_str::<Related<Project>>("42").is_err());
    assert!(serde_json::from_str::<Related<Project>>("true").is_err());
    assert_eq!(<Project as Model>::META.name, "project");
}

#[test]
fn create_shapes_still_decode_their_flattened_payloads() {
    // `NewProcedure` keeps serde's derive: its payload arrives through serde's
    // buffered `flatten`, where raw JSON text is not to be had
    let text = r#"{"subject": "6a7737d8-5e80-5d7b-af1c-16dd26acb7f1",
        "type": "BrainSlice", "details": {"orientation": "coronal", "thickness": {"value": 50, "unit": "µm"}},
        "coordinates_system": "Stereotaxic_BregmaAbsolute", "coordinates_details": {}}"#;
    let p: brainstem::types::NewProcedure = serde_json::from_str(text).unwrap();
    let ProcedureDetails::BrainSlice(slice) = &p.details else {
        panic!("not typed: {:?}", p.details)
    };
    assert_eq!(slice.thickness.value.as_i64(), Some(50));
    assert_eq!(
        serde_json::to_value(&p).unwrap()["details"]["thickness"],
        serde_json::json!({"value": 50, "unit": "µm"})
    );
}
