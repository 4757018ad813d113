//! Reading live state in as few calls as the APIs allow: DescribeClusters by 100,
//! DescribeServices by 10 with tags, DescribeTargetGroups by 20 names (or, for 400 names or
//! more, or once a name is missing, the account's target groups by pages of 400), DescribeTags
//! by 20, and task definition revisions described once per process (a revision never
//! changes). The ECS reads and the ELBv2 reads (their throttling buckets are apart) run at the
//! same time. The plans are made from what is read here and read nothing themselves: a plan
//! that needs more (a service's task definition revisions, a target group's attributes whose
//! tag it cannot trust) names it as a [`Read`], and [`Observer::read`] adds it to the
//! [`Observed`].
//!
//! - here: [`Observer::observe`], the full observation of what the manifests name, and
//!   [`Observer::read`].
//! - [`attributes`]: which target groups' attributes are read whatever their tag says
//!   (`--read-attributes`, the controller's checks on a cadence).
//! - [`reads`]: the other reads (one cluster, a cluster's services, the account's target
//!   groups, tags, attributes, a family's revisions) for `import`, `prune` and rollouts.
//! - [`rules`]: listener rules: the listeners the manifests name (resolved once per process)
//!   and their rules with tags.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

pub mod attributes;
pub mod reads;
// A Service's spec.autoScaling.
pub mod rules;
pub mod scaling;

use crate::cloud::model::{Cluster, RegisteredTaskDefinition, Service, Tags, TargetGroup};
use crate::cloud::{
    Cloud, CloudError, ErrorKind, MAX_DESCRIBE_CLUSTERS, MAX_DESCRIBE_TARGET_GROUPS,
    MAX_TARGET_GROUP_PAGE,
};

/// From this many target group names on, the account's groups are paged (400 a page) rather
/// than described 20 names a call: one page costs what one by-name call does and answers for
/// up to 20 times as many groups, whichever groups the account holds besides.
pub const PAGE_FROM_NAMES: usize = MAX_TARGET_GROUP_PAGE;

/// Services by (cluster, name).
type ServicesByKey = HashMap<(String, String), Service>;

/// What to read: the names the manifests mention.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Cluster names (declared by Cluster manifests or named by services).
    pub clusters: BTreeSet<String>,
    /// Service names per cluster.
    pub services: BTreeMap<String, BTreeSet<String>>,
    /// Target group names.
    pub target_groups: BTreeSet<String>,
    /// Target group names of which only the ARN is needed (services' attachments); not read
    /// by [`Observer::observe`] but by [`Observer::target_group_arns`], for those not known.
    pub target_group_arns: BTreeSet<String>,
    /// Application Auto Scaling resource ids (`service/<cluster>/<service>`) of the services
    /// whose manifests set `autoScaling`.
    pub scaling: BTreeSet<String>,
    /// Target groups (not declared by a manifest) whose load balancer ARNs give
    /// ALBRequestCountPerTarget its resource label.
    pub label_target_groups: BTreeSet<String>,
    /// Listeners whose rules ListenerRule manifests are (issue 14).
    pub listeners: BTreeSet<crate::manifest::listener_rule::ListenerRef>,
}

/// One more read a plan needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// A task definition revision, by ARN (described once per process).
    Revision(String),
    /// The ARNs of a task definition family's active revisions (ListTaskDefinitions).
    Family(String),
    /// The names of the account's families with an active revision
    /// (ListTaskDefinitionFamilies, 100 a page, listed once per process): a family not among
    /// them has no revision to reuse, so it is not searched.
    Families,
    /// The attributes of a target group, by name (DescribeTargetGroupAttributes).
    TargetGroupAttributes(String),
}

/// The account's task definition families with an active revision: one set shared by the
/// observer and everything it read (cloning shares it), which only grows: the families
/// registered after the listing are added, so no copy is made per registration.
#[derive(Debug, Clone, Default)]
pub struct Families(Arc<Mutex<BTreeSet<String>>>);

impl Families {
    /// A set of these names.
    pub fn of(names: BTreeSet<String>) -> Families {
        Families(Arc::new(Mutex::new(names)))
    }

    /// Whether `family` has an active revision.
    pub fn contains(&self, family: &str) -> bool {
        self.lock().contains(family)
    }

