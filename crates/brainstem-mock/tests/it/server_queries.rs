//! The stand-in server's list queries: every filter lookup, negation,
//! relations, sorting, includes, pagination edges, the test knobs, and
//! dynamic-rest's error bodies. Expected results are computed here from the
//! unfiltered list, independently of the server's filter code.

use std::collections::BTreeSet;

use crate::util::{Srv, id_of, names};
use brainstem_mock::{ListKnobs, MockOptions};
use serde_json::Value;

fn ids(list: &[Value]) -> BTreeSet<String> {
    list.iter().map(id_of).collect()
}

fn ids_of(a: &crate::util::Answer, key: &str) -> BTreeSet<String> {
    assert_eq!(a.status, 200, "{}", a.text);
    ids(a.body[key].as_array().expect("records"))
}

/// Run a filtered session list (all pages) and compare with a predicate
/// applied to the unfiltered list.
async fn check(s: &Srv, all: &[Value], query: &str, pred: impl Fn(&Value) -> bool) -> usize {
    let got = ids(&s
        .all(&format!("api/private/stem/session/?{query}"), "sessions")
        .await);
    let want: BTreeSet<String> = all.iter().filter(|r| pred(r)).map(id_of).collect();
    assert_eq!(got, want, "filter {query}");
    got.len()
}

fn name(r: &Value) -> &str {
    r["name"].as_str().unwrap_or_default()
}

fn dt(r: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    r["date_time"]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&chrono::Utc))
}

#[tokio::test]
async fn every_text_lookup() {
    let s = Srv::new().await;
    let all = s.all("api/private/stem/session/", "sessions").await;
    assert!(all.len() > 100, "the seed has a few hundred sessions");
    let sample = name(&all[7]).to_string();
    let n = check(&s, &all, &format!("filter{{name}}={sample}"), |r| {
        name(r) == sample
    })
    .await;
    assert_eq!(n, 1);
    let n = check(&s, &all, &format!("filter{{name.eq}}={sample}"), |r| {
        name(r) == sample
    })
    .await;
    assert_eq!(n, 1);
    let upper = sample.to_uppercase();
    let n = check(&s, &all, &format!("filter{{name.iexact}}={upper}"), |r| {
        name(r).to_lowercase() == sample.to_lowercase()
    })
    .await;
    assert_eq!(n, 1);
    check(&s, &all, &format!("filter{{name}}={upper}"), |r| {
        name(r) == upper
    })
    .await;
    let n = check(&s, &all, "filter{name.contains}=cortex", |r| {
        name(r).contains("cortex")
    })
    .await;
    assert!(n > 0);
    let n2 = check(&s, &all, "filter{name.icontains}=CORTEX", |r| {
        name(r).to_lowercase().contains("cortex")
    })
    .await;
    assert!(n2 > n, "icontains also finds upper-case names");
    assert!(
        check(&s, &all, "filter{name.startswith}=Day", |r| name(r)
            .starts_with("Day"))
        .await
            > 0
    );
    assert!(
        check(&s, &all, "filter{name.istartswith}=day", |r| name(r)
            .to_lowercase()
            .starts_with("day"))
        .await
            > 0
    );
    assert!(
        check(&s, &all, "filter{name.endswith}=7", |r| name(r)
            .ends_with('7'))
        .await
            > 0
    );
    assert!(
        check(&s, &all, "filter{name.iendswith}=SLEEP 012", |r| name(r)
            .to_lowercase()
            .ends_with("sleep 012"))
        .await
            <= 1
    );
    let (a, b) = (name(&all[1]).to_string(), name(&all[2]).to_string());
    let n = check(
        &s,
        &all,
        &format!("filter{{name.in}}={a}&filter{{name.in}}={b}"),
        |r| name(r) == a || name(r) == b,
    )
    .await;
    assert_eq!(n, 2, "in takes repeated keys");
    // isnull on a text field that is never null.
    check(&s, &all, "filter{description.isnull}=true", |r| {
        r["description"].is_null()
    })
    .await;
    check(&s, &all, "filter{description.isnull}=false", |r| {
        !r["description"].is_null()
    })
    .await;
}

