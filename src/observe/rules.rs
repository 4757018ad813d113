//! Reading listener rules (issue 14): a listener named by load balancer and port is resolved
//! once per process (DescribeLoadBalancers by 20 names, then DescribeListeners per load
//! balancer, every port of it remembered), and each listener the manifests name costs one
//! DescribeRules a page of 400 and one DescribeTags per 20 rules at each observation. A
//! listener that is gone (ListenerNotFound) is forgotten from the cache and reads as missing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use super::{Observed, Observer};
use crate::cloud::model::{Rule, Tags};
use crate::cloud::{CloudError, ErrorKind, MAX_DESCRIBE_LOAD_BALANCERS, MAX_TAG_ARNS, all_pages};
use crate::manifest::listener_rule::ListenerRef;

/// A live rule with its tags.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedRule {
    /// The rule.
    pub rule: Rule,
    /// Its tags (none read for the default rule).
    pub tags: Tags,
}

/// Listener ARNs by (load balancer name, port), for the life of the process.
#[derive(Debug, Default)]
pub struct ListenerCache(Mutex<HashMap<(String, u32), String>>);

impl ListenerCache {
    fn get(&self, name: &str, port: u32) -> Option<String> {
        self.lock().get(&(name.to_string(), port)).cloned()
    }

    fn forget(&self, arn: &str) {
        self.lock().retain(|_, v| v != arn);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, u32), String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Observer {
    /// Resolves every listener in `wanted` and reads the rules of each (with tags) into
    /// `out`: `out.listeners` maps each reference to its ARN (`None`: no such load balancer or
    /// listener), `out.rules` holds each listener's rules in priority order.
    pub async fn observe_rules(
        &self,
        wanted: &BTreeSet<ListenerRef>,
        out: &mut Observed,
    ) -> Result<(), CloudError> {
        if wanted.is_empty() {
            return Ok(());
        }
        let names: BTreeSet<String> = wanted
            .iter()
            .filter(|l| l.arn.is_none())
            .filter(|l| {
                let (Some(n), Some(p)) = (&l.load_balancer_name, l.port) else {
                    return false;
                };
                self.listeners.get(n, p).is_none()
            })
            .filter_map(|l| l.load_balancer_name.clone())
            .collect();
        self.resolve_load_balancers(&names).await?;
        let mut arns = BTreeSet::new();
        for l in wanted {
            let arn = match (&l.arn, &l.load_balancer_name, l.port) {
                (Some(arn), _, _) => Some(arn.clone()),
                (None, Some(n), Some(p)) => self.listeners.get(n, p),
                _ => None,
            };
            arns.extend(arn.clone());
            out.listeners.insert(l.clone(), arn);
        }
        for arn in arns {
            match self.listener_rules(&arn).await? {
                Some(rules) => {
                    out.rules.insert(arn, rules);
                }
                None => {
                    self.listeners.forget(&arn);
                    for v in out.listeners.values_mut() {
                        if v.as_deref() == Some(arn.as_str()) {
                            *v = None;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Fills the listener cache for these load balancers (those that exist).
    async fn resolve_load_balancers(&self, names: &BTreeSet<String>) -> Result<(), CloudError> {
        let names: Vec<String> = names.iter().cloned().collect();
        let mut found = Vec::new();
        for batch in names.chunks(MAX_DESCRIBE_LOAD_BALANCERS) {
            match self.cloud.elbv2.describe_load_balancers(batch).await {
                Ok(lbs) => found.extend(lbs),
                // One missing name fails the call: ask for the others one by one.
                Err(e) if e.kind == ErrorKind::NotFound && batch.len() > 1 => {
                    for name in batch {
                        match self
                            .cloud
                            .elbv2
                            .describe_load_balancers(std::slice::from_ref(name))
                            .await
                        {
                            Ok(lbs) => found.extend(lbs),
                            Err(e) if e.kind == ErrorKind::NotFound => {}
                            Err(e) => return Err(e),
                        }
                    }
                }
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        for lb in found {
            let elbv2 = &self.cloud.elbv2;
            let arn = &lb.arn;
            let listeners = all_pages(|marker| async move {
                elbv2.describe_listeners(arn, marker.as_deref()).await
            })
            .await?;
            let mut cache = self.listeners.lock();
            for l in listeners {
                cache.insert((lb.name.clone(), l.port), l.arn);
            }
        }
        Ok(())
    }

    /// Every rule of a listener with its tags; `None` when the listener does not exist.
    pub async fn listener_rules(
        &self,
        listener_arn: &str,
    ) -> Result<Option<Vec<ObservedRule>>, CloudError> {
        let elbv2 = &self.cloud.elbv2;
        let rules = match all_pages(|marker| async move {
            elbv2.describe_rules(listener_arn, marker.as_deref()).await
        })
        .await
        {
            Ok(rules) => rules,
            Err(e) if e.kind == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let arns: Vec<String> = rules
            .iter()
            .filter(|r| !r.is_default)
            .map(|r| r.arn.clone())
            .collect();
        let mut tags: BTreeMap<String, Tags> = BTreeMap::new();
        for batch in arns.chunks(MAX_TAG_ARNS) {
            tags.extend(self.cloud.elbv2.describe_tags(batch).await?);
        }
        Ok(Some(
            rules
                .into_iter()
                .map(|rule| ObservedRule {
                    tags: tags.remove(&rule.arn).unwrap_or_default(),
                    rule,
                })
                .collect(),
        ))
    }

    /// The listeners of the load balancers with these ARNs (prune and import look there).
    pub async fn listeners_of(
        &self,
        load_balancer_arns: &BTreeSet<String>,
    ) -> Result<Vec<crate::cloud::model::Listener>, CloudError> {
        let mut out = Vec::new();
        for arn in load_balancer_arns {
            let elbv2 = &self.cloud.elbv2;
            match all_pages(|marker| async move {
                elbv2.describe_listeners(arn, marker.as_deref()).await
            })
            .await
            {
                Ok(l) => out.extend(l),
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}
