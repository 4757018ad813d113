//! `ecs-operator run --backend aws` against moto: the controller converges the example
//! manifests (every resource Synced in `/status`, then `diff` agrees), heals a desiredCount
//! changed behind its back at the next resync, and exits 0 on SIGTERM.
//!
//! moto never completes a deployment (rolloutState stays IN_PROGRESS), so health stays
//! Progressing here; sync is what is checked. Waits poll with a deadline (real time).

use std::process::Stdio;
use std::time::Duration;

use ecs_operator::cloud::model::UpdateService;
use ecs_operator::status::SyncStatus;

use crate::support::{App, Killed, status, wait_for};

#[tokio::test]
async fn run_converges_the_examples_and_heals_drift() {
    let app = App::whole().await;
    let n = &app.names;
    let mut child = app
        .command(
            "run",
            &[
                "--manifests",
                "manifests",
                "--metrics-addr",
                "127.0.0.1:0",
                "--resync",
                "3s",
                "--log-level",
                "warn",
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run starts");
    let base = crate::serving::serving_url(&mut child);
    let mut child = Killed(child);

    wait_for("all synced", Duration::from_secs(60), || async {
        status(&base).await.is_some_and(|r| {
            r.ready
                && r.resources.len() == 5
                && r.resources.iter().all(|s| s.sync == SyncStatus::Synced)
        })
    })
    .await;
    assert_eq!(app.service(&n.web).await.desired_count, 2);

    // Drift: someone scales the web frontend by hand (the API's count is its auto scaling's).
    // The next resync (3 s) puts it back.
    app.cloud
        .ecs
        .update_service(&UpdateService {
            cluster: n.cluster.clone(),
            name: n.web.clone(),
            desired_count: Some(7),
            ..UpdateService::default()
        })
        .await
        .expect("UpdateService");
    wait_for("drift healed", Duration::from_secs(30), || async {
        app.service(&n.web).await.desired_count == 2
    })
    .await;

    let pid = child.0.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let exit = child.0.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "{exit:?}");
    app.diff().expect_code(0);
}
