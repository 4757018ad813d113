//! The conformance suite: the same cases run against the simulator and against the `aws`
//! backend on a real moto server, so the simulator cannot drift from the wire protocol the SDK
//! speaks. Run with `cargo test --test conformance`; moto must be installed
//! (`pip install 'moto[server]'`; scripts/test.sh does it).

mod cases;
// A Service's spec.autoScaling: the Application Auto Scaling calls.
#[path = "../common/mod.rs"]
mod common;
mod rules;
mod scaling_cases;
mod support;

/// Declares every case once per backend: `sim::<case>` and `moto::<case>`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sim {
            $(
                #[tokio::test]
                async fn $case() {
                    let backend = crate::support::Backend::sim();
                    crate::cases::$case(&backend).await;
                }
            )*
        }
        mod moto {
            $(
                #[tokio::test]
                async fn $case() {
                    let backend = crate::support::Backend::moto().await;
                    crate::cases::$case(&backend).await;
                }
            )*
        }
    };
}

conformance!(
    create_cluster_then_describe_returns_it_with_tags,
    describe_clusters_reports_missing_names_without_failing,
    update_cluster_settings_changes_container_insights,
    put_cluster_capacity_providers_sets_the_default_strategy,
    tag_and_untag_a_cluster,
    describe_clusters_rejects_more_than_100_names,
    register_then_describe_returns_the_definition_and_tags,
    every_member_of_a_task_definition_comes_back,
    every_member_of_a_service_comes_back,
    every_member_of_a_cluster_comes_back,
    every_member_of_a_target_group_comes_back,
    revisions_count_up_per_family,
    list_task_definitions_returns_active_revisions_of_one_family_in_order,
    deregister_marks_a_revision_inactive,
    describing_an_unknown_task_definition_fails,
    create_service_then_describe_returns_it_with_tags,
    describe_services_reports_missing_names_without_failing,
    describe_services_of_a_missing_cluster_is_not_found,
    describe_services_rejects_more_than_10_names,
    create_service_retried_with_the_same_token_creates_one_service,
    create_service_that_exists_with_a_new_token_is_rejected,
    update_service_changes_only_what_it_is_given,
    update_of_a_missing_service_is_not_found,
    delete_service_with_force_removes_it,
    list_services_returns_every_service_of_the_cluster,
    tag_and_untag_a_service,
    list_stopped_tasks_of_a_new_service_is_empty,
    list_stopped_tasks_of_a_missing_service_is_not_found,
    describe_tasks_reports_unknown_arns_as_missing,
    describe_tasks_rejects_more_than_100_arns,
    a_new_service_names_its_service_deployment,
    describe_service_deployments_reports_unknown_arns_and_its_limit,
    create_target_group_then_describe_by_name,
    describe_target_groups_fails_whole_when_a_name_is_missing,
    describe_target_groups_rejects_more_than_20_names,
    describe_target_groups_by_page_lists_every_group,
    creating_a_target_group_name_twice_with_other_settings_conflicts,
    modify_target_group_changes_the_health_check,
    target_group_attributes_have_defaults_and_can_be_changed,
    target_group_tags_can_be_read_added_and_removed,
    describe_tags_rejects_more_than_20_arns,
    delete_target_group_removes_it,
    a_new_target_group_has_no_targets,
    target_health_of_a_missing_group_is_not_found,
    a_service_behind_a_target_group_keeps_its_attachment,
    // Application Auto Scaling
    register_scalable_target_then_describe_returns_its_bounds,
    put_target_tracking_policy_then_describe_returns_it,
    step_scaling_policy_is_stored_and_deleted,
    scheduled_actions_are_put_described_and_deleted,
    deregister_removes_the_target_and_its_policies,
    // Listener rules (issue 14): tests/conformance/rules.rs.
    a_load_balancer_and_its_listeners_are_found_by_name,
    create_rule_then_describe_rules_returns_it_and_the_default,
    a_priority_in_use_is_refused,
    modify_rule_replaces_conditions_and_actions,
    set_rule_priorities_moves_a_rule,
    delete_rule_removes_it,
    rule_tags_can_be_added_and_removed,
    describe_rules_of_a_missing_listener_is_not_found,
);
