//! The stand-in server's dialects, over raw HTTP: page-number pagination
//! as dynamic-rest answers (and its edges), sideloaded includes, links,
//! deferred fields, drifted records and the undecodable-write fault.

use std::collections::{BTreeSet, HashSet};

use crate::util::{Answer, Srv, id_of};
use brainstem_mock::{Dialect, ListKnobs, MockOptions, MockServer, Pagination};
use serde_json::{Value, json};

/// The drift note exactly as the server writes it.
const NOTE: &str = r#""x_server_note":{"n":12,"big":1e400,"tags":["a"]}"#;

/// The body of an answer; drifted answers carry a number no `f64` holds,
/// so it is read as text first.
fn body(a: &Answer) -> Value {
    if !a.body.is_null() {
        return a.body.clone();
    }
    assert!(
        serde_json::from_str::<Value>(&a.text).is_err(),
        "only the huge number keeps a body from parsing"
    );
    let tamed = a.text.replace(r#""big":1e400"#, r#""big":"1e400""#);
    serde_json::from_str(&tamed).unwrap_or_else(|e| panic!("not JSON ({e}): {}", a.text))
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().expect("an object").keys().cloned().collect()
}

fn list_ids(v: &Value) -> Vec<String> {
    v.as_array().expect("a list").iter().map(id_of).collect()
}

/// Every session id of one listing, walked in the dialect's own paging.
async fn walk(s: &Srv, d: &Dialect, size: usize) -> Vec<String> {
    let mut out = Vec::new();
    match d.pagination {
        Pagination::LimitOffset => loop {
            let a = s
                .get(&format!(
                    "api/private/stem/session/?limit={size}&offset={}",
                    out.len()
                ))
                .await;
            assert_eq!(a.status, 200, "{}", a.text);
            let b = body(&a);
            assert_eq!(keys(&b), ["sessions", "count", "next", "previous", "meta"]);
            let page = list_ids(&b["sessions"]);
            let n = page.len();
            out.extend(page);
            assert_eq!(b["next"].is_null(), out.len() == b["count"]);
            if n < size {
                assert_eq!(b["count"], out.len());
                return out;
            }
        },
        Pagination::PageNumber => {
            let mut page = 1;
            loop {
                let a = s
                    .get(&format!(
                        "api/private/stem/session/?per_page={size}&page={page}"
                    ))
                    .await;
                assert_eq!(a.status, 200, "page {page}: {}", a.text);
                let b = body(&a);
                assert_eq!(
                    keys(&b),
                    ["sessions", "meta"],
                    "nothing but records and meta"
                );
                let ids = list_ids(&b["sessions"]);
                let n = ids.len();
                out.extend(ids);
                let meta = &b["meta"];
                assert_eq!(meta["page"], page);
                assert_eq!(meta["per_page"], size);
                if d.force_exclude_count {
                    assert_eq!(keys(meta), ["page", "per_page", "more_pages"]);
                    if meta["more_pages"] == false {
                        return out;
                    }
                    assert_eq!(n, size, "only the last page is short");
                } else {
                    assert_eq!(
                        keys(meta),
                        ["page", "per_page", "total_results", "total_pages"]
                    );
                    let total = meta["total_results"].as_u64().expect("count") as usize;
                    let pages = meta["total_pages"].as_u64().expect("pages");
                    assert_eq!(pages as usize, total.div_ceil(size));
                    if page == pages {
                        assert_eq!(out.len(), total);
                        // One past the last page does not exist.
                        let a = s
                            .get(&format!(
                                "api/private/stem/session/?per_page={size}&page={}",
                                page + 1
                            ))
                            .await;
                        assert_eq!(a.status, 404, "{}", a.text);
                        assert_eq!(a.body, json!({"detail": "Invalid page."}));
                        return out;
                    }
                }
                page += 1;
                assert!(page < 1000, "paging does not end");
            }
        }
    }
}

#[tokio::test]
async fn every_dialect_pages_through_every_record_once() {
    let s = Srv::new().await;
    let want: Vec<String> = s
        .all("api/private/stem/session/", "sessions")
        .await
        .iter()
        .map(id_of)
        .collect();
    assert!(want.len() > 200, "{}", want.len());
    for d in [
        Dialect::docs(),
        Dialect::dynamic_rest(),
        Dialect::dynamic_rest_countless(),
        Dialect::drifted(),
    ] {
        s.srv.set_dialect(d.clone());
        assert_eq!(s.srv.dialect(), d);
        for size in [7, 13, 33, 100] {
            let got = walk(&s, &d, size).await;
            let distinct: HashSet<&String> = got.iter().collect();
            assert_eq!(distinct.len(), got.len(), "{d:?} size {size}: duplicates");
            assert_eq!(got, want, "{d:?} size {size}");
        }
    }
}

#[tokio::test]
async fn page_numbers_at_their_edges() {
    let s = Srv::with(
        MockOptions::new()
            .sessions(60)
            .dialect(Dialect::dynamic_rest()),
    )
    .await;
    let p = "api/private/stem/session/";
    let first = body(&s.get(p).await);
    let total = first["meta"]["total_results"].as_u64().expect("count") as usize;
    assert!(total > 20 && total < 100, "{total}");
    // The documented default page size; limit and offset mean nothing.
    assert_eq!(first["meta"]["per_page"], 20);
    assert_eq!(first["sessions"].as_array().map(Vec::len), Some(20));
    let lo = body(&s.get(&format!("{p}?limit=5&offset=20")).await);
    assert_eq!(lo["sessions"], first["sessions"]);
    // per_page above the maximum is cut to it; a bad one means the default.
    let big = body(&s.get(&format!("{p}?per_page=500")).await);
    assert_eq!(big["meta"]["per_page"], 100);
    assert_eq!(big["sessions"].as_array().map(Vec::len), Some(total));
    for bad in ["0", "-4", "x", ""] {
        let a = body(&s.get(&format!("{p}?per_page={bad}")).await);
        assert_eq!(a["meta"]["per_page"], 20, "per_page={bad}");
    }
    // Pages that do not exist.
    let pages = total.div_ceil(20);
    for bad in [
        "0".to_string(),
        "-1".into(),
        "two".into(),
        String::new(),
        "1.5".into(),
        (pages + 1).to_string(),
        "99999999999999999999999".into(),
    ] {
        let a = s.get(&format!("{p}?page={bad}")).await;
        assert_eq!(a.status, 404, "page={bad}: {}", a.text);
        assert_eq!(a.body, json!({"detail": "Invalid page."}));
    }
    // `last`, and Python's spellings of a number.
    let last = body(&s.get(&format!("{p}?page=last")).await);
    assert_eq!(last["meta"]["page"], pages);
    assert_eq!(
        last["sessions"].as_array().map(Vec::len),
        Some(total - 20 * (pages - 1))
    );
    let spaced = body(&s.get(&format!("{p}?page=%20+2%20")).await);
    assert_eq!(spaced["meta"]["page"], 2);
    // Counting off: more_pages instead of totals, no end check.
    let a = body(&s.get(&format!("{p}?exclude_count=1")).await);
    assert_eq!(keys(&a["meta"]), ["page", "per_page", "more_pages"]);
    assert_eq!(a["meta"]["more_pages"], true);
    assert_eq!(a["sessions"], first["sessions"]);
    let a = body(&s.get(&format!("{p}?exclude_count=0&page={pages}")).await);
    assert_eq!(
        a["meta"]["more_pages"], false,
        "any value turns counting off"
    );
    let a = s.get(&format!("{p}?exclude_count=true&page=50")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["sessions"], json!([]));
    assert_eq!(a.body["meta"]["more_pages"], false);
    let a = body(&s.get(&format!("{p}?exclude_count=")).await);
    assert!(
        a["meta"].get("total_results").is_some(),
        "an empty value counts"
    );
    // An empty list still has page 1.
    let a = s
        .get(&format!("{p}?filter{{name}}=nothing-by-this-name"))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.body["meta"],
        json!({"page": 1, "per_page": 20, "total_results": 0, "total_pages": 1})
    );
    // A configurable default and maximum.
    s.srv
        .set_dialect(Dialect::dynamic_rest().page_size(7).max_page_size(Some(10)));
    let a = body(&s.get(p).await);
    assert_eq!(a["meta"]["per_page"], 7);
    assert_eq!(
        body(&s.get(&format!("{p}?per_page=50")).await)["meta"]["per_page"],
        10
    );
    s.srv
        .set_dialect(Dialect::dynamic_rest().max_page_size(None));
    assert_eq!(
        body(&s.get(&format!("{p}?per_page=500")).await)["meta"]["per_page"],
        500
    );
    // The same page sizes in limit / offset style.
    s.srv
        .set_dialect(Dialect::docs().page_size(7).max_page_size(Some(10)));
    let a = body(&s.get(&format!("{p}?limit=50")).await);
    assert_eq!(a["meta"]["per_page"], 10);
    assert_eq!(body(&s.get(p).await)["meta"]["per_page"], 7);
    // Python reads numbers of any size: an offset past everything is an
    // empty page, a huge limit is the maximum.
    let a = s
        .get(&format!("{p}?limit=3&offset=99999999999999999999999"))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["sessions"], json!([]));
    assert!(a.body["next"].is_null());
    let a = body(&s.get(&format!("{p}?limit=99999999999999999999999")).await);
    assert_eq!(a["meta"]["per_page"], 10);
}

