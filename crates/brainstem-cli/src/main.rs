//! `brainstem`: the BrainSTEM command-line tool.
//!
//! Everything the official Python tool's `brainstem` command does, with the
//! same flags, plus checks before sending: `--data` must fit the model's typed
//! create or patch shape, `--filters` / `--sort` / `--include` must name what
//! the model has. Exit codes: 0 success, 1 the API refused, 2 usage or
//! validation error (nothing was sent), 3 `check-schema` found schema drift.
//! `schema diff OLD NEW` compares two spec files in terms of the generated
//! Rust API (exit 1: a breaking change). After a command that read answers,
//! one line on standard error warns of schema drift in them.

mod args;
#[cfg(feature = "export")]
mod export;
mod output;
mod query;
#[cfg(feature = "mirror")]
mod sync;

use std::io::Read;
use std::process::ExitCode;

use brainstem::client::{Client, ClientBuilder, LoginOptions, Saved};
use brainstem::meta::ModelMeta;
use brainstem::query::ListQuery;
use brainstem::validate::Validate;
use brainstem::{Model, ModelVisitor, Portal, RawJson};
use clap::{CommandFactory, Parser};
use futures::StreamExt;
use futures::future::LocalBoxFuture;
use serde_json::{Value, json};

use args::{
    Cli, Command, DeleteArgs, DiffArgs, Format, Global, LoadArgs, SaveArgs, SchemaArgs,
    SchemaCommand,
};
use output::Output;

/// A failure, with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    code: u8,
    message: String,
}

impl CliError {
    /// A usage or validation error: exit code 2, nothing was sent.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: 2,
            message: message.into(),
        }
    }
}

impl From<brainstem::client::Error> for CliError {
    fn from(e: brainstem::client::Error) -> Self {
        use brainstem::client::Error as E;
        let code = match &e {
            E::InvalidInput(_) | E::Config(_) | E::InsecureUrl { .. } => 2,
            _ => 1,
        };
        CliError {
            code,
            message: e.to_string(),
        }
    }
}

impl CliError {
    /// A failed write, with the answer printed first when the server applied
    /// the change but its answer could not be decoded (so the user sees what
    /// was stored and knows not to run the command again).
    fn from_write(e: brainstem::client::Error, out: &mut Output) -> Self {
        if let brainstem::client::Error::AppliedUndecodable(a) = &e {
            let _ = out.message(&String::from_utf8_lossy(&a.body));
        }
        CliError::from(e)
    }
}

/// An undecoded record, for output: its JSON as received (with a warning on
/// standard error, so nothing the server sent is hidden).
fn undecoded_json(u: &brainstem::client::UndecodedRecord) -> RawJson {
    eprintln!("warning: {u}; it is printed as received");
    RawJson::new(u.raw.clone())
        .unwrap_or_else(|_| RawJson::from_value(&Value::String(u.raw.clone())))
}

impl From<brainstem::InvalidInput> for CliError {
    fn from(e: brainstem::InvalidInput) -> Self {
        CliError::usage(e.to_string())
    }
}

/// The exit status of `check-schema` when it found drift.
const DRIFT_FOUND: u8 = 3;

/// The exit status of a command whose reader went away (`brainstem load
/// session --all | head`): the command stops quietly and succeeds, as other
/// Unix tools do.
const READER_GONE: u8 = 0;

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return CliError {
                code: READER_GONE,
                message: String::new(),
            };
        }
        CliError {
            code: 1,
            message: format!("cannot write the output: {e}"),
        }
    }
}

