//! RegisterTaskDefinition with no duplicate revision. The call has no client token, so a
//! retry after an outcome the caller could not see (a 5xx, a connection reset after the
//! request was sent, a timeout: a transient error) may register the same content a second
//! time. Before trying again, [`register`] looks among the family's newest revisions for one
//! with the same content hash tag and the same content; found, it is the result. A throttled
//! call registered nothing and is simply tried again. The AWS backend makes this one call with
//! the SDK's own retries off (`cloud::aws::ecs`), so every attempt goes through here.
//!
//! Not covered: a registration that AWS has made but does not list yet (ListTaskDefinitions is
//! eventually consistent); the next plan then finds two revisions with the same content and
//! uses the newest.

use std::time::Duration;

use crate::cloud::model::{RegisteredTaskDefinition, Tags, TaskDefinition};
use crate::cloud::{Cloud, CloudError, ErrorKind};
use crate::kind::task_definition::{live_definition, task_definition};
use crate::observe::Observer;
use crate::plan::TAG_SPEC_HASH;

/// Attempts of one registration, the first included.
pub const ATTEMPTS: u32 = 3;
/// How many of the family's newest revisions are looked at after an unknown outcome.
const LOOKED_AT: usize = 5;
/// The wait before the second attempt (doubling after).
const BACKOFF: Duration = Duration::from_secs(1);

/// Registers `definition` (normalized, as planned) with `tags` (its content hash in
/// [`TAG_SPEC_HASH`]), or returns the revision an attempt whose answer was lost registered.
pub async fn register(
    cloud: &Cloud,
    observer: &Observer,
    definition: &TaskDefinition,
    tags: &Tags,
) -> Result<RegisteredTaskDefinition, CloudError> {
    // Registered already by this process (an UpdateService that failed after it, a lost
    // answer): that revision, not a second one with the same content.
    if let Some(found) = seen_before(observer, definition, tags) {
        return Ok(found);
    }
    let mut attempt = 1;
    loop {
        let error = match cloud.ecs.register_task_definition(definition, tags).await {
            Ok(r) => return Ok(r),
            Err(e) => e,
        };
        if attempt >= ATTEMPTS || !error.is_retryable() {
            return Err(error);
        }
        if error.kind == ErrorKind::Transient
            && let Some(found) = registered_before(observer, definition, tags).await?
        {
            tracing::warn!(
                revision = %found.arn,
                %error,
                "RegisterTaskDefinition answered with an error but had registered the revision: using it"
            );
            return Ok(found);
        }
        tokio::time::sleep(BACKOFF * 2u32.pow(attempt - 1)).await;
        attempt += 1;
    }
}

/// The newest revision of the family with the content hash tag of `tags` and the content of
/// `definition`, among the [`LOOKED_AT`] newest.
/// A revision this process registered or read with the content hash tag of `tags` and the
/// content of `definition` (no call: the observer's cache).
fn seen_before(
    observer: &Observer,
    definition: &TaskDefinition,
    tags: &Tags,
) -> Option<RegisteredTaskDefinition> {
    let family = definition.family.as_deref()?;
    let found = observer.seen_with_hash(family, tags.get(TAG_SPEC_HASH)?)?;
    (task_definition(&live_definition(&found)) == task_definition(definition)).then_some(found)
}

async fn registered_before(
    observer: &Observer,
    definition: &TaskDefinition,
    tags: &Tags,
) -> Result<Option<RegisteredTaskDefinition>, CloudError> {
    let Some(hash) = tags.get(TAG_SPEC_HASH) else {
        return Ok(None);
    };
    let family = definition.family.clone().unwrap_or_default();
    let wanted = task_definition(definition);
    for arn in observer
        .revisions(&family)
        .await?
        .iter()
        .rev()
        .take(LOOKED_AT)
    {
        let r = observer.task_definition(arn).await?;
        if r.tags.get(TAG_SPEC_HASH) == Some(hash)
            && task_definition(&live_definition(&r)) == wanted
        {
            return Ok(Some(r));
        }
    }
    Ok(None)
}