#[tokio::test]
async fn fault_knobs_apply_to_page_numbers() {
    let s = Srv::with(MockOptions::new().dialect(Dialect::dynamic_rest())).await;
    let p = "api/private/stem/session/?per_page=5";
    let one = body(&s.get(p).await);
    s.srv.set_knobs(ListKnobs {
        ignore_offset: true,
        ..Default::default()
    });
    let again = body(&s.get(&format!("{p}&page=3")).await);
    assert_eq!(again, one, "every page is the first");
    s.srv.set_knobs(ListKnobs {
        omit_meta: true,
        ..Default::default()
    });
    assert_eq!(keys(&body(&s.get(p).await)), ["sessions"]);
    s.srv.set_knobs(ListKnobs::default());
    s.srv.set_dialect(Dialect::dynamic_rest_countless());
    let a = body(&s.get(p).await);
    assert_eq!(keys(&a["meta"]), ["page", "per_page", "more_pages"]);
}

/// Sessions of the first page that have behaviors, with the embedded answer
/// to compare a sideloaded one with.
async fn embedded(s: &Srv, query: &str) -> Value {
    let a = s
        .get(&format!(
            "api/private/stem/session/?per_page=100&limit=100&sideloading=false&{query}"
        ))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    body(&a)
}

/// Flatten an embedded relation: (the records with ids in its place, the
/// related records in first-seen order without duplicates).
fn flatten(records: &[Value], field: &str) -> (Vec<Value>, Vec<Value>) {
    let mut seen = HashSet::new();
    let mut related = Vec::new();
    let mut out = Vec::new();
    for r in records {
        let mut r = r.clone();
        let mut ids = Vec::new();
        for x in r[field].as_array().cloned().unwrap_or_default() {
            let id = id_of(&x);
            if seen.insert(id.clone()) {
                related.push(x);
            }
            ids.push(Value::String(id));
        }
        r[field] = Value::Array(ids);
        out.push(r);
    }
    (out, related)
}

