//! Run the stand-in BrainSTEM server until stopped (Ctrl-C).
//!
//! ```text
//! cargo run -p brainstem-mock --example mock_server -- --port 8765
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
//!
//! How it answers (see `brainstem_mock::Dialect`): a preset first,
//!
//! * `--dialect docs|dynamic-rest|dynamic-rest-countless|drifted`: the
//!   documented shape (default); a dynamic-rest server (page numbers,
//!   sideloaded includes, links only where there is one, `session.description`
//!   deferred); the same never counting; or records that drifted from the
//!   docs (an undocumented field on every third record, no `description` on
//!   every fifth session);
//!
//! then single switches on top of it, in any order:
//!
//! * `--pagination limit-offset|page-number`, `--exclude-count`,
//!   `--page-size N`, `--max-page-size N` (0: no cap);
//! * `--sideload` / `--no-sideload`, `--omit-empty-links` / `--no-omit-empty-links`;
//! * `--defer MODEL.FIELD` (repeatable, replaces the preset's list) / `--no-defer`;
//! * `--extra-field-every N`, `--missing-field-every N`,
//!   `--missing-field MODEL.FIELD` (repeatable, replaces the preset's list);
//!
//! and the faults: `--undecodable-writes`, `--omit-count`, `--omit-next`,
//! `--omit-meta`, `--ignore-offset`.
//!
//! The network between client and server:
//!
//! * `--latency-ms MS`: wait this long before serving each request;
//! * `--bandwidth BYTES_PER_SEC`: send each answer's body at this rate
//!   (after compression: the bytes on the wire);
//! * `--no-compression`: never compress answers (by default gzip or brotli
//!   when the request's `Accept-Encoding` asks for it).

use std::io::Write as _;

use brainstem_mock::{Dialect, ListKnobs, MockOptions, MockServer, Pagination};

fn usage(msg: &str) -> ! {
    eprintln!("{msg}");
    eprintln!(
        "usage: mock_server [--port PORT] [--sessions N] [--fixture FILE] [--save FILE] [--auto-approve]\n\
         \x20      [--dialect docs|dynamic-rest|dynamic-rest-countless|drifted]\n\
         \x20      [--pagination limit-offset|page-number] [--exclude-count] [--page-size N] [--max-page-size N]\n\
         \x20      [--sideload|--no-sideload] [--omit-empty-links|--no-omit-empty-links]\n\
         \x20      [--defer MODEL.FIELD ...|--no-defer] [--extra-field-every N] [--missing-field-every N]\n\
         \x20      [--missing-field MODEL.FIELD ...] [--undecodable-writes]\n\
         \x20      [--omit-count] [--omit-next] [--omit-meta] [--ignore-offset]\n\
         \x20      [--latency-ms MS] [--bandwidth BYTES_PER_SEC] [--no-compression]"
    );
    std::process::exit(2)
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> T {
    v.parse()
        .unwrap_or_else(|_| usage(&format!("{flag}: {v:?} is not a number")))
}

/// A dialect change asked for on the command line, applied after the preset.
type Switch = Box<dyn FnOnce(Dialect) -> Dialect>;

#[tokio::main]
async fn main() {
    let mut opts = MockOptions::new();
    let mut save = None;
    let mut dialect = Dialect::docs();
    let mut switches: Vec<Switch> = Vec::new();
    let mut deferred: Option<Vec<String>> = None;
    let mut missing: Vec<String> = Vec::new();
    let mut knobs = ListKnobs::default();
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
            "--dialect" => {
                let v = value("--dialect");
                dialect = v.parse().unwrap_or_else(|e: String| usage(&e));
            }
            "--pagination" => {
                let v = value("--pagination");
                let p: Pagination = v.parse().unwrap_or_else(|e: String| usage(&e));
                switches.push(Box::new(move |d| d.pagination(p)));
            }
            "--exclude-count" => switches.push(Box::new(|d| d.force_exclude_count(true))),
            "--page-size" => {
                let n: usize = number("--page-size", &value("--page-size"));
                switches.push(Box::new(move |d| d.page_size(n)));
            }
            "--max-page-size" => {
                let n: usize = number("--max-page-size", &value("--max-page-size"));
                switches.push(Box::new(move |d| d.max_page_size((n > 0).then_some(n))));
            }
            "--sideload" => switches.push(Box::new(|d| d.sideloading(true))),
            "--no-sideload" => switches.push(Box::new(|d| d.sideloading(false))),
            "--omit-empty-links" => switches.push(Box::new(|d| d.omit_empty_links(true))),
            "--no-omit-empty-links" => switches.push(Box::new(|d| d.omit_empty_links(false))),
            "--defer" => deferred.get_or_insert_with(Vec::new).push(value("--defer")),
            "--no-defer" => deferred = Some(Vec::new()),
            "--extra-field-every" => {
                let n: usize = number("--extra-field-every", &value("--extra-field-every"));
                switches.push(Box::new(move |d| d.extra_field_every(n)));
            }
            "--missing-field-every" => {
                let n: usize = number("--missing-field-every", &value("--missing-field-every"));
                switches.push(Box::new(move |d| d.missing_field_every(n)));
            }
            "--missing-field" => missing.push(value("--missing-field")),
            "--undecodable-writes" => switches.push(Box::new(|d| d.undecodable_writes(true))),
            "--omit-count" => knobs.omit_count = true,
            "--omit-next" => knobs.omit_next = true,
            "--omit-meta" => knobs.omit_meta = true,
            "--ignore-offset" => knobs.ignore_offset = true,
            "--latency-ms" => knobs.latency_ms = number("--latency-ms", &value("--latency-ms")),
            "--bandwidth" => {
                let n: u64 = number("--bandwidth", &value("--bandwidth"));
                if n == 0 {
                    usage("--bandwidth: give a rate above 0 bytes per second");
                }
                opts = opts.bandwidth(Some(n));
            }
            "--no-compression" => opts = opts.compression(false),
            "-h" | "--help" => usage("Runs the stand-in BrainSTEM server on 127.0.0.1."),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    for switch in switches {
        dialect = switch(dialect);
    }
    if let Some(list) = deferred {
        dialect = dialect.deferred_fields(list);
    }
    if !missing.is_empty() {
        dialect = dialect.missing_fields(missing);
    }
    if let Err(e) = dialect.check() {
        usage(&e);
    }
    opts = opts.dialect(dialect).knobs(knobs);
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
