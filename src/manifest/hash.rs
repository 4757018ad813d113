//! The content hash of a serializable value (first 8 bytes of the SHA-256 of its JSON, in hex):
//! the identity of a manifest's content for the source's change detection and of a desired
//! spec for the plans' `ecs-operator/spec-hash` tags.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The content hash of `value` (16 hex digits).
pub fn content_hash<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let digest = Sha256::digest(&json);
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}
