//! The two backends the conformance cases run against: the in-process simulator and the `aws`
//! backend talking to a real moto server that this test binary starts on a free loopback port
//! (`tests/common/moto.rs`).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ecs_operator::cloud::Cloud;
use ecs_operator::cloud::aws::{AwsOptions, connect};
use ecs_operator::cloud::sim::{Sim, SimConfig};

use crate::common::moto::moto_server;

/// One backend under test.
pub struct Backend {
    /// `sim` or `moto`.
    pub name: &'static str,
    /// The clients.
    pub cloud: Cloud,
    /// A VPC that exists in this backend (moto's default VPC; any id for the simulator).
    pub vpc_id: String,
    /// Two subnets of that VPC (moto checks CreateService's subnets exist).
    pub subnets: Vec<String>,
    /// A security group of that VPC.
    pub security_group: String,
}

impl Backend {
    /// A fresh simulated account.
    pub fn sim() -> Backend {
        let sim = Sim::new(SimConfig::default());
        Backend {
            name: "sim",
            cloud: sim.cloud(),
            vpc_id: "vpc-0sim0000000000001".into(),
            subnets: vec![
                "subnet-0sim000000000001".into(),
                "subnet-0sim000000000002".into(),
            ],
            security_group: "sg-0sim00000000000001".into(),
        }
    }

    /// The `aws` backend on the shared moto server.
    pub async fn moto() -> Backend {
        let server = moto_server();
        let options = AwsOptions {
            region: Some("us-east-1".into()),
            endpoint_url: Some(server.url.clone()),
            static_credentials: Some(("test".into(), "test".into())),
            max_attempts: 2,
            initial_backoff: Duration::from_millis(10),
            ..AwsOptions::default()
        };
        Backend {
            name: "moto",
            cloud: connect(&options)
                .await
                .expect("aws backend connects to moto"),
            vpc_id: server.vpc_id.clone(),
            subnets: server.subnets.clone(),
            security_group: server.security_group.clone(),
        }
    }

    /// True on moto where it differs from AWS: the caller skips the AWS assertion. Every gap is
    /// printed, so a test run lists them.
    pub fn moto_gap(&self, what: &str) -> bool {
        if self.name == "moto" {
            eprintln!("moto gap: {what}");
            true
        } else {
            false
        }
    }
}

/// A name no other case uses, in this run or a previous one against the same server.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}
