//! ECS task definition semantics: revisions per family from 1 with the container defaults
//! ECS fills in, lookups by ARN, `family:revision` or `family` (latest ACTIVE), paged
//! listing of a family's ACTIVE revisions, deregistration.

use super::arn::{self, valid_ecs_name};
use super::state::State;
use crate::cloud::defaults::task_definition as defaults;
use crate::cloud::error::{CloudError, CloudResult};
use crate::cloud::model::{
    Page, RegisteredTaskDefinition, Tags, TaskDefinition, registration_tags,
};
use crate::manifest::task_definition::{Compatibility, NetworkMode};

/// Families per ListTaskDefinitionFamilies page (the API's maximum).
pub const FAMILY_PAGE: usize = 100;
/// Revisions per ListTaskDefinitions page (the API's maximum and default).
const LIST_PAGE: usize = 100;

fn client(operation: &'static str, message: impl Into<String>) -> CloudError {
    CloudError::from_code(operation, "ClientException", message)
}

/// ECS's tag rules (TagResource, RegisterTaskDefinition, CreateService, CreateCluster).
pub(super) fn check_ecs_tags(operation: &'static str, tags: &Tags) -> CloudResult<()> {
    let invalid = |m: String| CloudError::from_code(operation, "InvalidParameterException", m);
    if tags.len() > 50 {
        return Err(invalid("A resource can have at most 50 tags.".into()));
    }
    for (k, v) in tags {
        if k.is_empty() || k.len() > 128 || v.len() > 256 {
            return Err(invalid(format!("Invalid tag key or value: '{k}'.")));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid(format!(
                "Tag keys beginning with 'aws:' are reserved: '{k}'."
            )));
        }
    }
    Ok(())
}

/// RegisterTaskDefinition's checks of the definition itself.
fn check_definition(operation: &'static str, td: &TaskDefinition) -> CloudResult<String> {
    let family = td
        .family
        .clone()
        .ok_or_else(|| client(operation, "Family is required."))?;
    if !valid_ecs_name(&family) {
        return Err(client(
            operation,
            "Family must be 1 to 255 letters, numbers, hyphens or underscores.",
        ));
    }
    if td.container_definitions.is_empty() {
        return Err(client(operation, "Container list cannot be empty."));
    }
    for c in &td.container_definitions {
        if c.name.is_empty() || c.image.is_empty() {
            return Err(client(
                operation,
                "Container definitions need a name and an image.",
            ));
        }
        if td.network_mode == Some(NetworkMode::Awsvpc) {
            for pm in &c.port_mappings {
                if pm.host_port.is_some() && pm.host_port != pm.container_port {
                    return Err(client(
                        operation,
                        "When networkMode=awsvpc, the host ports and container ports in port mappings must match.",
                    ));
                }
            }
        }
    }
    if td
        .requires_compatibilities
        .contains(&Compatibility::Fargate)
    {
        if td.network_mode != Some(NetworkMode::Awsvpc) {
            return Err(client(
                operation,
                "Fargate only supports network mode 'awsvpc'.",
            ));
        }
        if td.cpu.is_none() {
            return Err(client(
                operation,
                "Fargate requires that 'cpu' be defined at the task level.",
            ));
        }
        if td.memory.is_none() {
            return Err(client(
                operation,
                "Fargate requires that 'memory' be defined at the task level.",
            ));
        }
    }
    Ok(family)
}

impl State {
    /// The revision a task definition ARN, `family:revision` or `family` (latest ACTIVE)
    /// names, if it exists.
    pub(super) fn find_task_definition(
        &self,
        reference: &str,
    ) -> Option<&RegisteredTaskDefinition> {
        let r = self.arns.task_definition_ref(reference)?;
        match r.rsplit_once(':') {
            Some((family, revision)) => {
                let n: usize = revision.parse().ok()?;
                self.families.get(family)?.get(n.checked_sub(1)?)
            }
            None => self
                .families
                .get(r)?
                .iter()
                .rev()
                .find(|t| t.status == "ACTIVE"),
        }
    }

    /// [`State::find_task_definition`], or ClientException as ECS answers.
    pub(super) fn task_definition(
        &self,
        operation: &'static str,
        reference: &str,
    ) -> CloudResult<&RegisteredTaskDefinition> {
        self.find_task_definition(reference)
            .ok_or_else(|| client(operation, "Unable to describe task definition."))
    }

