//! The `brainstem` command against the stand-in server: every command and
//! flag, the refusals (and that they send nothing), each output format, and
//! exit codes 0 / 1 / 2. One test binary; a module per command (or concern),
//! sharing the helpers below.

mod check_schema;
#[cfg(feature = "export")]
mod export;
mod load;
mod login;
mod mock;
mod models;
mod output;
mod refusals;
mod save;
mod schema_diff;
#[cfg(feature = "mirror")]
mod sync;
mod version;

use std::sync::OnceLock;

use assert_cmd::Command;
use brainstem_mock::{MockOptions, MockServer};
use serde_json::Value;

/// The stand-in server the tests share (started once, on a free port).
fn server() -> &'static MockServer {
    static SRV: OnceLock<MockServer> = OnceLock::new();
    SRV.get_or_init(|| {
        MockServer::start_background(MockOptions::new()).expect("mock server starts")
    })
}

/// The command with the server's URL and token in its environment, and a
/// private HOME so no real token cache is touched.
fn cmd() -> Command {
    cmd_for(server())
}

/// The command against a given server.
fn cmd_for(srv: &MockServer) -> Command {
    let mut c = Command::cargo_bin("brainstem").expect("the cli feature builds the binary");
    c.env_clear()
        .env("HOME", home())
        .env("BRAINSTEM_URL", srv.url())
        .env("BRAINSTEM_API_TOKEN", srv.token());
    c
}

/// A private HOME, so no real token cache is read or written.
fn home() -> &'static std::path::Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// Run the command, expect success, and read standard output as JSON.
fn json_out(c: &mut Command) -> Value {
    let out = c.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out)
        )
    })
}

/// The id of some project on the shared server.
fn a_project_id() -> String {
    let v = json_out(cmd().args(["load", "project", "--limit", "1"]));
    v["projects"][0]["id"].as_str().unwrap().to_string()
}
