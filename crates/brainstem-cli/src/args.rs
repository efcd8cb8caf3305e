//! Command-line arguments: the official Python tool's commands and flags,
//! plus the ones only a typed tool can offer.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// BrainSTEM from the command line: load, save and delete records of any
/// model, checked against the API schema before anything is sent.
#[derive(Debug, Parser)]
#[command(name = "brainstem", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// API token [default: $BRAINSTEM_API_TOKEN, $BRAINSTEM_TOKEN, or the cached token].
    #[arg(long, global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// Base URL of the BrainSTEM server [default: $BRAINSTEM_URL or https://www.brainstem.org/].
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// Output format [default: pretty JSON on a terminal, compact JSON when piped].
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,
    /// Print the verification URL and code instead of opening a browser (login).
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
    /// An aligned text table of the scalar fields.
    Table,
    /// Comma-separated values (nested values as JSON).
    Csv,
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
        /// Model name (`session`, `dataacquisition`, ...).
        model: String,
    },
    /// Print the JSON Schema of a model's record.
    Schema {
        /// Model name.
        model: String,
    },
    /// Run the stand-in server on 127.0.0.1 until stopped.
    Mock(MockArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `brainstem mock`: the port, the dialect the server answers in (a preset,
/// then single switches on top of it) and the fault knobs.
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
    /// Wait this many milliseconds before each answer.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Model name (`session`, `project`, ...; `brainstem models` lists them).
    pub model: String,
    /// Portal.
    #[arg(long, value_enum, default_value = "private")]
    pub portal: PortalArg,
    /// Id of one record.
    #[arg(long)]
    pub id: Option<String>,
    /// Filters `FIELD[.LOOKUP]=VALUE` (`-FIELD...` negates; `in`/`range` take comma-separated values).
    #[arg(long, num_args = 1.., value_name = "FIELD.LOOKUP=VALUE")]
    pub filters: Vec<String>,
    /// Sort keys; prefix with `-` for descending.
    #[arg(long, num_args = 1.., value_name = "[-]FIELD")]
    pub sort: Vec<String>,
    /// Relations to embed.
    #[arg(long, num_args = 1.., value_name = "RELATION")]
    pub include: Vec<String>,
    /// Page size (the API's maximum is 100).
    #[arg(long)]
    pub limit: Option<u32>,
    /// Records to skip.
    #[arg(long)]
    pub offset: Option<u64>,
    /// Follow pagination and load every record.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Model name.
    pub model: String,
    /// Portal.
    #[arg(long, value_enum, default_value = "private")]
    pub portal: PortalArg,
    /// Id of the record to change (omit to create).
    #[arg(long)]
    pub id: Option<String>,
    /// The fields as JSON, `@file.json`, or `-` for standard input.
    #[arg(long, allow_hyphen_values = true)]
    pub data: String,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Model name.
    pub model: String,
    /// Portal.
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
/// other arguments pass as they are.
pub fn normalize_args(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut out: Vec<std::ffi::OsString> = Vec::new();
    // the list flag being read, and whether it has received a value yet
    let mut list: Option<(&str, bool)> = None;
    for a in args {
        let s = a.to_string_lossy().to_string();
        if s.starts_with("--") {
            if let Some((flag, false)) = list {
                out.push(flag.into());
            }
            list = LIST_FLAGS
                .iter()
                .copied()
                .find(|f| *f == s)
                .map(|f| (f, false));
            if list.is_none() {
                out.push(a);
            }
        } else if let Some((flag, _)) = list {
            out.push(format!("{flag}={s}").into());
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
