//! Tests of the `aws` backend without a network: SDK clients built from the backend's own
//! configuration ([`load_sdk_config`]) with aws-smithy-mocks in place of HTTP, so retries,
//! error parsing and conversions run as they do against AWS. The connection failure test dials
//! a closed loopback port.
//!
//! Over 600 lines on purpose: one harness of mocks for every mapping of the backend (errors,
//! services, task definitions, target groups), which split files would each repeat.

use std::time::Duration;

use aws_sdk_ecs::config::http::HttpResponse;
use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::register_task_definition::{
    RegisterTaskDefinitionInput, RegisterTaskDefinitionOutput,
};
use aws_sdk_ecs::types as ecs;
use aws_sdk_elasticloadbalancingv2::types as elb;
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock};

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::future;
use aws_sdk_ecs::config::{ProvideCredentials, SharedCredentialsProvider};

use super::ecs::AwsEcs;
use super::elbv2::AwsElbv2;
use super::{
    AwsConnectError, AwsOptions, NO_CREDENTIALS, check_credentials, connect, load_sdk_config,
};
use crate::cloud::error::ErrorKind;
use crate::cloud::model::{
    CreateTargetGroup, IpAddressType, LaunchType, ProtocolVersion, RolloutState,
    ServiceLoadBalancer, Tags, TargetGroupHealthCheck, TargetGroupProtocol, TargetHealthState,
    TargetType, UpdateService,
};
use crate::cloud::{Ecs, Elbv2};
use crate::manifest::shorthand::Scalar;
use crate::manifest::target_group::Matcher;
use crate::manifest::task_definition::*;
use crate::manifest::units::{TaskCpu, TaskMemory};

// ---------------------------------------------------------------------------------------------
// Harness

/// Options of every test: fixed region and credentials, a loopback endpoint (nothing can reach
/// AWS even if a mock were bypassed), three attempts and a 1 ms backoff.
fn test_options() -> AwsOptions {
    AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some("http://127.0.0.1:9".into()),
        static_credentials: Some(("test".into(), "test".into())),
        max_attempts: 3,
        initial_backoff: Duration::from_millis(1),
        connect_timeout: Duration::from_secs(2),
        attempt_timeout: Duration::from_secs(5),
        operation_timeout: Duration::from_secs(10),
    }
}

fn interceptor(rules: &[&Rule]) -> MockResponseInterceptor {
    rules.iter().fold(
        MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny),
        |i, r| i.with_rule(r),
    )
}

/// The backend's ECS client answering from `rules`.
async fn ecs_with(rules: &[&Rule]) -> AwsEcs {
    let config = load_sdk_config(&test_options()).await;
    let conf = aws_sdk_ecs::config::Builder::from(&config)
        .http_client(create_mock_http_client())
        .interceptor(interceptor(rules))
        .build();
    AwsEcs::new(aws_sdk_ecs::Client::from_conf(conf))
}

/// The backend's ELBv2 client answering from `rules`.
async fn elbv2_with(rules: &[&Rule]) -> AwsElbv2 {
    let config = load_sdk_config(&test_options()).await;
    let conf = aws_sdk_elasticloadbalancingv2::config::Builder::from(&config)
        .http_client(create_mock_http_client())
        .interceptor(interceptor(rules))
        .build();
    AwsElbv2::new(aws_sdk_elasticloadbalancingv2::Client::from_conf(conf))
}

