//! The generated types: forward compatibility, create/patch shapes, relations,
//! and the checks that run before a request is sent.

use brainstem::enums::DownloadLinkRepository;
use brainstem::meta::HttpMethod;
use brainstem::types::{
    DownloadLink, NewProject, NewProjectRequired, NewSession, NewSessionRequired, Project, Session,
    SessionPatch, Species,
};
use brainstem::validate::{Mode, Shape, Validate, check_body};
use brainstem::{Model, Nullable, Related, decode};
use serde_json::json;
use uuid::Uuid;

fn session_json() -> serde_json::Value {
    json!({
        "id": "6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11",
        "name": "s1",
        "description": "",
        "epochs": [],
        "projects": ["0b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11"],
        "date_time": null,
        "datastorage": [],
        "extra_fields": {},
        "download_links": [],
        "dataacquisition": [],
        "behaviors": [],
        "manipulations": [],
        "tags": []
    })
}

#[test]
fn unknown_fields_are_kept_and_written_back() {
    let mut v = session_json();
    v["a_field_from_the_future"] = json!({"x": 1});
    let s: Session = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(s.name, "s1");
    assert_eq!(
        s.unknown.value("a_field_from_the_future"),
        Some(json!({"x": 1}))
    );
    assert_eq!(serde_json::to_value(&s).unwrap(), v);
}

#[test]
fn unknown_enum_values_parse_as_unknown() {
    let mut v = session_json();
    v["download_links"] = json!([
        {"repository": "DANDI", "url": "https://dandiarchive.org/dandiset/1"},
        {"repository": "OpenNeuro", "url": "https://openneuro.org/x"}
    ]);
    let s: Session = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(
        s.download_links[0].repository,
        DownloadLinkRepository::Dandi
    );
    assert_eq!(
        s.download_links[1].repository,
        DownloadLinkRepository::Unknown("OpenNeuro".into())
    );
    // and it is written back verbatim
    assert_eq!(
        serde_json::to_value(&s).unwrap()["download_links"],
        v["download_links"]
    );
}

#[test]
fn a_longer_value_than_the_schema_allows_still_parses() {
    let mut v = session_json();
    v["name"] = json!("x".repeat(500));
    let s: Session = serde_json::from_value(v).unwrap();
    assert_eq!(s.name.len(), 500);
}

#[test]
fn decode_errors_name_the_path() {
    let mut v = session_json();
    v["date_time"] = json!("yesterday");
    let body = serde_json::to_vec(&json!({"sessions": [session_json(), v]})).unwrap();
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Env {
        sessions: Vec<Session>,
    }
    let err = decode::<Env>(&body).unwrap_err();
    assert_eq!(err.path, "sessions[1].date_time");
    assert!(err.to_string().contains("sessions[1].date_time"));
}

#[test]
fn relations_are_ids_or_included_objects() {
    let s: Session = serde_json::from_value(session_json()).unwrap();
    assert!(matches!(s.projects[0], Related::Id(_)));
    let mut v = session_json();
    v["projects"] = json!([{
        "id": "0b7a2f8c-2a9b-4c3e-9d1e-6f1c1a3e5d11",
        "name": "p1", "description": "", "sessions": [], "subjects": [], "publications": [],
        "collections": [], "cohorts": [], "extra_fields": {}, "is_public": true, "tags": [],
        "users": {}, "groups": {}
    }]);
    let s: Session = serde_json::from_value(v.clone()).unwrap();
    let p: &Project = s.projects[0].object().expect("included");
    assert_eq!(p.name, "p1");
    assert_eq!(s.projects[0].id(), p.id);
    assert_eq!(
        serde_json::to_value(&s).unwrap()["projects"][0]["name"],
        "p1"
    );
    // an id of the wrong shape is a decode error, not a panic
    let mut bad = session_json();
    bad["projects"] = json!(["not-a-uuid"]);
    assert!(serde_json::from_value::<Session>(bad).is_err());
}

#[test]
fn create_shape_has_required_fields_and_no_read_only_ones() {
    let p = Uuid::new_v4();
    let s = NewSession::new(NewSessionRequired {
        name: "s1".into(),
        projects: vec![p],
    });
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["name"], "s1");
    assert_eq!(v["projects"], json!([p.to_string()]));
    for ro in ["id", "epochs", "behaviors", "links", "name_used_in_storage"] {
        assert!(v.get(ro).is_none(), "{ro} must not be sent");
    }
    assert!(s.validate().is_ok());
}

