//! The [`AutoScaling`] forwarding of [`Layered`]: every Application Auto Scaling call through
//! the same layers as the ECS and ELBv2 calls (rate limits, the leader gate, metrics, the
//! failure log, the simulator's counter and faults). The resource is the service's resource id
//! (`service/shop/api`).

use async_trait::async_trait;

use super::{Layered, Resource};
use crate::cloud::model::Page;
use crate::cloud::model::scaling::{
    PutScalingPolicy, RegisterScalableTarget, ScalableTarget, ScalingPolicy, ScheduledAction,
};
use crate::cloud::operation::Operation;
use crate::cloud::{AutoScaling, CloudResult};

/// `Some(id)` as a resource, or nothing (a namespace-wide read).
fn maybe(id: Option<&str>) -> Resource<'_> {
    id.map_or(Resource::None, Resource::One)
}

#[async_trait]
impl AutoScaling for Layered {
    async fn register_scalable_target(&self, input: &RegisterScalableTarget) -> CloudResult<()> {
        let call = self.inner.autoscaling.register_scalable_target(input);
        let resource = Resource::One(&input.resource_id);
        self.run(Operation::RegisterScalableTarget, resource, call)
            .await
    }

    async fn describe_scalable_targets(
        &self,
        resource_ids: &[String],
        next_token: Option<&str>,
    ) -> CloudResult<Page<ScalableTarget>> {
        let call = self
            .inner
            .autoscaling
            .describe_scalable_targets(resource_ids, next_token);
        let resource = Resource::Many(resource_ids);
        self.run(Operation::DescribeScalableTargets, resource, call)
            .await
    }

    async fn deregister_scalable_target(&self, resource_id: &str) -> CloudResult<()> {
        let call = self
            .inner
            .autoscaling
            .deregister_scalable_target(resource_id);
        let resource = Resource::One(resource_id);
        self.run(Operation::DeregisterScalableTarget, resource, call)
            .await
    }

    async fn put_scaling_policy(&self, input: &PutScalingPolicy) -> CloudResult<String> {
        let call = self.inner.autoscaling.put_scaling_policy(input);
        let resource = Resource::Within(&input.resource_id, &input.name);
        self.run(Operation::PutScalingPolicy, resource, call).await
    }

    async fn describe_scaling_policies(
        &self,
        resource_id: Option<&str>,
        next_token: Option<&str>,
    ) -> CloudResult<Page<ScalingPolicy>> {
        let call = self
            .inner
            .autoscaling
            .describe_scaling_policies(resource_id, next_token);
        self.run(Operation::DescribeScalingPolicies, maybe(resource_id), call)
            .await
    }

    async fn delete_scaling_policy(&self, resource_id: &str, name: &str) -> CloudResult<()> {
        let call = self
            .inner
            .autoscaling
            .delete_scaling_policy(resource_id, name);
        let resource = Resource::Within(resource_id, name);
        self.run(Operation::DeleteScalingPolicy, resource, call)
            .await
    }

    async fn put_scheduled_action(&self, input: &ScheduledAction) -> CloudResult<()> {
        let call = self.inner.autoscaling.put_scheduled_action(input);
        let resource = Resource::Within(&input.resource_id, &input.name);
        self.run(Operation::PutScheduledAction, resource, call)
            .await
    }

    async fn describe_scheduled_actions(
        &self,
        resource_id: Option<&str>,
        next_token: Option<&str>,
    ) -> CloudResult<Page<ScheduledAction>> {
        let call = self
            .inner
            .autoscaling
            .describe_scheduled_actions(resource_id, next_token);
        self.run(
            Operation::DescribeScheduledActions,
            maybe(resource_id),
            call,
        )
        .await
    }

    async fn delete_scheduled_action(&self, resource_id: &str, name: &str) -> CloudResult<()> {
        let call = self
            .inner
            .autoscaling
            .delete_scheduled_action(resource_id, name);
        let resource = Resource::Within(resource_id, name);
        self.run(Operation::DeleteScheduledAction, resource, call)
            .await
    }
}
