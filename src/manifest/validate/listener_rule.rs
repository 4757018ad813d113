//! Rules for ListenerRule manifests: the listener named one way, the priority in ELBv2's
//! range and unique per listener across every manifest (the finding names both files), each
//! condition's `Field` with its own values, and the actions: one final action, a forward to
//! TargetGroup manifests that exist (or ARNs) with weights in range, a fixed response's status
//! code, a redirect's configuration.

use std::collections::HashMap;

use super::{Context, Report, TargetGroupRef};
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::listener_rule::{
    ActionTypeEnum, CONDITION_FIELDS, ListenerRef, ListenerRuleSpec, MAX_FORWARD_TARGET_GROUPS,
    MAX_PRIORITY, MAX_WEIGHT, MIN_PRIORITY, RuleAction, RuleCondition,
};
use crate::manifest::load::Loaded;
use crate::manifest::path::FieldPath;
use crate::manifest::target_group::TargetGroupProtocol;

/// The longest a stickiness duration may be (7 days).
const MAX_STICKINESS_SECONDS: u32 = 604_800;

impl Report<'_> {
    /// The rules above that need only this document (and the TargetGroup names).
    pub(super) fn listener_rule(&mut self, r: &ListenerRuleSpec, ctx: &Context) {
        self.listener(&r.listener);
        if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&r.priority) {
            self.error(
                "spec.priority",
                "range",
                format!(
                    "priority {} is not in {MIN_PRIORITY}..{MAX_PRIORITY} (the listener's \
                     default action is not a rule: use a catch-all `path-pattern: /*` at a \
                     high number)",
                    r.priority
                ),
            );
        }
        if r.conditions.is_empty() {
            self.error(
                "spec.conditions",
                "required",
                "a rule needs at least one condition (a catch-all: path-pattern `/*`)",
            );
        }
        for (i, c) in r.conditions.iter().enumerate() {
            self.condition(&format!("spec.conditions[{i}]"), c);
        }
        if r.actions.is_empty() {
            self.error("spec.actions", "required", "a rule needs an action");
        }
        let finals = r.actions.iter().filter(|a| is_final(a.kind)).count();
        if !r.actions.is_empty() && finals != 1 {
            self.error(
                "spec.actions",
                "rule-action",
                format!(
                    "a rule has exactly one forward, fixed-response or redirect action, got {finals}"
                ),
            );
        }
        for (i, a) in r.actions.iter().enumerate() {
            self.action(&format!("spec.actions[{i}]"), a, ctx);
        }
    }

    fn listener(&mut self, l: &ListenerRef) {
        match (&l.arn, &l.load_balancer_name, l.port) {
            (Some(arn), None, None) => {
                if !(arn.starts_with("arn:") && arn.contains(":listener/")) {
                    self.error(
                        "spec.listener.arn",
                        "listener",
                        format!("{arn:?} is not a listener ARN (arn:...:listener/app/...)"),
                    );
                }
            }
            (None, Some(name), Some(port)) => {
                if name.is_empty() || name.len() > 32 {
                    self.error(
                        "spec.listener.loadBalancerName",
                        "name",
                        "a load balancer name is 1 to 32 characters",
                    );
                }
                if !(1..=65535).contains(&port) {
                    self.error(
                        "spec.listener.port",
                        "range",
                        format!("port {port} is not in 1..65535"),
                    );
                }
            }
            _ => self.error(
                "spec.listener",
                "listener",
                "name the listener by `arn`, or by `loadBalancerName` and `port`",
            ),
        }
    }

    fn condition(&mut self, at: &str, c: &RuleCondition) {
        let Some(field) = c.field.as_deref() else {
            self.error(
                format!("{at}.Field").as_str(),
                "required",
                format!("missing `Field`: one of {}", CONDITION_FIELDS.join(", ")),
            );
            return;
        };
        if !CONDITION_FIELDS.contains(&field) {
            self.error(
                format!("{at}.Field").as_str(),
                "condition",
                format!(
                    "unknown condition field {field:?}; one of {}",
                    CONDITION_FIELDS.join(", ")
                ),
            );
            return;
        }
        // The config members set, by the field they belong to.
        let configs = [
            (
                "host-header",
                "HostHeaderConfig",
                c.host_header_config.is_some(),
            ),
            (
                "path-pattern",
                "PathPatternConfig",
                c.path_pattern_config.is_some(),
            ),
            (
                "http-header",
                "HttpHeaderConfig",
                c.http_header_config.is_some(),
            ),
            (
                "query-string",
                "QueryStringConfig",
                c.query_string_config.is_some(),
            ),
            (
                "http-request-method",
                "HttpRequestMethodConfig",
                c.http_request_method_config.is_some(),
            ),
            ("source-ip", "SourceIpConfig", c.source_ip_config.is_some()),
        ];
        for (owner, member, set) in configs {
            if set && owner != field {
                self.error(
                    format!("{at}.{member}").as_str(),
                    "condition",
                    format!("`{member}` belongs to Field {owner}, not {field}"),
                );
            }
        }
        let values_field = matches!(field, "path-pattern" | "host-header");
        if !c.values.is_empty() && !values_field {
            self.error(
                format!("{at}.Values").as_str(),
                "condition",
                format!("`Values` is for path-pattern and host-header; {field} has its own config"),
            );
        }
        let count = match field {
            "path-pattern" => {
                c.values.len()
                    + c.path_pattern_config
                        .as_ref()
                        .map_or(0, |p| p.values.len() + p.regex_values.len())
            }
            "host-header" => {
                c.values.len()
                    + c.host_header_config
                        .as_ref()
                        .map_or(0, |p| p.values.len() + p.regex_values.len())
            }
            "http-header" => {
                if let Some(h) = &c.http_header_config
                    && h.http_header_name.as_deref().is_none_or(str::is_empty)
                {
                    self.error(
                        format!("{at}.HttpHeaderConfig.HttpHeaderName").as_str(),
                        "required",
                        "an http-header condition names its header",
                    );
                }
                c.http_header_config
                    .as_ref()
                    .map_or(0, |h| h.values.len() + h.regex_values.len())
            }
            "query-string" => c.query_string_config.as_ref().map_or(0, |q| q.values.len()),
            "http-request-method" => c
                .http_request_method_config
                .as_ref()
                .map_or(0, |m| m.values.len()),
            _ => c.source_ip_config.as_ref().map_or(0, |s| s.values.len()),
        };
        if count == 0 {
            self.error(
                at,
                "condition",
                format!("a {field} condition needs at least one value"),
            );
        }
    }

    fn action(&mut self, at: &str, a: &RuleAction, ctx: &Context) {
        let kind = a.kind;
        let set = [
            ("forward", "ForwardConfig", a.forward_config.is_some()),
            ("forward", "TargetGroupArn", a.target_group_arn.is_some()),
            (
                "fixed-response",
                "FixedResponseConfig",
                a.fixed_response_config.is_some(),
            ),
            ("redirect", "RedirectConfig", a.redirect_config.is_some()),
        ];
        for (owner, member, present) in set {
            if present && owner != kind.as_str() {
                self.error(
                    format!("{at}.{member}").as_str(),
                    "rule-action",
                    format!(
                        "`{member}` belongs to a {owner} action, not {}",
                        kind.as_str()
                    ),
                );
            }
        }
        match kind {
            ActionTypeEnum::Forward => self.forward(at, a, ctx),
            ActionTypeEnum::FixedResponse => match &a.fixed_response_config {
                None => self.error(
                    at,
                    "required",
                    "a fixed-response action needs FixedResponseConfig",
                ),
                Some(f) => {
                    let code = f.status_code.as_bytes();
                    let ok = code.len() == 3
                        && matches!(code[0], b'2' | b'4' | b'5')
                        && code.iter().all(u8::is_ascii_digit);
                    if !ok {
                        self.error(
                            format!("{at}.FixedResponseConfig.StatusCode").as_str(),
                            "rule-action",
                            format!("status code {:?} is not 2XX, 4XX or 5XX", f.status_code),
                        );
                    }
                }
            },
            ActionTypeEnum::Redirect => {
                if a.redirect_config.is_none() {
                    self.error(at, "required", "a redirect action needs RedirectConfig");
                }
            }
            other => self.error(
                format!("{at}.Type").as_str(),
                "rule-action",
                format!(
                    "{} actions are not managed by ecs-operator (forward, fixed-response, redirect)",
                    other.as_str()
                ),
            ),
        }
    }

    fn forward(&mut self, at: &str, a: &RuleAction, ctx: &Context) {
        match (&a.target_group_arn, &a.forward_config) {
            (Some(_), Some(_)) => self.error(
                at,
                "rule-action",
                "set TargetGroupArn or ForwardConfig, not both",
            ),
            (None, None) => self.error(
                at,
                "required",
                "a forward action needs ForwardConfig.TargetGroups (or TargetGroupArn)",
            ),
            _ => {}
        }
        let Some(f) = &a.forward_config else {
            return;
        };
        if f.target_groups.is_empty() || f.target_groups.len() > MAX_FORWARD_TARGET_GROUPS {
            self.error(
                format!("{at}.ForwardConfig.TargetGroups").as_str(),
                "rule-action",
                format!(
                    "a forward names 1 to {MAX_FORWARD_TARGET_GROUPS} target groups, got {}",
                    f.target_groups.len()
                ),
            );
        }
        for (i, tg) in f.target_groups.iter().enumerate() {
            let here = format!("{at}.ForwardConfig.TargetGroups[{i}]");
            match (&tg.target_group_name, &tg.target_group_arn) {
                (Some(name), None) => {
                    let found = ctx.target_group(name);
                    let known = !matches!(found, TargetGroupRef::Missing);
                    // An ALB forwards over HTTP or HTTPS (or to a Lambda function).
                    if let TargetGroupRef::Found(tg) = found
                        && let Some(p) = tg.protocol
                        && !matches!(p, TargetGroupProtocol::Http | TargetGroupProtocol::Https)
                    {
                        self.error(
                            format!("{here}.TargetGroupName").as_str(),
                            "target-group-protocol",
                            format!(
                                "TargetGroup `{name}` has protocol {p:?}; a listener rule forwards \
                                 only to HTTP or HTTPS target groups (an ALB's)"
                            ),
                        );
                    }
                    if !known {
                        self.error(
                            format!("{here}.TargetGroupName").as_str(),
                            "reference",
                            format!(
                                "no TargetGroup manifest named `{name}`; declare one, or use \
                                 TargetGroupArn for a group managed elsewhere"
                            ),
                        );
                    }
                }
                (None, Some(_)) => {}
                _ => self.error(
                    here.as_str(),
                    "rule-action",
                    "set exactly one of TargetGroupName (a TargetGroup manifest) or TargetGroupArn",
                ),
            }
            if let Some(w) = tg.weight
                && w > MAX_WEIGHT
            {
                self.error(
                    format!("{here}.Weight").as_str(),
                    "range",
                    format!("weight {w} is not in 0..{MAX_WEIGHT}"),
                );
            }
        }
        if let Some(s) = &f.target_group_stickiness_config
            && let Some(d) = s.duration_seconds
            && !(1..=MAX_STICKINESS_SECONDS).contains(&d)
        {
            self.error(
                format!("{at}.ForwardConfig.TargetGroupStickinessConfig.DurationSeconds").as_str(),
                "range",
                format!("stickiness duration {d} is not in 1..{MAX_STICKINESS_SECONDS} seconds"),
            );
        }
    }
}

