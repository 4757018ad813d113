//! Decoding one YAML document into a [`Manifest`], collecting every problem instead of stopping
//! at the first: syntax and type errors (with serde_path_to_error's field path and serde_yaml's
//! line), and every unknown field (serde_ignored) rather than only the first.
//!
//! The document is read in one pass straight into the typed spec: `kind` is read before `spec`
//! (the conventional order), so the spec visitor knows which type to build. A `spec` written
//! before `kind` is buffered and decoded afterwards.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::cluster::ClusterSpec;
use super::diagnostic::Severity;
use super::document::{API_VERSION, Kind, Manifest, Metadata, Spec};
use super::listener_rule::ListenerRuleSpec;
use super::path::{self, FieldPath};
use super::service::ServiceSpec;
use super::target_group::TargetGroupSpec;
use super::task_definition::READ_ONLY_FIELDS;

/// A problem found while decoding, before it is placed in a file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub severity: Severity,
    pub path: FieldPath,
    /// 1-based line within the document text, when the YAML parser knew it.
    pub line: Option<u32>,
    pub rule: &'static str,
    pub message: String,
}

/// What one document decoded to.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    /// The manifest, when the document decoded without errors.
    pub manifest: Option<Manifest>,
    /// Kind and name, when they could be read even though the document failed.
    pub identity: Option<(String, String)>,
    /// Errors and warnings.
    pub problems: Vec<Problem>,
    /// True for a document with no content (only comments or `null`).
    pub empty: bool,
}

/// Decodes one document's text (which holds at most one YAML document).
pub(crate) fn decode(text: &str) -> Decoded {
    let mut ignored = Vec::new();
    // Path tracking allocates for every key, so the first pass goes without it; a document that
    // fails is decoded again with serde_path_to_error to learn where.
    let result = {
        let de = serde_yaml::Deserializer::from_str(text);
        let mut on_ignored = |p: serde_ignored::Path<'_>| ignored.push(path::from_ignored(&p));
        Raw::deserialize(serde_ignored::Deserializer::new(de, &mut on_ignored))
    };
    let mut out = Decoded::default();
    for p in ignored {
        out.problems.push(unknown_field(p));
    }
    let raw = match result {
        Ok(raw) => raw,
        Err(first) => {
            let de = serde_yaml::Deserializer::from_str(text);
            let mut skip = |_: serde_ignored::Path<'_>| {};
            let tracked: Result<Raw, _> =
                serde_path_to_error::deserialize(serde_ignored::Deserializer::new(de, &mut skip));
            let problem = match tracked {
                Err(e) => yaml_problem(path::from_path_to_error(e.path()), e.inner()),
                // Cannot happen (same input, same code); report the first error at the root.
                Ok(_) => yaml_problem(FieldPath::root(), &first),
            };
            // serde stops at the first wrong value; the schema names every other one.
            let first_path = problem.path.clone();
            out.problems.push(problem);
            for (path, message) in super::all_errors::type_errors(text) {
                if path != first_path && !first_path.segments().starts_with(path.segments()) {
                    out.problems.push(Problem {
                        severity: Severity::Error,
                        path,
                        line: None,
                        rule: "type",
                        message,
                    });
                }
            }
            out.identity = recover_identity(text);
            return out;
        }
    };
    let Raw::Doc(doc) = raw else {
        out.empty = out.problems.is_empty();
        return out;
    };
    out.identity = match (&doc.kind, &doc.metadata) {
        (Some(k), Some(m)) => Some((k.clone(), m.name.clone())),
        _ => None,
    };
    let header_ok = check_header(&doc, &mut out.problems);
    let spec = match doc.spec {
        Some(RawSpec::Typed(spec)) => Some(*spec),
        Some(RawSpec::Deferred(value)) => match doc.kind.as_deref().and_then(Kind::parse) {
            Some(kind) => decode_deferred(kind, value, &mut out.problems),
            None => None,
        },
        None => {
            if header_ok {
                out.problems.push(problem(
                    FieldPath::root(),
                    "required",
                    "missing field `spec`",
                ));
            }
            None
        }
    };
    let mut spec = spec;
    if let Some(Spec::Service(s)) = &mut spec
        && let Err(message) = s.task_definition.take_pasted()
    {
        out.problems.push(problem(
            FieldPath::parse("spec.taskDefinition.taskDefinition"),
            "pasted-task-definition",
            message,
        ));
    }
    if out.problems.iter().any(|p| p.severity == Severity::Error) {
        return out;
    }
    if let (Some(metadata), Some(spec)) = (doc.metadata, spec) {
        out.manifest = Some(Manifest { metadata, spec });
    }
    out
}

