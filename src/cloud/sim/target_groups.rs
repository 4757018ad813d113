//! ELBv2 target group semantics: creation with ELBv2's defaults (same name and same
//! settings returns the existing group, different settings is DuplicateTargetGroupName),
//! health check and attribute changes with ELBv2's validation, tags, deletion (refused while
//! an ECS service uses the group), describe by name (one missing name fails the whole call)
//! and by page.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::arn::{self, Arns};
use super::records::TargetGroupState;
use super::state::State;
use super::targets::target_health;
use crate::cloud::defaults::target_group as defaults;
use crate::cloud::error::{CloudError, CloudResult};
use crate::cloud::model::{
    CreateTargetGroup, Page, Tags, TargetGroup, TargetGroupHealthCheck, TargetHealth, TargetType,
};
use crate::cloud::{MAX_DESCRIBE_TARGET_GROUPS, MAX_TAG_ARNS, MAX_TARGET_GROUP_PAGE};

/// Tags one target group may carry.
const MAX_TAGS: usize = 50;

fn validation(operation: &'static str, message: impl Into<String>) -> CloudError {
    CloudError::from_code(operation, "ValidationError", message)
}

fn not_found(operation: &'static str, what: &str) -> CloudError {
    CloudError::from_code(
        operation,
        "TargetGroupNotFound",
        format!("Target groups '{what}' not found"),
    )
}

/// ELBv2's rule for target group names.
fn check_name(operation: &'static str, name: &str) -> CloudResult<()> {
    let ok_chars = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if name.is_empty() || name.len() > 32 || !ok_chars {
        return Err(validation(
            operation,
            format!(
                "Target group name '{name}' must be 1 to 32 alphanumeric characters or hyphens"
            ),
        ));
    }
    if name.starts_with('-') || name.ends_with('-') || name.starts_with("internal-") {
        return Err(validation(
            operation,
            format!(
                "Target group name '{name}' cannot begin or end with a hyphen or begin with 'internal-'"
            ),
        ));
    }
    Ok(())
}

/// ELBv2's ranges for health check settings (already filled in).
fn check_health_check(operation: &'static str, hc: &TargetGroupHealthCheck) -> CloudResult<()> {
    let in_range = |v: Option<u32>, lo: u32, hi: u32| v.is_none_or(|v| (lo..=hi).contains(&v));
    if !in_range(hc.interval_seconds, 5, 300) {
        return Err(validation(
            operation,
            "Health check interval must be between 5 and 300 seconds",
        ));
    }
    if !in_range(hc.timeout_seconds, 2, 120) {
        return Err(validation(
            operation,
            "Health check timeout must be between 2 and 120 seconds",
        ));
    }
    if let (Some(t), Some(i)) = (hc.timeout_seconds, hc.interval_seconds)
        && t >= i
    {
        return Err(validation(
            operation,
            "Health check timeout must be smaller than the interval",
        ));
    }
    if !in_range(hc.healthy_threshold_count, 2, 10)
        || !in_range(hc.unhealthy_threshold_count, 2, 10)
    {
        return Err(validation(
            operation,
            "Health check thresholds must be between 2 and 10",
        ));
    }
    if let Some(port) = &hc.port
        && port.0 != "traffic-port"
        && !port.0.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return Err(validation(
            operation,
            format!(
                "Health check port '{}' must be 'traffic-port' or 1 to 65535",
                port.0
            ),
        ));
    }
    Ok(())
}

/// Checks an attribute change against the keys of the group's kind and ELBv2's ranges.
fn check_attribute(
    operation: &'static str,
    known: &BTreeMap<String, String>,
    key: &str,
    value: &str,
) -> CloudResult<()> {
    if !known.contains_key(key) {
        return Err(validation(
            operation,
            format!("The attribute key '{key}' is not recognized"),
        ));
    }
    let int_in = |lo: u64, hi: u64| value.parse::<u64>().is_ok_and(|v| (lo..=hi).contains(&v));
    let ok = match key {
        "deregistration_delay.timeout_seconds" => int_in(0, 3600),
        "slow_start.duration_seconds" => value == "0" || int_in(30, 900),
        "stickiness.lb_cookie.duration_seconds" | "stickiness.app_cookie.duration_seconds" => {
            int_in(1, 604_800)
        }
        k if k.ends_with(".enabled") && k != "load_balancing.cross_zone.enabled" => {
            matches!(value, "true" | "false")
        }
        "load_balancing.algorithm.type" => matches!(
            value,
            "round_robin" | "least_outstanding_requests" | "weighted_random"
        ),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(validation(
            operation,
            format!("'{value}' is not a valid value for attribute '{key}'"),
        ))
    }
}

