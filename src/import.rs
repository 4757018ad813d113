//! `import`: manifests from live state. Reads a cluster, its services (all, or those named),
//! the task definition revision each runs and the target groups they use, and writes them as
//! manifests, so that `diff` right after an import reports nothing to change (with `adopt`,
//! nothing but the ownership tags an `apply` then sets).
//!
//! - [`convert`]: live objects to manifests and YAML (pure).
//! - here: the reads ([`read`], batched like the observer's) and the files ([`write`]).
//!
//! Secrets stay what ECS stores: ARNs in `secrets`. No secret value is ever read.

pub mod convert;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::cloud::model::RegisteredTaskDefinition;
use crate::cloud::{Cloud, CloudError};
use crate::kind::cluster::Cluster;
use crate::kind::service::Service;
use crate::kind::target_group::TargetGroup;
use crate::kind::{ImportContext, KindOps, Unsupported};
use crate::manifest::Manifest;
use crate::observe::Observer;

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A read from AWS failed.
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// The cluster does not exist (or is INACTIVE).
    #[error("cluster {0:?} does not exist")]
    ClusterNotFound(String),
    /// Services named on the command line do not exist in the cluster.
    #[error("no service {services:?} in cluster {cluster:?}")]
    ServicesNotFound {
        /// The cluster.
        cluster: String,
        /// The missing names.
        services: Vec<String>,
    },
    /// Files to write exist already (nothing was written).
    #[error(
        "{} exist already; nothing was written (--force overwrites)",
        .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    FilesExist(Vec<PathBuf>),
    /// A live resource the manifests cannot express (a service is skipped instead, see
    /// [`Import::skipped`]).
    #[error("cannot import: {0}")]
    Unsupported(#[from] Unsupported),
    /// A manifest could not be rendered.
    #[error(transparent)]
    Render(#[from] convert::RenderError),
    /// A file or directory could not be written.
    #[error("cannot write {}", .path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// One file of an import: its path under the output directory and its manifests.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedFile {
    /// Relative to the output directory: `<cluster>/cluster.yaml`, `<cluster>/<service>.yaml`,
    /// `<cluster>/target-groups/<name>.yaml`.
    pub path: PathBuf,
    /// Its documents.
    pub manifests: Vec<Manifest>,
}

/// What an import read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Import {
    /// The files to write, cluster first, then target groups, then services.
    pub files: Vec<ImportedFile>,
    /// Services left out, with why (`Service/shop/api`, reason).
    pub skipped: Vec<(String, String)>,
}

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    /// The cluster.
    pub cluster: String,
    /// Service names; empty: every service of the cluster.
    pub services: Vec<String>,
    /// Add `ecs-operator/adopt: "true"` to every manifest.
    pub adopt: bool,
}

/// The last segment of a service ARN, or the name itself.
fn service_name(name_or_arn: &str) -> &str {
    name_or_arn.rsplit('/').next().unwrap_or(name_or_arn)
}

