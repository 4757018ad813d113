//! ListServiceDeployments and DescribeServiceDeployments through aws-sdk-ecs, and the answers
//! in the operator's types. An endpoint without them (moto 5.2.1 answers HTTP 500 with an HTML
//! page and no AWS error code) is detected at the first call and remembered for the process:
//! later calls answer [`CloudError::not_implemented`] without a request, and the rollout
//! follows DescribeServices' `deployments[]` instead.

use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types as sdk;
use tracing::{debug, info};

use super::convert::time;
use super::errors::sdk_error;
use crate::cloud::MAX_LIST_SERVICE_DEPLOYMENTS;
use crate::cloud::error::{CloudError, CloudResult};
use crate::cloud::model::{
    Described, LifecycleStage, Page, ServiceDeployment, ServiceDeploymentBrief,
    ServiceDeploymentRollback, ServiceDeploymentStatus,
};
use crate::manifest::service::DeploymentStrategy;

/// Whether this process found the deployments API missing (one flag per client).
#[derive(Debug, Default)]
pub(super) struct Support {
    missing: AtomicBool,
}

impl Support {
    /// The remembered answer, without a request, once the API was found missing.
    fn check(&self, operation: &'static str) -> CloudResult<()> {
        if self.missing.load(Ordering::Relaxed) {
            return Err(CloudError::not_implemented(operation));
        }
        Ok(())
    }

    /// An error of the API: a server error without an AWS error code (an HTML page, not
    /// AWS's JSON) means the endpoint does not implement the call; remembered.
    fn judge(&self, error: CloudError) -> CloudError {
        let missing = error.code.is_none() && matches!(error.http_status, Some(404 | 500 | 501));
        if !missing {
            return error;
        }
        if !self.missing.swap(true, Ordering::Relaxed) {
            info!(
                operation = error.operation,
                "the endpoint does not implement the service deployments API: rollouts are followed by DescribeServices' deployments"
            );
        }
        CloudError::not_implemented(error.operation)
    }
}

fn status(s: Option<&sdk::ServiceDeploymentStatus>) -> Option<ServiceDeploymentStatus> {
    s.and_then(|s| ServiceDeploymentStatus::from_aws(s.as_str()))
}

/// ListServiceDeployments, one page, newest first.
pub(super) async fn list(
    client: &Client,
    support: &Support,
    cluster: &str,
    service: &str,
    next_token: Option<&str>,
) -> CloudResult<Page<ServiceDeploymentBrief>> {
    const OP: &str = "ListServiceDeployments";
    support.check(OP)?;
    debug!(operation = OP, cluster, service);
    let out = client
        .list_service_deployments()
        .cluster(cluster)
        .service(service)
        .max_results(MAX_LIST_SERVICE_DEPLOYMENTS as i32)
        .set_next_token(next_token.map(str::to_owned))
        .send()
        .await
        .map_err(sdk_error(OP))
        .map_err(|e| support.judge(e))?;
    Ok(Page {
        items: out
            .service_deployments()
            .iter()
            .map(|b| ServiceDeploymentBrief {
                arn: b.service_deployment_arn().unwrap_or_default().to_owned(),
                status: status(b.status()),
                target_service_revision_arn: b.target_service_revision_arn().map(str::to_owned),
                created_at: time(b.created_at()),
            })
            .collect(),
        next_token: out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_owned),
    })
}

/// DescribeServiceDeployments.
pub(super) async fn describe(
    client: &Client,
    support: &Support,
    arns: &[String],
) -> CloudResult<Described<ServiceDeployment>> {
    const OP: &str = "DescribeServiceDeployments";
    if arns.is_empty() {
        return Ok(Described::default());
    }
    support.check(OP)?;
    debug!(operation = OP, deployments = arns.len());
    let out = client
        .describe_service_deployments()
        .set_service_deployment_arns(Some(arns.to_vec()))
        .send()
        .await
        .map_err(sdk_error(OP))
        .map_err(|e| support.judge(e))?;
    let found: Vec<ServiceDeployment> = out.service_deployments().iter().map(from_sdk).collect();
    let missing = arns
        .iter()
        .filter(|a| !found.iter().any(|d| &d.arn == *a))
        .cloned()
        .collect();
    Ok(Described { found, missing })
}

fn from_sdk(d: &sdk::ServiceDeployment) -> ServiceDeployment {
    let configuration = d.deployment_configuration();
    ServiceDeployment {
        arn: d.service_deployment_arn().unwrap_or_default().to_owned(),
        service_arn: d.service_arn().unwrap_or_default().to_owned(),
        status: status(d.status()),
        status_reason: d.status_reason().map(str::to_owned),
        lifecycle_stage: d
            .lifecycle_stage()
            .and_then(|s| LifecycleStage::from_aws(s.as_str())),
        strategy: configuration
            .and_then(|c| c.strategy())
            .and_then(|s| DeploymentStrategy::from_aws(s.as_str())),
        bake_time_in_minutes: configuration
            .and_then(|c| c.bake_time_in_minutes())
            .and_then(|m| u32::try_from(m).ok()),
        target_service_revision_arn: d
            .target_service_revision()
            .and_then(|r| r.arn())
            .map(str::to_owned),
        source_service_revision_arns: d
            .source_service_revisions()
            .iter()
            .filter_map(|r| r.arn().map(str::to_owned))
            .collect(),
        created_at: time(d.created_at()),
        started_at: time(d.started_at()),
        finished_at: time(d.finished_at()),
        updated_at: time(d.updated_at()),
        rollback: d.rollback().map(|r| ServiceDeploymentRollback {
            reason: r.reason().map(str::to_owned),
            service_revision_arn: r.service_revision_arn().map(str::to_owned),
            started_at: time(r.started_at()),
        }),
    }
}
