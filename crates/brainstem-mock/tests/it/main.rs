//! The stand-in server's integration tests, as one test binary (one link
//! instead of one per file). Each module is one area; `util` (a server with
//! an HTTP client) is the shared helper. `python_client` runs the official
//! Python client against the server, with the scenarios in `tests/python/`.
//!
//! Run one area with `cargo test -p brainstem-mock --all-features --test it <module>::`.

mod util;

mod hostile;
mod python_client;
mod server_access;
mod server_dialects;
mod server_network;
mod server_queries;
mod server_routes;
mod server_writes;
