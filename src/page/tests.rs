//! Tests of the status page: the example manifests' resources rendered and read back with an
//! HTML parser, escaping, and ages.

use std::path::PathBuf;

use scraper::{ElementRef, Html, Selector};

use super::*;
use crate::manifest::{Kind, load_paths};
use crate::status::StatusBoard;

#[test]
fn escape_covers_markup_and_both_quotes() {
    assert_eq!(
        escape(r#"<a href="x" onclick='y'>&</a>"#),
        "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
    );
    assert_eq!(escape("a\u{1b}[2J\u{7}b"), "a\\u{1b}[2J\\u{7}b");
}

#[test]
fn ages_round_to_one_unit() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(100_000);
    assert_eq!(age(now, now), "just now");
    assert_eq!(age(now - Duration::from_secs(42), now), "42s ago");
    assert_eq!(age(now - Duration::from_secs(150), now), "2m ago");
    assert_eq!(age(now - Duration::from_secs(7300), now), "2h ago");
    assert_eq!(age(now + Duration::from_secs(5), now), "just now");
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("a valid selector")
}

fn text(e: ElementRef<'_>) -> String {
    e.text().collect::<String>().trim().to_string()
}

fn cell(row: ElementRef<'_>, class: &str) -> String {
    row.select(&sel(&format!("td.{class}")))
        .next()
        .map(text)
        .unwrap_or_else(|| panic!("a td.{class} cell"))
}

/// A board with every resource of manifests/, in the states a controller would give them.
fn board_of_the_examples() -> (StatusBoard, Vec<crate::manifest::ResourceKey>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("manifests");
    let loaded = load_paths(&[root]);
    assert!(
        loaded.failed.is_empty(),
        "the examples load: {:?}",
        loaded.failed
    );
    let keys: Vec<_> = loaded.documents.iter().map(|d| d.manifest.key()).collect();
    assert!(
        keys.len() >= 5,
        "cluster, two target groups, two services: {keys:?}"
    );
    let board = StatusBoard::new();
    for key in &keys {
        board.update(key, |s| {
            s.revision = Some("sha256:0123456789abcdef0123".into());
            match (key.kind, key.name.as_str()) {
                (Kind::Service, "api") => {
                    s.sync = SyncStatus::OutOfSync;
                    s.health = Health::Degraded;
                    s.task_definition = Some("api:7".into());
                    s.message = Some("rolled back to api:6".into());
                    s.last_error = Some(
                        "<script>alert('x')</script> UpdateService failed [request id r-1]".into(),
                    );
                    s.changes = vec![
                        "spec.desiredCount: 2 -> 3".into(),
                        "spec.taskDefinition.containerDefinitions[api].image: a -> <b>".into(),
                    ];
                }
                (Kind::Service, _) => {
                    s.sync = SyncStatus::Synced;
                    s.health = Health::Progressing;
                    s.task_definition = Some(format!("{}:2", key.name));
                }
                _ => {
                    s.sync = SyncStatus::Synced;
                    s.health = Health::Healthy;
                }
            }
        });
    }
    board.update_source(|s| {
        s.location = "dir:manifests".into();
        s.revision = Some("sha256:0123456789abcdef0123".into());
        s.manifest_errors = 1;
        s.last_sync = Some("2026-11-22T01:00:00Z".into());
    });
    board.set_ready();
    (board, keys)
}

#[test]
fn the_page_lists_every_example_resource_with_its_status() {
    let (board, keys) = board_of_the_examples();
    let now = humantime::parse_rfc3339("2026-11-22T01:05:00Z").unwrap();
    let html = render(&board.report(), now);
    let doc = Html::parse_document(&html);

    let refresh = doc
        .select(&sel("meta[http-equiv=refresh]"))
        .next()
        .expect("the page reloads itself");
    assert_eq!(refresh.value().attr("content"), Some("10"));
    assert_eq!(doc.select(&sel("script")).count(), 0, "no script at all");

    let rows: Vec<_> = doc.select(&sel("table#resources tr.resource")).collect();
    assert_eq!(rows.len(), keys.len());
    for key in &keys {
        let row = rows
            .iter()
            .find(|r| r.value().attr("data-key") == Some(key.to_string().as_str()))
            .unwrap_or_else(|| panic!("a row for {key}"));
        assert_eq!(cell(*row, "kind"), key.kind.as_str());
        assert_eq!(
            cell(*row, "cluster"),
            key.cluster.clone().unwrap_or_default()
        );
        assert_eq!(cell(*row, "name"), key.name);
        assert_eq!(cell(*row, "revision"), "0123456789ab");
        let want = board.get(key).unwrap();
        assert_eq!(cell(*row, "sync"), want.sync.as_str(), "{key}");
        assert_eq!(cell(*row, "health"), want.health.as_str(), "{key}");
        let badge = row.select(&sel("td.sync span.badge")).next().unwrap();
        assert!(
            badge
                .value()
                .classes()
                .any(|c| c == format!("sync-{}", want.sync.as_str())),
            "the sync badge is coloured by status"
        );
        let changes = row.select(&sel("ul.changes li")).count();
        if key.name == "api" && key.kind == Kind::Service {
            assert_eq!(
                changes, 2,
                "the differing fields of the out-of-sync service"
            );
            let items: Vec<_> = row.select(&sel("ul.changes li")).map(text).collect();
            assert_eq!(
                items[1],
                "spec.taskDefinition.containerDefinitions[api].image: a -> <b>"
            );
            assert_eq!(cell(*row, "task-definition"), "api:7");
        } else {
            assert_eq!(changes, 0, "{key}");
        }
    }

    let by_id = |id: &str| {
        doc.select(&sel(&format!("#{id}")))
            .next()
            .map(text)
            .unwrap_or_else(|| panic!("#{id}"))
    };
    assert_eq!(by_id("ready"), "ready");
    assert_eq!(by_id("source-location"), "dir:manifests");
    assert_eq!(by_id("source-revision"), "sha256:0123456789abcdef0123");
    assert_eq!(by_id("manifest-errors"), "1");
    assert_eq!(by_id("last-sync"), "2026-11-22T01:00:00Z (5m ago)");
}