/// An ECS (JSON 1.1) error response as AWS sends it.
fn ecs_error(status: u16, code: &str, message: &str, request_id: &str) -> HttpResponse {
    let body = format!(r#"{{"__type":"{code}","message":"{message}"}}"#);
    let mut response = HttpResponse::new(status.try_into().expect("status"), body.into());
    response
        .headers_mut()
        .insert("Content-Type", "application/x-amz-json-1.1");
    response
        .headers_mut()
        .insert("x-amzn-RequestId", request_id.to_owned());
    response
}

/// An ELBv2 (query/XML) error response as AWS sends it.
fn elb_error(status: u16, code: &str, message: &str, request_id: &str) -> HttpResponse {
    let body = format!(
        "<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">\
         <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>{request_id}</RequestId></ErrorResponse>"
    );
    let mut response = HttpResponse::new(status.try_into().expect("status"), body.into());
    response.headers_mut().insert("Content-Type", "text/xml");
    response
        .headers_mut()
        .insert("x-amzn-RequestId", request_id.to_owned());
    response
}

// ---------------------------------------------------------------------------------------------
// Error mapping

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_then_reported_as_throttled_with_its_request_id() {
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .http_response(|| ecs_error(400, "ThrottlingException", "Rate exceeded", "req-throttle"))
        .times(3)
        .build();
    let ecs = ecs_with(&[&rule]).await;

    let err = ecs
        .describe_services("shop", &["api".into()])
        .await
        .expect_err("throttled");

    assert_eq!(err.kind, ErrorKind::Throttled);
    assert_eq!(err.operation, "DescribeServices");
    assert_eq!(err.code.as_deref(), Some("ThrottlingException"));
    assert_eq!(err.message, "Rate exceeded");
    assert_eq!(err.request_id.as_deref(), Some("req-throttle"));
    assert_eq!(rule.num_calls(), 3, "max_attempts of the options is used");
}

#[tokio::test]
async fn a_throttled_call_that_succeeds_on_retry_returns_the_answer() {
    let rule = mock!(aws_sdk_ecs::Client::list_services)
        .sequence()
        .http_response(|| ecs_error(400, "ThrottlingException", "Rate exceeded", "r1"))
        .output(|| {
            aws_sdk_ecs::operation::list_services::ListServicesOutput::builder()
                .service_arns("arn:aws:ecs:us-east-1:123456789012:service/shop/api")
                .next_token("page-2")
                .build()
        })
        .build();
    let ecs = ecs_with(&[&rule]).await;

    let page = ecs.list_services("shop", None).await.expect("retried");

    assert_eq!(
        page.items,
        ["arn:aws:ecs:us-east-1:123456789012:service/shop/api"]
    );
    assert_eq!(page.next_token.as_deref(), Some("page-2"));
    assert_eq!(rule.num_calls(), 2);
}

#[tokio::test]
async fn a_missing_service_on_update_is_not_found_and_not_retried() {
    let rule = mock!(aws_sdk_ecs::Client::update_service)
        .sequence()
        .http_response(|| {
            ecs_error(
                400,
                "ServiceNotFoundException",
                "Service not found.",
                "req-svc",
            )
        })
        .times(3)
        .build();
    let ecs = ecs_with(&[&rule]).await;
    let input = UpdateService {
        cluster: "shop".into(),
        name: "gone".into(),
        desired_count: Some(2),
        ..UpdateService::default()
    };

    let err = ecs.update_service(&input).await.expect_err("not found");

    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.operation, "UpdateService");
    assert_eq!(err.code.as_deref(), Some("ServiceNotFoundException"));
    assert_eq!(err.message, "Service not found.");
    assert_eq!(err.request_id.as_deref(), Some("req-svc"));
    assert!(!err.is_retryable());
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn a_missing_target_group_is_not_found_with_the_xml_code_and_request_id() {
    let rule = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_groups)
        .then_http_response(|| {
            elb_error(
                400,
                "TargetGroupNotFound",
                "One or more target groups not found",
                "req-tg",
            )
        });
    let elbv2 = elbv2_with(&[&rule]).await;

    let err = elbv2
        .describe_target_groups(&["shop-api".into(), "gone".into()])
        .await
        .expect_err("not found");

    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.operation, "DescribeTargetGroups");
    assert_eq!(err.code.as_deref(), Some("TargetGroupNotFound"));
    assert_eq!(err.message, "One or more target groups not found");
    assert_eq!(err.request_id.as_deref(), Some("req-tg"));
}

#[tokio::test]
async fn a_server_error_without_a_code_is_transient_after_the_retries() {
    let rule = mock!(aws_sdk_ecs::Client::describe_clusters)
        .sequence()
        .http_status(503, None)
        .times(3)
        .build();
    let ecs = ecs_with(&[&rule]).await;

    let err = ecs
        .describe_clusters(&["shop".into()])
        .await
        .expect_err("unavailable");

    assert_eq!(err.kind, ErrorKind::Transient);
    assert_eq!(err.operation, "DescribeClusters");
    assert_eq!(err.code, None);
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn a_refused_connection_is_a_transient_error_of_the_operation() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("loopback port")
        .port();
    let cloud = connect(&AwsOptions {
        endpoint_url: Some(format!("http://127.0.0.1:{port}")),
        max_attempts: 2,
        ..test_options()
    })
    .await
    .expect("connect only loads configuration");

    let err = cloud
        .ecs
        .describe_clusters(&["shop".into()])
        .await
        .expect_err("nothing listens");

    assert_eq!(err.kind, ErrorKind::Transient);
    assert_eq!(err.operation, "DescribeClusters");
    assert_eq!(err.code, None);
    assert_eq!(err.request_id, None);
    assert!(err.is_retryable());
}

