//! ELBv2 load balancers, listeners and listener rules: the seeded load balancer (the quick
//! start's `shop-alb` with an HTTP:80 listener whose default action answers 404: load
//! balancers and listeners are managed elsewhere, the operator only reads them), the rule
//! calls with ELBv2's checks (priority range and uniqueness per listener, target groups that
//! exist, the default rule left alone), rules stored as DescribeRules answers them
//! (`cloud::defaults::listener_rule`), and [`State::route`]: which rule a request matches.

use std::net::Ipv4Addr;

use super::arn;
use super::records::{ElbState, RuleState};
use super::state::State;
use crate::cloud::defaults::listener_rule as defaults;
use crate::cloud::error::{CloudError, CloudResult};
use crate::cloud::model::{
    CreateRule, Listener, LoadBalancer, Page, Rule, RuleAction, RuleCondition, Tags,
};
use crate::cloud::{MAX_DESCRIBE_LOAD_BALANCERS, MAX_ELBV2_PAGE};
use crate::manifest::listener_rule::{
    ActionTypeEnum, FixedResponseActionConfig, MAX_PRIORITY, MIN_PRIORITY,
};

/// The seeded load balancer's name (the quick start's).
pub(super) const SEEDED_LOAD_BALANCER: &str = "shop-alb";
/// The port of its HTTP listener.
pub(super) const SEEDED_PORT: u32 = 80;
/// Rules one listener may hold besides its default (ELBv2's quota).
const MAX_RULES: usize = 100;

fn validation(operation: &'static str, message: impl Into<String>) -> CloudError {
    CloudError::from_code(operation, "ValidationError", message)
}

fn rule_not_found(operation: &'static str, arn: &str) -> CloudError {
    CloudError::from_code(
        operation,
        "RuleNotFound",
        format!("One or more rules not found: '{arn}'"),
    )
}

/// A request the simulated load balancer routes ([`State::route`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimRequest {
    /// `Host` header.
    pub host: String,
    /// Path (`/api/items`).
    pub path: String,
    /// Method (`GET`).
    pub method: String,
    /// Headers (name, value).
    pub headers: Vec<(String, String)>,
    /// Query parameters (key, value).
    pub query: Vec<(String, String)>,
    /// Client address.
    pub source_ip: Option<Ipv4Addr>,
}

impl SimRequest {
    /// A GET of `path` on `host`.
    pub fn get(host: &str, path: &str) -> SimRequest {
        SimRequest {
            host: host.into(),
            path: path.into(),
            method: "GET".into(),
            ..SimRequest::default()
        }
    }
}

/// Where a request went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimRoute {
    /// Forwarded to these target groups (name, weight).
    Forward(Vec<(String, u32)>),
    /// Answered by the load balancer with this status code.
    Fixed(String),
    /// Redirected (status code).
    Redirect(String),
}

impl State {
    /// The seeded load balancers: `shop-alb` with an HTTP:80 listener and its default rule.
    pub(super) fn seeded_elb(&self) -> ElbState {
        let lb_arn = self
            .arns
            .load_balancer(SEEDED_LOAD_BALANCER, "50dc6c495c0c9188");
        let listener_arn = self.arns.listener(&lb_arn, "f2f7dc8efc522ab2");
        let mut elb = ElbState::default();
        elb.load_balancers.insert(
            SEEDED_LOAD_BALANCER.into(),
            LoadBalancer {
                name: SEEDED_LOAD_BALANCER.into(),
                arn: lb_arn.clone(),
                kind: "application".into(),
            },
        );
        elb.listeners.insert(
            listener_arn.clone(),
            Listener {
                arn: listener_arn.clone(),
                load_balancer_arn: lb_arn,
                port: SEEDED_PORT,
                protocol: "HTTP".into(),
            },
        );
        let default_rule = Rule {
            arn: self.arns.rule(&listener_arn, "0000000000000000"),
            listener_arn,
            priority: None,
            conditions: Vec::new(),
            actions: defaults::described_actions(&[RuleAction {
                kind: ActionTypeEnum::FixedResponse,
                target_group_arn: None,
                order: None,
                redirect_config: None,
                fixed_response_config: Some(FixedResponseActionConfig {
                    message_body: None,
                    status_code: "404".into(),
                    content_type: Some("text/plain".into()),
                }),
                forward_config: None,
            }]),
            is_default: true,
        };
        elb.rules.insert(
            default_rule.arn.clone(),
            RuleState {
                rule: default_rule,
                tags: Tags::new(),
            },
        );
        elb
    }

