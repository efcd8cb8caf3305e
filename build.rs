//! Puts the typed API for `schema/brainstem.openapi.json` into `OUT_DIR`.
//!
//! Two ways, one result:
//!
//! - **From the checked-in copy** (default). `generated/` holds the
//!   generator's output together with `generated/spec.fingerprint`, the
//!   fingerprint of the spec it was made from. When the spec's fingerprint
//!   matches, the copy is used as it is: a user's build compiles no generator.
//!   When it does not (the spec was edited), the build stops and says how to
//!   generate from the edited spec.
//! - **From the spec** (feature `codegen`): the `brainstem-codegen` crate
//!   reads the spec and generates everything. Needed after editing the spec
//!   or the generator; `tests/it/generated_copy.rs` keeps `generated/` equal
//!   to this output, so both ways give the same files.
//!
//! The fingerprint is FNV-1a (64 bits) over the spec's bytes with carriage
//! returns left out, so a checkout with Windows line endings matches too. It
//! detects edits, not attacks: the spec is the user's own file.

use std::path::{Path, PathBuf};

/// The files every build writes.
const FILES: &[&str] = &[
    "types.rs",
    "enums.rs",
    "models.rs",
    "details.rs",
    "client_api.rs",
    "schema.rs",
];
/// The operation layer, written only with the feature `raw`.
const RAW_FILE: &str = "client.rs";
/// Where the checked-in copy records the fingerprint of its spec.
const FINGERPRINT_FILE: &str = "spec.fingerprint";
const REFRESH: &str =
    "BRAINSTEM_REFRESH_GENERATED=1 cargo test --all-features --test it generated_copy";

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed=build.rs");
    // BRAINSTEM_SPEC lets a developer try a draft spec without replacing the pinned one.
    println!("cargo:rerun-if-env-changed=BRAINSTEM_SPEC");
    let spec = match std::env::var_os("BRAINSTEM_SPEC") {
        Some(p) => PathBuf::from(p),
        None => manifest.join("schema").join("brainstem.openapi.json"),
    };
    println!("cargo:rerun-if-changed={}", spec.display());
    let text = std::fs::read_to_string(&spec)
        .unwrap_or_else(|e| panic!("cannot read the spec {}: {e}", spec.display()));
    let fingerprint = fingerprint(&text);

    let files = match generate(&text) {
        Some(Ok(files)) => files,
        Some(Err(e)) => panic!("code generation from {} failed: {e}", spec.display()),
        None => checked_in_copy(&manifest.join("generated"), &spec, &fingerprint),
    };
    for (name, contents) in files
        .into_iter()
        .chain([(FINGERPRINT_FILE.to_string(), fingerprint)])
    {
        write_if_changed(&out.join(name), &contents);
    }
}

/// With the feature `codegen`: the generator's output for `text`.
#[cfg(feature = "codegen")]
fn generate(text: &str) -> Option<Result<Vec<(String, String)>, String>> {
    Some(brainstem_codegen::generate(text).map(|files| {
        files
            .into_iter()
            .map(|(name, contents)| (name.to_string(), contents))
            .collect()
    }))
}

/// Without the feature `codegen` there is no generator: use the copy.
#[cfg(not(feature = "codegen"))]
fn generate(_text: &str) -> Option<Result<Vec<(String, String)>, String>> {
    None
}

/// The files of `generated/`, after checking they were made from this spec.
fn checked_in_copy(dir: &Path, spec: &Path, fingerprint: &str) -> Vec<(String, String)> {
    let recorded_path = dir.join(FINGERPRINT_FILE);
    println!("cargo:rerun-if-changed={}", recorded_path.display());
    let recorded = std::fs::read_to_string(&recorded_path).unwrap_or_default();
    if recorded.trim() != fingerprint.trim() {
        panic!(
            "\n{spec} is not the spec generated/ was made from \
             (fingerprint {found}, generated/ records {recorded}).\n\
             Generate from the edited spec by building with the feature `codegen`, \
             e.g. `cargo build --features codegen`;\n\
             then refresh the checked-in copy with\n  {REFRESH}\n\
             so that builds without the generator use it.\n",
            spec = spec.display(),
            found = fingerprint.trim(),
            recorded = if recorded.trim().is_empty() {
                "nothing"
            } else {
                recorded.trim()
            },
        );
    }
    let raw = std::env::var_os("CARGO_FEATURE_RAW").is_some();
    FILES
        .iter()
        .chain(raw.then_some(&RAW_FILE))
        .map(|name| {
            let path = dir.join(name);
            println!("cargo:rerun-if-changed={}", path.display());
            let contents = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "cannot read {} (refresh it with `{REFRESH}`): {e}",
                    path.display()
                )
            });
            (name.to_string(), contents)
        })
        .collect()
}

/// `fnv1a-64:<hex>` over the bytes of `text` without carriage returns.
fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in text.as_bytes().iter().filter(|&&b| b != b'\r') {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a-64:{h:016x}\n")
}

/// Leaves an unchanged file alone, so cargo does not rebuild needlessly.
fn write_if_changed(target: &Path, contents: &str) {
    if std::fs::read_to_string(target).ok().as_deref() != Some(contents) {
        std::fs::write(target, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
    }
}
