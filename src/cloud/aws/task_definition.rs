//! Task definitions: the manifest [`TaskDefinition`] -> RegisterTaskDefinition input, and a
//! described `TaskDefinition` -> [`RegisteredTaskDefinition`].
//!
//! Every member is carried both ways by the conversions generated from the AWS model
//! ([`super::generated`]). Values AWS fills in come back as AWS sends them (container `cpu` 0,
//! `essential` true, empty lists...): the kinds fill both sides with `cloud::defaults` before
//! comparing. Lists the manifest leaves empty are not sent, and empty lists read back as empty.
//!
//! A described revision is read exactly or not at all: an SDK enum value the model does not
//! know fails the conversion with [`ErrorKind::Other`](crate::cloud::ErrorKind::Other) instead
//! of dropping a field, so the operator never decides to register a revision from a partial
//! picture.
//!
//! Tags: the definition's own `tags` are sent with the operator's; a described revision's
//! tags are all in [`RegisteredTaskDefinition::tags`] (its `definition.tags` stays empty, as
//! on every backend), and the kind splits them.

use aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionInputBuilder;
use aws_sdk_ecs::types as sdk;

use super::convert::{Conv, ConvError, required, time, to_u32};
use super::generated::{register_task_definition_from_sdk, register_task_definition_input};
use super::service::ecs_tags;
use crate::cloud::model::{RegisteredTaskDefinition, Tags, registration_tags};
use crate::manifest::task_definition::TaskDefinition;

/// The RegisterTaskDefinition input of `def` with its own tags and `tags` (which win on a
/// shared key). `def.family` must be set.
pub(super) fn register_input(
    def: &TaskDefinition,
    tags: &Tags,
) -> Conv<RegisterTaskDefinitionInputBuilder> {
    let family = def
        .family
        .clone()
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ConvError::invalid("the task definition has no family"))?;
    let all = registration_tags(def, tags);
    let b = RegisterTaskDefinitionInputBuilder::default().family(family);
    let b = register_task_definition_input(def, b, &["family", "tags"])?;
    Ok(b.set_tags((!all.is_empty()).then(|| ecs_tags(&all))))
}

/// A registered revision with its tags.
pub(super) fn registered_from_sdk(
    td: &sdk::TaskDefinition,
    tags: &[sdk::Tag],
) -> Conv<RegisteredTaskDefinition> {
    Ok(RegisteredTaskDefinition {
        arn: required(td.task_definition_arn(), "taskDefinitionArn")?.to_owned(),
        family: required(td.family(), "family")?.to_owned(),
        revision: to_u32(td.revision(), "revision")?,
        status: td
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        definition: definition_from_sdk(td)?,
        tags: super::service::tags_from_ecs(tags),
        registered_at: time(td.registered_at()),
    })
}

/// The definition as ECS stores it (without tags: DescribeTaskDefinition returns them beside).
pub(super) fn definition_from_sdk(td: &sdk::TaskDefinition) -> Conv<TaskDefinition> {
    register_task_definition_from_sdk(td)
}