    /// DescribeLoadBalancers by name: all of them, or LoadBalancerNotFound.
    pub(super) fn describe_load_balancers(
        &self,
        names: &[String],
    ) -> CloudResult<Vec<LoadBalancer>> {
        const OP: &str = "DescribeLoadBalancers";
        if names.len() > MAX_DESCRIBE_LOAD_BALANCERS {
            return Err(validation(
                OP,
                format!("You can specify up to {MAX_DESCRIBE_LOAD_BALANCERS} load balancer names"),
            ));
        }
        let mut found = Vec::new();
        for name in names {
            match self.elb.load_balancers.get(name) {
                Some(lb) => found.push(lb.clone()),
                None => {
                    return Err(CloudError::from_code(
                        OP,
                        "LoadBalancerNotFound",
                        format!("Load balancers '[{name}]' not found"),
                    ));
                }
            }
        }
        Ok(found)
    }

    /// DescribeListeners of a load balancer, in ARN order, a page at a time.
    pub(super) fn describe_listeners(
        &self,
        load_balancer_arn: &str,
        marker: Option<&str>,
    ) -> CloudResult<Page<Listener>> {
        const OP: &str = "DescribeListeners";
        if !self
            .elb
            .load_balancers
            .values()
            .any(|lb| lb.arn == load_balancer_arn)
        {
            return Err(CloudError::from_code(
                OP,
                "LoadBalancerNotFound",
                format!("Load balancer '{load_balancer_arn}' not found"),
            ));
        }
        let all: Vec<Listener> = self
            .elb
            .listeners
            .values()
            .filter(|l| l.load_balancer_arn == load_balancer_arn)
            .cloned()
            .collect();
        page(OP, all, marker, |l| l.arn.clone())
    }

    fn listener(&self, operation: &'static str, arn: &str) -> CloudResult<&Listener> {
        self.elb.listeners.get(arn).ok_or_else(|| {
            CloudError::from_code(
                operation,
                "ListenerNotFound",
                format!("One or more listeners not found: '{arn}'"),
            )
        })
    }

    /// The rules of a listener in evaluation order (the default last).
    fn rules_of(&self, listener_arn: &str) -> Vec<&RuleState> {
        let mut rules: Vec<&RuleState> = self
            .elb
            .rules
            .values()
            .filter(|r| r.rule.listener_arn == listener_arn)
            .collect();
        rules.sort_by_key(|r| (r.rule.is_default, r.rule.priority, r.rule.arn.clone()));
        rules
    }

    /// DescribeRules of a listener, in evaluation order, a page at a time.
    pub(super) fn describe_rules(
        &self,
        listener_arn: &str,
        marker: Option<&str>,
    ) -> CloudResult<Page<Rule>> {
        const OP: &str = "DescribeRules";
        self.listener(OP, listener_arn)?;
        let all: Vec<Rule> = self
            .rules_of(listener_arn)
            .into_iter()
            .map(|r| r.rule.clone())
            .collect();
        // Tokens are positions: the order is by priority, not by a key.
        let start = match marker {
            Some(m) => arn::parse_page_token(m)
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or_else(|| validation(OP, "Invalid marker"))?,
            None => 0,
        };
        let end = (start + MAX_ELBV2_PAGE).min(all.len());
        let items = all.get(start..end).unwrap_or_default().to_vec();
        let next_token = (end < all.len()).then(|| arn::page_token(&end.to_string()));
        Ok(Page { items, next_token })
    }

