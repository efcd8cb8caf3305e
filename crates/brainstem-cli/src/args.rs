//! Command-line arguments: the official Python tool's commands and flags,
//! plus the ones only a typed tool can offer, and the two passes over the
//! raw command line before clap reads it: [`check_utf8`] refuses an argument
//! that is not valid UTF-8, [`normalize_args`] lets list flags take values
//! that start with `-`.

use std::ffi::{OsStr, OsString};
use std::sync::LazyLock;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// What `--help` shows after the options of `brainstem` itself.
const AFTER_HELP: &str = "\
Environment:
  BRAINSTEM_API_TOKEN, BRAINSTEM_TOKEN  API token (when --token is not given)
  BRAINSTEM_URL                         server (when --url is not given)

Exit codes:
  0  success
  1  the API refused, or the server could not be reached
  2  usage or validation error (nothing was sent)
  3  `check-schema` found schema drift

After a command that read answers from the server, one line on standard
error warns when they carried what the pinned schema does not describe
(`brainstem check-schema` shows everything).

`brainstem describe MODEL` lists the filters, sort keys and includes a model accepts.
`brainstem schema diff OLD NEW` lists what a spec change changes in the Rust API.";

/// What `-V` prints after the name: this tool's version and the version of
/// the BrainSTEM schema its SDK was generated from.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} (BrainSTEM schema {})",
        env!("CARGO_PKG_VERSION"),
        brainstem::SCHEMA_VERSION
    )
});

/// What `--version` prints after the name: [`VERSION`] and the revision of
/// the API docs the schema was drafted from.
static LONG_VERSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} (BrainSTEM schema {}, docs revision {})",
        env!("CARGO_PKG_VERSION"),
        brainstem::SCHEMA_VERSION,
        brainstem::DOCS_REVISION
    )
});

/// BrainSTEM from the command line: load, save and delete records of any
/// model, checked against the API schema before anything is sent.
#[derive(Debug, Parser)]
#[command(
    name = "brainstem",
    version = VERSION.as_str(),
    long_version = LONG_VERSION.as_str(),
    about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args, Clone)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// API token [default: $BRAINSTEM_API_TOKEN, $BRAINSTEM_TOKEN, or the cached token].
    #[arg(long, global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// Base URL of the BrainSTEM server [default: $BRAINSTEM_URL or https://www.brainstem.org/].
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// Output format of records and `models` (`describe` and `schema` print JSON;
    /// `schema diff` takes text or markdown, `check-schema` text or json, `export` parquet, csv or
    /// arrow) [default: pretty JSON on a terminal, compact JSON when piped; text for `schema diff`
    /// and `check-schema`].
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,
    /// Print the verification URL and code instead of opening a browser (`login` only).
    #[arg(long, global = true)]
    pub headless: bool,
}

/// How records are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The API's envelope as JSON.
    Json,
    /// One JSON record per line, printed as pages arrive.
    Ndjson,
    /// An aligned text table of the scalar fields (long cells cut, no color).
    Table,
    /// Comma-separated values with a header line, one column per table column of
    /// `brainstem::table` (lists joined with `;`, objects as JSON text).
    Csv,
    /// A Parquet file, Zstd-compressed (`export` only).
    Parquet,
    /// An Arrow IPC file (`export` only).
    Arrow,
    /// One change per line (`schema diff` and `check-schema` only; their default).
    Text,
    /// Release notes in Markdown (`schema diff` only).
    Markdown,
}

/// `private` or `public`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PortalArg {
    /// Your own data (needs a token).
    Private,
    /// Data made public by its owners (read-only).
    Public,
}