#[test]
fn patch_distinguishes_absent_from_null() {
    let mut p = SessionPatch::default();
    assert_eq!(serde_json::to_value(&p).unwrap(), json!({}));
    p.date_time = Some(Nullable::Null);
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!({"date_time": null})
    );
    let t = chrono::DateTime::parse_from_rfc3339("2023-03-22T15:30:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    p.date_time = Some(Nullable::Value(t));
    p.description = Some("new text".into());
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!({"date_time": "2023-03-22T15:30:00Z", "description": "new text"})
    );
    // an empty list clears a list field; an absent one leaves it alone
    let clear = SessionPatch {
        tags: Some(vec![]),
        ..Default::default()
    };
    assert_eq!(serde_json::to_value(&clear).unwrap(), json!({"tags": []}));
    let absent: SessionPatch = serde_json::from_value(json!({"description": "x"})).unwrap();
    assert_eq!(absent.date_time, None);
    let back: SessionPatch = serde_json::from_value(json!({"date_time": null})).unwrap();
    assert_eq!(back.date_time, Some(Nullable::Null));
}

#[test]
fn validation_names_fields_before_sending() {
    let mut s = NewSession::new(NewSessionRequired {
        name: "x".repeat(101),
        projects: vec![],
    });
    s.download_links = vec![DownloadLink::new(brainstem::types::DownloadLinkRequired {
        repository: DownloadLinkRepository::GitHub,
        url: "github.com/no-scheme".into(),
    })];
    let mut extra = serde_json::Map::new();
    extra.insert("1bad".into(), json!("v"));
    s.extra_fields = serde_json::from_value(serde_json::Value::Object(extra)).unwrap();
    let err = s.validate().unwrap_err();
    assert!(err.has("name"), "{err}");
    assert!(err.has("projects"), "{err}");
    assert!(err.has("download_links[0].url"), "{err}");
    assert!(err.has("extra_fields.1bad"), "{err}");
    assert!(err.to_string().contains("nothing was sent"));

    assert!(
        NewProject::new(NewProjectRequired { name: "p".into() })
            .validate()
            .is_ok()
    );
}

#[test]
fn server_mode_is_strict_client_mode_is_forward_compatible() {
    let body = json!({
        "name": "s", "projects": [Uuid::nil().to_string()],
        "download_links": [{"repository": "OpenNeuro", "url": "https://x"}]
    });
    let meta = <Session as Model>::META;
    assert!(check_body(meta, Shape::Create, &body, Mode::Client).is_ok());
    let err = check_body(meta, Shape::Create, &body, Mode::Server).unwrap_err();
    assert!(err.has("download_links[0].repository"), "{err}");
    // a single string where a list is required
    let err = check_body(
        meta,
        Shape::Create,
        &json!({"name": "s", "projects": "abc"}),
        Mode::Server,
    )
    .unwrap_err();
    assert!(err.has("projects"));
    // PATCH requires nothing; read-only fields are ignored
    assert!(
        check_body(
            meta,
            Shape::Patch,
            &json!({"id": 5, "epochs": "x"}),
            Mode::Server
        )
        .is_ok()
    );
}

#[test]
fn species_envelope_keys_come_from_the_spec() {
    assert_eq!(Species::META.one, "species");
    assert_eq!(Species::META.many, "species");
    let a = Species::META
        .approval
        .as_ref()
        .expect("species is approval-gated");
    assert_eq!(a.one, "species_approval");
    assert_eq!(
        brainstem::meta::ModelMeta::find("consumablestock")
            .unwrap()
            .one,
        "consumable stock"
    );
}

