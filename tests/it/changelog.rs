//! `CHANGELOG.md` keeps up with the schema: it has a `## ` entry for the
//! schema this build was generated from (`brainstem::SCHEMA_VERSION`), and
//! that entry names the crate version that carries it (the version rule is in
//! the changelog's header and the crate docs).

use std::path::Path;

/// The words of a line: versions stay whole (`1.3.0`, not `1`, `3`, `0`), so
/// `1.3.0` does not match inside `11.3.0` or `1.3.0-rc.1`.
fn words(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '+'))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !w.is_empty())
}

/// The entry whose `## ` heading names `version`: its heading and body, up to
/// the next `## ` heading.
fn entry<'a>(changelog: &'a str, version: &str) -> Option<&'a str> {
    let mut start = None;
    let mut offset = 0;
    for line in changelog.split_inclusive('\n') {
        if line.starts_with("## ") {
            if let Some(s) = start {
                return Some(&changelog[s..offset]);
            }
            if words(line).any(|w| w == version) {
                start = Some(offset);
            }
        }
        offset += line.len();
    }
    start.map(|s| &changelog[s..])
}

#[test]
fn changelog_has_an_entry_for_this_schema_naming_this_crate_version() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("CHANGELOG.md");
    let changelog = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let schema = brainstem::SCHEMA_VERSION;
    let krate = env!("CARGO_PKG_VERSION");
    let entry = entry(&changelog, schema).unwrap_or_else(|| {
        panic!(
            "CHANGELOG.md has no `## ` entry for schema {schema} (brainstem::SCHEMA_VERSION); \
             add `## Schema {schema} — brainstem {krate}`"
        )
    });
    assert!(
        entry.lines().any(|l| words(l).any(|w| w == krate)),
        "the CHANGELOG.md entry for schema {schema} does not name crate version {krate} \
         (CARGO_PKG_VERSION); bump the crate by the version rule or fix the entry:\n{entry}"
    );
}

#[test]
fn entries_are_found_by_whole_versions() {
    let log = "# Changelog\n\n1.3.0 in the header\n\n## Schema 11.3.0 — brainstem 0.2.0\n\nx\n\n\
               ## Schema 1.3.0 — brainstem 0.1.0 (unreleased)\n\nbody 0.1.0.\n\n## Schema 1.2.0\n";
    let e = entry(log, "1.3.0").unwrap();
    assert!(e.starts_with("## Schema 1.3.0"), "{e}");
    assert!(e.ends_with("body 0.1.0.\n\n"), "{e}");
    assert!(entry(log, "1.3").is_none());
    assert!(entry(log, "1.4.0").is_none());
    assert!(words("brainstem 0.1.0.").any(|w| w == "0.1.0"));
    assert!(!words("brainstem 0.1.0-rc.1").any(|w| w == "0.1.0"));
}