/// Reads the cluster, its services, their revisions and target groups, and converts them.
pub async fn read(cloud: &Cloud, request: &ImportRequest) -> Result<Import, ImportError> {
    let observer = Observer::new(cloud.clone());
    let cluster_name = &request.cluster;
    let Some(cluster) = observer.cluster(cluster_name).await? else {
        return Err(ImportError::ClusterNotFound(cluster_name.clone()));
    };

    let wanted: Vec<String> = if request.services.is_empty() {
        observer
            .service_arns(cluster_name)
            .await?
            .unwrap_or_default()
    } else {
        let unique: BTreeSet<&String> = request.services.iter().collect();
        unique.into_iter().cloned().collect()
    };
    let mut services = observer.services(cluster_name, &wanted).await?;
    if !request.services.is_empty() {
        let found: BTreeSet<&str> = services.iter().map(|s| s.name.as_str()).collect();
        let missing: Vec<String> = wanted
            .iter()
            .filter(|w| !found.contains(service_name(w)))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::ServicesNotFound {
                cluster: cluster_name.clone(),
                services: missing,
            });
        }
    }
    services.sort_by(|a, b| a.name.cmp(&b.name));

    let mut revisions: HashMap<String, RegisteredTaskDefinition> = HashMap::new();
    for s in &services {
        if !revisions.contains_key(&s.task_definition) {
            let r = observer.task_definition(&s.task_definition).await?;
            revisions.insert(s.task_definition.clone(), r);
        }
    }

    let arns: BTreeSet<String> = services
        .iter()
        .flat_map(|s| {
            s.load_balancers
                .iter()
                .map(|lb| lb.target_group_arn.clone())
        })
        .collect();
    let groups = observer.target_groups_with_arns(&arns).await?;
    let group_arns: Vec<String> = groups.iter().map(|g| g.arn.clone()).collect();
    let tags = observer.target_group_tags(&group_arns).await?;

    let ctx = |target_groups| ImportContext {
        adopt: request.adopt,
        cluster: cluster_name,
        target_groups,
    };
    let no_groups = BTreeMap::new();
    let mut import = Import::default();
    let dir = PathBuf::from(cluster_name);
    import.files.push(ImportedFile {
        path: dir.join("cluster.yaml"),
        manifests: vec![Cluster::import(&cluster, &ctx(&no_groups))?],
    });
    let mut names_by_arn = BTreeMap::new();
    for g in &groups {
        let attributes = observer.target_group_attributes(&g.arn).await?;
        let tags = tags.get(&g.arn).cloned().unwrap_or_default();
        import.files.push(ImportedFile {
            path: dir.join("target-groups").join(format!("{}.yaml", g.name)),
            manifests: vec![TargetGroup::import(
                (g, &attributes, &tags),
                &ctx(&no_groups),
            )?],
        });
        names_by_arn.insert(g.arn.clone(), g.name.clone());
    }
    // Each service's Application Auto Scaling: its autoScaling, and no desiredCount.
    let ids: BTreeSet<String> = services
        .iter()
        .map(|s| crate::cloud::model::scaling::resource_id(cluster_name, &s.name))
        .collect();
    let scaling = observer.scaling(&ids).await?;
    import
        .files
        .extend(listener_rules(&observer, &groups, &names_by_arn, &ctx(&names_by_arn)).await?);
    for s in &services {
        let key = format!("Service/{cluster_name}/{}", s.name);
        let revision = &revisions[&s.task_definition];
        let id = crate::cloud::model::scaling::resource_id(cluster_name, &s.name);
        let imported = Service::import((s, revision), &ctx(&names_by_arn)).map(|mut m| {
            if let (crate::manifest::Spec::Service(spec), Some(live)) =
                (&mut m.spec, scaling.get(&id))
            {
                spec.auto_scaling = crate::kind::service_scaling::import(&s.name, live);
                if spec.auto_scaling.is_some() {
                    spec.desired_count = None; // the scaler owns it
                }
            }
            m
        });
        match imported {
            Ok(m) => import.files.push(ImportedFile {
                path: dir.join(service_file(&s.name)),
                manifests: vec![m],
            }),
            Err(e) => import.skipped.push((key, e.to_string())),
        }
    }
    Ok(import)
}