#[test]
fn a_script_in_an_error_is_text_not_markup() {
    let (board, _) = board_of_the_examples();
    let html = render(&board.report(), SystemTime::now());
    assert!(!html.contains("<script>"), "escaped in the source");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    let doc = Html::parse_document(&html);
    assert_eq!(doc.select(&sel("script")).count(), 0);
    assert_eq!(
        doc.select(&sel("ul.changes b")).count(),
        0,
        "nor in a change"
    );
    let error = doc
        .select(&sel("tr.resource td.details .last-error"))
        .next()
        .map(text)
        .expect("the last error is shown");
    assert_eq!(
        error,
        "<script>alert('x')</script> UpdateService failed [request id r-1]"
    );
}

#[test]
fn an_empty_report_renders_a_not_ready_page() {
    let html = render(&StatusReport::default(), SystemTime::now());
    let doc = Html::parse_document(&html);
    assert_eq!(
        doc.select(&sel("#ready")).next().map(text).as_deref(),
        Some("not ready")
    );
    assert!(doc.select(&sel("#no-resources")).next().is_some());
    assert_eq!(
        doc.select(&sel("#last-sync")).next().map(text).as_deref(),
        Some("never")
    );
}

#[test]
fn a_stalled_resource_shows_its_badge_reason_and_differing_fields() {
    let board = StatusBoard::new();
    let key = crate::manifest::ResourceKey {
        kind: Kind::Service,
        cluster: Some("shop".into()),
        name: "api".into(),
    };
    board.update(&key, |s| {
        s.sync = SyncStatus::Stalled;
        s.health = Health::Healthy;
        s.last_error = Some("CreateService: access_denied: AccessDeniedException".into());
        s.changes = vec!["spec.desiredCount: 2 -> 3".into()];
    });
    let html = render(&board.report(), SystemTime::now());
    assert!(html.contains(".sync-Stalled{"), "the badge has a colour");
    let doc = Html::parse_document(&html);
    let row = doc.select(&sel("tr.resource")).next().expect("a row");
    assert_eq!(cell(row, "sync"), "Stalled");
    let badge = row.select(&sel("td.sync span.badge")).next().unwrap();
    assert!(badge.value().classes().any(|c| c == "sync-Stalled"));
    let error = row.select(&sel(".last-error")).next().map(text);
    assert_eq!(
        error.as_deref(),
        Some("CreateService: access_denied: AccessDeniedException")
    );
    assert_eq!(row.select(&sel("ul.changes li")).count(), 1);
}

#[test]
fn each_row_says_when_its_live_state_was_last_read_and_a_stale_one_reads_unknown() {
    let board = StatusBoard::new();
    let key = |name: &str| crate::manifest::ResourceKey {
        kind: Kind::Cluster,
        cluster: None,
        name: name.into(),
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    board.update(&key("seen"), |s| {
        s.sync = SyncStatus::Synced;
        s.last_observed = Some(now - Duration::from_secs(90));
    });
    board.update(&key("stale"), |s| {
        s.sync = SyncStatus::Synced;
        s.last_observed = Some(now - Duration::from_secs(3600));
    });
    board.update(&key("never"), |s| s.sync = SyncStatus::Unknown);
    board.set_stale_after(Duration::from_secs(600));
    let doc = Html::parse_document(&render(&board.report_at(now), now));
    let row = |name: &str| {
        doc.select(&sel("tr.resource"))
            .find(|r| cell(*r, "name") == name)
            .unwrap_or_else(|| panic!("a row for {name}"))
    };
    assert_eq!(cell(row("seen"), "observed"), "1m ago");
    assert_eq!(cell(row("seen"), "sync"), "Synced");
    assert_eq!(cell(row("stale"), "observed"), "1h ago");
    assert_eq!(cell(row("stale"), "sync"), "Unknown");
    assert!(cell(row("stale"), "details").contains("not observed for 1h"));
    assert_eq!(cell(row("never"), "observed"), "never");
}
