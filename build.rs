//! Generates the typed API from `schema/brainstem.openapi.json` into `OUT_DIR`.
//! The generator lives in `codegen/`; see its module docs.

#[path = "codegen/mod.rs"]
mod codegen;

fn main() {
    codegen::run();
}