impl From<PortalArg> for brainstem::Portal {
    fn from(p: PortalArg) -> Self {
        match p {
            PortalArg::Private => brainstem::Portal::Private,
            PortalArg::Public => brainstem::Portal::Public,
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in with the browser (device authorization) and cache the token.
    Login,
    /// Remove the cached token for the server.
    Logout,
    /// Load records of MODEL (a page, one record with --id, or every record with --all).
    Load(LoadArgs),
    /// Create a record (without --id) or change one (PATCH, with --id).
    Save(SaveArgs),
    /// Delete a record.
    Delete(DeleteArgs),
    /// List the models.
    Models,
    /// Show a model's fields, filters, sort keys, includes and operations.
    Describe {
        /// Model name (`session`, `dataacquisition`, ...; `brainstem models` lists them).
        model: String,
    },
    /// Print the spec's schema of a model's record (with every schema it refers to), or (`schema diff OLD NEW`) list
    /// what changes in the generated Rust API between two spec files.
    Schema(SchemaArgs),
    /// Fetch one record of every model readable on the portal and report what the server sends that
    /// the pinned schema does not describe (exit 3 when it finds any).
    #[command(name = "check-schema", after_help = CHECK_SCHEMA_AFTER_HELP)]
    CheckSchema(CheckSchemaArgs),
    /// Run the stand-in server on 127.0.0.1 until stopped.
    Mock(MockArgs),
    /// Write every record a query matches to a Parquet, CSV or Arrow file, page by page.
    #[cfg(feature = "export")]
    Export(crate::export::ExportArgs),
    /// Mirror every readable model (or the MODELs named) into a local SQLite file; a second run writes only what changed.
    #[cfg(feature = "mirror")]
    Sync(crate::sync::SyncArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell to write the script for.
        shell: clap_complete::Shell,
    },
}

/// What `brainstem check-schema` prints after its options.
const CHECK_SCHEMA_AFTER_HELP: &str = "\
The report names, per model, each unknown field, unknown enum value, unknown
details type, details mismatch, missing field, unknown envelope key, embedded
fallback and undecodable record, with how many sampled records showed it, and
the models that could not be fetched (with why). `--format json` prints it as
one JSON document: {\"drift\", \"schema_version\", \"summary\", \"entries\",
\"not_kept\", \"sampled\", \"failed\"}.

Exit codes:
  0  no drift (models that could not be fetched are listed, not counted)
  1  no model could be fetched (server down, token refused)
  2  usage error
  3  drift found";

/// `brainstem check-schema`: which portal to sample.
#[derive(Debug, Args)]
pub struct CheckSchemaArgs {
    /// Portal to sample [default: private with a token, public without].
    #[arg(long, value_enum)]
    pub portal: Option<PortalArg>,
}

/// `brainstem schema MODEL` or `brainstem schema diff OLD NEW`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SchemaArgs {
    /// Model name (`brainstem models` lists them).
    #[arg(required = true)]
    pub model: Option<String>,
    #[command(subcommand)]
    pub command: Option<SchemaCommand>,
}

/// What `brainstem schema diff` prints after its options.
const DIFF_AFTER_HELP: &str = "\
Each change names the generated Rust item (type, field, enum variant, filter,
sort or include key, loader method, operation) and is marked `breaking` (code
written against the OLD API may no longer compile or behave the same) or
`compatible`.

Exit codes:
  0  no breaking change
  1  at least one breaking change
  2  a file is unreadable or not a spec the generator accepts";

/// The `schema` subcommands.
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Compare two OpenAPI spec files and list every change of the generated
    /// Rust API, each marked breaking or compatible (exit 1 when any breaks).
    #[command(after_help = DIFF_AFTER_HELP)]
    Diff(DiffArgs),
}

/// `brainstem schema diff`: the two specs (the global --format picks `text` or `markdown`).
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The spec the current code was generated from.
    pub old: std::path::PathBuf,
    /// The edited or replacement spec.
    pub new: std::path::PathBuf,
}

