//! `diff::diff`: the pinned spec against edited copies of it, one edit of
//! every kind, each checked for the Rust item it names and its verdict.

use brainstem_codegen::diff::{Change, ChangeKind, Diff, Side, diff};
use serde_json::{Value, json};

fn pinned() -> Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(brainstem_codegen::spec_path(&root)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn schema<'a>(spec: &'a mut Value, name: &str) -> &'a mut Value {
    &mut spec["components"]["schemas"][name]
}

fn props<'a>(spec: &'a mut Value, name: &str) -> &'a mut serde_json::Map<String, Value> {
    schema(spec, name)["properties"].as_object_mut().unwrap()
}

/// The change about `subject`, which must be the only one.
fn the<'a>(d: &'a Diff, kind: ChangeKind, subject: &str) -> &'a Change {
    let found: Vec<&Change> = d
        .changes
        .iter()
        .filter(|c| c.kind == kind && c.subject == subject)
        .collect();
    assert_eq!(found.len(), 1, "{kind:?} {subject} in:\n{d}");
    found[0]
}

fn has_none(d: &Diff, subject_prefix: &str) {
    assert!(
        d.changes
            .iter()
            .all(|c| !c.subject.starts_with(subject_prefix)),
        "nothing about {subject_prefix} expected in:\n{d}"
    );
}

/// A model only these tests know, with its list operation.
fn add_widget_box(spec: &mut Value) {
    *schema(spec, "WidgetBox") = json!({
        "type": "object",
        "description": "A model only this test knows.",
        "x-brainstem-model": "stem/widgetbox",
        "x-brainstem-envelope": {"one": "widget_box", "many": "widget_boxes"},
        "x-brainstem-id": "uuid",
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "string", "format": "uuid", "readOnly": true},
            "name": {"type": "string", "maxLength": 10}
        }
    });
    spec["paths"]["/api/{portal}/stem/widgetbox/"] = json!({
        "get": {
            "x-brainstem-model": "stem/widgetbox",
            "operationId": "widgetbox_list",
            "parameters": [{"name": "portal", "in": "path", "required": true,
                            "schema": {"type": "string", "enum": ["public", "private"]}}],
            "responses": {"200": {"description": "ok"}}
        }
    });
}

#[test]
fn identical_specs_have_no_changes() {
    let spec = pinned();
    let d = diff(&spec, &spec).unwrap();
    assert!(d.changes.is_empty(), "{d}");
    assert!(!d.is_breaking());
    assert_eq!(d.to_string(), "");
    assert!(d.markdown().contains("No changes to the generated API."));
}

