//! The official Python client (`brainstem_python_api_tools==2.0.0`) against
//! the stand-in server: the proof that the server is faithful enough that
//! the official tool cannot tell the difference.
//!
//! Needs a Python with the official client: `BRAINSTEM_PYTHON`, or
//! `.venv/bin/python` in the repository. When neither exists the test makes
//! the virtualenv itself (PyPI must be reachable), as `.ci/run` does:
//!
//! ```text
//! python3 -m venv .venv && .venv/bin/pip install brainstem_python_api_tools==2.0.0
//! ```

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use brainstem_mock::{ListKnobs, MockOptions, MockServer};

fn python() -> PathBuf {
    // the workspace root (this crate is crates/brainstem-mock)
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidate = match std::env::var_os("BRAINSTEM_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => repo.join(".venv").join("bin").join("python"),
    };
    if !candidate.exists() && std::env::var_os("BRAINSTEM_PYTHON").is_none() {
        make_venv(&repo);
    }
    if !candidate.exists() {
        panic!(
            "no Python with the official BrainSTEM client: {} does not exist.\n\
             Create it with:\n  python3 -m venv .venv && .venv/bin/pip install brainstem_python_api_tools==2.0.0\n\
             (or point BRAINSTEM_PYTHON at an interpreter that has it)",
            candidate.display()
        );
    }
    let check = Command::new(&candidate)
        .args([
            "-c",
            "import brainstem_api_tools, sys; sys.exit(brainstem_api_tools.__version__ != '2.0.0')",
        ])
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", candidate.display()));
    assert!(
        check.success(),
        "{} lacks brainstem_python_api_tools 2.0.0; install it with:\n  {} -m pip install brainstem_python_api_tools==2.0.0",
        candidate.display(),
        candidate.display()
    );
    candidate
}

/// Create `.venv` with the official client (once per test process).
fn make_venv(repo: &std::path::Path) {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let venv = repo.join(".venv");
    if venv.join("bin").join("python").exists() {
        return;
    }
    let ok = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(venv.join("bin").join("pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "brainstem_python_api_tools==2.0.0",
            ])
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        // leave no half-made virtualenv behind for the next run to trust
        let _ = std::fs::remove_dir_all(&venv);
    }
}

/// Run one scenario of tests/python/official_client.py; returns its stdout.
async fn scenario(srv: &MockServer, name: &str) -> String {
    let py = python();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("python")
        .join("official_client.py");
    let home = tempfile::tempdir().expect("a temporary home");
    let mut cmd = tokio::process::Command::new(py);
    cmd.arg(&script)
        .arg(name)
        .env("HOME", home.path())
        .env("BRAINSTEM_URL", srv.url())
        .env("BRAINSTEM_TOKEN", srv.token())
        .env("BRAINSTEM_READONLY_TOKEN", srv.readonly_token())
        .env("BRAINSTEM_NOACCESS_TOKEN", srv.noaccess_token())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .kill_on_drop(true);
    let out = tokio::time::timeout(std::time::Duration::from_secs(300), cmd.output())
        .await
        .expect("the Python scenario finishes within 5 minutes")
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "scenario {name} failed ({}).\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(stdout.contains(&format!("done: {name}")), "{stdout}");
    for line in stdout.lines().filter(|l| l.starts_with("observed: ")) {
        eprintln!("[{name}] {line}");
    }
    stdout
}

fn has(out: &str, checks: &[&str]) {
    for c in checks {
        assert!(
            out.lines().any(|l| l == format!("ok: {c}")),
            "check {c:?} did not pass:\n{out}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_client_main() {
    let srv = MockServer::start().await;
    let out = scenario(&srv, "main").await;
    has(
        &out,
        &[
            "public projects",
            "filter name.icontains",
            "sort both ways",
            "include",
            "load_all exactly once",
            "create, patch, read back",
            "single-string projects refused",
            "missing required fields named",
            "delete 204 then 404",
            "bad token 401",
            "public write refused",
            "read-only token 403",
            "no-access user",
            "convenience loaders",
            "approvals",
            "actions",
        ],
    );
    assert!(srv.requests() > 50, "the script talked to this server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_client_device_login() {
    let srv = Arc::new(
        MockServer::start_with(MockOptions::new().sessions(20).device_interval(1))
            .await
            .expect("server"),
    );
    // Approve the first sign-in, deny the second, as a person would.
    let decided = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let srv = srv.clone();
        let decided = decided.clone();
        tokio::spawn(async move {
            loop {
                for d in srv.pending_devices() {
                    assert_eq!(d.client_name, "brainstem-python");
                    if decided.fetch_add(1, Ordering::SeqCst) == 0 {
                        assert!(srv.approve_device(&d.user_code));
                    } else {
                        assert!(srv.deny_device(&d.user_code));
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        })
    };
    let out = scenario(&srv, "device").await;
    watcher.abort();
    has(&out, &["device flow approved", "device flow denied"]);
    assert!(
        out.contains("and enter: "),
        "headless output shows the code:\n{out}"
    );
    assert_eq!(decided.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_client_against_unusual_list_shapes() {
    let srv = MockServer::start().await;
    srv.set_knobs(ListKnobs {
        omit_count: true,
        ..Default::default()
    });
    let out = scenario(&srv, "no_count").await;
    has(&out, &["no_count scenario"]);
    assert!(out.contains("observed: without 'count', load_all stopped after the first page"));
    srv.set_knobs(ListKnobs {
        sideload: true,
        ..Default::default()
    });
    let out = scenario(&srv, "sideload").await;
    has(&out, &["sideload scenario"]);
    assert!(out.contains("observed: with a sideloaded list"));
    srv.set_knobs(ListKnobs::default());
    let out = scenario(&srv, "big_limit").await;
    has(&out, &["big_limit scenario"]);
    assert!(out.contains("observed: load_all(limit=500)"));
}