/// `brainstem mock`: the port, the dialect the server answers in (a preset,
/// then single switches on top of it), the fault knobs and the network
/// (latency, bandwidth, compression).
#[derive(Debug, Args)]
pub struct MockArgs {
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Answer like the docs, like a dynamic-rest server (with or without
    /// counting), or with records that drifted from the docs.
    #[arg(long, default_value = "docs", value_parser = clap::builder::PossibleValuesParser::new(brainstem_mock::DIALECT_NAMES))]
    pub dialect: String,
    /// Pagination style: `limit-offset` (documented) or `page-number` (dynamic-rest).
    #[arg(long, value_parser = ["limit-offset", "page-number"])]
    pub pagination: Option<String>,
    /// Page-number lists never count (`more_pages` instead of totals).
    #[arg(long)]
    pub exclude_count: bool,
    /// Page size when a request names none.
    #[arg(long, value_name = "N")]
    pub page_size: Option<usize>,
    /// Largest page (0: no cap).
    #[arg(long, value_name = "N")]
    pub max_page_size: Option<usize>,
    /// Sideload included relations as top-level lists.
    #[arg(long, conflicts_with = "no_sideload")]
    pub sideload: bool,
    /// Embed included relations.
    #[arg(long)]
    pub no_sideload: bool,
    /// dynamic-rest's links: none for empty or included relations, no `links` key when none is left.
    #[arg(long, conflicts_with = "no_omit_empty_links")]
    pub omit_empty_links: bool,
    /// The documented links: every relation route on every record.
    #[arg(long)]
    pub no_omit_empty_links: bool,
    /// Defer a field (absent unless `include[]=field`); replaces the preset's list.
    #[arg(long, value_name = "MODEL.FIELD", conflicts_with = "no_defer")]
    pub defer: Vec<String>,
    /// Defer no field.
    #[arg(long)]
    pub no_defer: bool,
    /// Every N-th record carries an undocumented `x_server_note` field (0: none).
    #[arg(long, value_name = "N")]
    pub extra_field_every: Option<usize>,
    /// Every N-th record lacks the `--missing-field` fields (0: none).
    #[arg(long, value_name = "N")]
    pub missing_field_every: Option<usize>,
    /// A field drifted records lack; replaces the preset's list.
    #[arg(long, value_name = "MODEL.FIELD")]
    pub missing_field: Vec<String>,
    /// Fault: answer successful writes with a body a typed client cannot decode.
    #[arg(long)]
    pub undecodable_writes: bool,
    /// Fault: no `count` in lists.
    #[arg(long)]
    pub omit_count: bool,
    /// Fault: no `next` / `previous` in lists.
    #[arg(long)]
    pub omit_next: bool,
    /// Fault: no `meta` in lists.
    #[arg(long)]
    pub omit_meta: bool,
    /// Fault: ignore `offset` / `page` (every request gets the first page).
    #[arg(long)]
    pub ignore_offset: bool,
    /// Network: wait this many milliseconds before each answer.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Network: send each answer's body at this many bytes per second (the
    /// bytes on the wire, after compression).
    #[arg(long, value_name = "BYTES_PER_SEC", value_parser = clap::value_parser!(u64).range(1..))]
    pub bandwidth: Option<u64>,
    /// Network: never compress answers (by default gzip or brotli when the
    /// request's Accept-Encoding asks for it).
    #[arg(long)]
    pub no_compression: bool,
}

/// `brainstem load`: which records, and how many.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Model name (`session`, `project`, ...; `brainstem models` lists them).
    pub model: String,
    /// Portal: your own data, or data made public by its owners.
    #[arg(long, value_enum, default_value = "private")]
    pub portal: PortalArg,
    /// Id of one record (a UUID, or an integer for the few models with integer ids);
    /// --include may add relations.
    #[arg(long)]
    pub id: Option<String>,
    /// Filters `FIELD[.LOOKUP]=VALUE`, all of which must hold (`-FIELD...` negates;
    /// `in`/`range` take comma-separated values; `brainstem describe MODEL` lists them).
    #[arg(long, num_args = 1.., value_name = "FIELD.LOOKUP=VALUE")]
    pub filters: Vec<String>,
    /// Sort keys, the first one first; prefix with `-` for descending.
    #[arg(long, num_args = 1.., value_name = "[-]FIELD")]
    pub sort: Vec<String>,
    /// Relations to embed in each record instead of their ids.
    #[arg(long, num_args = 1.., value_name = "RELATION")]
    pub include: Vec<String>,
    /// Page size (the API's maximum is 100); with --all, the size of each request.
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// Records to skip before the page starts.
    #[arg(long, value_name = "N")]
    pub offset: Option<u64>,
    /// Follow pagination and load every record (NDJSON prints them as pages arrive).
    #[arg(long)]
    pub all: bool,
}