fn main() -> ExitCode {
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Err(message) = args::check_utf8(&raw) {
        eprintln!("error: {message}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse_from(args::normalize_args(raw));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    // `check-schema` prints the whole report instead of the warning
    let check = matches!(cli.command, Command::CheckSchema(_));
    let result = rt.block_on(run(cli));
    if !check {
        warn_drift();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.code == READER_GONE => ExitCode::SUCCESS,
        Err(e) => {
            if !e.message.is_empty() {
                eprintln!("error: {}", e.message);
            }
            ExitCode::from(e.code)
        }
    }
}

/// How a `--format` value is spelled on the command line.
fn format_name(f: Format) -> String {
    use clap::ValueEnum;
    f.to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// `brainstem schema diff OLD NEW`: every change of the generated Rust API,
/// as text (one per line) or Markdown; exit 1 when one is breaking, 2 when a
/// file cannot be read or is not a spec.
fn schema_diff(a: &DiffArgs, format: Option<Format>, out: &mut Output) -> Result<(), CliError> {
    let read = |path: &std::path::Path| -> Result<Value, CliError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
        serde_json::from_str(&text)
            .map_err(|e| CliError::usage(format!("{} is not JSON: {e}", path.display())))
    };
    let (old, new) = (read(&a.old)?, read(&a.new)?);
    let diff = brainstem_codegen::diff::diff(&old, &new).map_err(|e| {
        let path = match e.side {
            brainstem_codegen::diff::Side::Old => &a.old,
            brainstem_codegen::diff::Side::New => &a.new,
        };
        CliError::usage(format!(
            "{} is not a spec the generator accepts: {}",
            path.display(),
            e.message
        ))
    })?;
    if format == Some(Format::Markdown) {
        out.message(diff.markdown().trim_end())?;
    } else if diff.changes.is_empty() {
        out.message("no changes to the generated API")?;
    } else {
        out.message(diff.to_string().trim_end())?;
    }
    let breaking = diff.breaking().count();
    if breaking > 0 {
        return Err(CliError {
            code: 1,
            message: format!("{breaking} of {} changes are breaking", diff.changes.len()),
        });
    }
    Ok(())
}

fn model_meta(name: &str) -> Result<&'static ModelMeta, CliError> {
    ModelMeta::find(name).ok_or_else(|| {
        let mut names: Vec<&str> = brainstem::MODELS.iter().map(|m| m.name).collect();
        names.sort_unstable();
        CliError::usage(format!(
            "unknown model {name:?}; models: {}",
            names.join(", ")
        ))
    })
}

/// The client of this run, once a command made one (for the drift warning).
static CLIENT: std::sync::OnceLock<Client> = std::sync::OnceLock::new();

fn client(global: &Global) -> Result<Client, CliError> {
    let mut b = ClientBuilder::new().env();
    if let Some(u) = &global.url {
        b = b.base_url(u);
    }
    if let Some(t) = &global.token {
        b = b.token(t.clone());
    }
    let c = b.build()?;
    let _ = CLIENT.set(c.clone());
    Ok(c)
}

/// One line on standard error when the answers this run read carried what
/// the pinned schema does not describe.
fn warn_drift() {
    if let Some(c) = CLIENT.get() {
        let d = c.drift();
        if !d.is_empty() {
            eprintln!("warning: {}", d.summary());
        }
    }
}

/// Whether the command is `export` (which takes parquet, csv or arrow).
#[cfg(feature = "export")]
fn is_export(c: &Command) -> bool {
    matches!(c, Command::Export(_))
}

/// Whether the command is `export` (not compiled in).
#[cfg(not(feature = "export"))]
fn is_export(_: &Command) -> bool {
    false
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let diff = matches!(
        cli.command,
        Command::Schema(SchemaArgs {
            command: Some(SchemaCommand::Diff(_)),
            ..
        })
    );
    let check = matches!(cli.command, Command::CheckSchema(_));
    let export = is_export(&cli.command);
    match cli.global.format {
        Some(
            f @ (Format::Json | Format::Ndjson | Format::Table | Format::Text | Format::Markdown),
        ) if export => {
            return Err(CliError::usage(format!(
                "`export` writes parquet, csv or arrow, not {}",
                format_name(f)
            )));
        }
        Some(f @ (Format::Parquet | Format::Arrow)) if !export => {
            return Err(CliError::usage(format!(
                "--format {} applies to `export` only",
                format_name(f)
            )));
        }
        Some(f @ (Format::Ndjson | Format::Table | Format::Csv | Format::Markdown)) if check => {
            return Err(CliError::usage(format!(
                "`check-schema` prints text or json, not {}",
                format_name(f)
            )));
        }
        Some(Format::Text) if !diff && !check => {
            return Err(CliError::usage(
                "--format text applies to `schema diff` and `check-schema` only",
            ));
        }
        Some(f @ Format::Markdown) if !diff => {
            return Err(CliError::usage(format!(
                "--format {} applies to `schema diff` only",
                format_name(f)
            )));
        }
        Some(f @ (Format::Json | Format::Ndjson | Format::Table | Format::Csv)) if diff => {
            return Err(CliError::usage(format!(
                "`schema diff` prints text or markdown, not {}",
                format_name(f)
            )));
        }
        _ => {}
    }
    let mut out = Output::new(cli.global.format);
    match cli.command {
        Command::Models => {
            let models: Vec<Value> = brainstem::MODELS
                .iter()
                .map(|m| {
                    json!({
                        "model": m.name, "app": m.app, "type": m.schema,
                        "approval_gated": m.approval.is_some(), "description": m.description,
                    })
                })
                .collect();
            match out.format() {
                // text, markdown, parquet and arrow were refused above
                Format::Json
                | Format::Text
                | Format::Markdown
                | Format::Parquet
                | Format::Arrow => out.document(&json!({ "models": models }))?,
                Format::Ndjson => {
                    for m in &models {
                        out.ndjson_value(m)?;
                    }
                }
                Format::Table | Format::Csv => {
                    const COLUMNS: [&str; 5] =
                        ["model", "app", "type", "approval_gated", "description"];
                    let rows: Vec<Vec<Value>> = models
                        .iter()
                        .map(|m| COLUMNS.iter().map(|c| m[*c].clone()).collect())
                        .collect();
                    out.rows(&COLUMNS, &rows)?;
                }
            }
        }
        Command::Describe { model } => {
            let meta = model_meta(&model)?;
            out.document(&describe(meta))?;
        }
        Command::Schema(SchemaArgs {
            command: Some(SchemaCommand::Diff(a)),
            ..
        }) => schema_diff(&a, cli.global.format, &mut out)?,
        Command::Schema(SchemaArgs { model, .. }) => {
            let model = model.unwrap_or_default();
            let meta = model_meta(&model)?;
            let component = brainstem::schema::component(meta.schema)
                .ok_or_else(|| CliError::usage(format!("no schema for model {model:?}")))?;
            out.document(&component.document())?;
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "brainstem",
                &mut std::io::stdout(),
            );
        }
        Command::CheckSchema(a) => {
            let c = client(&cli.global)?;
            let report = match a.portal {
                Some(p) => c.check_schema_on(p.into()).await?,
                None => c.check_schema().await?,
            };
            if cli.global.format == Some(Format::Json) {
                out.document(&report.to_json())?;
            } else {
                out.message(report.to_string().trim_end())?;
            }
            if !report.is_empty() {
                // the report is the message
                return Err(CliError {
                    code: DRIFT_FOUND,
                    message: String::new(),
                });
            }
        }
        Command::Mock(a) => mock(&a).await?,
        #[cfg(feature = "export")]
        Command::Export(a) => {
            let meta = model_meta(&a.model)?;
            let c = client(&cli.global)?;
            brainstem::models::with_model(
                meta.name,
                export::ExportCmd {
                    client: &c,
                    args: &a,
                    format: cli.global.format,
                },
            )
            .expect("model checked above")
            .await?;
        }
        #[cfg(feature = "mirror")]
        Command::Sync(a) => sync::sync(&a, &cli.global).await?,
        Command::Login => {
            let c = client(&cli.global)?;
            let path = c
                .login(LoginOptions::new().headless(cli.global.headless))
                .await?;
            match path {
                Some(p) => out.message(&format!("Logged in. Token cached at {}", p.display()))?,
                None => out.message("Logged in.")?,
            }
        }
        Command::Logout => {
            let c = client(&cli.global)?;
            if c.logout()? {
                out.message(&format!("Logged out of {}.", c.base_url()))?;
            } else {
                out.message("No cached token found.")?;
            }
        }
        Command::Load(a) => {
            let meta = model_meta(&a.model)?;
            let c = client(&cli.global)?;
            brainstem::models::with_model(
                meta.name,
                LoadCmd {
                    client: &c,
                    args: &a,
                    out: &mut out,
                },
            )
            .expect("model checked above")
            .await?;
        }
        Command::Save(a) => {
            let meta = model_meta(&a.model)?;
            let data = read_data(&a.data)?;
            let c = client(&cli.global)?;
            brainstem::models::with_model(
                meta.name,
                SaveCmd {
                    client: &c,
                    args: &a,
                    data,
                    out: &mut out,
                },
            )
            .expect("model checked above")
            .await?;
        }
        Command::Delete(a) => {
            let meta = model_meta(&a.model)?;
            let c = client(&cli.global)?;
            brainstem::models::with_model(
                meta.name,
                DeleteCmd {
                    client: &c,
                    args: &a,
                    out: &mut out,
                },
            )
            .expect("model checked above")
            .await?;
        }
    }
    Ok(())
}

