//! `brainstem --version` and `-V`: the tool's version and the schema version
//! of the SDK it was built with (read from the SDK, not written here).

use super::cmd;

/// The output of the command with one flag, as text.
fn version_out(flag: &str) -> String {
    let out = cmd()
        .arg(flag)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).expect("the version is UTF-8")
}

#[test]
fn long_version_names_crate_schema_and_docs_revision() {
    let out = version_out("--version");
    assert_eq!(
        out,
        format!(
            "brainstem {} (BrainSTEM schema {}, docs revision {})\n",
            env!("CARGO_PKG_VERSION"),
            brainstem::SCHEMA_VERSION,
            brainstem::DOCS_REVISION
        )
    );
}

#[test]
fn short_version_names_crate_and_schema() {
    let out = version_out("-V");
    assert_eq!(
        out,
        format!(
            "brainstem {} (BrainSTEM schema {})\n",
            env!("CARGO_PKG_VERSION"),
            brainstem::SCHEMA_VERSION
        )
    );
}
