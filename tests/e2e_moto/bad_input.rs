//! Manifests with an error stop `diff` and `apply` before a single AWS call: exit 1, the error
//! printed with file and line, and nothing created.

use ecs_operator::cloud::ErrorKind;

use crate::support::{App, WEB_YAML};

#[tokio::test]
async fn a_manifest_with_an_error_makes_diff_and_apply_exit_1_with_file_and_line_and_creates_nothing()
 {
    let app = App::whole().await;
    let n = &app.names;
    // README's example: Fargate does not pair 0.25 vCPU with 4 GB.
    app.edit(WEB_YAML, "memory: \"512\"", "memory: \"4096\"");
    let line = app
        .read(WEB_YAML)
        .lines()
        .position(|l| l.trim() == "memory: \"4096\"")
        .expect("the edited line")
        + 1;
    let error = format!("error: manifests/web.yaml:{line} spec.taskDefinition.memory: ");

    for command in ["diff", "apply"] {
        let run = app.run(command, &["manifests"]);
        run.expect_code(1);
        let printed = run
            .stderr
            .lines()
            .chain(run.stdout.lines())
            .find(|l| l.starts_with(&error))
            .unwrap_or_else(|| panic!("{run}\nprints a line starting with {error:?}"));
        assert!(printed.ends_with("[fargate-size]"), "{run}");
    }

    // Nothing was created.
    let clusters = app
        .cloud
        .ecs
        .describe_clusters(std::slice::from_ref(&n.cluster))
        .await
        .expect("DescribeClusters");
    assert!(clusters.found.is_empty(), "{clusters:?}");
    for group in [&n.api_target_group, &n.web_target_group] {
        let found = app
            .cloud
            .elbv2
            .describe_target_groups(std::slice::from_ref(group))
            .await;
        assert_eq!(
            found.as_ref().map_err(|e| e.kind),
            Err(ErrorKind::NotFound),
            "{group}: {found:?}"
        );
    }
    for family in [&n.api, &n.web] {
        let revisions = app
            .cloud
            .ecs
            .list_task_definitions(family, None)
            .await
            .expect("ListTaskDefinitions");
        assert!(revisions.items.is_empty(), "{family}: {revisions:?}");
    }
}
