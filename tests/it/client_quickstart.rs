//! The README's main command: the quick start example runs to the end
//! against the in-process stand-in server.

use std::path::PathBuf;
use std::process::Command;

fn example_binary() -> PathBuf {
    // target/<profile>/deps/<this test> -> target/<profile>/examples/quickstart
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|d| d.parent()).unwrap();
    profile_dir
        .join("examples")
        .join(format!("quickstart{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn quickstart_runs_against_the_stand_in_server() {
    let bin = example_binary();
    if !bin.exists() {
        // `cargo test` builds examples before running tests; build it if this
        // run did not (e.g. `cargo test --test client_quickstart`).
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--example", "quickstart"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success());
    }
    assert!(bin.exists(), "{} was not built", bin.display());
    let out = Command::new(&bin)
        .env_remove("BRAINSTEM_URL")
        .env_remove("BRAINSTEM_API_TOKEN")
        .env_remove("BRAINSTEM_TOKEN")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for section in [
        "== Quick start ==",
        "== Filtering ==",
        "== Sorting ==",
        "== Creating records ==",
        "== Updating records ==",
        "== Deleting records ==",
    ] {
        assert!(stdout.contains(section), "missing {section}:\n{stdout}");
    }
    assert!(
        stdout.contains("Created session Example Session"),
        "{stdout}"
    );
    assert!(stdout.contains("Updated via the Rust client"), "{stdout}");
    assert!(stdout.contains("Session deleted"), "{stdout}");
}
