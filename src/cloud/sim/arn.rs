//! ARNs as AWS spells them, the reverse (a name from a name-or-ARN argument), random
//! identifiers drawn from the seeded generator, and opaque page tokens.

use rand::RngExt;
use rand::rngs::StdRng;

/// Builds the ARNs of one account and Region.
#[derive(Debug, Clone)]
pub(super) struct Arns {
    /// `arn:aws:ecs:{region}:{account}:`
    ecs: String,
    /// `arn:aws:elasticloadbalancing:{region}:{account}:`
    elb: String,
    /// `arn:aws:iam::{account}:`
    iam: String,
}

impl Arns {
    pub(super) fn new(region: &str, account: &str) -> Arns {
        Arns {
            ecs: format!("arn:aws:ecs:{region}:{account}:"),
            elb: format!("arn:aws:elasticloadbalancing:{region}:{account}:"),
            iam: format!("arn:aws:iam::{account}:"),
        }
    }

    /// An IAM role's ARN from its name or ARN, as DescribeServices' `roleArn` reports it.
    pub(super) fn role(&self, name_or_arn: &str) -> String {
        if name_or_arn.starts_with("arn:") {
            name_or_arn.to_string()
        } else {
            format!("{}role/{name_or_arn}", self.iam)
        }
    }

    pub(super) fn cluster(&self, name: &str) -> String {
        format!("{}cluster/{name}", self.ecs)
    }

    pub(super) fn service(&self, cluster: &str, name: &str) -> String {
        format!("{}service/{cluster}/{name}", self.ecs)
    }

    /// `...:service-deployment/CLUSTER/SERVICE/ID`.
    pub(super) fn service_deployment(&self, cluster: &str, service: &str, id: &str) -> String {
        format!("{}service-deployment/{cluster}/{service}/{id}", self.ecs)
    }

    /// The `(CLUSTER, SERVICE)` of a service deployment ARN of this account and Region
    /// ([`Arns::service_deployment`]); `None` for anything else.
    pub(super) fn service_of_deployment(&self, arn: &str) -> Option<(String, String)> {
        let rest = arn
            .strip_prefix(&self.ecs)?
            .strip_prefix("service-deployment/")?;
        let mut parts = rest.splitn(3, '/');
        let (cluster, service, _id) = (parts.next()?, parts.next()?, parts.next()?);
        Some((cluster.to_string(), service.to_string()))
    }

    /// `...:service-revision/CLUSTER/SERVICE/N`.
    pub(super) fn service_revision(&self, cluster: &str, service: &str, n: u64) -> String {
        format!("{}service-revision/{cluster}/{service}/{n}", self.ecs)
    }

    pub(super) fn task(&self, cluster: &str, id: &str) -> String {
        format!("{}task/{cluster}/{id}", self.ecs)
    }

    pub(super) fn task_definition(&self, family: &str, revision: u32) -> String {
        format!("{}task-definition/{family}:{revision}", self.ecs)
    }

    pub(super) fn target_group(&self, name: &str, suffix: &str) -> String {
        format!("{}targetgroup/{name}/{suffix}", self.elb)
    }

    // ---- listener rules (issue 14)
    pub(super) fn load_balancer(&self, name: &str, id: &str) -> String {
        format!("{}loadbalancer/app/{name}/{id}", self.elb)
    }

    /// A listener of the load balancer `lb_arn`.
    pub(super) fn listener(&self, lb_arn: &str, id: &str) -> String {
        format!(
            "{}/{id}",
            lb_arn.replacen(":loadbalancer/", ":listener/", 1)
        )
    }

    /// A rule of the listener `listener_arn`.
    pub(super) fn rule(&self, listener_arn: &str, id: &str) -> String {
        format!(
            "{}/{id}",
            listener_arn.replacen(":listener/", ":listener-rule/", 1)
        )
    }