/// An HTML error page, as moto's server answers an exception it did not model.
fn html_500(request_id: &str) -> HttpResponse {
    let body = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n\
                <h1>Internal Server Error</h1>\n<p>The server encountered an internal error and \
                was unable to complete your request. Either the server is overloaded or there \
                is an error in the application.</p>\n";
    let mut response = HttpResponse::new(500.try_into().expect("status"), body.into());
    response.headers_mut().insert("Content-Type", "text/html");
    response
        .headers_mut()
        .insert("x-amzn-RequestId", request_id.to_owned());
    response
}

#[tokio::test]
async fn an_html_error_page_is_one_short_line_with_status_and_request_id() {
    let rule = mock!(aws_sdk_ecs::Client::describe_clusters)
        .sequence()
        .http_response(|| html_500("req-html"))
        .times(3)
        .build();
    let ecs = ecs_with(&[&rule]).await;

    let err = ecs
        .describe_clusters(&["shop".into()])
        .await
        .expect_err("server error");

    assert_eq!(err.kind, ErrorKind::Transient);
    assert_eq!(err.http_status, Some(500));
    assert_eq!(err.request_id.as_deref(), Some("req-html"));
    assert!(err.message.contains("500 Internal Server Error"), "{err:?}");
    let line = err.to_string();
    assert!(
        line.starts_with("DescribeClusters: transient (HTTP 500, request id req-html): "),
        "{line}"
    );
    assert!(!line.contains('\n'), "{line}");
    assert!(
        !line.contains("ServiceError") && !line.contains('{'),
        "{line}"
    );
    assert!(line.len() <= 300, "{} characters: {line}", line.len());
}

/// A credentials chain that finds nothing (as the default chain on a laptop with no
/// profile, no environment variables and no instance role).
#[derive(Debug)]
struct NoCredentials;

impl ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded("no provider had any")))
    }
}

/// The instance metadata service refusing (what a machine without a role answers).
#[derive(Debug)]
struct MetadataRefused;

impl ProvideCredentials for MetadataRefused {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::provider_error(
            "failed to load IMDS session token: request forbidden",
        )))
    }
}