/// The server options `brainstem mock` asks for: the preset, then each
/// single switch on top of it; the fault knobs and the network.
fn mock_options(a: &args::MockArgs) -> Result<brainstem_mock::MockOptions, CliError> {
    use brainstem_mock::{Dialect, ListKnobs, MockOptions, Pagination};
    let mut d: Dialect = a.dialect.parse().map_err(CliError::usage)?;
    if let Some(p) = &a.pagination {
        d = d.pagination(p.parse::<Pagination>().map_err(CliError::usage)?);
    }
    if a.exclude_count {
        d = d.force_exclude_count(true);
    }
    if let Some(n) = a.page_size {
        d = d.page_size(n);
    }
    if let Some(n) = a.max_page_size {
        d = d.max_page_size((n > 0).then_some(n));
    }
    if a.sideload || a.no_sideload {
        d = d.sideloading(a.sideload);
    }
    if a.omit_empty_links || a.no_omit_empty_links {
        d = d.omit_empty_links(a.omit_empty_links);
    }
    if a.no_defer || !a.defer.is_empty() {
        d = d.deferred_fields(a.defer.iter().cloned());
    }
    if let Some(n) = a.extra_field_every {
        d = d.extra_field_every(n);
    }
    if let Some(n) = a.missing_field_every {
        d = d.missing_field_every(n);
    }
    if !a.missing_field.is_empty() {
        d = d.missing_fields(a.missing_field.iter().cloned());
    }
    if a.undecodable_writes {
        d = d.undecodable_writes(true);
    }
    d.check().map_err(CliError::usage)?;
    Ok(MockOptions::new()
        .port(a.port)
        .dialect(d)
        .knobs(ListKnobs {
            omit_count: a.omit_count,
            omit_next: a.omit_next,
            omit_meta: a.omit_meta,
            ignore_offset: a.ignore_offset,
            sideload: false,
            latency_ms: a.latency_ms,
        })
        .bandwidth(a.bandwidth)
        .compression(!a.no_compression))
}