/// `brainstem save`: the record and its fields.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Model name (`brainstem models` lists them).
    pub model: String,
    /// Portal to write through.
    #[arg(long, value_enum, default_value = "private")]
    pub portal: PortalArg,
    /// Id of the record to change (omit to create).
    #[arg(long)]
    pub id: Option<String>,
    /// The fields as a JSON object, `@file.json`, or `-` for standard input; checked
    /// against the model's create (or, with --id, patch) shape before sending.
    #[arg(long, allow_hyphen_values = true, value_name = "JSON|@FILE|-")]
    pub data: String,
}

/// `brainstem delete`: the record.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Model name (`brainstem models` lists them).
    pub model: String,
    /// Portal to write through.
    #[arg(long, value_enum, default_value = "private")]
    pub portal: PortalArg,
    /// Id of the record to delete.
    #[arg(long)]
    pub id: String,
}

/// The list flags whose values may start with `-` (`--sort -name`,
/// `--filters -name=x`), as the Python tool accepts them.
const LIST_FLAGS: [&str; 3] = ["--sort", "--filters", "--include"];

/// Rewrite `--sort -name date_time` into `--sort=-name --sort=date_time` so a
/// leading `-` is read as a value of the list flag, not as an unknown option;
/// other arguments pass as they are. Nothing is decoded: an argument that is
/// not UTF-8 passes byte for byte (for [`check_utf8`] to name).
pub fn normalize_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out: Vec<OsString> = Vec::new();
    // the list flag being read, and whether it has received a value yet
    let mut list: Option<(&str, bool)> = None;
    for a in args {
        if a.as_encoded_bytes().starts_with(b"--") {
            if let Some((flag, false)) = list {
                out.push(flag.into());
            }
            list = LIST_FLAGS
                .iter()
                .copied()
                .find(|f| a.to_str() == Some(f))
                .map(|f| (f, false));
            if list.is_none() {
                out.push(a);
            }
        } else if let Some((flag, _)) = list {
            let mut value = OsString::from(format!("{flag}="));
            value.push(&a);
            out.push(value);
            list = Some((flag, true));
        } else {
            out.push(a);
        }
    }
    if let Some((flag, false)) = list {
        out.push(flag.into());
    }
    out
}

/// Refuse a command line with an argument that is not valid UTF-8 (the
/// program name aside), naming the option or positional argument it is the
/// value of: such an argument would otherwise be sent with its bad bytes
/// replaced by U+FFFD, a value the user never typed.
///
/// The argument is named by clap itself: the command line is parsed once
/// more with every value read as an `OsString` and nothing required, and the
/// argument whose raw value is the bad one is reported. Where that parse
/// fails too (a misspelt subcommand or option), the argument is named by its
/// position.
pub fn check_utf8(args: &[OsString]) -> Result<(), String> {
    let Some((position, bad)) = args
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, a)| a.to_str().is_none())
    else {
        return Ok(());
    };
    let command = lenient(Cli::command());
    let name = command
        .clone()
        .try_get_matches_from(normalize_args(args.iter().cloned()))
        .ok()
        .and_then(|m| name_of(&command, &m, bad))
        .unwrap_or_else(|| format!("argument {position}"));
    Err(format!(
        "{name} is not valid UTF-8: {bad:?}; nothing was sent"
    ))
}

/// The command with every value read as raw bytes and nothing required, so
/// any command line whose only fault is its encoding parses.
fn lenient(command: clap::Command) -> clap::Command {
    command
        .subcommand_required(false)
        .arg_required_else_help(false)
        .mut_args(|a| {
            let takes_values = a.get_action().takes_values();
            let a = a.required(false);
            if takes_values {
                a.value_parser(clap::value_parser!(OsString))
            } else {
                a
            }
        })
        .mut_subcommands(lenient)
}

