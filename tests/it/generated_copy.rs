//! `generated/` is a reviewable copy of what build.rs writes into OUT_DIR.
//! This test fails when the copy is stale and prints the one command that
//! refreshes it (the expectorate pattern).

use std::path::Path;

/// The files every build writes, and (feature `raw`) the operation layer.
const FILES: &[&str] = &[
    "types.rs",
    "enums.rs",
    "models.rs",
    "details.rs",
    "client_api.rs",
    "schema.rs",
    #[cfg(feature = "raw")]
    "client.rs",
];
const REFRESH: &str =
    "BRAINSTEM_REFRESH_GENERATED=1 cargo test --all-features --test it generated_copy";

#[test]
fn generated_copy_matches_build_output() {
    let out = Path::new(env!("OUT_DIR"));
    let copy = Path::new(env!("CARGO_MANIFEST_DIR")).join("generated");
    let refresh = std::env::var_os("BRAINSTEM_REFRESH_GENERATED").is_some();
    let mut stale = Vec::new();
    for f in FILES.iter().copied() {
        let built = std::fs::read_to_string(out.join(f))
            .unwrap_or_else(|e| panic!("build.rs did not write {f}: {e}"));
        let path = copy.join(f);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == built {
            continue;
        }
        if refresh {
            std::fs::create_dir_all(&copy).unwrap();
            std::fs::write(&path, &built).unwrap();
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
}