async fn mock(a: &args::MockArgs) -> Result<(), CliError> {
    let port = a.port;
    let srv = brainstem_mock::MockServer::start_with(mock_options(a)?)
        .await
        .map_err(|e| CliError {
            code: 1,
            message: format!("cannot start the stand-in server on 127.0.0.1:{port}: {e}"),
        })?;
    println!("BRAINSTEM_URL={}", srv.url());
    println!("BRAINSTEM_TOKEN={}", srv.token());
    println!("BRAINSTEM_READONLY_TOKEN={}", srv.readonly_token());
    eprintln!(
        "Serving the stand-in BrainSTEM server ({} dialect); press Ctrl-C to stop.",
        a.dialect
    );
    let _ = tokio::signal::ctrl_c().await;
    srv.shutdown().await;
    Ok(())
}

fn describe(meta: &ModelMeta) -> Value {
    let fields: Vec<Value> = meta
        .fields
        .iter()
        .map(|f| {
            json!({
                "name": f.name,
                "kind": format!("{:?}", f.kind),
                "list": f.many,
                "read_only": f.read_only,
                "nullable": f.nullable,
                "required_on_create": f.create_required,
                "unique": f.unique,
                "related": f.related,
                "choices": f.choices,
            })
        })
        .collect();
    let ops: Vec<Value> = meta
        .ops
        .iter()
        .map(|o| {
            json!({"operation": o.id(), "method": o.method().as_str(), "path": o.path(),
            "portals": o.portals().iter().map(|p| p.as_str()).collect::<Vec<_>>()})
        })
        .collect();
    json!({
        "model": meta.name,
        "app": meta.app,
        "type": meta.schema,
        "description": meta.description,
        "envelope": {"one": meta.one, "many": meta.many},
        "approval": meta.approval.as_ref().map(|a| json!({"model": a.model, "one": a.one, "many": a.many})),
        "fields": fields,
        "filters": query::valid_filters(meta),
        "sort": meta.fields.iter().filter(|f| f.sortable).map(|f| f.name).collect::<Vec<_>>(),
        "include": meta.fields.iter().filter(|f| f.includable).map(|f| f.name).collect::<Vec<_>>(),
        "operations": ops,
    })
}