#[tokio::test]
async fn no_credentials_is_one_clear_line_at_connect() {
    assert_eq!(
        check_credentials(None, false).await,
        Err(AwsConnectError::NoCredentials)
    );
    let none = SharedCredentialsProvider::new(NoCredentials);
    assert_eq!(
        check_credentials(Some(none), true).await,
        Err(AwsConnectError::NoCredentials)
    );
    let config = load_sdk_config(&test_options()).await;
    assert_eq!(
        check_credentials(config.credentials_provider(), false).await,
        Ok(())
    );
    // Nothing configured and the instance metadata service refused: no credentials, with what
    // it said; with a source configured, the same failure is left to the calls to retry.
    let refused = SharedCredentialsProvider::new(MetadataRefused);
    match check_credentials(Some(refused.clone()), false).await {
        Err(e @ AwsConnectError::NoCredentialsTried { .. }) => {
            let line = e.to_string();
            assert!(line.contains("AWS_ACCESS_KEY_ID"), "{line}");
            assert!(line.contains("request forbidden"), "{line}");
            assert!(!line.contains('\n'), "{line}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(check_credentials(Some(refused), true).await, Ok(()));
    let line = AwsConnectError::NoCredentials.to_string();
    assert!(!line.contains('\n'));
    for place in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_PROFILE",
        "~/.aws",
        "role",
    ] {
        assert!(line.contains(place), "{line} names {place}");
    }
}

#[tokio::test]
async fn a_call_without_credentials_is_access_denied_not_transient() {
    let config = load_sdk_config(&test_options()).await;
    let conf = aws_sdk_ecs::config::Builder::from(&config)
        .credentials_provider(NoCredentials)
        .build();
    let ecs = AwsEcs::new(aws_sdk_ecs::Client::from_conf(conf));

    let err = ecs
        .describe_clusters(&["shop".into()])
        .await
        .expect_err("no credentials");

    assert_eq!(err.kind, ErrorKind::AccessDenied, "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(err.message, NO_CREDENTIALS);
    assert_eq!(
        err.to_string(),
        format!("DescribeClusters: access_denied: {NO_CREDENTIALS}")
    );
}

// ---------------------------------------------------------------------------------------------
// DescribeServices

fn described_service() -> ecs::Service {
    let deployment = ecs::Deployment::builder()
        .id("ecs-svc/1")
        .status("PRIMARY")
        .task_definition("arn:aws:ecs:us-east-1:123456789012:task-definition/api:3")
        .desired_count(2)
        .running_count(1)
        .pending_count(1)
        .failed_tasks(4)
        .rollout_state(ecs::DeploymentRolloutState::InProgress)
        .rollout_state_reason("ECS deployment ecs-svc/1 in progress.")
        .build();
    ecs::Service::builder()
        .service_name("api")
        .service_arn("arn:aws:ecs:us-east-1:123456789012:service/shop/api")
        .cluster_arn("arn:aws:ecs:us-east-1:123456789012:cluster/shop")
        .status("ACTIVE")
        .desired_count(2)
        .running_count(1)
        .pending_count(1)
        .task_definition("arn:aws:ecs:us-east-1:123456789012:task-definition/api:3")
        .launch_type(ecs::LaunchType::Fargate)
        .load_balancers(
            ecs::LoadBalancer::builder()
                .target_group_arn(
                    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-api/abc",
                )
                .container_name("api")
                .container_port(8000)
                .build(),
        )
        .load_balancers(
            ecs::LoadBalancer::builder()
                .load_balancer_name("classic-elb")
                .container_name("api")
                .container_port(8000)
                .build(),
        )
        .deployments(deployment)
        .tags(
            ecs::Tag::builder()
                .key("managed-by")
                .value("ecs-operator")
                .build(),
        )
        .build()
}

#[tokio::test]
async fn described_services_report_missing_names_as_asked_and_keep_what_exists() {
    let rule = mock!(aws_sdk_ecs::Client::describe_services)
        .match_requests(|req| {
            req.include().contains(&ecs::ServiceField::Tags) && req.services().len() == 2
        })
        .then_output(|| {
            DescribeServicesOutput::builder()
                .services(described_service())
                .failures(
                    ecs::Failure::builder()
                        .arn("arn:aws:ecs:us-east-1:123456789012:service/shop/gone")
                        .reason("MISSING")
                        .build(),
                )
                .build()
        });
    let ecs = ecs_with(&[&rule]).await;

    let described = ecs
        .describe_services("shop", &["api".into(), "gone".into()])
        .await
        .expect("described");

    assert_eq!(described.missing, ["gone"]);
    let [service] = described.found.as_slice() else {
        panic!("one service: {described:?}");
    };
    assert_eq!(service.name, "api");
    assert_eq!(service.launch_type, Some(LaunchType::Fargate));
    assert_eq!(
        service.tags.get("managed-by").map(String::as_str),
        Some("ecs-operator")
    );
    assert_eq!(
        service.load_balancers,
        [ServiceLoadBalancer {
            target_group_arn:
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-api/abc"
                    .into(),
            container_name: "api".into(),
            container_port: 8000,
            advanced_configuration: None,
        }],
        "the classic load balancer attachment is left out"
    );
    let primary = service.primary().expect("primary deployment");
    assert_eq!(primary.rollout_state, Some(RolloutState::InProgress));
    assert_eq!(primary.failed_tasks, 4);
}

#[tokio::test]
async fn a_describe_failure_other_than_missing_is_an_error() {
    let rule = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        DescribeServicesOutput::builder()
            .failures(
                ecs::Failure::builder()
                    .arn("arn:aws:ecs:us-east-1:123456789012:service/shop/api")
                    .reason("INTERNAL_ERROR")
                    .detail("try again")
                    .build(),
            )
            .build()
    });
    let ecs = ecs_with(&[&rule]).await;

    let err = ecs
        .describe_services("shop", &["api".into()])
        .await
        .expect_err("not a missing service");

    assert_eq!(err.kind, ErrorKind::Other);
    assert_eq!(err.operation, "DescribeServices");
    assert!(err.message.contains("INTERNAL_ERROR"), "{err}");
}

#[tokio::test]
async fn a_service_value_the_model_does_not_know_reads_as_unset() {
    let rule = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        let mut service = described_service();
        service.launch_type = Some(ecs::LaunchType::from("QUANTUM"));
        service.deployments = Some(vec![
            ecs::Deployment::builder()
                .status("PRIMARY")
                .rollout_state(ecs::DeploymentRolloutState::from("PAUSED"))
                .build(),
        ]);
        DescribeServicesOutput::builder().services(service).build()
    });
    let ecs = ecs_with(&[&rule]).await;

    let described = ecs
        .describe_services("shop", &["api".into()])
        .await
        .expect("an unknown value does not fail the batch");

    let service = &described.found[0];
    assert_eq!(service.launch_type, None);
    assert_eq!(service.deployments[0].rollout_state, None);
}

// ---------------------------------------------------------------------------------------------
// UpdateService

