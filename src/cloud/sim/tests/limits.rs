//! Throttling buckets, injected faults and call counters.

use super::*;
use crate::cloud::ErrorKind;
use crate::cloud::operation::{Bucket, Shape};
use crate::cloud::sim::Fault;

#[tokio::test(start_paused = true)]
async fn an_empty_bucket_answers_throttled_until_it_refills() {
    let (sim, cloud) = account(SimConfig {
        throttling: true,
        buckets: [
            (Bucket::ServiceRead, Shape::new(5, 2.0)),
            (Bucket::Elbv2Describe, Shape::new(3, 1.0)),
        ]
        .into(),
        ..config()
    })
    .await;
    let names = [SERVICE.to_string()];
    let describe = || cloud.ecs.describe_services(CLUSTER, &names);
    for _ in 0..5 {
        describe().await.unwrap();
    }
    let err = describe().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Throttled);
    assert_eq!(err.code.as_deref(), Some("ThrottlingException"));
    // ListServices shares the bucket; DescribeClusters does not.
    assert_eq!(
        cloud
            .ecs
            .list_services(CLUSTER, None)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Throttled
    );
    cloud
        .ecs
        .describe_clusters(&[CLUSTER.into()])
        .await
        .unwrap();

    tokio::time::advance(Duration::from_millis(499)).await;
    assert!(describe().await.is_err(), "half a token is not a token");
    tokio::time::advance(Duration::from_millis(1)).await;
    describe().await.unwrap();
    assert!(describe().await.is_err());
    advance(60).await;
    for _ in 0..5 {
        describe().await.unwrap();
    }

    let tgs = || cloud.elbv2.describe_target_groups_page(None, 10);
    for _ in 0..3 {
        tgs().await.unwrap();
    }
    let err = tgs().await.unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (ErrorKind::Throttled, Some("Throttling"))
    );
    assert_eq!(
        sim.calls()["DescribeServices"],
        5 + 1 + 1 + 1 + 1 + 5,
        "throttled calls count"
    );
    assert_eq!(sim.calls()["DescribeTargetGroups"], 4);
}

#[tokio::test(start_paused = true)]
async fn register_task_definition_is_limited_to_a_burst_of_20_then_1_per_second() {
    let (_sim, cloud) = account(SimConfig {
        throttling: true,
        ..config()
    })
    .await;
    let td = task_definition("api:1");
    let mut granted = 0;
    for _ in 0..25 {
        if cloud
            .ecs
            .register_task_definition(&td, &Default::default())
            .await
            .is_ok()
        {
            granted += 1;
        }
    }
    assert_eq!(granted, 20);
    advance(3).await;
    let mut later = 0;
    for _ in 0..5 {
        if cloud
            .ecs
            .register_task_definition(&td, &Default::default())
            .await
            .is_ok()
        {
            later += 1;
        }
    }
    assert_eq!(later, 3);
}

#[tokio::test(start_paused = true)]
async fn fail_next_fails_exactly_that_many_calls_with_the_aws_code_of_its_kind() {
    let (sim, cloud) = account(config()).await;
    sim.inject("DescribeClusters", Fault::FailNext(2, ErrorKind::Transient));
    sim.inject(
        "DescribeTargetHealth",
        Fault::FailNext(1, ErrorKind::Throttled),
    );
    let names = [CLUSTER.to_string()];
    for _ in 0..2 {
        let err = cloud.ecs.describe_clusters(&names).await.unwrap_err();
        assert_eq!(
            (err.kind, err.code.as_deref()),
            (ErrorKind::Transient, Some("ServerException"))
        );
        assert!(err.request_id.is_some());
    }
    cloud.ecs.describe_clusters(&names).await.unwrap();
    let err = cloud
        .elbv2
        .describe_target_health(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/0",
        )
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("Throttling"));
    assert_eq!(sim.calls()["DescribeClusters"], 3);
}

#[tokio::test(start_paused = true)]
async fn error_rates_follow_the_seed() {
    async fn outcomes(seed: u64, rate: f64) -> Vec<bool> {
        let (sim, cloud) = account(SimConfig { seed, ..config() }).await;
        sim.inject(
            "DescribeClusters",
            Fault::ErrorRate(rate, ErrorKind::Throttled),
        );
        let mut v = Vec::new();
        for _ in 0..100 {
            v.push(
                cloud
                    .ecs
                    .describe_clusters(&[CLUSTER.into()])
                    .await
                    .is_err(),
            );
        }
        v
    }
    let a = outcomes(5, 0.3).await;
    assert_eq!(a, outcomes(5, 0.3).await, "same seed, same failures");
    assert_ne!(a, outcomes(6, 0.3).await);
    let failures = a.iter().filter(|f| **f).count();
    assert!((15..=45).contains(&failures), "{failures} of 100 at 0.3");
    assert!(outcomes(5, 1.0).await.iter().all(|f| *f));
    assert!(outcomes(5, 0.0).await.iter().all(|f| !*f));
}

#[tokio::test(start_paused = true)]
async fn latency_delays_the_answer_in_virtual_time() {
    let (sim, cloud) = account(config()).await;
    let td = register(&cloud, "api:1").await;
    cloud
        .ecs
        .create_service(&create_input(&td.arn, 1))
        .await
        .unwrap();
    sim.inject("DescribeServices", Fault::Latency(Duration::from_secs(4)));
    sim.inject("DescribeServices", Fault::Latency(Duration::from_secs(8)));
    let start = tokio::time::Instant::now();
    let svc = describe(&cloud).await;
    assert_eq!(start.elapsed(), Duration::from_secs(12), "latencies add up");
    assert_eq!(svc.running_count, 1, "answered as of the end of the wait");
    sim.clear_faults();
    let start = tokio::time::Instant::now();
    describe(&cloud).await;
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn hang_never_answers_until_the_caller_gives_up() {
    let (sim, cloud) = account(config()).await;
    sim.inject("ListServices", Fault::Hang);
    let call = cloud.ecs.list_services(CLUSTER, None);
    let outcome = tokio::time::timeout(Duration::from_secs(3600), call).await;
    assert!(outcome.is_err(), "still pending after an hour");
    assert_eq!(sim.calls()["ListServices"], 1);
    sim.clear_faults();
    cloud.ecs.list_services(CLUSTER, None).await.unwrap();
    assert_eq!(sim.calls()["ListServices"], 2);
}

#[tokio::test(start_paused = true)]
async fn calls_are_counted_per_operation_in_aws_spelling() {
    let (sim, cloud) = account(config()).await;
    register(&cloud, "api:1").await;
    let _ = cloud.ecs.describe_task_definition("nope:1").await;
    target_group(&cloud, "shop-api").await;
    let calls = sim.calls();
    let expected = [
        ("CreateCluster", 1),
        ("CreateTargetGroup", 1),
        ("DescribeTaskDefinition", 1),
        ("RegisterTaskDefinition", 1),
    ];
    assert_eq!(
        calls
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect::<Vec<_>>(),
        expected
    );
    sim.reset_calls();
    assert!(sim.calls().is_empty());
}