/// Reads just `kind` and `metadata.name` of a document whose full decoding failed, so the
/// resource it names is known to be broken rather than absent.
fn recover_identity(text: &str) -> Option<(String, String)> {
    #[derive(Deserialize)]
    struct Header {
        kind: String,
        metadata: Name,
    }
    #[derive(Deserialize)]
    struct Name {
        name: String,
    }
    let h: Header = serde_yaml::from_str(text).ok()?;
    Some((h.kind, h.metadata.name))
}

fn check_header(doc: &RawDoc, problems: &mut Vec<Problem>) -> bool {
    let mut ok = true;
    match doc.api_version.as_deref() {
        None => {
            ok = false;
            problems.push(problem(
                FieldPath::root(),
                "required",
                "missing field `apiVersion`",
            ));
        }
        Some(API_VERSION) => {}
        Some(other) => {
            ok = false;
            problems.push(problem(
                FieldPath::root().key("apiVersion"),
                "api-version",
                format!("unknown apiVersion {other:?}; this release reads {API_VERSION:?}"),
            ));
        }
    }
    match doc.kind.as_deref() {
        None => {
            ok = false;
            problems.push(problem(
                FieldPath::root(),
                "required",
                "missing field `kind`",
            ));
        }
        Some(k) if Kind::parse(k).is_none() => {
            ok = false;
            problems.push(problem(
                FieldPath::root().key("kind"),
                "kind",
                format!("unknown kind {k:?}; expected one of Cluster, TargetGroup, ListenerRule, Service"),
            ));
        }
        Some(_) => {}
    }
    if doc.metadata.is_none() {
        ok = false;
        problems.push(problem(
            FieldPath::root(),
            "required",
            "missing field `metadata`",
        ));
    }
    ok
}

fn decode_deferred(
    kind: Kind,
    value: serde_yaml::Value,
    problems: &mut Vec<Problem>,
) -> Option<Spec> {
    let mut ignored = Vec::new();
    let base = FieldPath::root().key("spec");
    let result = {
        let mut on_ignored = |p: serde_ignored::Path<'_>| ignored.push(path::from_ignored(&p));
        let de = serde_ignored::Deserializer::new(value, &mut on_ignored);
        deserialize_seed_tracked(SpecSeed(kind), de)
    };
    let rebase = |p: &FieldPath| {
        let mut full = base.clone();
        for s in p.segments() {
            full.push(s.clone());
        }
        full
    };
    for p in ignored {
        problems.push(unknown_field(rebase(&p)));
    }
    match result {
        Ok(spec) => Some(spec),
        Err(e) => {
            let p = rebase(&path::from_path_to_error(e.path()));
            problems.push(yaml_problem(p, e.inner()));
            None
        }
    }
}

fn problem(path: FieldPath, rule: &'static str, message: impl Into<String>) -> Problem {
    Problem {
        severity: Severity::Error,
        path,
        line: None,
        rule,
        message: message.into(),
    }
}