#[tokio::test]
async fn includes_are_sideloaded_like_dynamic_rest() {
    let s = Srv::with(MockOptions::new().dialect(Dialect::dynamic_rest())).await;
    let p = "api/private/stem/session/?per_page=100";
    // Flat: behaviors under their own key, before the records, which keep ids.
    let a = body(&s.get(&format!("{p}&include[]=behaviors.*")).await);
    assert_eq!(keys(&a), ["behaviors", "sessions", "meta"]);
    let e = embedded(&s, "include[]=behaviors.*").await;
    let (records, related) = flatten(e["sessions"].as_array().expect("records"), "behaviors");
    assert!(
        related.len() > 10,
        "the page has behaviors: {}",
        related.len()
    );
    assert_eq!(a["sessions"], Value::Array(records));
    assert_eq!(a["behaviors"], Value::Array(related.clone()));
    // Without `.*` nothing is sideloaded.
    let a = body(&s.get(&format!("{p}&include[]=behaviors")).await);
    assert_eq!(keys(&a), ["sessions", "meta"]);

    // Nested: the behaviors' setups are sideloaded too, children first.
    let a = body(&s.get(&format!("{p}&include[]=behaviors.setup.*")).await);
    assert_eq!(keys(&a), ["setups", "behaviors", "sessions", "meta"]);
    let e = embedded(&s, "include[]=behaviors.setup.*").await;
    let (records, behaviors) = flatten(e["sessions"].as_array().expect("records"), "behaviors");
    assert_eq!(a["sessions"], Value::Array(records));
    let mut setups = Vec::new();
    let mut seen = HashSet::new();
    let flat: Vec<Value> = behaviors
        .into_iter()
        .map(|mut b| {
            let setup = b["setup"].clone();
            if setup.is_object() {
                let id = id_of(&setup);
                if seen.insert(id.clone()) {
                    setups.push(setup);
                }
                b["setup"] = Value::String(id);
            }
            b
        })
        .collect();
    assert_eq!(a["behaviors"], Value::Array(flat));
    assert_eq!(a["setups"], Value::Array(setups));
    assert!(
        a["setups"].as_array().map(Vec::len) < a["behaviors"].as_array().map(Vec::len),
        "setups are shared and listed once"
    );

    // Records of the primary type go under "+sessions"; a record is never
    // listed twice under one key.
    let a = body(&s.get(&format!("{p}&include[]=behaviors.session.*")).await);
    assert_eq!(keys(&a), ["+sessions", "behaviors", "sessions", "meta"]);
    let with_behaviors: Vec<String> = a["sessions"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["behaviors"].as_array().is_some_and(|b| !b.is_empty()))
        .map(id_of)
        .collect();
    assert_eq!(list_ids(&a["+sessions"]), with_behaviors);
    for r in a["+sessions"].as_array().expect("list") {
        assert!(r.get("description").is_none(), "deferred there too");
    }

    // Two paths to one model share its key, each record once.
    let a = body(
        &s.get(&format!(
            "{p}&include[]=projects.subjects.*&include[]=behaviors.subjects.*"
        ))
        .await,
    );
    let k = keys(&a);
    assert_eq!(k.iter().filter(|k| *k == "subjects").count(), 1, "{k:?}");
    let subjects = list_ids(&a["subjects"]);
    let distinct: BTreeSet<&String> = subjects.iter().collect();
    assert_eq!(distinct.len(), subjects.len());
    let mut want = BTreeSet::new();
    for key in ["projects", "behaviors"] {
        for r in a[key].as_array().expect("sideloaded") {
            for x in r["subjects"].as_array().expect("ids") {
                want.insert(x.as_str().expect("an id").to_string());
            }
        }
    }
    assert_eq!(distinct, want.iter().collect());

    // sideloading=false embeds instead.
    let a = body(
        &s.get(&format!("{p}&include[]=behaviors.*&sideloading=false"))
            .await,
    );
    assert_eq!(keys(&a), ["sessions", "meta"]);
    assert!(
        a["sessions"]
            .as_array()
            .expect("records")
            .iter()
            .any(|r| r["behaviors"][0].is_object())
    );
    // And the documented dialect embeds unless asked to sideload.
    s.srv.set_dialect(Dialect::docs());
    let a = body(&s.get(&format!("{p}&include[]=behaviors.*")).await);
    assert!(a.get("behaviors").is_none());
    let a = body(
        &s.get(&format!("{p}&include[]=behaviors.*&sideloading=true"))
            .await,
    );
    assert_eq!(keys(&a)[..2], ["behaviors", "sessions"]);
}