/// The actions that end a rule's evaluation.
fn is_final(kind: ActionTypeEnum) -> bool {
    matches!(
        kind,
        ActionTypeEnum::Forward | ActionTypeEnum::FixedResponse | ActionTypeEnum::Redirect
    )
}

/// Priorities are unique per listener: a second rule at the same listener and priority is an
/// error naming the first one's file and line.
pub(super) fn unique_priorities(loaded: &Loaded, out: &mut Vec<Diagnostic>) {
    let mut first: HashMap<(&ListenerRef, u32), &crate::manifest::load::Document> = HashMap::new();
    for doc in &loaded.documents {
        let Some(rule) = doc.manifest.as_listener_rule() else {
            continue;
        };
        match first.get(&(&rule.listener, rule.priority)) {
            Some(prev) => {
                let path = FieldPath::parse("spec.priority");
                out.push(Diagnostic::error(
                    &doc.file,
                    doc.line_of(&path),
                    path,
                    "duplicate-priority",
                    format!(
                        "priority {} on listener {} is also used by {} at {}:{}; priorities are \
                         unique per listener",
                        rule.priority,
                        rule.listener,
                        prev.manifest.key(),
                        prev.file.display(),
                        prev.line
                    ),
                ));
            }
            None => {
                first.insert((&rule.listener, rule.priority), doc);
            }
        }
    }
}
