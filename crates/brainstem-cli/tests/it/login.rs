//! `login` (the device flow, headless) and `logout`, with a token cache in a private HOME.

use assert_cmd::Command;
use brainstem_mock::{MockOptions, MockServer};
use predicates::prelude::*;

#[test]
fn login_and_logout_with_the_device_flow() {
    let srv = MockServer::start_background(
        MockOptions::new()
            .sessions(5)
            .auto_approve(true)
            .device_interval(1),
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut c = Command::cargo_bin("brainstem").unwrap();
        c.env_clear()
            .env("HOME", home.path())
            .env("BRAINSTEM_URL", srv.url())
            .args(args);
        c
    };
    run(&["login", "--headless"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Logged in"));
    // the cached token now works without any token in the environment
    run(&["load", "session", "--limit", "1"]).assert().success();
    run(&["logout"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Logged out"));
    run(&["load", "session", "--limit", "1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("login"));
}