#[tokio::test]
async fn ordered_lookups_on_datetimes_numbers_and_dates() {
    let s = Srv::new().await;
    let all = s.all("api/private/stem/session/", "sessions").await;
    let cut: chrono::DateTime<chrono::Utc> = "2022-06-01T00:00:00Z".parse().expect("time");
    let gt = check(&s, &all, "filter{date_time.gt}=2022-06-01T00:00:00Z", |r| {
        dt(r).is_some_and(|d| d > cut)
    })
    .await;
    let lte = check(
        &s,
        &all,
        "filter{date_time.lte}=2022-06-01T00:00:00Z",
        |r| dt(r).is_some_and(|d| d <= cut),
    )
    .await;
    assert_eq!(gt + lte, all.iter().filter(|r| dt(r).is_some()).count());
    // A date alone means midnight; Django's space-separated form works too.
    check(&s, &all, "filter{date_time.gte}=2022-06-01", |r| {
        dt(r).is_some_and(|d| d >= cut)
    })
    .await;
    check(&s, &all, "filter{date_time.lt}=2022-06-01 00:00", |r| {
        dt(r).is_some_and(|d| d < cut)
    })
    .await;
    let hi: chrono::DateTime<chrono::Utc> = "2023-01-01T00:00:00Z".parse().expect("time");
    let n = check(
        &s,
        &all,
        "filter{date_time.range}=2022-06-01T00:00:00Z&filter{date_time.range}=2023-01-01T00:00:00Z",
        |r| dt(r).is_some_and(|d| d >= cut && d <= hi),
    )
    .await;
    assert!(n > 0);
    let exact = all[3]["date_time"].as_str().expect("a time").to_string();
    check(&s, &all, &format!("filter{{date_time}}={exact}"), |r| {
        r["date_time"].as_str() == Some(&exact)
    })
    .await;
    check(&s, &all, "filter{date_time.isnull}=1", |r| {
        r["date_time"].is_null()
    })
    .await;
    // Integers: behavior order.
    let beh = s.all("api/private/modules/behavior/", "behaviors").await;
    let got = ids(&s
        .all(
            "api/private/modules/behavior/?filter{order.gte}=5",
            "behaviors",
        )
        .await);
    let want: BTreeSet<String> = beh
        .iter()
        .filter(|r| r["order"].as_i64().is_some_and(|o| o >= 5))
        .map(id_of)
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
    let got = ids(&s.all("api/private/modules/behavior/?filter{order.lt}=2&filter{order.in}=1&filter{order.in}=7", "behaviors").await);
    let want: BTreeSet<String> = beh
        .iter()
        .filter(|r| r["order"].as_i64() == Some(1))
        .map(id_of)
        .collect();
    assert_eq!(got, want, "several filters AND together");
    // Dates: subject birth dates.
    let subs = s.all("api/private/stem/subject/", "subjects").await;
    let got = ids(&s
        .all(
            "api/private/stem/subject/?filter{birth_date.gt}=2022-01-01",
            "subjects",
        )
        .await);
    let want: BTreeSet<String> = subs
        .iter()
        .filter(|r| r["birth_date"].as_str().is_some_and(|d| d > "2022-01-01"))
        .map(id_of)
        .collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn booleans_relations_negation_and_paths() {
    let s = Srv::new().await;
    let all = s.all("api/private/stem/session/", "sessions").await;
    let project = s.alice_project().await;
    let in_project = |r: &Value| {
        r["projects"]
            .as_array()
            .is_some_and(|p| p.iter().any(|x| x.as_str() == Some(&project)))
    };
    let n = check(
        &s,
        &all,
        &format!("filter{{projects}}={project}"),
        in_project,
    )
    .await;
    assert!(n > 10);
    check(
        &s,
        &all,
        &format!("filter{{projects.id}}={project}"),
        in_project,
    )
    .await;
    check(
        &s,
        &all,
        &format!("filter{{projects.pk}}={project}"),
        in_project,
    )
    .await;
    check(
        &s,
        &all,
        &format!("filter{{projects.in}}={project}"),
        in_project,
    )
    .await;
    check(&s, &all, &format!("filter{{-projects}}={project}"), |r| {
        !in_project(r)
    })
    .await;
    check(
        &s,
        &all,
        "filter{projects.name.icontains}=REPLAY",
        in_project,
    )
    .await;
    check(&s, &all, "filter{-projects.name.icontains}=replay", |r| {
        !in_project(r)
    })
    .await;
    check(&s, &all, "filter{projects.isnull}=true", |r| {
        r["projects"].as_array().is_none_or(Vec::is_empty)
    })
    .await;
    // AND of a relation filter and a text filter.
    check(
        &s,
        &all,
        &format!("filter{{projects}}={project}&filter{{name.icontains}}=cortex"),
        |r| in_project(r) && name(r).to_lowercase().contains("cortex"),
    )
    .await;
    // Negated text filter.
    check(&s, &all, "filter{-name.icontains}=cortex", |r| {
        !name(r).to_lowercase().contains("cortex")
    })
    .await;
    // id / pk lookups.
    let one = id_of(&all[0]);
    assert_eq!(
        check(
            &s,
            &all,
            &format!("filter{{id}}={}", one.to_uppercase()),
            |r| id_of(r) == one
        )
        .await,
        1
    );
    assert_eq!(
        check(&s, &all, &format!("filter{{pk}}={one}"), |r| id_of(r)
            == one)
        .await,
        1
    );
    assert_eq!(
        check(
            &s,
            &all,
            &format!("filter{{id.in}}={one}&filter{{id.in}}={}", id_of(&all[1])),
            |r| id_of(r) == one || id_of(r) == id_of(&all[1])
        )
        .await,
        2
    );
    // Many-valued text: tags.
    check(&s, &all, "filter{tags}=sleep", |r| {
        r["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x == "sleep"))
    })
    .await;
    // Booleans, as dynamic-rest reads them ("0", "false" and "" are false).
    let stor = s
        .all(
            "api/private/personal_attributes/datastorage/",
            "datastorages",
        )
        .await;
    for (q, want) in [("true", true), ("1", true), ("False", false), ("0", false)] {
        let got = ids(&s
            .all(
                &format!("api/private/personal_attributes/datastorage/?filter{{is_public}}={q}"),
                "datastorages",
            )
            .await);
        let exp: BTreeSet<String> = stor
            .iter()
            .filter(|r| r["is_public"] == want)
            .map(id_of)
            .collect();
        assert_eq!(got, exp, "is_public={q}");
    }
    // Across a to-one relation (the Python loaders' session.id filter).
    let session = s
        .first_id("api/private/modules/behavior/", "behaviors")
        .await;
    let b = s
        .get(&format!("api/private/modules/behavior/{session}/"))
        .await;
    let sid = b.body["behavior"]["session"]
        .as_str()
        .expect("session")
        .to_string();
    let got = s
        .all(
            &format!("api/private/modules/behavior/?filter{{session.id}}={sid}"),
            "behaviors",
        )
        .await;
    assert!(!got.is_empty());
    assert!(got.iter().all(|r| r["session"] == sid.as_str()));
    // Integer ids (users).
    let a = s
        .get("api/private/users/user/?filter{id.in}=1&filter{id.in}=3")
        .await;
    assert_eq!(
        a.body["users"].as_array().map(Vec::len),
        Some(2),
        "{}",
        a.text
    );
    // Choice fields.
    let a = s
        .get("api/private/stem/subject/?filter{sex}=F&limit=100")
        .await;
    assert!(
        a.body["subjects"]
            .as_array()
            .is_some_and(|l| !l.is_empty() && l.iter().all(|r| r["sex"] == "F"))
    );
}

#[tokio::test]
async fn sorting() {
    let s = Srv::new().await;
    let all = s
        .all("api/private/stem/session/?sort[]=name", "sessions")
        .await;
    let got = names(&Value::Array(all.clone()));
    let mut want = got.clone();
    want.sort();
    assert_eq!(got, want, "ascending by code point");
    let desc = names(&Value::Array(
        s.all("api/private/stem/session/?sort[]=-name", "sessions")
            .await,
    ));
    want.reverse();
    assert_eq!(desc, want, "descending");
    // Two keys: date_time descending, then name.
    let two = s
        .all(
            "api/private/stem/session/?sort[]=-date_time&sort[]=name",
            "sessions",
        )
        .await;
    for w in two.windows(2) {
        let (a, b) = (dt(&w[0]), dt(&w[1]));
        match (a, b) {
            (Some(a), Some(b)) => {
                assert!(a > b || (a == b && name(&w[0]) <= name(&w[1])));
            }
            // PostgreSQL: nulls first when descending.
            (Some(_), None) => panic!("a null date_time sorted after a value"),
            _ => {}
        }
    }
    // Through a to-one relation.
    let beh = s
        .all(
            "api/private/modules/behavior/?sort[]=session.name",
            "behaviors",
        )
        .await;
    let sessions: std::collections::HashMap<String, String> = all
        .iter()
        .map(|r| (id_of(r), name(r).to_string()))
        .collect();
    let keys: Vec<&String> = beh
        .iter()
        .filter_map(|b| b["session"].as_str().and_then(|id| sessions.get(id)))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // Sorting keeps pagination stable: pages concatenate to the full order.
    let p1 = s
        .get("api/private/stem/session/?sort[]=-name&limit=7")
        .await;
    let p2 = s
        .get("api/private/stem/session/?sort[]=-name&limit=7&offset=7")
        .await;
    let mut joined = names(&p1.body["sessions"]);
    joined.extend(names(&p2.body["sessions"]));
    assert_eq!(joined, desc[..14].to_vec());
}

#[tokio::test]
async fn include_embeds_and_exclude_drops() {
    let s = Srv::new().await;
    let a = s
        .get("api/private/stem/session/?include[]=projects.*&limit=5")
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    for r in a.body["sessions"].as_array().expect("records") {
        let p = &r["projects"][0];
        assert!(p.is_object(), "project embedded: {p}");
        assert!(p["name"].is_string() && p["id"].is_string());
    }
    let a = s
        .get("api/private/stem/session/?include[]=projects&limit=5")
        .await;
    assert!(
        a.body["sessions"][0]["projects"][0].is_string(),
        "without .* ids stay"
    );
    // Python's encoding (%7B, %5B%5D, %2A) and several includes.
    let a = s
        .get("api/private/stem/session/?include%5B%5D=behaviors.%2A&include%5B%5D=dataacquisition.%2A&include%5B%5D=epochs.%2A&limit=100")
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let with_beh = a.body["sessions"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["behaviors"].as_array().is_some_and(|b| !b.is_empty()))
        .expect("a session with behaviors")
        .clone();
    assert!(with_beh["behaviors"][0]["behavioralassay"].is_string());
    // Nested: behaviors with their setup embedded.
    let id = id_of(&with_beh);
    let a = s
        .get(&format!(
            "api/private/stem/session/{id}/?include[]=behaviors.setup.*"
        ))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let b0 = &a.body["session"]["behaviors"][0];
    assert!(
        b0["setup"].is_object() && b0["setup"]["name"].is_string(),
        "{b0}"
    );
    // Exclude.
    let a = s
        .get(&format!(
            "api/private/stem/session/{id}/?exclude[]=description"
        ))
        .await;
    assert!(a.body["session"].get("description").is_none());
    assert!(a.body["session"].get("name").is_some());
    // Errors.
    let a = s.get("api/private/stem/session/?include[]=bogus.*").await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body,
        serde_json::json!({"detail": "\"bogus\" is not a valid field name for \"session\"."})
    );
    let a = s
        .get("api/private/stem/session/?include[]=projects.bogus.*")
        .await;
    assert_eq!(
        a.body,
        serde_json::json!({"detail": "\"bogus\" is not a valid field name for \"project\"."})
    );
    let a = s
        .get("api/private/modules/consumablestock/?include[]=bogus")
        .await;
    assert_eq!(
        a.body["detail"],
        "\"bogus\" is not a valid field name for \"consumable stock\"."
    );
    let a = s.get("api/private/stem/session/?include[]=.projects").await;
    assert_eq!(
        a.body,
        serde_json::json!({"detail": "\".projects\" is not a valid field."})
    );
}

#[tokio::test]
async fn pagination_edges() {
    let s = Srv::with(MockOptions::new().sessions(250)).await;
    let total = s.get("api/private/stem/session/").await.body["count"]
        .as_u64()
        .expect("count") as usize;
    let first = s.get("api/private/stem/session/").await;
    assert_eq!(
        first.body["sessions"].as_array().map(Vec::len),
        Some(20),
        "default page size"
    );
    assert_eq!(first.body["meta"]["total_results"], total);
    assert_eq!(first.body["meta"]["per_page"], 20);
    assert_eq!(first.body["meta"]["page"], 1);
    assert_eq!(first.body["previous"], Value::Null);
    assert_eq!(
        first.body["next"],
        format!(
            "{}api/private/stem/session/?limit=20&offset=20",
            s.srv.url()
        )
    );
    for (q, n) in [
        ("limit=100", 100),
        ("limit=1000", 100),
        ("limit=0", 20),
        ("limit=-3", 20),
        ("limit=abc", 20),
        ("limit=1", 1),
    ] {
        let a = s.get(&format!("api/private/stem/session/?{q}")).await;
        assert_eq!(a.body["sessions"].as_array().map(Vec::len), Some(n), "{q}");
    }
    // Bad offsets fall back to 0.
    let a = s.get("api/private/stem/session/?offset=-5&limit=3").await;
    assert_eq!(
        ids_of(&a, "sessions"),
        ids(&first.body["sessions"].as_array().expect("list")[..3])
    );
    // The last partial page and past the end.
    let last = s
        .get(&format!(
            "api/private/stem/session/?limit=100&offset={}",
            total - 3
        ))
        .await;
    assert_eq!(last.body["sessions"].as_array().map(Vec::len), Some(3));
    assert_eq!(last.body["next"], Value::Null);
    assert_eq!(
        last.body["previous"],
        format!(
            "{}api/private/stem/session/?limit=100&offset={}",
            s.srv.url(),
            total - 103
        )
    );
    let past = s
        .get(&format!(
            "api/private/stem/session/?limit=10&offset={}",
            total + 50
        ))
        .await;
    assert_eq!(past.status, 200);
    assert_eq!(past.body["sessions"], serde_json::json!([]));
    assert_eq!(past.body["count"], total);
    assert_eq!(past.body["next"], Value::Null);
    // previous drops offset when it would be 0; other parameters are kept, sorted.
    let a = s
        .get("api/private/stem/session/?sort[]=-name&limit=5&offset=3&filter{name.icontains}=a")
        .await;
    assert_eq!(
        a.body["previous"],
        format!(
            "{}api/private/stem/session/?filter%7Bname.icontains%7D=a&limit=5&sort%5B%5D=-name",
            s.srv.url()
        )
    );
    assert_eq!(
        a.body["next"],
        format!(
            "{}api/private/stem/session/?filter%7Bname.icontains%7D=a&limit=5&offset=8&sort%5B%5D=-name",
            s.srv.url()
        )
    );
    // Following next visits every record exactly once.
    let mut seen = Vec::new();
    let mut url = Some(s.url("api/private/stem/session/?limit=37"));
    while let Some(u) = url {
        let a: Value = s
            .http
            .get(&u)
            .bearer_auth(s.srv.token())
            .send()
            .await
            .expect("page")
            .json()
            .await
            .expect("json");
        seen.extend(a["sessions"].as_array().expect("records").iter().map(id_of));
        url = a["next"].as_str().map(str::to_string);
    }
    assert_eq!(seen.len(), total);
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>().len(),
        total,
        "no duplicates"
    );
    // Relation routes paginate too.
    let project = s.alice_project().await;
    let a = s
        .get(&format!(
            "api/private/stem/project/{project}/sessions/?limit=4"
        ))
        .await;
    assert_eq!(a.body["sessions"].as_array().map(Vec::len), Some(4));
    let p = s.get(&format!("api/private/stem/project/{project}/")).await;
    assert_eq!(
        a.body["count"],
        p.body["project"]["sessions"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0)
    );
    assert!(a.body["next"].as_str().is_some_and(|n| n.contains(&format!(
        "/stem/project/{project}/sessions/?limit=4&offset=4"
    ))));
}

