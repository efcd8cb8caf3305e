//! Refusals: what is refused before sending (exit 2, and the server receives nothing) and what the API refuses (exit 1).

use brainstem_mock::{MockOptions, MockServer};
use predicates::prelude::*;

use crate::{a_project_id, cmd, cmd_for, server};

#[test]
fn wrong_types_are_refused_before_sending() {
    // a server of its own: other tests send requests to the shared one meanwhile
    let own = MockServer::start_background(MockOptions::new()).expect("mock server starts");
    let cmd = || cmd_for(&own);
    let before = own.requests();
    cmd()
        .args([
            "save",
            "session",
            "--data",
            r#"{"name":"x","projects":"abc"}"#,
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("projects").and(predicate::str::contains("nothing was sent")),
        );
    cmd()
        .args(["save", "session", "--data", "{not json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not valid JSON"));
    cmd()
        .args([
            "save",
            "session",
            "--data",
            r#"{"name":"x","projects":[],"nmae":"typo"}"#,
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nmae"));
    cmd()
        .args([
            "save",
            "session",
            "--data",
            &format!(
                r#"{{"name":"{}","projects":["{}"]}}"#,
                "x".repeat(101),
                uuid::Uuid::nil()
            ),
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("name"));
    cmd()
        .args(["load", "session", "--filters", "bogus=1"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("valid filters")
                .and(predicate::str::contains("name.icontains")),
        );
    cmd()
        .args(["load", "session", "--filters", "name.gte=a"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("valid lookups"));
    cmd()
        .args(["load", "session", "--filters", "date_time.gte=yesterday"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("date-time"));
    cmd()
        .args(["load", "session", "--sort", "projects"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sortable fields"));
    cmd()
        .args(["load", "session", "--include", "bogus"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("includable"));
    cmd()
        .args(["load", "sesion"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown model").and(predicate::str::contains("session")));
    cmd()
        .args(["load", "session", "--id", "not-a-uuid"])
        .assert()
        .code(2);
    assert_eq!(
        own.requests(),
        before,
        "no refused command reached the server"
    );
}

#[test]
fn the_api_refusing_exits_1() {
    cmd()
        .args(["--token", "wrong", "load", "session", "--limit", "1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("401").and(predicate::str::contains("log in")));
    let pid = a_project_id();
    cmd()
        .env("BRAINSTEM_API_TOKEN", server().readonly_token())
        .args([
            "save",
            "session",
            "--data",
            &format!(r#"{{"name":"ro","projects":["{pid}"]}}"#),
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("403"));
    // the token never appears in output
    let out = cmd()
        .args(["--token", "secret-token-value", "load", "session"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("secret-token-value"));
}

/// An argument that is not valid UTF-8 exits 2 naming the argument, and
/// nothing is sent (its bytes are not replaced by U+FFFD and sent).
#[cfg(unix)]
#[test]
fn invalid_utf8_in_an_argument_is_refused_before_sending() {
    use std::ffi::{OsStr, OsString};
    use std::os::unix::ffi::OsStrExt;
    let own = MockServer::start_background(MockOptions::new()).expect("mock server starts");
    let bad = |bytes: &[u8]| OsStr::from_bytes(bytes).to_os_string();
    let before = own.requests();
    let cases: [(&[&str], &[u8], &str); 9] = [
        (
            &["load", "session", "--filters"],
            b"name=\xff\xfe",
            "the value of --filters",
        ),
        (
            &["load", "session", "--filters", "name.icontains=a"],
            b"-name=\xff",
            "the value of --filters",
        ),
        (
            &["load", "session"],
            b"--filters=name=\xff",
            "the value of --filters",
        ),
        (
            &["load", "session", "--sort"],
            b"-na\xffme",
            "the value of --sort",
        ),
        (
            &["load", "session", "--include"],
            b"projects\xff",
            "the value of --include",
        ),
        (&["load"], b"sess\xffion", "<MODEL>"),
        (&["load", "session", "--id"], b"\xff", "the value of --id"),
        (
            &["save", "session", "--data"],
            b"{\"name\":\"\xff\"}",
            "the value of --data",
        ),
        (&["--token"], b"t\xff", "the value of --token"),
    ];
    for (args, bytes, named) in cases {
        let mut argv: Vec<OsString> = args.iter().map(OsString::from).collect();
        argv.push(bad(bytes));
        if args == ["--token"] {
            argv.extend(["load", "session"].map(OsString::from));
        }
        cmd_for(&own)
            .args(&argv)
            .assert()
            .code(2)
            .stdout("")
            .stderr(
                predicate::str::contains(format!("{named} is not valid UTF-8"))
                    .and(predicate::str::contains("nothing was sent")),
            );
    }
    assert_eq!(own.requests(), before, "no request reached the server");
    // the same command line in valid UTF-8 is sent (so the count above can fail)
    cmd_for(&own)
        .args(["load", "session", "--filters", "name=\u{fffd}"])
        .assert()
        .success();
    assert!(
        own.requests() > before,
        "a valid command reaches the server"
    );
}