    /// The target group ARNs the actions forward to exist; their load balancer is recorded on
    /// them (as ELBv2 lists `LoadBalancerArns`).
    fn check_actions(
        &mut self,
        operation: &'static str,
        listener_arn: &str,
        conditions: &[RuleCondition],
        actions: &[RuleAction],
    ) -> CloudResult<()> {
        if conditions.is_empty() {
            return Err(validation(
                operation,
                "A rule must have at least one condition",
            ));
        }
        if actions.is_empty() {
            return Err(validation(
                operation,
                "A rule must have at least one action",
            ));
        }
        let lb = self
            .listener(operation, listener_arn)?
            .load_balancer_arn
            .clone();
        let filled = defaults::fill_actions(actions);
        let arns: Vec<String> = filled
            .iter()
            .filter_map(|a| a.forward_config.as_ref())
            .flat_map(|f| &f.target_groups)
            .map(|t| t.target_group_arn.clone().unwrap_or_default())
            .collect();
        for a in &arns {
            if !self.target_groups.contains_key(a) {
                return Err(CloudError::from_code(
                    operation,
                    "TargetGroupNotFound",
                    format!("Target groups '{a}' not found"),
                ));
            }
        }
        for a in arns {
            if let Some(g) = self.target_groups.get_mut(&a)
                && !g.group.load_balancer_arns.contains(&lb)
            {
                g.group.load_balancer_arns.push(lb.clone());
            }
        }
        Ok(())
    }

