//! The desired state updated from the files a save touched equals the one made from a full
//! load, through random sequences of edits, creations, removals, renames, broken and invalid
//! files, duplicates, links and directory moves (the steps of `manifest::dir_cache`'s tests) (the product rule included: a manifest that fails
//! never looks deleted).

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::*;
use crate::controller::source_adapter::DirCaches;
use crate::manifest::LoadLimits;
use crate::manifest::dir_cache::tests::{op, run};

/// The text of one file: `[template, a, b]` picks a manifest and its names.
fn text([template, a, b]: [u8; 3], pad: &str) -> String {
    let service = |name: u8, tg: u8, cluster: u8| {
        format!(
            "apiVersion: ecs-operator/v1\nkind: Service\nmetadata: {{name: s{name}}}\nspec:\n  \
             cluster: c{cluster}\n  desiredCount: 1\n  launchType: FARGATE\n  networkConfiguration:\n    \
             awsvpcConfiguration: {{subnets: [subnet-1], securityGroups: [sg-1]}}\n  \
             loadBalancers: [{{targetGroup: tg{tg}, containerName: api, containerPort: 8000}}]\n  \
             taskDefinition:\n    networkMode: awsvpc\n    cpu: '256'\n    memory: '512'\n    \
             containerDefinitions:\n    - name: api\n      image: nginx:{pad_len}\n      \
             portMappings: [{{containerPort: 8000}}]\n",
            pad_len = pad.len() % 3
        )
    };
    let tg = |name: u8, kind: &str| {
        format!(
            "apiVersion: ecs-operator/v1\nkind: TargetGroup\nmetadata: {{name: tg{name}}}\n\
             spec: {{protocol: HTTP, port: 8000, vpcId: vpc-1, targetType: {kind}}}\n"
        )
    };
    let body = match template % 8 {
        0 => format!(
            "apiVersion: ecs-operator/v1\nkind: Cluster\nmetadata: {{name: c{}}}\nspec: {{}}\n",
            a % 2
        ),
        1 => tg(a % 3, "ip"),
        // A target type the services' awsvpc tasks cannot use: they fail validation.
        2 => tg(a % 3, "instance"),
        3 | 4 => service(a % 4, b % 3, b % 2),
        // Fails to load, naming itself: held, never removed.
        5 => format!(
            "apiVersion: ecs-operator/v1\nkind: Service\nmetadata: {{name: s{}}}\nspec:\n  \
             cluster: c{}\n  desiredCount: lots\n",
            a % 4,
            b % 2
        ),
        // Fails without an identity.
        6 => "kind: [\n".to_string(),
        _ => format!("{}---\n{}", tg(a % 3, "ip"), service(a % 4, a % 3, b % 2)),
    };
    format!("# {pad}\n{body}")
}

/// Everything a desired state says, in a comparable form.
fn view(d: &Desired) -> impl PartialEq + std::fmt::Debug {
    let documents: Vec<(ResourceKey, PathBuf, u32, String)> = d
        .keys()
        .map(|k| {
            let doc = d.document(k).unwrap();
            (
                k.clone(),
                doc.file.clone(),
                doc.line,
                doc.content_hash().to_string(),
            )
        })
        .collect();
    let all: Vec<(PathBuf, u32)> = d
        .documents
        .iter()
        .map(|d| (d.file.clone(), d.line))
        .collect();
    (
        d.generation,
        d.revision.clone(),
        documents,
        all,
        d.snapshot().clone(),
        d.held.clone(),
        d.manifest_errors,
    )
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]
    /// At every step, the desired state and changes made from the touched files equal those
    /// made from the whole load.
    #[test]
    fn the_desired_state_from_touched_files_equals_one_from_the_whole_load(
        ops in proptest::collection::vec(op(), 1..20),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let limits = LoadLimits::default();
        let mut caches = DirCaches::default();
        let (mut incremental, mut full) = (Desired::default(), Desired::default());
        let mut writes = 0;
        let mut named: Option<BTreeSet<PathBuf>> = None;
        for op in std::iter::once(None).chain(ops.iter().map(Some)) {
            if let Some(op) = op {
                named = Some(run(&root, op, &mut writes, text));
            }
            let (loaded, touched) = caches.load(&root, &limits, named.as_ref());
            proptest::prop_assert_eq!(touched.is_some(), op.is_some());
            let (next, changes) = match &touched {
                Some(touched) => Desired::next_touched(&incremental, loaded, None, touched),
                None => Desired::next(&incremental, loaded, None),
            };
            let whole = validated(crate::manifest::load_paths(std::slice::from_ref(&root)));
            let (next_full, changes_full) = Desired::next(&full, whole, None);
            proptest::prop_assert_eq!(&changes, &changes_full, "{:?}", op);
            proptest::prop_assert_eq!(view(&next), view(&next_full), "{:?}", op);
            proptest::prop_assert_eq!(&next.revision, &content_revision(next_full.snapshot()));
            incremental = next;
            full = next_full;
        }
    }
}
