//! Applying the example converges: afterwards `diff` finds nothing, a second `apply` changes
//! nothing, and `diff --output json` says the same as the exit code.

use crate::support::{App, CLUSTER_YAML};

#[tokio::test]
async fn applying_the_example_exits_0_and_then_diff_exits_0_in_sync() {
    let app = App::whole().await;
    let n = &app.names;
    let applied = app.apply();
    applied.expect_code(0);
    assert!(
        applied
            .stdout
            .contains("applied: 5 changed, 0 in sync, 0 blocked, 0 failed"),
        "{applied}"
    );
    // Everything exists live, owned.
    for name in [&n.api, &n.web] {
        let s = app.service(name).await;
        assert_eq!(s.desired_count, 2, "{name}");
        assert_eq!(
            s.tags.get("ecs-operator/managed-by").map(String::as_str),
            Some("ecs-operator"),
            "{name}: {:?}",
            s.tags
        );
    }
    let diff = app.diff();
    diff.expect_code(0);
    assert!(
        diff.stdout
            .ends_with("0 to create, 0 to update, 0 blocked, 5 in sync, 0 suspended\n"),
        "{diff}"
    );
}

#[tokio::test]
async fn a_second_apply_makes_no_change() {
    let app = App::whole().await;
    app.apply().expect_code(0);
    let again = app.apply();
    again.expect_code(0);
    assert!(again.stdout.contains("applied: 0 changed"), "{again}");
    // No needless revision either: each family still has the one the first apply registered.
    for family in [&app.names.api, &app.names.web] {
        let revisions = app
            .cloud
            .ecs
            .list_task_definitions(family, None)
            .await
            .expect("ListTaskDefinitions");
        assert_eq!(revisions.items.len(), 1, "{family}: {revisions:?}");
    }
}

#[tokio::test]
async fn diff_output_json_is_valid_json_whose_in_sync_matches_the_exit_code() {
    let app = App::whole().await;
    let json = |args: &[&str]| {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        let run = app.run("diff", &all);
        let value: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {run}"));
        let in_sync = value["in_sync"]
            .as_bool()
            .unwrap_or_else(|| panic!("a boolean in_sync: {run}"));
        assert!(
            matches!((in_sync, run.code), (true, 0) | (false, 2)),
            "in_sync {in_sync} with exit {}: {run}",
            run.code
        );
        (run, value)
    };

    // Nothing exists yet: every resource is to be created.
    let (run, before) = json(&["manifests"]);
    run.expect_code(2);
    assert_eq!(before["summary"]["create"], 5, "{run}");
    let resources = before["resources"].as_array().expect("resources[]");
    assert_eq!(resources.len(), 5, "{run}");
    assert!(resources.iter().all(|r| r["status"] == "create"), "{run}");

    // The cluster alone, once applied, is in sync.
    let cluster = app.manifest(CLUSTER_YAML);
    let cluster = cluster.to_str().unwrap();
    app.run("apply", &[cluster]).expect_code(0);
    let (run, after) = json(&[cluster]);
    run.expect_code(0);
    assert_eq!(after["in_sync"], true, "{run}");
    assert_eq!(after["summary"]["in_sync"], 1, "{run}");

    // Whatever the whole example's state after an apply, the report and the exit code agree.
    app.apply();
    json(&["manifests"]);
}

#[tokio::test]
async fn apply_dry_run_prints_the_calls_and_changes_nothing() {
    let app = App::whole().await;
    let dry = app.run("apply", &["--dry-run", "manifests"]);
    dry.expect_code(0);
    for call in [
        "would call: CreateCluster",
        "would call: CreateTargetGroup",
        "would call: RegisterTaskDefinition",
        "would call: CreateService",
    ] {
        assert!(dry.stdout.contains(call), "{dry}\nlists {call:?}");
    }
    assert!(
        dry.stdout
            .contains("dry run: 5 to create, 0 to update, 0 blocked, 0 in sync"),
        "{dry}"
    );
    let clusters = app
        .cloud
        .ecs
        .describe_clusters(std::slice::from_ref(&app.names.cluster))
        .await
        .expect("DescribeClusters");
    assert!(clusters.found.is_empty(), "{clusters:?}");
    // Still everything to create.
    app.diff().expect_code(2);
}