    fn insert(&self, family: &str) {
        let mut set = self.lock();
        if !set.contains(family) {
            set.insert(family.to_string());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A live target group with what is read about it besides DescribeTargetGroups.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedTargetGroup {
    /// The group.
    pub group: TargetGroup,
    /// Its attributes, once read (`None`: not read, as long as no plan needs them:
    /// [`Read::TargetGroupAttributes`]).
    pub attributes: Option<BTreeMap<String, String>>,
    /// Its tags.
    pub tags: Tags,
}

/// Live state of everything [`Wanted`] names. A name absent from a map does not exist live.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Clusters by name.
    pub clusters: HashMap<String, Cluster>,
    /// Services by (cluster, name).
    pub services: HashMap<(String, String), Service>,
    /// Target groups by name.
    pub target_groups: HashMap<String, ObservedTargetGroup>,
    /// Task definition revisions read for the plans, by ARN.
    pub revisions: HashMap<String, RegisteredTaskDefinition>,
    /// Revision ARNs of the task definition families read for the plans, oldest first.
    pub families: HashMap<String, Vec<String>>,
    /// The account's families with an active revision, once [`Read::Families`] was read.
    pub active_families: Option<Families>,
    /// Whether the plans want field-level changes of a service's task definition even where
    /// its tags already tell that the content differs (reading the revision it runs): `diff`
    /// does; `apply` and the controller show the content hashes instead of paying a
    /// DescribeTaskDefinition per changed service ([`Observer::with_field_changes`]).
    pub field_changes: bool,
    /// Application Auto Scaling by resource id, of the wanted services that have a target.
    pub scaling: HashMap<String, crate::cloud::model::scaling::ServiceScaling>,
    /// The target groups of [`Wanted::label_target_groups`] by name.
    pub label_groups: HashMap<String, TargetGroup>,
    /// Listener ARNs of the listeners [`Wanted::listeners`] names (`None`: it does not
    /// exist).
    pub listeners: HashMap<crate::manifest::listener_rule::ListenerRef, Option<String>>,
    /// Rules by listener ARN, in priority order (the default rule last).
    pub rules: HashMap<String, Vec<rules::ObservedRule>>,
    /// The target groups whose attributes the plans read whatever their tag says.
    pub attribute_checks: attributes::AttributeChecks,
}

/// Reads live state; keeps described task definition revisions, and the names of the
/// account's families, for the life of the process.
#[derive(Debug)]
pub struct Observer {
    cloud: Cloud,
    revisions: Mutex<HashMap<String, RegisteredTaskDefinition>>,
    /// The account's families with an active revision, once listed; the families of the
    /// revisions registered since are added.
    families: Mutex<Option<Families>>,
    field_changes: bool,
    /// Listener ARNs by load balancer name and port, resolved once per process.
    listeners: rules::ListenerCache,
    /// Every target group's attributes are read ([`Observer::with_all_attributes`]).
    all_attributes: bool,
    /// When each group's attributes were read, and the checks due.
    checks: attributes::Checks,
}

impl Observer {
    /// An observer over `cloud`.
    pub fn new(cloud: Cloud) -> Observer {
        Observer {
            cloud,
            revisions: Mutex::new(HashMap::new()),
            families: Mutex::new(None),
            field_changes: false,
            listeners: rules::ListenerCache::default(),
            all_attributes: false,
            checks: attributes::Checks::default(),
        }
    }

    /// The same observer with [`Observed::field_changes`] on (`diff`).
    pub fn with_field_changes(mut self) -> Observer {
        self.field_changes = true;
        self
    }

    /// The clients.
    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    /// Reads everything `wanted` names: the ECS reads (clusters, then services), the ELBv2
    /// reads (target groups with their tags, the label groups, listener rules) and the
    /// Application Auto Scaling reads at the same time (each service has its own buckets),
    /// stopping at the first error. No target group attributes are read here.
    pub async fn observe(&self, wanted: &Wanted) -> Result<Observed, CloudError> {
        let ((clusters, services), mut out, scaling) = tokio::try_join!(
            self.observe_ecs(wanted),
            self.observe_elbv2(wanted),
            self.scaling(&wanted.scaling),
        )?;
        out.clusters = clusters;
        out.services = services;
        out.scaling = scaling;
        out.field_changes = self.field_changes;
        out.attribute_checks = self.attribute_checks(&wanted.target_groups);
        Ok(out)
    }

    /// The clusters and services of `wanted`.
    async fn observe_ecs(
        &self,
        wanted: &Wanted,
    ) -> Result<(HashMap<String, Cluster>, ServicesByKey), CloudError> {
        let mut clusters = HashMap::new();
        let names: Vec<String> = wanted.clusters.iter().cloned().collect();
        for batch in names.chunks(MAX_DESCRIBE_CLUSTERS) {
            let d = self.cloud.ecs.describe_clusters(batch).await?;
            for c in d.found {
                // DescribeClusters also returns INACTIVE (deleted) clusters.
                if c.exists() {
                    clusters.insert(c.name.clone(), c);
                }
            }
        }
        let mut services = HashMap::new();
        for (cluster, names) in &wanted.services {
            if !clusters.contains_key(cluster) {
                continue; // every service of a missing cluster is missing
            }
            let names: Vec<String> = names.iter().cloned().collect();
            for s in self.services(cluster, &names).await? {
                services.insert((cluster.clone(), s.name.clone()), s);
            }
        }
        Ok((clusters, services))
    }

    /// The target groups of `wanted` with their tags (not their attributes), the label groups
    /// and the listener rules, in an [`Observed`] holding only these.
    async fn observe_elbv2(&self, wanted: &Wanted) -> Result<Observed, CloudError> {
        let mut out = Observed::default();
        let groups = self.target_groups(&wanted.target_groups).await?;
        let arns: Vec<String> = groups.iter().map(|g| g.arn.clone()).collect();
        let mut tags = self.target_group_tags(&arns).await?;
        for group in groups {
            let tags = tags.remove(&group.arn).unwrap_or_default();
            out.target_groups.insert(
                group.name.clone(),
                ObservedTargetGroup {
                    group,
                    attributes: None,
                    tags,
                },
            );
        }
        let labels: BTreeSet<String> = wanted
            .label_target_groups
            .iter()
            .filter(|n| !out.target_groups.contains_key(*n))
            .cloned()
            .collect();
        out.label_groups = self.label_groups(&labels).await?;
        self.observe_rules(&wanted.listeners, &mut out).await?;
        Ok(out)
    }

    /// Target groups by name, 20 per call; from [`PAGE_FROM_NAMES`] names on, by paging the
    /// account's groups (400 a page) until every name is found. One missing name fails a whole
    /// DescribeTargetGroups call, so after the first such failure the rest are found by paging
    /// too.
    async fn target_groups(
        &self,
        names: &BTreeSet<String>,
    ) -> Result<Vec<TargetGroup>, CloudError> {
        if names.len() >= PAGE_FROM_NAMES {
            return self.page_target_groups(&names.iter().collect()).await;
        }
        let names: Vec<String> = names.iter().cloned().collect();
        let mut found = Vec::new();
        for (i, batch) in names.chunks(MAX_DESCRIBE_TARGET_GROUPS).enumerate() {
            match self.cloud.elbv2.describe_target_groups(batch).await {
                Ok(groups) => found.extend(groups),
                Err(e) if e.kind == ErrorKind::NotFound => {
                    let rest: BTreeSet<&String> =
                        names[i * MAX_DESCRIBE_TARGET_GROUPS..].iter().collect();
                    found.extend(self.page_target_groups(&rest).await?);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }

    async fn page_target_groups(
        &self,
        names: &BTreeSet<&String>,
    ) -> Result<Vec<TargetGroup>, CloudError> {
        let mut found = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .cloud
                .elbv2
                .describe_target_groups_page(marker.as_deref(), MAX_TARGET_GROUP_PAGE as u32)
                .await?;
            found.extend(page.items.into_iter().filter(|g| names.contains(&g.name)));
            marker = page.next_token;
            if marker.is_none() || found.len() == names.len() {
                return Ok(found);
            }
        }
    }

    /// ARNs of the target groups with these names that exist (no tags or attributes read).
    pub async fn target_group_arns(
        &self,
        names: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, String>, CloudError> {
        Ok(self
            .target_groups(names)
            .await?
            .into_iter()
            .map(|g| (g.name, g.arn))
            .collect())
    }

    /// Reads what a plan asked for into `observed`.
    pub async fn read(&self, read: &Read, observed: &mut Observed) -> Result<(), CloudError> {
        match read {
            Read::Revision(arn) => {
                let revision = self.task_definition(arn).await?;
                observed.revisions.insert(arn.clone(), revision);
            }
            Read::Family(family) => {
                let arns = self.revisions(family).await?;
                observed.families.insert(family.clone(), arns);
            }
            Read::Families => {
                observed.active_families = Some(self.active_families().await?);
            }
            Read::TargetGroupAttributes(name) => {
                if let Some(live) = observed.target_groups.get_mut(name) {
                    let attributes = self.target_group_attributes(&live.group.arn).await?;
                    self.checks.read(name);
                    live.attributes = Some(attributes);
                }
            }
        }
        Ok(())
    }

    /// The account's families with an active revision: listed on first use (every page of
    /// ListTaskDefinitionFamilies), then kept, with the families registered since added. A
    /// family someone else registers meanwhile is not seen: its service registers a revision
    /// of its own instead of reusing theirs.
    pub async fn active_families(&self) -> Result<Families, CloudError> {
        if let Some(known) = self.lock_families().clone() {
            return Ok(known);
        }
        let ecs = &self.cloud.ecs;
        let listed: BTreeSet<String> = crate::cloud::all_pages(|token| async move {
            ecs.list_task_definition_families(token.as_deref()).await
        })
        .await?
        .into_iter()
        .collect();
        let mut known = self.lock_families();
        Ok(known.get_or_insert_with(|| Families::of(listed)).clone())
    }

    fn lock_families(&self) -> std::sync::MutexGuard<'_, Option<Families>> {
        self.families.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A task definition revision, described once per process.
    pub async fn task_definition(&self, arn: &str) -> Result<RegisteredTaskDefinition, CloudError> {
        if let Some(r) = self.cached(arn) {
            return Ok(r);
        }
        let r = self.cloud.ecs.describe_task_definition(arn).await?;
        self.remember(&r);
        Ok(r)
    }

    /// Records a revision just registered (or described elsewhere), and its family among the
    /// active ones if they were listed.
    pub fn remember(&self, revision: &RegisteredTaskDefinition) {
        {
            let mut cache = self.revisions.lock().unwrap_or_else(|e| e.into_inner());
            cache.insert(revision.arn.clone(), revision.clone());
        }
        if let Some(known) = self.lock_families().as_ref() {
            known.insert(&revision.family);
        }
    }

    /// The newest active revision of `family` this process has seen with content hash tag
    /// (`ecs-operator/spec-hash`) `hash`: registering that content again would duplicate it.
    pub fn seen_with_hash(&self, family: &str, hash: &str) -> Option<RegisteredTaskDefinition> {
        let cache = self.revisions.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .values()
            .filter(|r| r.family == family && r.status == "ACTIVE")
            .filter(|r| {
                r.tags
                    .get(crate::cloud::model::TAG_SPEC_HASH)
                    .map(String::as_str)
                    == Some(hash)
            })
            .max_by_key(|r| r.revision)
            .cloned()
    }

    /// A revision read before, by its ARN or as `family:revision` (a manifest may name it
    /// so). A bare family is never answered from here: its latest revision may have moved.
    fn cached(&self, arn: &str) -> Option<RegisteredTaskDefinition> {
        let cache = self.revisions.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(arn).cloned().or_else(|| {
            let name = crate::manifest::task_definition::RevisionName::parse(arn);
            let revision = name.number().filter(|_| !name.arn)?;
            cache
                .values()
                .find(|r| r.revision == revision && r.family == name.family)
                .cloned()
        })
    }
}

/// Reads for following rollouts (the rollout tracker's, `apply --wait`'s and the controller's).
impl Observer {
    /// True when every target of the service's target groups that is not draining is
    /// healthy: DescribeTargetHealth per group, stopping at the first group that is not.
    pub async fn targets_healthy(&self, service: &Service) -> Result<bool, CloudError> {
        use crate::cloud::model::TargetHealthState;
        for lb in &service.load_balancers {
            let targets = self
                .cloud
                .elbv2
                .describe_target_health(&lb.target_group_arn)
                .await?;
            let bad = targets.iter().any(|t| {
                matches!(
                    t.state,
                    TargetHealthState::Initial | TargetHealthState::Unhealthy
                )
            });
            if bad {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