#[test]
fn an_update_sends_only_the_fields_it_sets() {
    let input = super::service::update_service_input(&UpdateService {
        cluster: "shop".into(),
        name: "api".into(),
        desired_count: Some(3),
        load_balancers: Some(Vec::new()),
        ..UpdateService::default()
    })
    .expect("valid")
    .build()
    .expect("built");

    assert_eq!(input.desired_count, Some(3));
    assert_eq!(
        input.load_balancers,
        Some(Vec::new()),
        "Some(empty) removes them all"
    );
    assert_eq!(input.task_definition, None);
    assert_eq!(input.deployment_configuration, None);
    assert_eq!(input.network_configuration, None);
    assert_eq!(input.capacity_provider_strategy, None);
    assert_eq!(input.placement_constraints, None);
    assert_eq!(input.enable_execute_command, None);
    assert_eq!(input.force_new_deployment, None);
}

// ---------------------------------------------------------------------------------------------
// Task definitions

/// A task definition with every member of RegisterTaskDefinition set at every depth (the
/// fixture codegen/shapes.py derives from the AWS model): a member the conversions drop fails
/// the round trips below.
fn rich_task_definition() -> TaskDefinition {
    let json =
        include_str!("../../../tests/fixtures/every-member/RegisterTaskDefinitionRequest.json");
    let td: TaskDefinition = serde_json::from_str(json).expect("the fixture parses");
    let again: serde_json::Value = serde_json::to_value(&td).expect("serializes");
    let fixture: serde_json::Value = serde_json::from_str(json).expect("json");
    assert_eq!(
        again, fixture,
        "every member of the fixture is kept by the manifest types"
    );
    TaskDefinition {
        family: Some("api".into()),
        ..td
    }
}

/// What a described revision holds of `td`: everything but the tags (they come beside it).
fn without_tags(td: TaskDefinition) -> TaskDefinition {
    TaskDefinition {
        tags: Default::default(),
        ..td
    }
}

/// What ECS answers for a registration of `input` (the same fields, plus ARN and revision).
#[allow(deprecated)] // inferenceAccelerators: still a member of the API, deprecated in the SDK
fn echo_registration(input: &RegisterTaskDefinitionInput) -> ecs::TaskDefinition {
    let family = input.family().unwrap_or_default();
    ecs::TaskDefinition::builder()
        .task_definition_arn(format!(
            "arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:7"
        ))
        .revision(7)
        .status(ecs::TaskDefinitionStatus::Active)
        .set_family(input.family.clone())
        .set_task_role_arn(input.task_role_arn.clone())
        .set_execution_role_arn(input.execution_role_arn.clone())
        .set_network_mode(input.network_mode.clone())
        .set_container_definitions(input.container_definitions.clone())
        .set_volumes(input.volumes.clone())
        .set_placement_constraints(input.placement_constraints.clone())
        .set_requires_compatibilities(input.requires_compatibilities.clone())
        .set_cpu(input.cpu.clone())
        .set_memory(input.memory.clone())
        .set_pid_mode(input.pid_mode.clone())
        .set_ipc_mode(input.ipc_mode.clone())
        .set_ephemeral_storage(input.ephemeral_storage.clone())
        .set_runtime_platform(input.runtime_platform.clone())
        .set_proxy_configuration(input.proxy_configuration.clone())
        .set_inference_accelerators(input.inference_accelerators.clone())
        .set_enable_fault_injection(input.enable_fault_injection)
        .build()
}

#[test]
fn a_rich_task_definition_survives_the_trip_through_the_sdk_types() {
    let original = rich_task_definition();

    let input = super::task_definition::register_input(&original, &Tags::new())
        .expect("convertible")
        .build()
        .expect("built");
    let described = echo_registration(&input);
    let back = super::task_definition::definition_from_sdk(&described).expect("readable");

    assert_eq!(back, without_tags(original.clone()));
    let sent: Tags = input
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().into(),
                t.value().unwrap_or_default().into(),
            )
        })
        .collect();
    let own: Tags = original
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.0.clone()))
        .collect();
    assert_eq!(sent, own, "the definition's own tags are sent");
}