    /// CreateRule.
    pub(super) fn create_rule(&mut self, input: &CreateRule) -> CloudResult<Rule> {
        const OP: &str = "CreateRule";
        self.listener(OP, &input.listener_arn)?;
        if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&input.priority) {
            return Err(validation(
                OP,
                format!("Priority must be between {MIN_PRIORITY} and {MAX_PRIORITY}"),
            ));
        }
        let rules = self.rules_of(&input.listener_arn);
        if rules
            .iter()
            .any(|r| r.rule.priority == Some(input.priority))
        {
            return Err(CloudError::from_code(
                OP,
                "PriorityInUse",
                format!("Priority '{}' is currently in use", input.priority),
            ));
        }
        if rules.len() > MAX_RULES {
            return Err(CloudError::from_code(OP, "TooManyRules", "Too many rules"));
        }
        self.check_actions(OP, &input.listener_arn, &input.conditions, &input.actions)?;
        let arn = self
            .arns
            .rule(&input.listener_arn, &arn::hex(&mut self.rng, 16));
        let rule = Rule {
            arn: arn.clone(),
            listener_arn: input.listener_arn.clone(),
            priority: Some(input.priority),
            conditions: defaults::described_conditions(&input.conditions),
            actions: defaults::described_actions(&input.actions),
            is_default: false,
        };
        self.elb.rules.insert(
            arn,
            RuleState {
                rule: rule.clone(),
                tags: input.tags.clone(),
            },
        );
        Ok(rule)
    }

    /// ModifyRule: conditions and actions replaced.
    pub(super) fn modify_rule(
        &mut self,
        rule_arn: &str,
        conditions: &[RuleCondition],
        actions: &[RuleAction],
    ) -> CloudResult<Rule> {
        const OP: &str = "ModifyRule";
        let listener = self
            .elb
            .rules
            .get(rule_arn)
            .ok_or_else(|| rule_not_found(OP, rule_arn))?
            .rule
            .listener_arn
            .clone();
        self.check_actions(OP, &listener, conditions, actions)?;
        let r = self
            .elb
            .rules
            .get_mut(rule_arn)
            .ok_or_else(|| rule_not_found(OP, rule_arn))?;
        if r.rule.is_default {
            return Err(CloudError::from_code(
                OP,
                "OperationNotPermitted",
                "The default rule's conditions cannot be modified",
            ));
        }
        r.rule.conditions = defaults::described_conditions(conditions);
        r.rule.actions = defaults::described_actions(actions);
        Ok(r.rule.clone())
    }

    /// SetRulePriorities: every pair or none; the new priorities unique on each listener.
    pub(super) fn set_rule_priorities(
        &mut self,
        pairs: &[(String, u32)],
    ) -> CloudResult<Vec<Rule>> {
        const OP: &str = "SetRulePriorities";
        for (arn, p) in pairs {
            let r = self
                .elb
                .rules
                .get(arn)
                .ok_or_else(|| rule_not_found(OP, arn))?;
            if r.rule.is_default {
                return Err(CloudError::from_code(
                    OP,
                    "OperationNotPermitted",
                    "The default rule's priority cannot be changed",
                ));
            }
            if !(MIN_PRIORITY..=MAX_PRIORITY).contains(p) {
                return Err(validation(
                    OP,
                    format!("Priority must be between {MIN_PRIORITY} and {MAX_PRIORITY}"),
                ));
            }
        }
        let priority_after = |r: &RuleState| {
            pairs
                .iter()
                .find(|(a, _)| *a == r.rule.arn)
                .map(|(_, p)| Some(*p))
                .unwrap_or(r.rule.priority)
        };
        for (arn, p) in pairs {
            let listener = &self.elb.rules[arn].rule.listener_arn;
            let clash = self
                .rules_of(listener)
                .iter()
                .filter(|r| r.rule.arn != *arn)
                .any(|r| priority_after(r) == Some(*p));
            if clash {
                return Err(CloudError::from_code(
                    OP,
                    "PriorityInUse",
                    format!("Priority '{p}' is currently in use"),
                ));
            }
        }
        let mut out = Vec::new();
        for (arn, p) in pairs {
            if let Some(r) = self.elb.rules.get_mut(arn) {
                r.rule.priority = Some(*p);
                out.push(r.rule.clone());
            }
        }
        Ok(out)
    }

    /// DeleteRule.
    pub(super) fn delete_rule(&mut self, rule_arn: &str) -> CloudResult<()> {
        const OP: &str = "DeleteRule";
        let r = self
            .elb
            .rules
            .get(rule_arn)
            .ok_or_else(|| rule_not_found(OP, rule_arn))?;
        if r.rule.is_default {
            return Err(CloudError::from_code(
                OP,
                "OperationNotPermitted",
                "The default rule cannot be deleted",
            ));
        }
        self.elb.rules.remove(rule_arn);
        Ok(())
    }

    /// The tags of a rule, if `arn` is one.
    pub(super) fn rule_tags(&self, arn: &str) -> Option<&Tags> {
        self.elb.rules.get(arn).map(|r| &r.tags)
    }

    /// The tags of a rule, to change.
    pub(super) fn rule_tags_mut(&mut self, arn: &str) -> Option<&mut Tags> {
        self.elb.rules.get_mut(arn).map(|r| &mut r.tags)
    }

    /// Whether a rule forwards to the target group (DeleteTargetGroup refuses then).
    pub(super) fn rule_forwarding_to(&self, target_group_arn: &str) -> Option<&str> {
        self.elb
            .rules
            .values()
            .find(|r| {
                defaults::fill_actions(&r.rule.actions)
                    .iter()
                    .filter_map(|a| a.forward_config.as_ref())
                    .flat_map(|f| &f.target_groups)
                    .any(|t| t.target_group_arn.as_deref() == Some(target_group_arn))
            })
            .map(|r| r.rule.arn.as_str())
    }

    /// Where the listener on `port` of load balancer `name` sends `request`: the first rule
    /// by priority whose conditions all match, else the default action. `None` when there is
    /// no such listener.
    pub(super) fn route(&self, name: &str, port: u32, request: &SimRequest) -> Option<SimRoute> {
        let lb = self.elb.load_balancers.get(name)?;
        let listener = self
            .elb
            .listeners
            .values()
            .find(|l| l.load_balancer_arn == lb.arn && l.port == port)?;
        let rule = self.rules_of(&listener.arn).into_iter().find(|r| {
            r.rule.is_default
                || defaults::fill_conditions(&r.rule.conditions)
                    .iter()
                    .all(|c| matches(c, request))
        })?;
        let action = defaults::fill_actions(&rule.rule.actions)
            .into_iter()
            .find(|a| {
                matches!(
                    a.kind,
                    ActionTypeEnum::Forward
                        | ActionTypeEnum::FixedResponse
                        | ActionTypeEnum::Redirect
                )
            })?;
        Some(match action.kind {
            ActionTypeEnum::Forward => SimRoute::Forward(
                action
                    .forward_config
                    .unwrap_or_default()
                    .target_groups
                    .iter()
                    .map(|t| {
                        let arn = t.target_group_arn.clone().unwrap_or_default();
                        let name = self
                            .target_groups
                            .get(&arn)
                            .map_or(arn, |g| g.group.name.clone());
                        (name, t.weight.unwrap_or(defaults::WEIGHT))
                    })
                    .collect(),
            ),
            ActionTypeEnum::Redirect => SimRoute::Redirect(
                action
                    .redirect_config
                    .map(|r| r.status_code.as_str().to_string())
                    .unwrap_or_default(),
            ),
            _ => SimRoute::Fixed(
                action
                    .fixed_response_config
                    .map(|f| f.status_code)
                    .unwrap_or_default(),
            ),
        })
    }
}

