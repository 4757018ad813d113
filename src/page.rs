//! The status page for people, served at `/`: one server-rendered HTML page of a
//! [`StatusReport`] (no script, no front-end build) that reloads itself every 10 seconds.
//!
//! It shows the source (location, revision, manifest errors, last sync and its age, readiness)
//! and one table row per resource: kind, cluster, name, sync status and health in colour, the
//! source revision applied, the task definition, when the status last changed, and what is
//! going on (message, last error, and for out-of-sync resources the fields that differ).
//!
//! Every value is HTML-escaped ([`escape`]): names, errors and field diffs come from manifests
//! and AWS, not from the operator.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use crate::status::{Health, ResourceStatus, StatusReport, SyncStatus};

/// Seconds between the page's own reloads.
pub const REFRESH_SECONDS: u32 = 10;

/// Escapes `text` for HTML text and double- or single-quoted attribute values; control and
/// bidi characters are written out as `\u{1b}` (`manifest::escape`).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if crate::manifest::escape::needs_escape(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem;color:#1f2328;background:#fff}
h1{font-size:1.4rem;margin:0 0 .8rem}
h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.kind,td.name,td.since,td.sync,td.health{white-space:nowrap}
dl.source{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem;margin:0}
dl.source dt{font-weight:600}
dl.source dd{margin:0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.6rem;font-weight:600;font-size:.8rem;color:#fff}
.sync-Synced,.health-Healthy,.ready-yes{background:#1a7f37}
.sync-OutOfSync{background:#bc4c00}
.sync-Stalled{background:#cf222e}
.sync-Unknown,.health-Missing{background:#6e7781}
.health-Progressing{background:#0969da}
.health-Degraded,.ready-no{background:#cf222e}
.health-Suspended{background:#8250df}
.error{color:#cf222e}
.bad{color:#cf222e;font-weight:600}
ul.changes{margin:.2rem 0 0;padding-left:1.1rem}
.summary span{margin-right:1rem}
footer{margin-top:1.5rem;color:#6e7781;font-size:.8rem}
";

/// The whole page for `report`, as of `now` (ages and the footer's time).
pub fn render(report: &StatusReport, now: SystemTime) -> String {
    let mut html = String::with_capacity(4096 + report.resources.len() * 512);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>ecs-operator status</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>ecs-operator status</h1>\n"
    );
    source_section(&mut html, report, now);
    summary(&mut html, &report.resources);
    resources_table(&mut html, &report.resources, now);
    let _ = write!(
        html,
        "<footer>Rendered {} &middot; reloads every {REFRESH_SECONDS} s &middot; JSON at \
         <a href=\"/status\">/status</a>, metrics at <a href=\"/metrics\">/metrics</a></footer>\n\
         </body>\n</html>\n",
        escape(&humantime::format_rfc3339_seconds(now).to_string())
    );
    html
}

fn source_section(html: &mut String, report: &StatusReport, now: SystemTime) {
    let source = &report.source;
    let (ready_class, ready_text) = if report.ready {
        ("ready-yes", "ready")
    } else {
        ("ready-no", "not ready")
    };
    let _ = write!(
        html,
        "<h2>Source</h2>\n<dl class=\"source\">\n\
         <dt>Controller</dt><dd><span id=\"ready\" class=\"badge {ready_class}\">{ready_text}</span></dd>\n\
         <dt>Location</dt><dd id=\"source-location\"><code>{}</code></dd>\n\
         <dt>Revision</dt><dd id=\"source-revision\"><code>{}</code></dd>\n",
        escape(&source.location),
        escape(source.revision.as_deref().unwrap_or("none loaded yet")),
    );
    let errors_class = if source.manifest_errors > 0 {
        " class=\"bad\""
    } else {
        ""
    };
    let _ = writeln!(
        html,
        "<dt>Manifest errors</dt><dd id=\"manifest-errors\"{errors_class}>{}</dd>",
        source.manifest_errors
    );
    for (id, label, at) in [
        ("loaded-at", "Loaded", &source.loaded_at),
        ("last-sync", "Last full sync", &source.last_sync),
    ] {
        let text = match at {
            Some(at) => timestamp_with_age(at, now),
            None => "never".to_string(),
        };
        let _ = writeln!(html, "<dt>{label}</dt><dd id=\"{id}\">{text}</dd>");
    }
    if let Some(error) = &source.last_error {
        let _ = writeln!(
            html,
            "<dt>Source error</dt><dd id=\"source-error\" class=\"error\">{}</dd>",
            escape(error)
        );
    }
    html.push_str("</dl>\n");
}

/// `2026-11-22T01:00:00Z (5m ago)`, escaped; the text alone when it is not RFC 3339.
fn timestamp_with_age(at: &str, now: SystemTime) -> String {
    match humantime::parse_rfc3339_weak(at) {
        Ok(t) => format!("{} ({})", escape(at), age(t, now)),
        Err(_) => escape(at),
    }
}

/// How long before `now` `then` was, rounded to a readable unit (`3m ago`).
fn age(then: SystemTime, now: SystemTime) -> String {
    let Ok(d) = now.duration_since(then) else {
        return "just now".into();
    };
    let secs = d.as_secs();
    let rounded = match secs {
        0..=59 => Duration::from_secs(secs),
        60..=3599 => Duration::from_secs(secs / 60 * 60),
        3600..=86_399 => Duration::from_secs(secs / 3600 * 3600),
        _ => Duration::from_secs(secs / 86_400 * 86_400),
    };
    if secs == 0 {
        "just now".into()
    } else {
        format!("{} ago", humantime::format_duration(rounded))
    }
}

fn summary(html: &mut String, resources: &[ResourceStatus]) {
    let count_sync = |s: SyncStatus| resources.iter().filter(|r| r.sync == s).count();
    let count_health = |h: Health| resources.iter().filter(|r| r.health == h).count();
    let _ = write!(
        html,
        "<h2>Resources ({})</h2>\n<p class=\"summary\" id=\"summary\">",
        resources.len()
    );
    for sync in crate::metrics::SYNC_STATUSES {
        let _ = write!(
            html,
            "<span><span class=\"badge sync-{0}\">{0}</span> {1}</span>",
            sync.as_str(),
            count_sync(sync)
        );
    }
    for health in crate::metrics::HEALTHS {
        let n = count_health(health);
        if n > 0 {
            let _ = write!(
                html,
                "<span><span class=\"badge health-{0}\">{0}</span> {n}</span>",
                health.as_str()
            );
        }
    }
    html.push_str("</p>\n");
}

fn resources_table(html: &mut String, resources: &[ResourceStatus], now: SystemTime) {
    if resources.is_empty() {
        html.push_str("<p id=\"no-resources\">No resources yet.</p>\n");
        return;
    }
    html.push_str(
        "<table id=\"resources\">\n<thead><tr><th>Kind</th><th>Cluster</th><th>Name</th>\
         <th>Sync</th><th>Health</th><th>Revision</th><th>Task definition</th><th>Since</th>\
         <th>Observed</th><th>Details</th></tr></thead>\n<tbody>\n",
    );
    for r in resources {
        row(html, r, now);
    }
    html.push_str("</tbody>\n</table>\n");
}

fn row(html: &mut String, r: &ResourceStatus, now: SystemTime) {
    let key = r.key().to_string();
    let revision = r.revision.as_deref().unwrap_or("");
    let short_revision: String = revision
        .strip_prefix("sha256:")
        .unwrap_or(revision)
        .chars()
        .take(12)
        .collect();
    let _ = write!(
        html,
        "<tr class=\"resource\" data-key=\"{key}\">\
         <td class=\"kind\">{kind}</td><td class=\"cluster\">{cluster}</td>\
         <td class=\"name\" title=\"{file}\">{name}</td>\
         <td class=\"sync\"><span class=\"badge sync-{sync}\">{sync}</span></td>\
         <td class=\"health\"><span class=\"badge health-{health}\">{health}</span></td>\
         <td class=\"revision\"><code title=\"{revision}\">{short_revision}</code></td>\
         <td class=\"task-definition\"><code>{task_definition}</code></td>\
         <td class=\"since\" title=\"{since_exact}\">{since}</td>\
         <td class=\"observed\" title=\"{observed_exact}\">{observed}</td>\
         <td class=\"details\">",
        key = escape(&key),
        kind = r.kind.as_str(),
        cluster = escape(r.cluster.as_deref().unwrap_or("")),
        name = escape(&r.name),
        file = escape(
            &r.file
                .as_ref()
                .map(|f| f.display().to_string())
                .unwrap_or_default()
        ),
        sync = r.sync.as_str(),
        health = r.health.as_str(),
        revision = escape(revision),
        short_revision = escape(&short_revision),
        task_definition = escape(r.task_definition.as_deref().unwrap_or("")),
        since_exact = escape(&humantime::format_rfc3339_seconds(r.last_transition).to_string()),
        since = escape(&age(r.last_transition, now)),
        observed_exact = r
            .last_observed
            .map(|t| humantime::format_rfc3339_seconds(t).to_string())
            .unwrap_or_default(),
        observed = r
            .last_observed
            .map_or_else(|| "never".to_string(), |t| age(t, now)),
    );
    if let Some(message) = &r.message {
        let _ = write!(html, "<div class=\"message\">{}</div>", escape(message));
    }
    if let Some(error) = &r.last_error {
        let _ = write!(
            html,
            "<div class=\"last-error error\">{}</div>",
            escape(error)
        );
    }
    if matches!(r.sync, SyncStatus::OutOfSync | SyncStatus::Stalled) && !r.changes.is_empty() {
        html.push_str("<ul class=\"changes\">");
        for change in &r.changes {
            let _ = write!(html, "<li><code>{}</code></li>", escape(change));
        }
        html.push_str("</ul>");
    }
    html.push_str("</td></tr>\n");
}

#[cfg(test)]
mod tests;
