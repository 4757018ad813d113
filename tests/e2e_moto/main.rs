//! End-to-end: the real `ecs-operator` binary, `diff` and `apply` with `--backend aws` against a
//! moto server (started once for this test binary, `tests/common/moto.rs`), on copies of the
//! example application in `manifests/shop/` made real for moto and unique per case. Live state
//! is read back, and drift is made, with the library's `aws` backend on the same server.
//!
//! Run with `cargo test --test e2e_moto`; moto must be installed (`pip install 'moto[server]'`;
//! scripts/test.sh does it). Where moto answers differently from AWS
//! (`aws-api-facts.md`, "moto server"), the cases still assert what AWS does.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/serving.rs"]
mod serving;
mod support;

// Target group attributes and their hash tag.
mod attributes;
// A Service's spec.autoScaling.
mod autoscaling;
mod bad_input;
mod deployments;
mod drift;
mod import;
mod lease;
mod logs;
mod ownership;
mod rules;
mod run;
mod sync;