#[tokio::test]
async fn registering_a_task_definition_returns_the_revision_with_its_tags() {
    let rule = mock!(aws_sdk_ecs::Client::register_task_definition).then_compute_output(|input| {
        RegisterTaskDefinitionOutput::builder()
            .task_definition(echo_registration(input))
            .set_tags(input.tags.clone())
            .build()
    });
    let ecs = ecs_with(&[&rule]).await;
    let tags: Tags = [("managed-by".to_owned(), "ecs-operator".to_owned())].into();

    let registered = ecs
        .register_task_definition(&rich_task_definition(), &tags)
        .await
        .expect("registered");

    assert_eq!(
        registered.arn,
        "arn:aws:ecs:us-east-1:123456789012:task-definition/api:7"
    );
    assert_eq!(
        (registered.family.as_str(), registered.revision),
        ("api", 7)
    );
    assert_eq!(registered.status, "ACTIVE");
    let mut all: Tags = rich_task_definition()
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.0.clone()))
        .collect();
    all.extend(tags);
    assert_eq!(
        registered.tags, all,
        "the definition's tags and the operator's"
    );
    assert_eq!(registered.definition, without_tags(rich_task_definition()));
}

#[tokio::test]
async fn a_task_definition_without_family_is_rejected_before_any_call() {
    let rule = mock!(aws_sdk_ecs::Client::register_task_definition).then_compute_output(|input| {
        RegisterTaskDefinitionOutput::builder()
            .task_definition(echo_registration(input))
            .build()
    });
    let ecs = ecs_with(&[&rule]).await;
    let definition = TaskDefinition {
        family: None,
        ..rich_task_definition()
    };

    let err = ecs
        .register_task_definition(&definition, &Tags::new())
        .await
        .expect_err("no family");

    assert_eq!(err.kind, ErrorKind::Invalid);
    assert_eq!(err.operation, "RegisterTaskDefinition");
    assert_eq!(rule.num_calls(), 0);
}

#[test]
fn ecs_defaults_come_back_as_ecs_stores_them() {
    let minimal = TaskDefinition {
        family: Some("api".into()),
        container_definitions: vec![ContainerDefinition {
            name: "api".into(),
            image: "api:1".into(),
            ..ContainerDefinition::default()
        }],
        ..TaskDefinition::default()
    };
    let input = super::task_definition::register_input(&minimal, &Tags::new())
        .expect("convertible")
        .build()
        .expect("built");

    let back =
        super::task_definition::definition_from_sdk(&echo_registration(&input)).expect("readable");

    assert_eq!(
        back.container_definitions[0].cpu,
        Some(0),
        "ECS stores cpu 0 for a container without cpu; the diff layer normalizes it"
    );
}

#[test]
fn a_task_definition_value_the_model_does_not_know_is_an_error_not_a_panic() {
    let container = ecs::ContainerDefinition::builder()
        .name("api")
        .image("api:1")
        .log_configuration(
            ecs::LogConfiguration::builder()
                .log_driver(ecs::LogDriver::from("awsnewlogs"))
                .build()
                .expect("built"),
        )
        .build();
    let described = ecs::TaskDefinition::builder()
        .family("api")
        .container_definitions(container)
        .build();

    let err = super::task_definition::definition_from_sdk(&described)
        .expect_err("unknown log driver")
        .at("DescribeTaskDefinition");

    assert_eq!(err.kind, ErrorKind::Other);
    assert!(err.message.contains("awsnewlogs"), "{err}");
}

#[test]
fn a_task_cpu_in_vcpus_reads_as_cpu_units() {
    let described = ecs::TaskDefinition::builder()
        .family("api")
        .cpu("1 vCPU")
        .memory("2 GB")
        .build();

    let back = super::task_definition::definition_from_sdk(&described).expect("readable");

    assert_eq!(back.cpu, Some(TaskCpu(1024)));
    assert_eq!(back.memory, Some(TaskMemory(2048)));
}

// ---------------------------------------------------------------------------------------------
// Target groups