#[tokio::test]
async fn one_record_with_sideloads() {
    let s = Srv::with(MockOptions::new().dialect(Dialect::dynamic_rest())).await;
    let page = body(&s.get("api/private/stem/session/?per_page=100").await);
    let id = page["sessions"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["behaviors"].as_array().is_some_and(|b| !b.is_empty()))
        .map(id_of)
        .expect("a session with behaviors");
    let p = format!("api/private/stem/session/{id}/");
    let a = body(&s.get(&format!("{p}?include[]=behaviors.setup.*")).await);
    assert_eq!(keys(&a), ["setups", "behaviors", "session"]);
    let behaviors = list_ids(&a["behaviors"]);
    assert!(!behaviors.is_empty());
    let listed: Vec<String> = a["session"]["behaviors"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|x| x.as_str().expect("an id").to_string())
        .collect();
    assert_eq!(listed, behaviors);
    for b in a["behaviors"].as_array().expect("behaviors") {
        assert!(b["setup"].is_string(), "setups by id: {b}");
    }
    let e = body(
        &s.get(&format!(
            "{p}?include[]=behaviors.setup.*&sideloading=false"
        ))
        .await,
    );
    assert_eq!(keys(&e), ["session"]);
    assert!(e["session"]["behaviors"][0]["setup"].is_object());
}

