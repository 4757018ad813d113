//! What one document's rules may know about the others (the TargetGroup manifests by name,
//! and the names of those that failed to load), with every lookup recorded; and the cache of
//! each document's own findings that those records make safe ([`ValidationCache`]).
//!
//! A document's findings depend on the document and on the target groups its rules looked up,
//! nothing else. The cache keeps them with the shared manifest they were computed for and the
//! answer of each lookup: a document whose manifest is the same (`Arc::ptr_eq`, the load
//! cache hands out the same one while the file is unchanged) at the same file and line, and
//! whose lookups answer the same, gets its findings again without running its rules. The
//! cross-document rules always run over the whole set.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use super::super::diagnostic::Diagnostic;
use super::super::document::Manifest;
use super::super::load::{Document, Loaded};
use super::super::target_group::TargetGroupSpec;

/// What a lookup of a TargetGroup manifest by name answered.
pub(super) enum TargetGroupRef<'a> {
    /// A TargetGroup manifest of that name loaded.
    Found(&'a TargetGroupSpec),
    /// One of that name failed to load (its own error is reported there).
    Broken,
    /// None of that name.
    Missing,
}

/// The answer of one lookup as the cache keeps it.
#[derive(Debug, Clone)]
enum Answer {
    Found(Arc<Manifest>),
    Broken,
    Missing,
}

impl Answer {
    fn same(&self, other: &Answer) -> bool {
        match (self, other) {
            (Answer::Found(a), Answer::Found(b)) => Arc::ptr_eq(a, b),
            (Answer::Broken, Answer::Broken) | (Answer::Missing, Answer::Missing) => true,
            _ => false,
        }
    }
}

/// The other documents as one document's rules see them.
pub(super) struct Context<'a> {
    target_groups: HashMap<&'a str, (&'a Arc<Manifest>, &'a TargetGroupSpec)>,
    broken_target_groups: HashSet<&'a str>,
    /// The lookups made since the last [`Context::take_lookups`], when `record` (only the
    /// rules look up, and each document's are taken when its rules end).
    lookups: RefCell<Vec<(String, Answer)>>,
    record: bool,
}

impl<'a> Context<'a> {
    /// The context of `loaded`'s documents; `record`: keep each lookup's answer (for a
    /// [`ValidationCache`]).
    pub(super) fn new(loaded: &'a Loaded, record: bool) -> Self {
        // Sized once for every document: no growth while 10,000 groups go in.
        let mut target_groups = HashMap::with_capacity(loaded.documents.len());
        target_groups.extend(loaded.documents.iter().filter_map(|d| {
            let spec = d.manifest.as_target_group()?;
            Some((d.manifest.metadata.name.as_str(), (&d.manifest, spec)))
        }));
        let broken_target_groups = loaded
            .failed
            .iter()
            .filter_map(|f| f.identity.as_ref())
            .filter(|(kind, _)| kind == "TargetGroup")
            .map(|(_, name)| name.as_str())
            .collect();
        Context {
            target_groups,
            broken_target_groups,
            lookups: RefCell::default(),
            record,
        }
    }

    /// The TargetGroup manifest named `name`, recorded as read.
    pub(super) fn target_group(&self, name: &str) -> TargetGroupRef<'a> {
        let (answer, found) = self.lookup(name);
        if self.record {
            self.lookups.borrow_mut().push((name.to_string(), answer));
        }
        found
    }

    /// What a lookup of `name` answers, as the cache keeps it and as the rules read it.
    fn lookup(&self, name: &str) -> (Answer, TargetGroupRef<'a>) {
        match self.target_groups.get(name) {
            Some(&(manifest, spec)) => (
                Answer::Found(Arc::clone(manifest)),
                TargetGroupRef::Found(spec),
            ),
            None if self.broken_target_groups.contains(name) => {
                (Answer::Broken, TargetGroupRef::Broken)
            }
            None => (Answer::Missing, TargetGroupRef::Missing),
        }
    }

    fn take_lookups(&self) -> Vec<(String, Answer)> {
        std::mem::take(&mut self.lookups.borrow_mut())
    }
}

/// One document's findings, with what they were computed from.
#[derive(Debug)]
struct Cached {
    manifest: Arc<Manifest>,
    lookups: Vec<(String, Answer)>,
    findings: Vec<Diagnostic>,
    /// The last validation that had this document.
    pass: u64,
}

/// Each document's own findings from the last validation, by file and line: pass the same
/// cache to every validation of a source's loads ([`super::validate_cached`]) and a load
/// that changed one file runs the per-document rules for that file's documents (and for those
/// that look up a target group it changed) only. Kept in place from one validation to the
/// next: a document found again is looked up by its file without copying the path.
#[derive(Debug, Default)]
pub struct ValidationCache {
    /// By file, then line.
    documents: HashMap<PathBuf, HashMap<u32, Cached>>,
    /// Documents whose rules ran (were not taken from the cache) in the last validation.
    ran: usize,
    /// The validation under way.
    pass: u64,
}

impl ValidationCache {
    /// How many documents the last validation with this cache ran the rules of; the others'
    /// findings came from the cache.
    pub fn rules_run(&self) -> usize {
        self.ran
    }

    /// Starts a validation.
    pub(super) fn begin(&mut self) {
        self.pass += 1;
        self.ran = 0;
    }

