//! Generates the typed API from `schema/brainstem.openapi.json` into `OUT_DIR`.
//! The generator is the `brainstem-codegen` crate; see its docs.

fn main() {
    brainstem_codegen::run();
}
