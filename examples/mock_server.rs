//! Run the stand-in BrainSTEM server until stopped (Ctrl-C).
//!
//! ```text
//! cargo run --example mock_server --features server -- --port 8765
//! ```
//!
//! Prints `BRAINSTEM_URL=...`, `BRAINSTEM_TOKEN=...` and
//! `BRAINSTEM_READONLY_TOKEN=...` (plus `BRAINSTEM_NOACCESS_TOKEN=...`), one
//! per line, so a shell can `eval` them. Options:
//!
//! * `--port PORT`: port on 127.0.0.1 (default: a free one);
//! * `--sessions N`: sessions in the seed (default 300);
//! * `--fixture FILE`: start from a fixture file instead of the seed;
//! * `--save FILE`: write the state to FILE when stopped;
//! * `--auto-approve`: apply approval-gated writes and device sign-ins at once.

use std::io::Write as _;

use brainstem::server::{MockOptions, MockServer};

fn usage(msg: &str) -> ! {
    eprintln!("{msg}");
    eprintln!(
        "usage: mock_server [--port PORT] [--sessions N] [--fixture FILE] [--save FILE] [--auto-approve]"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut opts = MockOptions::new();
    let mut save = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| usage(&format!("{name} needs a value")))
        };
        match a.as_str() {
            "--port" => {
                let v = value("--port");
                let port = v
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("--port: {v:?} is not a port number")));
                opts = opts.port(port);
            }
            "--sessions" => {
                let v = value("--sessions");
                let n = v
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("--sessions: {v:?} is not a number")));
                opts = opts.sessions(n);
            }
            "--fixture" => opts = opts.fixture(value("--fixture")),
            "--save" => save = Some(value("--save")),
            "--auto-approve" => opts = opts.auto_approve(true),
            "-h" | "--help" => usage("Runs the stand-in BrainSTEM server on 127.0.0.1."),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    let srv = match MockServer::start_with(opts).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("could not start the server: {e}");
            std::process::exit(1);
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "BRAINSTEM_URL={}", srv.url());
    let _ = writeln!(out, "BRAINSTEM_TOKEN={}", srv.token());
    let _ = writeln!(out, "BRAINSTEM_READONLY_TOKEN={}", srv.readonly_token());
    let _ = writeln!(out, "BRAINSTEM_NOACCESS_TOKEN={}", srv.noaccess_token());
    let _ = out.flush();
    drop(out);
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C ({e}); stopping");
    }
    if let Some(path) = save {
        match srv.save_fixture(&path) {
            Ok(()) => eprintln!("saved the state to {path}"),
            Err(e) => eprintln!("could not save the state to {path}: {e}"),
        }
    }
    srv.shutdown().await;
}