fn unknown_field(path: FieldPath) -> Problem {
    let field = path.last_key().unwrap_or("?").to_string();
    let parent = path.parent();
    let under_task_definition = parent == FieldPath::parse("spec.taskDefinition")
        || parent == FieldPath::parse("spec.taskDefinition.taskDefinition");
    if under_task_definition && READ_ONLY_FIELDS.contains(&field.as_str()) {
        return Problem {
            severity: Severity::Warning,
            message: format!("`{field}` is set by ECS when a revision is registered; ignored"),
            rule: "read-only-field",
            path,
            line: None,
        };
    }
    let mut message = format!("unknown field `{field}`");
    if let Some(s) = super::schema::suggest_field(&path) {
        message.push_str(&format!(", did you mean `{s}`?"));
    }
    problem(path, "unknown-field", message)
}

/// Turns a serde_yaml error into a problem, keeping the line and dropping the location and the
/// path serde_yaml prints itself (we print our own).
fn yaml_problem(path: FieldPath, e: &serde_yaml::Error) -> Problem {
    let mut msg = strip_locations(&e.to_string());
    if let Some((prefix, rest)) = msg.split_once(": ")
        && !prefix.contains(' ')
        && !path.is_root()
    {
        msg = rest.to_string();
    }
    for (rust, human) in [
        ("expected u32", "expected a whole number of at least 0"),
        ("expected u64", "expected a whole number of at least 0"),
        ("expected i64", "expected a whole number"),
    ] {
        msg = msg.replace(rust, human);
    }
    let syntax = msg.contains("while parsing") || msg.contains("while scanning");
    let (rule, line) = if msg.starts_with("missing field") {
        // serde_yaml points at the mapping's first key; the mapping's own key (found through
        // the line index) is where the field belongs.
        ("required", None)
    } else if syntax || path.is_root() {
        ("syntax", e.location().map(|l| l.line() as u32))
    } else {
        ("type", e.location().map(|l| l.line() as u32))
    };
    Problem {
        severity: Severity::Error,
        path,
        line,
        rule,
        message: msg,
    }
}

/// Drops every ` at line N column M` from a libyaml message: its numbers count from the start
/// of the document, not the file, and the diagnostic carries the file line already.
fn strip_locations(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + " at line ".len()..];
        let digits = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        let mut tail = &after[digits..];
        if let Some(col) = tail.strip_prefix(" column ") {
            let d = col.find(|c: char| !c.is_ascii_digit()).unwrap_or(col.len());
            tail = &col[d..];
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// The top level of a document, as read.
enum Raw {
    Empty,
    Doc(Box<RawDoc>),
}

#[derive(Default)]
struct RawDoc {
    api_version: Option<String>,
    kind: Option<String>,
    metadata: Option<Metadata>,
    spec: Option<RawSpec>,
}

enum RawSpec {
    Typed(Box<Spec>),
    Deferred(serde_yaml::Value),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a manifest: a mapping with apiVersion, kind, metadata and spec")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Empty)
    }

    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Empty)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut doc = RawDoc::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "apiVersion" => doc.api_version = Some(map.next_value()?),
                "kind" => doc.kind = Some(map.next_value()?),
                "metadata" => doc.metadata = Some(map.next_value()?),
                "spec" => {
                    doc.spec = Some(match doc.kind.as_deref().and_then(Kind::parse) {
                        Some(kind) => {
                            RawSpec::Typed(Box::new(map.next_value_seed(SpecSeed(kind))?))
                        }
                        None => RawSpec::Deferred(map.next_value()?),
                    })
                }
                // Reported by serde_ignored as an unknown field.
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Raw::Doc(Box::new(doc)))
    }
}

/// Deserializes `spec` as the type of a known kind.
struct SpecSeed(Kind);

impl<'de> DeserializeSeed<'de> for SpecSeed {
    type Value = Spec;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Spec, D::Error> {
        Ok(match self.0 {
            Kind::Cluster => Spec::Cluster(ClusterSpec::deserialize(d)?),
            Kind::TargetGroup => Spec::TargetGroup(TargetGroupSpec::deserialize(d)?),
            Kind::ListenerRule => Spec::ListenerRule(ListenerRuleSpec::deserialize(d)?),
            Kind::Service => Spec::Service(Box::new(ServiceSpec::deserialize(d)?)),
        })
    }
}