    /// RegisterTaskDefinition.
    pub(super) fn register_task_definition(
        &mut self,
        definition: &TaskDefinition,
        tags: &Tags,
    ) -> CloudResult<RegisteredTaskDefinition> {
        const OP: &str = "RegisterTaskDefinition";
        let family = check_definition(OP, definition)?;
        // As in AWS: the definition's own tags and the request's are the revision's tags, and a
        // described definition carries none (DescribeTaskDefinition returns them beside it).
        let tags = &registration_tags(definition, tags);
        check_ecs_tags(OP, tags)?;
        let mut stored = definition.clone();
        stored.tags = Default::default();
        defaults::fill_task_definition(&mut stored);
        let registered_at = Some(self.timestamp());
        let revisions = self.families.entry(family.clone()).or_default();
        let revision = u32::try_from(revisions.len() + 1)
            .map_err(|_| client(OP, "Too many revisions in this family."))?;
        let td = RegisteredTaskDefinition {
            arn: self.arns.task_definition(&family, revision),
            family,
            revision,
            status: "ACTIVE".into(),
            definition: stored,
            tags: tags.clone(),
            registered_at,
        };
        revisions.push(td.clone());
        Ok(td)
    }

    /// DescribeTaskDefinition.
    pub(super) fn describe_task_definition(
        &self,
        reference: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        self.task_definition("DescribeTaskDefinition", reference)
            .cloned()
    }

    /// ListTaskDefinitionFamilies: the families with an ACTIVE revision, by name, a page of
    /// [`FAMILY_PAGE`] at a time.
    pub(super) fn list_task_definition_families(
        &self,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        const OP: &str = "ListTaskDefinitionFamilies";
        let after = match next_token {
            Some(t) => Some(arn::parse_page_token(t).ok_or_else(|| {
                CloudError::from_code(OP, "InvalidParameterException", "Invalid nextToken.")
            })?),
            None => None,
        };
        let active: Vec<&String> = self
            .families
            .iter()
            .filter(|(name, _)| after.as_deref().is_none_or(|a| name.as_str() > a))
            .filter(|(_, revs)| revs.iter().any(|t| t.status == "ACTIVE"))
            .map(|(name, _)| name)
            .take(FAMILY_PAGE + 1)
            .collect();
        let next_token =
            (active.len() > FAMILY_PAGE).then(|| arn::page_token(active[FAMILY_PAGE - 1]));
        Ok(Page {
            items: active.into_iter().take(FAMILY_PAGE).cloned().collect(),
            next_token,
        })
    }

    /// ListTaskDefinitions of one family: ACTIVE revisions, oldest first, a page at a time.
    pub(super) fn list_task_definitions(
        &self,
        family: &str,
        next_token: Option<&str>,
    ) -> CloudResult<Page<String>> {
        const OP: &str = "ListTaskDefinitions";
        let after: u32 = match next_token {
            Some(t) => arn::parse_page_token(t)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| {
                    CloudError::from_code(OP, "InvalidParameterException", "Invalid nextToken.")
                })?,
            None => 0,
        };
        let active: Vec<&RegisteredTaskDefinition> = self
            .families
            .get(family)
            .map(|revs| {
                revs.iter()
                    .filter(|t| t.revision > after && t.status == "ACTIVE")
                    .collect()
            })
            .unwrap_or_default();
        let next_token = (active.len() > LIST_PAGE)
            .then(|| arn::page_token(&active[LIST_PAGE - 1].revision.to_string()));
        Ok(Page {
            items: active
                .iter()
                .take(LIST_PAGE)
                .map(|t| t.arn.clone())
                .collect(),
            next_token,
        })
    }

    /// DeregisterTaskDefinition: the revision becomes INACTIVE (services keep running it).
    pub(super) fn deregister_task_definition(
        &mut self,
        reference: &str,
    ) -> CloudResult<RegisteredTaskDefinition> {
        const OP: &str = "DeregisterTaskDefinition";
        let r = self
            .arns
            .task_definition_ref(reference)
            .ok_or_else(|| client(OP, "Unable to describe task definition."))?;
        if !r.contains(':') {
            return Err(client(
                OP,
                "A revision must be specified to deregister a task definition.",
            ));
        }
        let arn = self.task_definition(OP, reference)?.arn.clone();
        let td = self
            .families
            .values_mut()
            .flat_map(|revs| revs.iter_mut())
            .find(|t| t.arn == arn)
            .ok_or_else(|| client(OP, "Unable to describe task definition."))?;
        td.status = "INACTIVE".into();
        Ok(td.clone())
    }

    /// Replaces (merges) tags of a task definition revision.
    pub(super) fn task_definition_tags_mut(&mut self, arn: &str) -> Option<&mut Tags> {
        let (family, revision) = self.arns.task_definition_ref(arn)?.rsplit_once(':')?;
        let n: usize = revision.parse().ok()?;
        Some(
            &mut self
                .families
                .get_mut(family)?
                .get_mut(n.checked_sub(1)?)?
                .tags,
        )
    }
}