/// ELBv2's tag rules for AddTags.
fn check_tags(operation: &'static str, tags: &Tags) -> CloudResult<()> {
    for (k, v) in tags {
        if k.is_empty() || k.len() > 128 || v.len() > 256 {
            return Err(validation(operation, format!("Invalid tag '{k}'")));
        }
        if k.starts_with("aws:") {
            return Err(validation(
                operation,
                format!("Tag keys starting with 'aws:' are reserved: '{k}'"),
            ));
        }
    }
    Ok(())
}

impl State {
    /// The group of a target group ARN, or ValidationError / TargetGroupNotFound.
    fn group(&self, operation: &'static str, arn: &str) -> CloudResult<&TargetGroupState> {
        if !Arns::looks_like_target_group(arn) {
            return Err(validation(
                operation,
                format!("'{arn}' is not a valid target group ARN"),
            ));
        }
        self.target_groups
            .get(arn)
            .ok_or_else(|| not_found(operation, arn))
    }

    fn group_mut(
        &mut self,
        operation: &'static str,
        arn: &str,
    ) -> CloudResult<&mut TargetGroupState> {
        self.group(operation, arn)?;
        self.target_groups
            .get_mut(arn)
            .ok_or_else(|| not_found(operation, arn))
    }

    /// DescribeTargetGroups by names (or ARNs): all of them, or TargetGroupNotFound.
    pub(super) fn describe_target_groups(&self, names: &[String]) -> CloudResult<Vec<TargetGroup>> {
        const OP: &str = "DescribeTargetGroups";
        if names.len() > MAX_DESCRIBE_TARGET_GROUPS {
            return Err(validation(
                OP,
                format!(
                    "You can specify up to {MAX_DESCRIBE_TARGET_GROUPS} target group names or ARNs"
                ),
            ));
        }
        let mut found = Vec::with_capacity(names.len());
        let mut missing = Vec::new();
        for name in names {
            let arn = if name.starts_with("arn:") {
                Some(name)
            } else {
                self.target_group_arns.get(name)
            };
            match arn.and_then(|a| self.target_groups.get(a)) {
                Some(g) => found.push(g.group.clone()),
                None => missing.push(name.as_str()),
            }
        }
        if !missing.is_empty() {
            return Err(not_found(OP, &missing.join(", ")));
        }
        Ok(found)
    }

    /// DescribeTargetGroups without names: groups in name order, `page_size` at a time.
    pub(super) fn describe_target_groups_page(
        &self,
        marker: Option<&str>,
        page_size: u32,
    ) -> CloudResult<Page<TargetGroup>> {
        const OP: &str = "DescribeTargetGroups";
        let size = usize::try_from(page_size).unwrap_or(usize::MAX);
        if !(1..=MAX_TARGET_GROUP_PAGE).contains(&size) {
            return Err(validation(
                OP,
                format!("Page size must be between 1 and {MAX_TARGET_GROUP_PAGE}"),
            ));
        }
        let after = match marker {
            Some(m) => {
                Some(arn::parse_page_token(m).ok_or_else(|| validation(OP, "Invalid marker"))?)
            }
            None => None,
        };
        let start = match &after {
            Some(a) => Bound::Excluded(a.as_str()),
            None => Bound::Unbounded,
        };
        let mut rest = self
            .target_group_arns
            .range::<str, _>((start, Bound::Unbounded));
        let page: Vec<(&String, &String)> = rest.by_ref().take(size).collect();
        let next_token = match (rest.next(), page.last()) {
            (Some(_), Some((last, _))) => Some(arn::page_token(last)),
            _ => None,
        };
        let items = page
            .iter()
            .filter_map(|(_, arn)| self.target_groups.get(*arn).map(|g| g.group.clone()))
            .collect();
        Ok(Page { items, next_token })
    }

