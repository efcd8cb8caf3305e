//! Generated from the spec into `OUT_DIR/client_api.rs`: one accessor per
//! model (`client.sessions()`, and its blocking twin), the official Python
//! tool's typed loaders (`client.load_session().by_name(...)`), and
//! [`ACCESSORS`]. A model added to the spec gets its accessor here.

include!(concat!(env!("OUT_DIR"), "/client_api.rs"));