/// `--data`: inline JSON, `@file`, or `-` for standard input.
fn read_data(arg: &str) -> Result<Value, CliError> {
    let text = if arg == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| CliError::usage(format!("cannot read --data from standard input: {e}")))?;
        s
    } else if let Some(path) = arg.strip_prefix('@') {
        std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("cannot read --data file {path}: {e}")))?
    } else {
        arg.to_string()
    };
    serde_json::from_str(&text)
        .map_err(|e| CliError::usage(format!("--data is not valid JSON: {e}")))
}

fn parse_id<M: Model>(s: &str) -> Result<M::Id, CliError> {
    s.parse::<M::Id>().map_err(|_| {
        CliError::usage(format!(
            "--id {s:?} is not a valid {} id ({})",
            M::META.name,
            match M::META.id {
                brainstem::meta::IdKind::Uuid => "a UUID",
                brainstem::meta::IdKind::Integer => "an integer",
            }
        ))
    })
}

/// A record's exact JSON text.
fn to_raw<T: serde::Serialize>(v: &T) -> RawJson {
    RawJson::from_serialize(v).unwrap_or_else(|e| {
        eprintln!("warning: a record could not be written as JSON: {e}");
        RawJson::null()
    })
}

struct LoadCmd<'a> {
    client: &'a Client,
    args: &'a LoadArgs,
    out: &'a mut Output,
}

impl<'a> ModelVisitor for LoadCmd<'a> {
    type Output = LocalBoxFuture<'a, Result<(), CliError>>;

    fn visit<M: Model>(self) -> Self::Output {
        Box::pin(async move {
            let LoadCmd { client, args, out } = self;
            let meta = M::META;
            let portal: Portal = args.portal.into();
            let api = client.api::<M>().portal(portal);
            if let Some(id) = &args.id {
                if args.all || !args.filters.is_empty() || !args.sort.is_empty() {
                    return Err(CliError::usage(
                        "--id loads one record: it cannot be combined with --all, --filters or --sort",
                    ));
                }
                let id = parse_id::<M>(id)?;
                let mut get = api.get(id);
                for i in &args.include {
                    let name = query::parse_include(meta, i)?;
                    let inc: M::Include = name
                        .parse()
                        .map_err(|e| CliError::usage(format!("--include: {e}")))?;
                    get = get.include(inc);
                }
                let rec = get.send().await?;
                out.one(meta, meta.one, to_raw(&rec))?;
                return Ok(());
            }
            let mut q = ListQuery::new();
            for f in &args.filters {
                q.filters.push(query::parse_filter(meta, f)?);
            }
            for s in &args.sort {
                q.sort.push(query::parse_sort(meta, s)?);
            }
            for i in &args.include {
                q.include.push(query::parse_include(meta, i)?);
            }
            q.limit = args.limit;
            q.offset = args.offset;
            q.check()?;
            let req = api.list().query_unchecked(q);
            if !args.all {
                let page = req.page().await?;
                let records = page
                    .items()
                    .into_iter()
                    .map(|i| i.map_or_else(undecoded_json, to_raw))
                    .collect();
                out.page(meta, meta.many, records, page.total())?;
                return Ok(());
            }
            let bar =
                crate::output::progress_bar("{spinner} {pos}/{len} records {wide_bar} {elapsed}");
            let streaming = out.format() == Format::Ndjson;
            let mut all = Vec::new();
            let mut pages = req.pages();
            while let Some(page) = pages.next().await {
                let page = page?;
                if let Some(t) = page.total() {
                    bar.set_length(t);
                }
                bar.inc((page.records.len() + page.undecoded.len()) as u64);
                for item in page.items() {
                    match item {
                        // as received, even what a JSON value cannot hold
                        Ok(r) if streaming => out.ndjson(&to_raw(r))?,
                        Err(u) if streaming => out.ndjson(&undecoded_json(u))?,
                        Ok(r) => all.push(to_raw(r)),
                        Err(u) => all.push(undecoded_json(u)),
                    }
                }
            }
            bar.finish_and_clear();
            if !streaming {
                out.many(meta, meta.many, all)?;
            }
            Ok(())
        })
    }
}