/// The argument (`--filters`, `<MODEL>`) one of whose values is `bad` (or
/// is in `bad`, given as `--filters=VALUE`), searched through the
/// subcommands that were parsed.
fn name_of(command: &clap::Command, matches: &clap::ArgMatches, bad: &OsStr) -> Option<String> {
    for arg in command.get_arguments() {
        let Ok(Some(mut values)) = matches.try_get_raw(arg.get_id().as_str()) else {
            continue;
        };
        // the value alone, or `--long=value` as one argument
        let joined = |v: &OsStr| {
            arg.get_long().is_some_and(|long| {
                let mut whole = OsString::from(format!("--{long}="));
                whole.push(v);
                whole == bad
            })
        };
        if values.any(|v| v == bad || joined(v)) {
            return Some(match arg.get_long() {
                Some(long) => format!("the value of --{long}"),
                None => format!(
                    "<{}>",
                    arg.get_value_names()
                        .and_then(|n| n.first())
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase())
                ),
            });
        }
    }
    let (name, sub) = matches.subcommand()?;
    name_of(command.find_subcommand(name)?, sub, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_command_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Every command and every argument says what it is for.
    #[test]
    fn help_texts_are_complete() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let builtin = matches!(a.get_id().as_str(), "help" | "version");
                if !builtin && a.get_help().is_none_or(|h| h.to_string().trim().is_empty()) {
                    missing.push(format!("{path} {}", a.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                let path = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() {
                    missing.push(path.clone());
                }
                walk(sub, &path, missing);
            }
        }
        let mut missing = Vec::new();
        let mut cmd = Cli::command();
        cmd.build();
        assert!(cmd.get_about().is_some());
        walk(&cmd, "brainstem", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:?}");
        let help = cmd.render_long_help().to_string();
        for needed in [
            "BRAINSTEM_URL",
            "BRAINSTEM_API_TOKEN",
            "Exit codes",
            "Global options",
        ] {
            assert!(help.contains(needed), "{needed} in:\n{help}");
        }
    }

    #[test]
    fn list_flags_take_values_that_start_with_a_dash() {
        assert_eq!(
            normalize_args(os(&[
                "brainstem",
                "load",
                "x",
                "--sort",
                "-name",
                "id",
                "--all"
            ])),
            os(&[
                "brainstem",
                "load",
                "x",
                "--sort=-name",
                "--sort=id",
                "--all"
            ])
        );
        // a list flag with no value is left for clap to refuse
        assert_eq!(
            normalize_args(os(&["brainstem", "load", "x", "--filters"])),
            os(&["brainstem", "load", "x", "--filters"])
        );
    }

    #[test]
    fn valid_utf8_passes() {
        assert_eq!(
            check_utf8(&os(&[
                "brainstem",
                "load",
                "session",
                "--filters",
                "name=ü"
            ])),
            Ok(())
        );
    }

    #[cfg(unix)]
    #[test]
    fn invalid_utf8_is_refused_naming_the_argument() {
        use std::os::unix::ffi::OsStrExt;
        let bad = |bytes: &[u8]| OsStr::from_bytes(bytes).to_os_string();
        let check = |args: Vec<OsString>| check_utf8(&args).unwrap_err();
        let mut args = os(&["brainstem", "load", "session", "--filters", "a=1"]);
        args.push(bad(b"name=\xff\xfe"));
        let e = check(args);
        assert!(
            e.starts_with("the value of --filters is not valid UTF-8"),
            "{e}"
        );
        assert!(
            e.contains(r"\xFF\xFE") && e.contains("nothing was sent"),
            "{e}"
        );

        let mut args = os(&["brainstem", "load", "session"]);
        args.push(bad(b"--filters=name=\xff"));
        assert!(check(args).starts_with("the value of --filters "));

        let mut args = os(&["brainstem", "load"]);
        args.push(bad(b"sess\xffion"));
        assert!(check(args).starts_with("<MODEL> "));

        // global flags, flags whose values clap would parse into numbers or choices
        for flag in ["--token", "--format", "--limit", "--sort", "--portal"] {
            let mut args = os(&["brainstem", "load", "session", flag]);
            args.push(bad(b"\xff"));
            let e = check(args);
            assert!(e.starts_with(&format!("the value of {flag} ")), "{e}");
        }
        let mut args = os(&["brainstem", "save", "session", "--data"]);
        args.push(bad(b"{\"name\":\"\xff\"}"));
        assert!(check(args).starts_with("the value of --data "));
        let mut args = os(&["brainstem", "mock", "--defer"]);
        args.push(bad(b"session.\xff"));
        assert!(check(args).starts_with("the value of --defer "));

        // what clap cannot place is named by its position
        let mut args = os(&["brainstem"]);
        args.push(bad(b"lo\xffad"));
        assert!(check(args).starts_with("argument 1 "));
    }
}
