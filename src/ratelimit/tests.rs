//! Tests of the rate limits on paused tokio time, against the simulator (whose throttling
//! simulates AWS's buckets): every wait is virtual.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::*;
use crate::cloud::ErrorKind;
use crate::cloud::layer::tests::call;
use crate::cloud::model::{Tags, TaskDefinition, UpdateService};
use crate::cloud::sim::{Fault, Sim, SimConfig};
use crate::manifest::task_definition::{Compatibility, ContainerDefinition, NetworkMode};
use crate::manifest::units::{TaskCpu, TaskMemory};

/// A simulator with AWS's throttling on (the default) or off.
fn sim(throttling: bool) -> Sim {
    Sim::new(SimConfig {
        throttling,
        ..SimConfig::default()
    })
}

/// A valid Fargate task definition of family `api`.
fn task_definition() -> TaskDefinition {
    TaskDefinition {
        family: Some("api".into()),
        requires_compatibilities: vec![Compatibility::Fargate],
        network_mode: Some(NetworkMode::Awsvpc),
        cpu: Some(TaskCpu(256)),
        memory: Some(TaskMemory(512)),
        container_definitions: vec![ContainerDefinition {
            name: "api".into(),
            image: "api:1".into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Virtual time since `start`, to the millisecond.
fn ms_since(start: Instant) -> u128 {
    start.elapsed().as_millis()
}

#[tokio::test(start_paused = true)]
async fn the_register_task_definition_after_a_burst_of_nineteen_waits_one_second() {
    // AWS's burst of 20 less the client's headroom.
    let burst = 20 - HEADROOM_TOKENS;
    let limited = RateLimited::new(sim(true).cloud(), &RateLimits::default());
    let stats = limited.stats();
    let cloud = limited.cloud();
    let start = Instant::now();
    for i in 0..burst {
        cloud
            .ecs
            .register_task_definition(&task_definition(), &Tags::new())
            .await
            .unwrap_or_else(|e| panic!("call {i} of the burst: {e}"));
    }
    assert_eq!(ms_since(start), 0, "the burst of 19 goes at once");
    cloud
        .ecs
        .register_task_definition(&task_definition(), &Tags::new())
        .await
        .expect("the 20th call waits for a token instead of being throttled");
    assert_eq!(ms_since(start), 1000, "the bucket refills at 1 per second");
    cloud
        .ecs
        .register_task_definition(&task_definition(), &Tags::new())
        .await
        .expect("the 21st call");
    assert_eq!(ms_since(start), 2000);
    let wait = stats.get(Bucket::TaskDefinitionModify);
    assert_eq!(wait.calls, u64::from(burst) + 2);
    assert_eq!(wait.waited, Duration::from_secs(2));
    assert_eq!(stats.get(Bucket::ServiceRead), BucketWait::default());
}

/// A mixed burst, all at once, over every bucket the operator drains fastest: returns how
/// many calls AWS (the simulator) throttled, and how long the burst took.
async fn mixed_burst(cloud: Cloud) -> (usize, Duration) {
    let start = Instant::now();
    let mut calls: JoinSet<Option<ErrorKind>> = JoinSet::new();
    for _ in 0..30 {
        let ecs = Arc::clone(&cloud.ecs);
        calls.spawn(async move {
            ecs.register_task_definition(&task_definition(), &Tags::new())
                .await
                .err()
                .map(|e| e.kind)
        });
    }
    for _ in 0..130 {
        let ecs = Arc::clone(&cloud.ecs);
        calls.spawn(async move {
            ecs.describe_services("shop", &["api".into()])
                .await
                .err()
                .map(|e| e.kind)
        });
    }
    for _ in 0..70 {
        let ecs = Arc::clone(&cloud.ecs);
        calls.spawn(async move {
            ecs.describe_clusters(&["shop".into()])
                .await
                .err()
                .map(|e| e.kind)
        });
    }
    for i in 0..70 {
        let elbv2 = Arc::clone(&cloud.elbv2);
        calls.spawn(async move {
            let result = if i % 5 == 0 {
                elbv2.add_tags(&["arn:tg".into()], &Tags::new()).await
            } else {
                elbv2.describe_target_groups(&["tg".into()]).await.map(drop)
            };
            result.err().map(|e| e.kind)
        });
    }
    let mut throttled = 0;
    let mut answered = 0;
    while let Some(kind) = calls.join_next().await {
        answered += 1;
        if kind.expect("no call panics") == Some(ErrorKind::Throttled) {
            throttled += 1;
        }
    }
    assert_eq!(answered, 300);
    (throttled, start.elapsed())
}

#[tokio::test(start_paused = true)]
async fn a_mixed_burst_is_throttled_by_aws_without_the_limits_and_never_with_them() {
    let (throttled, _) = mixed_burst(sim(true).cloud()).await;
    assert!(
        throttled >= 80,
        "without limits the simulated AWS throttles the calls past each burst: {throttled}"
    );

    let limited = RateLimited::new(sim(true).cloud(), &RateLimits::default());
    let (throttled, took) = mixed_burst(limited.cloud()).await;
    assert_eq!(
        throttled, 0,
        "the limits keep every call under AWS's buckets"
    );
    // The slowest bucket sets the pace: 11 RegisterTaskDefinition past the client's burst of
    // 19 at 1/s.
    assert!(
        took >= Duration::from_secs(11) && took <= Duration::from_millis(11_500),
        "no slower than the buckets require: {took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn steady_state_stays_at_the_refill_rate_without_throttling() {
    // 200 UpdateService calls, one after another, as fast as the limits let them go.
    let limited = RateLimited::new(sim(true).cloud(), &RateLimits::default());
    let cloud = limited.cloud();
    let start = Instant::now();
    for _ in 0..200 {
        let e = cloud
            .ecs
            .update_service(&UpdateService {
                cluster: "shop".into(),
                name: "api".into(),
                ..Default::default()
            })
            .await
            .err();
        assert_ne!(e.map(|e| e.kind), Some(ErrorKind::Throttled));
    }
    // 49 at once (AWS's 50 less the headroom), then 151 at 5 per second.
    assert_eq!(ms_since(start), 30_200);
}

#[tokio::test(start_paused = true)]
async fn elbv2_calls_of_different_buckets_share_the_account_bucket() {
    let limits = RateLimits::default().with(Bucket::Elbv2Account, "2/1".parse().unwrap());
    let limited = RateLimited::new(sim(false).cloud(), &limits);
    let stats = limited.stats();
    let cloud = limited.cloud();
    let start = Instant::now();
    let _ = cloud.elbv2.describe_target_groups(&["tg".into()]).await;
    let _ = cloud.elbv2.add_tags(&["arn:tg".into()], &Tags::new()).await;
    assert_eq!(ms_since(start), 0);
    let _ = cloud.elbv2.describe_target_health("arn:tg").await;
    assert_eq!(
        ms_since(start),
        1000,
        "the third ELBv2 call waits for the account bucket though its own has tokens"
    );
    let _ = cloud.ecs.describe_clusters(&["shop".into()]).await;
    assert_eq!(ms_since(start), 1000, "ECS does not draw from it");
    assert_eq!(
        stats.get(Bucket::Elbv2Account),
        BucketWait {
            calls: 3,
            waited: Duration::from_secs(1)
        }
    );
    assert_eq!(stats.get(Bucket::Elbv2Describe).waited, Duration::ZERO);
    assert_eq!(stats.get(Bucket::Elbv2Describe).calls, 2);
    assert_eq!(stats.get(Bucket::Elbv2Modify).calls, 1);
}

/// Ten DescribeClusters of 1 s each, all at once, behind a cap of `cap`: the most that were
/// in the simulator at the same time (sampled every 100 ms of virtual time).
async fn max_concurrency(cap: usize) -> usize {
    let sim = sim(false);
    sim.inject("DescribeClusters", Fault::Latency(Duration::from_secs(1)));
    let limits = RateLimits {
        max_in_flight: cap,
        ..RateLimits::default()
    };
    let cloud = RateLimited::new(sim.cloud(), &limits).cloud();
    let done = Arc::new(AtomicUsize::new(0));
    let mut calls = JoinSet::new();
    for _ in 0..10 {
        let ecs = Arc::clone(&cloud.ecs);
        let done = Arc::clone(&done);
        calls.spawn(async move {
            let _ = ecs.describe_clusters(&["shop".into()]).await;
            done.fetch_add(1, Ordering::SeqCst);
        });
    }
    let mut max = 0;
    tokio::time::sleep(Duration::from_millis(50)).await;
    while done.load(Ordering::SeqCst) < 10 {
        let entered = sim.calls().get("DescribeClusters").copied().unwrap_or(0) as usize;
        max = max.max(entered - done.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    while calls.join_next().await.is_some() {}
    max
}

#[tokio::test(start_paused = true)]
async fn no_more_calls_are_in_flight_than_the_cap() {
    assert_eq!(max_concurrency(3).await, 3);
    assert_eq!(
        max_concurrency(16).await,
        10,
        "under the cap, all go at once"
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_waiting_for_a_token_does_not_hold_an_in_flight_slot() {
    // One slot; the task definition bucket is empty after the first call.
    let limits = RateLimits {
        max_in_flight: 1,
        ..RateLimits::default()
    }
    .with(Bucket::TaskDefinitionModify, "1/0.1".parse().unwrap());
    let cloud = RateLimited::new(sim(false).cloud(), &limits).cloud();
    cloud
        .ecs
        .register_task_definition(&task_definition(), &Tags::new())
        .await
        .expect("first");
    let start = Instant::now();
    let ecs = Arc::clone(&cloud.ecs);
    let waiting = tokio::spawn(async move {
        ecs.register_task_definition(&task_definition(), &Tags::new())
            .await
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    let _ = cloud.ecs.describe_clusters(&["shop".into()]).await;
    assert_eq!(ms_since(start), 10, "a read goes past the waiting register");
    waiting.await.expect("join").expect("second register");
    assert_eq!(ms_since(start), 10_000);
}

#[test]
fn rate_limit_flags_parse_or_say_what_is_wrong() {
    let shape = |burst, refill_per_second| Shape {
        burst,
        refill_per_second,
    };
    let ok: &[(&str, Bucket, Shape)] = &[
        ("service-modify=50/5", Bucket::ServiceModify, shape(50, 5.0)),
        (
            "task-definition-modify=10/0.5",
            Bucket::TaskDefinitionModify,
            shape(10, 0.5),
        ),
        (
            " elbv2-account = 40 / 10 ",
            Bucket::Elbv2Account,
            shape(40, 10.0),
        ),
        (
            "elbv2-registration=1/1",
            Bucket::Elbv2Registration,
            shape(1, 1.0),
        ),
    ];
    for (flag, bucket, want) in ok {
        assert_eq!(RateLimits::parse(flag), Ok((*bucket, *want)), "{flag}");
    }
    /// Which error a bad flag gets.
    #[derive(Debug, PartialEq)]
    enum Want {
        BadFlag,
        Unknown,
        BadShape,
    }
    let bad = [
        ("service-modify", Want::BadFlag),
        ("service-modify:50/5", Want::BadFlag),
        ("servise-modify=50/5", Want::Unknown),
        ("=50/5", Want::Unknown),
        ("service-modify=50", Want::BadShape),
        ("service-modify=0/5", Want::BadShape),
        ("service-modify=-1/5", Want::BadShape),
        ("service-modify=1.5/5", Want::BadShape),
        ("service-modify=50/0", Want::BadShape),
        ("service-modify=50/-1", Want::BadShape),
        ("service-modify=50/x", Want::BadShape),
        ("service-modify=50/NaN", Want::BadShape),
        ("service-modify=50/inf", Want::BadShape),
    ];
    for (flag, want) in bad {
        let e = RateLimits::parse(flag).expect_err(flag);
        let got = match e {
            RateLimitError::BadFlag(_) => Want::BadFlag,
            RateLimitError::UnknownBucket(_) => Want::Unknown,
            RateLimitError::BadShape { .. } => Want::BadShape,
        };
        assert_eq!(got, want, "{flag}: {e:?}");
        assert!(!e.to_string().is_empty());
    }
    let e = RateLimits::parse("servise-modify=50/5").unwrap_err();
    assert!(
        e.to_string().contains("service-modify"),
        "lists the names: {e}"
    );
}

#[test]
fn flags_override_the_aws_defaults_and_the_last_one_wins() {
    let limits = RateLimits::from_flags(&["service-modify=10/1", "service-modify=8/2"]).unwrap();
    assert_eq!(limits.shape(Bucket::ServiceModify), "8/2".parse().unwrap());
    assert_eq!(
        limits.shape(Bucket::TaskDefinitionModify),
        default_shape(Bucket::TaskDefinitionModify)
    );
    assert_eq!(limits.max_in_flight, DEFAULT_MAX_IN_FLIGHT);
    assert!(RateLimits::from_flags(&["nope=1/1"]).is_err());
}

#[test]
fn the_defaults_are_the_aws_buckets_of_the_facts_file() {
    let want: &[(Bucket, u32, f64)] = &[
        (Bucket::ServiceRead, 100, 20.0),
        (Bucket::ServiceModify, 50, 5.0),
        (Bucket::TaskDefinitionModify, 20, 1.0),
        (Bucket::TaskDefinitionRead, 50, 20.0),
        (Bucket::TagModify, 20, 10.0),
        (Bucket::TagRead, 50, 20.0),
        (Bucket::ClusterRead, 50, 20.0),
        (Bucket::ClusterModify, 20, 1.0),
        (Bucket::ClusterResourceRead, 100, 20.0),
        (Bucket::ServiceDeploymentRead, 50, 20.0),
        (Bucket::Elbv2Describe, 40, 10.0),
        (Bucket::Elbv2Modify, 20, 3.0),
        (Bucket::Elbv2Registration, 20, 4.0),
        (Bucket::Elbv2Account, 40, 10.0),
        (Bucket::DynamodbLease, 10, 2.0),
        (Bucket::AutoScalingRead, 50, 10.0),
        (Bucket::AutoScalingModify, 20, 2.0),
    ];
    assert_eq!(want.len(), Bucket::ALL.len());
    let limits = RateLimits::default();
    for (bucket, burst, refill) in want {
        let aws = Shape {
            burst: *burst,
            refill_per_second: *refill,
        };
        assert_eq!(bucket.aws_default(), aws);
        // The client keeps one token of headroom below AWS's burst, at the same refill.
        assert_eq!(
            limits.shape(*bucket),
            Shape {
                burst: burst - HEADROOM_TOKENS,
                ..aws
            }
        );
        assert_eq!(bucket.as_str().parse::<Bucket>(), Ok(*bucket));
    }
}

#[test]
fn every_operation_the_operator_calls_has_its_bucket_and_elbv2_also_the_account_one() {
    let ecs = [
        ("DescribeClusters", Bucket::ClusterRead),
        ("CreateCluster", Bucket::ClusterModify),
        ("UpdateCluster", Bucket::ClusterModify),
        ("PutClusterCapacityProviders", Bucket::ClusterModify),
        ("TagResource", Bucket::TagModify),
        ("UntagResource", Bucket::TagModify),
        ("ListServices", Bucket::ServiceRead),
        ("DescribeServices", Bucket::ServiceRead),
        ("ListTasks", Bucket::ClusterResourceRead),
        ("DescribeTasks", Bucket::ClusterResourceRead),
        ("ListServiceDeployments", Bucket::ServiceDeploymentRead),
        ("DescribeServiceDeployments", Bucket::ServiceDeploymentRead),
        ("CreateService", Bucket::ServiceModify),
        ("UpdateService", Bucket::ServiceModify),
        ("DeleteService", Bucket::ServiceModify),
        ("RegisterTaskDefinition", Bucket::TaskDefinitionModify),
        ("DeregisterTaskDefinition", Bucket::TaskDefinitionModify),
        ("DescribeTaskDefinition", Bucket::TaskDefinitionRead),
        ("ListTaskDefinitions", Bucket::TaskDefinitionRead),
        ("ListTaskDefinitionFamilies", Bucket::TaskDefinitionRead),
    ];
    for (op, bucket) in ecs {
        assert_eq!(buckets_of(op), &[bucket], "{op}");
    }
    let elbv2 = [
        ("DescribeTargetGroups", Bucket::Elbv2Describe),
        ("DescribeTargetGroupAttributes", Bucket::Elbv2Describe),
        ("DescribeTags", Bucket::Elbv2Describe),
        ("DescribeTargetHealth", Bucket::Elbv2Describe),
        ("CreateTargetGroup", Bucket::Elbv2Modify),
        ("ModifyTargetGroup", Bucket::Elbv2Modify),
        ("ModifyTargetGroupAttributes", Bucket::Elbv2Modify),
        ("AddTags", Bucket::Elbv2Modify),
        ("RemoveTags", Bucket::Elbv2Modify),
        ("DeleteTargetGroup", Bucket::Elbv2Modify),
        ("RegisterTargets", Bucket::Elbv2Registration),
        // Listener rules (issue 14).
        ("DescribeLoadBalancers", Bucket::Elbv2Describe),
        ("DescribeListeners", Bucket::Elbv2Describe),
        ("DescribeRules", Bucket::Elbv2Describe),
        ("CreateRule", Bucket::Elbv2Modify),
        ("ModifyRule", Bucket::Elbv2Modify),
        ("SetRulePriorities", Bucket::Elbv2Modify),
        ("DeleteRule", Bucket::Elbv2Modify),
    ];
    for (op, bucket) in elbv2 {
        assert_eq!(buckets_of(op), &[bucket, Bucket::Elbv2Account], "{op}");
    }
    // Every call of the traits is in the tables above: a new one without a bucket would run
    // unlimited.
    for op in crate::cloud::ECS_OPERATIONS {
        assert!(ecs.iter().any(|(o, _)| o == op), "{op} has no bucket");
    }
    for op in crate::cloud::ELBV2_OPERATIONS {
        assert!(elbv2.iter().any(|(o, _)| o == op), "{op} has no bucket");
    }
    assert!(buckets_of("SomethingNew").is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_simulator_throttles_every_call_with_aws_shapes_at_the_rate_limiters_refill() {
    // One table: the simulated AWS lets exactly the burst of AWS's shape through (the
    // smallest of the call's buckets; the client's default keeps one token below it), then
    // throttles until a token refills at the same rate as the limiter's.
    let limits = RateLimits::default();
    for op in Operation::called().filter(|op| op.is_cloud_call()) {
        let sim = sim(true);
        let cloud = sim.cloud();
        let shapes: Vec<Shape> = op.buckets().iter().map(|b| b.aws_default()).collect();
        for b in op.buckets() {
            assert_eq!(
                limits.shape(*b).refill_per_second,
                b.aws_default().refill_per_second
            );
        }
        let burst = shapes.iter().map(|s| s.burst).min().expect("a bucket");
        let refill = shapes
            .iter()
            .map(|s| s.refill_per_second)
            .fold(f64::INFINITY, f64::min);
        let throttled = |r: Option<CloudResult<()>>| {
            r.expect("a call of the traits").err().map(|e| e.kind) == Some(ErrorKind::Throttled)
        };
        for i in 0..burst {
            assert!(
                !throttled(call(&cloud, op).await),
                "{op}: call {i} of the burst"
            );
        }
        assert!(
            throttled(call(&cloud, op).await),
            "{op}: past the burst of {burst}"
        );
        // To the millisecond above, as the limiter's period and tokio's timer round.
        tokio::time::advance(Duration::from_millis((1000.0 / refill).ceil() as u64)).await;
        assert!(
            !throttled(call(&cloud, op).await),
            "{op}: after one refill at {refill}/s"
        );
        assert!(throttled(call(&cloud, op).await), "{op}: one token only");
    }
}

#[tokio::test(start_paused = true)]
async fn elbv2_modify_calls_past_the_burst_go_at_three_per_second_unthrottled() {
    // A period of 333,333,333.3 ns: the limiter rounds it up (and tokio's timer to the
    // millisecond), so no call comes a fraction too early for AWS's bucket.
    let cloud = RateLimited::new(sim(true).cloud(), &RateLimits::default()).cloud();
    let start = Instant::now();
    for i in 0..50 {
        let e = cloud.elbv2.add_tags(&["arn:tg".into()], &Tags::new()).await;
        let kind = e.err().map(|e| e.kind);
        assert_ne!(kind, Some(ErrorKind::Throttled), "call {i}");
    }
    // 19 at once, then 31 at 3 per second.
    assert_eq!(start.elapsed().as_secs(), 10);
}

/// Registrations at the bucket's sustained rate after a first call that took 300 ms longer
/// to reach AWS than the rest (a new connection): returns how many AWS throttled.
async fn throttled_after_a_slow_first_call(limits: &RateLimits) -> usize {
    let sim = sim(true);
    let cloud = RateLimited::new(sim.cloud(), limits).cloud();
    let (definition, tags) = (task_definition(), Tags::new());
    let register = || cloud.ecs.register_task_definition(&definition, &tags);
    sim.inject(
        "RegisterTaskDefinition",
        Fault::Latency(Duration::from_millis(300)),
    );
    register().await.expect("the first call");
    sim.faults().clear();
    let mut throttled = 0;
    for _ in 0..30 {
        if let Err(e) = register().await {
            assert_eq!(e.kind, ErrorKind::Throttled, "{e}");
            throttled += 1;
        }
    }
    throttled
}

#[tokio::test(start_paused = true)]
async fn one_token_of_headroom_absorbs_a_call_that_travels_faster_than_the_first() {
    // AWS's bucket starts refilling when the slow first call reaches it, 300 ms after the
    // client's: with the same burst, the first call past it finds 0.7 tokens.
    let same_as_aws = Bucket::ALL
        .into_iter()
        .fold(RateLimits::default(), |l, b| l.with(b, b.aws_default()));
    assert_eq!(throttled_after_a_slow_first_call(&same_as_aws).await, 1);
    assert_eq!(
        throttled_after_a_slow_first_call(&RateLimits::default()).await,
        0
    );
}