struct SaveCmd<'a> {
    client: &'a Client,
    args: &'a SaveArgs,
    data: Value,
    out: &'a mut Output,
}

/// Refuse fields the model does not have (a typo would otherwise be dropped
/// silently); skip read-only ones, as the server does, with a note.
fn check_keys(meta: &ModelMeta, data: &Value) -> Result<Value, CliError> {
    let Some(obj) = data.as_object() else {
        return Err(CliError::usage(format!(
            "--data must be a JSON object with the fields of a {}",
            meta.name
        )));
    };
    let payload_fields: Vec<&str> = meta
        .details
        .iter()
        .flat_map(|d| [d.tag, d.content])
        .collect();
    let mut kept = serde_json::Map::new();
    let mut unknown = Vec::new();
    for (k, v) in obj {
        match meta.field(k) {
            Some(f) if f.read_only => {
                eprintln!("note: `{k}` is read-only and was not sent");
            }
            Some(_) => {
                kept.insert(k.clone(), v.clone());
            }
            None if payload_fields.contains(&k.as_str()) => {
                kept.insert(k.clone(), v.clone());
            }
            None => unknown.push(k.clone()),
        }
    }
    if !unknown.is_empty() {
        let writable: Vec<&str> = meta
            .fields
            .iter()
            .filter(|f| !f.read_only)
            .map(|f| f.name)
            .collect();
        return Err(CliError::usage(format!(
            "{} has no field {}; writable fields: {}",
            meta.name,
            unknown
                .iter()
                .map(|u| format!("`{u}`"))
                .collect::<Vec<_>>()
                .join(", "),
            writable.join(", ")
        )));
    }
    Ok(Value::Object(kept))
}

/// Decode `--data` into a typed shape, naming the field that does not fit.
fn typed<T: serde::de::DeserializeOwned>(
    meta: &ModelMeta,
    data: &Value,
    what: &str,
) -> Result<T, CliError> {
    let bytes = serde_json::to_vec(data).unwrap_or_default();
    brainstem::decode::<T>(&bytes).map_err(|e| {
        CliError::usage(format!(
            "--data does not fit the {what} shape of {}: `{}`: {}; nothing was sent",
            meta.name,
            if e.path.is_empty() || e.path == "." {
                "(body)"
            } else {
                &e.path
            },
            e.message
        ))
    })
}

impl<'a> ModelVisitor for SaveCmd<'a> {
    type Output = LocalBoxFuture<'a, Result<(), CliError>>;

    fn visit<M: Model>(self) -> Self::Output {
        Box::pin(async move {
            let SaveCmd {
                client,
                args,
                data,
                out,
            } = self;
            let meta = M::META;
            let data = check_keys(meta, &data)?;
            let api = client.api::<M>().portal(args.portal.into());
            let saved = match &args.id {
                Some(id) => {
                    let id = parse_id::<M>(id)?;
                    let patch: M::Patch = typed(meta, &data, "patch")?;
                    patch.validate()?;
                    api.update(id, &patch).await
                }
                None => {
                    let new: M::New = typed(meta, &data, "create")?;
                    new.validate()?;
                    api.create(&new).await
                }
            };
            let saved = saved.map_err(|e| CliError::from_write(e, out))?;
            match saved {
                Saved::Applied(rec) => out.one(meta, meta.one, to_raw(&rec))?,
                Saved::PendingApproval(a) => {
                    let key = meta.approval.as_ref().map(|a| a.one).unwrap_or(meta.one);
                    out.one(meta, key, to_raw(&a))?;
                    eprintln!(
                        "note: {} changes go through approval; the change is pending",
                        meta.name
                    );
                }
            }
            Ok(())
        })
    }
}

struct DeleteCmd<'a> {
    client: &'a Client,
    args: &'a DeleteArgs,
    out: &'a mut Output,
}

impl<'a> ModelVisitor for DeleteCmd<'a> {
    type Output = LocalBoxFuture<'a, Result<(), CliError>>;

    fn visit<M: Model>(self) -> Self::Output {
        Box::pin(async move {
            let DeleteCmd { client, args, out } = self;
            let id = parse_id::<M>(&args.id)?;
            client
                .api::<M>()
                .portal(args.portal.into())
                .delete(id)
                .await
                .map_err(|e| CliError::from_write(e, out))?;
            out.message("Deleted successfully.")?;
            Ok(())
        })
    }
}
