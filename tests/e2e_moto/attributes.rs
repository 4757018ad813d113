//! Target group attributes on moto: the create's tags carry the hash of the attributes the
//! manifest sets (`ecs-operator/attributes-hash`), so the next plan reads none; an attribute
//! changed in the manifest is read, applied and the tag updated; one changed by hand is found
//! by `diff --read-attributes`, not by a plain `diff`.

use ecs_operator::manifest::{Document, load_str};
use ecs_operator::metrics::{Metrics, instrument};
use ecs_operator::observe::Observer;
use ecs_operator::plan::{Status, TAG_ATTRIBUTES_HASH};
use ecs_operator::planner::plan_all;

use crate::support::{API_YAML, App, CLUSTER_YAML};

const DELAY: &str = "deregistration_delay.timeout_seconds";

/// The copy's manifests as the binary reads them (the same source tags).
fn documents(app: &App) -> Vec<Document> {
    let mut docs = Vec::new();
    for file in [CLUSTER_YAML, API_YAML] {
        let loaded = load_str(&app.manifest(file), &app.read(file));
        assert!(loaded.is_complete(), "{file}: {:?}", loaded.diagnostics);
        docs.extend(loaded.documents);
    }
    docs
}

/// One plan of the copy in this process (a new observer): the statuses and how many
/// DescribeTargetGroupAttributes it made.
async fn plan_counting_attribute_reads(app: &App) -> (Vec<Status>, u64) {
    let metrics = Metrics::new();
    let observer = Observer::new(instrument(app.cloud.clone(), &metrics));
    let (plans, _) = plan_all(&observer, &documents(app), "ecs-operator")
        .await
        .expect("plan");
    let reads = metrics
        .encode()
        .lines()
        .filter(|l| l.starts_with("ecs_operator_api_requests_total"))
        .filter(|l| l.contains("operation=\"DescribeTargetGroupAttributes\""))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum::<f64>();
    (plans.iter().map(|p| p.status).collect(), reads as u64)
}

/// The API group's live attributes-hash tag and deregistration delay.
async fn live(app: &App) -> (Option<String>, String) {
    let arn = app.api_target_group().await.arn;
    let mut tags = app
        .cloud
        .elbv2
        .describe_tags(std::slice::from_ref(&arn))
        .await
        .expect("DescribeTags");
    let tag = tags
        .remove(&arn)
        .unwrap_or_default()
        .remove(TAG_ATTRIBUTES_HASH);
    let attributes = app
        .cloud
        .elbv2
        .describe_target_group_attributes(&arn)
        .await
        .expect("DescribeTargetGroupAttributes");
    (tag, attributes[DELAY].clone())
}

#[tokio::test]
async fn the_attributes_hash_tag_spares_the_attribute_reads_and_follows_the_manifest() {
    let app = App::api_only().await;
    app.apply().expect_code(0);
    let (tag, delay) = live(&app).await;
    assert!(tag.is_some(), "written with the create");
    assert_eq!(delay, "30");
    // The next plan trusts the tag: in sync without a single attribute read.
    let (statuses, reads) = plan_counting_attribute_reads(&app).await;
    assert!(
        statuses.iter().all(|s| *s == Status::InSync),
        "{statuses:?}"
    );
    assert_eq!(reads, 0);

    // A changed attribute in the manifest: read (the tag is stale), applied, the tag updated.
    app.edit(
        API_YAML,
        &format!("{DELAY}: \"30\""),
        &format!("{DELAY}: \"45\""),
    );
    let (statuses, reads) = plan_counting_attribute_reads(&app).await;
    assert!(statuses.contains(&Status::Update), "{statuses:?}");
    assert_eq!(reads, 1);
    let diff = app.diff();
    diff.expect_code(2);
    let header = format!("~ TargetGroup/{} ", app.names.api_target_group);
    let lines = diff.lines_under(&header);
    assert!(
        lines
            .iter()
            .any(|l| l.trim() == format!(r#"spec.attributes["{DELAY}"]: "30" -> "45""#)),
        "{diff}"
    );
    app.apply().expect_code(0);
    let (new_tag, delay) = live(&app).await;
    assert_eq!(delay, "45");
    assert!(
        new_tag.is_some() && new_tag != tag,
        "{tag:?} -> {new_tag:?}"
    );
    let (statuses, reads) = plan_counting_attribute_reads(&app).await;
    assert!(
        statuses.iter().all(|s| *s == Status::InSync),
        "{statuses:?}"
    );
    assert_eq!(reads, 0);
}

#[tokio::test]
async fn an_attribute_changed_by_hand_is_found_by_diff_read_attributes() {
    let app = App::api_only().await;
    app.apply().expect_code(0);
    let arn = app.api_target_group().await.arn;
    let by_hand = [(DELAY.to_string(), "300".to_string())].into();
    app.cloud
        .elbv2
        .modify_target_group_attributes(&arn, &by_hand)
        .await
        .expect("ModifyTargetGroupAttributes");
    // Trusted: the tag still says the manifest's attributes were set.
    app.diff().expect_code(0);
    let diff = app.run("diff", &["--read-attributes", "manifests"]);
    diff.expect_code(2);
    let header = format!("~ TargetGroup/{} ", app.names.api_target_group);
    assert!(
        diff.lines_under(&header)
            .iter()
            .any(|l| l.trim() == format!(r#"spec.attributes["{DELAY}"]: "300" -> "30""#)),
        "{diff}"
    );
    app.run("apply", &["--read-attributes", "manifests"])
        .expect_code(0);
    assert_eq!(live(&app).await.1, "30");
}