    /// Ends a validation: the documents it did not have are forgotten.
    pub(super) fn end(&mut self) {
        let pass = self.pass;
        self.documents.retain(|_, lines| {
            lines.retain(|_, c| c.pass == pass);
            !lines.is_empty()
        });
    }

    /// The findings of `doc`: the cached ones if still true, else `rules` run now (and kept).
    pub(super) fn findings(
        &mut self,
        doc: &Document,
        ctx: &Context<'_>,
        rules: impl FnOnce(&mut Vec<Diagnostic>),
    ) -> Vec<Diagnostic> {
        if !self.documents.contains_key(doc.file.as_path()) {
            self.documents.insert(doc.file.clone(), HashMap::new());
        }
        let lines = self
            .documents
            .get_mut(doc.file.as_path())
            .expect("inserted above");
        let hit = lines.get(&doc.line).is_some_and(|c| {
            Arc::ptr_eq(&c.manifest, &doc.manifest)
                && c.lookups
                    .iter()
                    .all(|(name, answer)| answer.same(&ctx.lookup(name).0))
        });
        if !hit {
            self.ran += 1;
            let mut findings = Vec::new();
            rules(&mut findings);
            let cached = Cached {
                manifest: Arc::clone(&doc.manifest),
                lookups: ctx.take_lookups(),
                findings,
                pass: self.pass,
            };
            lines.insert(doc.line, cached);
        }
        let cached = lines.get_mut(&doc.line).expect("kept above");
        cached.pass = self.pass;
        cached.findings.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::validate;
    use super::*;
    use crate::manifest::load_dir_cached;

    /// The set of `super::super::validate_tests::BASE`'s shape, one document per file.
    const CLUSTER: &str =
        "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {name: shop}\nspec: {}\n";
    fn target_group(target_type: &str) -> String {
        format!(
            "apiVersion: ecs-operator/v1\nkind: TargetGroup\nmetadata: {{name: shop-api}}\n\
             spec: {{protocol: HTTP, port: 8000, vpcId: vpc-1, targetType: {target_type}}}\n"
        )
    }
    fn service(image: &str) -> String {
        format!(
            "apiVersion: ecs-operator/v1\nkind: Service\nmetadata: {{name: api}}\nspec:\n  \
             cluster: shop\n  desiredCount: 1\n  launchType: FARGATE\n  networkConfiguration:\n    \
             awsvpcConfiguration: {{subnets: [subnet-1], securityGroups: [sg-1]}}\n  \
             loadBalancers: [{{targetGroup: shop-api, containerName: api, containerPort: 8000}}]\n  \
             deploymentConfiguration:\n    \
             deploymentCircuitBreaker: {{enable: true, rollback: true}}\n  \
             taskDefinition:\n    networkMode: awsvpc\n    cpu: '256'\n    memory: '512'\n    containerDefinitions:\n    \
             - name: api\n      image: {image}\n      portMappings: [{{containerPort: 8000}}]\n"
        )
    }

    /// Each step rewrites or removes some files; the cached validation must equal a fresh one
    /// at every step, and run the rules only of the documents that changed or whose target
    /// group did.
    #[test]
    fn cached_findings_equal_a_fresh_validation_and_skip_unchanged_documents() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        let rule_of = |d: &Diagnostic| d.rule;
        write("cluster.yaml", CLUSTER);
        write("tg.yaml", &target_group("ip"));
        write("api.yaml", &service("nginx:1"));
        let mut files = crate::manifest::LoadCache::default();
        let mut cache = ValidationCache::default();
        // (step, files to write or remove, rules run, a rule that must be found)
        type Step<'a> = (
            &'a str,
            Vec<(&'a str, Option<String>)>,
            usize,
            Option<&'a str>,
        );
        let steps: Vec<Step> = vec![
            ("first load", vec![], 3, None),
            ("nothing changed", vec![], 0, None),
            (
                "the service's image",
                vec![("api.yaml", Some(service("nginx:2")))],
                1,
                None,
            ),
            // The service did not change, but the target group it looks up did.
            (
                "the target group's type",
                vec![("tg.yaml", Some(target_group("instance")))],
                2,
                Some("target-type"),
            ),
            (
                "the target group removed",
                vec![("tg.yaml", None)],
                1,
                Some("target-group-ref"),
            ),
            (
                "the target group broken",
                vec![("tg.yaml", Some(target_group("ip, nope: 1")))],
                1,
                None,
            ),
            (
                "the target group back",
                vec![("tg.yaml", Some(target_group("ip")))],
                2,
                None,
            ),
        ];
        for (step, changes, ran, rule) in steps {
            for (name, text) in changes {
                match text {
                    Some(text) => write(name, &text),
                    None => std::fs::remove_file(dir.path().join(name)).unwrap(),
                }
            }
            let loaded = load_dir_cached(dir.path(), &mut files);
            let cached = super::super::validate_cached(&loaded, &mut cache);
            let fresh = validate(&loaded);
            assert_eq!(cached, fresh, "{step}");
            assert_eq!(cache.rules_run(), ran, "{step}: documents whose rules ran");
            let errors: Vec<&str> = cached
                .iter()
                .filter(|d| d.is_error())
                .map(rule_of)
                .collect();
            match rule {
                Some(rule) => assert!(errors.contains(&rule), "{step}: {cached:?}"),
                None if step == "the target group broken" => {
                    assert!(!errors.contains(&"target-group-ref"), "{step}: {cached:?}")
                }
                None => assert!(errors.is_empty(), "{step}: {cached:?}"),
            }
        }
    }
}
