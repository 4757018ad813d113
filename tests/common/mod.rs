//! Helpers shared by the integration test binaries that are folders (`tests/<name>/main.rs`).
//! Each includes this folder with `#[path = "../common/mod.rs"] mod common;`.

pub mod moto;