#[test]
fn every_model_has_metadata_and_operations() {
    assert_eq!(brainstem::MODELS.len(), 39);
    for m in brainstem::MODELS {
        assert!(m.list.is_some(), "{} has no list", m.name);
        assert!(m.retrieve.is_some(), "{} has no retrieve", m.name);
        assert!(m.field("id").is_some(), "{} has no id", m.name);
        // the typed operations are the model's, with the roles' methods
        let roles = [
            (m.list, HttpMethod::Get, false),
            (m.retrieve, HttpMethod::Get, true),
            (m.create, HttpMethod::Post, false),
            (m.partial_update, HttpMethod::Patch, true),
            (m.update, HttpMethod::Put, true),
            (m.destroy, HttpMethod::Delete, true),
        ];
        for (op, method, detail) in roles.into_iter().filter_map(|(o, m, d)| Some((o?, m, d))) {
            assert!(m.ops.contains(&op), "{op} is one of {}'s", m.name);
            assert_eq!(op.model(), Some(m.path().as_str()), "{op}");
            assert_eq!(op.method(), method, "{op}");
            assert_eq!(op.path().ends_with("{id}/"), detail, "{op}");
            assert_eq!(op.action(), None, "{op}");
        }
        for op in m.actions {
            assert!(m.ops.contains(op), "{op}");
            let action = op.action().expect("an action has a name");
            assert_eq!(m.action(action), Some(*op));
            assert!(op.path().ends_with(&format!("{{id}}/{action}/")), "{op}");
        }
        if let Some(a) = &m.approval {
            for op in [a.list, a.retrieve, a.accept, a.reject] {
                let op = op.expect("an approval queue has all four operations");
                assert_eq!(op.model(), Some(a.model), "{op}");
            }
        }
    }
    assert_eq!(brainstem::Operation::ALL.len(), 250);
    for (i, op) in brainstem::Operation::ALL.iter().enumerate() {
        assert_eq!(brainstem::Operation::from_id(op.id()), Some(*op));
        assert_eq!(op.to_string().parse::<brainstem::Operation>(), Ok(*op));
        if i > 0 {
            assert!(
                brainstem::Operation::ALL[i - 1].id() < op.id(),
                "operationId order"
            );
        }
    }
    let login = brainstem::Operation::AuthDeviceCreate;
    assert_eq!(
        (login.method(), login.path()),
        (HttpMethod::Post, "/api/auth/device/")
    );
    assert!(login.portals().is_empty());
    assert_eq!(
        brainstem::Operation::ProjectSessionsList.portals(),
        &[brainstem::Portal::Public, brainstem::Portal::Private]
    );
    assert!(!brainstem::SCHEMA_VERSION.is_empty());
}

#[test]
fn lengths_of_fields_named_like_schema_keywords_are_checked() {
    // `description` and `title` are also JSON Schema keywords: their limits must survive
    let mut s = brainstem::types::NewSpecies::new(brainstem::types::NewSpeciesRequired {
        name: "s".into(),
    });
    s.description = Some("d".repeat(2001));
    let err = s.validate().unwrap_err();
    assert!(err.has("description"), "{err}");
    assert!(
        brainstem::meta::ModelMeta::find("session")
            .unwrap()
            .field("name")
            .unwrap()
            .unique
    );
}

#[test]
fn a_nullable_reference_is_still_checked() {
    // Subject.extra_fields is `allOf: [$ref ExtraFields], nullable: true`
    let meta = brainstem::meta::ModelMeta::find("subject").unwrap();
    let body = json!({"extra_fields": {"1bad": "x"}});
    let err = check_body(meta, Shape::Patch, &body, Mode::Client).unwrap_err();
    assert!(err.has("extra_fields.1bad"), "{err}");
    let ok = json!({"extra_fields": null});
    assert!(check_body(meta, Shape::Patch, &ok, Mode::Server).is_ok());
}

/// The create and patch shapes derive `Deserialize` only with the feature
/// `deserialize-writes`: the generated code says so on every one of them, and
/// with the feature on (as this test binary is built) they decode.
#[test]
fn write_shapes_deserialize_only_with_their_feature() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/generated/types.rs"))
        .unwrap();
    let gate = "#[cfg_attr(feature = \"deserialize-writes\", derive(::serde::Deserialize))]";
    let mut checked = 0;
    for m in brainstem::MODELS {
        for name in [format!("New{}", m.schema), format!("{}Patch", m.schema)] {
            let at = text
                .find(&format!("\npub struct {name} {{"))
                .unwrap_or_else(|| panic!("no struct {name}"));
            // the attributes right above the struct
            let attrs: Vec<&str> = text[..at]
                .lines()
                .rev()
                .take_while(|l| l.starts_with("#["))
                .collect();
            assert!(attrs.contains(&gate), "{name}: {attrs:?}");
            assert!(
                attrs
                    .iter()
                    .all(|a| !a.starts_with("#[derive(::serde::Deserialize")),
                "{name}: {attrs:?}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * brainstem::MODELS.len());
    fn decodes<T: serde::de::DeserializeOwned>() {}
    decodes::<brainstem::types::NewSession>();
    decodes::<brainstem::types::SessionPatch>();
}
