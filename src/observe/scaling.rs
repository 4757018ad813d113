//! Reading the Application Auto Scaling of the services whose manifests set `autoScaling`:
//! DescribeScalableTargets by 50 resource ids, then (only when one of them has a target) the
//! namespace's policies by pages of 10 and its scheduled actions by pages of 50, kept for the
//! wanted services. Pages rather than one call per service: with one policy per service a
//! resync reads a tenth of the calls (BENCHMARKS.md). Also the target groups whose load
//! balancer gives ALBRequestCountPerTarget its resource label.

use std::collections::{BTreeSet, HashMap};

use super::Observer;
use crate::cloud::model::TargetGroup;
use crate::cloud::model::scaling::ServiceScaling;
use crate::cloud::{CloudError, MAX_SCALING_RESOURCE_IDS, all_pages};

impl Observer {
    /// The scaling of each resource id (`service/<cluster>/<service>`) that has a target.
    pub async fn scaling(
        &self,
        ids: &BTreeSet<String>,
    ) -> Result<HashMap<String, ServiceScaling>, CloudError> {
        let mut out: HashMap<String, ServiceScaling> = HashMap::new();
        let ids: Vec<String> = ids.iter().cloned().collect();
        let api = &self.cloud.autoscaling;
        for batch in ids.chunks(MAX_SCALING_RESOURCE_IDS) {
            let targets = all_pages(|token| async move {
                api.describe_scalable_targets(batch, token.as_deref()).await
            })
            .await?;
            for t in targets {
                let id = t.resource_id.clone();
                out.entry(id).or_default().target = Some(t);
            }
        }
        if out.is_empty() {
            return Ok(out);
        }
        let policies = all_pages(|token| async move {
            api.describe_scaling_policies(None, token.as_deref()).await
        })
        .await?;
        for p in policies {
            if let Some(s) = out.get_mut(&p.resource_id) {
                s.policies.push(p);
            }
        }
        let actions = all_pages(|token| async move {
            api.describe_scheduled_actions(None, token.as_deref()).await
        })
        .await?;
        for a in actions {
            if let Some(s) = out.get_mut(&a.resource_id) {
                s.scheduled.push(a);
            }
        }
        Ok(out)
    }

    /// Target groups by name (for their load balancer ARNs), 20 per call.
    pub async fn label_groups(
        &self,
        names: &BTreeSet<String>,
    ) -> Result<HashMap<String, TargetGroup>, CloudError> {
        Ok(self
            .target_groups(names)
            .await?
            .into_iter()
            .map(|g| (g.name.clone(), g))
            .collect())
    }
}