#[tokio::test]
async fn links_only_where_there_is_a_link() {
    let s = Srv::with(MockOptions::new().dialect(Dialect::dynamic_rest())).await;
    let subjects = body(&s.get("api/private/stem/subject/?per_page=100").await);
    for r in subjects["subjects"].as_array().expect("records") {
        let want: Vec<&str> = ["procedures", "subjectlogs"]
            .into_iter()
            .filter(|f| r[*f].as_array().is_some_and(|a| !a.is_empty()))
            .collect();
        if want.is_empty() {
            assert!(r.get("links").is_none(), "no empty links: {r}");
        } else {
            let got: Vec<String> = keys(&r["links"]);
            assert_eq!(got, want, "{r}");
            assert_eq!(r["links"][want[0]], format!("{}/", want[0]));
        }
    }
    // A relation included in the answer has no link; exclude_links drops all.
    let a = body(
        &s.get("api/private/stem/subject/?per_page=100&include[]=procedures.*")
            .await,
    );
    for r in a["subjects"].as_array().expect("records") {
        assert!(r["links"].get("procedures").is_none());
    }
    let a = body(&s.get("api/private/stem/subject/?exclude_links").await);
    assert!(
        a["subjects"]
            .as_array()
            .expect("records")
            .iter()
            .all(|r| r.get("links").is_none())
    );
    // A new subject has nothing to link to.
    let project = s.alice_project().await;
    let strain = id_of(&s.srv.store().records("strain")[0]);
    let made = s
        .post(
            "api/private/stem/subject/",
            &json!({"name": "Linkless", "projects": [project], "strain": strain, "sex": "F"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    assert!(made.body["subject"].get("links").is_none(), "{}", made.text);
    assert!(made.body["subject"].get("procedures").is_some());
    // The documented dialect lists every route.
    s.srv.set_dialect(Dialect::docs());
    let id = id_of(&made.body["subject"]);
    let a = s.get(&format!("api/private/stem/subject/{id}/")).await;
    assert_eq!(
        a.body["subject"]["links"],
        json!({"procedures": "procedures/", "subjectlogs": "subjectlogs/"})
    );
}

#[tokio::test]
async fn deferred_fields_only_when_asked_for() {
    let s = Srv::with(MockOptions::new().dialect(Dialect::dynamic_rest())).await;
    let p = "api/private/stem/session/";
    let a = body(&s.get(p).await);
    for r in a["sessions"].as_array().expect("records") {
        assert!(r.get("description").is_none(), "{r}");
        assert!(r.get("name").is_some());
    }
    let a = body(&s.get(&format!("{p}?include[]=description")).await);
    for r in a["sessions"].as_array().expect("records") {
        assert!(r.get("description").is_some(), "{r}");
    }
    let id = id_of(&a["sessions"][0]);
    let one = body(&s.get(&format!("{p}{id}/")).await);
    assert!(one["session"].get("description").is_none());
    let one = body(&s.get(&format!("{p}{id}/?include[]=description")).await);
    assert!(one["session"]["description"].is_string());
    // Writes answer with every field.
    let changed = s
        .patch(&format!("{p}{id}/"), &json!({"name": "Renamed"}))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert!(changed.body["session"]["description"].is_string());
    // Deferred fields of related records come with a nested include.
    s.srv.set_dialect(
        Dialect::dynamic_rest().deferred_fields(["session.description", "behavior.notes"]),
    );
    let q = "api/private/stem/session/?per_page=100";
    let a = body(&s.get(&format!("{q}&include[]=behaviors.*")).await);
    assert!(!a["behaviors"].as_array().expect("behaviors").is_empty());
    for b in a["behaviors"].as_array().expect("behaviors") {
        assert!(b.get("notes").is_none() && b.get("setup").is_some(), "{b}");
    }
    let a = body(&s.get(&format!("{q}&include[]=behaviors.notes")).await);
    for b in a["behaviors"].as_array().expect("behaviors") {
        assert!(b.get("notes").is_some(), "{b}");
    }
    // Unknown names are refused at start.
    let bad = MockServer::start_with(
        MockOptions::new()
            .sessions(5)
            .dialect(Dialect::docs().deferred_fields(["session.nope"])),
    )
    .await;
    assert_eq!(
        bad.map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
}

#[tokio::test]
async fn drifted_records_gain_and_lose_fields() {
    let s = Srv::new().await;
    let docs = s.all("api/private/stem/session/", "sessions").await;
    let order: Vec<String> = s.srv.store().records("session").iter().map(id_of).collect();
    s.srv.set_dialect(Dialect::drifted());
    let mut text = String::new();
    let mut drifted = Vec::new();
    let mut offset = 0;
    loop {
        let a = s
            .get(&format!(
                "api/private/stem/session/?limit=100&offset={offset}"
            ))
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        let b = body(&a);
        let page = b["sessions"].as_array().expect("records").clone();
        offset += page.len();
        text.push_str(&a.text);
        drifted.extend(page);
        if b["next"].is_null() {
            break;
        }
    }
    assert_eq!(drifted.len(), docs.len());
    let (mut noted, mut missing) = (0, 0);
    for (d, r) in docs.iter().zip(&drifted) {
        let id = id_of(d);
        assert_eq!(id, id_of(r));
        let nth = order.iter().position(|x| *x == id).expect("stored") + 1;
        let mut r = r.as_object().expect("a record").clone();
        let note = r.shift_remove("x_server_note");
        assert_eq!(note.is_some(), nth % 3 == 0, "{id} is record {nth}");
        if let Some(n) = note {
            noted += 1;
            assert_eq!(n, json!({"n": 12, "big": "1e400", "tags": ["a"]}));
        }
        let mut d = d.as_object().expect("a record").clone();
        if nth % 5 == 0 {
            missing += 1;
            assert!(d.shift_remove("description").is_some());
        }
        assert_eq!(r, d, "otherwise the same record");
    }
    assert!(noted > 50 && missing > 30, "{noted} {missing}");
    assert_eq!(
        text.matches(NOTE).count(),
        noted,
        "the note is written literally"
    );
    // Other models drift too, and single records as lists do.
    let subjects = s.get("api/private/stem/subject/?limit=100").await;
    assert!(subjects.text.contains(NOTE));
    let third = docs
        .iter()
        .map(id_of)
        .find(|id| (order.iter().position(|x| x == id).expect("stored") + 1) % 3 == 0)
        .expect("a visible third record");
    let one = s.get(&format!("api/private/stem/session/{third}/")).await;
    assert!(one.text.contains(NOTE), "{}", one.text);
    assert!(body(&one)["session"].get("x_server_note").is_some());
    // Fine-grained: the extra field alone.
    s.srv.set_dialect(Dialect::docs().extra_field_every(1));
    let a = s.get("api/private/stem/session/?limit=4").await;
    assert_eq!(a.text.matches(NOTE).count(), 4);
}

#[tokio::test]
async fn an_undecodable_write_still_stores_the_record() {
    let s = Srv::with(MockOptions::new().sessions(20)).await;
    s.srv.set_dialect(Dialect::docs().undecodable_writes(true));
    let project = s.alice_project().await;
    let made = s
        .post(
            "api/private/stem/session/",
            &json!({"name": "Stored anyway", "projects": [project], "description": "kept"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let rec = &made.body["session"];
    let id = rec["id"]
        .as_str()
        .expect("the id stays a string")
        .to_string();
    assert_eq!(rec["name"], 12345);
    assert_eq!(rec["description"], 12345);
    assert_eq!(rec["projects"], json!([project]), "non-text values stay");
    assert!(
        serde_json::from_value::<brainstem::types::Session>(rec.clone()).is_err(),
        "a typed record cannot take it"
    );
    let stored = s.srv.store().get("session", &id).expect("stored");
    assert_eq!(stored["name"], "Stored anyway");
    // PATCH: applied, answered the same way.
    let changed = s
        .patch(
            &format!("api/private/stem/session/{id}/"),
            &json!({"name": "Changed anyway"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.body["session"]["id"], id.as_str());
    assert_eq!(changed.body["session"]["name"], 12345);
    let stored = s.srv.store().get("session", &id).expect("stored");
    assert_eq!(stored["name"], "Changed anyway");
    // Reads are not affected.
    let a = s.get(&format!("api/private/stem/session/{id}/")).await;
    assert_eq!(a.body["session"]["name"], "Changed anyway");
    assert!(serde_json::from_value::<brainstem::types::Session>(a.body["session"].clone()).is_ok());
    // Off again: a plain answer.
    s.srv.set_dialect(Dialect::docs());
    let changed = s
        .patch(
            &format!("api/private/stem/session/{id}/"),
            &json!({"name": "Plain again"}),
        )
        .await;
    assert_eq!(changed.body["session"]["name"], "Plain again");
}

#[tokio::test]
async fn relation_routes_are_not_paged_by_dynamic_rest() {
    let s = Srv::with(MockOptions::new().dialect(Dialect::dynamic_rest())).await;
    let project = s.alice_project().await;
    let a = body(
        &s.get(&format!(
            "api/private/stem/project/{project}/sessions/?page=2&per_page=5"
        ))
        .await,
    );
    assert_eq!(keys(&a), ["sessions"]);
    let p = body(&s.get(&format!("api/private/stem/project/{project}/")).await);
    let want = p["project"]["sessions"].as_array().map(Vec::len);
    assert!(want > Some(20));
    assert_eq!(a["sessions"].as_array().map(Vec::len), want);
}
