//! The two backends the conformance cases run against: the in-process simulator and the `aws`
//! backend talking to a real moto server that this test binary starts on a free loopback port.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ecs_operator::cloud::Cloud;
use ecs_operator::cloud::aws::{AwsOptions, connect};
use ecs_operator::cloud::sim::{Sim, SimConfig};

/// One backend under test.
pub struct Backend {
    /// `sim` or `moto`.
    pub name: &'static str,
    /// The clients.
    pub cloud: Cloud,
    /// A VPC that exists in this backend (moto's default VPC; any id for the simulator).
    pub vpc_id: String,
}

impl Backend {
    /// A fresh simulated account.
    pub fn sim() -> Backend {
        let sim = Sim::new(SimConfig::default());
        Backend {
            name: "sim",
            cloud: sim.cloud(),
            vpc_id: "vpc-0sim0000000000001".into(),
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

/// The moto server of this test binary.
pub struct MotoServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The default VPC moto's EC2 created.
    pub vpc_id: String,
}

/// Starts moto once per test binary; it exits with the test process (a watchdog shell kills
/// it when this process is gone). Fails loudly when moto is not installed: CI must never skip.
pub fn moto_server() -> &'static MotoServer {
    static SERVER: OnceLock<MotoServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let found = Command::new("sh")
            .args(["-c", "command -v moto_server"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            found,
            "moto_server is not on PATH. The conformance tests need it: pip install 'moto[server]' \
             (scripts/test.sh does this for you)"
        );
        let port = free_port();
        let script = format!(
            "moto_server -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
             while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill $m",
            parent = std::process::id()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn moto_server");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        wait_until_serving(addr, Duration::from_secs(60));
        let vpc_id = default_vpc(addr);
        MotoServer {
            url: format!("http://{addr}"),
            vpc_id,
        }
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Polls until moto answers HTTP (it takes a second or two to import), or panics at `limit`.
fn wait_until_serving(addr: SocketAddr, limit: Duration) {
    let start = Instant::now();
    loop {
        if http_get(addr, "/moto-api/").is_some() {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "moto_server did not start on {addr} within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// moto's EC2 has a default VPC; CreateTargetGroup needs a VPC that exists.
fn default_vpc(addr: SocketAddr) -> String {
    let body = http_get(addr, "/?Action=DescribeVpcs&Version=2016-11-15")
        .expect("moto answers DescribeVpcs");
    let start = body.find("<vpcId>").expect("a VPC in moto") + "<vpcId>".len();
    let end = body[start..].find("</vpcId>").expect("closing tag") + start;
    body[start..end].to_string()
}

/// A minimal HTTP/1.0 GET on loopback; `None` when nothing answers.
fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req = format!(
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAuthorization: AWS4-HMAC-SHA256 \
         Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=x\r\n\r\n"
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.starts_with("HTTP/").then_some(out)
}