#[tokio::test]
async fn knobs_change_list_shapes() {
    let s = Srv::new().await;
    let path = "api/private/stem/session/?limit=5";
    let full = s.get(path).await;
    for k in ["count", "next", "previous", "meta"] {
        assert!(full.body.get(k).is_some(), "{k} present by default");
    }
    s.srv.set_knobs(ListKnobs {
        omit_count: true,
        ..Default::default()
    });
    let a = s.get(path).await;
    assert!(
        a.body.get("count").is_none()
            && a.body.get("next").is_some()
            && a.body.get("meta").is_some()
    );
    s.srv.set_knobs(ListKnobs {
        omit_next: true,
        ..Default::default()
    });
    let a = s.get(path).await;
    assert!(
        a.body.get("next").is_none()
            && a.body.get("previous").is_none()
            && a.body.get("count").is_some()
    );
    s.srv.set_knobs(ListKnobs {
        omit_meta: true,
        ..Default::default()
    });
    let a = s.get(path).await;
    assert!(a.body.get("meta").is_none() && a.body.get("count").is_some());
    s.srv.set_knobs(ListKnobs {
        omit_count: true,
        omit_next: true,
        omit_meta: true,
        ..Default::default()
    });
    let a = s.get(path).await;
    assert_eq!(a.body.as_object().map(|o| o.len()), Some(1), "{}", a.text);
    // Ignoring offset: every page is the first one.
    s.srv.set_knobs(ListKnobs {
        ignore_offset: true,
        ..Default::default()
    });
    let p2 = s.get("api/private/stem/session/?limit=5&offset=5").await;
    assert_eq!(ids_of(&p2, "sessions"), ids_of(&full, "sessions"));
    // Sideloading: a related list before the records, which keep ids.
    s.srv.set_knobs(ListKnobs {
        sideload: true,
        ..Default::default()
    });
    let a = s
        .get("api/private/stem/session/?limit=5&include[]=projects.*")
        .await;
    let keys: Vec<&String> = a.body.as_object().expect("object").keys().collect();
    assert_eq!(
        keys[0], "projects",
        "the sideloaded list comes first: {keys:?}"
    );
    assert_eq!(keys[1], "sessions");
    assert!(a.body["sessions"][0]["projects"][0].is_string());
    let side: BTreeSet<String> = ids(a.body["projects"].as_array().expect("projects"));
    for r in a.body["sessions"].as_array().expect("records") {
        for p in r["projects"].as_array().expect("ids") {
            assert!(side.contains(p.as_str().expect("id")));
        }
    }
    let a = s.get("api/private/stem/session/?limit=5").await;
    assert!(
        a.body.get("projects").is_some_and(Value::is_array),
        "sideloads without include[] too"
    );
    s.srv.set_knobs(ListKnobs::default());
    assert_eq!(s.srv.knobs(), ListKnobs::default());
}

