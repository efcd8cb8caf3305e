//! Filters, sorts and includes encode to the exact dynamic-rest query pairs,
//! percent-encoded the way the official Python client (`requests`) sends them.

use brainstem::models::{
    ProjectFilter, SessionFilter, SessionInclude, SessionSort, SpeciesFilter, SubjectFilter,
};
use brainstem::query::{Filter, FilterClause, ListQuery, RawFilter, SortField, encode_component};
use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;

fn pairs(f: impl Filter) -> Vec<(String, String)> {
    f.clause().pairs()
}

fn p(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

#[test]
fn text_lookups() {
    assert_eq!(
        pairs(SessionFilter::Name("s1".into())),
        vec![p("filter{name}", "s1")]
    );
    assert_eq!(
        pairs(SessionFilter::NameIcontains("rat".into())),
        vec![p("filter{name.icontains}", "rat")]
    );
    for (f, lk) in [
        (SessionFilter::NameIexact("x".into()), "iexact"),
        (SessionFilter::NameContains("x".into()), "contains"),
        (SessionFilter::NameStartswith("x".into()), "startswith"),
        (SessionFilter::NameIstartswith("x".into()), "istartswith"),
        (SessionFilter::NameEndswith("x".into()), "endswith"),
        (SessionFilter::NameIendswith("x".into()), "iendswith"),
    ] {
        assert_eq!(pairs(f), vec![p(&format!("filter{{name.{lk}}}"), "x")]);
    }
    assert_eq!(
        pairs(SessionFilter::NameIsnull(true)),
        vec![p("filter{name.isnull}", "true")]
    );
}

#[test]
fn in_and_range_repeat_the_key() {
    assert_eq!(
        pairs(SessionFilter::NameIn(vec!["a".into(), "b".into()])),
        vec![p("filter{name.in}", "a"), p("filter{name.in}", "b")]
    );
    let a = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let b = Utc.with_ymd_and_hms(2024, 2, 1, 12, 30, 0).unwrap();
    assert_eq!(
        pairs(SessionFilter::DateTimeRange(a, b)),
        vec![
            p("filter{date_time.range}", "2024-01-01T00:00:00Z"),
            p("filter{date_time.range}", "2024-02-01T12:30:00Z")
        ]
    );
}

#[test]
fn relations_dates_and_negation() {
    let id = Uuid::parse_str("6f1c1a3e-2a9b-4c3e-9d1e-0b7a2f8c5d11").unwrap();
    assert_eq!(
        pairs(SessionFilter::Projects(id)),
        vec![p("filter{projects}", &id.to_string())]
    );
    assert_eq!(
        SessionFilter::Projects(id).not().pairs(),
        vec![p("filter{-projects}", &id.to_string())]
    );
    assert_eq!(
        SessionFilter::Name("x".into()).not().not().pairs(),
        vec![p("filter{name}", "x")]
    );
    let d = NaiveDate::from_ymd_opt(2023, 3, 22).unwrap();
    assert_eq!(
        pairs(SubjectFilter::BirthDateGte(d)),
        vec![p("filter{birth_date.gte}", "2023-03-22")]
    );
    assert_eq!(
        pairs(ProjectFilter::IsPublic(true)),
        vec![p("filter{is_public}", "true")]
    );
    assert_eq!(
        pairs(SpeciesFilter::NameIcontains("rat".into())),
        vec![p("filter{name.icontains}", "rat")]
    );
}

#[test]
fn sort_and_include() {
    assert_eq!(SessionSort::Name.desc().value(), "-name");
    assert_eq!(SessionSort::Name.asc().value(), "name");
    let q = ListQuery::new()
        .sort(SessionSort::DateTime.desc())
        .sort(SessionSort::Name.asc())
        .include(SessionInclude::Projects)
        .include(SessionInclude::Behaviors);
    assert_eq!(
        q.pairs(),
        vec![
            p("sort[]", "-date_time"),
            p("sort[]", "name"),
            p("include[]", "projects.*"),
            p("include[]", "behaviors.*"),
        ]
    );
}

#[test]
fn percent_encoding_matches_python_requests() {
    // what `requests` produces for params={"filter{name.icontains}": "rat", "sort[]": ["-name"], "include[]": ["behaviors.*"]}
    let q = ListQuery::new()
        .filter(SessionFilter::NameIcontains("rat".into()))
        .sort(SessionSort::Name.desc())
        .include(SessionInclude::Behaviors);
    assert_eq!(
        q.to_query_string(),
        "filter%7Bname.icontains%7D=rat&sort%5B%5D=-name&include%5B%5D=behaviors.%2A"
    );
    assert_eq!(encode_component("a b+c/d:e~f"), "a+b%2Bc%2Fd%3Ae~f");
    assert_eq!(encode_component("µ"), "%C2%B5");
    let q = ListQuery::new().filter(SessionFilter::Projects(Uuid::nil()).not());
    assert_eq!(
        q.to_query_string(),
        "filter%7B-projects%7D=00000000-0000-0000-0000-000000000000"
    );
}

#[test]
fn several_filters_and_paging() {
    let q = ListQuery::new()
        .filter(SessionFilter::NameIcontains("a".into()))
        .exclude(SessionFilter::DescriptionIcontains("b".into()))
        .limit(50)
        .offset(100);
    assert_eq!(
        q.pairs(),
        vec![
            p("filter{name.icontains}", "a"),
            p("filter{-description.icontains}", "b"),
            p("limit", "50"),
            p("offset", "100"),
        ]
    );
    assert!(q.check().is_ok());
    assert!(
        ListQuery::new()
            .limit(101)
            .check()
            .unwrap_err()
            .has("limit")
    );
    assert!(ListQuery::new().limit(0).check().is_err());
}

#[test]
fn raw_filter_escape_hatch() {
    let f = RawFilter::new("projects.name.icontains", "visual").unwrap();
    assert_eq!(
        f.clause(),
        FilterClause::new("projects.name", Some("icontains"), vec!["visual".into()])
    );
    assert_eq!(
        f.pairs_for_test(),
        vec![p("filter{projects.name.icontains}", "visual")]
    );
    let f = RawFilter::new("session.id", "x").unwrap();
    assert_eq!(f.clause().key(), "filter{session.id}");
    assert!(RawFilter::new("name}", "x").is_err());
    assert!(RawFilter::new("", "x").is_err());
    assert!(RawFilter::new("a..b", "x").is_err());
    assert!(RawFilter::many("name.in", vec![]).is_err());
}

trait PairsForTest {
    fn pairs_for_test(&self) -> Vec<(String, String)>;
}
impl<F: Filter> PairsForTest for F {
    fn pairs_for_test(&self) -> Vec<(String, String)> {
        self.clause().pairs()
    }
}