#[tokio::test]
async fn a_created_target_group_carries_the_flattened_health_check_and_tags() {
    let rule = mock!(aws_sdk_elasticloadbalancingv2::Client::create_target_group)
        .then_compute_output(|input| {
            let group = elb::TargetGroup::builder()
                .target_group_name(input.name().unwrap_or_default())
                .target_group_arn("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-api/abc")
                .set_protocol(input.protocol.clone())
                .set_protocol_version(input.protocol_version.clone())
                .set_port(input.port)
                .set_vpc_id(input.vpc_id.clone())
                .set_target_type(input.target_type.clone())
                .set_ip_address_type(input.ip_address_type.clone())
                .set_health_check_enabled(input.health_check_enabled)
                .set_health_check_protocol(input.health_check_protocol.clone())
                .set_health_check_port(input.health_check_port.clone())
                .set_health_check_path(input.health_check_path.clone())
                .set_health_check_interval_seconds(input.health_check_interval_seconds)
                .set_health_check_timeout_seconds(input.health_check_timeout_seconds)
                .set_healthy_threshold_count(input.healthy_threshold_count)
                .set_unhealthy_threshold_count(input.unhealthy_threshold_count)
                .set_matcher(input.matcher.clone())
                .build();
            assert_eq!(input.tags().len(), 1, "tags are sent with the creation");
            aws_sdk_elasticloadbalancingv2::operation::create_target_group::CreateTargetGroupOutput::builder()
                .target_groups(group)
                .build()
        });
    let elbv2 = elbv2_with(&[&rule]).await;
    let health_check = TargetGroupHealthCheck {
        enabled: Some(true),
        protocol: Some(TargetGroupProtocol::Http),
        port: Some(Scalar("traffic-port".into())),
        path: Some("/health".into()),
        interval_seconds: Some(15),
        timeout_seconds: Some(5),
        healthy_threshold_count: Some(2),
        unhealthy_threshold_count: Some(3),
        matcher: Some(Matcher {
            http_code: Some("200-299".into()),
            grpc_code: None,
        }),
    };
    let input = CreateTargetGroup {
        name: "shop-api".into(),
        protocol: Some(TargetGroupProtocol::Http),
        protocol_version: Some(ProtocolVersion::Http1),
        port: Some(8000),
        vpc_id: Some("vpc-0abc".into()),
        target_type: Some(TargetType::Ip),
        ip_address_type: Some(IpAddressType::Ipv4),
        health_check: health_check.clone(),
        target_control_port: None,
        tags: [("managed-by".to_owned(), "ecs-operator".to_owned())].into(),
    };

    let group = elbv2.create_target_group(&input).await.expect("created");

    assert_eq!(group.name, "shop-api");
    assert_eq!(group.protocol, Some(TargetGroupProtocol::Http));
    assert_eq!(group.protocol_version, Some(ProtocolVersion::Http1));
    assert_eq!(group.port, Some(8000));
    assert_eq!(group.vpc_id.as_deref(), Some("vpc-0abc"));
    assert_eq!(group.target_type, Some(TargetType::Ip));
    assert_eq!(group.ip_address_type, Some(IpAddressType::Ipv4));
    assert_eq!(group.health_check, health_check);
}

#[test]
fn modifying_a_health_check_sends_only_the_fields_it_sets() {
    let input = super::target_group::modify_input(
        "arn:tg",
        &TargetGroupHealthCheck {
            path: Some("/ready".into()),
            matcher: Some(Matcher {
                http_code: None,
                grpc_code: Some("0-99".into()),
            }),
            ..TargetGroupHealthCheck::default()
        },
    )
    .expect("valid")
    .build()
    .expect("built");

    assert_eq!(input.health_check_path.as_deref(), Some("/ready"));
    assert_eq!(
        input.matcher.as_ref().and_then(|m| m.grpc_code()),
        Some("0-99")
    );
    assert_eq!(input.health_check_enabled, None);
    assert_eq!(input.health_check_protocol, None);
    assert_eq!(input.health_check_port, None);
    assert_eq!(input.health_check_interval_seconds, None);
    assert_eq!(input.health_check_timeout_seconds, None);
    assert_eq!(input.healthy_threshold_count, None);
    assert_eq!(input.unhealthy_threshold_count, None);
}

#[tokio::test]
async fn target_health_reads_unhealthy_draining_as_draining_and_refuses_unknown_states() {
    fn described(state: &str) -> elb::TargetHealthDescription {
        elb::TargetHealthDescription::builder()
            .target(
                elb::TargetDescription::builder()
                    .id("10.0.1.5")
                    .port(8000)
                    .build(),
            )
            .target_health(
                elb::TargetHealth::builder()
                    .state(elb::TargetHealthStateEnum::from(state))
                    .reason(elb::TargetHealthReasonEnum::FailedHealthChecks)
                    .build(),
            )
            .build()
    }
    let output = |state: &'static str| {
        move || {
            aws_sdk_elasticloadbalancingv2::operation::describe_target_health::DescribeTargetHealthOutput::builder()
                .target_health_descriptions(described(state))
                .build()
        }
    };
    let rule = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_health)
        .sequence()
        .output(output("unhealthy.draining"))
        .output(output("hibernating"))
        .build();
    let elbv2 = elbv2_with(&[&rule]).await;

    let targets = elbv2.describe_target_health("arn:tg").await.expect("read");
    let err = elbv2
        .describe_target_health("arn:tg")
        .await
        .expect_err("unknown state");

    assert_eq!(targets[0].state, TargetHealthState::Draining);
    assert_eq!(targets[0].port, Some(8000));
    assert_eq!(
        targets[0].reason.as_deref(),
        Some("Target.FailedHealthChecks")
    );
    assert_eq!(err.kind, ErrorKind::Other);
    assert_eq!(err.operation, "DescribeTargetHealth");
}