#[tokio::test]
async fn query_error_bodies() {
    let s = Srv::new().await;
    let cases: &[(&str, Value)] = &[
        (
            "filter{bogus}=1",
            serde_json::json!(["Invalid filter field: bogus"]),
        ),
        (
            "filter{-bogus.icontains}=1",
            serde_json::json!(["Invalid filter field: bogus"]),
        ),
        (
            "filter{name.bogus}=1",
            serde_json::json!(["Invalid nested filter field: name"]),
        ),
        (
            "filter{projects.bogus}=1",
            serde_json::json!(["Invalid filter field: bogus"]),
        ),
        (
            "filter{epochs.name}=1",
            serde_json::json!(["Invalid nested filter field: epochs"]),
        ),
        (
            "filter{id}=x",
            serde_json::json!(["“x” is not a valid UUID."]),
        ),
        (
            "filter{projects}=nope",
            serde_json::json!(["“nope” is not a valid UUID."]),
        ),
        (
            "filter{id.in}=6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11&filter{id.in}=x",
            serde_json::json!(["“x” is not a valid UUID."]),
        ),
        (
            "filter{date_time.gt}=yesterday",
            serde_json::json!([
                "“yesterday” value has an invalid format. It must be in YYYY-MM-DD HH:MM[:ss[.uuuuuu]][TZ] format."
            ]),
        ),
        (
            "filter{name=x",
            serde_json::json!({"detail": "\"filter{name\" is not a well-formed filter key."}),
        ),
        (
            "sort[]=bogus",
            serde_json::json!(["Invalid filter field: ['bogus']"]),
        ),
        (
            "sort[]=-bogus&sort[]=name&sort[]=nope",
            serde_json::json!(["Invalid filter field: ['-bogus', 'nope']"]),
        ),
        (
            "sort[]=projects",
            serde_json::json!(["Invalid filter field: ['projects']"]),
        ),
        (
            "filter{is_public.icontains}=x",
            serde_json::json!(["Invalid filter field: is_public"]),
        ),
        (
            "filter{name.gt}=x",
            serde_json::json!(["Unsupported lookup 'gt' for field 'name'."]),
        ),
        (
            "filter{extra_fields}=x",
            serde_json::json!(["Unsupported lookup 'exact' for field 'extra_fields'."]),
        ),
        (
            "filter{date_time.range}=2020-01-01",
            serde_json::json!([
                "A range filter needs two values: repeat the key (filter{field.range}=low&filter{field.range}=high)."
            ]),
        ),
    ];
    for (q, want) in cases {
        let a = s.get(&format!("api/private/stem/session/?{q}")).await;
        assert_eq!(a.status, 400, "{q}: {}", a.text);
        assert_eq!(&a.body, want, "{q}");
    }
    // Integer and date values on other models.
    let a = s.get("api/private/modules/behavior/?filter{order}=x").await;
    assert_eq!(a.body, serde_json::json!(["“x” value must be an integer."]));
    let a = s
        .get("api/private/stem/subject/?filter{birth_date}=2021-02-30")
        .await;
    assert_eq!(
        a.body,
        serde_json::json!([
            "“2021-02-30” value has the correct format (YYYY-MM-DD) but it is an invalid date."
        ])
    );
    let a = s
        .get("api/private/stem/subject/?filter{birth_date}=soon")
        .await;
    assert_eq!(
        a.body,
        serde_json::json!([
            "“soon” value has an invalid date format. It must be in YYYY-MM-DD format."
        ])
    );
    // Include errors come before filter errors, filter errors before sort errors.
    let a = s
        .get("api/private/stem/session/?sort[]=bogus&filter{bogus}=1&include[]=bogus.*")
        .await;
    assert!(a.body.get("detail").is_some(), "{}", a.text);
    let a = s
        .get("api/private/stem/session/?sort[]=bogus&filter{bogus}=1")
        .await;
    assert_eq!(a.body, serde_json::json!(["Invalid filter field: bogus"]));
    // Unknown query parameters are ignored, as DRF does.
    let a = s
        .get("api/private/stem/session/?format=json&foo=bar&limit=2")
        .await;
    assert_eq!(a.status, 200);
}
