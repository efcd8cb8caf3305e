//! The SDK's integration tests, as one test binary (one link instead of one
//! per file). Each module is one area; `client_support` (a scripted HTTP
//! server) and `common` (JSON comparison) are shared helpers. The fixtures
//! are in `tests/fixtures/`.
//!
//! Run one area with `cargo test --all-features --test it <module>::`.

mod client_support;
mod common;

mod changelog;
mod client_auth;
mod client_decode_props;
mod client_dialects;
mod client_faults;
mod client_hostile;
mod client_includes;
mod client_loaders;
mod client_pagination;
mod client_query;
mod client_quickstart;
mod client_server;
mod decode_paths;
mod details_typed;
mod drift;
mod fixtures_models;
mod generated_copy;
#[cfg(feature = "mirror")]
mod mirror;
mod query_encoding;
mod schema_meta;
#[cfg(feature = "arrow")]
mod table;
mod tolerant_records;
mod types_contract;
