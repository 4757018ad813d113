//! Leader election against moto's DynamoDB: the DynamoDB lease store's conditional semantics
//! (acquire, renew, takeover of an expired lease only, release only by its holder),
//! `lease create-table`, and two `run --leader-election dynamodb` processes on one account:
//! kill -9 the leader, the other takes over and converges a manifest change.

use std::process::Stdio;
use std::time::Duration;

use ecs_operator::cloud::aws::{AwsOptions, sdk_config};
use ecs_operator::lease::dynamodb::DynamoLeaseStore;
use ecs_operator::lease::{Acquired, LeaseStore};
use ecs_operator::status::{StatusReport, SyncStatus};

use crate::support::{App, Killed, status, wait_for};

async fn store(app: &App, table: &str) -> DynamoLeaseStore {
    let options = AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(app.endpoint().to_string()),
        static_credentials: Some(("test".into(), "test".into())),
        max_attempts: 2,
        initial_backoff: Duration::from_millis(10),
        ..AwsOptions::default()
    };
    let sdk = sdk_config(&options).await.expect("moto config");
    DynamoLeaseStore::new(aws_sdk_dynamodb::Client::new(&sdk), table, Vec::new())
}

fn create_table(app: &App, table: &str) -> String {
    let run = app.run("lease", &["create-table", table]);
    run.expect_code(0);
    run.stdout.clone()
}

#[tokio::test]
async fn create_table_and_the_conditional_semantics_of_the_dynamodb_store() {
    let app = App::api_only().await;
    let table = format!("{}-leases", app.names.cluster);
    let first = create_table(&app, &table);
    assert!(
        first.starts_with(&format!("created table {table}")),
        "{first}"
    );
    let again = create_table(&app, &table);
    assert!(again.contains("exists already"), "{again}");

    let a = store(&app, &table).await;
    let b = store(&app, &table).await;
    let d = Duration::from_secs(15);
    assert_eq!(a.read("l").await.unwrap(), None);
    let Acquired::Won(la) = a.acquire("l", "a", 1_000, d).await.unwrap() else {
        panic!("a takes a new lease")
    };
    assert_eq!((la.fencing, la.expires_at_ms), (1, 16_000));
    assert_eq!(a.read("l").await.unwrap(), Some(la.clone()));
    // Held: b cannot take it while it lasts.
    assert_eq!(
        b.acquire("l", "b", 15_999, d).await.unwrap(),
        Acquired::Held(Some(la.clone()))
    );
    // Renewed while ours; not once expired.
    let la = a.renew(&la, 6_000, d).await.unwrap().expect("renewed");
    assert_eq!(la.expires_at_ms, 21_000);
    assert_eq!(a.read("l").await.unwrap(), Some(la.clone()));
    assert_eq!(a.renew(&la, 21_000, d).await.unwrap(), None);
    // Taken over once expired: the fencing number grows; the old holder can neither renew nor
    // release.
    let Acquired::Won(lb) = b.acquire("l", "b", 21_000, d).await.unwrap() else {
        panic!("b takes over")
    };
    assert_eq!(lb.fencing, 2);
    assert_eq!(a.renew(&la, 22_000, d).await.unwrap(), None);
    assert!(!a.release(&la).await.unwrap());
    assert!(b.release(&lb).await.unwrap());
    assert_eq!(a.read("l").await.unwrap(), None);
}

#[tokio::test]
async fn two_runs_one_leader_kill_9_and_the_other_converges_a_change() {
    let app = App::api_only().await;
    let table = format!("{}-leases", app.names.cluster);
    create_table(&app, &table);
    let start = || {
        let mut child = app
            .command(
                "run",
                &[
                    "--manifests",
                    "manifests",
                    "--metrics-addr",
                    "127.0.0.1:0",
                    "--log-level",
                    "warn",
                    "--leader-election",
                    "dynamodb",
                    "--lease-table",
                    &table,
                    "--lease-duration",
                    "3s",
                    "--lease-renew",
                    "1s",
                ],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run starts");
        let base = crate::serving::serving_url(&mut child);
        (Killed(child), base)
    };
    let (first, first_url) = start();
    let (second, second_url) = start();
    let role = |r: &StatusReport| r.leader.role.clone();
    wait_for("one leader, synced", Duration::from_secs(60), || async {
        let (Some(a), Some(b)) = (status(&first_url).await, status(&second_url).await) else {
            return false;
        };
        let leaders = [&a, &b].iter().filter(|r| role(r) == "leader").count();
        let leader = if role(&a) == "leader" { &a } else { &b };
        leaders == 1
            && a.ready
            && b.ready
            && leader.resources.len() == 3
            && leader
                .resources
                .iter()
                .all(|s| s.sync == SyncStatus::Synced)
    })
    .await;
    let a = status(&first_url).await.unwrap();
    let b = status(&second_url).await.unwrap();
    assert_eq!(a.leader.election, "dynamodb");
    assert_eq!(a.leader.leader, b.leader.leader, "both see the same leader");
    let (mut leader, standby_url) = if role(&a) == "leader" {
        (first, second_url)
    } else {
        (second, first_url)
    };
    let _keep = if role(&a) == "leader" {
        None::<Killed>
    } else {
        None
    };
    assert_eq!(app.api_service().await.desired_count, 2);

    // kill -9 the leader, then change the manifest: the standby takes over once the lease
    // expired (3 s) and applies it.
    leader.0.kill().unwrap();
    let _ = leader.0.wait();
    // The API's scaling bounds (its count is its auto scaling's).
    app.edit("api.yaml", "minCapacity: 2", "minCapacity: 3");
    wait_for("the standby leads", Duration::from_secs(20), || async {
        status(&standby_url)
            .await
            .is_some_and(|r| r.leader.role == "leader")
    })
    .await;
    wait_for("the change applied", Duration::from_secs(30), || async {
        let id =
            ecs_operator::cloud::model::scaling::resource_id(&app.names.cluster, &app.names.api);
        app.cloud
            .autoscaling
            .describe_scalable_targets(&[id], None)
            .await
            .is_ok_and(|p| p.items.first().is_some_and(|t| t.min_capacity == 3))
    })
    .await;
}