    /// CreateTargetGroup.
    pub(super) fn create_target_group(
        &mut self,
        input: &CreateTargetGroup,
    ) -> CloudResult<TargetGroup> {
        const OP: &str = "CreateTargetGroup";
        check_name(OP, &input.name)?;
        check_tags(OP, &input.tags)?;
        if input.tags.len() > MAX_TAGS {
            return Err(CloudError::from_code(OP, "TooManyTags", "Too many tags"));
        }
        let target_type = input.target_type.unwrap_or(TargetType::Instance);
        if target_type == TargetType::Lambda {
            if input.protocol.is_some() || input.port.is_some() || input.vpc_id.is_some() {
                return Err(validation(
                    OP,
                    "A protocol, port or VPC ID cannot be specified for a target group of type lambda",
                ));
            }
        } else {
            if input.protocol.is_none() {
                return Err(validation(OP, "A protocol must be specified"));
            }
            if !input.port.is_some_and(|p| (1..=65535).contains(&p)) {
                return Err(validation(
                    OP,
                    "A port between 1 and 65535 must be specified",
                ));
            }
            if input.vpc_id.as_deref().is_none_or(str::is_empty) {
                return Err(validation(OP, "A VPC ID must be specified"));
            }
        }
        if input.protocol_version.is_some() && !defaults::is_http(input.protocol) {
            return Err(validation(
                OP,
                "A protocol version can only be specified for HTTP and HTTPS target groups",
            ));
        }
        let protocol_version = defaults::protocol_version(input.protocol, input.protocol_version);
        let health_check = defaults::fill_health_check(
            input.protocol,
            protocol_version,
            target_type,
            &input.health_check,
        );
        check_health_check(OP, &health_check)?;
        let candidate = TargetGroup {
            name: input.name.clone(),
            arn: String::new(),
            protocol: input.protocol,
            protocol_version,
            port: input.port,
            target_control_port: input.target_control_port,
            vpc_id: input.vpc_id.clone(),
            target_type: Some(target_type),
            ip_address_type: Some(
                input
                    .ip_address_type
                    .unwrap_or(crate::cloud::model::IpAddressType::Ipv4),
            ),
            health_check,
            load_balancer_arns: Vec::new(),
        };
        if let Some(existing) = self
            .target_group_arns
            .get(&input.name)
            .and_then(|a| self.target_groups.get(a))
        {
            let same = TargetGroup {
                arn: String::new(),
                load_balancer_arns: Vec::new(),
                ..existing.group.clone()
            } == candidate;
            return if same {
                Ok(existing.group.clone())
            } else {
                Err(CloudError::from_code(
                    OP,
                    "DuplicateTargetGroupName",
                    "A target group with the same name exists, but with different settings",
                ))
            };
        }
        let arn = self
            .arns
            .target_group(&input.name, &arn::hex(&mut self.rng, 16));
        let group = TargetGroup {
            arn: arn.clone(),
            ..candidate
        };
        let state = TargetGroupState {
            attributes: defaults::target_group_attributes(input.protocol, target_type),
            group: group.clone(),
            tags: input.tags.clone(),
            targets: BTreeMap::new(),
        };
        self.target_groups.insert(arn.clone(), state);
        self.target_group_arns.insert(input.name.clone(), arn);
        Ok(group)
    }

    /// ModifyTargetGroup: the given health check settings replace the current ones.
    pub(super) fn modify_target_group(
        &mut self,
        arn: &str,
        change: &TargetGroupHealthCheck,
    ) -> CloudResult<TargetGroup> {
        const OP: &str = "ModifyTargetGroup";
        let g = self.group_mut(OP, arn)?;
        let mut hc = g.group.health_check.clone();
        macro_rules! take {
            ($($f:ident),*) => { $( if change.$f.is_some() { hc.$f = change.$f.clone(); } )* };
        }
        take!(
            enabled,
            protocol,
            port,
            path,
            interval_seconds,
            timeout_seconds,
            healthy_threshold_count,
            unhealthy_threshold_count,
            matcher
        );
        check_health_check(OP, &hc)?;
        g.group.health_check = hc;
        Ok(g.group.clone())
    }

    /// DescribeTargetGroupAttributes.
    pub(super) fn describe_target_group_attributes(
        &self,
        arn: &str,
    ) -> CloudResult<BTreeMap<String, String>> {
        Ok(self
            .group("DescribeTargetGroupAttributes", arn)?
            .attributes
            .clone())
    }