/// `<service>.yaml`; a service named `cluster` gets `cluster.service.yaml` so that it does not
/// take the cluster's file.
/// The rules that forward to the imported target groups (issue 14), on every listener of the
/// load balancers those groups are attached to, one file each under `listener-rules/`.
async fn listener_rules(
    observer: &Observer,
    groups: &[crate::cloud::model::TargetGroup],
    names_by_arn: &BTreeMap<String, String>,
    ctx: &ImportContext<'_>,
) -> Result<Vec<ImportedFile>, ImportError> {
    use crate::kind::listener_rule::ListenerRule;
    use crate::manifest::listener_rule::ListenerRef;
    let lbs: BTreeSet<String> = groups
        .iter()
        .flat_map(|g| g.load_balancer_arns.iter().cloned())
        .collect();
    let dir = PathBuf::from(ctx.cluster);
    let mut files = Vec::new();
    for listener in observer.listeners_of(&lbs).await? {
        let Some(rules) = observer.listener_rules(&listener.arn).await? else {
            continue;
        };
        let lb_name = listener
            .load_balancer_arn
            .split_once(":loadbalancer/")
            .and_then(|(_, rest)| rest.split('/').nth(1));
        let reference = match lb_name {
            Some(name) => ListenerRef::named(name, listener.port),
            None => ListenerRef::by_arn(&listener.arn),
        };
        for r in rules.iter().filter(|r| !r.rule.is_default) {
            let forwards_here =
                crate::cloud::defaults::listener_rule::fill_actions(&r.rule.actions)
                    .iter()
                    .filter_map(|a| a.forward_config.as_ref())
                    .flat_map(|f| &f.target_groups)
                    .any(|t| {
                        t.target_group_arn
                            .as_ref()
                            .is_some_and(|a| names_by_arn.contains_key(a))
                    });
            if !forwards_here {
                continue;
            }
            let m = ListenerRule::import((&r.rule, &r.tags, reference.clone()), ctx)?;
            files.push(ImportedFile {
                path: dir
                    .join("listener-rules")
                    .join(format!("{}.yaml", m.metadata.name)),
                manifests: vec![m],
            });
        }
    }
    Ok(files)
}

fn service_file(name: &str) -> String {
    if name == "cluster" {
        "cluster.service.yaml".into()
    } else {
        format!("{name}.yaml")
    }
}

/// The text of one imported file.
pub fn file_text(file: &ImportedFile) -> Result<String, ImportError> {
    let mut out = String::from("# Imported from live state by `ecs-operator import`.\n");
    for (i, m) in file.manifests.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&convert::render(m)?);
    }
    Ok(out)
}

/// Writes the files under `out`. Without `force`, nothing is written when any of them exists.
/// Returns the paths written.
pub fn write(out: &Path, import: &Import, force: bool) -> Result<Vec<PathBuf>, ImportError> {
    let paths: Vec<PathBuf> = import.files.iter().map(|f| out.join(&f.path)).collect();
    if !force {
        let existing: Vec<PathBuf> = paths.iter().filter(|p| p.exists()).cloned().collect();
        if !existing.is_empty() {
            return Err(ImportError::FilesExist(existing));
        }
    }
    let texts = import
        .files
        .iter()
        .map(file_text)
        .collect::<Result<Vec<_>, _>>()?;
    for (path, text) in paths.iter().zip(texts) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| ImportError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(path, text).map_err(|source| ImportError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::reads::target_group_name;

    #[test]
    fn names_come_out_of_arns() {
        assert_eq!(
            target_group_name(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-api/0123abcd"
            ),
            Some("shop-api")
        );
        assert_eq!(target_group_name("shop-api"), None);
        assert_eq!(
            service_name("arn:aws:ecs:us-east-1:123456789012:service/shop/api"),
            "api"
        );
        assert_eq!(service_name("api"), "api");
        assert_eq!(service_file("cluster"), "cluster.service.yaml");
    }

    #[test]
    fn existing_files_are_not_overwritten_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let import = Import {
            files: vec![ImportedFile {
                path: PathBuf::from("shop/cluster.yaml"),
                manifests: vec![],
            }],
            skipped: vec![],
        };
        write(dir.path(), &import, false).unwrap();
        std::fs::write(dir.path().join("shop/cluster.yaml"), "mine").unwrap();
        let e = write(dir.path(), &import, false).unwrap_err();
        assert!(matches!(e, ImportError::FilesExist(_)), "{e}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("shop/cluster.yaml")).unwrap(),
            "mine"
        );
        write(dir.path(), &import, true).unwrap();
        assert_ne!(
            std::fs::read_to_string(dir.path().join("shop/cluster.yaml")).unwrap(),
            "mine"
        );
    }
}