// ---------------------------------------------------------------------------------------------
// Service deployments (issue 13)

#[tokio::test]
async fn an_endpoint_without_the_deployments_api_is_detected_once_and_remembered() {
    let describe = mock!(aws_sdk_ecs::Client::describe_service_deployments)
        .sequence()
        .http_response(|| html_500("req-moto"))
        .times(3)
        .build();
    let list = mock!(aws_sdk_ecs::Client::list_service_deployments)
        .then_http_response(|| html_500("req-moto"));
    let ecs = ecs_with(&[&describe, &list]).await;
    let arns = ["arn:aws:ecs:us-east-1:1:service-deployment/shop/api/x".to_string()];

    let err = ecs.describe_service_deployments(&arns).await.unwrap_err();
    assert!(err.is_not_implemented(), "{err:?}");
    assert_eq!(describe.num_calls(), 3, "the SDK's attempts, once");
    // Remembered: no request any more, for either call.
    let again = ecs.describe_service_deployments(&arns).await.unwrap_err();
    assert!(again.is_not_implemented());
    let listed = ecs
        .list_service_deployments("shop", "api", None)
        .await
        .unwrap_err();
    assert!(listed.is_not_implemented());
    assert_eq!(describe.num_calls(), 3);
    assert_eq!(list.num_calls(), 0);
}

#[tokio::test]
async fn an_aws_server_error_of_the_deployments_api_is_transient_not_missing() {
    let rule = mock!(aws_sdk_ecs::Client::describe_service_deployments)
        .sequence()
        .http_response(|| ecs_error(500, "ServerException", "try again", "req-aws"))
        .times(3)
        .build();
    let ecs = ecs_with(&[&rule]).await;
    let err = ecs
        .describe_service_deployments(&["arn:x".to_string()])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transient, "{err:?}");
    assert!(!err.is_not_implemented());
}

#[tokio::test]
async fn service_deployments_come_back_with_status_stage_strategy_and_rollback() {
    use crate::cloud::model::{DeploymentStrategy, LifecycleStage, ServiceDeploymentStatus};
    use aws_sdk_ecs::operation::describe_service_deployments::DescribeServiceDeploymentsOutput;
    let arn = "arn:aws:ecs:us-east-1:1:service-deployment/shop/api/abc";
    let rule = mock!(aws_sdk_ecs::Client::describe_service_deployments).then_output(move || {
        DescribeServiceDeploymentsOutput::builder()
            .service_deployments(
                ecs::ServiceDeployment::builder()
                    .service_deployment_arn(arn)
                    .service_arn("arn:aws:ecs:us-east-1:1:service/shop/api")
                    .status(ecs::ServiceDeploymentStatus::RollbackSuccessful)
                    .status_reason("hook failed")
                    .lifecycle_stage(ecs::ServiceDeploymentLifecycleStage::BakeTime)
                    .deployment_configuration(
                        ecs::DeploymentConfiguration::builder()
                            .strategy(ecs::DeploymentStrategy::BlueGreen)
                            .bake_time_in_minutes(10)
                            .build(),
                    )
                    .target_service_revision(
                        ecs::ServiceRevisionSummary::builder()
                            .arn("arn:aws:ecs:us-east-1:1:service-revision/shop/api/2")
                            .build(),
                    )
                    .rollback(
                        ecs::Rollback::builder()
                            .reason("hook failed")
                            .service_revision_arn(
                                "arn:aws:ecs:us-east-1:1:service-revision/shop/api/1",
                            )
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let ecs = ecs_with(&[&rule]).await;
    let d = ecs
        .describe_service_deployments(&[arn.to_string(), "arn:gone".to_string()])
        .await
        .unwrap();
    assert_eq!(d.missing, ["arn:gone"]);
    let d = &d.found[0];
    assert_eq!(d.status, Some(ServiceDeploymentStatus::RollbackSuccessful));
    assert_eq!(d.lifecycle_stage, Some(LifecycleStage::BakeTime));
    assert_eq!(d.strategy, Some(DeploymentStrategy::BlueGreen));
    assert_eq!(d.bake_time_in_minutes, Some(10));
    assert!(
        d.target_service_revision_arn
            .as_deref()
            .unwrap()
            .ends_with("/2")
    );
    let rollback = d.rollback.as_ref().unwrap();
    assert!(
        rollback
            .service_revision_arn
            .as_deref()
            .unwrap()
            .ends_with("/1")
    );
}
