//! The moto server the tests that speak the AWS wire protocol run against: started once per test
//! binary on a free loopback port, killed by a watchdog when the test process is gone, and read
//! for the default VPC, subnets and security group moto's EC2 creates (CreateTargetGroup and
//! CreateService check that they exist). Shared by `tests/conformance` and `tests/e2e_moto`
//! through `tests/common/mod.rs`.
//!
//! moto missing is a failure, never a skip: CI must not go green without these tests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The moto server of this test binary.
pub struct MotoServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The default VPC moto's EC2 created.
    pub vpc_id: String,
    /// Its default subnets (two).
    pub subnets: Vec<String>,
    /// Its default security group.
    pub security_group: String,
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
            "moto_server is not on PATH. The tests that run against moto need it: pip install 'moto[server]' \
             (scripts/test.sh does this for you)"
        );
        let port = free_port();
        let script = format!(
            "moto_server -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
             while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill $m",
            parent = std::process::id()
        );
        // Not waited for: the watchdog shell ends moto and itself once this process is gone.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn moto_server");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        wait_until_serving(addr, Duration::from_secs(60));
        let vpc_id = first_tag(&ec2(addr, "DescribeVpcs"), "vpcId", 1).remove(0);
        let subnets = first_tag(&ec2(addr, "DescribeSubnets"), "subnetId", 2);
        let security_group =
            first_tag(&ec2(addr, "DescribeSecurityGroups"), "groupId", 1).remove(0);
        MotoServer {
            url: format!("http://{addr}"),
            vpc_id,
            subnets,
            security_group,
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

/// One EC2 query against moto (its default VPC, subnets and security group exist from the
/// start; CreateTargetGroup and CreateService check them).
fn ec2(addr: SocketAddr, action: &str) -> String {
    http_get(addr, &format!("/?Action={action}&Version=2016-11-15"))
        .unwrap_or_else(|| panic!("moto answers {action}"))
}

/// The first `n` values of `<tag>` in an XML answer.
fn first_tag(xml: &str, tag: &str, n: usize) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while out.len() < n {
        let start = rest
            .find(&open)
            .unwrap_or_else(|| panic!("{n} <{tag}> in moto's answer"))
            + open.len();
        let end = rest[start..].find(&close).expect("closing tag") + start;
        let value = rest[start..end].to_string();
        if !out.contains(&value) {
            out.push(value);
        }
        rest = &rest[end..];
    }
    out
}

/// A minimal HTTP/1.0 GET on loopback; `None` when nothing answers.
fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    http_get_as(addr, path, "ec2")
}

/// An ALB named `name` (in the default subnets) with an HTTP listener on `port` whose default
/// action answers 404, made through moto's ELBv2 query API: load balancers and listeners are
/// managed elsewhere, the ListenerRule tests (issue 14) need one to put rules on.
pub fn create_alb(server: &MotoServer, name: &str, port: u16) {
    let addr: SocketAddr = server
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("moto's address");
    let elb = |query: String| {
        let out = http_get_as(
            addr,
            &format!("/?Version=2015-12-01&{query}"),
            "elasticloadbalancing",
        )
        .unwrap_or_else(|| panic!("moto answers {query}"));
        assert!(
            out.starts_with("HTTP/1.0 200") || out.starts_with("HTTP/1.1 200"),
            "{out}"
        );
        out
    };
    let lb = elb(format!(
        "Action=CreateLoadBalancer&Name={name}&Type=application&Subnets.member.1={}&Subnets.member.2={}",
        server.subnets[0], server.subnets[1]
    ));
    let arn = first_tag(&lb, "LoadBalancerArn", 1).remove(0);
    elb(format!(
        "Action=CreateListener&LoadBalancerArn={arn}&Protocol=HTTP&Port={port}\
         &DefaultActions.member.1.Type=fixed-response\
         &DefaultActions.member.1.FixedResponseConfig.StatusCode=404"
    ));
}

/// [`http_get`] signed (in form only: moto routes by it) for `service`.
fn http_get_as(addr: SocketAddr, path: &str, service: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req = format!(
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAuthorization: AWS4-HMAC-SHA256 \
         Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x\r\n\r\n"
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.starts_with("HTTP/").then_some(out)
}