    /// The cluster name of a name or cluster ARN of this account; `None` for an ARN of
    /// another kind, account or Region.
    pub(super) fn cluster_name<'a>(&self, name_or_arn: &'a str) -> Option<&'a str> {
        if !name_or_arn.starts_with("arn:") {
            return Some(name_or_arn);
        }
        name_or_arn
            .strip_prefix(self.ecs.as_str())?
            .strip_prefix("cluster/")
    }

    /// The service name of a name or service ARN (`service/{cluster}/{name}`, or the old
    /// `service/{name}`) in `cluster`; `None` for an ARN of another cluster or kind.
    pub(super) fn service_name<'a>(&self, cluster: &str, name_or_arn: &'a str) -> Option<&'a str> {
        if !name_or_arn.starts_with("arn:") {
            return Some(name_or_arn);
        }
        let rest = name_or_arn
            .strip_prefix(self.ecs.as_str())?
            .strip_prefix("service/")?;
        match rest.split_once('/') {
            Some((c, name)) => (c == cluster).then_some(name),
            None => Some(rest),
        }
    }

    /// The `family[:revision]` part of a task definition name or ARN.
    pub(super) fn task_definition_ref<'a>(&self, name_or_arn: &'a str) -> Option<&'a str> {
        if !name_or_arn.starts_with("arn:") {
            return Some(name_or_arn);
        }
        name_or_arn
            .strip_prefix(self.ecs.as_str())?
            .strip_prefix("task-definition/")
    }

    /// True for an ARN that names a target group (of any account: AWS answers "not found"
    /// rather than "invalid" for a well-formed ARN of another account).
    pub(super) fn looks_like_target_group(arn: &str) -> bool {
        arn.starts_with("arn:") && arn.contains(":targetgroup/")
    }
}

/// `n` random lowercase hex digits.
pub(super) fn hex(rng: &mut StdRng, n: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    (0..n)
        .map(|_| char::from(DIGITS[rng.random_range(0..16usize)]))
        .collect()
}

/// A deployment id: `ecs-svc/` and 19 digits.
pub(super) fn deployment_id(rng: &mut StdRng) -> String {
    format!(
        "ecs-svc/{}",
        rng.random_range(1_000_000_000_000_000_000u64..10_000_000_000_000_000_000)
    )
}

/// A UUID-shaped id (service events).
pub(super) fn uuid(rng: &mut StdRng) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 12)
    )
}

/// An opaque page token that resumes after `key`.
pub(super) fn page_token(key: &str) -> String {
    key.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The key a page token resumes after; `None` when the token was not made by [`page_token`].
pub(super) fn parse_page_token(token: &str) -> Option<String> {
    if token.is_empty() || !token.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// Dotted form of an IP held as a number.
pub(super) fn ip_string(ip: u32) -> String {
    std::net::Ipv4Addr::from(ip).to_string()
}

/// Letters, digits, hyphens and underscores, 1 to 255 of them: ECS's rule for cluster,
/// service and family names.
pub(super) fn valid_ecs_name(name: &str) -> bool {
    (1..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns_are_both_accepted() {
        let a = Arns::new("us-east-1", "123456789012");
        assert_eq!(
            a.cluster("shop"),
            "arn:aws:ecs:us-east-1:123456789012:cluster/shop"
        );
        assert_eq!(a.cluster_name(&a.cluster("shop")), Some("shop"));
        assert_eq!(a.cluster_name("shop"), Some("shop"));
        assert_eq!(
            a.cluster_name("arn:aws:ecs:eu-west-1:123456789012:cluster/shop"),
            None
        );
        let svc = a.service("shop", "api");
        assert_eq!(svc, "arn:aws:ecs:us-east-1:123456789012:service/shop/api");
        assert_eq!(a.service_name("shop", &svc), Some("api"));
        assert_eq!(a.service_name("other", &svc), None);
        assert_eq!(
            a.service_name("shop", "arn:aws:ecs:us-east-1:123456789012:service/api"),
            Some("api")
        );
        let td = a.task_definition("api", 3);
        assert_eq!(
            td,
            "arn:aws:ecs:us-east-1:123456789012:task-definition/api:3"
        );
        assert_eq!(a.task_definition_ref(&td), Some("api:3"));
    }

    #[test]
    fn page_tokens_round_trip_and_reject_garbage() {
        assert_eq!(
            parse_page_token(&page_token("api-7")).as_deref(),
            Some("api-7")
        );
        assert_eq!(parse_page_token("zz"), None);
        assert_eq!(parse_page_token("abc"), None);
        assert_eq!(parse_page_token(""), None);
    }
}