/// One page of `all` after the item whose key is the marker.
fn page<T>(
    operation: &'static str,
    all: Vec<T>,
    marker: Option<&str>,
    key: impl Fn(&T) -> String,
) -> CloudResult<Page<T>> {
    let after = match marker {
        Some(m) => {
            Some(arn::parse_page_token(m).ok_or_else(|| validation(operation, "Invalid marker"))?)
        }
        None => None,
    };
    let mut rest: Vec<T> = all
        .into_iter()
        .filter(|t| after.as_ref().is_none_or(|a| key(t) > *a))
        .collect();
    let next_token =
        (rest.len() > MAX_ELBV2_PAGE).then(|| arn::page_token(&key(&rest[MAX_ELBV2_PAGE - 1])));
    rest.truncate(MAX_ELBV2_PAGE);
    Ok(Page {
        items: rest,
        next_token,
    })
}

/// ELBv2's wildcard match: `*` any run of characters, `?` one.
fn wildcard(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = if case_insensitive {
        (
            pattern.to_lowercase().chars().collect(),
            value.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), value.chars().collect())
    };
    // Classic two-pointer match with backtracking to the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < v.len() {
        if i < p.len() && (p[i] == '?' || p[i] == v[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

fn in_cidr(cidr: &str, ip: Ipv4Addr) -> bool {
    let (net, bits) = cidr.split_once('/').unwrap_or((cidr, "32"));
    let (Ok(net), Ok(bits)) = (net.parse::<Ipv4Addr>(), bits.parse::<u32>()) else {
        return false;
    };
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits.min(32))
    };
    u32::from(net) & mask == u32::from(ip) & mask
}

/// Whether one condition (comparable form) matches the request.
fn matches(c: &RuleCondition, r: &SimRequest) -> bool {
    let any =
        |values: &[String], value: &str, ci: bool| values.iter().any(|p| wildcard(p, value, ci));
    match c.field.as_deref() {
        Some("path-pattern") => c
            .path_pattern_config
            .as_ref()
            .is_some_and(|p| any(&p.values, &r.path, false)),
        Some("host-header") => c
            .host_header_config
            .as_ref()
            .is_some_and(|h| any(&h.values, &r.host, true)),
        Some("http-request-method") => c
            .http_request_method_config
            .as_ref()
            .is_some_and(|m| m.values.contains(&r.method)),
        Some("http-header") => c.http_header_config.as_ref().is_some_and(|h| {
            let name = h.http_header_name.as_deref().unwrap_or_default();
            r.headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(name) && any(&h.values, v, true))
        }),
        Some("query-string") => c.query_string_config.as_ref().is_some_and(|q| {
            q.values.iter().any(|kv| {
                r.query.iter().any(|(k, v)| {
                    kv.key.as_deref().is_none_or(|want| wildcard(want, k, true))
                        && kv
                            .value
                            .as_deref()
                            .is_some_and(|want| wildcard(want, v, true))
                })
            })
        }),
        Some("source-ip") => c.source_ip_config.as_ref().is_some_and(|s| {
            r.source_ip
                .is_some_and(|ip| s.values.iter().any(|cidr| in_cidr(cidr, ip)))
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_elbv2_does() {
        let cases = [
            ("/api/*", "/api/items", false, true),
            ("/api/*", "/api", false, false),
            ("/*", "/", false, true),
            ("/img/?.png", "/img/a.png", false, true),
            ("/img/?.png", "/img/ab.png", false, false),
            ("*.example.com", "Shop.Example.com", true, true),
            ("/API/*", "/api/x", false, false),
        ];
        for (p, v, ci, want) in cases {
            assert_eq!(wildcard(p, v, ci), want, "{p} ~ {v}");
        }
        assert!(in_cidr("10.0.0.0/8", Ipv4Addr::new(10, 1, 2, 3)));
        assert!(!in_cidr("10.0.0.0/8", Ipv4Addr::new(11, 1, 2, 3)));
        assert!(in_cidr("0.0.0.0/0", Ipv4Addr::new(1, 1, 1, 1)));
    }
}