/// serde_path_to_error has no seed entry point; this gives it one.
fn deserialize_seed_tracked<'de, D, S>(
    seed: S,
    d: D,
) -> Result<S::Value, serde_path_to_error::Error<D::Error>>
where
    D: Deserializer<'de>,
    S: DeserializeSeed<'de>,
{
    let mut track = serde_path_to_error::Track::new();
    match seed.deserialize(serde_path_to_error::Deserializer::new(d, &mut track)) {
        Ok(v) => Ok(v),
        Err(e) => Err(serde_path_to_error::Error::new(track.path(), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<(String, Option<u32>, String)> {
        decode(text)
            .problems
            .into_iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| (p.path.to_string(), p.line, p.message))
            .collect()
    }

    const GOOD: &str =
        "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: shop}\nspec: {}\n";

    #[test]
    fn a_good_document_decodes() {
        let d = decode(GOOD);
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        assert_eq!(d.manifest.unwrap().metadata.name, "shop");
    }

    #[test]
    fn comments_and_null_are_empty_documents() {
        for text in ["", "# nothing\n", "---\n", "~\n"] {
            let d = decode(text);
            assert!(
                d.empty && d.manifest.is_none() && d.problems.is_empty(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn type_errors_carry_path_and_line() {
        let text = "apiVersion: ecs-operator/v1\nkind: Service\nmetadata: {name: api}\nspec:\n  cluster: shop\n  desiredCount: two\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].0, "spec.desiredCount");
        assert_eq!(
            decode(text).identity,
            Some(("Service".into(), "api".into()))
        );
        assert_eq!(errs[0].1, Some(6));
        assert!(
            errs[0].2.starts_with("invalid type: string \"two\""),
            "{}",
            errs[0].2
        );
    }

    #[test]
    fn every_unknown_field_is_reported() {
        let text = "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: shop, labels: {}}\nspec: {setings: {}, tagz: {}}\nextra: 1\n";
        let mut paths: Vec<String> = errors(text).into_iter().map(|e| e.0).collect();
        paths.sort();
        assert_eq!(
            paths,
            ["extra", "metadata.labels", "spec.setings", "spec.tagz"]
        );
    }

    #[test]
    fn unknown_kind_and_api_version_are_named() {
        let text = "apiVersion: v2\nkind: Deployment\nmetadata: {name: x}\nspec: {}\n";
        let errs = errors(text);
        assert!(
            errs.iter()
                .any(|e| e.0 == "apiVersion" && e.2.contains("\"v2\""))
        );
        assert!(
            errs.iter()
                .any(|e| e.0 == "kind" && e.2.contains("\"Deployment\""))
        );
        assert_eq!(
            decode(text).identity,
            Some(("Deployment".into(), "x".into()))
        );
    }

    #[test]
    fn spec_before_kind_is_still_typed() {
        let text = "spec:\n  settingz: {}\napiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: shop}\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].0, "spec.settingz");
        let ok = "spec: {}\napiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: shop}\n";
        assert!(decode(ok).manifest.is_some());
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let errs = errors("apiVersion: ecs-operator/v1\nkind: [Cluster\nmetadata: {}\n");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].1.is_some());
    }

    #[test]
    fn pasted_read_only_task_definition_fields_only_warn() {
        let text = "apiVersion: ecs-operator/v1\nkind: Service\nmetadata: {name: api}\nspec:\n  cluster: shop\n  taskDefinition:\n    revision: 3\n    status: ACTIVE\n    containerDefinitions: [{name: a, image: 'x:1'}]\n";
        let d = decode(text);
        assert!(d.manifest.is_some(), "{:?}", d.problems);
        assert_eq!(d.problems.len(), 2);
        assert!(d.problems.iter().all(|p| p.severity == Severity::Warning));
    }
}