    /// ModifyTargetGroupAttributes: all or nothing.
    pub(super) fn modify_target_group_attributes(
        &mut self,
        arn: &str,
        attributes: &BTreeMap<String, String>,
    ) -> CloudResult<BTreeMap<String, String>> {
        const OP: &str = "ModifyTargetGroupAttributes";
        let g = self.group_mut(OP, arn)?;
        for (k, v) in attributes {
            check_attribute(OP, &g.attributes, k, v)?;
        }
        g.attributes
            .extend(attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(g.attributes.clone())
    }

    fn check_tag_arns(&self, operation: &'static str, arns: &[String]) -> CloudResult<()> {
        if arns.is_empty() || arns.len() > MAX_TAG_ARNS {
            return Err(validation(
                operation,
                format!("Between 1 and {MAX_TAG_ARNS} resource ARNs must be specified"),
            ));
        }
        for a in arns {
            if self.rule_tags(a).is_none() {
                self.group(operation, a)?;
            }
        }
        Ok(())
    }

    /// DescribeTags.
    pub(super) fn describe_tags(&self, arns: &[String]) -> CloudResult<BTreeMap<String, Tags>> {
        const OP: &str = "DescribeTags";
        self.check_tag_arns(OP, arns)?;
        Ok(arns
            .iter()
            .filter_map(|a| {
                self.target_groups
                    .get(a)
                    .map(|g| &g.tags)
                    .or_else(|| self.rule_tags(a))
                    .map(|tags| (a.clone(), tags.clone()))
            })
            .collect())
    }

    /// AddTags: all resources or none.
    pub(super) fn add_tags(&mut self, arns: &[String], tags: &Tags) -> CloudResult<()> {
        const OP: &str = "AddTags";
        self.check_tag_arns(OP, arns)?;
        check_tags(OP, tags)?;
        for a in arns {
            let have = match self.rule_tags(a) {
                Some(tags) => tags,
                None => &self.group(OP, a)?.tags,
            };
            let after = have
                .keys()
                .chain(tags.keys())
                .collect::<std::collections::BTreeSet<_>>();
            if after.len() > MAX_TAGS {
                return Err(CloudError::from_code(
                    OP,
                    "TooManyTags",
                    format!("The quota of {MAX_TAGS} tags on '{a}' has been reached"),
                ));
            }
        }
        for a in arns {
            if let Some(g) = self.target_groups.get_mut(a) {
                g.tags
                    .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
            } else if let Some(have) = self.rule_tags_mut(a) {
                have.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        Ok(())
    }

    /// RemoveTags (keys that are not there are ignored).
    pub(super) fn remove_tags(&mut self, arns: &[String], keys: &[String]) -> CloudResult<()> {
        self.check_tag_arns("RemoveTags", arns)?;
        for a in arns {
            if let Some(g) = self.target_groups.get_mut(a) {
                g.tags.retain(|k, _| !keys.contains(k));
            } else if let Some(have) = self.rule_tags_mut(a) {
                have.retain(|k, _| !keys.contains(k));
            }
        }
        Ok(())
    }

    /// DeleteTargetGroup: ResourceInUse while an ECS service uses it; a group that does not
    /// exist is not an error (the API lists no not-found error for it).
    pub(super) fn delete_target_group(&mut self, arn: &str) -> CloudResult<()> {
        const OP: &str = "DeleteTargetGroup";
        if !Arns::looks_like_target_group(arn) {
            return Err(validation(
                OP,
                format!("'{arn}' is not a valid target group ARN"),
            ));
        }
        let user = self.services.values().find(|s| {
            s.service.status == "ACTIVE"
                && s.deployments
                    .iter()
                    .flat_map(|d| &d.load_balancers)
                    .chain(&s.service.load_balancers)
                    .any(|lb| lb.target_group_arn == arn)
        });
        if let Some(user) = user {
            return Err(CloudError::from_code(
                OP,
                "ResourceInUse",
                format!(
                    "Target group '{arn}' is currently in use by ECS service '{}'",
                    user.service.arn
                ),
            ));
        }
        if let Some(rule) = self.rule_forwarding_to(arn) {
            return Err(CloudError::from_code(
                OP,
                "ResourceInUse",
                format!("Target group '{arn}' is currently in use by a listener rule '{rule}'"),
            ));
        }
        if let Some(g) = self.target_groups.remove(arn) {
            self.target_group_arns.remove(&g.group.name);
            for (ip, _) in g.targets.keys() {
                self.release_ip(*ip);
            }
        }
        Ok(())
    }

    /// DescribeTargetHealth: every registered target, by IP and port.
    pub(super) fn describe_target_health(&self, arn: &str) -> CloudResult<Vec<TargetHealth>> {
        let g = self.group("DescribeTargetHealth", arn)?;
        Ok(g.targets
            .iter()
            .map(|((ip, port), t)| target_health(*ip, *port, t))
            .collect())
    }
}