#[test]
fn every_kind_of_edit_is_named_in_rust_terms() {
    let old = pinned();
    let mut new = old.clone();
    // a new required field (of the create shape)
    props(&mut new, "Behavior").insert("experimenter".into(), json!({"type": "string"}));
    schema(&mut new, "Behavior")["required"]
        .as_array_mut()
        .unwrap()
        .push(json!("experimenter"));
    // a new optional field
    props(&mut new, "Project").insert("budget_code".into(), json!({"type": "string"}));
    // a removed field
    props(&mut new, "Subject").remove("birth_date");
    // a renamed field
    let comments = props(&mut new, "Strain").remove("comments").unwrap();
    props(&mut new, "Strain").insert("remarks".into(), comments);
    // a field whose type changed
    props(&mut new, "Session")["name"] = json!({"type": "integer"});
    // a value added to an open enum, a value removed from one
    schema(&mut new, "LengthUnit")["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("km"));
    schema(&mut new, "LengthUnit")["x-enum-varnames"]
        .as_array_mut()
        .unwrap()
        .push(json!("Kilometre"));
    props(&mut new, "Subject")["sex"]["enum"] = json!(["F", "M"]);
    // an alternative added to a union typify makes a closed enum of
    schema(&mut new, "ExtraFields")["additionalProperties"]["oneOf"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "boolean"}));
    // a field no longer filterable
    props(&mut new, "Project")["description"]["x-brainstem-filter"] = json!(false);
    // an operation removed
    new["paths"]["/api/{portal}/stem/session/{id}/"]
        .as_object_mut()
        .unwrap()
        .remove("delete");
    // a new schema version
    new["info"]["version"] = json!("1.4.0");

    let d = diff(&old, &new).unwrap();
    assert!(d.is_breaking());
    let check = |kind, subject: &str, breaking: bool, detail: &str| {
        let c = the(&d, kind, subject);
        assert_eq!(c.breaking, breaking, "{c}");
        assert_eq!(c.detail, detail, "{c}");
    };
    use ChangeKind as K;
    // required field: the constructor takes it; the record just has one more
    check(
        K::Field,
        "NewBehavior.experimenter",
        true,
        "added as required (`String`, a new argument of `NewBehavior::new`)",
    );
    check(
        K::Field,
        "Behavior.experimenter",
        false,
        "added as optional (`Option<String>`)",
    );
    check(
        K::Filter,
        "BehaviorFilter::ExperimenterIcontains",
        false,
        "added (`String`)",
    );
    // optional field
    check(
        K::Field,
        "NewProject.budget_code",
        false,
        "added as optional (`Option<String>`)",
    );
    check(
        K::Field,
        "ProjectPatch.budget_code",
        false,
        "added as optional (`Option<String>`)",
    );
    check(
        K::Sort,
        "ProjectSort::BudgetCode",
        false,
        "added (`budget_code`)",
    );
    // removed field
    check(
        K::Field,
        "Subject.birth_date",
        true,
        "removed (was `Option<NaiveDate>`)",
    );
    check(
        K::Filter,
        "SubjectFilter::BirthDateRange",
        true,
        "removed (was `(NaiveDate, NaiveDate)`)",
    );
    check(
        K::Sort,
        "SubjectSort::BirthDate",
        true,
        "removed (was `birth_date`)",
    );
    // renamed field: removed + added, with the hint
    check(
        K::Field,
        "Strain.comments",
        true,
        "removed (was `Option<String>`; perhaps renamed to `remarks`)",
    );
    check(
        K::Field,
        "Strain.remarks",
        false,
        "added as optional (`Option<String>`; perhaps renamed from `comments`)",
    );
    // type change
    check(
        K::Field,
        "Session.name",
        true,
        "type changed `String` → `i64`",
    );
    check(
        K::Field,
        "NewSession.name",
        true,
        "type changed `String` → `i64`",
    );
    check(
        K::Filter,
        "SessionFilter::Name",
        true,
        "value type changed `String` → `i64`",
    );
    check(
        K::Filter,
        "SessionFilter::NameIcontains",
        true,
        "removed (was `String`)",
    );
    check(K::Filter, "SessionFilter::NameGt", false, "added (`i64`)");
    // open enum: a new value is compatible, a removed one is not
    check(
        K::Variant,
        "LengthUnit::Kilometre",
        false,
        "added to open enum (`km`)",
    );
    check(K::Variant, "SubjectSex::U", true, "removed (was `U`)");
    // closed enum: a new variant breaks exhaustive matches
    check(
        K::Variant,
        "ExtraFieldsValue::Boolean",
        true,
        "added to closed enum: exhaustive matches need an arm (`bool`)",
    );
    // filter lookups of a field no longer filterable
    check(
        K::Filter,
        "ProjectFilter::DescriptionIcontains",
        true,
        "removed (was `String`)",
    );
    // operation
    check(
        K::Operation,
        "Operation::SessionDestroy",
        true,
        "removed (was `DELETE /api/{portal}/stem/session/{id}/`)",
    );
    // version
    check(
        K::Version,
        "SCHEMA_VERSION",
        false,
        "changed `1.3.0` → `1.4.0`",
    );
    assert_eq!(
        (d.old_version.as_str(), d.new_version.as_str()),
        ("1.3.0", "1.4.0")
    );
    // the text form: one line per change, verdict first
    let text = d.to_string();
    assert_eq!(text.lines().count(), d.changes.len());
    assert!(text.contains("breaking: field `Session.name` type changed `String` → `i64`\n"));
    assert!(
        text.contains("compatible: variant `LengthUnit::Kilometre` added to open enum (`km`)\n")
    );
    // nothing about what did not change
    has_none(&d, "Species");
    has_none(&d, "Operation::SessionList");
}

#[test]
fn a_new_model_is_compatible_and_a_removed_one_breaking() {
    let old = pinned();
    let mut new = old.clone();
    add_widget_box(&mut new);
    let d = diff(&old, &new).unwrap();
    let c = the(&d, ChangeKind::Model, "WidgetBox");
    assert!(!c.breaking);
    assert_eq!(c.detail, "added (client.widget_boxes(), 1 operation)");
    // its own shapes, query enums and operations come with it
    assert_eq!(d.changes.len(), 1, "{d}");
    assert!(!d.is_breaking());

    let back = diff(&new, &old).unwrap();
    let c = the(&back, ChangeKind::Model, "WidgetBox");
    assert!(c.breaking);
    assert_eq!(c.detail, "removed (client.widget_boxes(), 1 operation)");
    assert_eq!(back.changes.len(), 1, "{back}");
    assert!(back.is_breaking());
}

#[test]
fn compatible_edits_only_and_markdown() {
    let old = pinned();
    let mut new = old.clone();
    props(&mut new, "Project").insert("budget_code".into(), json!({"type": "string"}));
    schema(&mut new, "LengthUnit")["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("km"));
    schema(&mut new, "LengthUnit")["x-enum-varnames"]
        .as_array_mut()
        .unwrap()
        .push(json!("Kilometre"));
    new["info"]["version"] = json!("1.3.1");
    let d = diff(&old, &new).unwrap();
    assert!(!d.changes.is_empty());
    assert!(!d.is_breaking(), "{d}");
    let md = d.markdown();
    assert!(
        md.starts_with("## API changes (schema 1.3.0 → 1.3.1)\n"),
        "{md}"
    );
    assert!(!md.contains("### Breaking"), "{md}");
    assert!(md.contains("\n### Compatible\n\n- "), "{md}");
    assert!(
        md.contains("- variant `LengthUnit::Kilometre` added to open enum (`km`)\n"),
        "{md}"
    );
}

#[test]
fn a_spec_the_generator_refuses_is_an_error_naming_its_side() {
    let old = pinned();
    let e = diff(&old, &json!({"openapi": "3.0.3"})).unwrap_err();
    assert_eq!(e.side, Side::New);
    assert!(e.to_string().starts_with("the new spec: "), "{e}");
    let e = diff(&json!([]), &old).unwrap_err();
    assert_eq!(e.side, Side::Old);
}
