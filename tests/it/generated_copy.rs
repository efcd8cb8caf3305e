//! `generated/` is the generator's output for the pinned spec, checked in:
//! builds without the feature `codegen` compile it instead of running the
//! generator (see `build.rs`). This test runs the generator itself, whatever
//! the build used, and fails when the copy is stale, printing the one command
//! that refreshes it (the expectorate pattern). It also keeps
//! `generated/spec.fingerprint` equal to the fingerprint `build.rs` computed
//! for the spec, which is what lets a build trust the copy.

use std::path::Path;

/// What the test writes into `generated/` besides the generator's files.
const FINGERPRINT: &str = "spec.fingerprint";
const REFRESH: &str =
    "BRAINSTEM_REFRESH_GENERATED=1 cargo test --all-features --test it generated_copy";

#[test]
fn generated_copy_matches_build_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let copy = root.join("generated");
    let spec = std::fs::read_to_string(brainstem_codegen::spec_path(root)).unwrap();
    let mut expected: Vec<(String, String)> = brainstem_codegen::generate(&spec)
        .unwrap_or_else(|e| panic!("the generator failed on the pinned spec: {e}"))
        .into_iter()
        .map(|(name, contents)| (name.to_string(), contents))
        .collect();
    // build.rs fingerprints the spec it read; the copy records that fingerprint
    let fingerprint = std::fs::read_to_string(Path::new(env!("OUT_DIR")).join(FINGERPRINT))
        .expect("build.rs writes spec.fingerprint into OUT_DIR");
    expected.push((FINGERPRINT.to_string(), fingerprint));
    assert!(
        expected.iter().any(|(f, _)| f == "client.rs"),
        "the test runs the generator with its feature `raw`, so the copy keeps the operation layer"
    );

    let refresh = std::env::var_os("BRAINSTEM_REFRESH_GENERATED").is_some();
    let mut stale = Vec::new();
    for (f, built) in &expected {
        let path = copy.join(f);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if &current == built {
            continue;
        }
        if refresh {
            std::fs::create_dir_all(&copy).unwrap();
            std::fs::write(&path, built).unwrap();
            eprintln!("refreshed generated/{f}");
            continue;
        }
        let line = current
            .lines()
            .zip(built.lines())
            .position(|(a, b)| a != b)
            .map(|i| i + 1)
            .unwrap_or_else(|| current.lines().count().min(built.lines().count()) + 1);
        stale.push(format!("generated/{f} (first difference at line {line})"));
    }
    assert!(
        stale.is_empty(),
        "generated/ is out of date with the spec and generator:\n  {}\nrefresh it with:\n  {REFRESH}\nthen review the diff (git diff generated/).",
        stale.join("\n  ")
    );

    // the build used these very files: generated with `codegen`, copied without
    for (f, built) in &expected {
        if f == "client.rs" && !cfg!(feature = "raw") {
            continue; // the operation layer is built only with `raw`
        }
        let used = std::fs::read_to_string(Path::new(env!("OUT_DIR")).join(f))
            .unwrap_or_else(|e| panic!("build.rs did not write {f}: {e}"));
        assert!(
            &used == built,
            "OUT_DIR/{f} is not the generator's output; rebuild (the build reads generated/ \
             when the feature `codegen` is off)"
        );
    }
}
